"""`import kerasbert` puts Keras 2 behind tf.keras, or stops with a clear message."""

import os
import subprocess
import sys


def run_python(code, **env_changes):
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def test_import_sets_legacy_keras_before_tensorflow():
    result = run_python(
        "import kerasbert, os, tensorflow as tf, tf_keras\n"
        "print(os.environ['TF_USE_LEGACY_KERAS'], tf.keras.Model is tf_keras.Model)"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["1", "True"]


def test_keras_3_behind_tf_keras_stops_with_a_clear_message():
    result = run_python("import tensorflow as tf\ntf.keras.Model\nimport kerasbert\nkerasbert.RatingModel")
    assert result.returncode != 0
    assert "TensorFlow was imported before kerasbert" in result.stderr
    assert "TF_USE_LEGACY_KERAS=1" in result.stderr and "tf-keras" in result.stderr


def test_the_keras3_road_may_follow_an_import_of_tensorflow():
    result = run_python("import tensorflow\nimport kerasbert\nfrom kerasbert.keras3.models import RatingModel\n"
                        "import keras\nprint(keras.backend.backend())", KERAS_BACKEND="jax")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == "jax"
