"""How both roads' builders assemble a rating network: mix -> pool -> head, and the analysis view.

Each road's `build_rating_model` passes its own `keras` and layers module
(`kerasbert.layers` or `kerasbert.keras3.layers`, which export the same
names); the assembly is written once here.
"""

from kerasbert.tasks import NUM_STARS

__all__ = ["analysis_model", "head", "mix", "pool"]


def mix(layers_module, hidden_states, layers):
    """The hidden states combined: `ScalarMix` over all or some of them, or a fixed `LayerSelection`."""
    if layers == "scalar_mix":
        return layers_module.ScalarMix(name="scalar_mix")(hidden_states)
    if isinstance(layers, (list, tuple)):
        return layers_module.ScalarMix(layer_indices=list(layers), name="scalar_mix")(hidden_states)
    if layers in layers_module.LAYER_STRATEGIES:
        return layers_module.LayerSelection(layers, name="layer_selection")(hidden_states)
    raise ValueError("layers must be 'scalar_mix', a list of layer indices, or one of %s; got %r"
                     % (", ".join(layers_module.LAYER_STRATEGIES), layers))


def pool(layers_module, sequence, pooling, pool_kwargs):
    """`(pooled, attention or None)`: self-attentive pooling returns its attention for plots."""
    if pooling == "self_attentive":
        return layers_module.SelfAttentivePooling(name="pooling", **pool_kwargs)(sequence,
                                                                                   return_attention_scores=True)
    poolers = {"cls": layers_module.CLSPooling, "mean": layers_module.MaskedMeanPooling,
               "max": layers_module.MaskedMaxPooling}
    if pooling not in poolers:
        raise ValueError("pooling must be one of self_attentive, %s, got %r" % (", ".join(poolers), pooling))
    return poolers[pooling](name="pooling")(sequence), None


def head(keras, pooled, task, values, scaled_sigmoid):
    """Dropout + GELU dense layers, then 5 float32 probabilities or a score in `score_range` (`scaled_sigmoid`)."""
    x = pooled
    for index, units in enumerate(values["hidden_units"] or ()):
        x = keras.layers.Dropout(values["dropout"], name="head_dropout_%d" % index)(x)
        x = keras.layers.Dense(units, activation="gelu", name="head_dense_%d" % index)(x)
    x = keras.layers.Dropout(values["dropout"], name="head_dropout_out")(x)
    if task == "classification":
        logits = keras.layers.Dense(NUM_STARS, name="logits")(x)
        return keras.layers.Activation("softmax", dtype="float32", name="stars")(logits)
    low, high = (float(v) for v in values["score_range"])
    return scaled_sigmoid(low, high, name="stars")(keras.layers.Dense(1, name="logit")(x))


def analysis_model(keras, model):
    """A model with the rating model's outputs plus its pooled features (and attention), sharing the weights.

    `model` is a rating network or a `RatingModel` (its network). Outputs:
    `stars`, `features` `(batch, d)` and, for self-attentive pooling,
    `attention` `(batch, hops, time)`.
    """
    model = getattr(model, "network", model)
    pooling_output = model.get_layer("pooling").output
    outputs = {"stars": model.outputs[0]}
    if isinstance(pooling_output, (list, tuple)):
        outputs["features"], outputs["attention"] = pooling_output
    else:
        outputs["features"] = pooling_output
    return keras.Model(model.inputs, outputs, name=model.name + "_analysis")
