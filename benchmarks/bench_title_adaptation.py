"""The issue-23 ablation: title adaptation, stacking with a character model and seed ensembles, per title.

    python benchmarks/bench_title_adaptation.py --folder runs/quality_roads \\
        --models tf=runs/quality_roads/douban_classify_finetune+tf_road,jax=runs/quality_roads/douban_classify_finetune+jax_road \\
        --ensemble tf,tf_seed1,tf_seed2 --out runs/title_adaptation

`--folder` is a quality-benchmark folder (`bench_douban_quality.py --full`): its `data/` holds the by-movie
split's train, validation and test rows, and the models were trained on its train rows. For each base
method (char 1-3 TF-IDF + LR or ridge, fitted here on the train rows; each model; the mean of some models'
probabilities as a seed ensemble; a model stacked with TF-IDF), every choice is made on the validation
titles only:

- **+ adaptation**: `kerasbert.training.select_adaptation` (calibration and EM shrinkage, or the regression
  offset, by title folds), from the star prior the model was trained under (its recipe's
  `rows_per_title` and `class_weight`; the raw train mix for TF-IDF);
- **stacking**: `kerasbert.char_ngrams.blend_outputs`, `softmax(w log p_model + (1 - w) log p_tfidf)` (scores:
  `w s_model + (1 - w) s_ridge`), `w` chosen by `kerasbert.training.stacking.choose_stack_weight` (capped validation
  accuracy, or RMSE);

then every method is scored once on the test titles: every row, capped per title and title mean, with
title-bootstrap intervals, and paired differences against TF-IDF alone and TF-IDF with the same adaptation.
Outputs of each model on both splits are cached in `--out` (`outputs_<label>.npz`), so a re-run only scores.
Writes `ablation.md`, `ablation.json` and `predictions_<method>.csv` into `--out`.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd

import kerasbert  # noqa: F401  (TF_USE_LEGACY_KERAS first)
from kerasbert.char_ngrams import CharNgramModel, blend_outputs
from kerasbert.evaluation.title_scores import paired_difference, title_scores
from kerasbert.tasks import round_stars
from kerasbert.training.stacking import choose_stack_weight
from kerasbert.training.title_adaptation import select_adaptation, training_star_prior
from kerasbert.utils.io import atomic_write_json, atomic_write_text

METRICS = ("accuracy", "within_one_accuracy", "macro_f1", "mae", "rmse", "quadratic_weighted_kappa")
TFIDF = "tfidf"


def read_split(folder, name):
    return pd.read_csv(os.path.join(folder, "data", name + ".csv"), dtype={"movie": str, "comment": str},
                       keep_default_na=False)


def tfidf_outputs(splits):
    """{validation, test: (probabilities (n, 5), ridge scores (n,))} of the package's character model
    (`kerasbert.char_ngrams.CharNgramModel`: char 1-3-gram TF-IDF + LR, + ridge), fitted on the train rows."""
    train = splits["train"]
    classifier = CharNgramModel.fit(train["comment"], train["star"], "classification")
    ridge = CharNgramModel.fit(train["comment"], train["star"], "regression")
    return {name: (classifier.predict(splits[name]["comment"]), ridge.predict(splits[name]["comment"])[:, 0])
            for name in ("validation", "test")}


def model_outputs(label, model_dir, splits, out):
    """{validation, test: outputs} of a model folder, cached in `out/outputs_<label>.npz`."""
    cache = os.path.join(out, "outputs_%s.npz" % label)
    if os.path.isfile(cache):
        saved = np.load(cache)
        return {name: saved[name] for name in ("validation", "test")}, None
    from kerasbert.training import load_model_folder, predict_texts

    model, recipe = load_model_folder(model_dir)
    model.char_model, model.members = None, []  # the network alone: stacking and ensembles are made here
    outputs, started = {}, time.time()
    for name in ("validation", "test"):
        print("%s: predicting %d %s rows" % (label, len(splits[name]), name), flush=True)
        outputs[name] = predict_texts(model, splits[name]["comment"].tolist(), max_length=recipe["max_length"],
                                      batch_size=64)["score"]
    print("%s: %.0f s" % (label, time.time() - started), flush=True)
    np.savez(cache, **outputs)
    return outputs, recipe


def recipe_of(model_dir):
    with open(os.path.join(model_dir, "recipe.json"), encoding="utf-8") as handle:
        return json.load(handle)


def model_prior(recipe, train):
    """The star mix a recipe's classifier was trained under."""
    class_weight = None
    if recipe.get("class_weight") == "balanced":
        from kerasbert.data.title_sampling import balanced_star_weights

        class_weight = balanced_star_weights(train["star"].to_numpy() - 1, train["movie"], recipe.get("rows_per_title"),
                                             num_classes=5)
    return training_star_prior(train["star"], train["movie"], recipe.get("rows_per_title"), class_weight)


def stars_and_score(outputs, task):
    if task == "regression":
        scores = np.asarray(outputs, float).reshape(-1)
        return round_stars(scores), scores
    return outputs.argmax(1) + 1, None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", required=True, help="a bench_douban_quality.py --full folder (its data/)")
    parser.add_argument("--models", default="", help="label=MODEL_DIR,... (classifiers or regressors)")
    parser.add_argument("--ensemble", default="", help="labels whose mean probabilities form a seed ensemble")
    parser.add_argument("--out", required=True)
    parser.add_argument("--cap-per-title", type=int, default=500)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    splits = {name: read_split(args.folder, name) for name in ("train", "validation", "test")}
    validation, test = splits["validation"], splits["test"]
    if set(splits["train"]["movie"]) & (set(validation["movie"]) | set(test["movie"])):
        raise SystemExit("%s: validation or test titles occur in train: not a by-movie split" % args.folder)

    started = time.time()
    tfidf = tfidf_outputs(splits)
    print("TF-IDF fitted in %.0f s" % (time.time() - started), flush=True)
    raw_prior = training_star_prior(splits["train"]["star"])
    # base methods: label -> (task, {split: outputs}, training prior)
    bases = {TFIDF: ("classification", {s: tfidf[s][0] for s in tfidf}, raw_prior),
             TFIDF + "_ridge": ("regression", {s: tfidf[s][1] for s in tfidf}, None)}
    for item in filter(None, args.models.split(",")):
        label, model_dir = item.split("=", 1)
        outputs, _ = model_outputs(label, model_dir, splits, args.out)
        recipe = recipe_of(model_dir)
        prior = model_prior(recipe, splits["train"]) if recipe["task"] == "classification" else None
        bases[label] = (recipe["task"], outputs, prior)
    ensemble = [label for label in args.ensemble.split(",") if label]
    if ensemble:
        task = bases[ensemble[0]][0]
        bases["ensemble(%s)" % "+".join(ensemble)] = (
            task, {s: np.mean([bases[m][1][s] for m in ensemble], axis=0) for s in ("validation", "test")},
            bases[ensemble[0]][2])
    methods, notes = {}, {}
    for label, (task, outputs, prior) in list(bases.items()):
        methods[label] = (task, outputs["test"])
        if label not in (TFIDF, TFIDF + "_ridge"):
            reference = TFIDF if task == "classification" else TFIDF + "_ridge"
            weight, scores = choose_stack_weight(outputs["validation"], bases[reference][1]["validation"],
                                                 validation["star"], validation["movie"], task, args.cap_per_title)
            notes[label + "+stack"] = {"weight_on_model": weight, "validation_by_weight": scores}
            stacked = {s: blend_outputs(outputs[s], bases[reference][1][s], weight, task)
                       for s in ("validation", "test")}
            methods[label + "+stack"] = (task, stacked["test"])
            bases[label + "+stack"] = (task, stacked, prior)
    for label, (task, outputs, prior) in list(bases.items()):
        adaptation, table = select_adaptation(task, outputs["validation"], validation["star"], validation["movie"],
                                               training_prior=prior, cap_per_title=args.cap_per_title,
                                               seed=args.seed)
        methods[label + "+adapt"] = (task, adaptation.adapt(outputs["test"], test["movie"].tolist())[0])
        notes[label + "+adapt"] = {"chosen": adaptation.describe(), "config": adaptation.get_config(),
                                   "validation_best": table.iloc[0].to_dict(),
                                   "validation_alone": table[table["gain"] == 0].iloc[0].to_dict() if task == "regression" else
                                   table[table["strength"].isna() & (table["calibration"] == "none")]
                                   .iloc[0].to_dict()}
        if task == "classification":  # the expected star as a regressor, adapted and not
            methods[label + " (expected star)"] = ("regression", bases[label][1]["test"] @ np.arange(1, 6))
            methods[label + "+adapt (expected star)"] = ("regression", methods[label + "+adapt"][1] @ np.arange(1, 6))
    write(args, methods, notes, test)


def write(args, methods, notes, test):
    stars, titles = test["star"].to_numpy(), test["movie"].to_numpy()
    results = {}
    for method, (task, outputs) in methods.items():
        pred, score = stars_and_score(outputs, task)
        entry = {"task": task, "scores": title_scores(stars, pred, titles, task, y_score=score,
                                                      cap_per_title=args.cap_per_title, n_boot=args.n_boot,
                                                      seed=args.seed)}
        regression_reference = TFIDF + "_ridge"
        references = (TFIDF, TFIDF + "+adapt") if task == "classification" else (regression_reference,
                                                                                regression_reference + "+adapt")
        for reference in references:
            if reference == method or reference not in methods:
                continue
            base_task, base_outputs = methods[reference]
            base_pred, base_score = stars_and_score(base_outputs, base_task)
            entry.setdefault("differences", {})[reference] = paired_difference(
                stars, pred, base_pred, titles, task, a_score=score, b_score=base_score, b_task=base_task,
                cap_per_title=args.cap_per_title, n_boot=args.n_boot, seed=args.seed)
        results[method] = entry
        frame = pd.DataFrame({"movie": titles, "star": stars, "predicted_star": pred})
        if score is not None:
            frame["score"] = score
        else:
            for k in range(5):
                frame["p%d" % (k + 1)] = outputs[:, k]
        frame.to_csv(os.path.join(args.out, "predictions_%s.csv" % method.replace(" ", "_")), index=False,
                     float_format="%.6g")
    atomic_write_json(os.path.join(args.out, "ablation.json"), {"results": results, "notes": notes},
                      default=lambda v: v.item() if isinstance(v, np.generic) else str(v))
    atomic_write_text(os.path.join(args.out, "ablation.md"), markdown(results, notes, test, args))
    print(markdown(results, notes, test, args))


def _cell(entry, digits=3):
    if not entry or entry.get("value") is None:
        return ""
    low, high = entry.get("low"), entry.get("high")
    value = "%.*f" % (digits, entry["value"])
    return value if low is None else "%s [%.*f, %.*f]" % (value, digits, low, digits, high)


def _signed(entry):
    if not entry or entry.get("value") is None:
        return ""
    return "%+.3f [%+.3f, %+.3f]" % (entry["value"], entry["low"], entry["high"])


def markdown(results, notes, test, args):
    lines = ["# Title adaptation, stacking and seeds (issue 23): test titles", "",
             "Scored once on the test titles of `%s` (%d rows, %d titles); every choice made on validation "
             "titles. Intervals: 95%%, %d bootstrap resamples of the titles." % (
                 args.folder, len(test), test["movie"].nunique(), args.n_boot), ""]
    for weighting in ("capped", "rows", "title_mean"):
        lines += ["## %s" % weighting, "", "| method | task | accuracy | ±1 acc | macro-F1 | MAE | RMSE | QWK |",
                  "|---|---|---|---|---|---|---|---|"]
        for method, entry in results.items():
            cells = entry["scores"].get(weighting, {})
            lines.append("| %s | %s | %s |" % (method, entry["task"], " | ".join(_cell(cells.get(m)) for m in METRICS)))
        lines.append("")
    lines += ["## Paired differences (method − reference, same resampled titles)", "",
              "| method | reference | weighting | accuracy | RMSE |", "|---|---|---|---|---|"]
    for method, entry in results.items():
        for reference, difference in entry.get("differences", {}).items():
            for weighting in ("capped", "rows", "title_mean"):
                cells = difference.get(weighting, {})
                lines.append("| %s | %s | %s | %s | %s |" % (method, reference, weighting,
                                                            _signed(cells.get("accuracy")), _signed(cells.get("rmse"))))
    lines += ["", "## Choices made on validation titles", "", "```json",
              json.dumps(notes, ensure_ascii=False, indent=1, default=str), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
