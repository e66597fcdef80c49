"""Mask helpers shared by the Keras 3 pooling and mixing layers."""

from keras import ops


def large_negative_number(dtype):
    """A large negative value that is finite in `dtype`.

    -1e9 overflows to -inf in float16 (max 65504), and -inf turns a fully
    masked row's softmax into NaN; so float16 gets -3e4 instead.
    """
    return -3e4 if str(dtype).endswith("float16") and "bfloat" not in str(dtype) else -1e9


def expand_mask(mask, dtype):
    """A (batch, time) mask as 0/1 of `dtype`, shaped (batch, time, 1)."""
    return ops.expand_dims(ops.cast(mask, dtype), -1)


def first_mask(mask):
    """Keras passes a list of masks for list inputs; they all mask the same tokens."""
    if isinstance(mask, (list, tuple)):
        for item in mask:
            if item is not None:
                return item
        return None
    return mask
