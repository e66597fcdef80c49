"""Pick a `tf.distribute` strategy and a mixed-precision policy for the hardware.

    strategy = resolve_strategy("auto")        # TPU, several GPUs, workers, or default
    set_mixed_precision("auto", strategy)      # bfloat16 on TPU, float16 on GPU
    with strategy.scope():
        model = build_rating_model(...)        # model, optimizer and metrics in scope
"""

import dataclasses
import json
import os
import warnings

from kerasbert._backend import keras, tf
from kerasbert.errors import TPUUnavailableError
from kerasbert.hardware import (  # noqa: F401  (re-exported)
    CPU_BFLOAT16_FLAGS,
    PRECISIONS,
    STRATEGIES,
    cpu_flags,
    cpu_has_bfloat16,
    precision_for_device,
)


# Signs of an accelerator that do not depend on which TensorFlow is installed.
TPU_DEVICE_FILES = ("/dev/accel0", "/dev/vfio/0")  # TPU chips as a TPU VM exposes them
# COLAB_TPU_1VM is "1" on Colab's TPU VM runtimes (empty elsewhere); COLAB_TPU_ADDR
# named the TPU Nodes that Colab retired in 2024.
TPU_ENV_VARS = ("TPU_ACCELERATOR_TYPE", "COLAB_TPU_1VM", "TPU_NAME", "COLAB_TPU_ADDR")
NVIDIA_DRIVER_FILE = "/proc/driver/nvidia/version"
LIBTPU_FIND_LINKS = "https://storage.googleapis.com/libtpu-tf-releases/index.html"

# The public reports behind the TPU messages (README, "Training on Colab").
TPU_REPORTS = (
    "googlecolab/colabtools#4481 (2024-04-01: Colab replaced TPU Nodes by TPU VMs; COLAB_TPU_ADDR is gone)",
    "googlecolab/colabtools#5174 (2025-03-12: Colab TPU runtimes ship without TensorFlow)",
    "tensorflow/tensorflow#96203 (2025-06-30, open: tensorflow + tensorflow-tpu register no TPU on Colab, "
    "\"No OpKernel was registered to support Op 'ConfigureDistributedTPU' ... Registered devices: [CPU]\")",
    "googlecolab/colabtools#5419 (2025-06-25: users cannot connect to Colab TPUs since 2025-06-24; "
    "the tensorflow + tensorflow-tpu 2.18 workaround stopped working)",
    "tensorflow/tensorflow#82208 (2024-12-04: TensorFlow 2.17.1/2.18 reported to crash on import on TPU VMs)",
)
GPU_PATH = (
    "GPU path: switch to a GPU runtime (Colab: Runtime > Change runtime type > T4, L4 or A100 GPU) "
    "and train with the strategy and mixed precision set to auto (float16 on GPU)"
)



@dataclasses.dataclass(frozen=True)
class Runtime:
    """What `detect_runtime` found.

    kind: "tpu", "gpu" or "cpu", the accelerator the machine has (a TPU VM
    is "tpu" even when the installed TensorFlow cannot use it);
    why: the evidence, in words; tpu_devices / gpu_devices: the devices
    TensorFlow registers; tpu_hints: TPU device files and variables found.
    """

    kind: str
    why: str
    tpu_devices: int = 0
    gpu_devices: int = 0
    tpu_hints: tuple = ()

    @property
    def ready(self):
        """True when TensorFlow registers a device of this kind (always on CPU)."""
        return {"tpu": self.tpu_devices, "gpu": self.gpu_devices}.get(self.kind, 1) > 0

    def __str__(self):
        return "%s runtime: %s" % (self.kind.upper(), self.why)


def _tpu_hints():
    hints = ["%s=%s" % (name, os.environ[name]) for name in TPU_ENV_VARS if os.environ.get(name)]
    return tuple(hints + [path for path in TPU_DEVICE_FILES if os.path.exists(path)])


def detect_runtime():
    """The machine's accelerator and whether this TensorFlow can use it.

    Reads TPU device files and variables (`TPU_DEVICE_FILES`,
    `TPU_ENV_VARS`), the NVIDIA driver (`NVIDIA_DRIVER_FILE`) and the
    devices TensorFlow registers; initialises no TPU system.
    """
    hints = _tpu_hints()
    tpus = len(tf.config.list_logical_devices("TPU"))
    gpus = len(tf.config.list_logical_devices("GPU"))
    version = tf.__version__
    if tpus:
        why = "TensorFlow %s registers %d TPU device(s)" % (version, tpus)
        return Runtime("tpu", why, tpus, gpus, hints)
    if hints:
        if any(hint.startswith("COLAB_TPU_ADDR=") for hint in hints):
            why = ("COLAB_TPU_ADDR is set: a legacy TPU Node, which Colab retired in 2024 "
                   "(googlecolab/colabtools#4481); TensorFlow %s registers no TPU device yet" % version)
        else:
            why = "TPU found (%s) but TensorFlow %s registers no TPU device" % (", ".join(hints), version)
        return Runtime("tpu", why, 0, gpus, hints)
    if gpus:
        return Runtime("gpu", "TensorFlow %s registers %d GPU(s)" % (version, gpus), 0, gpus)
    if os.path.exists(NVIDIA_DRIVER_FILE):
        why = ("an NVIDIA driver is loaded (%s) but TensorFlow %s registers no GPU: install a CUDA build, "
               "pip install 'tensorflow[and-cuda]==%s'" % (NVIDIA_DRIVER_FILE, version, version))
        return Runtime("gpu", why, 0, 0)
    return Runtime("cpu", "no TPU or GPU found; TensorFlow %s runs on the CPU" % version)


def tpu_unavailable_message(runtime=None):
    """Why TensorFlow has no TPU here, what to install, the reports, and the GPU path."""
    runtime = runtime or detect_runtime()
    version = tf.__version__
    if runtime.kind != "tpu":
        found = "this machine shows no TPU (%s)" % runtime.why
        fix = ""
    else:
        found = runtime.why
        fix = (" A TPU VM needs a TPU build of TensorFlow of the same version as tensorflow: "
               "pip install 'tensorflow-tpu==%s' -f %s , then restart Python (where no tensorflow-tpu "
               "%s is published, pin tensorflow, tf-keras and tensorflow-tpu to one that is). "
               "Colab's TPU runtime is reported not to work with TensorFlow; public reports: %s."
               % (version, LIBTPU_FIND_LINKS, version, "; ".join(TPU_REPORTS)))
    return "No TPU device is registered with TensorFlow: %s.%s %s." % (found, fix, GPU_PATH)


def tpu_strategy(tpu=None):
    """Connect to a TPU (a TPU VM is "local") and initialise it.

    Raises `TPUUnavailableError` (a `ValueError`) naming the cause instead
    of failing deep inside `initialize_tpu_system`.
    """
    if tpu is None:
        # Colab's old TPU nodes export COLAB_TPU_ADDR; TPU VMs are "local".
        address = os.environ.get("COLAB_TPU_ADDR")
        tpu = "grpc://" + address if address else os.environ.get("TPU_NAME", "local")
    if tpu == "local":
        runtime = detect_runtime()
        if not runtime.tpu_devices:
            raise TPUUnavailableError(tpu_unavailable_message(runtime))
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        if tpu != "local":  # a remote TPU's devices appear only once connected
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        # The first line names the cause; kernel lists below it run to pages.
        cause = (str(error).strip().splitlines() or [""])[0][:300]
        why = "the TPU %r could not be initialised (%s: %s)" % (tpu, type(error).__name__, cause)
        runtime = Runtime("tpu", why, tpu_hints=_tpu_hints())
        raise TPUUnavailableError(tpu_unavailable_message(runtime)) from error
    return tf.distribute.TPUStrategy(resolver)


def _workers_in_tf_config():
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    except ValueError as error:
        raise ValueError("TF_CONFIG is not valid JSON: %s" % error) from error
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def resolve_strategy(name="auto", tpu=None):
    """A strategy by name, or the best one found for `"auto"`.

    `auto` tries, in order: a TPU (through `TPUClusterResolver`, where a
    TPU device file or variable is found), several workers (`TF_CONFIG` ->
    `MultiWorkerMirroredStrategy`), several GPUs (`MirroredStrategy`), and
    otherwise the default strategy. A TPU that TensorFlow cannot use makes
    `tpu` raise `TPUUnavailableError` and `auto` warn and fall back.
    `mirrored` without GPUs mirrors over the logical CPU devices (useful
    for tests).
    """
    if name not in STRATEGIES:
        raise ValueError("strategy must be one of %s, got %r" % (", ".join(STRATEGIES), name))
    if name == "tpu":
        return tpu_strategy(tpu)
    # Hints only: listing devices here would initialise TensorFlow before
    # MultiWorkerMirroredStrategy, which must come first.
    if name == "auto" and (tpu or _tpu_hints()):
        try:
            return tpu_strategy(tpu)
        except TPUUnavailableError as error:
            warnings.warn("strategy 'auto' falls back to GPUs or the CPU. %s" % error, RuntimeWarning, stacklevel=2)
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
    """The policy name for a setting.

    `auto` is bfloat16 on TPU, float16 on GPU, bfloat16 on a CPU with AMX
    tiles, and float32 on other CPUs: measured on AVX-512 BF16 (without AMX),
    bfloat16 was not faster (see `CPU_BFLOAT16_FLAGS`), and on CPUs without
    native bfloat16 it is emulated and slower.
    """
    if setting != "auto":
        return precision_for_device(setting, None)
    return precision_for_device(setting, strategy_kind(strategy or tf.distribute.get_strategy()))


def set_mixed_precision(setting="auto", strategy=None):
    """Set the global Keras policy (before building the model); returns its name."""
    policy = mixed_precision_policy(setting, strategy)
    keras.mixed_precision.set_global_policy(policy)
    return policy


def global_batch_size(per_replica_batch_size, strategy=None):
    """Per-replica batch times the number of replicas in sync."""
    strategy = strategy or tf.distribute.get_strategy()
    return int(per_replica_batch_size) * int(strategy.num_replicas_in_sync)
