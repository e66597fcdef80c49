"""Errors raised while locating, reading, building or trimming checkpoints."""


class CheckpointError(Exception):
    """A checkpoint cannot be resolved, read or built; the message says why and what to do."""
