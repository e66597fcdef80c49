"""Training: recipe configs, the shared runner for both roads, the encoder-state cache, callbacks, prediction files.

The names load lazily, so that a Keras 3 run (`backend` jax, tensorflow or
torch) never imports the tf-keras road.
"""

_EXPORTS = {
    "GradualUnfreezing": "kerasbert.training.callbacks",
    "RecipeConfig": "kerasbert.training.config",
    "evaluate_frame": "kerasbert.training.evaluate",
    "load_model_folder": "kerasbert.training.roads",
    "load_recipe": "kerasbert.training.config",
    "predict_csv": "kerasbert.training.predict",
    "predict_texts": "kerasbert.training.roads",
    "scalar_mix_weights": "kerasbert.training.roads",
    "road": "kerasbert.training.roads",
    "road_of": "kerasbert.training.roads",
    "run_recipe": "kerasbert.training.runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError("module 'kerasbert.training' has no attribute %r" % name)
    import importlib

    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
