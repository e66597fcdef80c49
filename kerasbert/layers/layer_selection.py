"""Fixed layer strategies: pick or combine hidden states without weights."""

from kerasbert._backend import keras, tf
from kerasbert.layers.masking import first_mask

# Each strategy and the hidden-state indices it reads (from the L+1 states).
STRATEGY_LAYERS = {
    "embeddings": (0,),
    "last": (-1,),
    "second_to_last": (-2,),
    "sum_last_4": (-4, -3, -2, -1),
    "mean_last_4": (-4, -3, -2, -1),
    "concat_last_4": (-4, -3, -2, -1),
}
LAYER_STRATEGIES = tuple(STRATEGY_LAYERS)


@keras.saving.register_keras_serializable(package="kerasbert")
class LayerSelection(keras.layers.Layer):
    """One fixed way of turning the L+1 hidden states into one sequence.

    Strategies (as compared in the BERT paper's feature-based NER table):
    `embeddings` (layer 0, the embedding output), `last`, `second_to_last`,
    and the `sum`, `mean` or `concat` of the last 4 layers.

    Input: a list of L+1 tensors `(batch, time, hidden)` with their mask.
    Output: `(batch, time, hidden)`, or `(batch, time, 4 * hidden)` for
        `concat_last_4`; the mask passes through.
    """

    def __init__(self, strategy="last", **kwargs):
        super().__init__(**kwargs)
        if strategy not in LAYER_STRATEGIES:
            raise ValueError(
                "Unknown layer strategy %r; choose one of %s" % (strategy, ", ".join(LAYER_STRATEGIES))
            )
        self.strategy = strategy
        self.supports_masking = True

    def call(self, inputs, mask=None):
        inputs = list(inputs)
        if self.strategy == "embeddings":
            return inputs[0]
        if self.strategy == "last":
            return inputs[-1]
        if self.strategy == "second_to_last":
            return inputs[-2]
        last_4 = inputs[-4:]
        if len(last_4) < 4:
            raise ValueError("%s needs at least 4 layers, got %d" % (self.strategy, len(inputs)))
        if self.strategy == "sum_last_4":
            return tf.add_n(last_4)
        if self.strategy == "mean_last_4":
            return tf.add_n(last_4) / tf.cast(4, last_4[0].dtype)
        return tf.concat(last_4, axis=-1)

    @property
    def layer_indices(self):
        """The hidden-state indices this strategy reads, e.g. `(-1,)` for `last`."""
        return STRATEGY_LAYERS[self.strategy]

    def compute_mask(self, inputs, mask=None):
        return first_mask(mask)

    def get_config(self):
        config = super().get_config()
        config.update(strategy=self.strategy)
        return config
