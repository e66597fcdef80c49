"""TFRecord shards: write then read gives back the tokenized inputs; sidecar; CLI."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import kerasbert  # noqa: F401
from kerasbert.data import read_tfrecord_metadata, tfrecord_dataset, write_tfrecords
from kerasbert.data.pipeline import resolve_tokenizer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


TEXTS = ["movie %d " % i + "very good " * (i % 13) + "电影好看" for i in range(45)]
STARS = [i % 5 + 1 for i in range(45)]


def _expected(tok, max_length):
    enc = tok(TEXTS, truncation=True, max_length=max_length, padding="max_length")
    return np.array(enc["input_ids"]), np.array(enc["attention_mask"])


def test_round_trip_classification(tmp_path, minilm_model_dir):
    tok = resolve_tokenizer(minilm_model_dir)
    meta = write_tfrecords(TEXTS, STARS, tok, str(tmp_path), prefix="train", max_length=16, num_shards=3,
                           tokenizer_name="minilm")
    assert meta["count"] == 45 and meta["num_shards"] == 3 and meta["task"] == "classification"
    assert sorted(os.listdir(tmp_path)) == ["train-00000-of-00003.tfrecord", "train-00001-of-00003.tfrecord",
                                            "train-00002-of-00003.tfrecord", "train.json"]
    assert read_tfrecord_metadata(str(tmp_path / "train-*.tfrecord"))["tokenizer"] == "minilm"
    ds = tfrecord_dataset(str(tmp_path / "train-*.tfrecord"), max_length=16, batch_size=15)
    assert ds.element_spec[0]["input_ids"].shape.as_list() == [15, 16]
    ids, mask, labels = [], [], []
    for features, label in ds:
        assert features["input_ids"].dtype.name == "int32" and label.dtype.name == "int32"
        ids.append(features["input_ids"].numpy())
        mask.append(features["attention_mask"].numpy())
        labels.append(label.numpy())
    want_ids, want_mask = _expected(tok, 16)
    # Interleaving the shards restores the original order (example i in shard i % 3).
    np.testing.assert_array_equal(np.concatenate(ids), want_ids)
    np.testing.assert_array_equal(np.concatenate(mask), want_mask)
    assert np.concatenate(labels).tolist() == [s - 1 for s in STARS]


def test_regression_drop_remainder_and_checks(tmp_path, minilm_model_dir):
    tok = resolve_tokenizer(minilm_model_dir)
    write_tfrecords(TEXTS, STARS, tok, str(tmp_path), prefix="val", max_length=12, task="regression")
    ds = tfrecord_dataset(str(tmp_path / "val-*"), max_length=12, task="regression", batch_size=20)
    batches = list(ds)
    assert len(batches) == 2  # 45 // 20, remainder dropped
    assert batches[0][1].dtype.name == "float32" and batches[0][1].numpy()[:3].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="max_length=12, not 16"):
        tfrecord_dataset(str(tmp_path / "val-*"), max_length=16, task="regression")
    with pytest.raises(ValueError, match="regression labels, not classification"):
        tfrecord_dataset(str(tmp_path / "val-*"), max_length=12)
    with pytest.raises(FileNotFoundError, match="no TFRecord files"):
        tfrecord_dataset(str(tmp_path / "nothing-*"), max_length=12)


def test_make_tfrecords_cli(tmp_path, minilm_model_dir):
    csv_path = tmp_path / "test.csv"
    pd.DataFrame({"movie": ["m"] * 45, "star": STARS, "comment": TEXTS, "words": TEXTS}).to_csv(csv_path, index=False)
    out = tmp_path / "records"
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "data_scripts", "make_tfrecords.py"), "--input", str(csv_path),
         "--tokenizer", minilm_model_dir, "--out", str(out), "--max-length", "16", "--num-shards", "2", "--quiet"],
        capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads((out / "test.json").read_text())
    assert meta["count"] == 45 and meta["max_length"] == 16 and meta["tokenizer"] == minilm_model_dir
    ds = tfrecord_dataset(str(out / "test-*.tfrecord"), max_length=16, batch_size=45)
    features, labels = next(iter(ds))
    want_ids, _ = _expected(resolve_tokenizer(minilm_model_dir), 16)
    np.testing.assert_array_equal(features["input_ids"].numpy(), want_ids)
