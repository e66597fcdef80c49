"""Cross-entropy whose target leaks a little mass to the neighbouring stars (Keras 3).

The same loss as the tf-keras road's `kerasbert.models.losses`: the
smoothing mass `epsilon` goes to the adjacent stars only (half to each, or
all of it to the single neighbour of 1 and 5).
"""

import keras
from keras import ops

from kerasbert.limits import SMOOTHING
from kerasbert.tasks import NUM_STARS


def neighbour_smoothed_targets(labels, epsilon, num_classes=NUM_STARS):
    """`(batch,)` int labels 0..C-1 -> `(batch, C)` float32 target distributions."""
    labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
    one_hot = ops.one_hot(labels, num_classes, dtype="float32")
    # one_hot of -1 or C is all zeros: the end stars have a single neighbour.
    neighbours = ops.one_hot(labels - 1, num_classes, dtype="float32") + ops.one_hot(labels + 1, num_classes,
                                                                                     dtype="float32")
    neighbours = neighbours / ops.sum(neighbours, axis=-1, keepdims=True)
    return (1.0 - epsilon) * one_hot + epsilon * neighbours


@keras.saving.register_keras_serializable(package="kerasbert")
class NeighbourSmoothedCrossentropy(keras.losses.Loss):
    """Cross-entropy of star probabilities against neighbour-smoothed targets, in float32.

    y_true: `(batch,)` or `(batch, 1)` int labels 0..4; y_pred: `(batch, 5)`
    probabilities. `epsilon=0` is sparse categorical cross-entropy.
    """

    def __init__(self, epsilon=0.1, name="neighbour_smoothed_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        SMOOTHING.check("epsilon", epsilon)
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        targets = neighbour_smoothed_targets(y_true, self.epsilon, num_classes=y_pred.shape[-1] or NUM_STARS)
        return keras.losses.categorical_crossentropy(targets, y_pred)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
