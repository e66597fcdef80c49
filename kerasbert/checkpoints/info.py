"""Facts about a checkpoint: architecture, vocabulary, parameters, location."""

import json
import math
import os

from kerasbert.errors import CheckpointError
from kerasbert.checkpoints.registry import MANIFEST, find_builtin, load_tokenizer, read_manifest, resolve_checkpoint
from kerasbert.utils.io import disk_bytes

TRIM_RECORD = "kerasbert-trim.json"


def _h5_parameters(path):
    """Sum of all weight sizes in a Keras h5 file, without building the model."""
    import h5py

    total = 0

    def visit(_, obj):
        nonlocal total
        if isinstance(obj, h5py.Dataset):
            total += int(obj.size)

    with h5py.File(path, "r") as handle:
        handle.visititems(visit)
    return total


def _safetensors_parameters(path):
    from kerasbert.checkpoints.minilm import check_safetensors

    header = check_safetensors(path)
    return sum(
        math.prod(meta["shape"])
        for name, meta in header.items()
        if name != "__metadata__" and not name.endswith("position_ids")  # a buffer, not a weight
    )


def count_parameters(path):
    """Parameter count of a checkpoint folder (or hub id: builds the model)."""
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, "tf_model.h5")):
            return _h5_parameters(os.path.join(path, "tf_model.h5"))
        if os.path.isfile(os.path.join(path, "model.safetensors")):
            return _safetensors_parameters(os.path.join(path, "model.safetensors"))
    from kerasbert._backend import tf  # noqa: F401
    from transformers import TFAutoModel

    return int(TFAutoModel.from_pretrained(path).count_params())


def checkpoint_info(spec, progress=True):
    """Dict describing `spec` (built first if it is a built-in)."""
    from transformers import AutoConfig

    path = resolve_checkpoint(spec, progress=progress)
    try:
        config = AutoConfig.from_pretrained(path)
        tokenizer = load_tokenizer(path)
    except (OSError, ValueError) as error:
        raise CheckpointError("cannot load checkpoint %r from %s: %s" % (spec, path, error))
    info = {
        "spec": os.fspath(spec),
        "path": os.path.abspath(path) if os.path.isdir(path) else path,
        "builtin": find_builtin(spec) is not None,
        "architecture": (config.architectures or [type(config).__name__])[0],
        "model_type": config.model_type,
        "hidden_size": getattr(config, "hidden_size", None),
        "layers": getattr(config, "num_hidden_layers", None),
        "heads": getattr(config, "num_attention_heads", None),
        "max_positions": getattr(config, "max_position_embeddings", None),
        "vocab_size": len(tokenizer),
        "embedding_rows": getattr(config, "vocab_size", None),
        "tokenizer_class": type(tokenizer).__name__,
        "parameters": count_parameters(path),
    }
    if os.path.isdir(path):
        info["disk_bytes"] = disk_bytes(path)
        manifest = read_manifest(path)
        if manifest:
            info["built_from"] = manifest.get("source")
        record = os.path.join(path, TRIM_RECORD)
        if os.path.isfile(record):
            with open(record, encoding="utf-8") as handle:
                trim = json.load(handle)
            info["trimmed_from"] = trim.get("source_spec")
            info["original_vocab_size"] = trim.get("original_vocab_size")
    return info


def format_info(info):
    """Human-readable lines for `kerasbert checkpoint info`."""
    lines = [
        "checkpoint:     %s" % info["spec"],
        "location:       %s" % info["path"],
        "architecture:   %s (%s), %s layers, hidden %s, %s heads"
        % (info["architecture"], info["model_type"], info["layers"], info["hidden_size"], info["heads"]),
        "vocabulary:     %d tokens (%s; embedding rows %s)"
        % (info["vocab_size"], info["tokenizer_class"], info["embedding_rows"]),
        "parameters:     %d (%.1fM)" % (info["parameters"], info["parameters"] / 1e6),
        "max positions:  %s" % info["max_positions"],
    ]
    if "disk_bytes" in info:
        lines.append("size on disk:   %.1f MB" % (info["disk_bytes"] / 1e6))
    if info.get("built_from"):
        lines.append("built from:     %s" % info["built_from"])
    if info.get("trimmed_from"):
        lines.append("trimmed from:   %s (vocabulary %s)" % (info["trimmed_from"], info["original_vocab_size"]))
    return "\n".join(lines)


__all__ = ["checkpoint_info", "count_parameters", "format_info", "MANIFEST", "TRIM_RECORD"]
