"""The one compile rule of rating models: the task's loss, the star metrics, an optimizer.

`compile_rating_model` and `RatingModel.compile` both come here, so a model
reports the same metrics whichever way it was compiled. The star metrics are
compiled as weighted metrics: they honour sample weights (title-capped
validation) and equal the plain metrics when there are none.
"""

from kerasbert._backend import keras
from kerasbert.models.losses import NeighbourSmoothedCrossentropy
from kerasbert.models.metrics import rating_metrics
from kerasbert.models.optimizers import FROZEN_LEARNING_RATE
from kerasbert.tasks import check_task


def rating_loss(task, label_smoothing=0.0):
    """Sparse categorical cross-entropy (labels 0-4) or mean squared error (stars).

    With `label_smoothing > 0` (classification), that share of each target
    goes to the neighbouring stars (`NeighbourSmoothedCrossentropy`).
    """
    check_task(task)
    if task == "classification":
        if label_smoothing:
            return NeighbourSmoothedCrossentropy(label_smoothing)
        return keras.losses.SparseCategoricalCrossentropy()
    if label_smoothing:
        raise ValueError("label_smoothing applies to classification only")
    return keras.losses.MeanSquaredError()


def compile_arguments(task, optimizer=None, label_smoothing=0.0, learning_rate=FROZEN_LEARNING_RATE, **kwargs):
    """The keyword arguments of `Model.compile` for a rating model: optimizer, loss, weighted star metrics.

    `optimizer` None: Adam at `learning_rate`. Other `kwargs` (`metrics`,
    `jit_compile`, `steps_per_execution`, ...) pass through; an explicit
    `loss` or `weighted_metrics` wins over the task's.
    """
    arguments = {
        "optimizer": keras.optimizers.Adam(learning_rate) if optimizer is None else optimizer,
        "loss": rating_loss(task, label_smoothing),
        "weighted_metrics": rating_metrics(task),
    }
    arguments.update(kwargs)
    return arguments


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

    Call it inside the distribution strategy's scope, like the builder.
    """
    model.compile(**compile_arguments(task, optimizer, label_smoothing, learning_rate, **compile_kwargs))
    return model
