"""Output layers of the rating heads."""

from kerasbert._backend import keras, tf


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
        return self.low + (self.high - self.low) * tf.sigmoid(tf.cast(inputs, tf.float32))

    def get_config(self):
        config = super().get_config()
        config.update(low=self.low, high=self.high)
        return config
