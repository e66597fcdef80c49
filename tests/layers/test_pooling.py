import numpy as np
import pytest

from kerasbert._backend import keras, tf
from kerasbert.layers import CLSPooling, MaskedMaxPooling, MaskedMeanPooling, large_negative_number


@pytest.fixture
def batch():
    rng = np.random.default_rng(3)
    h = rng.normal(size=(2, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    return h, mask


def numpy_reference(kind, h, mask):
    out = []
    for x, m in zip(h, mask):
        valid = x[m]
        out.append({"cls": x[0], "mean": valid.mean(0), "max": valid.max(0)}[kind])
    return np.stack(out)


@pytest.mark.parametrize("kind,layer_class", [("cls", CLSPooling), ("mean", MaskedMeanPooling), ("max", MaskedMaxPooling)])
def test_pooling_matches_numpy_and_ignores_padding(batch, kind, layer_class):
    h, mask = batch
    layer = layer_class()
    out = layer(tf.constant(h), mask=tf.constant(mask)).numpy()
    np.testing.assert_allclose(out, numpy_reference(kind, h, mask), rtol=1e-6, atol=1e-6)
    # Extra pad tokens with large values change nothing.
    padded_h = np.concatenate([h, np.full((2, 3, 4), 50.0, "float32")], axis=1)
    padded_mask = np.concatenate([mask, np.zeros((2, 3), bool)], axis=1)
    np.testing.assert_allclose(layer(tf.constant(padded_h), mask=tf.constant(padded_mask)).numpy(), out, rtol=1e-6)
    assert layer.compute_mask(tf.constant(h), tf.constant(mask)) is None
    assert layer_class.from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("layer_class", [MaskedMeanPooling, MaskedMaxPooling])
def test_mixed_precision_pooling_is_finite(batch, policy, layer_class):
    keras.mixed_precision.set_global_policy(policy)
    h, mask = batch
    compute = tf.float16 if policy == "mixed_float16" else tf.bfloat16
    out = layer_class()(tf.cast(h, compute), mask=tf.constant(mask))
    assert out.dtype == compute
    np.testing.assert_allclose(
        tf.cast(out, tf.float32).numpy(), numpy_reference("mean" if layer_class is MaskedMeanPooling else "max", h, mask), atol=0.05
    )


def test_mask_constant_is_finite_per_dtype():
    for dtype in (tf.float16, tf.bfloat16, tf.float32):
        value = large_negative_number(dtype)
        assert value.dtype == dtype and np.isfinite(tf.cast(value, tf.float32).numpy())
        assert float(tf.cast(value, tf.float32)) <= -3e4
    # -1e9 itself would overflow float16: the reason for the per-dtype constant.
    with np.errstate(over="ignore"):
        assert np.isinf(np.float16(-1e9))


@pytest.mark.parametrize("layer_class", [CLSPooling, MaskedMeanPooling, MaskedMaxPooling])
def test_fit_step_trains_through_the_pooling(batch, layer_class):
    h, mask = batch
    inputs = keras.Input((None, 4))
    masked = keras.layers.Masking(0.0)(inputs)
    projected = keras.layers.Dense(4, name="before")(masked)  # Dense keeps the mask
    model = keras.Model(inputs, keras.layers.Dense(1)(layer_class()(projected)))
    model.compile(keras.optimizers.Adam(0.05), "mse")
    x = np.where(mask[:, :, None], h, 0.0).astype("float32")
    before = model.get_layer("before").kernel.numpy().copy()
    history = model.fit(x, np.array([[1.0], [-1.0]], "float32"), epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.any(model.get_layer("before").kernel.numpy() != before)
