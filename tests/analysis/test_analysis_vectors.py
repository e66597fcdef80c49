"""BERT-whitening and Word Mover's Distance."""

import numpy as np
import pytest

from kerasbert.analysis import apply_whitening, bert_whitening, word_movers_distance


def test_whitened_embeddings_have_identity_covariance_and_zero_mean():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(6, 6))
    embeddings = rng.normal(size=(300, 6)) @ mixing + 3.0
    kernel, bias = bert_whitening(embeddings)
    whitened = apply_whitening(embeddings, kernel, bias)
    np.testing.assert_allclose(np.cov(whitened.T), np.eye(6), atol=1e-8)
    np.testing.assert_allclose(whitened.mean(axis=0), 0.0, atol=1e-8)


def test_whitening_keeps_first_components():
    rng = np.random.default_rng(1)
    embeddings = rng.normal(size=(100, 8)) * np.arange(1, 9)
    kernel, bias = bert_whitening(embeddings, n_components=3)
    assert kernel.shape == (8, 3) and bias.shape == (1, 8)
    whitened = apply_whitening(embeddings, kernel, bias, normalize=True)
    assert whitened.shape == (100, 3)
    np.testing.assert_allclose(np.linalg.norm(whitened, axis=1), 1.0)
    with pytest.raises(ValueError, match="n_components"):
        bert_whitening(embeddings, n_components=9)
    with pytest.raises(ValueError, match="embeddings contains NaN"):
        bert_whitening(np.array([[1.0, np.nan], [2.0, 3.0]]))


def test_wmd_of_identical_documents_is_zero_and_distance_is_symmetric():
    rng = np.random.default_rng(2)
    tokens_a = ["电影", "很", "好看", "很"]
    vecs_a = rng.normal(size=(4, 5))
    vecs_a[3] = vecs_a[1]
    tokens_b = ["剧情", "无聊"]
    vecs_b = rng.normal(size=(2, 5))
    for metric in ("cosine", "euclidean"):
        assert word_movers_distance(tokens_a, vecs_a, tokens_a, vecs_a, metric) == pytest.approx(0.0, abs=1e-9)
        ab = word_movers_distance(tokens_a, vecs_a, tokens_b, vecs_b, metric)
        ba = word_movers_distance(tokens_b, vecs_b, tokens_a, vecs_a, metric)
        assert ab > 0 and ab == pytest.approx(ba)


def brute_force_2x2(a, b, cost):
    """Transport plans between 2 and 2 points: T11 = t, the rest follow."""
    low, high = max(0.0, b[0] - a[1]), min(a[0], b[0])
    best = np.inf
    for t in np.linspace(low, high, 2001):
        plan = np.array([[t, a[0] - t], [b[0] - t, a[1] - b[0] + t]])
        best = min(best, float((plan * cost).sum()))
    return best


def test_wmd_matches_brute_force_on_two_by_two_case():
    tokens_a, vecs_a = ["好", "好", "看"], np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    tokens_b, vecs_b = ["棒", "差"], np.array([[0.5, 0.5], [3.0, 1.0]])
    a = np.array([2 / 3, 1 / 3])
    b = np.array([0.5, 0.5])
    unique_a = vecs_a[[0, 2]]
    euclid = np.linalg.norm(unique_a[:, None, :] - vecs_b[None, :, :], axis=-1)
    assert word_movers_distance(tokens_a, vecs_a, tokens_b, vecs_b, "euclidean") == pytest.approx(
        brute_force_2x2(a, b, euclid), abs=1e-6)
    unit_a = unique_a / np.linalg.norm(unique_a, axis=1, keepdims=True)
    unit_b = vecs_b / np.linalg.norm(vecs_b, axis=1, keepdims=True)
    cosine = 1 - unit_a @ unit_b.T
    assert word_movers_distance(tokens_a, vecs_a, tokens_b, vecs_b) == pytest.approx(
        brute_force_2x2(a, b, cosine), abs=1e-6)


def test_wmd_bad_inputs():
    with pytest.raises(ValueError, match="vecs_a has 1 rows"):
        word_movers_distance(["a", "b"], np.ones((1, 2)), ["c"], np.ones((1, 2)))
    with pytest.raises(ValueError, match="metric"):
        word_movers_distance(["a"], np.ones((1, 2)), ["c"], np.ones((1, 2)), metric="manhattan")
