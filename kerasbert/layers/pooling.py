"""Plain poolings over a padded sequence: CLS, masked mean, masked max."""

from kerasbert._backend import keras, tf
from kerasbert.layers.masking import expand_mask, large_negative_number


@keras.saving.register_keras_serializable(package="kerasbert")
class CLSPooling(keras.layers.Layer):
    """The first token's vector. `(batch, time, hidden)` -> `(batch, hidden)`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return inputs[:, 0, :]

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="kerasbert")
class MaskedMeanPooling(keras.layers.Layer):
    """Mean over unmasked tokens. `(batch, time, hidden)` -> `(batch, hidden)`.

    The sum runs in float32, so long sequences do not lose precision under
    mixed precision.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        values = tf.cast(inputs, tf.float32)
        if mask is None:
            pooled = tf.reduce_mean(values, axis=1)
        else:
            weights = expand_mask(mask, values)
            total = tf.reduce_sum(values * weights, axis=1)
            pooled = total / tf.maximum(tf.reduce_sum(weights, axis=1), 1.0)
        return tf.cast(pooled, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="kerasbert")
class MaskedMaxPooling(keras.layers.Layer):
    """Max over unmasked tokens. `(batch, time, hidden)` -> `(batch, hidden)`.

    A row with no unmasked token (all padding) pools to zeros, as the masked
    mean does, rather than to the large negative fill value.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return tf.reduce_max(inputs, axis=1)
        keep = tf.cast(mask, tf.bool)[:, :, tf.newaxis]
        masked = tf.where(keep, inputs, large_negative_number(inputs.dtype))
        pooled = tf.reduce_max(masked, axis=1)
        has_tokens = tf.reduce_any(keep, axis=1)  # (batch, 1)
        return tf.where(has_tokens, pooled, tf.zeros_like(pooled))

    def compute_mask(self, inputs, mask=None):
        return None
