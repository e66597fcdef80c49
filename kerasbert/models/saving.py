"""The trained-model folder: one format that train writes and predict, evaluate and analyze read.

A folder holds `model.keras`, a whole `RatingModel` (network and tokenizer,
loaded with Keras' `safe_mode=True`), and `recipe.json`, the settings it was
trained with. Folders written before the tokenizer moved into the archive
(a bare functional network in `model.keras` beside `tokenizer/`) still load:
the network is wrapped in a `RatingModel` with that tokenizer.
"""

import os

from kerasbert.char_ngrams import load_folder_char_model, save_folder_char_model
from kerasbert._backend import keras
from kerasbert.checkpoints import load_tokenizer
from kerasbert.defaults import DEFAULT_MAX_LENGTH
from kerasbert.errors import ModelFolderError
from kerasbert.model_folder import (MODEL_FILE, RECIPE_FILE, TF_KERAS, first_line, is_model_folder, member_folders,
                                    model_folder_paths, write_member_folders)
from kerasbert.models.preprocessor import RatingPreprocessor
from kerasbert.models.rating_model import RatingModel
from kerasbert.utils.io import atomic_output_file, atomic_write_json

__all__ = ["MODEL_FILE", "RECIPE_FILE", "is_model_folder", "load_model_folder", "save_model_folder"]

LEGACY_TOKENIZER_DIR = "tokenizer"  # folders written before the tokenizer went into model.keras


def save_model_folder(model, recipe, out_dir):
    """Write `model` (a `RatingModel`) and `recipe` (a JSON-able dict) into `out_dir`, each file atomically."""
    if not isinstance(model, RatingModel):
        raise TypeError("save_model_folder takes a RatingModel, got %s" % type(model).__name__)
    os.makedirs(out_dir, exist_ok=True)
    with atomic_output_file(os.path.join(out_dir, MODEL_FILE), suffix=".keras") as tmp:
        model.save(tmp)
    atomic_write_json(os.path.join(out_dir, RECIPE_FILE), dict(recipe, backend=TF_KERAS))
    save_folder_char_model(model.char_model, out_dir)
    write_member_folders(out_dir, model.members)


def load_model_folder(model_dir):
    """`(RatingModel, recipe dict)` from a folder written by `kerasbert train`.

    Raises `ModelFolderError` naming the folder and the file for a missing,
    incomplete or corrupt folder. The model is loaded with Keras'
    `safe_mode=True`: a folder holding a Lambda layer (code) is refused,
    never executed.
    """
    model_dir = os.fspath(model_dir)
    model_path, recipe = model_folder_paths(model_dir)
    if recipe.get("backend", TF_KERAS) != TF_KERAS:
        raise ModelFolderError("%s: written by the Keras 3 road (backend %s); load it with "
                               "kerasbert.keras3.models.load_model_folder" % (model_dir, recipe["backend"]))
    loaded = _load_keras_file(model_path)
    model = loaded if isinstance(loaded, RatingModel) else _wrap_legacy_network(loaded, model_dir, recipe)
    model.char_model = load_folder_char_model(model_dir)
    model.members = [load_model_folder(folder)[0] for folder in member_folders(model_dir)]
    model.folder = model_dir
    return model, recipe


def _load_keras_file(path):
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except ValueError as error:
        if "safe_mode" in str(error) or "Lambda" in str(error):
            raise ModelFolderError("%s: refused: the model holds code (a Lambda layer), which kerasbert "
                                   "never runs from a model folder" % path) from None
        raise ModelFolderError("%s: cannot be loaded (%s)" % (path, first_line(error))) from None
    except (OSError, KeyError, TypeError) as error:
        raise ModelFolderError("%s: corrupt or not a Keras model file (%s)" % (path, first_line(error))) from None


def _wrap_legacy_network(network, model_dir, recipe):
    """A `RatingModel` around an older folder's bare network and its `tokenizer/`."""
    tokenizer_dir = os.path.join(model_dir, LEGACY_TOKENIZER_DIR)
    if not os.path.isdir(tokenizer_dir):
        raise ModelFolderError("%s: not a trained kerasbert model folder: missing %s (model.keras holds no "
                               "tokenizer)" % (model_dir, LEGACY_TOKENIZER_DIR))
    try:
        tokenizer = load_tokenizer(tokenizer_dir)
    except (OSError, ValueError) as error:
        raise ModelFolderError("%s: cannot load the tokenizer (%s)" % (tokenizer_dir, first_line(error))) from None
    preprocessor = RatingPreprocessor(tokenizer, task=recipe["task"],
                                      max_length=int(recipe.get("max_length", DEFAULT_MAX_LENGTH)),
                                      name="preprocessor")
    try:
        return RatingModel(network, preprocessor)
    except ValueError as error:
        raise ModelFolderError("%s: %s" % (os.path.join(model_dir, MODEL_FILE), error)) from None
