import numpy as np
import pytest

from layer_references import numpy_scalar_mix
from layer_test_case import PASS_THROUGH, run_layer_test

from kerasbert._backend import keras, tf
from kerasbert.layers import ScalarMix


def random_layers(n=4, batch=3, time=5, hidden=6, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(batch, time, hidden)).astype("float32") * (i + 1) for i in range(n)]


def test_weights_and_output_match_numpy():
    layers = random_layers()
    scalars = [0.5, -1.0, 2.0, 0.0]
    mix = ScalarMix(initial_scalar_parameters=scalars)
    mix.build([t.shape for t in layers])
    mix.gamma.assign(1.7)
    out = mix([tf.constant(t) for t in layers]).numpy()
    expected_weights = np.exp(scalars) / np.exp(scalars).sum()
    np.testing.assert_allclose(mix.normalized_weights(), expected_weights, rtol=1e-6)
    np.testing.assert_allclose(out, numpy_scalar_mix(layers, scalars, gamma=1.7), rtol=1e-5, atol=1e-5)


def test_defaults_are_uniform_weights_and_unit_gamma():
    layers = random_layers(n=3)
    mix = ScalarMix()
    out = mix([tf.constant(t) for t in layers]).numpy()
    np.testing.assert_allclose(mix.normalized_weights(), [1 / 3] * 3, rtol=1e-6)
    assert float(mix.gamma.numpy()) == 1.0
    np.testing.assert_allclose(out, np.mean(layers, axis=0), rtol=1e-5, atol=1e-6)


def test_layer_indices_pick_layers():
    layers = random_layers(n=5)
    mix = ScalarMix(layer_indices=[-2, -1], initial_scalar_parameters=[1.0, 0.0])
    out = mix([tf.constant(t) for t in layers]).numpy()
    np.testing.assert_allclose(out, numpy_scalar_mix(layers[-2:], [1.0, 0.0]), rtol=1e-5, atol=1e-6)


def test_masked_layer_norm_is_per_sentence():
    layers = random_layers(n=2, batch=2, time=6)
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=bool)
    layers[0][0, 4:] = 1000.0  # padding must not move the statistics
    mix = ScalarMix(do_layer_norm=True, initial_scalar_parameters=[0.3, -0.3])
    out = mix([tf.constant(t) for t in layers], mask=[tf.constant(mask)] * 2).numpy()
    expected = numpy_scalar_mix(layers, [0.3, -0.3], mask=mask, do_layer_norm=True)
    np.testing.assert_allclose(out[0, :4], expected[0, :4], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out[1], expected[1], rtol=1e-4, atol=1e-4)
    # The first example alone gives the same output as inside the batch.
    alone = mix([tf.constant(t[:1]) for t in layers], mask=[tf.constant(mask[:1])] * 2).numpy()
    np.testing.assert_allclose(alone[0, :4], out[0, :4], rtol=1e-5, atol=1e-5)


def test_wrong_number_of_initial_parameters():
    with pytest.raises(ValueError, match="3 values for 2 mixed layers"):
        ScalarMix(initial_scalar_parameters=[0, 0, 0])([tf.zeros((1, 2, 3))] * 2)


def test_trainable_flag_freezes_scalars_and_gamma():
    mix = ScalarMix(trainable=False)
    mix([tf.zeros((1, 2, 3))] * 2)
    assert mix.trainable_weights == [] and len(mix.non_trainable_weights) == 2


def test_fit_learns_to_pick_the_informative_layer():
    rng = np.random.default_rng(0)
    informative = rng.normal(size=(64, 3, 2)).astype("float32")
    noise = rng.normal(size=(64, 3, 2)).astype("float32") * 3
    target = informative.sum(axis=(1, 2))
    inputs = [keras.Input((3, 2)) for _ in range(2)]
    mixed = ScalarMix(name="mix")(inputs)
    output = keras.layers.Lambda(lambda t: tf.reduce_sum(t, axis=[1, 2]))(mixed)
    model = keras.Model(inputs, output)
    model.compile(keras.optimizers.Adam(0.1), "mse")
    model.fit([noise, informative], target, epochs=30, verbose=0)
    weights = model.get_layer("mix").normalized_weights()
    assert weights[1] > 0.9, weights


def padding_mask(batch=3, time=5):
    mask = np.ones((batch, time), dtype=bool)
    mask[0, 3:] = False
    return mask


@pytest.mark.parametrize(
    "init_kwargs",
    [
        {},
        {"layer_indices": [0, 2], "initial_scalar_parameters": [1.0, 2.0], "do_layer_norm": True},
    ],
)
def test_standard_layer_checks(init_kwargs):
    layers = random_layers(n=3)
    mask = padding_mask()
    out = run_layer_test(ScalarMix, init_kwargs, layers, mask=mask, expected_output_shape=(3, 5, 6),
                         expected_output_mask=PASS_THROUGH, mixed_atol=0.1)
    picked = [layers[i] for i in init_kwargs.get("layer_indices", range(3))]
    expected = numpy_scalar_mix(picked, init_kwargs.get("initial_scalar_parameters", [0.0] * len(picked)),
                                mask=mask, do_layer_norm=init_kwargs.get("do_layer_norm", False))
    np.testing.assert_allclose(out[mask], expected[mask], rtol=1e-4, atol=1e-4)


def test_a_different_number_of_tensors_is_refused():
    mix = ScalarMix(name="mix")
    mix([tf.zeros((1, 2, 3))] * 3)
    with pytest.raises(ValueError, match="ScalarMix 'mix' was built for 3 tensors but got 2"):
        mix([tf.zeros((1, 2, 3))] * 2)
    with pytest.raises(ValueError, match="built for 3 tensors but got 4"):
        mix([tf.zeros((1, 2, 3))] * 4)
