"""The compile rule and the optimizer rules of rating models, once for both roads.

Each road (tf-keras in `kerasbert.models`, Keras 3 in `kerasbert.keras3.models`)
has its own Keras and its own registered classes (the learning-rate
schedule, the layer-wise AdamW, the smoothed loss, the star metrics); it
describes them in a `KerasKit`, and these functions apply the one rule to it:

- loss: sparse categorical cross-entropy (labels 0-4) or mean squared error,
  or the neighbour-smoothed cross-entropy with `label_smoothing`;
- metrics: the star metrics, compiled as weighted metrics (they honour
  title-capped validation weights and equal the plain ones without weights);
- optimizers: Adam 1e-3 for a head on a frozen encoder, AdamW 5e-5 with
  warm-up and linear decay when it trains, no weight decay on LayerNorm and
  biases (`kerasbert.defaults`).
"""

import dataclasses

from kerasbert.defaults import DEFAULT_WEIGHT_DECAY, FINE_TUNING_LEARNING_RATE, FROZEN_LEARNING_RATE, NO_WEIGHT_DECAY
from kerasbert.errors import ArgumentError
from kerasbert.tasks import check_task

__all__ = ["KerasKit", "compile_arguments", "default_optimizer", "make_optimizer", "rating_loss"]


@dataclasses.dataclass(frozen=True)
class KerasKit:
    """One road's Keras and the classes the rules build."""

    keras: object  # the road's keras module
    schedule: type  # LinearWarmupDecay(peak, warmup_steps, total_steps)
    layerwise_adamw: type  # LayerwiseAdamW(lr_multipliers, learning_rate=..., weight_decay=...)
    smoothed_loss: type  # NeighbourSmoothedCrossentropy(epsilon)
    metrics: object  # rating_metrics(task) -> list of metrics


def rating_loss(kit, task, label_smoothing=0.0):
    """Sparse categorical cross-entropy (labels 0-4) or mean squared error (stars)."""
    check_task(task)
    if task == "classification":
        if label_smoothing:
            return kit.smoothed_loss(label_smoothing)
        return kit.keras.losses.SparseCategoricalCrossentropy()
    if label_smoothing:
        raise ValueError("label_smoothing applies to classification only")
    return kit.keras.losses.MeanSquaredError()


def compile_arguments(kit, task, optimizer=None, label_smoothing=0.0, learning_rate=FROZEN_LEARNING_RATE, **kwargs):
    """The keyword arguments of `Model.compile` for a rating model: optimizer, loss, weighted star metrics.

    `optimizer` None: Adam at `learning_rate`. Other `kwargs` pass through; an
    explicit `loss` or `weighted_metrics` wins over the task's.
    """
    arguments = {
        "optimizer": kit.keras.optimizers.Adam(learning_rate) if optimizer is None else optimizer,
        "loss": rating_loss(kit, task, label_smoothing),
        "weighted_metrics": kit.metrics(task),
    }
    arguments.update(kwargs)
    return arguments


def _adamw(kit, learning_rate, weight_decay, lr_multipliers=None):
    if lr_multipliers:
        optimizer = kit.layerwise_adamw(lr_multipliers, learning_rate=learning_rate, weight_decay=weight_decay)
    else:
        optimizer = kit.keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
    optimizer.exclude_from_weight_decay(var_names=list(NO_WEIGHT_DECAY))
    return optimizer


def default_optimizer(kit, encoder_trains):
    """Adam 1e-3 for a head on a frozen encoder; AdamW 5e-5 (no decay on LayerNorm and biases) when it trains."""
    if not encoder_trains:
        return kit.keras.optimizers.Adam(FROZEN_LEARNING_RATE)
    return _adamw(kit, FINE_TUNING_LEARNING_RATE, DEFAULT_WEIGHT_DECAY)


def make_optimizer(kit, name, learning_rate, total_steps=None, warmup_ratio=0.1, weight_decay=DEFAULT_WEIGHT_DECAY,
                   lr_multipliers=None):
    """`adam`: constant rate. `adamw`: warm-up/decay schedule, no decay on LayerNorm and biases.

    `lr_multipliers` (`adamw` only): {variable name or path: factor} for
    layer-wise decay, from `TransformerEncoder.layerwise_lr_multipliers`.
    """
    if lr_multipliers and name != "adamw":
        raise ArgumentError("optimizer", "lr_multipliers need optimizer 'adamw', got %r" % (name,))
    if name == "adam":
        return kit.keras.optimizers.Adam(learning_rate)
    if name != "adamw":
        raise ArgumentError("optimizer", "optimizer must be 'adam' or 'adamw', got %r" % (name,))
    if not total_steps:
        raise ArgumentError("optimizer", "adamw needs the total number of training steps for its schedule")
    schedule = kit.schedule(learning_rate, int(round(warmup_ratio * total_steps)), total_steps)
    return _adamw(kit, schedule, weight_decay, lr_multipliers)
