"""How much of an encoder trains: the modes, their checks, and where the trainable top starts.

One definition for both roads' `TransformerEncoder` and for the builders' argument checks.
"""

from kerasbert.errors import ArgumentError

TRAINABLE_MODES = ("frozen", "full", "top_k")


def check_mode(mode, top_k, num_layers=None):
    """`(mode, top_k)` with `top_k` an int (or None); an `ArgumentError` (a `ValueError`) for a bad pair.

    `mode="top_k"` needs `top_k >= 0`, and at most `num_layers` when the block count is known.
    """
    if mode not in TRAINABLE_MODES:
        raise ArgumentError("mode", "mode must be one of %s, got %r" % (", ".join(TRAINABLE_MODES), mode))
    if mode == "top_k":
        too_many = num_layers is not None and top_k is not None and not isinstance(top_k, bool) and int(top_k) > num_layers
        if top_k is None or isinstance(top_k, bool) or int(top_k) < 0 or too_many:
            bound = "top_k >= 0" if num_layers is None else "0 <= top_k <= %d (the blocks)" % num_layers
            raise ArgumentError("top_k", "mode='top_k' needs %s, got %r" % (bound, top_k))
    return mode, None if top_k is None else int(top_k)


def first_trainable_block(mode, top_k, num_layers):
    """Index of the lowest block that trains: 0 for `full`, `num_layers` when none does."""
    if mode == "full":
        return 0
    if mode == "top_k":
        return max(num_layers - top_k, 0)
    return num_layers
