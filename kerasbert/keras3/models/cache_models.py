"""The Keras 3 road's half of the encoder-state cache: the lower part as a function, the top as a model,
and the cached batches as a `PyDataset`.

`kerasbert.training.encoder_cache` owns the store (keys, the memory-mapped
folder); the same store serves both roads, since a frozen encoder's states
are the same numbers on either (within float16 rounding).
"""

import keras
import numpy as np
from keras import ops

from kerasbert.data.encoding import bucketed_batches, default_bucket_boundaries, encode_labels, padded_width
from kerasbert.data.title_sampling import TitleSampling
from kerasbert.keras3.models.preprocessor import for_backend

__all__ = ["CachedBatches", "CachedEncoderTop", "cached_batches", "encoder_states_function", "model_on_cache"]


def encoder_states_function(encoder, plan):
    """`forward(input_ids, attention_mask)` -> float16 NumPy `(batch, time, len(plan.stored), hidden)`, in inference mode."""
    stored = list(plan.stored)
    inputs = {name: keras.Input((None,), dtype="int32", name=name) for name in ("input_ids", "attention_mask")}
    if plan.start < plan.num_layers:
        embedded = encoder.embed(inputs["input_ids"])
        hidden = [embedded] + encoder.call_blocks(embedded, inputs["attention_mask"], 0, stop=plan.start)
    else:
        hidden = encoder(inputs)["hidden_states"]
    states = keras.Model(inputs, [hidden[i] for i in stored])

    def forward(input_ids, attention_mask):
        outputs = states.predict_on_batch({"input_ids": input_ids, "attention_mask": attention_mask})
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return np.stack([ops.convert_to_numpy(o).astype(np.float16) for o in outputs], axis=2)

    return forward


@keras.saving.register_keras_serializable(package="kerasbert")
class CachedEncoderTop(keras.layers.Layer):
    """The encoder's L+1 hidden states rebuilt from cached lower layers (a training helper, never saved).

    Input: `{"cached_states": (batch, time, layers kept, hidden), "attention_mask": (batch, time)}`.
    The open blocks (`start..L-1`) run on the cached `hidden_states[start]` with `encoder`'s weights;
    entries no layer above reads are zeros.
    """

    def __init__(self, encoder, plan, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.plan = plan
        self.supports_masking = True

    def call(self, inputs, training=None):
        cached = ops.cast(inputs["cached_states"], self.compute_dtype)
        mask = inputs["attention_mask"]
        states = [None] * (self.plan.num_layers + 1)
        for position, index in enumerate(self.plan.stored):
            states[index] = cached[:, :, position, :]
        if self.plan.start < self.plan.num_layers:
            states[self.plan.start + 1:] = self.encoder.call_blocks(states[self.plan.start], mask, self.plan.start,
                                                                    training=training)
        filler = ops.zeros_like(states[self.plan.start])
        return [filler if state is None else state for state in states]

    def compute_output_spec(self, inputs, training=None):
        batch, time = inputs["attention_mask"].shape[:2]
        state = keras.KerasTensor((batch, time, self.plan.hidden_size), dtype=self.compute_dtype)
        return [state] * (self.plan.num_layers + 1)

    def compute_mask(self, inputs, mask=None):
        return [ops.cast(inputs["attention_mask"], "bool")] * (self.plan.num_layers + 1)


def _head_chain(model, encoder_name):
    """The layers after the encoder, checked to form a single chain (each reads only the one before it)."""
    layers = model.layers
    position = [layer.name for layer in layers].index(encoder_name)
    chain = layers[position + 1:]
    previous = layers[position]
    for layer in chain:
        produced = {id(t) for t in keras.tree.flatten(previous.output)}
        # Keras 3 records a propagated mask as an input of the layer that reads it: masks may come from elsewhere.
        if not all(id(t) in produced or t.dtype == "bool" for t in keras.tree.flatten(layer.input)):
            raise ValueError("the layers after %r are not a single chain; train without the cache" % encoder_name)
        previous = layer
    return chain


def model_on_cache(model, plan, encoder_name="encoder"):
    """A model from cached states to `model`'s output, sharing all of `model`'s weights."""
    model = getattr(model, "network", model)
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


class CachedBatches(keras.utils.PyDataset):
    """Batches `({"cached_states", "attention_mask"}, label[, weight])` read from a store, as NumPy.

    The length buckets, reshuffle per epoch and per-title draw of the text
    batches (`kerasbert.keras3.models.TextBatches`).
    """

    def __init__(self, store, targets, batch_size, shuffle, seed, sampling, boundaries, drop_remainder=False,
                 max_length=None):
        super().__init__()
        self.max_length = max_length
        self.store, self.targets, self.batch_size = store, tuple(targets), int(batch_size)
        self.shuffle, self.sampling, self.boundaries = bool(shuffle), sampling, list(boundaries)
        self.drop_remainder = bool(drop_remainder)
        self.lengths = np.asarray(store.row_lengths, np.int64)
        self.rng = np.random.default_rng(seed)
        self.epoch_batches = self._plan()

    def _plan(self):
        rows = np.arange(len(self.lengths))
        if self.shuffle and self.sampling is not None:
            rows = self.sampling.draw(self.rng)
        batches = bucketed_batches(self.lengths[rows], self.batch_size, self.boundaries,
                                   self.rng if self.shuffle else None, drop_remainder=self.drop_remainder)
        return [rows[batch] for batch in batches]

    def __len__(self):
        return len(self.epoch_batches)

    def __getitem__(self, index):
        rows = self.epoch_batches[index]
        longest = int(self.lengths[rows].max())
        width = longest if self.max_length is None else max(padded_width(longest, self.max_length), longest)
        states = self.store.gather(rows, time=width)  # few shapes, so XLA compiles few programs
        mask = (np.arange(states.shape[1])[None, :] < self.lengths[rows][:, None]).astype(np.int32)
        features = {"cached_states": states, "attention_mask": mask}
        return (features,) + tuple(column[rows] for column in self.targets) if self.targets else features

    def on_epoch_end(self):
        if self.shuffle:
            self.epoch_batches = self._plan()


def cached_batches(store, labels=None, task="classification", batch_size=32, max_length=128, shuffle=False, seed=0,
                   titles=None, rows_per_title=None, sample_weights=None, drop_remainder=False):
    """`CachedBatches` for a store (arguments as `kerasbert.training.encoder_cache.cached_dataset`);
    a `tf.data.Dataset` over them on the TensorFlow backend."""
    boundaries = default_bucket_boundaries(max_length)
    targets = ()
    if labels is not None:
        targets = (encode_labels(labels, task),)
        if sample_weights is not None:
            targets += (np.asarray(sample_weights, np.float32).reshape(-1),)
    sampling = None
    if rows_per_title is not None:
        sampling = TitleSampling.build(list(titles), store.row_lengths, rows_per_title, boundaries)
    return for_backend(CachedBatches(store, targets, batch_size, shuffle, seed, sampling, boundaries, drop_remainder,
                                     max_length))
