"""The two roads a run can take, behind one interface: tf-keras, or Keras 3 on JAX, TensorFlow or torch.

`road(backend)` gives the models module of a road (`kerasbert.models` or
`kerasbert.keras3.models`, which export the same names), its Keras, its
device handling and its checkpoint file names; nothing of the other road is
imported, so a JAX run never loads tf-keras. `load_model_folder` reads a
model folder on the road that wrote it.
"""

import dataclasses
import importlib
import os
import sys

from kerasbert.errors import ArgumentError
from kerasbert.model_folder import BACKENDS, KERAS3_BACKENDS, TF_KERAS, check_backend, folder_backend

__all__ = ["BACKENDS", "KERAS3_BACKENDS", "Road", "TF_KERAS", "load_model_folder", "predict_scores", "predict_texts", "road",
           "road_of",
           "scalar_mix_weights"]


def _use_keras3_backend(backend):
    """Make `keras` (Keras 3) run on `backend`: set `KERAS_BACKEND` before its first import, else check it."""
    keras = sys.modules.get("keras")
    if keras is None:
        os.environ["KERAS_BACKEND"] = backend
        return
    current = keras.backend.backend()
    if current != backend:
        raise ArgumentError("backend", "this process already runs Keras 3 on %s, not %s: start a new one with "
                                       "KERAS_BACKEND=%s" % (current, backend, backend))


@dataclasses.dataclass(frozen=True)
class Road:
    """One road: `backend` is "tf-keras" or a Keras 3 backend."""

    backend: str

    @property
    def keras3(self):
        return self.backend != TF_KERAS

    @property
    def models(self):
        """The road's models module: `RatingModel`, builders, compile, optimizers, inference, model folder."""
        return importlib.import_module("kerasbert.keras3.models" if self.keras3 else "kerasbert.models")

    @property
    def keras(self):
        if self.keras3:
            return importlib.import_module("keras")
        return importlib.import_module("kerasbert._backend").keras

    @property
    def best_weights(self):
        """The file name of the best epoch's weights (Keras 3 wants `.weights.h5`; tf-keras writes TF checkpoints)."""
        return "best.weights.h5" if self.keras3 else "best"

    def best_weights_saved(self, path):
        return os.path.exists(path if self.keras3 else path + ".index")

    def distribution(self, name):
        """`(strategy, device kind)`: a `tf.distribute` strategy, or the Keras 3 `DeviceDistribution`."""
        if self.keras3:
            from kerasbert.keras3.distribution import resolve_distribution

            distribution = resolve_distribution(name)
            return distribution, distribution.kind
        from kerasbert.distribute import resolve_strategy, strategy_kind

        strategy = resolve_strategy(name)
        return strategy, strategy_kind(strategy)

    def set_mixed_precision(self, setting, strategy):
        if self.keras3:
            from kerasbert.keras3.distribution import set_mixed_precision
        else:
            from kerasbert.distribute import set_mixed_precision
        return set_mixed_precision(setting, strategy)


def road(backend=TF_KERAS):
    """The `Road` for `backend` ("tf-keras", "jax", "tensorflow" or "torch"); Keras 3's backend is set here."""
    try:
        check_backend(backend)
    except ValueError as error:
        raise ArgumentError("backend", str(error)) from None
    if backend in KERAS3_BACKENDS:
        _use_keras3_backend(backend)
    return Road(backend)


def road_of(model):
    """The `Road` a model belongs to: a `RatingModel` or a network of either road (Keras 3's classes live in `keras`)."""
    if any(cls.__module__.split(".")[0] == "keras" for cls in type(model).__mro__):
        return Road(importlib.import_module("keras").backend.backend())
    return Road(TF_KERAS)


def load_model_folder(model_dir, backend=None):
    """`(RatingModel, recipe)` from a model folder of either road.

    `backend` None: the road that wrote it (`recipe.json`'s `backend`); a
    Keras 3 folder also loads on another Keras 3 backend.
    """
    written = folder_backend(model_dir)
    if backend is None:
        backend = written
        if written in KERAS3_BACKENDS and "keras" in sys.modules:
            backend = sys.modules["keras"].backend.backend()  # the process's backend, already chosen
    return road(backend).models.load_model_folder(model_dir)


def predict_texts(model, texts, **kwargs):
    """`predict_texts` of the model's road: stars, scores, features, attention and tokens of `texts`."""
    return road_of(model).models.predict_texts(model, texts, **kwargs)


def scalar_mix_weights(model):
    """`(normalised layer weights, gamma)` of a `RatingModel` of either road, or `(None, None)`."""
    return road_of(model).models.scalar_mix_weights(model)


def predict_scores(model, texts, **kwargs):
    """`predict_scores` of the model's road: float32 `(n, 5)` probabilities or `(n, 1)` scores, in order."""
    return road_of(model).models.predict_scores(model, texts, **kwargs)
