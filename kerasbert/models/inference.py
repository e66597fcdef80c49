"""Inference: the one length-sorted loop over one traced function.

Texts are tokenised once, sorted by token length and batched so that each
batch is padded only to its longest member (rounded up to a multiple of
`LENGTH_BUCKET`, so there are few distinct shapes); results return in the
input order. The network runs through a `tf.function` with dynamic batch and
time dimensions, traced once per model, unlike `predict_on_batch`, which
builds an input pipeline per call and retraces for every new shape: memory
stays flat over millions of rows.
"""

import weakref

import numpy as np

from kerasbert._backend import tf
from kerasbert.data.encoding import LENGTH_BUCKET, encode_texts, outputs_in_row_order, pad_id, row_slices  # noqa: F401
from kerasbert.models.builders import rating_analysis_model
from kerasbert.models.preprocessor import DEFAULT_BATCH_SIZE
from kerasbert.tasks import output_width, scores_from_outputs, stars_from_outputs

__all__ = ["LENGTH_BUCKET", "inference_function", "predict_rows", "predict_scores", "predict_texts"]

MODEL_INPUTS = ("input_ids", "attention_mask")

_FUNCTIONS = weakref.WeakKeyDictionary()
_ANALYSIS_MODELS = weakref.WeakKeyDictionary()


def inference_function(network):
    """`network(inputs, training=False)` as one `tf.function` for every batch shape (float outputs in float32)."""
    function = _FUNCTIONS.get(network)
    if function is None:
        spec = {name: tf.TensorSpec((None, None), tf.int32, name=name) for name in MODEL_INPUTS}

        def forward(inputs):
            outputs = network(inputs, training=False)
            return tf.nest.map_structure(lambda t: tf.cast(t, tf.float32) if t.dtype.is_floating else t, outputs)

        function = tf.function(forward, input_signature=[spec])
        _FUNCTIONS[network] = function
    return function


def predict_rows(network, rows, pad, batch_size=DEFAULT_BATCH_SIZE, max_length=128, fixed_length=False,
                 per_token=()):
    """Run `network` over token-id rows in batches of similar length; outputs in the rows' order.

    Args:
        network: a functional model on `{"input_ids", "attention_mask"}`
            (a tensor output, or a dict of them).
        rows: a list of token-id arrays, each at most `max_length` long.
        pad: the padding id.
        batch_size: rows per batch.
        max_length: the widest batch.
        fixed_length: every batch `(batch_size, max_length)` (static shapes, TPUs).
        per_token: names of dict outputs whose last axis is time: they come
            back as lists of per-row arrays cut to each row's length.

    Returns:
        The network's output as one array `(n, ...)` (or a dict of them), in order.
    """
    function = inference_function(network)

    def forward(inputs):
        return tf.nest.map_structure(lambda t: t.numpy(), function(inputs))

    return outputs_in_row_order(forward, rows, pad, batch_size, max_length, fixed_length, per_token)


def _encode(model, texts, max_length):
    max_length = model.inference_length(max_length)
    flat_ids, lengths = encode_texts(texts, model.tokenizer, max_length=max_length, progress=False)
    return row_slices(flat_ids, lengths), max_length


def predict_scores(model, texts, batch_size=DEFAULT_BATCH_SIZE, max_length=None):
    """A `RatingModel`'s raw outputs for `texts`, in their order: float32 `(n, 5)` or `(n, 1)`.

    `max_length` defaults to the model's own.
    """
    texts = list(texts)
    if not texts:
        return np.zeros((0, output_width(model.task)), np.float32)
    rows, max_length = _encode(model, texts, max_length)
    return model.combined_outputs(texts, predict_rows(model.network, rows, pad_id(model.tokenizer), batch_size,
                                                     max_length))


def predict_texts(model, texts, batch_size=DEFAULT_BATCH_SIZE, max_length=None, fixed_length=False):
    """Everything a report needs of a `RatingModel` on `texts`, in their order.

    Returns:
        A dict with `stars` (predicted 1-5, `(n,)`), `score` (probabilities
        `(n, 5)` or the regression score `(n,)`), `features` (the pooled
        vectors `(n, d)`), and for self-attentive pooling `attention` (a list
        of `(hops, length)` arrays) and `tokens` (a list of token lists).
    """
    texts = list(texts)
    rows, max_length = _encode(model, texts, max_length)
    if not texts:
        score = scores_from_outputs(np.zeros((0, output_width(model.task))), model.task)
        return {"stars": np.zeros(0, int), "score": score, "features": None, "attention": None, "tokens": []}
    analysis = _ANALYSIS_MODELS.get(model.network)
    if analysis is None:
        analysis = _ANALYSIS_MODELS[model.network] = rating_analysis_model(model)
    outputs = predict_rows(analysis, rows, pad_id(model.tokenizer), batch_size, max_length,
                           fixed_length, per_token=("attention",))
    stacked = model.combined_outputs(texts, outputs["stars"])
    return {
        "stars": stars_from_outputs(stacked, model.task),
        "score": scores_from_outputs(stacked, model.task),
        "features": outputs["features"].astype(np.float32),
        "attention": outputs.get("attention"),
        "tokens": [model.tokenizer.convert_ids_to_tokens(row.tolist()) for row in rows],
    }
