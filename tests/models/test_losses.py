import numpy as np
import pytest

from kerasbert._backend import keras
from kerasbert.models.losses import NeighbourSmoothedCrossentropy, neighbour_smoothed_targets


def reference_targets(labels, epsilon, num_classes=5):
    targets = np.zeros((len(labels), num_classes))
    for row, label in enumerate(labels):
        targets[row, label] = 1.0 - epsilon
        neighbours = [n for n in (label - 1, label + 1) if 0 <= n < num_classes]
        for n in neighbours:
            targets[row, n] += epsilon / len(neighbours)
    return targets


def test_targets_move_mass_to_neighbouring_stars_only():
    labels = np.array([0, 1, 2, 3, 4])
    got = neighbour_smoothed_targets(labels, 0.2).numpy()
    np.testing.assert_allclose(got, reference_targets(labels, 0.2), atol=1e-7)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)
    assert got[0, 1] == pytest.approx(0.2) and got[2, 1] == pytest.approx(0.1) and got[2, 4] == 0.0


def test_loss_matches_numpy_cross_entropy_and_reduces_to_sparse_at_zero():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(8, 5))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 5, size=(8, 1))
    expected = -(reference_targets(labels[:, 0], 0.3) * np.log(probs)).sum(axis=1).mean()
    got = NeighbourSmoothedCrossentropy(0.3)(labels, probs.astype("float32")).numpy()
    assert got == pytest.approx(expected, rel=1e-5)
    sparse = keras.losses.SparseCategoricalCrossentropy()(labels, probs).numpy()
    assert NeighbourSmoothedCrossentropy(0.0)(labels, probs).numpy() == pytest.approx(sparse, rel=1e-5)


def test_float16_probabilities_give_a_float32_loss():
    probs = np.full((2, 5), 0.2, dtype="float16")
    loss = NeighbourSmoothedCrossentropy(0.1)(np.array([0, 4]), probs)
    assert loss.dtype == "float32" and np.isfinite(loss.numpy())


def test_config_round_trip_and_bad_epsilon():
    loss = NeighbourSmoothedCrossentropy(0.25)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, NeighbourSmoothedCrossentropy) and restored.epsilon == 0.25
    with pytest.raises(ValueError, match="epsilon"):
        NeighbourSmoothedCrossentropy(1.0)
