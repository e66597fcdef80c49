"""The trained-model folder on the Keras 3 road: `model.keras` (a whole `RatingModel`) and `recipe.json`.

The folder format is `kerasbert.model_folder`'s, shared with the tf-keras
road; `recipe.json` records the Keras 3 backend that wrote it.
"""

import os

import keras

from kerasbert.char_ngrams import load_folder_char_model, save_folder_char_model
from kerasbert.errors import ModelFolderError
from kerasbert.keras3.models.rating_model import RatingModel
from kerasbert.model_folder import (MODEL_FILE, RECIPE_FILE, TF_KERAS, first_line, is_model_folder, member_folders,
                                    model_folder_paths, write_member_folders)
from kerasbert.utils.io import atomic_output_file, atomic_write_json

__all__ = ["MODEL_FILE", "RECIPE_FILE", "is_model_folder", "load_model_folder", "save_model_folder"]


def save_model_folder(model, recipe, out_dir):
    """Write `model` (a Keras 3 `RatingModel`) and `recipe` into `out_dir`, each file atomically."""
    if not isinstance(model, RatingModel):
        raise TypeError("save_model_folder takes a kerasbert.keras3 RatingModel, got %s" % type(model).__name__)
    os.makedirs(out_dir, exist_ok=True)
    with atomic_output_file(os.path.join(out_dir, MODEL_FILE), suffix=".keras") as tmp:
        model.save(tmp)
    atomic_write_json(os.path.join(out_dir, RECIPE_FILE), dict(recipe, backend=keras.backend.backend()))
    save_folder_char_model(model.char_model, out_dir)
    write_member_folders(out_dir, model.members)


def load_model_folder(model_dir):
    """`(RatingModel, recipe dict)` from a folder the Keras 3 road wrote; safe mode on.

    A folder written on another Keras 3 backend loads too (the weights are
    backend-neutral); one from the tf-keras road is refused with a
    `ModelFolderError` naming the loader to use.
    """
    model_dir = os.fspath(model_dir)
    model_path, recipe = model_folder_paths(model_dir)
    if recipe.get("backend", TF_KERAS) == TF_KERAS:
        raise ModelFolderError("%s: written by the tf-keras road; load it with kerasbert.models.load_model_folder"
                               % model_dir)
    try:
        model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except ValueError as error:
        if "safe_mode" in str(error) or "Lambda" in str(error):
            raise ModelFolderError("%s: refused: the model holds code (a Lambda layer), which kerasbert "
                                   "never runs from a model folder" % model_path) from None
        raise ModelFolderError("%s: cannot be loaded (%s)" % (model_path, first_line(error))) from None
    except (OSError, KeyError, TypeError) as error:
        raise ModelFolderError("%s: corrupt or not a Keras model file (%s)" % (model_path, first_line(error))) from None
    if not isinstance(model, RatingModel):
        raise ModelFolderError("%s: holds a %s, not a kerasbert RatingModel" % (model_path, type(model).__name__))
    model.char_model = load_folder_char_model(model_dir)
    model.members = [load_model_folder(folder)[0] for folder in member_folders(model_dir)]
    model.folder = model_dir
    return model, recipe
