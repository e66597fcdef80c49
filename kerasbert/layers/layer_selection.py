"""Fixed layer strategies: pick or combine hidden states without weights."""

from kerasbert._backend import keras, tf
from kerasbert.layer_strategies import LAYER_STRATEGIES, STRATEGY_LAYERS, check_strategy, combine_layers
from kerasbert.layers.masking import first_mask

__all__ = ["LAYER_STRATEGIES", "LayerSelection"]


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
        check_strategy(strategy)
        self.strategy = strategy
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return combine_layers(inputs, self.strategy, tf.add_n, lambda states: tf.concat(states, axis=-1))

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
