"""One fit step of a model of the Keras 3 layers, data-parallel over two simulated CPU devices, equals
one step on a single device (JAX; `XLA_FLAGS=--xla_force_host_platform_device_count=2`)."""

import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

ONE_STEP_TWO_WAYS = '''
import numpy as np
import keras
from kerasbert.keras3.layers import MaskedMeanPooling, ScalarMix, SelfAttentivePooling

assert len(keras.distribution.list_devices()) == 2, keras.distribution.list_devices()


def build():
    hidden = [keras.Input((None, 8)) for _ in range(3)]
    mask = keras.Input((None,), dtype="bool")
    mixed = ScalarMix(do_layer_norm=True)(hidden, mask=[mask] * 3)
    features = keras.layers.Concatenate()([SelfAttentivePooling(attention_units=4, num_hops=2)(mixed, mask=mask),
                                           MaskedMeanPooling()(mixed, mask=mask)])
    model = keras.Model(hidden + [mask], keras.layers.Dense(5, activation="softmax")(features))
    model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    return model


rng = np.random.default_rng(0)
x = [rng.normal(size=(8, 6, 8)).astype("float32") for _ in range(3)]
mask = np.ones((8, 6), bool)
mask[::2, 4:] = False
y = rng.integers(0, 5, size=8)

keras.utils.set_random_seed(0)
single = build()
initial = [w.copy() for w in single.get_weights()]
single.fit(x + [mask], y, batch_size=8, epochs=1, shuffle=False, verbose=0)

keras.distribution.set_distribution(keras.distribution.DataParallel(devices=keras.distribution.list_devices()))
parallel = build()
parallel.set_weights(initial)
parallel.fit(x + [mask], y, batch_size=8, epochs=1, shuffle=False, verbose=0)
assert len(parallel.trainable_weights[0].value.sharding.device_set) == 2  # replicated on both devices
moved = max(float(np.abs(a - b).max()) for a, b in zip(single.get_weights(), initial))
diff = max(float(np.abs(a - b).max()) for a, b in zip(single.get_weights(), parallel.get_weights()))
assert moved > 1e-3 and diff < 1e-5, (moved, diff)
print("same step on 2 devices: max |diff| %.2g (weights moved %.2g)" % (diff, moved))
'''


def test_one_data_parallel_step_on_two_devices_equals_one_on_one():
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed (pip install kerasbert[keras3])")
    env = dict(os.environ, KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    env.pop("TF_USE_LEGACY_KERAS", None)
    result = subprocess.run([sys.executable, "-c", ONE_STEP_TWO_WAYS], capture_output=True, text=True, env=env,
                            timeout=300, cwd=str(REPO))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "same step on 2 devices" in result.stdout
