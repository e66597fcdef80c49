"""Fit a model's title adaptation on validation titles (`kerasbert.title_adaptation` has the maths).

Every choice is made on validation titles, by title folds: the calibration
(none, temperature, bias-corrected temperature) is fitted on the other folds'
labelled rows, and each candidate (calibration x shrinkage strength, or gain x
strength for regression) is scored on the held-out fold's rows after adapting
each held-out title on its own texts. Rows are weighted so that a title counts
for at most `cap_per_title` rows, as the scores of `kerasbert.evaluation` do.
The winner, "no adaptation" among the candidates, is refitted on all the
validation rows and set as `model.adaptation`.
"""

import logging

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from kerasbert.data.title_sampling import title_weights
from kerasbert.defaults import DEFAULT_BATCH_SIZE
from kerasbert.errors import ArgumentError
from kerasbert.tasks import NUM_STARS, check_task
from kerasbert.training.roads import predict_scores
from kerasbert.title_adaptation import (OffsetAdaptation, PriorAdaptation, apply_calibration, em_group_priors,
                                        group_codes, star_prior)

__all__ = ["STRENGTHS", "fit_calibration", "fit_title_adaptation", "select_adaptation", "training_star_prior"]

logger = logging.getLogger(__name__)

STRENGTHS = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0)  # pseudo-rows at the source prior
GAINS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)  # regression: how far a title moves along its own lean
DEFAULT_FOLDS = 5
DEFAULT_CAP = 500


def training_star_prior(stars, titles=None, rows_per_title=None, class_weight=None):
    """`(5,)` the star mix a classifier is trained under: each row counted by its chance to be drawn
    (`rows_per_title`) and its class weight (`{label 0-4: weight}`)."""
    stars = np.asarray(stars).astype(int).ravel()
    weights = np.ones(len(stars)) if rows_per_title is None else title_weights(titles, rows_per_title).astype(float)
    if class_weight:
        weights = weights * np.array([class_weight.get(k, 1.0) for k in range(NUM_STARS)])[stars - 1]
    return star_prior(stars, weights)


def _nll(probabilities, labels, weights):
    return -float(np.sum(weights * np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, None)))
                  / weights.sum())


def fit_calibration(probabilities, stars, weights=None, kind="bias"):
    """`(temperature, bias (5,))` minimising the weighted log loss of `softmax(log p / T + b)` (L-BFGS).

    `kind`: `"none"` (1, 0), `"temperature"` (T only) or `"bias"` (T and b, the
    bias-corrected temperature scaling of Alexandari et al. 2020; b sums to 0).
    """
    probabilities = np.asarray(probabilities, np.float64)
    labels = np.asarray(stars).astype(int).ravel() - 1
    weights = np.ones(len(labels)) if weights is None else np.asarray(weights, np.float64)
    if kind == "none":
        return 1.0, np.zeros(NUM_STARS)

    def unpack(theta):
        bias = np.zeros(NUM_STARS)
        if kind == "bias":
            bias[1:] = theta[1:]
            bias -= bias.mean()
        return float(np.exp(theta[0])), bias

    def loss(theta):
        return _nll(apply_calibration(probabilities, *unpack(theta)), labels, weights)

    start = np.zeros(NUM_STARS if kind == "bias" else 1)
    return unpack(minimize(loss, start, method="L-BFGS-B").x)


def _folds(codes, n_groups, folds, seed):
    """Fold index per row (by group), -1 for rows without a group."""
    order = np.random.default_rng(seed).permutation(n_groups)
    fold_of_group = np.empty(n_groups, np.int64)
    fold_of_group[order] = np.arange(n_groups) % folds
    return np.where(codes >= 0, fold_of_group[np.maximum(codes, 0)], -1)


def _local_codes(codes):
    """Codes renumbered 0..k-1 within a subset (-1 stays -1), and k."""
    local = np.full(len(codes), -1, np.int64)
    grouped = codes >= 0
    unique, local[grouped] = np.unique(codes[grouped], return_inverse=True)
    return local, len(unique)


def _classification_candidates(outputs, stars, codes, weights, fold, training_prior, folds):
    """{(calibration, strength): [weighted correct, weighted log loss]} summed over held-out folds."""
    labels = stars - 1
    totals = {}
    for f in range(folds):
        held, rest = fold == f, (fold != f) & (fold >= 0)
        if not held.any() or not rest.any():
            continue
        local, n_local = _local_codes(codes[held])
        for kind in ("none", "temperature", "bias"):
            temperature, bias = fit_calibration(outputs[rest], stars[rest], weights[rest], kind)
            source = star_prior(stars[rest], weights[rest]) if kind == "bias" else training_prior
            calibrated = apply_calibration(outputs[held], temperature, bias)
            for strength in (None,) + STRENGTHS:
                adapted = calibrated if strength is None else em_group_priors(
                    calibrated, local, n_local, source, strength)[1]
                w = weights[held]
                correct = float(np.sum(w * (adapted.argmax(axis=1) == labels[held])))
                log_loss = _nll(adapted, labels[held], w) * w.sum()
                total = totals.setdefault((kind, strength), [0.0, 0.0])
                total[0] += correct
                total[1] += log_loss
    return totals


def _regression_candidates(outputs, stars, codes, weights, fold, folds):
    """{(gain, strength): weighted squared error} summed over held-out folds."""
    scores = outputs.reshape(-1).astype(np.float64)
    totals = {}
    for f in range(folds):
        held, rest = fold == f, (fold != f) & (fold >= 0)
        if not held.any() or not rest.any():
            continue
        center = float(np.average(scores[rest], weights=weights[rest]))
        keys = codes[held]
        for gain in (0.0,) + GAINS:
            for strength in STRENGTHS if gain else (STRENGTHS[0],):
                adapted = OffsetAdaptation(center, gain, strength).adapt(scores[held], keys)[0]
                error = float(np.sum(weights[held] * (adapted - stars[held]) ** 2))
                totals[(gain, strength)] = totals.get((gain, strength), 0.0) + error
    return totals


def select_adaptation(task, outputs, stars, groups, training_prior=None, cap_per_title=DEFAULT_CAP,
                      folds=DEFAULT_FOLDS, seed=0):
    """Choose and fit the title adaptation on labelled validation rows.

    Args:
        task: `"classification"` or `"regression"`.
        outputs: the model's `(n, 5)` probabilities or `(n, 1)` scores on the rows.
        stars: `(n,)` true stars 1-5.
        groups: `(n,)` title of each row.
        training_prior: the star mix the classifier was trained under
            (`training_star_prior`); default the rows' own (weighted) mix.
        cap_per_title: a title weighs at most this many rows.
        folds: title folds for the choice (at most the number of titles).

    Returns:
        `(adaptation, table)`: a `PriorAdaptation` / `OffsetAdaptation` (an
        identity one when no adaptation wins), and a DataFrame of every
        candidate's cross-fitted validation score, best first.
    """
    outputs = np.asarray(outputs, np.float64)
    stars = np.asarray(stars).astype(int).ravel()
    codes, names, _ = group_codes(groups, len(stars))
    keys = np.asarray([names[c] if c >= 0 else "" for c in codes], dtype=object)
    codes, n_groups = _local_codes(codes)  # titles of 2 or more rows only: the others are rated alone
    if n_groups < 2:
        raise ArgumentError("groups", "title adaptation is chosen by title folds: it needs at least 2 titles with "
                                      "2 or more rows, got %d" % n_groups)
    folds = min(folds, n_groups)
    weights = title_weights(keys.astype(str), cap_per_title).astype(np.float64)
    fold = _folds(codes, n_groups, folds, seed)
    total_weight = weights[fold >= 0].sum()
    if check_task(task) == "classification":
        prior = star_prior(stars, weights) if training_prior is None else np.asarray(training_prior, np.float64)
        totals = _classification_candidates(outputs, stars, codes, weights, fold, prior, folds)
        table = pd.DataFrame([{"calibration": kind, "strength": strength, "accuracy": c / total_weight,
                               "log_loss": l / total_weight} for (kind, strength), (c, l) in totals.items()])
        table = table.sort_values(["accuracy", "log_loss"], ascending=[False, True], kind="stable")
        best = table.iloc[0]
        kind = best["calibration"]
        strength = None if pd.isna(best["strength"]) else float(best["strength"])
        temperature, bias = fit_calibration(outputs, stars, weights, kind)
        source = star_prior(stars, weights) if kind == "bias" else prior
        adaptation = PriorAdaptation(prior, source, temperature, bias, strength, calibration=kind)
    else:
        totals = _regression_candidates(outputs, stars, codes, weights, fold, folds)
        table = pd.DataFrame([{"gain": gain, "strength": strength, "rmse": float(np.sqrt(error / total_weight))}
                              for (gain, strength), error in totals.items()])
        table = table.sort_values(["rmse", "gain"], kind="stable")
        best = table.iloc[0]
        center = float(np.average(outputs.reshape(-1), weights=weights))
        adaptation = OffsetAdaptation(center, float(best["gain"]), float(best["strength"]))
    logger.info("Title adaptation chosen on %d validation titles (%d folds): %s", n_groups, folds,
                adaptation.describe())
    return adaptation, table.reset_index(drop=True)


def fit_title_adaptation(model, texts, stars, groups, training_prior=None, cap_per_title=DEFAULT_CAP,
                         folds=DEFAULT_FOLDS, seed=0, batch_size=None, outputs=None):
    """Predict labelled validation texts, choose the adaptation on their titles and set `model.adaptation`.

    Args:
        model: a `RatingModel` of either road.
        texts, stars, groups: validation comments, their stars and their titles.
        training_prior: see `select_adaptation`.
        outputs: the model's outputs on `texts`, when already computed.

    Returns:
        The candidates' table (`select_adaptation`).

    Example:
        >>> fit_title_adaptation(model, val["comment"], val["star"], val["movie"],
        ...                      training_prior=training_star_prior(train["star"]))
        >>> model.predict(new_texts, groups=new_titles)
    """
    if outputs is None:
        outputs = predict_scores(model, list(texts), batch_size=batch_size or DEFAULT_BATCH_SIZE)
    adaptation, table = select_adaptation(model.task, outputs, stars, groups, training_prior, cap_per_title,
                                          folds, seed)
    model.adaptation = adaptation
    return table
