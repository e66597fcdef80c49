"""Rating scores that respect how ratings cluster by title.

Douban ratings cluster by title, and a few large titles dominate (two titles
hold half the shared rows, with opposite star mixes), so a plain row-level
score mostly measures those titles. `title_scores` reports every metric
under three weightings:

- ``rows``: every row counts once (the usual score);
- ``capped``: at most `cap_per_title` rows per title (a fixed seeded
  subsample), so no title outweighs the others by more than the cap;
- ``title_mean``: the metric within each title, averaged over titles. Only
  for accuracy, within-one accuracy, MAE and RMSE: macro-F1 and QWK are
  ill-defined on titles with a handful of rows or a single star.

Each value comes with a 95% percentile bootstrap interval that resamples
*titles* with replacement (a resampled title brings all its rows, or its
capped rows), since rows of one title are not independent. The bootstrap is
vectorised: per title we keep counts and sums (correct, within-one, absolute
and squared error) and a 5x5 confusion matrix, so a replicate is a weighted
sum over titles; macro-F1 and QWK come from the summed confusion matrix.
`paired_difference` uses the same resampled titles for two methods.

Point values of ``rows`` and ``capped`` are `rating_metrics` on those rows.
"""

import numpy as np
import pandas as pd

from kerasbert.evaluation.metrics import check_same_length, prepare_predictions, rating_metrics
from kerasbert.limits import COUNT
from kerasbert.tasks import NUM_STARS

__all__ = [
    "METRICS",
    "TITLE_MEAN_METRICS",
    "WEIGHTINGS",
    "capped_rows",
    "confusion_macro_f1",
    "confusion_qwk",
    "paired_difference",
    "per_title_table",
    "title_scores",
    "title_spread",
]

METRICS = ("accuracy", "within_one_accuracy", "macro_f1", "mae", "rmse", "quadratic_weighted_kappa")
TITLE_MEAN_METRICS = ("accuracy", "within_one_accuracy", "mae", "rmse")
WEIGHTINGS = ("rows", "capped", "title_mean")
TITLE_MEAN_NOTE = ("title_mean covers accuracy, within_one_accuracy, mae and rmse only: macro-F1 and QWK "
                   "are ill-defined within titles that have a few rows or a single star")
CONFIDENCE = 0.95
# Per-title sums, in this order, from which the row-pooled metrics follow.
_SUMS = ("correct", "within_one", "abs_error", "squared_error")


def confusion_macro_f1(confusion):
    """Macro-F1 from (..., 5, 5) confusion counts [true, predicted].

    Averages over the stars that occur in truth or prediction, as
    `rating_metrics` does (scikit-learn's `f1_score(average="macro")` with
    those labels). F1 of a star is 2 TP / (true count + predicted count).
    """
    confusion = np.asarray(confusion, dtype=float)
    true_counts, pred_counts = confusion.sum(axis=-1), confusion.sum(axis=-2)
    hits = np.diagonal(confusion, axis1=-2, axis2=-1)
    support = true_counts + pred_counts
    present = support > 0
    f1 = np.divide(2 * hits, support, out=np.zeros_like(support), where=present)
    with np.errstate(invalid="ignore", divide="ignore"):
        return f1.sum(axis=-1) / present.sum(axis=-1)


def confusion_qwk(confusion):
    """Quadratic weighted kappa from (..., 5, 5) confusion counts [true, predicted].

    Cohen's kappa with weights (i - j)^2, as scikit-learn's
    `cohen_kappa_score(weights="quadratic")`; 1.0 where every row is on the
    diagonal (as `rating_metrics`), NaN where the expected disagreement is 0.
    """
    confusion = np.asarray(confusion, dtype=float)
    stars = np.arange(confusion.shape[-1])
    weights = (stars[:, None] - stars[None, :]) ** 2.0
    total = confusion.sum(axis=(-2, -1))
    expected = confusion.sum(axis=-1)[..., :, None] * confusion.sum(axis=-2)[..., None, :]
    observed_cost = (weights * confusion).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        expected_cost = (weights * expected).sum(axis=(-2, -1)) / total
        kappa = 1.0 - observed_cost / expected_cost
    kappa = np.where(observed_cost == 0, 1.0, kappa)
    return np.where((observed_cost > 0) & (expected_cost == 0), np.nan, kappa)


def capped_rows(titles, cap_per_title=500, seed=0):
    """Boolean mask keeping at most `cap_per_title` rows of each title.

    The kept rows of a larger title are a uniform random subset fixed by
    `seed`; `cap_per_title=None` keeps every row.
    """
    codes, _ = _title_codes(titles)
    if cap_per_title is None:
        return np.ones(len(codes), dtype=bool)
    COUNT.check("cap_per_title", cap_per_title)
    keys = np.random.default_rng([seed, 1]).random(len(codes))
    order = np.lexsort((keys, codes))  # by title, random order within a title
    sorted_codes = codes[order]
    rank = np.arange(len(codes)) - np.searchsorted(sorted_codes, sorted_codes, side="left")
    mask = np.zeros(len(codes), dtype=bool)
    mask[order[rank < int(cap_per_title)]] = True
    return mask


def _title_codes(titles):
    """(code per row, sorted title names); the sorted order makes seeds independent of row order."""
    titles = pd.Series(list(titles) if not isinstance(titles, pd.Series) else titles.to_numpy())
    if titles.isna().any():
        first = int(np.flatnonzero(titles.isna().to_numpy())[0])
        raise ValueError("titles has a missing value (row %d); every row needs its title" % first)
    names, codes = np.unique(titles.astype(str).to_numpy(), return_inverse=True)
    return codes.reshape(-1), names


class _Prepared:
    """Validated rows of one method: stars, continuous prediction, title codes."""

    def __init__(self, y_true, y_pred, titles, task, y_score):
        self.task = task
        self.y_true, self.y_pred, score = prepare_predictions(y_true, y_pred, y_score, task)
        check_same_length("y_true", len(self.y_true), titles=titles)
        self.y_score = score
        self.continuous = score if (task == "regression" and score is not None) else self.y_pred.astype(float)
        self.codes, self.names = _title_codes(titles)

    def metrics(self, mask):
        """`rating_metrics` on the rows in `mask`."""
        score = None if self.y_score is None else self.y_score[mask]
        return rating_metrics(self.y_true[mask], self.y_pred[mask], y_score=score, task=self.task)

    def statistics(self, mask):
        """Per-title (row count (T,), sums (T, 4), confusion counts (T, 25)) over rows in `mask`."""
        n_titles = len(self.names)
        codes, true, pred = self.codes[mask], self.y_true[mask], self.y_pred[mask]
        error = self.continuous[mask] - true
        values = np.stack([pred == true, np.abs(pred - true) <= 1, np.abs(error), error ** 2], axis=1)
        counts = np.bincount(codes, minlength=n_titles).astype(float)
        sums = np.stack([np.bincount(codes, weights=values[:, k], minlength=n_titles)
                         for k in range(len(_SUMS))], axis=1)
        cells = codes * NUM_STARS ** 2 + (true - 1) * NUM_STARS + (pred - 1)
        confusion = np.bincount(cells, minlength=n_titles * NUM_STARS ** 2).astype(float)
        return counts, sums, confusion.reshape(n_titles, NUM_STARS ** 2)


def _pooled(weights, counts, sums, confusion):
    """Row-pooled metrics for each row of title weights (B, T): {metric: (B,)}."""
    n = weights @ counts
    totals = weights @ sums
    matrices = (weights @ confusion).reshape(-1, NUM_STARS, NUM_STARS)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = totals / n[:, None]
    return {
        "accuracy": means[:, 0],
        "within_one_accuracy": means[:, 1],
        "macro_f1": confusion_macro_f1(matrices),
        "mae": means[:, 2],
        "rmse": np.sqrt(means[:, 3]),
        "quadratic_weighted_kappa": confusion_qwk(matrices),
    }


def _per_title_values(counts, sums):
    """{metric: (T,)} within each title, for the title_mean metrics."""
    means = sums / counts[:, None]
    return {"accuracy": means[:, 0], "within_one_accuracy": means[:, 1],
            "mae": means[:, 2], "rmse": np.sqrt(means[:, 3])}


def _bootstrap_weights(n_titles, n_boot, seed):
    """(n_boot, T) multiplicities: each row is a resample of T titles with replacement."""
    COUNT.check("n_boot", n_boot)
    rng = np.random.default_rng([seed, 2])
    return rng.multinomial(n_titles, np.full(n_titles, 1.0 / n_titles), size=int(n_boot)).astype(float)


def _estimates(prepared, mask, boot_weights):
    """{weighting: {metric: (point value or None, (B,) replicates)}} for one method."""
    result = {}
    for weighting, rows in (("rows", np.ones(len(prepared.codes), dtype=bool)), ("capped", mask)):
        point = prepared.metrics(rows)
        replicates = _pooled(boot_weights, *prepared.statistics(rows))
        result[weighting] = {name: (point[name], replicates[name]) for name in METRICS}
    counts, sums, _ = prepared.statistics(np.ones(len(prepared.codes), dtype=bool))
    per_title = _per_title_values(counts, sums)
    n_titles = len(prepared.names)
    result["title_mean"] = {name: (float(values.mean()), boot_weights @ values / n_titles)
                            for name, values in per_title.items()}
    return result


def _interval(point, replicates):
    """{"value", "low", "high"}: the point and the 95% percentile interval (NaN replicates dropped)."""
    finite = replicates[np.isfinite(replicates)]
    if point is None or not np.isfinite(point) or len(finite) == 0:
        return {"value": None if point is None or not np.isfinite(point) else float(point),
                "low": None, "high": None}
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return {"value": float(point), "low": float(low), "high": float(high)}


def _header(prepared, mask, cap_per_title, n_boot, seed):
    return {
        "task": prepared.task,
        "n_rows": int(len(prepared.codes)),
        "n_titles": int(len(prepared.names)),
        "n_capped_rows": int(mask.sum()),
        "cap_per_title": cap_per_title,
        "n_boot": int(n_boot),
        "seed": seed,
        "confidence": CONFIDENCE,
        "note": TITLE_MEAN_NOTE,
    }


def title_scores(y_true, y_pred, titles, task, y_score=None, cap_per_title=500, n_boot=1000, seed=0):
    """Every rating metric under the rows / capped / title_mean weightings, with title-bootstrap intervals.

    `y_true`, `y_pred`, `y_score` and `task` are as for `rating_metrics`
    (regression: `y_pred` continuous or `y_score` the continuous score, used
    for MAE/RMSE); `titles` names the title of each row. Returns a dict with
    `n_rows`, `n_titles`, `n_capped_rows`, ... and, for each weighting in
    `WEIGHTINGS`, `{metric: {"value", "low", "high"}}` (`title_mean` only for
    `TITLE_MEAN_METRICS`). With one title the interval is that title's value
    alone; it says nothing about other titles.
    """
    prepared = _Prepared(y_true, y_pred, titles, task, y_score)
    mask = capped_rows(titles, cap_per_title, seed)
    boot_weights = _bootstrap_weights(len(prepared.names), n_boot, seed)
    result = _header(prepared, mask, cap_per_title, n_boot, seed)
    for weighting, metrics in _estimates(prepared, mask, boot_weights).items():
        result[weighting] = {name: _interval(point, replicates) for name, (point, replicates) in metrics.items()}
    return result


def paired_difference(y_true, a_pred, b_pred, titles, task, a_score=None, b_score=None, b_task=None,
                      cap_per_title=500, n_boot=1000, seed=0):
    """Metric of method A minus metric of method B, on the same rows and the same resampled titles.

    `task` is A's task; `b_task` is B's (default: the same), so a classifier
    can be compared with a regressor on MAE/RMSE. Both use the same capped
    rows and the same bootstrap resamples, so the interval is that of the
    paired difference. Returns the dict layout of `title_scores`, each value
    being A - B (None where either is undefined).
    """
    a = _Prepared(y_true, a_pred, titles, task, a_score)
    b = _Prepared(y_true, b_pred, titles, b_task or task, b_score)
    mask = capped_rows(titles, cap_per_title, seed)
    boot_weights = _bootstrap_weights(len(a.names), n_boot, seed)
    result = _header(a, mask, cap_per_title, n_boot, seed)
    result["b_task"] = b.task
    estimates_a, estimates_b = _estimates(a, mask, boot_weights), _estimates(b, mask, boot_weights)
    for weighting in WEIGHTINGS:
        result[weighting] = {}
        for name, (point_a, replicates_a) in estimates_a[weighting].items():
            point_b, replicates_b = estimates_b[weighting][name]
            point = None if point_a is None or point_b is None else point_a - point_b
            result[weighting][name] = _interval(point, replicates_a - replicates_b)
    return result


def per_title_table(y_true, y_pred, titles, task, y_score=None):
    """One row per title: rows, accuracy, within-one accuracy, MAE, RMSE, mean true and predicted star.

    MAE/RMSE use the continuous regression score when given, as
    `rating_metrics`. Sorted by rows (largest title first), then title.
    """
    prepared = _Prepared(y_true, y_pred, titles, task, y_score)
    counts, sums, _ = prepared.statistics(np.ones(len(prepared.codes), dtype=bool))
    values = _per_title_values(counts, sums)
    table = pd.DataFrame({
        "title": prepared.names,
        "rows": counts.astype(int),
        **values,
        "mean_true": np.bincount(prepared.codes, weights=prepared.y_true) / counts,
        "mean_pred": np.bincount(prepared.codes, weights=prepared.continuous) / counts,
    })
    table = table.sort_values(["rows", "title"], ascending=[False, True], kind="mergesort")
    return table.reset_index(drop=True)


def title_spread(table, column="accuracy", min_rows=1):
    """Spread of a per-title column over titles with >= `min_rows` rows: titles, min, quartiles, max."""
    values = table.loc[table["rows"] >= min_rows, column].to_numpy(dtype=float)
    if len(values) == 0:
        return {"titles": 0, "min_rows": min_rows, "min": None, "q1": None, "median": None, "q3": None,
                "max": None}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"titles": int(len(values)), "min_rows": min_rows, "min": float(values.min()), "q1": float(q1),
            "median": float(median), "q3": float(q3), "max": float(values.max())}
