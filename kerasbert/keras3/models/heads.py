"""Output layers of the rating heads (Keras 3)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerasbert")
class ScaledSigmoid(keras.layers.Layer):
    """`low + (high - low) * sigmoid(x)`, in float32: a score inside [low, high]."""

    def __init__(self, low=1.0, high=5.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if not high > low:
            raise ValueError("high must be above low, got low=%r high=%r" % (low, high))
        self.low = float(low)
        self.high = float(high)

    def call(self, inputs):
        return self.low + (self.high - self.low) * ops.sigmoid(ops.cast(inputs, "float32"))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(low=self.low, high=self.high)
        return config
