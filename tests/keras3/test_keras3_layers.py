"""The Keras 3 layers on each Keras 3 backend: `keras3_layer_checks.py` in a process of its own.

Keras 3 picks its backend once per process, at import, so each backend runs in a
subprocess with `KERAS_BACKEND` set (JAX first; TensorFlow; torch where installed).
"""

import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

CHECKS = pathlib.Path(__file__).with_name("keras3_layer_checks.py")
BACKEND_PACKAGES = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_keras3_layers(backend):
    if importlib.util.find_spec(BACKEND_PACKAGES[backend]) is None:
        pytest.skip("%s is not installed (pip install kerasbert[keras3] brings jax)" % backend)
    env = dict(os.environ, KERAS_BACKEND=backend)
    env.pop("TF_USE_LEGACY_KERAS", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "--noconftest", "-p", "no:cacheprovider",
                             str(CHECKS)], capture_output=True, text=True, env=env, timeout=600,
                            cwd=str(CHECKS.parents[2]))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout.strip().splitlines()[-1]


NO_TENSORFLOW = '''
import sys


class NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError("import tensorflow fails in this process")


sys.meta_path.insert(0, NoTensorFlow())
import numpy as np
import keras
from kerasbert.keras3.layers import MaskedMeanPooling, ScalarMix, SelfAttentivePooling

hidden = [keras.Input((None, 4)) for _ in range(3)]
mask = keras.Input((None,), dtype="bool")
mixed = ScalarMix()(hidden, mask=[mask] * 3)
features = keras.layers.Concatenate()([SelfAttentivePooling(attention_units=3, num_hops=2)(mixed, mask=mask),
                                       MaskedMeanPooling()(mixed, mask=mask)])
model = keras.Model(hidden + [mask], keras.layers.Dense(5, activation="softmax")(features))
model.compile("adam", "sparse_categorical_crossentropy")
x = [np.random.default_rng(i).normal(size=(4, 6, 4)).astype("float32") for i in range(3)] + [np.ones((4, 6), bool)]
loss = model.fit(x, np.array([0, 1, 2, 3]), epochs=1, verbose=0).history["loss"][0]
assert np.isfinite(loss) and "tensorflow" not in sys.modules
print("trained without tensorflow", keras.backend.backend())
'''


def test_the_keras3_layers_train_where_tensorflow_cannot_be_imported():
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed (pip install kerasbert[keras3])")
    env = dict(os.environ, KERAS_BACKEND="jax")
    result = subprocess.run([sys.executable, "-c", NO_TENSORFLOW], capture_output=True, text=True, env=env,
                            timeout=300, cwd=str(CHECKS.parents[2]))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trained without tensorflow jax" in result.stdout
