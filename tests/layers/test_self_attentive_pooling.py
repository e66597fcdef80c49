import numpy as np
import pytest

from layer_references import numpy_penalty, numpy_self_attention
from layer_test_case import run_layer_test

from kerasbert._backend import keras, tf
from kerasbert.layers import SelfAttentivePooling


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


@pytest.mark.parametrize("merge_hops,width", [("flatten", 3 * 8), ("mean", 8)])
def test_standard_layer_checks(batch, merge_hops, width):
    h, mask = batch
    init_kwargs = dict(attention_units=5, num_hops=3, penalty_coefficient=0.3, merge_hops=merge_hops)
    run_layer_test(SelfAttentivePooling, init_kwargs, h, mask=mask, expected_output_shape=(3, width),
                   expected_output_mask=None)
    with pytest.raises(ValueError, match="merge_hops"):
        SelfAttentivePooling(merge_hops="sum")


def test_fit_minimises_task_loss_plus_the_penalty(batch):
    h, mask = batch
    coefficient = 0.5
    inputs = keras.Input((None, 8))
    masked = keras.layers.Masking(0.0)(inputs)
    pool = SelfAttentivePooling(attention_units=5, num_hops=3, penalty_coefficient=coefficient, name="pool")
    model = keras.Model(inputs, keras.layers.Dense(1)(pool(masked)))
    model.compile(keras.optimizers.Adam(0.05), "mse")
    x = np.where(mask[:, :, None], h, 0.0).astype("float32")
    y = np.random.default_rng(4).normal(size=(3, 1)).astype("float32")

    def numpy_loss_terms():
        """(task MSE, mean penalty P) from the model's current weights, in NumPy."""
        task = np.mean((model.predict(x, verbose=0) - y) ** 2)
        attention, _ = numpy_self_attention(x, mask, pool.ws1.kernel.numpy(), pool.ws2.kernel.numpy())
        return task, numpy_penalty(attention).mean()

    task_before, penalty_before = numpy_loss_terms()
    # The loss Keras reports is the task loss plus coefficient × P.
    assert model.evaluate(x, y, verbose=0) == pytest.approx(task_before + coefficient * penalty_before, rel=1e-5)
    model.fit(x, y, epochs=25, verbose=0)
    task_after, penalty_after = numpy_loss_terms()
    assert model.evaluate(x, y, verbose=0) == pytest.approx(task_after + coefficient * penalty_after, rel=1e-5)
    # Minimising ‖AAᵀ−I‖² pushes the hops apart: the penalty itself went down.
    assert penalty_after < 0.8 * penalty_before, (penalty_before, penalty_after)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_keeps_attention_and_penalty_float32(batch, policy):
    keras.mixed_precision.set_global_policy(policy)
    h, mask = batch
    compute = tf.float16 if policy == "mixed_float16" else tf.bfloat16
    layer = SelfAttentivePooling(attention_units=5, num_hops=3)
    pooled, attention = layer(tf.cast(h, compute), mask=tf.constant(mask), return_attention_scores=True)
    assert pooled.dtype == compute
    assert attention.dtype == tf.float32 and layer.losses[0].dtype == tf.float32
    assert np.isfinite(layer.losses[0].numpy()) and np.isfinite(tf.cast(pooled, tf.float32).numpy()).all()
    assert np.all(attention.numpy()[~np.broadcast_to(mask[:, None, :], attention.shape)] == 0.0)
