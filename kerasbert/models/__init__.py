"""Rating models on BERT-family encoders."""

from kerasbert.models.heads import ScaledSigmoid
from kerasbert.models.losses import NeighbourSmoothedCrossentropy
from kerasbert.models.metrics import (
    TASKS,
    StarAccuracy,
    StarMAE,
    StarRMSE,
    WithinOneAccuracy,
    rating_metrics,
)
from kerasbert.models.rating_model import (
    DEFAULT_SCORE_RANGE,
    NUM_STARS,
    POOLINGS,
    build_feature_model,
    build_rating_model,
    compile_rating_model,
    model_inputs,
    rating_analysis_model,
    rating_loss,
)
from kerasbert.models.rating_task import RatingModel, RatingPreprocessor

__all__ = [
    "DEFAULT_SCORE_RANGE",
    "NUM_STARS",
    "NeighbourSmoothedCrossentropy",
    "POOLINGS",
    "RatingModel",
    "RatingPreprocessor",
    "ScaledSigmoid",
    "StarAccuracy",
    "StarMAE",
    "StarRMSE",
    "TASKS",
    "WithinOneAccuracy",
    "build_feature_model",
    "build_rating_model",
    "compile_rating_model",
    "model_inputs",
    "rating_analysis_model",
    "rating_loss",
    "rating_metrics",
]
