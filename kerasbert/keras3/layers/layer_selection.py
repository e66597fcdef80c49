"""Fixed layer strategies (Keras 3): pick or combine hidden states without weights."""

import functools

import keras
from keras import ops

from kerasbert.keras3.layers.masking import first_mask
from kerasbert.layer_strategies import LAYER_STRATEGIES, STRATEGY_LAYERS, check_strategy, combine_layers

__all__ = ["LAYER_STRATEGIES", "LayerSelection"]


@keras.saving.register_keras_serializable(package="kerasbert")
class LayerSelection(keras.layers.Layer):
    """One fixed way of turning the L+1 hidden states into one sequence (`kerasbert.layer_strategies`).

    Args:
        strategy: `embeddings`, `last`, `second_to_last`, or the `sum`,
            `mean` or `concat` of the last 4 layers (`sum_last_4`, ...).

    Input: a list of L+1 tensors `(batch, time, hidden)` with their mask.
    Output: `(batch, time, hidden)`, or `(batch, time, 4 * hidden)` for
        `concat_last_4`; the mask passes through.
    """

    def __init__(self, strategy="last", **kwargs):
        super().__init__(**kwargs)
        self.strategy = check_strategy(strategy)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return combine_layers(list(inputs), self.strategy, lambda states: functools.reduce(ops.add, states),
                              lambda states: ops.concatenate(states, axis=-1))

    @property
    def layer_indices(self):
        """The hidden-state indices this strategy reads, e.g. `(-1,)` for `last`."""
        return STRATEGY_LAYERS[self.strategy]

    def compute_mask(self, inputs, mask=None):
        return first_mask(mask)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[-1])
        if self.strategy == "concat_last_4":
            return shape[:-1] + (None if shape[-1] is None else 4 * shape[-1],)
        return shape

    def get_config(self):
        config = super().get_config()
        config.update(strategy=self.strategy)
        return config
