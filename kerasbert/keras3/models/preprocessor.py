"""Raw texts -> token ids on the Keras 3 road: the Hugging Face `tokenizer.json` inside the model.

The tokenizer is the checkpoint's own `tokenizer.json`, run by the
`tokenizers` library (Rust, no TensorFlow, no transformers), so a Keras 3
model tokenises exactly as the tf-keras road's Hugging Face tokenizer does.
(keras-hub's own XLM-R tokenizer is a sentencepiece model; multilingual-e5's
`tokenizer.json` adds a pre-tokenizer that a rebuilt sentencepiece model
does not reproduce, so kerasbert carries the JSON itself.)

Batches come from `TextBatches`, a `keras.utils.PyDataset` of NumPy arrays
that every backend reads: training batches group rows of one length bucket
(`kerasbert.data.encoding.bucketed_batches`, reshuffled each epoch, with the
per-title cap of `kerasbert.data.title_sampling`); prediction batches keep
the input order.
"""

import json
import os

import keras
import numpy as np

from kerasbert.data.encoding import (
    as_text,
    bucketed_batches,
    default_bucket_boundaries,
    encode_labels,
    encode_texts,
    pad_id,
    pad_token_ids,
    padded_width,
    row_slices,
)
from kerasbert.data.title_sampling import TitleSampling
from kerasbert.defaults import DEFAULT_BATCH_SIZE, DEFAULT_MAX_LENGTH
from kerasbert.errors import CheckpointError
from kerasbert.limits import TOKENS_PER_TEXT
from kerasbert.rating_task import as_text_list, is_raw_text  # noqa: F401  (re-exported)
from kerasbert.tasks import check_task

__all__ = ["JsonTokenizer", "RatingPreprocessor", "TextBatches", "for_backend", "is_raw_text"]

TOKENIZER_FILE = "tokenizer.json"
SPECIAL_TOKENS_FILE = "special_tokens_map.json"


def _pad_token(folder):
    """The pad token named by a Hugging Face folder's special-tokens files, or None."""
    for name in (SPECIAL_TOKENS_FILE, "tokenizer_config.json"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                token = json.load(handle).get("pad_token")
            if isinstance(token, dict):
                token = token.get("content")
            if token:
                return token
    return None


class JsonTokenizer:
    """A `tokenizers.Tokenizer` from `tokenizer.json` with the calls `kerasbert.data.encoding` makes.

    Args:
        tokenizer_json: the text of a Hugging Face `tokenizer.json`.
        pad_token: the padding token (its id pads batches).
    """

    is_fast = True

    def __init__(self, tokenizer_json, pad_token=None):
        from tokenizers import Tokenizer

        self.tokenizer_json = tokenizer_json
        self.pad_token = pad_token
        self.backend = Tokenizer.from_str(tokenizer_json)
        self.backend.no_padding()
        self._pad = None if pad_token is None else self.backend.token_to_id(pad_token)

    @classmethod
    def from_folder(cls, folder):
        """The tokenizer of a checkpoint folder (a kerasbert spec's folder, its keras-hub files, a trimmed copy)."""
        path = os.path.join(folder, TOKENIZER_FILE)
        if not os.path.isfile(path):
            raise CheckpointError("%s: no %s; the Keras 3 road needs a checkpoint's Hugging Face fast tokenizer"
                                  % (folder, TOKENIZER_FILE))
        with open(path, encoding="utf-8") as handle:
            return cls(handle.read(), _pad_token(folder))

    @property
    def pad_token_id(self):
        return self._pad

    def __call__(self, texts, truncation=True, max_length=None, add_special_tokens=True,
                 return_offsets_mapping=False, **unused):
        if truncation and max_length:
            self.backend.enable_truncation(int(max_length))
        else:
            self.backend.no_truncation()
        encodings = self.backend.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        encoded = {"input_ids": [encoding.ids for encoding in encodings]}
        if return_offsets_mapping:
            encoded["offset_mapping"] = [encoding.offsets for encoding in encodings]
        return encoded

    def convert_ids_to_tokens(self, ids):
        return [self.backend.id_to_token(int(i)) for i in ids]

    def save(self, folder):
        with open(os.path.join(folder, TOKENIZER_FILE), "w", encoding="utf-8") as handle:
            handle.write(self.tokenizer_json)
        with open(os.path.join(folder, SPECIAL_TOKENS_FILE), "w", encoding="utf-8") as handle:
            json.dump({"pad_token": self.pad_token}, handle)


def resolve_json_tokenizer(tokenizer):
    """A `JsonTokenizer` as is, or one read from a checkpoint: a kerasbert spec, a folder, or a hub id."""
    if isinstance(tokenizer, JsonTokenizer):
        return tokenizer
    if isinstance(tokenizer, (str, os.PathLike)):
        from kerasbert.checkpoints import resolve_checkpoint
        from kerasbert.checkpoints.registry import find_builtin
        from kerasbert.checkpoints.keras_hub_files import hub_tokenizer_folder

        name = os.fspath(tokenizer)
        if os.path.isdir(name):
            folder = name
        elif find_builtin(name) is None and (name.startswith("hf://") or "/" in name):
            folder = hub_tokenizer_folder(name)  # a hub id, where a hub is reachable
        else:
            folder = resolve_checkpoint(name)
        if not os.path.isdir(folder):
            raise CheckpointError("%s: the Keras 3 road reads its tokenizer from a local folder or a kerasbert "
                                  "spec; pass tokenizer=JsonTokenizer(...)" % (tokenizer,))
        return JsonTokenizer.from_folder(folder)
    raise TypeError("tokenizer must be a JsonTokenizer, a kerasbert spec or a folder, got %r" % (tokenizer,))


class TextBatches(keras.utils.PyDataset):
    """Batches of `({"input_ids", "attention_mask"}, targets...)` from encoded texts, as NumPy arrays.

    Args:
        rows: token-id arrays, one per text (`row_slices(*encode_texts(...))`).
        pad: the padding id.
        targets: per-row arrays (labels, and sample weights), or ().
        batch_size: rows per batch (the global batch under a distribution).
        shuffle: training order: length buckets, reshuffled every epoch;
            else the input order.
        seed: the shuffle's seed.
        sampling: a `TitleSampling` (at most N rows per title per epoch).
        fixed_length: every batch `(batch_size, max_length)`, partial batches
            dropped (static shapes, for TPUs).
        max_length: the padded width with `fixed_length`.
    """

    def __init__(self, rows, pad, targets=(), batch_size=DEFAULT_BATCH_SIZE, shuffle=False, seed=0, sampling=None,
                 fixed_length=False, max_length=DEFAULT_MAX_LENGTH, bucket_boundaries=None):
        super().__init__()
        self.rows, self.pad, self.targets = rows, int(pad), tuple(targets)
        self.batch_size, self.shuffle, self.sampling = int(batch_size), bool(shuffle), sampling
        self.fixed_length, self.max_length = bool(fixed_length), int(max_length)
        self.lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
        self.boundaries = [] if fixed_length else (
            default_bucket_boundaries(max_length) if bucket_boundaries is None else list(bucket_boundaries))
        self.rng = np.random.default_rng(seed)
        self.epoch_batches = self._plan()

    def _plan(self):
        if not self.shuffle:
            order = np.arange(len(self.rows))
            stop = len(order) - len(order) % self.batch_size if self.fixed_length else len(order)
            return [order[start:start + self.batch_size] for start in range(0, stop, self.batch_size)]
        rows = self.sampling.draw(self.rng) if self.sampling is not None else np.arange(len(self.rows))
        batches = bucketed_batches(self.lengths[rows], self.batch_size, self.boundaries, self.rng,
                                   drop_remainder=self.fixed_length)
        return [rows[batch] for batch in batches]

    def __len__(self):
        return len(self.epoch_batches)

    def __getitem__(self, index):
        batch = self.epoch_batches[index]
        # Widths rounded up to a multiple of 16: few shapes, so XLA compiles few programs.
        width = self.max_length if self.fixed_length else padded_width(self.lengths[batch].max(), self.max_length)
        features = pad_token_ids([self.rows[i] for i in batch], self.pad, width=width)
        if not self.targets:
            return features
        return (features,) + tuple(column[batch] for column in self.targets)

    def on_epoch_end(self):
        if self.shuffle:
            self.epoch_batches = self._plan()

    def for_backend(self):
        return for_backend(self)


def for_backend(batches):
    """`batches` (a `PyDataset`); on the TensorFlow backend a `tf.data.Dataset` over it with dynamic batch and time.

    (Keras 3 turns a `PyDataset` into a `tf.data` generator whose shapes it
    guesses from the first batches, and then refuses batches of another width.)
    """
    if keras.backend.backend() != "tensorflow":
        return batches
    import tensorflow as tf

    def spec(array, dynamic):
        array = np.asarray(array)
        return tf.TensorSpec((None,) * dynamic + array.shape[dynamic:], tf.as_dtype(array.dtype))

    def signature(element):
        if isinstance(element, dict):
            return {name: spec(value, 2) for name, value in element.items()}  # (batch, time, ...)
        return tuple(signature(part) for part in element) if isinstance(element, tuple) else spec(element, 1)

    def generate():
        for index in range(len(batches)):
            yield batches[index]
        batches.on_epoch_end()

    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature(batches[0]))
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))


@keras.saving.register_keras_serializable(package="kerasbert")
class RatingPreprocessor(keras.layers.Layer):
    """Raw texts -> `{"input_ids", "attention_mask"}`; stars 1-5 -> task labels (Keras 3).

    Holds a `JsonTokenizer` and `max_length`. The tokenizer is saved into
    the `.keras` archive's assets (`save_assets` / `load_assets`), so
    `keras.saving.load_model(path)` (safe mode on) gives it back.

    Args:
        tokenizer: a `JsonTokenizer`, or a kerasbert spec or folder.
        task: `"classification"` or `"regression"`.
        max_length: the longest token sequence kept, special tokens included.
    """

    def __init__(self, tokenizer=None, task="classification", max_length=DEFAULT_MAX_LENGTH, **kwargs):
        super().__init__(**kwargs)
        self.task = check_task(task)
        TOKENS_PER_TEXT.check("max_length", max_length)
        self.max_length = int(max_length)
        self.tokenizer = None if tokenizer is None else resolve_json_tokenizer(tokenizer)
        self.built = True

    def _require_tokenizer(self):
        if self.tokenizer is None:
            raise ValueError("RatingPreprocessor %r has no tokenizer: pass one, or load a saved model with "
                             "keras.saving.load_model" % self.name)
        return self.tokenizer

    def encode(self, texts, progress=False):
        """Token-id rows (special tokens added, truncated at `max_length`) of the texts."""
        texts = [as_text(text, index) for index, text in enumerate(as_text_list(texts))]
        return row_slices(*encode_texts(texts, self._require_tokenizer(), max_length=self.max_length,
                                        progress=progress))

    def __call__(self, texts, stars=None):
        """Tokenise (and encode labels) eagerly in Python: a dict of int32 arrays (and the labels)."""
        x = pad_token_ids(self.encode(texts), pad_id(self._require_tokenizer()))
        if stars is None:
            return x
        labels = encode_labels(stars, self.task)
        if len(labels) != len(x["input_ids"]):
            raise ValueError("%d texts but %d star labels" % (len(x["input_ids"]), len(labels)))
        return x, labels

    def dataset(self, texts, stars=None, batch_size=DEFAULT_BATCH_SIZE, shuffle=False, seed=0, titles=None,
                rows_per_title=None, sample_weights=None, fixed_length=False, progress=None):
        """A `TextBatches` of `(inputs, labels[, weights])` (or inputs) from raw texts, for `fit` and `evaluate`.

        On the TensorFlow backend, a `tf.data.Dataset` over it (`TextBatches.for_backend`).
        """
        rows = self.encode(texts, progress=progress)
        targets = ()
        if stars is not None:
            labels = encode_labels(stars, self.task)
            if len(labels) != len(rows):
                raise ValueError("%d texts but %d star labels" % (len(rows), len(labels)))
            targets = (labels,)
            if sample_weights is not None:
                targets += (np.asarray(sample_weights, np.float32).reshape(-1),)
        sampling = None
        if rows_per_title is not None:
            boundaries = [] if fixed_length else default_bucket_boundaries(self.max_length)
            sampling = TitleSampling.build(list(titles), [len(r) for r in rows], rows_per_title, boundaries)
        return TextBatches(rows, pad_id(self._require_tokenizer()), targets, batch_size, shuffle=shuffle, seed=seed,
                           sampling=sampling, fixed_length=fixed_length, max_length=self.max_length).for_backend()

    def call(self, inputs):
        raise TypeError("RatingPreprocessor runs in Python: call it on a list of texts")

    def save_assets(self, dir_path):
        self._require_tokenizer().save(dir_path)

    def load_assets(self, dir_path):
        self.tokenizer = JsonTokenizer.from_folder(dir_path)

    def get_config(self):
        config = super().get_config()
        config.update(task=self.task, max_length=self.max_length)
        return config
