"""Rating metrics for 1-5 star prediction."""

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_fscore_support,
)

from kerasbert.tasks import MAX_STAR, MIN_STAR, STARS, TASKS, check_task  # noqa: F401  (re-exported)
from kerasbert.tasks import round_stars as round_to_stars  # noqa: F401  (re-exported)


def as_finite_array(name, values, ndim=1):
    """`values` as a float array of `ndim` dims with no NaN/inf, else ValueError."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric: {err}") from None
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def as_stars(name, values):
    """Whole stars 1-5 as an int array, else ValueError naming `name`."""
    array = as_finite_array(name, values)
    if np.any(array != np.round(array)):
        raise ValueError(f"{name} must hold whole stars 1-5, got non-integer values")
    if array.min() < MIN_STAR or array.max() > MAX_STAR:
        raise ValueError(
            f"{name} must hold stars {MIN_STAR}-{MAX_STAR}, got values in [{array.min():g}, {array.max():g}]"
        )
    return array.astype(int)


def check_same_length(reference_name, reference_len, **arrays):
    for name, values in arrays.items():
        if values is not None and len(values) != reference_len:
            raise ValueError(
                f"{name} has {len(values)} entries but {reference_name} has {reference_len}"
            )


def prepare_predictions(y_true_stars, y_pred_stars, y_score=None, task="classification"):
    """Validated (y_true, y_pred stars, y_score) arrays.

    Regression: `y_pred_stars` may be continuous (rounded half up and clipped);
    `y_score` is the continuous (n,) prediction. Classification: `y_pred_stars`
    must be whole stars; `y_score`, if given, is (n, 5) class probabilities.
    """
    check_task(task)
    y_true = as_stars("y_true", y_true_stars)
    if task == "regression":
        y_pred = round_to_stars(as_finite_array("y_pred", y_pred_stars))
    else:
        y_pred = as_stars("y_pred", y_pred_stars)
    check_same_length("y_true", len(y_true), y_pred=y_pred)
    score = None
    if y_score is not None:
        if task == "regression":
            score = as_finite_array("y_score", y_score)
        else:
            score = as_finite_array("y_score", y_score, ndim=2)
            if score.shape[1] != len(STARS):
                raise ValueError(
                    f"y_score for classification must be (n, 5) star probabilities, got shape {score.shape}"
                )
            if np.any(score < 0) or not np.allclose(score.sum(axis=1), 1.0, atol=1e-3):
                raise ValueError("y_score rows must be probabilities (non-negative, summing to 1)")
        check_same_length("y_true", len(y_true), y_score=score)
    return y_true, y_pred, score


def rating_metrics(y_true_stars, y_pred_stars, y_score=None, task="classification"):
    """Accuracy, within-one accuracy, macro F1, MAE, RMSE, QWK and per-star scores.

    For regression, MAE/RMSE use the continuous `y_score` when given; the other
    metrics use the rounded-and-clipped stars.
    """
    y_true, y_pred, score = prepare_predictions(y_true_stars, y_pred_stars, y_score, task)
    continuous = score if (task == "regression" and score is not None) else y_pred
    labels = list(STARS)
    present = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    if np.array_equal(y_true, y_pred):
        kappa = 1.0  # sklearn gives NaN when only one star occurs in both
    else:
        kappa = float(cohen_kappa_score(y_true, y_pred, labels=labels, weights="quadratic"))
        kappa = None if np.isnan(kappa) else kappa
    result = {
        "n": int(len(y_true)),
        "task": task,
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "within_one_accuracy": float(np.mean(np.abs(y_pred - y_true) <= 1)),
        # Macro over the stars that occur, as sklearn does without `labels`.
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "mae": float(mean_absolute_error(y_true, continuous)),
        "rmse": float(np.sqrt(mean_squared_error(y_true, continuous))),
        "quadratic_weighted_kappa": kappa,
        "per_star": {
            star: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, star in enumerate(labels)
        },
    }
    return result
