"""Devices, data parallelism and precision on the Keras 3 road (`keras.distribution`, JAX first).

`resolve_distribution(name)` is the Keras 3 counterpart of
`kerasbert.distribute.resolve_strategy`: with more than one accelerator it
sets `keras.distribution.DataParallel` over all of them (weights replicated,
each batch split over the devices), before the model is built. It returns a
`DeviceDistribution` that the runner uses as it uses a `tf.distribute`
strategy (`scope()`, `num_replicas_in_sync`, `kind`).
"""

import contextlib
import dataclasses

import keras

from kerasbert.errors import ArgumentError, TPUUnavailableError
from kerasbert.hardware import STRATEGIES, precision_for_device

__all__ = ["DeviceDistribution", "accelerators", "resolve_distribution", "set_mixed_precision"]


@dataclasses.dataclass(frozen=True)
class DeviceDistribution:
    """The devices a Keras 3 run computes on: `kind` ("tpu", "gpu" or "cpu") and their names."""

    kind: str
    devices: tuple
    data_parallel: bool = False

    @property
    def num_replicas_in_sync(self):
        return len(self.devices) if self.data_parallel else 1

    def scope(self):
        # keras.distribution is global (set before building); nothing to enter.
        return contextlib.nullcontext()


def accelerators():
    """`(kind, device names)` the Keras 3 backend computes on: kind "tpu", "gpu" or "cpu" (JAX: `jax.devices()`)."""
    if keras.backend.backend() == "jax":
        import jax

        devices = jax.devices()
        kind = devices[0].platform.lower()
        return ("gpu" if kind in ("gpu", "cuda", "rocm") else kind), tuple(
            "%s:%d" % (d.platform, d.id) for d in devices)
    if keras.backend.backend() == "torch":
        import torch

        return ("gpu", ("cuda:0",)) if torch.cuda.is_available() else ("cpu", ("cpu:0",))
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return ("gpu", (gpus[0].name,)) if gpus else ("cpu", ("cpu:0",))


def resolve_distribution(name="auto"):
    """The devices to train on, with `DataParallel` set over several (JAX only).

    `auto`: every device of the default kind (data parallel when there are
    several); `tpu`: the same, refused where JAX sees no TPU; `mirrored`:
    data parallel over every device; `default`: one device.
    """
    if name not in STRATEGIES:
        raise ArgumentError("strategy", "strategy must be one of %s, got %r" % (", ".join(STRATEGIES), name))
    if name == "multi_worker":
        raise ArgumentError("strategy", "multi_worker is a tf.distribute strategy: use --backend tf-keras, or "
                                        "keras.distribution.initialize() and --strategy auto on JAX")
    kind, devices = accelerators()
    if name == "tpu" and kind != "tpu":
        raise TPUUnavailableError("no TPU is visible to JAX (devices: %s). On Colab pick a TPU runtime and "
                                  "install jax[tpu]; never install TensorFlow's TPU build beside it, which "
                                  "takes the chip." % ", ".join(devices))
    parallel = name != "default" and len(devices) > 1 and keras.backend.backend() == "jax"
    if parallel:
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=list(devices)))
    return DeviceDistribution(kind, devices if parallel else devices[:1], parallel)


def set_mixed_precision(setting="auto", distribution=None):
    """Set the global Keras 3 policy for the devices (before building the model); returns its name."""
    policy = precision_for_device(setting, (distribution or resolve_distribution("default")).kind)
    keras.mixed_precision.set_global_policy(policy)
    return policy
