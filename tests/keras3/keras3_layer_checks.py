"""Checks of the Keras 3 layers, run once per backend by `test_keras3_layers.py` (KERAS_BACKEND set first).

Each layer is checked against the same NumPy references as the tf-keras road's layers
(`tests/layer_references.py`), with masks, a config round trip, mixed precision, a fit step and
save -> load equality.
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/, for the references

import keras  # noqa: E402
from keras import ops  # noqa: E402
from layer_references import (  # noqa: E402
    numpy_masked_max,
    numpy_masked_mean,
    numpy_penalty,
    numpy_scalar_mix,
    numpy_self_attention,
)

from kerasbert.keras3.layers import (  # noqa: E402
    LAYER_STRATEGIES,
    CLSPooling,
    LayerSelection,
    MaskedMaxPooling,
    MaskedMeanPooling,
    ScalarMix,
    SelfAttentivePooling,
)

RNG = np.random.default_rng(0)
LAYERS = [RNG.normal(size=(3, 6, 8)).astype("float32") * (i + 1) for i in range(5)]
MASK = np.ones((3, 6), dtype=bool)
MASK[0, 3:] = False
MASK[1, 5:] = False


def numpy_of(x):
    return ops.convert_to_numpy(x)


def dtype_of(x):
    return keras.backend.standardize_dtype(x.dtype)


@pytest.fixture(autouse=True)
def _float32_policy():
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


def test_the_backend_is_the_one_asked_for():
    assert keras.backend.backend() == os.environ["KERAS_BACKEND"]
    if os.environ["KERAS_BACKEND"] != "tensorflow":
        assert "tensorflow" not in sys.modules  # the Keras 3 road needs no TensorFlow


@pytest.mark.parametrize("do_layer_norm", [False, True])
def test_scalar_mix_matches_numpy(do_layer_norm):
    scalars = [0.5, -1.0, 2.0]
    mix = ScalarMix(layer_indices=[-3, -2, -1], initial_scalar_parameters=scalars, do_layer_norm=do_layer_norm)
    mix.build([t.shape for t in LAYERS])
    mix.gamma.assign(1.7)
    out = numpy_of(mix(LAYERS, mask=[MASK] * len(LAYERS)))
    np.testing.assert_allclose(mix.normalized_weights(), np.exp(scalars) / np.exp(scalars).sum(), rtol=1e-6)
    expected = numpy_scalar_mix(LAYERS[-3:], scalars, gamma=1.7, mask=MASK, do_layer_norm=do_layer_norm)
    keep = MASK[:, :, None] if do_layer_norm else np.ones_like(MASK)[:, :, None]
    np.testing.assert_allclose(out * keep, expected * keep, rtol=1e-4, atol=1e-4)


def test_self_attentive_pooling_matches_numpy():
    layer = SelfAttentivePooling(attention_units=5, num_hops=3, penalty_coefficient=0.7)
    pooled, attention = layer(LAYERS[0], mask=MASK, return_attention_scores=True)
    a_ref, m_ref = numpy_self_attention(LAYERS[0], MASK, numpy_of(layer.ws1.kernel), numpy_of(layer.ws2.kernel))
    np.testing.assert_allclose(numpy_of(attention), a_ref, rtol=1e-5, atol=1e-6)
    assert np.all(numpy_of(attention)[~np.broadcast_to(MASK[:, None, :], a_ref.shape)] == 0.0)
    np.testing.assert_allclose(numpy_of(pooled), m_ref.reshape(3, -1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(numpy_of(layer.penalty(attention)), numpy_penalty(a_ref), rtol=1e-5)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(numpy_of(layer.losses[0]), 0.7 * numpy_penalty(a_ref).mean(), rtol=1e-5)
    mean = SelfAttentivePooling(attention_units=5, num_hops=3, merge_hops="mean")
    assert tuple(mean(LAYERS[0], mask=MASK).shape) == (3, 8)


def test_poolings_match_numpy_and_an_empty_row_pools_to_zeros():
    mask = MASK.copy()
    mask[2] = False
    np.testing.assert_allclose(numpy_of(MaskedMeanPooling()(LAYERS[1], mask=mask)),
                               numpy_masked_mean(LAYERS[1], mask), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(numpy_of(MaskedMaxPooling()(LAYERS[1], mask=mask)),
                               numpy_masked_max(LAYERS[1], mask), rtol=1e-6)
    np.testing.assert_allclose(numpy_of(CLSPooling()(LAYERS[1], mask=mask)), LAYERS[1][:, 0], rtol=1e-6)


@pytest.mark.parametrize("strategy", LAYER_STRATEGIES)
def test_layer_selection_matches_numpy(strategy):
    expected = {"embeddings": LAYERS[0], "last": LAYERS[-1], "second_to_last": LAYERS[-2],
                "sum_last_4": sum(LAYERS[-4:]), "mean_last_4": sum(LAYERS[-4:]) / 4,
                "concat_last_4": np.concatenate(LAYERS[-4:], axis=-1)}[strategy]
    np.testing.assert_allclose(numpy_of(LayerSelection(strategy)(LAYERS)), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer", [
    ScalarMix(layer_indices=[-2, -1], initial_scalar_parameters=[1.0, 0.0], do_layer_norm=True),
    SelfAttentivePooling(attention_units=7, num_hops=2, penalty_coefficient=0.3, merge_hops="mean"),
    LayerSelection("mean_last_4"), CLSPooling(), MaskedMeanPooling(), MaskedMaxPooling(),
], ids=lambda layer: type(layer).__name__)
def test_config_round_trip(layer):
    again = type(layer).from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == layer.get_config()


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_keeps_softmax_and_penalty_in_float32(policy):
    keras.config.set_dtype_policy(policy)
    mix = ScalarMix(do_layer_norm=True)
    pool = SelfAttentivePooling(attention_units=5, num_hops=3)
    mixed = mix(LAYERS[:3], mask=[MASK] * 3)
    pooled, attention = pool(mixed, mask=MASK, return_attention_scores=True)
    compute = policy.split("_")[1]  # bfloat16 or float16
    assert dtype_of(mix.scalar_parameters) == "float32" and dtype_of(mixed) == compute
    assert dtype_of(attention) == "float32" and dtype_of(pool.losses[0]) == "float32"
    assert dtype_of(pooled) == compute
    np.testing.assert_allclose(numpy_of(attention).sum(-1), 1.0, rtol=1e-5)
    assert np.isfinite(numpy_of(pool.losses[0]))
    mean = MaskedMeanPooling()(mixed, mask=MASK)
    assert dtype_of(mean) == compute and np.all(np.isfinite(numpy_of(ops.cast(mean, "float32"))))


def build_model():
    hidden = [keras.Input((None, 8), name="layer_%d" % i) for i in range(3)]
    mask = keras.Input((None,), dtype="bool", name="mask")
    mixed = ScalarMix(name="scalar_mix")(hidden, mask=[mask] * 3)
    pooled = SelfAttentivePooling(attention_units=4, num_hops=2, penalty_coefficient=0.5, name="pooling")(
        mixed, mask=mask)
    stars = keras.layers.Dense(5, activation="softmax", dtype="float32", name="stars")(pooled)
    return keras.Model(hidden + [mask], stars)


def test_a_fit_step_trains_and_save_load_predicts_the_same(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model()
    x = LAYERS[:3] + [MASK]
    y = np.array([0, 3, 4])
    model.compile("adam", "sparse_categorical_crossentropy")
    before = numpy_of(model.get_layer("scalar_mix").scalar_parameters).copy()
    history = model.fit(x, y, epochs=2, batch_size=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert not np.allclose(numpy_of(model.get_layer("scalar_mix").scalar_parameters), before)
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "mix.keras")
    loaded = keras.models.load_model(tmp_path / "mix.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)
