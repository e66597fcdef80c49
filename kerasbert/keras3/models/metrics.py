"""Star-rating metrics that read either head's output (Keras 3, any backend).

The same metrics as the tf-keras road's `kerasbert.models.metrics`: every
metric first turns labels and outputs into stars 1-5 by the rules of
`kerasbert.tasks` (argmax + 1; regression scores rounded half up and clipped
for the accuracies, continuous for MAE and RMSE).
"""

import keras
from keras import ops

from kerasbert.tasks import check_task, stars_from_outputs_ops

__all__ = ["StarAccuracy", "StarMAE", "StarRMSE", "WithinOneAccuracy", "rating_metrics"]


class _StarMetric(keras.metrics.Mean):
    """Mean of a per-example value computed on stars."""

    rounded = True
    default_name = None

    def __init__(self, task="classification", name=None, dtype=None):
        super().__init__(name=name or self.default_name, dtype=dtype)
        self.task = check_task(task)

    def per_example(self, true, predicted):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        true, predicted = stars_from_outputs_ops(y_true, y_pred, self.task, self.rounded)
        return super().update_state(self.per_example(true, predicted), sample_weight=sample_weight)

    def get_config(self):
        return {"task": self.task, "name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="kerasbert")
class StarAccuracy(_StarMetric):
    """Share of exactly right stars."""

    default_name = "accuracy"

    def per_example(self, true, predicted):
        return ops.cast(ops.equal(true, predicted), "float32")


@keras.saving.register_keras_serializable(package="kerasbert")
class WithinOneAccuracy(_StarMetric):
    """Share of predictions at most one star off: |prediction − truth| ≤ 1."""

    default_name = "within_one_accuracy"

    def per_example(self, true, predicted):
        return ops.cast(ops.abs(true - predicted) <= 1.0, "float32")


@keras.saving.register_keras_serializable(package="kerasbert")
class StarMAE(_StarMetric):
    """Mean absolute error in stars (continuous score for regression)."""

    default_name = "mae"
    rounded = False

    def per_example(self, true, predicted):
        return ops.abs(true - predicted)


@keras.saving.register_keras_serializable(package="kerasbert")
class StarRMSE(_StarMetric):
    """Root mean squared error in stars (continuous score for regression)."""

    default_name = "rmse"
    rounded = False

    def per_example(self, true, predicted):
        return ops.square(true - predicted)

    def result(self):
        return ops.sqrt(super().result())


def rating_metrics(task):
    """Accuracy, ±1 accuracy, MAE and RMSE for one head."""
    return [StarAccuracy(task), WithinOneAccuracy(task), StarMAE(task), StarRMSE(task)]
