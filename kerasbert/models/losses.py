"""Cross-entropy whose target leaks a little mass to the neighbouring stars.

Stars are ordered: predicting 4 for a 5-star comment is a smaller error than
predicting 1. Uniform label smoothing ignores that order; here the smoothing
mass `epsilon` goes to the adjacent stars only (half to each, or all of it to
the single neighbour of 1 and 5), so the model is pushed towards ordinal
calibration without a new head.
"""

from kerasbert._backend import keras, tf
from kerasbert.limits import SMOOTHING
from kerasbert.tasks import NUM_STARS


def neighbour_smoothed_targets(labels, epsilon, num_classes=NUM_STARS):
    """`(batch,)` int labels 0..C-1 -> `(batch, C)` float32 target distributions."""
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
    one_hot = tf.one_hot(labels, num_classes, dtype=tf.float32)
    below = tf.one_hot(labels - 1, num_classes, dtype=tf.float32)  # all zeros for label 0
    above = tf.one_hot(labels + 1, num_classes, dtype=tf.float32)  # all zeros for label C-1
    neighbours = below + above
    neighbours /= tf.reduce_sum(neighbours, axis=-1, keepdims=True)
    return (1.0 - epsilon) * one_hot + epsilon * neighbours


@keras.saving.register_keras_serializable(package="kerasbert")
class NeighbourSmoothedCrossentropy(keras.losses.Loss):
    """Cross-entropy of star probabilities against neighbour-smoothed targets.

    y_true: `(batch,)` or `(batch, 1)` int labels 0..4 (stars 1..5).
    y_pred: `(batch, 5)` probabilities (the classification head's softmax).
    `epsilon=0` is sparse categorical cross-entropy. Computed in float32.
    """

    def __init__(self, epsilon=0.1, name="neighbour_smoothed_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        SMOOTHING.check("epsilon", epsilon)
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        y_pred = tf.cast(y_pred, tf.float32)
        targets = neighbour_smoothed_targets(y_true, self.epsilon, num_classes=y_pred.shape[-1] or NUM_STARS)
        return keras.losses.categorical_crossentropy(targets, y_pred)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
