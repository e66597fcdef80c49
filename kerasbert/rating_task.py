"""What both roads' `RatingModel` do alike: raw texts in, the task's compile rule, the config.

`RatingTask` is a mixin: `class RatingModel(RatingTask, keras.Model)` on each
road, which sets `kit` (its `kerasbert.compile_rules.KerasKit`), `builder`
(its `build_rating_model`) and `preprocessor_class`. It holds no framework
code of its own: raw strings become the preprocessor's dataset, and the
rest is Keras' own `fit` / `evaluate` / `predict`.
"""

import numpy as np

from kerasbert import compile_rules
from kerasbert.defaults import DEFAULT_BATCH_SIZE, DEFAULT_MAX_LENGTH
from kerasbert.errors import ArgumentError
from kerasbert.model_arguments import check_encoder_limits
from kerasbert.tasks import output_width, stars_from_outputs
from kerasbert.title_adaptation import adaptation_from_config

__all__ = ["RatingTask", "as_text_list", "is_raw_text", "raw_texts"]


def is_raw_text(x):
    """True for a string or a 1-D sequence holding strings (list, tuple, array, Series).

    A sequence with some non-strings (a missing comment) still counts, so
    that tokenisation names the bad position instead of Keras failing later.
    """
    if isinstance(x, (str, bytes)):
        return True
    if isinstance(x, (list, tuple)):
        values = x
    elif hasattr(x, "tolist") and getattr(x, "ndim", None) == 1:  # NumPy array, pandas Series
        values = x.tolist()
    else:
        return False
    return any(isinstance(v, (str, bytes)) for v in values)


def as_text_list(x):
    """A string or a 1-D sequence of texts as a list."""
    return [x] if isinstance(x, (str, bytes)) else (list(x) if isinstance(x, (list, tuple)) else x.tolist())


def raw_texts(x, method):
    """`x` as a list of texts when it is raw text (an empty sequence gives `[]`), None for what Keras reads
    itself (a dataset, a dict of arrays); an `ArgumentError` for None or a sequence holding no text."""
    if x is None:
        raise ArgumentError("x", "%s needs texts (a string or a list of strings), got None" % method)
    if is_raw_text(x):
        return as_text_list(x)
    if isinstance(x, (list, tuple)) or (hasattr(x, "tolist") and getattr(x, "ndim", None) == 1):
        items = as_text_list(x)
        if not items:
            return []
        raise ArgumentError("x", "%s takes texts (strings); item 0 is %s %r" % (method, type(items[0]).__name__,
                                                                               items[0]))
    return None


class RatingTask:
    """Raw-text `fit` / `evaluate` / `predict` and the compile rule, for a network with its preprocessor."""

    kit = None  # the road's compile_rules.KerasKit
    builder = None  # the road's build_rating_model, as a staticmethod
    preprocessor_class = None  # the road's RatingPreprocessor

    def __init__(self, network, preprocessor, adaptation=None, **kwargs):
        kwargs.setdefault("name", "rating_model")
        super().__init__(**kwargs)
        if not isinstance(preprocessor, self.preprocessor_class):
            raise TypeError("preprocessor must be a RatingPreprocessor, got %r" % (preprocessor,))
        output = network.outputs[0] if len(network.outputs) == 1 else None
        width = None if output is None else output.shape[-1]
        expected = output_width(preprocessor.task)
        if width != expected:
            raise ValueError("the preprocessor's task is %s, which needs a network output of width %d; got %r"
                             % (preprocessor.task, expected, None if output is None else tuple(output.shape)))
        encoder = next((layer for layer in network.layers if hasattr(layer, "max_positions")), None)
        self.max_positions = None if encoder is None else encoder.max_positions
        check_encoder_limits(preprocessor.max_length, self.max_positions)
        self.network = network
        self.preprocessor = preprocessor
        self.adaptation = adaptation
        self.char_model = None  # a kerasbert.char_ngrams.CharNgramModel stacked on the outputs; kept in the folder
        self.members = []  # the seed ensemble's other RatingModels, averaged in; kept in the folder
        self.built = True  # the network is built; this wrapper has no weights of its own

    @classmethod
    def from_checkpoint(cls, checkpoint, task="classification", max_length=DEFAULT_MAX_LENGTH, tokenizer=None,
                        name=None, **model_arguments):
        """Build the network with the road's `build_rating_model` and the checkpoint's tokenizer.

        Args:
            checkpoint: a kerasbert spec, a folder (or what the road's
                builder also takes: a hub id, a keras-hub preset).
            task: `"classification"` or `"regression"`.
            max_length: tokens per text, special tokens included.
            tokenizer: default the checkpoint's own.
            name: the model's name.
            **model_arguments: `build_rating_model`'s (`mode`, `top_k`,
                `layers`, `pooling`, ...; `kerasbert.model_arguments`).

        Returns:
            A `RatingModel`, not compiled.
        """
        if tokenizer is None:
            if not isinstance(checkpoint, str):
                raise ValueError("pass tokenizer= when checkpoint is not a spec, folder or hub id")
            tokenizer = checkpoint
        preprocessor = cls.preprocessor_class(tokenizer, task=task, max_length=max_length, name="preprocessor")
        network = cls.builder(checkpoint, task=task, **model_arguments)
        return cls(network, preprocessor, name=name or "rating_model")

    @property
    def adaptation(self):
        """The title adaptation `predict(..., groups=...)` applies (`kerasbert.title_adaptation`), or None."""
        return self._adaptation

    @adaptation.setter
    def adaptation(self, adaptation):
        adaptation = adaptation_from_config(adaptation)
        if adaptation is not None and adaptation.task != self.task:
            raise ArgumentError("adaptation", "a %s adaptation cannot adapt a %s model" % (adaptation.task,
                                                                                       self.task))
        self._adaptation = adaptation

    @property
    def task(self):
        return self.preprocessor.task

    @property
    def tokenizer(self):
        return self.preprocessor.tokenizer

    @property
    def max_length(self):
        return self.preprocessor.max_length

    def inference_length(self, max_length=None):
        """Tokens per text for inference: `max_length`, default the model's, within the encoder's positions."""
        if max_length is None:
            return self.max_length
        check_encoder_limits(int(max_length), self.max_positions)
        return int(max_length)

    def call(self, inputs, training=None):
        return self.network(inputs, training=training)

    def get_layer(self, name=None, index=None):
        """A layer of this model, else of its network by name (`encoder`, `scalar_mix`, ...).

        So that code written for `build_rating_model` networks, such as
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
        return compile_rules.default_optimizer(self.kit, encoder_trains)

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
        super().compile(**compile_rules.compile_arguments(self.kit, self.task, optimizer, **kwargs))

    def compile_from_config(self, config):
        # Keras skips models whose compile() is overridden; this one takes the same arguments.
        keras = self.kit.keras
        self.compile(**keras.saving.deserialize_keras_object(config))
        if isinstance(self.optimizer, keras.optimizers.Optimizer):
            self.optimizer.build(self.trainable_variables)  # so saved optimizer state loads

    # Raw-text fit / evaluate / predict ---------------------------------------

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
        texts = raw_texts(x, "fit")
        if texts is not None:
            if not texts:
                raise ArgumentError("x", "fit needs at least one text, got an empty sequence")
            for unsupported in ("validation_split", "sample_weight"):
                if kwargs.get(unsupported):
                    raise ValueError("%s is not supported with raw texts; build a dataset with "
                                     "model.preprocessor.dataset(...)" % unsupported)
            x, y, batch_size = self._raw_dataset(texts, y, batch_size, shuffle=shuffle), None, None
        return super().fit(x, y, batch_size=batch_size, validation_data=validation_data, shuffle=shuffle,
                           **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        texts = raw_texts(x, "evaluate")
        if texts is not None:
            if not texts:
                raise ArgumentError("x", "evaluate needs at least one text, got an empty sequence")
            if y is None:
                raise ValueError("evaluate on raw texts needs their stars: evaluate(texts, stars)")
            x, y, batch_size = self._raw_dataset(texts, y, batch_size), None, None
        return super().evaluate(x, y, batch_size=batch_size, **kwargs)

    def predict(self, x, batch_size=None, groups=None, **kwargs):
        """`(n, 5)` probabilities or `(n, 1)` scores of raw texts (in their order), or Keras' predict of a dataset.

        `groups` (one key per text, e.g. its title) rates each group's texts
        together: the outputs go through `adapt` (the model's saved title
        adaptation). Without it every text is rated alone.
        """
        texts = raw_texts(x, "predict")
        if texts is None:
            outputs = super().predict(x, batch_size=batch_size, **kwargs)
        elif not texts:
            outputs = np.zeros((0, output_width(self.task)), np.float32)
        else:
            outputs = self.predict_texts_batched(texts, batch_size or DEFAULT_BATCH_SIZE, **kwargs)
        return outputs if groups is None else self.adapt(outputs, groups)[0]

    def predict_stars(self, x, **kwargs):
        """Integer stars 1-5: argmax + 1, or the score rounded half up and clipped (`groups=` as in `predict`)."""
        return stars_from_outputs(self.predict(x, **kwargs), self.task)

    def combined_outputs(self, texts, outputs):
        """`outputs` (the network's, on `texts`) averaged with the seed ensemble's other members and stacked
        with the character model, when the model has them (both live in its folder, not in `model.keras`)."""
        if self.members:
            others = [member.predict_texts_batched(texts, DEFAULT_BATCH_SIZE, verbose=0) for member in self.members]
            outputs = np.mean([np.asarray(outputs, np.float32)] + others, axis=0).astype(np.float32)
        return outputs if self.char_model is None else self.char_model.stack(texts, outputs)

    def adapt(self, outputs, groups):
        """`(adapted outputs, {group: estimate})`: this model's outputs adapted to each group's own star mix
        (classification: the group's estimated star prior; regression: its offset)."""
        if self.adaptation is None:
            raise ArgumentError("groups", "this model has no title adaptation to rate groups with: fit one on "
                                          "validation titles (kerasbert.training.fit_title_adaptation)")
        return self.adaptation.adapt(outputs, groups)

    # Serialisation -----------------------------------------------------------

    def get_config(self):
        serialize = self.kit.keras.saving.serialize_keras_object
        return {"name": self.name, "trainable": self.trainable, "network": serialize(self.network),
                "preprocessor": serialize(self.preprocessor),
                "adaptation": None if self.adaptation is None else self.adaptation.get_config()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        deserialize = cls.kit.keras.saving.deserialize_keras_object
        network = deserialize(config.pop("network"), custom_objects=custom_objects)
        preprocessor = deserialize(config.pop("preprocessor"), custom_objects=custom_objects)
        return cls(network, preprocessor, **config)
