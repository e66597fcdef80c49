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
from kerasbert.utils.io import atomic_write_json

__all__ = ["BACKENDS", "KERAS3_BACKENDS", "MEMBERS_FILE", "MODEL_FILE", "RECIPE_FILE", "TF_KERAS", "check_backend",
           "first_line", "folder_backend", "is_model_folder", "member_folders", "model_folder_paths",
           "write_member_folders"]

MODEL_FILE = "model.keras"
RECIPE_FILE = "recipe.json"
MEMBERS_FILE = "members.json"  # a seed ensemble's other members: model folders inside this one
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


def write_member_folders(model_dir, members):
    """Note the folders of a seed ensemble's other members (each inside `model_dir`), or remove the note.

    `members` are `RatingModel`s loaded from model folders (their `folder`).
    """
    path = os.path.join(os.fspath(model_dir), MEMBERS_FILE)
    if not members:
        if os.path.isfile(path):
            os.remove(path)
        return
    root = os.path.realpath(model_dir)
    names = []
    for member in members:
        folder = os.path.realpath(getattr(member, "folder", None) or "")
        if not getattr(member, "folder", None) or os.path.commonpath([root, folder]) != root or folder == root:
            raise ModelFolderError("%s: an ensemble member must be a model folder inside it, got %r"
                                   % (model_dir, getattr(member, "folder", None)))
        names.append(os.path.relpath(folder, root))
    atomic_write_json(path, {"members": names})


def member_folders(model_dir):
    """The member folders `write_member_folders` noted (none without the note); a `ModelFolderError` when one
    is missing."""
    path = os.path.join(os.fspath(model_dir), MEMBERS_FILE)
    if not os.path.isfile(path):
        return []
    try:
        with open(path, encoding="utf-8") as handle:
            names = json.load(handle)["members"]
    except (ValueError, KeyError, TypeError) as error:
        raise ModelFolderError("%s: not a list of member folders (%s)" % (path, error)) from None
    folders = [os.path.join(os.fspath(model_dir), name) for name in names]
    missing = [name for name, folder in zip(names, folders) if not is_model_folder(folder)]
    if missing:
        raise ModelFolderError("%s: member folder %s is missing or incomplete" % (path, missing[0]))
    return folders
