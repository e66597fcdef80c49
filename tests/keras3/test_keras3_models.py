"""The Keras 3 road's models and runner: `keras3_model_checks.py` per backend, a process without
TensorFlow, and a recipe on JAX on a real checkpoint, each in a process of its own."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from tests.keras3.test_keras3_encoder import keras3_env, needs

CHECKS = pathlib.Path(__file__).with_name("keras3_model_checks.py")
REPO = CHECKS.parents[2]


def run(args, backend, timeout=900):
    return subprocess.run(args, capture_output=True, text=True, env=keras3_env(backend), timeout=timeout,
                          cwd=str(REPO))


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_keras3_models(backend):
    needs("keras_hub", "tokenizers", backend)
    result = run([sys.executable, "-m", "pytest", "-q", "--noconftest", "-p", "no:cacheprovider", str(CHECKS)],
                 backend)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout.strip().splitlines()[-1]


NO_TENSORFLOW = '''
import sys

class NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError("import tensorflow fails in this process")

sys.meta_path.insert(0, NoTensorFlow())
sys.path.insert(0, sys.argv[1])
import numpy as np
import keras3_model_checks as checks

model = checks.tiny_model(mode="top_k", top_k=1)
model.compile()
history = model.fit(checks.TEXTS, checks.STARS, epochs=1, batch_size=6, verbose=0)
assert np.isfinite(history.history["loss"][-1]) and "tensorflow" not in sys.modules
model.save(sys.argv[2])
print("trained without tensorflow", model.predict_stars(checks.TEXTS[:3]).shape)
'''


def test_a_rating_model_trains_on_raw_texts_where_tensorflow_cannot_be_imported(tmp_path):
    needs("keras_hub", "tokenizers", "jax")
    result = run([sys.executable, "-c", NO_TENSORFLOW, str(CHECKS.parent), str(tmp_path / "m.keras")], "jax")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "trained without tensorflow (3,)" in result.stdout


RECIPE_ON_JAX = '''
import json, sys
import numpy as np
from kerasbert.training import load_recipe, run_recipe, load_model_folder
from kerasbert.training.runner import load_splits

config = load_recipe("douban_classify_frozen", backend="jax", data=sys.argv[1], split="by-movie",
                     max_examples=160, max_eval_examples=60, epochs=1, max_length=32, num_hops=2,
                     attention_units=16, output_dir=sys.argv[2])
summary = run_recipe(config, verbose=False)
load_splits(config, verbose=False)["test"][["movie", "star", "comment"]].to_csv(sys.argv[3], index=False)
model, recipe = load_model_folder(sys.argv[2])
import keras
print(json.dumps({"backend": keras.backend.backend(), "recipe_backend": recipe["backend"],
                  "model": type(model).__module__, "accuracy": summary["test_metrics"]["accuracy"],
                  "adaptation": None if model.adaptation is None else model.adaptation.get_config()}))
'''


@pytest.mark.slow
def test_a_recipe_runs_on_jax_and_its_folder_predicts_as_its_report(tmp_path, demo_sample_csv):
    """`douban_classify_frozen` with `backend=jax` on the real e5 checkpoint: the report's predictions
    equal what `predict` gives from the saved folder, and the whole suite of outputs is there."""
    needs("keras_hub", "tokenizers", "jax")
    out = tmp_path / "run"
    rows = tmp_path / "test_rows.csv"
    result = run([sys.executable, "-c", RECIPE_ON_JAX, str(demo_sample_csv), str(out), str(rows)], "jax",
                 timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["backend"] == facts["recipe_backend"] == "jax"
    assert facts["model"].startswith("kerasbert.keras3") and 0.0 <= facts["accuracy"] <= 1.0
    for name in ("model.keras", "recipe.json", "summary.json", "training_log.csv", "report/report.md",
                 "report/predictions.csv", "report/confusion_matrices.png", "report/layer_weights.png"):
        assert (out / name).is_file(), name
    # The CLI, in a fresh process, finds the road from the folder and rates the test rows as the report did
    # (the report rates each test title's rows together, with the adaptation chosen on validation titles).
    import pandas as pd

    report = pd.read_csv(out / "report" / "predictions.csv")
    assert facts["adaptation"] is not None
    cli = run([sys.executable, "-m", "kerasbert", "predict", "--model", str(out), "--input", str(rows),
               "--output", str(tmp_path / "predicted.csv"), "--group-column", "movie", "--quiet"], "jax")
    assert cli.returncode == 0, cli.stderr[-3000:]
    predicted = pd.read_csv(tmp_path / "predicted.csv")
    assert len(predicted) == len(report) == 60
    assert (predicted["predicted_star"].to_numpy() == report["predicted_star"].to_numpy()).all()
    assert abs(predicted["p_1"].to_numpy() - report["p1"].to_numpy()).max() < 1e-5
    # analyze reads the Keras 3 folder too: attention maps from the keras-hub blocks, the layer mix and probe.
    attention = run([sys.executable, "-m", "kerasbert", "analyze", "attention", str(out), "--text", "剧情很好，演员一般",
                     "--out", str(tmp_path / "attention")], "jax")
    assert attention.returncode == 0, attention.stderr[-3000:]
    for name in ("text1_heads.png", "text1_raw_rollout_flow.png", "text1_first_and_pooled.png", "report.md"):
        assert (tmp_path / "attention" / name).is_file(), name
    layers = run([sys.executable, "-m", "kerasbert", "analyze", "layers", str(out), "--data", str(demo_sample_csv),
                  "--train-rows", "40", "--val-rows", "20", "--out", str(tmp_path / "layers")], "jax")
    assert layers.returncode == 0, layers.stderr[-3000:]
    assert (tmp_path / "layers" / "scalar_mix_weights.png").is_file()
