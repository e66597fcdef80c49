import numpy as np
import pytest

from layer_test_case import run_layer_test

from kerasbert._backend import tf
from kerasbert.layers import CLSPooling, MaskedMaxPooling, MaskedMeanPooling, large_negative_number


@pytest.fixture
def batch():
    rng = np.random.default_rng(3)
    h = rng.normal(size=(2, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    return h, mask


def numpy_reference(kind, h, mask):
    """Per example: the first vector, or the mean / max of the unmasked ones (zeros if none)."""
    out = []
    for x, m in zip(h, mask):
        valid = x[m]
        if kind != "cls" and not len(valid):
            out.append(np.zeros(x.shape[-1], x.dtype))
            continue
        out.append({"cls": x[0], "mean": valid.mean(0), "max": valid.max(0)}[kind])
    return np.stack(out)

KINDS = [("cls", CLSPooling), ("mean", MaskedMeanPooling), ("max", MaskedMaxPooling)]


@pytest.mark.parametrize("kind,layer_class", KINDS)
def test_pooling_matches_numpy_and_ignores_padding(batch, kind, layer_class):
    h, mask = batch
    layer = layer_class()
    out = layer(tf.constant(h), mask=tf.constant(mask)).numpy()
    np.testing.assert_allclose(out, numpy_reference(kind, h, mask), rtol=1e-6, atol=1e-6)
    # Extra pad tokens with large values change nothing.
    padded_h = np.concatenate([h, np.full((2, 3, 4), 50.0, "float32")], axis=1)
    padded_mask = np.concatenate([mask, np.zeros((2, 3), bool)], axis=1)
    np.testing.assert_allclose(layer(tf.constant(padded_h), mask=tf.constant(padded_mask)).numpy(), out, rtol=1e-6)


@pytest.mark.parametrize("kind,layer_class", KINDS)
def test_standard_layer_checks(batch, kind, layer_class):
    h, mask = batch
    out = run_layer_test(layer_class, {}, h, mask=mask, expected_output_shape=(2, 4), expected_output_mask=None)
    np.testing.assert_allclose(out, numpy_reference(kind, h, mask), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind,layer_class", [("mean", MaskedMeanPooling), ("max", MaskedMaxPooling)])
def test_an_all_padding_row_pools_to_zeros(batch, kind, layer_class):
    h, mask = batch
    mask = mask.copy()
    mask[0] = False  # e.g. an empty comment
    h = h - 10.0  # all negative: a max over the fill value would not be 0 by accident
    out = layer_class()(tf.constant(h), mask=tf.constant(mask)).numpy()
    np.testing.assert_array_equal(out[0], np.zeros(4))
    np.testing.assert_allclose(out, numpy_reference(kind, h, mask), rtol=1e-6, atol=1e-6)


def test_mask_constant_is_finite_per_dtype():
    for dtype in (tf.float16, tf.bfloat16, tf.float32):
        value = large_negative_number(dtype)
        assert value.dtype == dtype and np.isfinite(tf.cast(value, tf.float32).numpy())
        assert float(tf.cast(value, tf.float32)) <= -3e4
    # -1e9 itself would overflow float16: the reason for the per-dtype constant.
    with np.errstate(over="ignore"):
        assert np.isinf(np.float16(-1e9))
