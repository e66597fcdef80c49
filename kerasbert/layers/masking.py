"""Mask helpers shared by the pooling and mixing layers."""

from kerasbert._backend import tf


def large_negative_number(dtype):
    """A large negative value that is finite in `dtype`.

    -1e9 overflows to -inf in float16 (max 65504), and -inf turns a fully
    masked row's softmax into NaN; so float16 gets -3e4 instead.
    """
    dtype = tf.as_dtype(dtype)
    if dtype == tf.float16:
        return tf.constant(-3e4, dtype=dtype)
    return tf.constant(-1e9, dtype=dtype)


def expand_mask(mask, like):
    """A (batch, time) mask as 0/1 of `like`'s dtype, shaped (batch, time, 1)."""
    return tf.cast(mask, like.dtype)[:, :, tf.newaxis]


def first_mask(mask):
    """Keras passes a list of masks for list inputs; they all mask the same tokens."""
    if isinstance(mask, (list, tuple)):
        for item in mask:
            if item is not None:
                return item
        return None
    return mask
