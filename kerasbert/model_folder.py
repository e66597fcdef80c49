"""The trained-model folder, for both roads: its files, its recipe, and which road wrote it.

A folder holds `model.keras` (a whole `RatingModel`: network and tokenizer,
loaded with Keras' `safe_mode=True`) and `recipe.json` (the settings it was
trained with, including `backend`: `"tf-keras"` for the tf-keras road, or
the Keras 3 backend `"jax"`, `"tensorflow"`, `"torch"`). Each road's
`saving` module writes and reads the Keras file; this module owns the rest.
"""

import json
import os

from kerasbert.errors import ModelFolderError
from kerasbert.tasks import TASKS

__all__ = ["BACKENDS", "KERAS3_BACKENDS", "MODEL_FILE", "RECIPE_FILE", "TF_KERAS", "check_backend", "first_line",
           "folder_backend", "is_model_folder", "model_folder_paths"]

MODEL_FILE = "model.keras"
RECIPE_FILE = "recipe.json"
TF_KERAS = "tf-keras"  # Keras 2 (tf_keras) around Hugging Face TF classes
KERAS3_BACKENDS = ("jax", "tensorflow", "torch")  # Keras 3 around keras-hub backbones
BACKENDS = (TF_KERAS,) + KERAS3_BACKENDS


def check_backend(backend):
    """`backend` if it is one of `BACKENDS`, else a `ValueError` naming them."""
    if backend not in BACKENDS:
        raise ValueError("backend must be one of %s, got %r" % (", ".join(BACKENDS), backend))
    return backend


def is_model_folder(path):
    """True for a folder holding a `model.keras`."""
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, MODEL_FILE))


def model_folder_paths(model_dir):
    """`(path of model.keras, recipe dict)`; a `ModelFolderError` naming the folder and file when they are not usable."""
    model_dir = os.fspath(model_dir)
    if not os.path.isdir(model_dir):
        raise ModelFolderError("%s: no such model folder (expected the output folder of kerasbert train)"
                               % model_dir)
    paths = {name: os.path.join(model_dir, name) for name in (MODEL_FILE, RECIPE_FILE)}
    missing = [name for name, path in paths.items() if not os.path.exists(path)]
    if missing:
        raise ModelFolderError("%s: not a trained kerasbert model folder: missing %s"
                               % (model_dir, ", ".join(missing)))
    return paths[MODEL_FILE], _read_recipe(paths[RECIPE_FILE])


def folder_backend(model_dir):
    """The road a model folder was written by (`"tf-keras"` for folders from before the Keras 3 road)."""
    recipe = model_folder_paths(model_dir)[1]
    backend = recipe.get("backend", TF_KERAS)
    if backend not in BACKENDS:
        raise ModelFolderError("%s: field 'backend' must be one of %s, got %r"
                               % (os.path.join(os.fspath(model_dir), RECIPE_FILE), ", ".join(BACKENDS), backend))
    return backend


def _read_recipe(path):
    try:
        with open(path, encoding="utf-8-sig") as handle:
            recipe = json.load(handle)
    except (ValueError, UnicodeDecodeError) as error:
        raise ModelFolderError("%s: not valid JSON (%s)" % (path, error)) from None
    if not isinstance(recipe, dict) or recipe.get("task") not in TASKS:
        raise ModelFolderError("%s: field 'task' must be one of %s" % (path, ", ".join(TASKS)))
    return recipe


def first_line(error):
    """The first line of an exception's message (its type's name when empty)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
