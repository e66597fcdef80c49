"""`detect_runtime` and the TPU branch of `resolve_strategy`, with the machine mocked.

The machine is faked through what `detect_runtime` reads: the TPU device
files and variables, the NVIDIA driver file, and the devices TensorFlow
registers (`tf.config.list_logical_devices`).
"""

import collections
import warnings

import pytest

from kerasbert import distribute
from kerasbert._backend import tf
from kerasbert.distribute import (
    TPU_ENV_VARS,
    TPUUnavailableError,
    detect_runtime,
    resolve_strategy,
    strategy_kind,
    tpu_unavailable_message,
)
from kerasbert.errors import KerasbertError

FakeDevice = collections.namedtuple("FakeDevice", ["name", "device_type"])
UPSTREAM_REPORTS = (
    "tensorflow/tensorflow#96203",
    "googlecolab/colabtools#5419",
    "googlecolab/colabtools#4481",
    "tensorflow/tensorflow#82208",
)


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """A CPU machine; tests add TPU files, variables, a driver or devices."""
    for name in TPU_ENV_VARS + ("TF_CONFIG",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(distribute, "TPU_DEVICE_FILES", (str(tmp_path / "accel0"), str(tmp_path / "vfio0")))
    monkeypatch.setattr(distribute, "NVIDIA_DRIVER_FILE", str(tmp_path / "nvidia_version"))
    registered = {}
    real_list = tf.config.list_logical_devices

    def list_logical_devices(device_type=None):
        if device_type in registered:
            return [FakeDevice("/device:%s:%d" % (device_type, i), device_type)
                    for i in range(registered[device_type])]
        return real_list(device_type)

    monkeypatch.setattr(tf.config, "list_logical_devices", list_logical_devices)

    def never_initialise(*args, **kwargs):
        raise AssertionError("initialize_tpu_system must not run without a TPU device")

    monkeypatch.setattr(tf.tpu.experimental, "initialize_tpu_system", never_initialise)
    return tmp_path, registered


def test_cpu_machine(machine):
    runtime = detect_runtime()
    assert (runtime.kind, runtime.tpu_devices, runtime.gpu_devices, runtime.tpu_hints) == ("cpu", 0, 0, ())
    assert runtime.ready and "no TPU or GPU" in str(runtime)
    with pytest.raises(TPUUnavailableError) as raised:
        resolve_strategy("tpu")
    assert isinstance(raised.value, KerasbertError) and isinstance(raised.value, ValueError)
    message = str(raised.value)
    assert "shows no TPU" in message and "the strategy and mixed precision set to auto" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no TPU hinted: auto must not warn
        strategy = resolve_strategy("auto")
    assert strategy_kind(strategy) == "cpu" and strategy.num_replicas_in_sync == 1


@pytest.mark.parametrize("hint", ["device_file", "variable"])
def test_tpu_hinted_but_no_tpu_device(machine, monkeypatch, hint):
    tmp_path, _ = machine
    if hint == "device_file":
        (tmp_path / "accel0").touch()
        expected_hint = str(tmp_path / "accel0")
    else:
        monkeypatch.setenv("TPU_ACCELERATOR_TYPE", "v2-8")
        expected_hint = "TPU_ACCELERATOR_TYPE=v2-8"
    runtime = detect_runtime()
    assert (runtime.kind, runtime.tpu_devices, runtime.tpu_hints) == ("tpu", 0, (expected_hint,))
    assert not runtime.ready and expected_hint in runtime.why

    with pytest.raises(TPUUnavailableError) as raised:
        resolve_strategy("tpu")
    message = str(raised.value)
    for report in UPSTREAM_REPORTS:
        assert report in message
    assert "tensorflow-tpu==%s" % tf.__version__ in message
    assert distribute.LIBTPU_FIND_LINKS in message
    assert "the strategy and mixed precision set to auto" in message
    assert message == tpu_unavailable_message(runtime)

    with pytest.warns(RuntimeWarning, match="falls back to GPUs or the CPU. No TPU device") as caught:
        strategy = resolve_strategy("auto")
    assert "tensorflow/tensorflow#96203" in str(caught[0].message)
    assert strategy_kind(strategy) == "cpu"


def test_tpu_devices_registered(machine):
    tmp_path, registered = machine
    (tmp_path / "accel0").touch()
    registered["TPU"] = 8
    runtime = detect_runtime()
    assert (runtime.kind, runtime.tpu_devices) == ("tpu", 8) and runtime.ready
    assert "8 TPU device(s)" in runtime.why


def test_gpu_machine(machine):
    tmp_path, registered = machine
    (tmp_path / "nvidia_version").write_text("NVRM version: 535.104.05\n")
    runtime = detect_runtime()  # driver, but a TensorFlow without CUDA
    assert (runtime.kind, runtime.gpu_devices, runtime.ready) == ("gpu", 0, False)
    assert "tensorflow[and-cuda]==%s" % tf.__version__ in runtime.why
    registered["GPU"] = 2
    runtime = detect_runtime()
    assert (runtime.kind, runtime.gpu_devices, runtime.tpu_devices, runtime.ready) == ("gpu", 2, 0, True)
    with pytest.raises(TPUUnavailableError, match="shows no TPU"):
        resolve_strategy("tpu")


def test_legacy_colab_tpu_node_failure_is_named(machine, monkeypatch):
    monkeypatch.setenv("COLAB_TPU_ADDR", "10.0.0.2:8470")

    class UnreachableResolver:
        def __init__(self, tpu):
            raise ValueError("Could not lookup TPU metadata from name %r\nsecond line" % tpu)

    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", UnreachableResolver)
    runtime = detect_runtime()
    assert runtime.kind == "tpu" and "legacy TPU Node" in runtime.why
    with pytest.raises(TPUUnavailableError) as raised:
        resolve_strategy("tpu")
    message = str(raised.value)
    assert "'grpc://10.0.0.2:8470' could not be initialised (ValueError: Could not lookup" in message
    assert "second line" not in message
    assert isinstance(raised.value.__cause__, ValueError)
    with pytest.warns(RuntimeWarning, match="could not be initialised"):
        assert strategy_kind(resolve_strategy("auto")) == "cpu"
