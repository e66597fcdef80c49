"""Errors raised while locating, reading, building or trimming checkpoints."""

from kerasbert.errors import KerasbertError


class CheckpointError(KerasbertError):
    """A checkpoint cannot be resolved, read or built; the message says why and what to do."""
