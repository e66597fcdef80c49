"""Star-rating metrics that read either head's output.

Classification heads output probabilities over 5 classes with labels 0-4;
regression heads output a score in [1, 5] with labels 1-5. Every metric
first turns both into stars 1-5:

- classification: predicted star = argmax + 1, true star = label + 1;
- regression: predicted star = the score rounded and clipped to 1-5 for
  accuracy and ±1 accuracy (`kerasbert.tasks.stars_from_outputs_tf`, halves round
  up); MAE and RMSE use the continuous score.
"""

from kerasbert._backend import keras, tf
from kerasbert.tasks import TASKS, check_task, stars_from_outputs_tf

__all__ = ["TASKS", "StarAccuracy", "StarMAE", "StarRMSE", "WithinOneAccuracy", "rating_metrics"]


class _StarMetric(keras.metrics.Mean):
    """Mean of a per-example value computed on stars."""

    rounded = True

    def __init__(self, task="classification", name=None, dtype=None):
        super().__init__(name=name or self.default_name, dtype=dtype)
        self.task = check_task(task)

    def per_example(self, true, predicted):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        true, predicted = stars_from_outputs_tf(y_true, y_pred, self.task, self.rounded)
        return super().update_state(self.per_example(true, predicted), sample_weight=sample_weight)

    def get_config(self):
        return {"task": self.task, "name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="kerasbert")
class StarAccuracy(_StarMetric):
    """Share of exactly right stars."""

    default_name = "accuracy"

    def per_example(self, true, predicted):
        return tf.cast(tf.equal(true, predicted), tf.float32)


@keras.saving.register_keras_serializable(package="kerasbert")
class WithinOneAccuracy(_StarMetric):
    """Share of predictions at most one star off: |prediction − truth| ≤ 1."""

    default_name = "within_one_accuracy"

    def per_example(self, true, predicted):
        return tf.cast(tf.abs(true - predicted) <= 1.0, tf.float32)


@keras.saving.register_keras_serializable(package="kerasbert")
class StarMAE(_StarMetric):
    """Mean absolute error in stars (continuous score for regression)."""

    default_name = "mae"
    rounded = False

    def per_example(self, true, predicted):
        return tf.abs(true - predicted)


@keras.saving.register_keras_serializable(package="kerasbert")
class StarRMSE(_StarMetric):
    """Root mean squared error in stars (continuous score for regression)."""

    default_name = "rmse"
    rounded = False

    def per_example(self, true, predicted):
        return tf.square(true - predicted)

    def result(self):
        return tf.sqrt(super().result())


def rating_metrics(task):
    """Accuracy, ±1 accuracy, MAE and RMSE for one head."""
    return [StarAccuracy(task), WithinOneAccuracy(task), StarMAE(task), StarRMSE(task)]
