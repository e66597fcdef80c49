"""Rating models on BERT-family encoders (the tf-keras road).

* builders: `build_rating_model`, `build_feature_model`, `rating_analysis_model`
* `RatingModel` (raw strings in, stars out) and its `RatingPreprocessor`
* one compile rule (`compile_rating_model`) and one optimizer default
* the trained-model folder (`save_model_folder`, `load_model_folder`)
* inference: one length-sorted loop (`predict_scores`, `predict_texts`)
"""

from kerasbert.models.builders import (
    DEFAULT_SCORE_RANGE,
    POOLINGS,
    build_feature_model,
    build_rating_model,
    check_model_arguments,
    model_defaults,
    model_inputs,
    rating_analysis_model,
    scalar_mix_weights,
)
from kerasbert.models.compile import compile_rating_model, default_optimizer, make_optimizer, rating_loss
from kerasbert.models.heads import ScaledSigmoid
from kerasbert.models.cache_models import CachedEncoderTop, encoder_states_function, model_on_cache
from kerasbert.models.inference import predict_rows, predict_scores, predict_texts
from kerasbert.models.losses import NeighbourSmoothedCrossentropy
from kerasbert.models.metrics import StarAccuracy, StarMAE, StarRMSE, WithinOneAccuracy, rating_metrics
from kerasbert.models.optimizers import LayerwiseAdamW, LinearWarmupDecay
from kerasbert.models.preprocessor import RatingPreprocessor
from kerasbert.models.rating_model import RatingModel
from kerasbert.models.saving import MODEL_FILE, RECIPE_FILE, is_model_folder, load_model_folder, save_model_folder
from kerasbert.tasks import NUM_STARS, TASKS

__all__ = [
    "CachedEncoderTop",
    "encoder_states_function",
    "model_on_cache",
    "DEFAULT_SCORE_RANGE",
    "LayerwiseAdamW",
    "LinearWarmupDecay",
    "MODEL_FILE",
    "NUM_STARS",
    "NeighbourSmoothedCrossentropy",
    "POOLINGS",
    "RECIPE_FILE",
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
    "check_model_arguments",
    "compile_rating_model",
    "default_optimizer",
    "is_model_folder",
    "load_model_folder",
    "make_optimizer",
    "model_defaults",
    "model_inputs",
    "predict_rows",
    "predict_scores",
    "predict_texts",
    "rating_analysis_model",
    "rating_loss",
    "rating_metrics",
    "save_model_folder",
    "scalar_mix_weights",
]
