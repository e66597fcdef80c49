"""Mask rules both roads' layers share: the fill value per dtype, and one mask of many."""


def mask_fill_value(dtype_name):
    """A large negative value that is finite in the dtype named `dtype_name`.

    -1e9 overflows to -inf in float16 (max 65504), and -inf turns a fully
    masked row's softmax into NaN; so float16 gets -3e4 instead (bfloat16
    has float32's range).
    """
    return -3e4 if str(dtype_name) == "float16" else -1e9


def first_mask(mask):
    """Keras passes a list of masks for list inputs; they all mask the same tokens."""
    if isinstance(mask, (list, tuple)):
        for item in mask:
            if item is not None:
                return item
        return None
    return mask
