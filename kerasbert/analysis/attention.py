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


def _flow_graph(mixed):
    """Layered DiGraph: node (l + 1, i) -> (l, j) with capacity mixed[l, i, j]."""
    import networkx as nx

    n_layers, length, _ = mixed.shape
    graph = nx.DiGraph()
    for layer in range(n_layers):
        for i in range(length):
            for j in range(length):
                capacity = mixed[layer, i, j]
                if capacity > 0:
                    graph.add_edge((layer + 1, i), (layer, j), capacity=float(capacity))
    return graph


def _max_flow_value(graph):
    """max_flow(source, sink) on `graph`, reusing one residual network (preflow-push)."""
    import networkx as nx
    from networkx.algorithms.flow import build_residual_network, preflow_push

    residual = build_residual_network(graph, "capacity")
    return lambda source, sink: nx.maximum_flow_value(graph, source, sink, flow_func=preflow_push,
                                                      residual=residual)


def _check_flow_inputs(attentions, max_tokens):
    try:
        import networkx  # noqa: F401
    except ImportError as err:
        raise ImportError("attention_flow needs networkx: pip install networkx") from err
    mixed = residual_attention(attentions)
    length = mixed.shape[-1]
    if length > max_tokens:
        raise ValueError(
            f"attention_flow is for short sequences: T={length} > max_tokens={max_tokens}"
        )
    return mixed


def _normalise_rows(flow):
    totals = flow.sum(axis=-1, keepdims=True)
    return np.divide(flow, totals, out=np.zeros_like(flow), where=totals > 0)


def attention_flow(attentions, max_tokens=64, rows=None, normalize=True):
    """Attention flow: max-flow from each top-layer token to each input token.

    Same input as `attention_rollout`. Edges between adjacent layers carry the
    residual-mixed attention as capacity (networkx `maximum_flow_value`).
    `rows`: the output tokens to compute (default all; each costs T max-flow
    problems). With `normalize`, each row is scaled to sum to 1 (as the
    paper's figures); otherwise the raw max-flow values are returned.
    Returns (len(rows), T). Only short sequences (T <= `max_tokens`).
    """
    mixed = _check_flow_inputs(attentions, max_tokens)
    n_layers, length, _ = mixed.shape
    rows = range(length) if rows is None else [int(row) for row in rows]
    graph = _flow_graph(mixed)
    max_flow = _max_flow_value(graph)
    flow = np.array([[max_flow((n_layers, i), (0, j)) for j in range(length)]
                     for i in rows], dtype=float).reshape(len(rows), length)
    return _normalise_rows(flow) if normalize else flow


def pooled_attention_flow(attentions, weights, max_tokens=64, normalize=True):
    """Attention flow from a pooled output to each input token.

    The pooled vector is a weighted sum of top-layer tokens (e.g. mean
    pooling: equal `weights` over real tokens): a source node feeds each top
    token i with capacity weights[i], and the max-flow to each input token
    is computed. Returns (T,).
    """
    mixed = _check_flow_inputs(attentions, max_tokens)
    n_layers, length, _ = mixed.shape
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (length,) or np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError(f"weights must be {length} non-negative numbers, got shape {weights.shape}")
    graph = _flow_graph(mixed)
    source = "pooled"
    for i in range(length):
        if weights[i] > 0:
            graph.add_edge(source, (n_layers, i), capacity=float(weights[i]))
    max_flow = _max_flow_value(graph)
    flow = np.array([max_flow(source, (0, j)) for j in range(length)])
    return _normalise_rows(flow) if normalize else flow


def pooled_attention_rollout(attentions, weights):
    """Rollout of a pooled output: weights @ rollout, normalised to sum to 1. Returns (T,)."""
    rollout = attention_rollout(attentions)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (rollout.shape[0],) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(f"weights must be {rollout.shape[0]} non-negative numbers with a positive sum")
    return (weights / weights.sum()) @ rollout
