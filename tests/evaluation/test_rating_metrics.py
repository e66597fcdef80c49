"""rating_metrics against hand-written NumPy references."""

import numpy as np
import pytest

from kerasbert.evaluation import rating_metrics, round_to_stars

Y_TRUE = np.array([1, 2, 3, 4, 5, 5, 3, 2])
Y_PRED = np.array([1, 3, 3, 5, 5, 4, 1, 2])


def reference_per_star(y_true, y_pred):
    result = {}
    for star in range(1, 6):
        tp = np.sum((y_true == star) & (y_pred == star))
        predicted = np.sum(y_pred == star)
        actual = np.sum(y_true == star)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[star] = (precision, recall, f1, actual)
    return result


def reference_qwk(y_true, y_pred):
    observed = np.zeros((5, 5))
    for t, p in zip(y_true, y_pred):
        observed[t - 1, p - 1] += 1
    hist_true = observed.sum(axis=1)
    hist_pred = observed.sum(axis=0)
    expected = np.outer(hist_true, hist_pred) / len(y_true)
    i, j = np.indices((5, 5))
    weights = (i - j) ** 2 / 16.0
    return 1.0 - (weights * observed).sum() / (weights * expected).sum()


def test_classification_metrics_match_hand_computation():
    m = rating_metrics(Y_TRUE, Y_PRED)
    assert m["n"] == 8
    assert m["accuracy"] == pytest.approx(4 / 8)
    assert m["within_one_accuracy"] == pytest.approx(7 / 8)
    assert m["mae"] == pytest.approx(5 / 8)
    assert m["rmse"] == pytest.approx(np.sqrt(7 / 8))
    assert m["quadratic_weighted_kappa"] == pytest.approx(reference_qwk(Y_TRUE, Y_PRED))
    per_star = reference_per_star(Y_TRUE, Y_PRED)
    for star, (precision, recall, f1, support) in per_star.items():
        got = m["per_star"][star]
        assert got["precision"] == pytest.approx(precision)
        assert got["recall"] == pytest.approx(recall)
        assert got["f1"] == pytest.approx(f1)
        assert got["support"] == support
    # star 3: true at 2 and 6, predicted at 1 and 2
    assert m["per_star"][3]["precision"] == pytest.approx(0.5)
    assert m["macro_f1"] == pytest.approx(np.mean([v[2] for v in per_star.values()]))


def test_macro_f1_averages_only_stars_that_occur():
    y_true = np.array([1, 1, 2, 2])
    y_pred = np.array([1, 2, 2, 2])
    m = rating_metrics(y_true, y_pred)
    f1_one = 2 * 1.0 * 0.5 / 1.5
    f1_two = 2 * (2 / 3) * 1.0 / (2 / 3 + 1)
    assert m["macro_f1"] == pytest.approx((f1_one + f1_two) / 2)
    assert m["per_star"][5]["support"] == 0


def test_perfect_predictions():
    m = rating_metrics([3, 3, 3], [3, 3, 3])
    assert m["accuracy"] == 1.0 and m["quadratic_weighted_kappa"] == 1.0 and m["mae"] == 0.0


def test_regression_uses_continuous_score_for_mae_and_rounded_stars_otherwise():
    y_true = np.array([1, 2, 3, 5])
    score = np.array([0.2, 2.5, 3.4, 3.6])
    m = rating_metrics(y_true, score, y_score=score, task="regression")
    stars = np.array([1, 3, 3, 4])  # half rounds up, clipped to 1-5
    assert np.array_equal(round_to_stars(score), stars)
    assert m["accuracy"] == pytest.approx(np.mean(stars == y_true))
    assert m["within_one_accuracy"] == pytest.approx(np.mean(np.abs(stars - y_true) <= 1))
    assert m["mae"] == pytest.approx(np.mean(np.abs(score - y_true)))
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean((score - y_true) ** 2)))


def test_classification_accepts_probabilities():
    probs = np.full((8, 5), 0.2)
    m = rating_metrics(Y_TRUE, Y_PRED, y_score=probs)
    assert m["accuracy"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(y_true_stars=[1, 2, 3], y_pred_stars=[1, 2]), "y_pred has 2"),
        (dict(y_true_stars=[0, 2], y_pred_stars=[1, 2]), "y_true must hold stars 1-5"),
        (dict(y_true_stars=[1, 6], y_pred_stars=[1, 2]), "y_true must hold stars 1-5"),
        (dict(y_true_stars=[1, 2], y_pred_stars=[1, 2.5]), "y_pred must hold whole stars"),
        (dict(y_true_stars=[1, np.nan], y_pred_stars=[1, 2]), "y_true contains NaN"),
        (dict(y_true_stars=[1, 2], y_pred_stars=[1, 2], task="ranking"), "task must be"),
        (dict(y_true_stars=[], y_pred_stars=[]), "y_true is empty"),
        (dict(y_true_stars=[1, 2], y_pred_stars=[1, 2], y_score=np.ones((2, 3)) / 3), r"\(n, 5\)"),
        (dict(y_true_stars=[1, 2], y_pred_stars=[1, 2], y_score=np.ones((2, 5))), "probabilities"),
        (dict(y_true_stars=[1, 2], y_pred_stars=[1.0, 2.0], y_score=[1.0, np.nan], task="regression"),
         "y_score contains NaN"),
    ],
)
def test_bad_inputs_raise_naming_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rating_metrics(**kwargs)
