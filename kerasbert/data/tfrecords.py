"""Fixed-length tokenized examples in TFRecord shards (for TPU training).

Each example holds `input_ids` and `attention_mask` (int64, `max_length`
long, padded with the tokenizer's pad id / 0) and `label` (int64 0-4 for
classification, float 1-5 for regression). Shards are named
`{prefix}-00000-of-00004.tfrecord`; a JSON sidecar `{prefix}.json` beside
them records max_length, count, task, tokenizer and shard names. All paths
go through `tf.io.gfile`, so `gs://` works.

Writing a prefix again replaces its whole set: the new shards are written
into a hidden folder beside them, and only once all are there do the old
set's shards go (also those the new run does not produce, so a
`{prefix}-*.tfrecord` glob never reads two runs) and the new ones move in,
the sidecar last. Other files in the folder, other prefixes' sets included,
are left alone.
"""

import json
import os
import posixpath
import re
import uuid

import numpy as np

from kerasbert._backend import tf
from kerasbert.data.pipeline import encode_labels, encode_texts, pad_id, pad_token_ids, resolve_tokenizer, row_slices
from kerasbert.errors import ArgumentError, OutputError
from kerasbert.tasks import check_task
from kerasbert.utils.io import check_output_folder

__all__ = ["write_tfrecords", "tfrecord_dataset", "read_tfrecord_metadata", "shard_name"]

_SHARD_RE = re.compile(r"^(?P<prefix>.+)-\d{5}-of-\d{5}\.tfrecord$")


def shard_name(prefix, index, num_shards):
    return "%s-%05d-of-%05d.tfrecord" % (prefix, index, num_shards)


def _join(directory, name):
    return posixpath.join(directory, name) if "://" in directory else os.path.join(directory, name)


def _set_pattern(prefix):
    """The names of one prefix's shards (the set the sidecar describes), and nothing else."""
    return re.compile(r"^%s-\d{5}-of-\d{5}\.tfrecord$" % re.escape(prefix))


def _old_set(out_dir, prefix):
    """Names of `prefix`'s shards in `out_dir` now; `OutputError` where one of them, or the sidecar, is a folder."""
    if not tf.io.gfile.isdir(out_dir):
        return []
    pattern = _set_pattern(prefix)
    names = [name.rstrip("/") for name in tf.io.gfile.listdir(out_dir)]
    shards = sorted(name for name in names if pattern.match(name))
    folders = [name for name in shards + [prefix + ".json"] if tf.io.gfile.isdir(_join(out_dir, name))]
    if folders:
        raise OutputError("%s: %s is a folder where a TFRecord file goes; nothing was written"
                          % (out_dir, ", ".join(folders)))
    return shards


def _check_output(out_dir, prefix):
    """Refuse, before any work, an output that is a file (or under one) or that holds folders by the set's names."""
    if not prefix or "/" in prefix or os.sep in prefix or prefix.startswith("."):
        # A name inside `out_dir`: a path would write (and replace shards) somewhere else.
        raise ArgumentError("prefix", "the shard prefix must be a plain file name, got %r" % (prefix,))
    if "://" not in out_dir:
        check_output_folder(out_dir, follow_links=True)  # shards go into the folder; the folder is not replaced
    elif tf.io.gfile.exists(out_dir) and not tf.io.gfile.isdir(out_dir):
        raise OutputError("%s: exists and is not a folder; it is left as it is (give a folder path)" % out_dir)
    _old_set(out_dir, prefix)


def _int_feature(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def write_tfrecords(texts, labels, tokenizer, out_dir, prefix="train", max_length=128, task="classification",
                    num_shards=None, examples_per_shard=50000, tokenizer_name=None, progress=None):
    """Tokenize, pad to `max_length` and write TFRecord shards + `{prefix}.json`.

    `labels`: stars 1-5 (validated) or None. The set replaces an earlier one
    of the same prefix as a whole (see the module doc); the sidecar is
    written last. Missing parent folders are created; an output that is a
    file raises `OutputError`. Returns the sidecar dict.
    """
    check_task(task)
    out_dir = os.fspath(out_dir)
    _check_output(out_dir, prefix)  # before tokenizing: a wrong output costs no time
    spec = tokenizer if isinstance(tokenizer, str) else None
    tokenizer = resolve_tokenizer(tokenizer)
    texts = list(texts)
    label_array = encode_labels(labels, task) if labels is not None else None
    if label_array is not None and len(label_array) != len(texts):
        raise ValueError("%d texts but %d labels" % (len(texts), len(label_array)))
    flat, lengths = encode_texts(texts, tokenizer, max_length=max_length, progress=progress)
    pad = pad_id(tokenizer)
    n = len(lengths)
    if num_shards is None:
        num_shards = max(1, int(np.ceil(n / float(examples_per_shard))))
    num_shards = max(1, min(int(num_shards), max(n, 1)))
    tf.io.gfile.makedirs(out_dir)
    rows = row_slices(flat, lengths)
    names = [shard_name(prefix, shard, num_shards) for shard in range(num_shards)]
    # Beside the shards (same file system: renames, not copies); hidden, so no shard glob matches it.
    staging = _join(out_dir, ".%s.%s.partial" % (prefix, uuid.uuid4().hex[:12]))
    tf.io.gfile.makedirs(staging)
    try:
        for shard, name in enumerate(names):
            with tf.io.TFRecordWriter(_join(staging, name)) as writer:
                for i in range(shard, n, num_shards):
                    padded = pad_token_ids([rows[i]], pad, width=max_length)
                    feature = {key: _int_feature(padded[key][0]) for key in ("input_ids", "attention_mask")}
                    if label_array is not None:
                        if task == "classification":
                            feature["label"] = _int_feature([int(label_array[i])])
                        else:
                            feature["label"] = tf.train.Feature(
                                float_list=tf.train.FloatList(value=[float(label_array[i])]))
                    writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
        # Every new shard is complete: swap the sets. The sidecar goes first and comes back last, so
        # while it is missing a reader knows the set is being replaced.
        sidecar = _join(out_dir, prefix + ".json")
        if tf.io.gfile.exists(sidecar):
            tf.io.gfile.remove(sidecar)
        for stale in sorted(set(_old_set(out_dir, prefix)) - set(names)):
            tf.io.gfile.remove(_join(out_dir, stale))
        for name in names:
            tf.io.gfile.rename(_join(staging, name), _join(out_dir, name), overwrite=True)
    finally:
        if tf.io.gfile.exists(staging):
            tf.io.gfile.rmtree(staging)
    meta = {
        "prefix": prefix,
        "count": int(n),
        "max_length": int(max_length),
        "task": task,
        "has_labels": label_array is not None,
        "label_encoding": ("star - 1 (0-4)" if task == "classification" else "star (1.0-5.0)")
        if label_array is not None else None,
        "tokenizer": tokenizer_name or spec or getattr(tokenizer, "name_or_path", type(tokenizer).__name__),
        "pad_token_id": pad,
        "vocab_size": int(getattr(tokenizer, "vocab_size", 0) or 0),
        "num_shards": num_shards,
        "shards": names,
        "truncated": int((lengths >= max_length).sum()),
        "order": "example i is in shard i % num_shards",
    }
    sidecar = _join(out_dir, prefix + ".json")
    tmp = sidecar + ".tmp-%d" % os.getpid()
    with tf.io.gfile.GFile(tmp, "w") as handle:
        handle.write(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    tf.io.gfile.rename(tmp, sidecar, overwrite=True)
    return meta


def read_tfrecord_metadata(path_or_pattern):
    """The sidecar dict for a shard path / pattern / sidecar path, or None."""
    path = str(path_or_pattern)
    if path.endswith(".json"):
        candidates = [path]
    else:
        files = sorted(tf.io.gfile.glob(path))
        candidates = []
        for f in files[:1]:
            match = _SHARD_RE.match(posixpath.basename(f))
            if match:
                candidates.append(_join(posixpath.dirname(f) if "://" in f else os.path.dirname(f),
                                        match.group("prefix") + ".json"))
    for candidate in candidates:
        if tf.io.gfile.exists(candidate):
            with tf.io.gfile.GFile(candidate, "r") as handle:
                return json.loads(handle.read())
    return None


def tfrecord_dataset(file_pattern, max_length, task="classification", batch_size=32, shuffle=False, seed=0,
                     drop_remainder=True, repeat=False, with_labels=True, shuffle_buffer=10000,
                     num_parallel_reads=None):
    """Dataset of ({"input_ids", "attention_mask"}: int32 (B, max_length), label) batches.

    Static shapes (drop_remainder=True by default): suitable for TPU.
    Labels: int32 0-4 (classification) or float32 (regression). When a
    sidecar JSON is found, its max_length and task must match.
    """
    check_task(task)
    files = sorted(tf.io.gfile.glob(file_pattern))
    if not files:
        raise FileNotFoundError("no TFRecord files match %r" % (file_pattern,))
    meta = read_tfrecord_metadata(file_pattern)
    if meta is not None:
        if int(meta["max_length"]) != int(max_length):
            raise ValueError("%s: shards were written with max_length=%s, not %s"
                             % (file_pattern, meta["max_length"], max_length))
        if with_labels and meta.get("has_labels") and meta["task"] != task:
            raise ValueError("%s: shards hold %s labels, not %s" % (file_pattern, meta["task"], task))
        if with_labels and not meta.get("has_labels", True):
            raise ValueError("%s: shards have no labels; pass with_labels=False" % file_pattern)
    spec = {
        "input_ids": tf.io.FixedLenFeature([max_length], tf.int64),
        "attention_mask": tf.io.FixedLenFeature([max_length], tf.int64),
    }
    if with_labels:
        spec["label"] = tf.io.FixedLenFeature([], tf.int64 if task == "classification" else tf.float32)

    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(len(files), 8),
                       num_parallel_calls=num_parallel_reads or tf.data.AUTOTUNE, deterministic=True)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def parse(serialized):
        ex = tf.io.parse_example(serialized, spec)
        features = {"input_ids": tf.cast(ex["input_ids"], tf.int32),
                    "attention_mask": tf.cast(ex["attention_mask"], tf.int32)}
        if not with_labels:
            return features
        label = ex["label"]
        label = tf.cast(label, tf.int32) if task == "classification" else label
        return features, label

    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
