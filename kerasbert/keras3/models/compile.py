"""The Keras 3 road's compile and optimizer functions: `kerasbert.compile_rules` on Keras 3's classes.

`compile_rating_model` and `RatingModel.compile` both come here, so a model
reports the same metrics whichever way it was compiled, on either road.
"""

import keras

from kerasbert import compile_rules
from kerasbert.defaults import DEFAULT_WEIGHT_DECAY, FROZEN_LEARNING_RATE
from kerasbert.keras3.models.losses import NeighbourSmoothedCrossentropy
from kerasbert.keras3.models.metrics import rating_metrics
from kerasbert.keras3.models.optimizers import LayerwiseAdamW, LinearWarmupDecay

__all__ = ["KIT", "compile_arguments", "compile_rating_model", "default_optimizer", "make_optimizer", "rating_loss"]

KIT = compile_rules.KerasKit(keras, LinearWarmupDecay, LayerwiseAdamW, NeighbourSmoothedCrossentropy, rating_metrics)


def rating_loss(task, label_smoothing=0.0):
    """Sparse categorical cross-entropy (labels 0-4), mean squared error (stars), or neighbour-smoothed."""
    return compile_rules.rating_loss(KIT, task, label_smoothing)


def compile_arguments(task, optimizer=None, label_smoothing=0.0, learning_rate=FROZEN_LEARNING_RATE, **kwargs):
    """The keyword arguments of `Model.compile` for a rating model: optimizer, loss, weighted star metrics."""
    return compile_rules.compile_arguments(KIT, task, optimizer, label_smoothing, learning_rate, **kwargs)


def compile_rating_model(model, task, optimizer=None, learning_rate=FROZEN_LEARNING_RATE, label_smoothing=0.0,
                         **compile_kwargs):
    """Compile `model` with the task's loss and the star metrics; returns it.

    Args:
        model: a `build_rating_model` network (or any model with its outputs).
        task: `"classification"` or `"regression"`.
        optimizer: a Keras optimizer; default Adam at `learning_rate`.
        label_smoothing: classification only: the share of each target moved
            to the neighbouring stars.
        **compile_kwargs: further `Model.compile` arguments.

    Under `keras.distribution`, call it after `set_distribution`, like the builder.
    """
    model.compile(**compile_arguments(task, optimizer, label_smoothing, learning_rate, **compile_kwargs))
    return model


def default_optimizer(encoder_trains):
    """Adam 1e-3 for a head on a frozen encoder; AdamW 5e-5 (no decay on LayerNorm and biases) when it trains."""
    return compile_rules.default_optimizer(KIT, encoder_trains)


def make_optimizer(name, learning_rate, total_steps=None, warmup_ratio=0.1, weight_decay=DEFAULT_WEIGHT_DECAY,
                   lr_multipliers=None):
    """`adam`: constant rate. `adamw`: warm-up/decay schedule, no decay on LayerNorm and biases.

    `lr_multipliers` (`adamw` only): {variable path: factor} for layer-wise
    decay, e.g. from `TransformerEncoder.layerwise_lr_multipliers`.
    """
    return compile_rules.make_optimizer(KIT, name, learning_rate, total_steps, warmup_ratio, weight_decay,
                                        lr_multipliers)
