"""Raw texts -> token ids, stars -> task labels: the tokenizer a `RatingModel` carries."""

from kerasbert._backend import keras
from kerasbert.checkpoints import load_tokenizer
from kerasbert.data.pipeline import (
    as_text,
    encode_labels,
    encode_texts,
    make_dataset,
    pad_id,
    pad_token_ids,
    resolve_tokenizer,
    row_slices,
)
from kerasbert.defaults import DEFAULT_BATCH_SIZE, DEFAULT_MAX_LENGTH
from kerasbert.limits import TOKENS_PER_TEXT
from kerasbert.rating_task import as_text_list, is_raw_text  # noqa: F401  (re-exported)
from kerasbert.tasks import check_task



@keras.saving.register_keras_serializable(package="kerasbert")
class RatingPreprocessor(keras.layers.Layer):
    """Raw texts -> `{"input_ids", "attention_mask"}`; stars 1-5 -> task labels.

    Holds a Hugging Face tokenizer and `max_length`. Texts are truncated at
    `max_length` and padded to the longest text of the batch. Stars become
    int 0-4 (classification) or float 1-5 (regression).

    The tokenizer is not part of `get_config`: `model.save("x.keras")`
    writes its files into the archive's assets (`save_assets`) and
    `keras.models.load_model` reads them back (`load_assets`).

    Args:
        tokenizer: a tokenizer object, or a kerasbert spec, folder or hub id.
        task: `"classification"` or `"regression"`.
        max_length: the longest token sequence kept, special tokens included.

    Call: `preprocessor(texts)` -> dict of int32 arrays; `preprocessor(texts,
    stars)` -> `(dict, labels)`. Runs in Python, outside any graph.
    """

    def __init__(self, tokenizer=None, task="classification", max_length=DEFAULT_MAX_LENGTH, **kwargs):
        super().__init__(**kwargs)
        self.task = check_task(task)
        TOKENS_PER_TEXT.check("max_length", max_length)
        self.max_length = int(max_length)
        self.tokenizer = None if tokenizer is None else resolve_tokenizer(tokenizer)

    def _require_tokenizer(self):
        if self.tokenizer is None:
            raise ValueError(
                "RatingPreprocessor %r has no tokenizer: pass one, or load a saved model "
                "with keras.models.load_model" % self.name
            )
        return self.tokenizer

    def __call__(self, texts, stars=None):
        """Tokenise (and encode labels) eagerly in Python; see the class docstring."""
        tokenizer = self._require_tokenizer()
        texts = [as_text(text, index) for index, text in enumerate(as_text_list(texts))]
        flat_ids, lengths = encode_texts(texts, tokenizer, max_length=self.max_length, progress=False)
        x = pad_token_ids(row_slices(flat_ids, lengths), pad_id(tokenizer))
        if stars is None:
            return x
        labels = encode_labels(stars, self.task)
        if len(labels) != len(texts):
            raise ValueError("%d texts but %d star labels" % (len(texts), len(labels)))
        return x, labels

    def dataset(self, texts, stars=None, batch_size=DEFAULT_BATCH_SIZE, shuffle=False, seed=None):
        """A batched `tf.data.Dataset` of `(inputs, labels)` (or inputs) from raw texts.

        Shuffled datasets group texts of similar length into batches
        (`kerasbert.data.make_dataset`); unshuffled ones keep the input order.
        """
        return make_dataset(
            as_text_list(texts), labels=stars, tokenizer=self._require_tokenizer(), task=self.task,
            batch_size=int(batch_size), max_length=self.max_length, shuffle=shuffle, seed=seed,
            bucket_boundaries=None if shuffle else [],
        )

    def call(self, inputs):
        # Tokenisation is Python (the Hugging Face tokenizer), never part of a graph.
        raise TypeError("RatingPreprocessor runs in Python: call it on a list of texts")

    def save_assets(self, dir_path):
        self._require_tokenizer().save_pretrained(dir_path)

    def load_assets(self, dir_path):
        self.tokenizer = load_tokenizer(dir_path)

    def get_config(self):
        config = super().get_config()
        config.update(task=self.task, max_length=self.max_length)
        return config
