"""The tf-keras road's optimizer classes: the warm-up/decay schedule and the layer-wise AdamW.

Which optimizer a model gets is the rule of `kerasbert.compile_rules`
(`kerasbert.models.make_optimizer`, `default_optimizer`); the defaults
live in `kerasbert.defaults`, shared with the Keras 3 road.
"""

from kerasbert._backend import keras, tf


@keras.saving.register_keras_serializable(package="kerasbert")
class LinearWarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak` over `warmup_steps`, then linear decay to 0."""

    def __init__(self, peak, warmup_steps, total_steps):
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = max(int(total_steps), self.warmup_steps + 1)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = tf.cast(max(self.warmup_steps, 1), tf.float32)
        decay = tf.cast(self.total_steps - self.warmup_steps, tf.float32)
        rising = self.peak * step / warmup
        falling = self.peak * tf.maximum(0.0, 1.0 - (step - self.warmup_steps) / decay)
        return tf.where(step < self.warmup_steps, rising, falling)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps}


@keras.saving.register_keras_serializable(package="kerasbert")
class LayerwiseAdamW(keras.optimizers.AdamW):
    """AdamW whose step for each variable is scaled by a per-variable factor.

    For layer-wise learning-rate decay (Clark et al. 2020, ELECTRA): the lower
    an encoder block, the smaller its steps. `lr_multipliers` maps variable
    names to factors; unlisted variables (the head) keep 1. The Adam moments
    are those of plain AdamW, so a factor f gives exactly f times AdamW's
    step. The decoupled weight decay (`weight_decay` × rate) is not scaled.
    """

    def __init__(self, lr_multipliers=None, **kwargs):
        super().__init__(**kwargs)
        self.lr_multipliers = {str(k): float(v) for k, v in (lr_multipliers or {}).items()}

    def update_step(self, gradient, variable):
        factor = self.lr_multipliers.get(variable.name, 1.0)
        if factor == 1.0:
            return super().update_step(gradient, variable)
        before = tf.identity(variable)
        super().update_step(gradient, variable)
        variable.assign(before + tf.cast(factor, variable.dtype) * (variable - before))

    def get_config(self):
        config = super().get_config()
        config["lr_multipliers"] = dict(self.lr_multipliers)
        return config
