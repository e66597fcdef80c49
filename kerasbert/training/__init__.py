"""Training: recipe configs, the shared runner, the encoder-state cache, callbacks, prediction files."""

from kerasbert.models import load_model_folder, predict_texts, save_model_folder
from kerasbert.models.optimizers import LinearWarmupDecay, make_optimizer
from kerasbert.training.callbacks import GradualUnfreezing
from kerasbert.training.config import RecipeConfig, load_recipe
from kerasbert.training.evaluate import evaluate_frame
from kerasbert.training.predict import predict_csv
from kerasbert.training.runner import run_recipe

__all__ = [
    "GradualUnfreezing",
    "LinearWarmupDecay",
    "RecipeConfig",
    "evaluate_frame",
    "load_model_folder",
    "load_recipe",
    "make_optimizer",
    "predict_csv",
    "predict_texts",
    "run_recipe",
    "save_model_folder",
]
