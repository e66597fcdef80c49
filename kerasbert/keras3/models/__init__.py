"""The Keras 3 road's models: builders, `RatingModel` on raw strings, compile rule, inference, model folder.

The same names as the tf-keras road's `kerasbert.models`, so code that
picks a road (`kerasbert.training.roads`) calls the same functions on either.
Imports `keras`, `keras_hub` (through the encoder), `tokenizers` and NumPy:
no TensorFlow.
"""

from kerasbert.keras3.models.builders import (
    MODEL_INPUTS,
    build_feature_model,
    build_rating_model,
    model_inputs,
    rating_analysis_model,
    scalar_mix_weights,
)
from kerasbert.keras3.models.cache_models import (
    CachedBatches,
    CachedEncoderTop,
    cached_batches,
    encoder_states_function,
    model_on_cache,
)
from kerasbert.keras3.models.compile import (
    compile_arguments,
    compile_rating_model,
    default_optimizer,
    make_optimizer,
    rating_loss,
)
from kerasbert.keras3.models.gradual_unfreezing import GradualUnfreezing
from kerasbert.keras3.models.heads import ScaledSigmoid
from kerasbert.keras3.models.inference import predict_rows, predict_scores, predict_texts
from kerasbert.keras3.models.losses import NeighbourSmoothedCrossentropy
from kerasbert.keras3.models.metrics import StarAccuracy, StarMAE, StarRMSE, WithinOneAccuracy, rating_metrics
from kerasbert.keras3.models.optimizers import LayerwiseAdamW, LinearWarmupDecay
from kerasbert.keras3.models.preprocessor import JsonTokenizer, RatingPreprocessor, TextBatches, is_raw_text
from kerasbert.keras3.models.rating_model import RatingModel
from kerasbert.keras3.models.saving import MODEL_FILE, RECIPE_FILE, is_model_folder, load_model_folder, save_model_folder

__all__ = [
    "CachedBatches",
    "CachedEncoderTop",
    "cached_batches",
    "encoder_states_function",
    "model_on_cache",
    "GradualUnfreezing",
    "JsonTokenizer",
    "LayerwiseAdamW",
    "LinearWarmupDecay",
    "MODEL_FILE",
    "MODEL_INPUTS",
    "NeighbourSmoothedCrossentropy",
    "RECIPE_FILE",
    "RatingModel",
    "RatingPreprocessor",
    "ScaledSigmoid",
    "StarAccuracy",
    "StarMAE",
    "StarRMSE",
    "TextBatches",
    "WithinOneAccuracy",
    "build_feature_model",
    "build_rating_model",
    "compile_arguments",
    "compile_rating_model",
    "default_optimizer",
    "is_model_folder",
    "is_raw_text",
    "load_model_folder",
    "make_optimizer",
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
