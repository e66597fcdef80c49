"""Pick a `tf.distribute` strategy and a mixed-precision policy for the hardware.

    strategy = resolve_strategy("auto")        # TPU, several GPUs, workers, or default
    set_mixed_precision("auto", strategy)      # bfloat16 on TPU, float16 on GPU
    with strategy.scope():
        model = build_rating_model(...)        # model, optimizer and metrics in scope
"""

import json
import os

from kerasbert._backend import keras, tf

STRATEGIES = ("auto", "tpu", "mirrored", "multi_worker", "default")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")


def _tpu_hinted():
    """True where a TPU may be attached: Colab/GCE variables or a TPU VM device."""
    return bool(
        os.environ.get("COLAB_TPU_ADDR")
        or os.environ.get("TPU_NAME")
        or os.environ.get("TPU_ACCELERATOR_TYPE")
        or os.path.exists("/dev/accel0")
        or os.path.exists("/dev/vfio/0")
    )


def tpu_strategy(tpu=None):
    """Connect to a TPU (Colab included) and initialise it."""
    if tpu is None:
        # Colab's old TPU nodes export COLAB_TPU_ADDR; TPU VMs are "local".
        address = os.environ.get("COLAB_TPU_ADDR")
        tpu = "grpc://" + address if address else os.environ.get("TPU_NAME", "local")
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
    if tpu != "local":
        tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def _workers_in_tf_config():
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    except ValueError as error:
        raise ValueError("TF_CONFIG is not valid JSON: %s" % error) from error
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def resolve_strategy(name="auto", tpu=None):
    """A strategy by name, or the best one found for `"auto"`.

    `auto` tries, in order: a TPU (through `TPUClusterResolver`, where
    Colab or a TPU VM is detected), several workers (`TF_CONFIG` ->
    `MultiWorkerMirroredStrategy`), several GPUs (`MirroredStrategy`), and
    otherwise the default strategy. `mirrored` without GPUs mirrors over
    the logical CPU devices (useful for tests).
    """
    if name not in STRATEGIES:
        raise ValueError("strategy must be one of %s, got %r" % (", ".join(STRATEGIES), name))
    if name == "tpu":
        return tpu_strategy(tpu)
    if name == "auto" and (tpu or _tpu_hinted()):
        try:
            return tpu_strategy(tpu)
        except (ValueError, RuntimeError, tf.errors.OpError) as error:
            print("No TPU could be initialised (%s); looking for GPUs." % error)
    if name == "multi_worker" or (name == "auto" and _workers_in_tf_config() > 1):
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored":
        if gpus:
            return tf.distribute.MirroredStrategy([d.name for d in gpus])
        # Logical CPUs: reduce on one device; CPU collectives of two strategies
        # made in one process can collide on their instance keys.
        return tf.distribute.MirroredStrategy(
            [d.name for d in tf.config.list_logical_devices("CPU")],
            cross_device_ops=tf.distribute.ReductionToOneDevice(),
        )
    if name == "auto" and len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def strategy_kind(strategy):
    """'tpu', 'gpu' or 'cpu': what the strategy computes on."""
    if isinstance(strategy, tf.distribute.TPUStrategy):
        return "tpu"
    try:
        devices = strategy.extended.worker_devices
    except RuntimeError:  # the default strategy has no device list
        devices = ()
    if any("GPU" in d.upper() for d in devices) or (
        not devices and tf.config.list_logical_devices("GPU")
    ):
        return "gpu"
    return "cpu"


def mixed_precision_policy(setting="auto", strategy=None):
    """The policy name for a setting: `auto` is bfloat16 on TPU, float16 on GPU."""
    if setting not in PRECISIONS:
        raise ValueError("mixed precision must be one of %s, got %r" % (", ".join(PRECISIONS), setting))
    if setting != "auto":
        return setting
    kind = strategy_kind(strategy or tf.distribute.get_strategy())
    return {"tpu": "mixed_bfloat16", "gpu": "mixed_float16"}.get(kind, "float32")


def set_mixed_precision(setting="auto", strategy=None):
    """Set the global Keras policy (before building the model); returns its name."""
    policy = mixed_precision_policy(setting, strategy)
    keras.mixed_precision.set_global_policy(policy)
    return policy


def global_batch_size(per_replica_batch_size, strategy=None):
    """Per-replica batch times the number of replicas in sync."""
    strategy = strategy or tf.distribute.get_strategy()
    return int(per_replica_batch_size) * int(strategy.num_replicas_in_sync)
