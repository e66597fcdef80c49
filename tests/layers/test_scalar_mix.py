import numpy as np
import pytest

from kerasbert._backend import keras, tf
from kerasbert.layers import ScalarMix


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


def test_mask_passes_through_a_model():
    inputs = [keras.Input((None, 4)) for _ in range(3)]
    masked = [keras.layers.Masking(0.0)(x) for x in inputs]
    mixed = ScalarMix()(masked)
    assert mixed._keras_mask is not None
    data = [np.ones((2, 3, 4), "float32") for _ in range(3)]
    data[0][0, 2] = data[1][0, 2] = data[2][0, 2] = 0.0
    mask = ScalarMix().compute_mask(None, [tf.constant(d.any(-1)) for d in data])
    np.testing.assert_array_equal(mask.numpy(), [[True, True, False], [True, True, True]])


def test_wrong_number_of_initial_parameters():
    with pytest.raises(ValueError, match="3 values for 2 mixed layers"):
        ScalarMix(initial_scalar_parameters=[0, 0, 0])([tf.zeros((1, 2, 3))] * 2)


def test_config_round_trip_and_save_load(tmp_path):
    mix = ScalarMix(layer_indices=[0, 2], initial_scalar_parameters=[1.0, 2.0], do_layer_norm=True, name="m")
    config = mix.get_config()
    restored = ScalarMix.from_config(config)
    assert restored.get_config() == config
    inputs = [keras.Input((None, 4)) for _ in range(3)]
    model = keras.Model(inputs, mix(inputs))
    model.get_layer("m").gamma.assign(0.5)
    path = str(tmp_path / "mix.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    data = random_layers(n=3, hidden=4)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-6)


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


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy):
    keras.mixed_precision.set_global_policy(policy)
    mix = ScalarMix(do_layer_norm=True)
    compute = tf.float16 if policy == "mixed_float16" else tf.bfloat16
    out = mix([tf.cast(t, compute) for t in random_layers(n=3)])
    assert out.dtype == compute
    assert mix.scalar_parameters.dtype == tf.float32 and mix.gamma.dtype == tf.float32
    assert np.isfinite(tf.cast(out, tf.float32).numpy()).all()
