"""Mask helpers shared by the Keras 3 pooling and mixing layers."""

import keras
from keras import ops

from kerasbert.masks import first_mask, mask_fill_value  # noqa: F401  (first_mask re-exported)


def large_negative_number(dtype):
    """`kerasbert.masks.mask_fill_value` for `dtype` (a Python float; finite, so a fully masked softmax is no NaN)."""
    return mask_fill_value(keras.backend.standardize_dtype(dtype))


def expand_mask(mask, dtype):
    """A (batch, time) mask as 0/1 of `dtype`, shaped (batch, time, 1)."""
    return ops.expand_dims(ops.cast(mask, dtype), -1)
