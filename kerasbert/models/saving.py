"""The trained-model folder: one format that train writes and predict, evaluate and analyze read.

A folder holds `model.keras`, a whole `RatingModel` (network and tokenizer,
loaded with Keras' `safe_mode=True`), and `recipe.json`, the settings it was
trained with. Folders written before the tokenizer moved into the archive
(a bare functional network in `model.keras` beside `tokenizer/`) still load:
the network is wrapped in a `RatingModel` with that tokenizer.
"""

import json
import os

from kerasbert._backend import keras
from kerasbert.checkpoints import load_tokenizer
from kerasbert.errors import ModelFolderError
from kerasbert.models.preprocessor import DEFAULT_MAX_LENGTH, RatingPreprocessor
from kerasbert.models.rating_model import RatingModel
from kerasbert.tasks import TASKS
from kerasbert.utils.io import atomic_output_file, atomic_write_json

__all__ = ["MODEL_FILE", "RECIPE_FILE", "is_model_folder", "load_model_folder", "save_model_folder"]

MODEL_FILE = "model.keras"
RECIPE_FILE = "recipe.json"
LEGACY_TOKENIZER_DIR = "tokenizer"  # folders written before the tokenizer went into model.keras


def is_model_folder(path):
    """True for a folder holding a `model.keras`."""
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, MODEL_FILE))


def save_model_folder(model, recipe, out_dir):
    """Write `model` (a `RatingModel`) and `recipe` (a JSON-able dict) into `out_dir`, each file atomically."""
    if not isinstance(model, RatingModel):
        raise TypeError("save_model_folder takes a RatingModel, got %s" % type(model).__name__)
    os.makedirs(out_dir, exist_ok=True)
    with atomic_output_file(os.path.join(out_dir, MODEL_FILE), suffix=".keras") as tmp:
        model.save(tmp)
    atomic_write_json(os.path.join(out_dir, RECIPE_FILE), recipe)


def load_model_folder(model_dir):
    """`(RatingModel, recipe dict)` from a folder written by `kerasbert train`.

    Raises `ModelFolderError` naming the folder and the file for a missing,
    incomplete or corrupt folder. The model is loaded with Keras'
    `safe_mode=True`: a folder holding a Lambda layer (code) is refused,
    never executed.
    """
    model_dir = os.fspath(model_dir)
    if not os.path.isdir(model_dir):
        raise ModelFolderError("%s: no such model folder (expected the output folder of kerasbert train)"
                               % model_dir)
    paths = {name: os.path.join(model_dir, name) for name in (MODEL_FILE, RECIPE_FILE)}
    missing = [name for name, path in paths.items() if not os.path.exists(path)]
    if missing:
        raise ModelFolderError("%s: not a trained kerasbert model folder: missing %s"
                               % (model_dir, ", ".join(missing)))
    recipe = _read_recipe(paths[RECIPE_FILE])
    loaded = _load_keras_file(paths[MODEL_FILE])
    if isinstance(loaded, RatingModel):
        return loaded, recipe
    return _wrap_legacy_network(loaded, model_dir, recipe), recipe


def _read_recipe(path):
    try:
        with open(path, encoding="utf-8-sig") as handle:
            recipe = json.load(handle)
    except (ValueError, UnicodeDecodeError) as error:
        raise ModelFolderError("%s: not valid JSON (%s)" % (path, error)) from None
    if not isinstance(recipe, dict) or recipe.get("task") not in TASKS:
        raise ModelFolderError("%s: field 'task' must be one of %s" % (path, ", ".join(TASKS)))
    return recipe


def _load_keras_file(path):
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except ValueError as error:
        if "safe_mode" in str(error) or "Lambda" in str(error):
            raise ModelFolderError("%s: refused: the model holds code (a Lambda layer), which kerasbert "
                                   "never runs from a model folder" % path) from None
        raise ModelFolderError("%s: cannot be loaded (%s)" % (path, _first_line(error))) from None
    except (OSError, KeyError, TypeError) as error:
        raise ModelFolderError("%s: corrupt or not a Keras model file (%s)" % (path, _first_line(error))) from None


def _wrap_legacy_network(network, model_dir, recipe):
    """A `RatingModel` around an older folder's bare network and its `tokenizer/`."""
    tokenizer_dir = os.path.join(model_dir, LEGACY_TOKENIZER_DIR)
    if not os.path.isdir(tokenizer_dir):
        raise ModelFolderError("%s: not a trained kerasbert model folder: missing %s (model.keras holds no "
                               "tokenizer)" % (model_dir, LEGACY_TOKENIZER_DIR))
    try:
        tokenizer = load_tokenizer(tokenizer_dir)
    except (OSError, ValueError) as error:
        raise ModelFolderError("%s: cannot load the tokenizer (%s)" % (tokenizer_dir, _first_line(error))) from None
    preprocessor = RatingPreprocessor(tokenizer, task=recipe["task"],
                                      max_length=int(recipe.get("max_length", DEFAULT_MAX_LENGTH)),
                                      name="preprocessor")
    try:
        return RatingModel(network, preprocessor)
    except ValueError as error:
        raise ModelFolderError("%s: %s" % (os.path.join(model_dir, MODEL_FILE), error)) from None


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
