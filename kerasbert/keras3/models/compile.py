"""The compile rule of the Keras 3 road's rating models: the task's loss, the star metrics, an optimizer.

The same rule as the tf-keras road's `kerasbert.models.compile`: the star
metrics are weighted metrics (they honour title-capped validation weights).
"""

import keras

from kerasbert.defaults import FROZEN_LEARNING_RATE
from kerasbert.keras3.models.losses import NeighbourSmoothedCrossentropy
from kerasbert.keras3.models.metrics import rating_metrics
from kerasbert.tasks import check_task


def rating_loss(task, label_smoothing=0.0):
    """Sparse categorical cross-entropy (labels 0-4) or mean squared error (stars)."""
    check_task(task)
    if task == "classification":
        if label_smoothing:
            return NeighbourSmoothedCrossentropy(label_smoothing)
        return keras.losses.SparseCategoricalCrossentropy()
    if label_smoothing:
        raise ValueError("label_smoothing applies to classification only")
    return keras.losses.MeanSquaredError()


def compile_arguments(task, optimizer=None, label_smoothing=0.0, learning_rate=FROZEN_LEARNING_RATE, **kwargs):
    """The keyword arguments of `Model.compile` for a rating model: optimizer, loss, weighted star metrics."""
    arguments = {
        "optimizer": keras.optimizers.Adam(learning_rate) if optimizer is None else optimizer,
        "loss": rating_loss(task, label_smoothing),
        "weighted_metrics": rating_metrics(task),
    }
    arguments.update(kwargs)
    return arguments


def compile_rating_model(model, task, optimizer=None, learning_rate=FROZEN_LEARNING_RATE, label_smoothing=0.0,
                         **compile_kwargs):
    """Compile `model` with the task's loss and the star metrics; returns it."""
    model.compile(**compile_arguments(task, optimizer, label_smoothing, learning_rate, **compile_kwargs))
    return model
