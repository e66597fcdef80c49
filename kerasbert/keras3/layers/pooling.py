"""Plain poolings over a padded sequence (Keras 3): CLS, masked mean, masked max."""

import keras
from keras import ops

from kerasbert.keras3.layers.masking import expand_mask, large_negative_number


class _Pooling(keras.layers.Layer):
    """`(batch, time, hidden)` -> `(batch, hidden)`; consumes the mask."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package="kerasbert")
class CLSPooling(_Pooling):
    """The first token's vector. `(batch, time, hidden)` -> `(batch, hidden)`."""

    def call(self, inputs, mask=None):
        return inputs[:, 0, :]


@keras.saving.register_keras_serializable(package="kerasbert")
class MaskedMeanPooling(_Pooling):
    """Mean over unmasked tokens. `(batch, time, hidden)` -> `(batch, hidden)`.

    The sum runs in float32, so long sequences do not lose precision under
    mixed precision.
    """

    def call(self, inputs, mask=None):
        values = ops.cast(inputs, "float32")
        if mask is None:
            pooled = ops.mean(values, axis=1)
        else:
            weights = expand_mask(mask, "float32")
            pooled = ops.sum(values * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        return ops.cast(pooled, self.compute_dtype)


@keras.saving.register_keras_serializable(package="kerasbert")
class MaskedMaxPooling(_Pooling):
    """Max over unmasked tokens. `(batch, time, hidden)` -> `(batch, hidden)`.

    A row with no unmasked token (all padding) pools to zeros, as the masked
    mean does, rather than to the large negative fill value.
    """

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.max(inputs, axis=1)
        keep = ops.expand_dims(ops.cast(mask, "bool"), -1)
        fill = ops.cast(large_negative_number(inputs.dtype), inputs.dtype)
        pooled = ops.max(ops.where(keep, inputs, fill), axis=1)
        has_tokens = ops.any(keep, axis=1)  # (batch, 1)
        return ops.where(has_tokens, pooled, ops.zeros_like(pooled))
