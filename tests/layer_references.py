"""NumPy references for the layers, shared by the tf-keras and the Keras 3 roads' tests."""

import numpy as np


def numpy_scalar_mix(tensors, scalars, gamma=1.0, mask=None, do_layer_norm=False):
    """The formula written out in NumPy, normalising per sentence."""
    scalars = np.asarray(scalars, dtype=np.float64)
    weights = np.exp(scalars) / np.exp(scalars).sum()
    out = 0.0
    for w, t in zip(weights, tensors):
        t = np.asarray(t, dtype=np.float64)
        if do_layer_norm:
            m = np.ones(t.shape[:2]) if mask is None else np.asarray(mask, np.float64)
            normed = np.empty_like(t)
            for b in range(t.shape[0]):
                values = t[b][m[b] > 0]
                normed[b] = (t[b] - values.mean()) / np.sqrt(values.var() + 1e-12)
            t = normed
        out = out + w * t
    return gamma * out


def numpy_self_attention(h, mask, w1, w2):
    """A = softmax(W2ᵀ tanh(W1ᵀ Hᵀ)) over unmasked positions; M = A H."""
    scores = np.tanh(h.astype(np.float64) @ w1) @ w2  # (batch, time, r)
    scores = np.transpose(scores, (0, 2, 1))
    scores = np.where(mask[:, None, :], scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    a = np.exp(scores)
    a /= a.sum(axis=-1, keepdims=True)
    return a, a @ h


def numpy_penalty(a):
    eye = np.eye(a.shape[1])
    return np.array([np.sum((x @ x.T - eye) ** 2) for x in a])


def numpy_masked_mean(h, mask):
    weights = np.asarray(mask, np.float64)[:, :, None]
    return (h * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)


def numpy_masked_max(h, mask):
    keep = np.asarray(mask, bool)[:, :, None]
    pooled = np.where(keep, h, -np.inf).max(axis=1)
    return np.where(keep.any(axis=1), pooled, 0.0)
