"""Mask helpers shared by the pooling and mixing layers."""

from kerasbert._backend import tf
from kerasbert.masks import first_mask, mask_fill_value  # noqa: F401  (first_mask re-exported)


def large_negative_number(dtype):
    """`kerasbert.masks.mask_fill_value` as a constant of `dtype`: finite, so a fully masked softmax is no NaN."""
    dtype = tf.as_dtype(dtype)
    return tf.constant(mask_fill_value(dtype.name), dtype=dtype)


def expand_mask(mask, like):
    """A (batch, time) mask as 0/1 of `like`'s dtype, shaped (batch, time, 1)."""
    return tf.cast(mask, like.dtype)[:, :, tf.newaxis]
