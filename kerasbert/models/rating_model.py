"""Star-rating models: encoder -> layer mix -> pooling -> head."""

from kerasbert._backend import keras
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
from kerasbert.models.heads import ScaledSigmoid
from kerasbert.models.losses import NeighbourSmoothedCrossentropy
from kerasbert.models.metrics import rating_metrics
from kerasbert.tasks import NUM_STARS, check_task

# The regression head's output range. Wider than the stars 1-5, so that the
# sigmoid need not saturate to reach the common 1 and 5 star labels;
# `round_stars` clips the predicted star back to 1-5.
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
        dropout: dropout before each dense layer of the head.
        attention_units, num_hops, penalty_coefficient, merge_hops:
            `SelfAttentivePooling` settings.
        score_range: `(low, high)` of the regression score,
            `low + (high - low) * sigmoid(logit)`; ignored for classification.

    Inputs: `{"input_ids", "attention_mask"}`, both `(batch, time)` int32.
    Output: `(batch, 5)` float32 probabilities, or `(batch, 1)` float32 score.
    `kerasbert.RatingModel` wraps it with a tokenizer for raw-text use.
    Compile it with `compile_rating_model`.
    """
    check_task(task)
    low, high = _check_score_range(score_range)
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


def _check_score_range(score_range):
    try:
        low, high = (float(v) for v in score_range)
    except (TypeError, ValueError):
        raise ValueError("score_range must be two numbers (low, high), got %r" % (score_range,)) from None
    if not low < high:
        raise ValueError("score_range must have low < high, got %r" % (score_range,))
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
    from kerasbert.models.rating_task import RatingModel

    if isinstance(model, RatingModel):
        model = model.network
    pooling_output = model.get_layer("pooling").output
    outputs = {"stars": model.output}
    if isinstance(pooling_output, (list, tuple)):
        outputs["features"], outputs["attention"] = pooling_output
    else:
        outputs["features"] = pooling_output
    return keras.Model(model.inputs, outputs, name=model.name + "_analysis")


def rating_loss(task, label_smoothing=0.0):
    """Sparse categorical cross-entropy (labels 0-4) or mean squared error (stars).

    With `label_smoothing > 0` (classification), that share of each target
    goes to the neighbouring stars (`NeighbourSmoothedCrossentropy`).
    """
    check_task(task)
    if task == "classification":
        if label_smoothing:
            return NeighbourSmoothedCrossentropy(label_smoothing)
        return keras.losses.SparseCategoricalCrossentropy()
    if label_smoothing:
        raise ValueError("label_smoothing applies to classification only")
    return keras.losses.MeanSquaredError()


def compile_rating_model(model, task, optimizer=None, learning_rate=1e-3, label_smoothing=0.0, **compile_kwargs):
    """Compile with the task's loss and the star metrics (see `metrics.py`).

    Call it inside the distribution strategy's scope, like the builder.
    """
    if optimizer is None:
        optimizer = keras.optimizers.Adam(learning_rate)
    # As weighted metrics, they honour sample weights (e.g. title-capped
    # validation) and equal the plain metrics when there are none.
    model.compile(optimizer=optimizer, loss=rating_loss(task, label_smoothing),
                  weighted_metrics=rating_metrics(task), **compile_kwargs)
    return model
