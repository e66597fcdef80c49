import numpy as np
import pytest

from layer_test_case import PASS_THROUGH, run_layer_test

from kerasbert._backend import tf
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


@pytest.mark.parametrize("strategy", LAYER_STRATEGIES)
def test_standard_layer_checks(strategy):
    mask = np.array([[True, True, False], [True, True, True]])
    width = 16 if strategy == "concat_last_4" else 4
    out = run_layer_test(LayerSelection, {"strategy": strategy}, LAYERS, mask=mask,
                         expected_output_shape=(2, 3, width), expected_output_mask=PASS_THROUGH)
    np.testing.assert_allclose(out, EXPECTED[strategy], rtol=1e-6)


def test_mask_passes_through_and_bad_strategy():
    mask = tf.constant([[True, False, False], [True, True, True]])
    assert np.array_equal(LayerSelection("last").compute_mask(None, [mask] * 6).numpy(), mask.numpy())
    with pytest.raises(ValueError, match="Unknown layer strategy"):
        LayerSelection("top")
    with pytest.raises(ValueError, match="at least 4 layers"):
        LayerSelection("sum_last_4")([tf.zeros((1, 2, 3))] * 3)
