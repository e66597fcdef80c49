"""Inference on the Keras 3 road: the length-sorted loop of `kerasbert.data.encoding.sorted_batches`.

Texts are tokenised once, sorted by length and batched so each batch is
padded only to its longest member (rounded up to `LENGTH_BUCKET`: few
distinct shapes, so XLA compiles a handful of programs); results return in
the input order. The same outputs as the tf-keras road's
`kerasbert.models.inference`.
"""

import weakref

import keras
import numpy as np

from kerasbert.data.encoding import outputs_in_row_order, pad_id
from kerasbert.defaults import DEFAULT_BATCH_SIZE
from kerasbert.keras3.models.builders import rating_analysis_model
from kerasbert.tasks import output_width, scores_from_outputs, stars_from_outputs

__all__ = ["predict_rows", "predict_scores", "predict_texts"]

_ANALYSIS_MODELS = weakref.WeakKeyDictionary()


def predict_rows(network, rows, pad, batch_size=DEFAULT_BATCH_SIZE, max_length=128, fixed_length=False,
                 per_token=()):
    """Run `network` over token-id rows in batches of similar length; outputs (float32) in the rows' order.

    Arguments as in `kerasbert.models.inference.predict_rows`.
    """
    def forward(inputs):
        return keras.tree.map_structure(keras.ops.convert_to_numpy, network.predict_on_batch(inputs))

    return outputs_in_row_order(forward, rows, pad, batch_size, max_length, fixed_length, per_token)


def _encode(model, texts, max_length):
    max_length = model.inference_length(max_length)
    if max_length == model.max_length:
        return model.preprocessor.encode(texts), model.max_length
    from kerasbert.keras3.models.preprocessor import RatingPreprocessor

    other = RatingPreprocessor(model.tokenizer, task=model.task, max_length=int(max_length))
    return other.encode(texts), int(max_length)


def predict_scores(model, texts, batch_size=DEFAULT_BATCH_SIZE, max_length=None):
    """A `RatingModel`'s raw outputs for `texts`, in their order: float32 `(n, 5)` or `(n, 1)`."""
    texts = list(texts)
    if not texts:
        return np.zeros((0, output_width(model.task)), np.float32)
    rows, max_length = _encode(model, texts, max_length)
    return model.combined_outputs(texts, predict_rows(model.network, rows, pad_id(model.tokenizer), batch_size,
                                                     max_length))


def predict_texts(model, texts, batch_size=DEFAULT_BATCH_SIZE, max_length=None, fixed_length=False):
    """Everything a report needs of a `RatingModel` on `texts`: stars, score, features, attention, tokens."""
    texts = list(texts)
    if not texts:
        score = scores_from_outputs(np.zeros((0, output_width(model.task))), model.task)
        return {"stars": np.zeros(0, int), "score": score, "features": None, "attention": None, "tokens": []}
    rows, max_length = _encode(model, texts, max_length)
    analysis = _ANALYSIS_MODELS.get(model.network)
    if analysis is None:
        analysis = _ANALYSIS_MODELS[model.network] = rating_analysis_model(model)
    outputs = predict_rows(analysis, rows, pad_id(model.tokenizer), batch_size, max_length, fixed_length,
                           per_token=("attention",))
    stacked = model.combined_outputs(texts, outputs["stars"])
    return {
        "stars": stars_from_outputs(stacked, model.task),
        "score": scores_from_outputs(stacked, model.task),
        "features": outputs["features"].astype(np.float32),
        "attention": outputs.get("attention"),
        "tokens": [model.tokenizer.convert_ids_to_tokens(row.tolist()) for row in rows],
    }
