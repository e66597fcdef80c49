import numpy as np
import pytest

from kerasbert._backend import keras, tf
from kerasbert.layers import SelfAttentivePooling


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


@pytest.fixture
def batch():
    rng = np.random.default_rng(1)
    h = rng.normal(size=(3, 7, 8)).astype("float32")
    mask = np.ones((3, 7), dtype=bool)
    mask[0, 4:] = False
    mask[1, 6:] = False
    return h, mask


def test_attention_output_and_penalty_match_numpy(batch):
    h, mask = batch
    layer = SelfAttentivePooling(attention_units=5, num_hops=3, penalty_coefficient=0.7)
    pooled, attention = layer(tf.constant(h), mask=tf.constant(mask), return_attention_scores=True)
    a_ref, m_ref = numpy_self_attention(h, mask, layer.ws1.kernel.numpy(), layer.ws2.kernel.numpy())
    np.testing.assert_allclose(attention.numpy(), a_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(attention.numpy().sum(-1), 1.0, rtol=1e-6)
    assert np.all(attention.numpy()[~np.broadcast_to(mask[:, None, :], a_ref.shape)] == 0.0)
    np.testing.assert_allclose(pooled.numpy(), m_ref.reshape(3, -1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.penalty(attention).numpy(), numpy_penalty(a_ref), rtol=1e-5)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(layer.losses[0].numpy(), 0.7 * numpy_penalty(a_ref).mean(), rtol=1e-5)


def test_mean_of_hops(batch):
    h, mask = batch
    layer = SelfAttentivePooling(attention_units=5, num_hops=3, merge_hops="mean", penalty_coefficient=0)
    pooled, attention = layer(tf.constant(h), mask=tf.constant(mask), return_attention_scores=True)
    assert pooled.shape == (3, 8)
    np.testing.assert_allclose(pooled.numpy(), (attention.numpy() @ h).mean(axis=1), rtol=1e-5, atol=1e-6)
    assert layer.losses == []


def test_extra_padding_leaves_output_unchanged(batch):
    h, mask = batch
    layer = SelfAttentivePooling(attention_units=5, num_hops=2)
    short = layer(tf.constant(h), mask=tf.constant(mask)).numpy()
    padded_h = np.concatenate([h, np.random.default_rng(2).normal(size=(3, 5, 8)).astype("float32")], axis=1)
    padded_mask = np.concatenate([mask, np.zeros((3, 5), bool)], axis=1)
    longer = layer(tf.constant(padded_h), mask=tf.constant(padded_mask)).numpy()
    np.testing.assert_allclose(longer, short, rtol=1e-5, atol=1e-6)


def test_config_round_trip():
    layer = SelfAttentivePooling(attention_units=11, num_hops=4, penalty_coefficient=0.3, merge_hops="mean")
    config = layer.get_config()
    assert SelfAttentivePooling.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="merge_hops"):
        SelfAttentivePooling(merge_hops="sum")


def test_fit_step_adds_the_penalty_to_the_loss(batch):
    h, mask = batch
    inputs = keras.Input((None, 8))
    masked = keras.layers.Masking(0.0)(inputs)
    pooled = SelfAttentivePooling(attention_units=5, num_hops=3, penalty_coefficient=1.0, name="pool")(masked)
    model = keras.Model(inputs, keras.layers.Dense(1)(pooled))
    model.compile(keras.optimizers.Adam(0.05), "mse")
    x = np.where(mask[:, :, None], h, 0.0).astype("float32")
    y = np.zeros((3, 1), "float32")
    before = [w.numpy().copy() for w in model.get_layer("pool").weights]
    history = model.fit(x, y, epochs=25, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(np.any(b != w.numpy()) for b, w in zip(before, model.get_layer("pool").weights))
    # Minimising ‖AAᵀ−I‖² pushes the hops apart: the penalty itself went down.
    _, attention = model.get_layer("pool")(tf.constant(x), mask=tf.constant(mask), return_attention_scores=True)
    assert float(tf.reduce_mean(SelfAttentivePooling.penalty(attention))) < 2.0


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_keeps_softmax_and_penalty_float32(batch, policy):
    keras.mixed_precision.set_global_policy(policy)
    h, mask = batch
    compute = tf.float16 if policy == "mixed_float16" else tf.bfloat16
    layer = SelfAttentivePooling(attention_units=5, num_hops=3)
    pooled, attention = layer(tf.cast(h, compute), mask=tf.constant(mask), return_attention_scores=True)
    assert pooled.dtype == compute
    assert attention.dtype == tf.float32 and layer.losses[0].dtype == tf.float32
    assert np.isfinite(layer.losses[0].numpy()) and np.isfinite(tf.cast(pooled, tf.float32).numpy()).all()
    assert np.all(attention.numpy()[~np.broadcast_to(mask[:, None, :], attention.shape)] == 0.0)
