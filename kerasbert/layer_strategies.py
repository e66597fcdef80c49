"""The fixed layer strategies: which hidden states they read and how they combine them.

The one definition for both roads' `LayerSelection` layers and for the
NumPy analyses (`kerasbert.analysis.word_vectors`). Strategies, as compared
in the BERT paper's feature-based NER table: `embeddings` (layer 0, the
embedding output), `last`, `second_to_last`, and the `sum`, `mean` or
`concat` of the last 4 layers.
"""

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


def check_strategy(strategy):
    """`strategy` if it is known, else a `ValueError` naming the choices."""
    if strategy not in STRATEGY_LAYERS:
        raise ValueError("Unknown layer strategy %r; choose one of %s" % (strategy, ", ".join(LAYER_STRATEGIES)))
    return strategy


def combine_layers(hidden_states, strategy, add_n, concat):
    """Apply `strategy` to a list of L+1 hidden states with the given array operations.

    Args:
        hidden_states: a list of L+1 arrays or tensors `(..., time, hidden)`.
        strategy: one of `LAYER_STRATEGIES`.
        add_n: sums a list of arrays elementwise (`tf.add_n`, `keras.ops.sum`...).
        concat: concatenates a list of arrays on the last axis.

    Returns:
        `(..., time, hidden)`, or `(..., time, 4 * hidden)` for `concat_last_4`.
    """
    check_strategy(strategy)
    states = list(hidden_states)
    indices = STRATEGY_LAYERS[strategy]
    if len(states) < max(-i if i < 0 else i + 1 for i in indices):
        raise ValueError("strategy %r needs at least %d layers, got %d"
                         % (strategy, max(-i if i < 0 else i + 1 for i in indices), len(states)))
    chosen = [states[i] for i in indices]
    if len(chosen) == 1:
        return chosen[0]
    if strategy.startswith("sum_"):
        return add_n(chosen)
    if strategy.startswith("mean_"):
        return add_n(chosen) / len(chosen)
    return concat(chosen)
