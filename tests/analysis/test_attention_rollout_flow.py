"""Attention rollout and flow against hand computations (Abnar & Zuidema 2020)."""

import networkx as nx
import numpy as np
import pytest

from kerasbert.analysis.attention import (
    attention_flow,
    attention_rollout,
    pooled_attention_flow,
    pooled_attention_rollout,
)
from kerasbert.analysis.attention_maps import attention_views

# Raw attentions chosen so that the residual mix 0.5*A + 0.5*I is
# M1 = [[0.6, 0.4], [0.2, 0.8]] and M2 = [[0.7, 0.3], [0.5, 0.5]].
A1 = np.array([[0.2, 0.8], [0.4, 0.6]])
A2 = np.array([[0.4, 0.6], [1.0, 0.0]])
M1 = np.array([[0.6, 0.4], [0.2, 0.8]])
M2 = np.array([[0.7, 0.3], [0.5, 0.5]])


def test_rollout_of_a_hand_built_two_layer_example():
    np.testing.assert_allclose(0.5 * A1 + 0.5 * np.eye(2), M1)
    expected = M2 @ M1  # [[0.48, 0.52], [0.40, 0.60]]
    np.testing.assert_allclose(expected, [[0.48, 0.52], [0.40, 0.60]])
    np.testing.assert_allclose(attention_rollout(np.stack([A1, A2])), expected)
    # Two heads are averaged first: heads (A1 + d, A1 - d) give the same rollout.
    d = np.array([[0.1, -0.1], [-0.2, 0.2]])
    heads = np.stack([np.stack([A1 + d, A1 - d]), np.stack([A2, A2])])  # (layers, heads, T, T)
    np.testing.assert_allclose(attention_rollout(heads), expected)


def test_flow_equals_the_max_flow_computed_by_hand():
    # Two layers, T = 2: the paths (2,i) -> (1,k) -> (0,j) share no edge, so the
    # max-flow is sum_k min(M2[i, k], M1[k, j]).
    flow = attention_flow(np.stack([A1, A2]), normalize=False)
    assert flow[0, 0] == pytest.approx(min(0.7, 0.6) + min(0.3, 0.2))  # 0.8
    assert flow[0, 1] == pytest.approx(min(0.7, 0.4) + min(0.3, 0.8))  # 0.7
    assert flow[1, 0] == pytest.approx(min(0.5, 0.6) + min(0.5, 0.2))  # 0.7
    assert flow[1, 1] == pytest.approx(min(0.5, 0.4) + min(0.5, 0.8))  # 0.9
    normalised = attention_flow(np.stack([A1, A2]))
    np.testing.assert_allclose(normalised, flow / flow.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(attention_flow(np.stack([A1, A2]), rows=[1], normalize=False), flow[[1]])


def test_flow_of_a_random_three_layer_example_matches_networkx_on_a_hand_built_graph():
    rng = np.random.default_rng(0)
    raw = rng.dirichlet(np.ones(3), size=(3, 3))  # (layers, T, T), rows sum to 1
    mixed = 0.5 * raw + 0.5 * np.eye(3)
    graph = nx.DiGraph()
    for layer in range(3):
        for i in range(3):
            for j in range(3):
                graph.add_edge(f"L{layer + 1}-{i}", f"L{layer}-{j}", capacity=mixed[layer, i, j])
    expected = np.array([[nx.maximum_flow_value(graph, f"L3-{i}", f"L0-{j}") for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(attention_flow(raw, normalize=False), expected, atol=1e-9)
    # A max-flow never exceeds the capacity out of its source (1 per row).
    assert np.all(expected <= 1 + 1e-9)


def test_pooled_flow_and_rollout():
    # One layer: source -> (1, i) with capacity w_i, then (1, i) -> (0, j) with M[i, j];
    # the paths are edge-disjoint, so the flow to j is sum_i min(w_i, M[i, j]).
    weights = np.array([0.25, 0.75])
    flow = pooled_attention_flow(A1[None], weights, normalize=False)
    expected = [min(0.25, 0.6) + min(0.75, 0.2), min(0.25, 0.4) + min(0.75, 0.8)]
    np.testing.assert_allclose(flow, expected)
    np.testing.assert_allclose(pooled_attention_rollout(np.stack([A1, A2]), weights), weights @ (M2 @ M1))
    with pytest.raises(ValueError, match="weights"):
        pooled_attention_flow(A1[None], [1.0, -1.0])


def test_attention_views_rows_agree_with_the_matrices():
    rng = np.random.default_rng(1)
    attentions = rng.dirichlet(np.ones(4), size=(2, 3, 4))  # (layers, heads, T, T)
    views = attention_views(attentions)
    np.testing.assert_allclose(views["first"]["rollout"], views["rollout"][0])
    np.testing.assert_allclose(views["first"]["flow"], views["flow"][0])
    np.testing.assert_allclose(views["raw"], attentions[-1].mean(axis=0))
    np.testing.assert_allclose(views["pooled"]["raw"], views["raw"].mean(axis=0))
    np.testing.assert_allclose(views["pooled"]["rollout"], views["rollout"].mean(axis=0))
    # Too long for the full flow matrix: only the rows are computed.
    short = attention_views(attentions, max_flow_tokens=3)
    assert short["flow"] is None
    np.testing.assert_allclose(short["first"]["flow"], views["flow"][0])
