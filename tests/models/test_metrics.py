import numpy as np
import pytest

from kerasbert.models import StarAccuracy, StarMAE, StarRMSE, WithinOneAccuracy, rating_metrics
from kerasbert.tasks import round_stars, stars_from_outputs, stars_from_outputs_tf

TRUE_STARS = np.array([1, 2, 3, 4, 5, 5])
PRED_STARS = np.array([1, 4, 3, 5, 3, 5])


def metric_values(metrics, y_true, y_pred):
    out = {}
    for metric in metrics:
        metric.update_state(y_true, y_pred)
        out[metric.name] = float(metric.result())
    return out


def test_classification_metrics_match_hand_computation():
    probabilities = np.eye(5)[PRED_STARS - 1] * 0.6 + 0.08
    values = metric_values(rating_metrics("classification"), TRUE_STARS - 1, probabilities)
    assert values["accuracy"] == pytest.approx(3 / 6)
    assert values["within_one_accuracy"] == pytest.approx(4 / 6)  # off by 2: (2->4), (5->3)
    assert values["mae"] == pytest.approx((0 + 2 + 0 + 1 + 2 + 0) / 6)
    assert values["rmse"] == pytest.approx(np.sqrt((0 + 4 + 0 + 1 + 4 + 0) / 6))


def test_regression_metrics_round_for_accuracy_but_not_for_errors():
    # Scores from the (0.5, 5.5) head: 0.6 and 5.4 lie outside 1-5, 4.5 is a half.
    scores = np.array([0.6, 3.6, 3.4, 4.5, 2.4, 5.4])
    # Stars by hand (round half up, clip): 1, 4, 3, 5, 2, 5 against the truth 1, 2, 3, 4, 5, 5.
    values = metric_values(rating_metrics("regression"), TRUE_STARS.astype("float32"), scores[:, None])
    assert values["accuracy"] == pytest.approx(3 / 6)  # rows 0, 2 and 5
    assert values["within_one_accuracy"] == pytest.approx(4 / 6)  # rows 1 (2->4) and 4 (5->2) are off by 2+
    assert values["mae"] == pytest.approx(np.mean(np.abs(scores - TRUE_STARS)), rel=1e-6)
    assert values["rmse"] == pytest.approx(np.sqrt(np.mean((scores - TRUE_STARS) ** 2)), rel=1e-6)


def test_round_stars_rounds_half_up_and_clips():
    scores = np.array([0.5, 0.74, 1.5, 2.5, 3.49, 4.5, 5.5, 7.0, -3.0])
    expected = [1, 1, 2, 3, 3, 5, 5, 5, 1]  # by hand; NumPy's round would give 2.5 -> 2
    np.testing.assert_array_equal(round_stars(scores), expected)
    np.testing.assert_array_equal(stars_from_outputs(scores[:, None], "regression"), expected)
    _, predicted = stars_from_outputs_tf(np.ones(len(scores)), scores.astype("float32")[:, None], "regression")
    np.testing.assert_array_equal(predicted.numpy(), expected)


def test_classification_stars_are_argmax_plus_one_for_numpy_and_tensors():
    probabilities = np.array([[0.9, 0.1, 0, 0, 0], [0, 0, 0.2, 0.3, 0.5], [0.1, 0.2, 0.4, 0.2, 0.1]])
    np.testing.assert_array_equal(stars_from_outputs(probabilities, "classification"), [1, 5, 3])
    true, predicted = stars_from_outputs_tf(np.array([0, 4, 1]), probabilities, "classification")
    np.testing.assert_array_equal(true.numpy(), [1, 5, 2])
    np.testing.assert_array_equal(predicted.numpy(), [1, 5, 3])


def test_config_round_trip_and_bad_task():
    for cls in (StarAccuracy, WithinOneAccuracy, StarMAE, StarRMSE):
        metric = cls("regression")
        assert cls.from_config(metric.get_config()).get_config() == metric.get_config()
    with pytest.raises(ValueError, match="task must be one of"):
        StarAccuracy("ranking")
