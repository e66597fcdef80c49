"""Attention rollout and attention flow (Abnar & Zuidema 2020, arXiv:2005.00928)."""

import numpy as np


def _layers_of(attentions):
    """(layers, T, T) head-averaged attentions, validated."""
    if isinstance(attentions, (list, tuple)):  # per layer (heads, T, T) or (T, T)
        layers = [np.asarray(layer, dtype=float) for layer in attentions]
        attentions = [layer.mean(axis=0) if layer.ndim == 3 else layer for layer in layers]
        if len({layer.shape for layer in attentions}) > 1:
            raise ValueError(f"attentions layers differ in shape: {[a.shape for a in attentions]}")
    array = np.asarray(attentions, dtype=float)
    if array.ndim == 4:  # (layers, heads, T, T)
        array = array.mean(axis=1)
    if array.ndim != 3 or array.shape[1] != array.shape[2]:
        raise ValueError(
            "attentions must be (layers, heads, T, T) or (layers, T, T) for one example, "
            f"got shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError("attentions is empty (no layers)")
    if not np.all(np.isfinite(array)):
        raise ValueError("attentions contains NaN or infinite values")
    if np.any(array < 0):
        raise ValueError("attentions must be non-negative attention probabilities")
    return array


def residual_attention(attentions):
    """Per layer 0.5*A + 0.5*I, rows renormalised: (layers, T, T)."""
    layers = _layers_of(attentions)
    identity = np.eye(layers.shape[-1])
    mixed = 0.5 * layers + 0.5 * identity
    return mixed / mixed.sum(axis=-1, keepdims=True)


def attention_rollout(attentions):
    """Attention rollout: A_L @ ... @ A_1 of the residual-mixed attentions.

    `attentions`: one example's attentions, (layers, heads, T, T) or
    (layers, T, T), or a list of per-layer (heads, T, T) / (T, T) arrays,
    layer 1 first (e.g. `[a[i] for a in hf_outputs.attentions]`).
    Returns (T, T): row i is output token i's attention over input tokens.
    """
    mixed = residual_attention(attentions)
    rollout = mixed[0]
    for layer in mixed[1:]:
        rollout = layer @ rollout
    return rollout


def attention_flow(attentions, max_tokens=64):
    """Attention flow: max-flow from each top-layer token to each input token.

    Same input as `attention_rollout`. Edges between adjacent layers carry the
    residual-mixed attention as capacity; each row is normalised to sum to 1.
    Cost grows as T^2 max-flow problems, so only short sequences
    (T <= `max_tokens`). Needs `networkx`.
    """
    try:
        import networkx as nx
    except ImportError as err:
        raise ImportError("attention_flow needs networkx: pip install networkx") from err
    mixed = residual_attention(attentions)
    n_layers, length, _ = mixed.shape
    if length > max_tokens:
        raise ValueError(
            f"attention_flow is for short sequences: T={length} > max_tokens={max_tokens}"
        )
    graph = nx.DiGraph()
    for layer in range(n_layers):
        for i in range(length):  # node (layer + 1, i) attends to (layer, j)
            for j in range(length):
                capacity = mixed[layer, i, j]
                if capacity > 0:
                    graph.add_edge((layer + 1, i), (layer, j), capacity=float(capacity))
    flow = np.zeros((length, length))
    for i in range(length):
        for j in range(length):
            flow[i, j] = nx.maximum_flow_value(graph, (n_layers, i), (0, j))
    totals = flow.sum(axis=1, keepdims=True)
    return np.divide(flow, totals, out=np.zeros_like(flow), where=totals > 0)
