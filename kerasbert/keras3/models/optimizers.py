"""The Keras 3 road's optimizer classes (`keras.ops`): the warm-up/decay schedule and the layer-wise AdamW.

Which optimizer a model gets is the rule of `kerasbert.compile_rules`
(`kerasbert.keras3.models.make_optimizer`, `default_optimizer`).
"""

import keras
from keras import ops

__all__ = ["LayerwiseAdamW", "LinearWarmupDecay"]


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
