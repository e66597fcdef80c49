"""Training: recipe configs, the shared runner, evaluation and prediction."""

from kerasbert.training.config import RecipeConfig, load_recipe
from kerasbert.training.evaluation import load_trained_model, predict_texts, save_trained_model
from kerasbert.training.optimization import LinearWarmupDecay, make_optimizer
from kerasbert.training.runner import run_recipe

__all__ = [
    "LinearWarmupDecay",
    "RecipeConfig",
    "load_recipe",
    "load_trained_model",
    "make_optimizer",
    "predict_texts",
    "run_recipe",
    "save_trained_model",
]
