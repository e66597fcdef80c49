"""title_scores / paired_difference / per_title_table against scikit-learn, pandas and hand counts."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
)

from kerasbert.evaluation.title_scores import (
    TITLE_MEAN_METRICS,
    WEIGHTINGS,
    capped_rows,
    confusion_macro_f1,
    confusion_qwk,
    paired_difference,
    per_title_table,
    title_scores,
    title_spread,
)

STARS = [1, 2, 3, 4, 5]


def make_rows(n_titles, rows_per_title, seed=0, noise=1.0):
    """Titles whose accuracy differs: each title has its own chance of a correct star."""
    rng = np.random.default_rng(seed)
    sizes = rows_per_title if np.ndim(rows_per_title) else np.full(n_titles, rows_per_title)
    titles = np.repeat(["t%03d" % k for k in range(n_titles)], sizes)
    y_true = rng.integers(1, 6, len(titles))
    hit_chance = np.repeat(rng.uniform(0.2, 0.9, n_titles), sizes)
    wrong = np.clip(y_true + rng.choice([-2, -1, 1, 2], len(titles)), 1, 5)
    y_pred = np.where(rng.random(len(titles)) < hit_chance, y_true, wrong)
    score = np.clip(y_pred + rng.normal(0, 0.4 * noise, len(titles)), 1, 5)
    return y_true, y_pred, score, titles


def sklearn_scores(y_true, y_pred, continuous):
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "within_one_accuracy": np.mean(np.abs(y_true - y_pred) <= 1),
        "macro_f1": f1_score(y_true, y_pred, average="macro"),
        "mae": mean_absolute_error(y_true, continuous),
        "rmse": np.sqrt(mean_squared_error(y_true, continuous)),
        "quadratic_weighted_kappa": cohen_kappa_score(y_true, y_pred, weights="quadratic"),
    }


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_rows_weighting_equals_sklearn_on_all_rows(task):
    y_true, y_pred, score, titles = make_rows(20, 40)
    if task == "regression":
        result = title_scores(y_true, score, titles, task, y_score=score, n_boot=50)
        stars = np.clip(np.floor(score + 0.5), 1, 5).astype(int)
        expected = sklearn_scores(y_true, stars, score)
    else:
        result = title_scores(y_true, y_pred, titles, task, n_boot=50)
        expected = sklearn_scores(y_true, y_pred, y_pred)
    assert result["n_rows"] == len(y_true) and result["n_titles"] == 20
    for name, value in expected.items():
        assert result["rows"][name]["value"] == pytest.approx(value, abs=1e-12), name


def test_confusion_matrix_formulas_equal_sklearn():
    rng = np.random.default_rng(3)
    matrices, references = [], []
    for trial in range(40):
        n = int(rng.integers(5, 200))
        y_true = rng.integers(1, 6, n)
        # Some trials use only a few stars, so macro-F1 averages over fewer labels.
        y_pred = rng.choice(rng.choice(STARS, size=int(rng.integers(1, 6)), replace=False), n)
        matrices.append(confusion_matrix(y_true, y_pred, labels=STARS))
        references.append((f1_score(y_true, y_pred, average="macro"),
                           cohen_kappa_score(y_true, y_pred, weights="quadratic")))
        assert confusion_macro_f1(matrices[-1]) == pytest.approx(references[-1][0], abs=1e-12)
        assert confusion_qwk(matrices[-1]) == pytest.approx(references[-1][1], abs=1e-12)
    batched_f1, batched_qwk = confusion_macro_f1(np.stack(matrices)), confusion_qwk(np.stack(matrices))
    np.testing.assert_allclose(batched_f1, [r[0] for r in references], atol=1e-12)
    np.testing.assert_allclose(batched_qwk, [r[1] for r in references], atol=1e-12)
    perfect = confusion_matrix([1, 1, 1], [1, 1, 1], labels=STARS)
    assert confusion_qwk(perfect) == 1.0  # sklearn gives NaN here; rating_metrics says 1.0


def test_capped_keeps_at_most_cap_rows_per_title_and_scores_them():
    y_true, y_pred, _, titles = make_rows(6, [700, 30, 501, 500, 1, 90])
    mask = capped_rows(titles, cap_per_title=500, seed=4)
    kept = pd.Series(titles[mask]).value_counts()
    assert kept.to_dict() == {"t000": 500, "t002": 500, "t003": 500, "t005": 90, "t001": 30, "t004": 1}
    np.testing.assert_array_equal(mask, capped_rows(titles, cap_per_title=500, seed=4))  # fixed subsample
    assert not np.array_equal(mask, capped_rows(titles, cap_per_title=500, seed=5))
    result = title_scores(y_true, y_pred, titles, "classification", cap_per_title=500, n_boot=20, seed=4)
    assert result["n_capped_rows"] == int(mask.sum()) == 1621
    expected = sklearn_scores(y_true[mask], y_pred[mask], y_pred[mask])
    for name, value in expected.items():
        assert result["capped"][name]["value"] == pytest.approx(value, abs=1e-12), name


def test_title_mean_equals_pandas_groupby_mean():
    y_true, _, score, titles = make_rows(15, [3, 200, 40, 7, 1, 60, 12, 90, 5, 33, 2, 80, 9, 14, 300])
    result = title_scores(y_true, score, titles, "regression", y_score=score, n_boot=20)
    frame = pd.DataFrame({"title": titles, "true": y_true, "score": score,
                          "stars": np.clip(np.floor(score + 0.5), 1, 5).astype(int)})
    frame["correct"] = frame["stars"] == frame["true"]
    frame["within_one"] = (frame["stars"] - frame["true"]).abs() <= 1
    frame["abs_error"] = (frame["score"] - frame["true"]).abs()
    frame["squared_error"] = (frame["score"] - frame["true"]) ** 2
    grouped = frame.groupby("title")
    expected = {
        "accuracy": grouped["correct"].mean().mean(),
        "within_one_accuracy": grouped["within_one"].mean().mean(),
        "mae": grouped["abs_error"].mean().mean(),
        "rmse": np.sqrt(grouped["squared_error"].mean()).mean(),
    }
    assert set(result["title_mean"]) == set(TITLE_MEAN_METRICS)
    for name, value in expected.items():
        assert result["title_mean"][name]["value"] == pytest.approx(value, abs=1e-12), name


def test_interval_contains_point_and_shrinks_with_more_titles():
    widths = {}
    for n_titles in (8, 200):
        y_true, y_pred, _, titles = make_rows(n_titles, 60, seed=n_titles)
        result = title_scores(y_true, y_pred, titles, "classification", n_boot=400, seed=1)
        for weighting in WEIGHTINGS:
            for name, cell in result[weighting].items():
                assert cell["low"] <= cell["value"] <= cell["high"], (n_titles, weighting, name)
        widths[n_titles] = {w: result[w]["accuracy"]["high"] - result[w]["accuracy"]["low"] for w in WEIGHTINGS}
    for weighting in WEIGHTINGS:
        assert widths[200][weighting] < 0.5 * widths[8][weighting], weighting


def test_bootstrap_is_seeded():
    y_true, y_pred, _, titles = make_rows(30, 20)
    first = title_scores(y_true, y_pred, titles, "classification", n_boot=100, seed=7)
    assert first == title_scores(y_true, y_pred, titles, "classification", n_boot=100, seed=7)
    other = title_scores(y_true, y_pred, titles, "classification", n_boot=100, seed=8)
    assert first["rows"]["accuracy"]["low"] != other["rows"]["accuracy"]["low"]


def test_one_dominant_title_separates_rows_from_title_mean():
    # One title of 900 rows all right; nine titles of 10 rows all wrong by one star.
    titles = np.array(["big"] * 900 + ["small%d" % (k // 10) for k in range(90)])
    y_true = np.full(990, 4)
    y_pred = np.where(titles == "big", 4, 3)
    result = title_scores(y_true, y_pred, titles, "classification", cap_per_title=100, n_boot=50)
    assert result["rows"]["accuracy"]["value"] == pytest.approx(900 / 990)
    assert result["capped"]["accuracy"]["value"] == pytest.approx(100 / 190)
    assert result["title_mean"]["accuracy"]["value"] == pytest.approx(1 / 10)
    assert result["rows"]["mae"]["value"] == pytest.approx(90 / 990)
    assert result["title_mean"]["mae"]["value"] == pytest.approx(9 / 10)
    assert result["title_mean"]["within_one_accuracy"]["value"] == pytest.approx(1.0)


def test_paired_difference_of_a_method_with_itself_is_exactly_zero():
    y_true, y_pred, score, titles = make_rows(25, 30)
    for task, pred, y_score in (("classification", y_pred, None), ("regression", score, score)):
        result = paired_difference(y_true, pred, pred, titles, task, a_score=y_score, b_score=y_score, n_boot=200)
        for weighting in WEIGHTINGS:
            for name, cell in result[weighting].items():
                assert (cell["value"], cell["low"], cell["high"]) == (0.0, 0.0, 0.0), (task, weighting, name)


def test_paired_difference_value_and_pairing():
    y_true, y_pred, score, titles = make_rows(40, 30, seed=2)
    better = np.where(np.arange(len(y_true)) % 3 == 0, y_true, y_pred)  # one row in three fixed
    result = paired_difference(y_true, better, y_pred, titles, "classification", n_boot=300, seed=3)
    a = title_scores(y_true, better, titles, "classification", n_boot=300, seed=3)
    b = title_scores(y_true, y_pred, titles, "classification", n_boot=300, seed=3)
    for weighting in WEIGHTINGS:
        for name, cell in result[weighting].items():
            assert cell["value"] == pytest.approx(a[weighting][name]["value"] - b[weighting][name]["value"])
    # Fixing rows never lowers accuracy in any resample, so the paired interval stays above 0,
    # and pairing makes it narrower than the spread of either method alone.
    paired = result["rows"]["accuracy"]
    assert paired["low"] > 0
    assert paired["high"] - paired["low"] < b["rows"]["accuracy"]["high"] - b["rows"]["accuracy"]["low"]
    # A classifier against a regressor on MAE: each side uses its own continuous prediction.
    mixed = paired_difference(y_true, y_pred, score, titles, "classification", b_score=score,
                              b_task="regression", n_boot=50)
    expected = mean_absolute_error(y_true, y_pred) - mean_absolute_error(y_true, score)
    assert mixed["rows"]["mae"]["value"] == pytest.approx(expected)


def test_per_title_table_and_spread():
    y_true, y_pred, _, titles = make_rows(12, [5, 80, 20, 20, 3, 60, 1, 44, 9, 30, 70, 2], seed=5)
    table = per_title_table(y_true, y_pred, titles, "classification")
    frame = pd.DataFrame({"title": titles, "correct": y_true == y_pred, "error": np.abs(y_true - y_pred)})
    expected = frame.groupby("title").agg(rows=("correct", "size"), accuracy=("correct", "mean"),
                                          mae=("error", "mean"))
    got = table.set_index("title").loc[expected.index]
    np.testing.assert_array_equal(got["rows"], expected["rows"])
    np.testing.assert_allclose(got["accuracy"], expected["accuracy"])
    np.testing.assert_allclose(got["mae"], expected["mae"])
    assert list(table["rows"]) == sorted(table["rows"], reverse=True)
    spread = title_spread(table, "accuracy", min_rows=10)
    large = expected.loc[expected["rows"] >= 10, "accuracy"].to_numpy()
    assert spread["titles"] == len(large) == 7
    assert (spread["min"], spread["max"]) == (large.min(), large.max())
    assert spread["median"] == pytest.approx(np.median(large))
    assert spread["q1"] == pytest.approx(np.quantile(large, 0.25))


def test_bad_input_is_a_clear_error():
    y_true, y_pred, _, titles = make_rows(3, 4)
    with pytest.raises(ValueError, match="titles has 11 entries"):
        title_scores(y_true, y_pred, titles[:-1], "classification")
    missing = titles.astype(object)
    missing[5] = None
    with pytest.raises(ValueError, match="row 5"):
        title_scores(y_true, y_pred, missing, "classification")
    with pytest.raises(ValueError, match="task must be one of"):
        title_scores(y_true, y_pred, titles, "ranking")
    with pytest.raises(ValueError, match="cap_per_title"):
        title_scores(y_true, y_pred, titles, "classification", cap_per_title=0)


def test_bootstrap_replicates_equal_sklearn_on_explicitly_resampled_rows():
    import importlib

    module = importlib.import_module("kerasbert.evaluation.title_scores")  # the module, not the function

    y_true, y_pred, _, titles = make_rows(12, [5, 80, 20, 20, 3, 60, 1, 44, 9, 30, 70, 2], seed=6)
    prepared = module._Prepared(y_true, y_pred, titles, "classification", None)
    weights = module._bootstrap_weights(len(prepared.names), 5, seed=0)
    mask = np.ones(len(y_true), dtype=bool)
    estimates = module._estimates(prepared, mask, weights)
    for b in range(5):
        # The resample spelled out: each title's rows repeated as often as the title was drawn.
        rows = np.concatenate([np.flatnonzero(titles == name).repeat(int(weights[b, k]))
                               for k, name in enumerate(prepared.names)])
        expected = sklearn_scores(y_true[rows], y_pred[rows], y_pred[rows])
        for name, value in expected.items():
            assert estimates["rows"][name][1][b] == pytest.approx(value, abs=1e-12), (b, name)
        drawn = [name for k, name in enumerate(prepared.names) for _ in range(int(weights[b, k]))]
        title_accuracy = pd.Series(y_true == y_pred).groupby(titles).mean()
        assert estimates["title_mean"]["accuracy"][1][b] == pytest.approx(title_accuracy[drawn].mean())
