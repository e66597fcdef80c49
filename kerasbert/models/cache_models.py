"""The tf-keras road's half of the encoder-state cache: the encoder's lower part as a function, the top as a model.

`kerasbert.training.encoder_cache` owns the store (keys, the memory-mapped
folder, the batches); these split a rating network at the cache.
"""

import numpy as np

from kerasbert._backend import keras, tf

__all__ = ["CachedEncoderTop", "encoder_states_function", "model_on_cache"]


def encoder_states_function(encoder, plan):
    """`forward(input_ids, attention_mask)` -> float16 NumPy `(batch, time, len(plan.stored), hidden)`.

    The encoder's hidden states that `plan` keeps, in inference mode; under
    `top_k` only the blocks below the split run.
    """
    stored = list(plan.stored)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)] * 2, reduce_retracing=True)
    def states(input_ids, attention_mask):
        if plan.start < plan.num_layers:
            embedded = encoder.embed(input_ids)
            hidden = [embedded] + encoder.call_blocks(embedded, attention_mask, 0, stop=plan.start, training=False)
        else:
            hidden = encoder({"input_ids": input_ids, "attention_mask": attention_mask}, training=False)
            hidden = hidden["hidden_states"]
        return tf.stack([tf.cast(hidden[i], tf.float16) for i in stored], axis=2)

    def forward(input_ids, attention_mask):
        return states(tf.constant(input_ids), tf.constant(attention_mask)).numpy().astype(np.float16, copy=False)

    return forward


class CachedEncoderTop(keras.layers.Layer):
    """The encoder's L+1 hidden states rebuilt from cached lower layers.

    Input: `{"cached_states": (batch, time, layers kept, hidden) float16,
    "attention_mask": (batch, time)}`. Layers below `plan.start` come from
    the cache; the open blocks (`start..L-1`) run on the cached
    `hidden_states[start]`, with the same weights as `encoder`. Entries no
    layer above reads are zeros. Output: a list of L+1 masked tensors, as
    `TransformerEncoder` gives. A training helper: it is never saved; the
    model it shares weights with is.
    """

    def __init__(self, encoder, plan, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.plan = plan
        self.supports_masking = True

    def call(self, inputs, training=None):
        cached = tf.cast(inputs["cached_states"], self.compute_dtype)
        mask = inputs["attention_mask"]
        states = [None] * (self.plan.num_layers + 1)
        for position, index in enumerate(self.plan.stored):
            states[index] = cached[:, :, position, :]
        if self.plan.start < self.plan.num_layers:
            states[self.plan.start + 1 :] = self.encoder.call_blocks(
                states[self.plan.start], mask, self.plan.start, training=training
            )
        filler = tf.zeros_like(states[self.plan.start])
        return [filler if state is None else state for state in states]

    def compute_mask(self, inputs, mask=None):
        token_mask = tf.cast(inputs["attention_mask"], tf.bool)
        return [token_mask] * (self.plan.num_layers + 1)


def _head_chain(model, encoder_name):
    """The layers after the encoder, checked to form a single chain (each reads only the one before it)."""
    layers = model.layers
    names = [layer.name for layer in layers]
    position = names.index(encoder_name)
    chain = layers[position + 1 :]
    previous = layers[position]
    for layer in chain:
        produced = {id(t) for t in tf.nest.flatten(previous.output)}
        if not all(id(t) in produced for t in tf.nest.flatten(layer.input)):
            raise ValueError("the layers after %r are not a single chain; train without the cache" % encoder_name)
        previous = layer
    return chain


def model_on_cache(model, plan, encoder_name="encoder"):
    """A model from cached states to `model`'s output, sharing all of `model`'s weights.

    Train it instead of `model`: every weight it updates is `model`'s, so
    `model` is then trained and saves as the ordinary whole model.
    """
    encoder = model.get_layer(encoder_name)
    chain = _head_chain(model, encoder_name)
    inputs = {
        "cached_states": keras.Input((None, len(plan.stored), plan.hidden_size), dtype="float16",
                                     name="cached_states"),
        "attention_mask": keras.Input((None,), dtype="int32", name="attention_mask"),
    }
    x = CachedEncoderTop(encoder, plan, name="cached_encoder")(inputs)
    for layer in chain:
        x = layer(x)
        if isinstance(x, (list, tuple)) and layer.name == "pooling":
            x = x[0]  # (pooled, attention): the head reads the pooled vector
    return keras.Model(inputs, x, name=model.name + "_on_cache")
