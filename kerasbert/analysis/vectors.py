"""Sentence-vector tools: BERT-whitening and Word Mover's Distance."""

from collections import Counter

import numpy as np

from kerasbert.errors import ArgumentError
from kerasbert.evaluation.metrics import as_finite_array
from kerasbert.limits import integer


def bert_whitening(embeddings, n_components=None):
    """(kernel, bias) of BERT-whitening (Su et al. 2021, arXiv:2103.15316).

    mu = mean, cov = covariance, U, S = svd(cov), kernel = U diag(1/sqrt(S)),
    bias = -mu; keep the first `n_components` columns to reduce dimension.
    Apply with `apply_whitening`.
    """
    vectors = as_finite_array("embeddings", embeddings, ndim=2)
    n, dims = vectors.shape
    if n < 2:
        raise ArgumentError("embeddings", f"whitening needs at least 2 texts to estimate a covariance, got {n}")
    if n_components is not None:
        integer(1, dims).check("n_components", n_components)
    mu = vectors.mean(axis=0, keepdims=True)
    cov = np.cov(vectors.T)
    u, s, _ = np.linalg.svd(np.atleast_2d(cov))
    s = np.maximum(s, np.finfo(float).eps * max(s.max(), 1.0))  # rank-deficient guard
    kernel = u @ np.diag(1.0 / np.sqrt(s))
    if n_components is not None:
        kernel = kernel[:, :int(n_components)]
    return kernel, -mu


def apply_whitening(x, kernel, bias, normalize=False):
    """(x + bias) @ kernel; L2-normalised rows when `normalize`."""
    x = np.asarray(x, dtype=float)
    if x.shape[-1] != kernel.shape[0]:
        raise ValueError(f"x has dimension {x.shape[-1]} but kernel expects {kernel.shape[0]}")
    whitened = (x + bias) @ kernel
    if normalize:
        norms = np.linalg.norm(whitened, axis=-1, keepdims=True)
        whitened = whitened / np.maximum(norms, 1e-12)
    return whitened


def _bag_of_words(name, tokens, vectors):
    """Unique tokens' nBOW weights and vectors (first occurrence's vector)."""
    tokens = [str(token) for token in tokens]
    vectors = as_finite_array(name, vectors, ndim=2)
    if len(tokens) != len(vectors):
        raise ValueError(f"{name} has {len(vectors)} rows but its tokens list has {len(tokens)}")
    counts = Counter(tokens)
    unique = list(counts)
    first = {token: tokens.index(token) for token in unique}
    weights = np.array([counts[token] for token in unique], dtype=float)
    return weights / weights.sum(), vectors[[first[token] for token in unique]]


def word_movers_distance(tokens_a, vecs_a, tokens_b, vecs_b, metric="cosine"):
    """Word Mover's Distance (Kusner et al. 2015) via POT's exact `ot.emd2`.

    Each document is a normalised bag of words; `vecs_*` holds one vector per
    token (same order). `metric`: "cosine" (1 - cosine similarity) or
    "euclidean".
    """
    import ot

    if metric not in ("cosine", "euclidean"):
        raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}")
    weights_a, vectors_a = _bag_of_words("vecs_a", tokens_a, vecs_a)
    weights_b, vectors_b = _bag_of_words("vecs_b", tokens_b, vecs_b)
    if vectors_a.shape[1] != vectors_b.shape[1]:
        raise ValueError(f"vecs_a has dimension {vectors_a.shape[1]} but vecs_b has {vectors_b.shape[1]}")
    if metric == "cosine":
        unit_a = vectors_a / np.maximum(np.linalg.norm(vectors_a, axis=1, keepdims=True), 1e-12)
        unit_b = vectors_b / np.maximum(np.linalg.norm(vectors_b, axis=1, keepdims=True), 1e-12)
        cost = np.clip(1.0 - unit_a @ unit_b.T, 0.0, 2.0)
    else:
        cost = np.linalg.norm(vectors_a[:, None, :] - vectors_b[None, :, :], axis=-1)
    return float(max(ot.emd2(weights_a, weights_b, cost), 0.0))
