"""Optimizers (Keras 3): AdamW with linear warm-up and decay for fine-tuning, Adam for heads.

The tf-keras road's optimizers in `keras.ops`; the defaults and the
weight-decay exclusions come from `kerasbert.defaults`, shared by both roads.
"""

import keras
from keras import ops

from kerasbert.defaults import DEFAULT_WEIGHT_DECAY, FINE_TUNING_LEARNING_RATE, FROZEN_LEARNING_RATE, NO_WEIGHT_DECAY
from kerasbert.errors import ArgumentError

__all__ = ["LayerwiseAdamW", "LinearWarmupDecay", "default_optimizer", "make_optimizer"]


@keras.saving.register_keras_serializable(package="kerasbert")
class LinearWarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak` over `warmup_steps`, then linear decay to 0."""

    def __init__(self, peak, warmup_steps, total_steps):
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = max(int(total_steps), self.warmup_steps + 1)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        rising = self.peak * step / float(max(self.warmup_steps, 1))
        falling = self.peak * ops.maximum(0.0, 1.0 - (step - self.warmup_steps) / float(self.total_steps
                                                                                       - self.warmup_steps))
        return ops.where(step < self.warmup_steps, rising, falling)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps}


@keras.saving.register_keras_serializable(package="kerasbert")
class LayerwiseAdamW(keras.optimizers.AdamW):
    """AdamW whose step for each variable is scaled by a factor (layer-wise learning-rate decay).

    `lr_multipliers` maps variable paths (`variable.path`) to factors;
    unlisted variables keep 1. A factor f gives exactly f times AdamW's step.
    """

    def __init__(self, lr_multipliers=None, **kwargs):
        super().__init__(**kwargs)
        self.lr_multipliers = {str(k): float(v) for k, v in (lr_multipliers or {}).items()}

    def update_step(self, gradient, variable, learning_rate):
        factor = self.lr_multipliers.get(variable.path, 1.0)
        if factor == 1.0:
            return super().update_step(gradient, variable, learning_rate)
        before = ops.copy(variable)
        super().update_step(gradient, variable, learning_rate)
        variable.assign(before + ops.cast(factor, variable.dtype) * (variable - before))

    def get_config(self):
        config = super().get_config()
        config["lr_multipliers"] = dict(self.lr_multipliers)
        return config


def _adamw(learning_rate, weight_decay, lr_multipliers=None):
    if lr_multipliers:
        optimizer = LayerwiseAdamW(lr_multipliers, learning_rate=learning_rate, weight_decay=weight_decay)
    else:
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
    optimizer.exclude_from_weight_decay(var_names=list(NO_WEIGHT_DECAY))
    return optimizer


def default_optimizer(encoder_trains):
    """Adam 1e-3 for a head on a frozen encoder; AdamW 5e-5 (no decay on LayerNorm and biases) when it trains."""
    if not encoder_trains:
        return keras.optimizers.Adam(FROZEN_LEARNING_RATE)
    return _adamw(FINE_TUNING_LEARNING_RATE, DEFAULT_WEIGHT_DECAY)


def make_optimizer(name, learning_rate, total_steps=None, warmup_ratio=0.1, weight_decay=DEFAULT_WEIGHT_DECAY,
                   lr_multipliers=None):
    """`adam`: constant rate. `adamw`: warm-up/decay schedule, no decay on LayerNorm and biases."""
    if lr_multipliers and name != "adamw":
        raise ArgumentError("optimizer", "lr_multipliers need optimizer 'adamw', got %r" % (name,))
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name != "adamw":
        raise ArgumentError("optimizer", "optimizer must be 'adam' or 'adamw', got %r" % (name,))
    if not total_steps:
        raise ArgumentError("optimizer", "adamw needs the total number of training steps for its schedule")
    schedule = LinearWarmupDecay(learning_rate, int(round(warmup_ratio * total_steps)), total_steps)
    return _adamw(schedule, weight_decay, lr_multipliers)
