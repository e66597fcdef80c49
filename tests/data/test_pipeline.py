"""Input pipeline: shapes, padding and masks, labels, bucketing, seeded shuffle, TPU mode, strategies."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import kerasbert  # noqa: F401
from kerasbert._backend import tf
from kerasbert.data import dataset_from_csv, make_dataset, per_replica_to_global
from kerasbert.data.pipeline import default_bucket_boundaries, resolve_tokenizer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def tok(minilm_model_dir):
    return resolve_tokenizer(minilm_model_dir)


def _texts(n):
    rng = np.random.RandomState(0)
    words = ["good", "bad", "movie", "plot", "actor", "boring", "great", "电影", "好看", "the"]
    return ["item%d " % i + " ".join(rng.choice(words, rng.randint(1, 60))) for i in range(n)]


def _collect(ds):
    out = []
    for features, labels in ds:
        out.append((features["input_ids"].numpy(), features["attention_mask"].numpy(), labels.numpy()))
    return out


def test_shapes_dtypes_and_no_token_type_ids(tok):
    ds = make_dataset(_texts(10), [1, 2, 3, 4, 5] * 2, tokenizer=tok, batch_size=4, max_length=32)
    features, labels = next(iter(ds))
    assert set(features) == {"input_ids", "attention_mask"}
    assert features["input_ids"].dtype == tf.int32 and features["attention_mask"].dtype == tf.int32
    assert labels.dtype == tf.int32
    assert features["input_ids"].shape.rank == 2 and features["input_ids"].shape == features["attention_mask"].shape


def test_padding_and_mask_match_the_tokenizer(tok):
    texts = _texts(37)
    ds = make_dataset(texts, [3] * 37, tokenizer=tok, batch_size=8, max_length=24, bucket_boundaries=[])
    expected = tok(texts, truncation=True, max_length=24)["input_ids"]
    row = 0
    for ids, mask, _ in _collect(ds):
        for r in range(ids.shape[0]):
            want = expected[row]
            assert mask[r].sum() == len(want)
            assert ids[r, : len(want)].tolist() == want
            assert (ids[r, len(want):] == tok.pad_token_id).all() and (mask[r, len(want):] == 0).all()
            row += 1
        # Dynamic padding: the batch is as long as its longest row.
        assert ids.shape[1] == mask.sum(axis=1).max()
    assert row == 37


def test_labels_classification_and_regression(tok):
    stars = [1, 2, 3, 4, 5, 5, 1]
    ds = make_dataset(_texts(7), stars, tokenizer=tok, batch_size=7, bucket_boundaries=[])
    assert next(iter(ds))[1].numpy().tolist() == [0, 1, 2, 3, 4, 4, 0]
    ds = make_dataset(_texts(7), stars, tokenizer=tok, task="regression", batch_size=7, bucket_boundaries=[])
    labels = next(iter(ds))[1]
    assert labels.dtype == tf.float32 and labels.numpy().tolist() == [float(s) for s in stars]


def test_unlabeled_gives_features_only(tok):
    ds = make_dataset(_texts(5), tokenizer=tok, batch_size=2)
    batch = next(iter(ds))
    assert isinstance(batch, dict) and set(batch) == {"input_ids", "attention_mask"}
    assert sum(int(b["input_ids"].shape[0]) for b in ds) == 5


def test_bucketing_pads_only_within_a_batch(tok):
    texts = _texts(300)
    bounds = [9, 17, 33]
    ds = make_dataset(texts, [1] * 300, tokenizer=tok, batch_size=16, max_length=64, bucket_boundaries=bounds)
    edges = [0] + bounds + [10 ** 9]
    total = 0
    for ids, mask, _ in _collect(ds):
        lengths = mask.sum(axis=1)
        assert ids.shape[1] == lengths.max()
        buckets = {np.searchsorted(edges, length, side="right") for length in lengths}
        assert len(buckets) == 1  # one length bucket per batch
        total += len(lengths)
    assert total == 300
    assert default_bucket_boundaries(128) == [17, 33, 65]


def test_seeded_shuffle_is_deterministic_and_reshuffles(tok):
    texts = _texts(50)

    def orders(seed):
        ds = make_dataset(texts, [1] * 50, tokenizer=tok, batch_size=50, max_length=16, shuffle=True,
                          seed=seed, bucket_boundaries=[])
        return [tuple(map(tuple, _collect(ds)[0][0][:, :3])) for _ in range(2)]

    first, again, other = orders(7), orders(7), orders(8)
    assert first == again  # same seed: same sequence of epochs
    assert first[0] != first[1]  # reshuffled each epoch
    assert first[0] != other[0]
    assert sorted(first[0]) == sorted(first[1])


def test_fixed_length_mode_for_tpu(tok):
    ds = make_dataset(_texts(70), [2] * 70, tokenizer=tok, batch_size=32, max_length=20, fixed_length=True)
    assert ds.element_spec[0]["input_ids"].shape.as_list() == [32, 20]
    assert ds.element_spec[1].shape.as_list() == [32]
    batches = _collect(ds)
    assert len(batches) == 2  # the remainder of 6 is dropped
    for ids, mask, _ in batches:
        assert ids.shape == (32, 20) and mask.shape == (32, 20)


def test_dataset_from_prepared_csv(tok, tmp_path):
    path = tmp_path / "train.csv"
    pd.DataFrame({"movie": ["a", "b", "c"], "star": [5, 1, 3], "comment": ["好看", "难看", "还行"],
                  "words": ["好看", "难看", "还行"]}).to_csv(path, index=False)
    ds = dataset_from_csv(path, tok, batch_size=3, bucket_boundaries=[])
    assert next(iter(ds))[1].numpy().tolist() == [4, 0, 2]


def test_global_batch_must_divide_over_replicas(tok):
    strategy = tf.distribute.get_strategy()
    assert per_replica_to_global(16, strategy) == 16
    with pytest.raises(ValueError, match="3 texts but 2 labels"):
        make_dataset(_texts(3), [1, 2], tokenizer=tok)


MIRRORED_SCRIPT = r"""
import kerasbert
from kerasbert._backend import tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kerasbert.data import make_dataset, per_replica_to_global
from kerasbert.data.pipeline import resolve_tokenizer
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
tok = resolve_tokenizer(%(tok)r)
glob = per_replica_to_global(4, strategy)
texts = ["movie %%d " %% i + "good " * (i %% 9) for i in range(40)]
try:
    make_dataset(texts, [1] * 40, tokenizer=tok, batch_size=7, strategy=strategy)
    print("NO_ERROR")
except ValueError as e:
    print("ERR", "divide evenly" in str(e))
for fixed in (True, False):
    ds = make_dataset(texts, [3] * 40, tokenizer=tok, batch_size=glob, max_length=16, fixed_length=fixed,
                      drop_remainder=True, strategy=strategy)
    dist = strategy.experimental_distribute_dataset(ds)
    sizes = set()
    for features, labels in dist:
        for part in strategy.experimental_local_results(features["input_ids"]):
            sizes.add(int(part.shape[0]))
        for part in strategy.experimental_local_results(labels):
            sizes.add(int(part.shape[0]))
    print("REPLICAS", strategy.num_replicas_in_sync, "GLOBAL", glob, "FIXED", fixed, "SIZES", sorted(sizes))
"""


def test_mirrored_strategy_two_cpus_gets_half_batches(minilm_model_dir):
    script = MIRRORED_SCRIPT % {"tok": minilm_model_dir}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERR True" in result.stdout
    assert "REPLICAS 2 GLOBAL 8 FIXED True SIZES [4]" in result.stdout
    assert "REPLICAS 2 GLOBAL 8 FIXED False SIZES [4]" in result.stdout


def test_cardinality_is_the_true_number_of_batches():
    """Keras' progress bars and step-level BackupAndRestore rely on it."""
    from kerasbert.data.pipeline import dataset_from_encoded

    rng = np.random.default_rng(0)
    for trial in range(12):
        n = int(rng.integers(1, 200))
        lengths = rng.integers(1, 100, size=n)
        batch = int(rng.integers(1, 40))
        fixed, drop = bool(trial % 2), bool(trial % 3 == 0)
        ds = dataset_from_encoded(
            np.ones(lengths.sum(), np.int32), lengths, (rng.integers(1, 6, size=n),), 0, batch, 100,
            shuffle=True, fixed_length=fixed, drop_remainder=drop, bucket_boundaries=[] if trial % 4 == 0 else None,
        )
        assert int(ds.cardinality()) == sum(1 for _ in ds)
