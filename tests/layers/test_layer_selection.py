import numpy as np
import pytest

from kerasbert._backend import keras, tf
from kerasbert.layers import LAYER_STRATEGIES, LayerSelection

LAYERS = [np.random.default_rng(i).normal(size=(2, 3, 4)).astype("float32") for i in range(6)]
EXPECTED = {
    "embeddings": LAYERS[0],
    "last": LAYERS[-1],
    "second_to_last": LAYERS[-2],
    "sum_last_4": sum(LAYERS[-4:]),
    "mean_last_4": sum(LAYERS[-4:]) / 4,
    "concat_last_4": np.concatenate(LAYERS[-4:], axis=-1),
}


@pytest.mark.parametrize("strategy", LAYER_STRATEGIES)
def test_strategy_matches_numpy(strategy):
    layer = LayerSelection(strategy)
    out = layer([tf.constant(t) for t in LAYERS]).numpy()
    np.testing.assert_allclose(out, EXPECTED[strategy], rtol=1e-6)
    assert LayerSelection.from_config(layer.get_config()).get_config() == layer.get_config()


def test_mask_passes_through_and_bad_strategy():
    mask = tf.constant([[True, False, False], [True, True, True]])
    assert np.array_equal(LayerSelection("last").compute_mask(None, [mask] * 6).numpy(), mask.numpy())
    with pytest.raises(ValueError, match="Unknown layer strategy"):
        LayerSelection("top")
    with pytest.raises(ValueError, match="at least 4 layers"):
        LayerSelection("sum_last_4")([tf.zeros((1, 2, 3))] * 3)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_keeps_the_compute_dtype(policy):
    keras.mixed_precision.set_global_policy(policy)
    compute = tf.float16 if policy == "mixed_float16" else tf.bfloat16
    for strategy in LAYER_STRATEGIES:
        out = LayerSelection(strategy)([tf.cast(t, compute) for t in LAYERS])
        assert out.dtype == compute
        np.testing.assert_allclose(tf.cast(out, tf.float32).numpy(), EXPECTED[strategy], rtol=0.02, atol=0.05)
