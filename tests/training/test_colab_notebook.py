"""recipes/colab_tpu.ipynb: valid, compiles, public kerasbert names only, and its
runtime cells do the right thing on a mocked CPU, GPU and TPU machine."""

import ast
import importlib
import pathlib
import re

import nbformat
import pytest

from kerasbert import distribute
from kerasbert._backend import tf
from kerasbert.distribute import Runtime
from kerasbert.training import load_recipe

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "recipes" / "colab_tpu.ipynb"
PUBLIC_MODULES = ("kerasbert.training", "kerasbert.distribute", "kerasbert.keras3.distribution")


KERAS3_PUBLIC = ("accelerators",)


def _notebook():
    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    nbformat.validate(notebook)
    return notebook


def _python(source):
    """A cell's Python: IPython's `!` and `%` lines removed."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("!", "%")))


def _code_cells():
    return [cell for cell in _notebook().cells if cell.cell_type == "code"]


def _cell(tag):
    (cell,) = [cell for cell in _code_cells() if tag in cell.metadata.get("tags", [])]
    return _python(cell.source)


def test_notebook_is_valid_compiles_and_calls_only_public_names():
    cells = _code_cells()
    assert _notebook().nbformat == 4
    for number, cell in enumerate(cells):
        compile(_python(cell.source), "%s code cell %d" % (NOTEBOOK.name, number), "exec")
    tree = ast.parse("\n".join(_python(cell.source) for cell in cells))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(alias.name.startswith("kerasbert.") for alias in node.names)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kerasbert"):
            assert node.module in PUBLIC_MODULES, node.module
            for alias in node.names:
                assert not alias.name.startswith("_"), alias.name
                if node.module.startswith("kerasbert.keras3"):  # Keras 3 is imported in its own process below
                    assert alias.name in KERAS3_PUBLIC, alias.name
                else:
                    assert hasattr(importlib.import_module(node.module), alias.name), (node.module, alias.name)
                imported.add(alias.name)
        if isinstance(node, ast.Attribute):  # no private attributes of anything
            assert not (node.attr.startswith("_") and not node.attr.startswith("__")), node.attr
    assert {"detect_runtime", "tpu_unavailable_message", "accelerators", "load_recipe", "run_recipe"} <= imported
    assert "detect_runtime()" in _python(cells[0].source), "the first code cell says which runtime it is"
    shell = "\n".join(line for cell in cells for line in cell.source.splitlines() if line.lstrip().startswith("!"))
    for script in re.findall(r"data_scripts/(\w+\.py)", shell):
        assert (NOTEBOOK.parents[1] / "data_scripts" / script).is_file()
    assert re.search(r"^!kerasbert prepare --input", shell, re.M)


def test_recipe_loads_for_both_paths():
    settings = _python(_code_cells()[0].source)
    recipe = re.search(r'^RECIPE = "(\w+)"', settings, re.M).group(1)
    for strategy in ("tpu", "auto"):
        config = load_recipe(recipe, strategy=strategy, mixed_precision="auto", batch_size=32)
        assert (config.strategy, config.mixed_precision, config.batch_size) == (strategy, "auto", 32)
    for backend in ("jax", "tf-keras"):
        assert load_recipe(recipe, backend=backend).backend == backend
    train = _cell("train")
    assert "strategy=STRATEGY" in train and 'mixed_precision="auto"' in train and "backend=BACKEND" in train
    assert "batch_size=BATCH_PER_REPLICA" in train


RUNTIMES = {
    "cpu": Runtime("cpu", "no TPU or GPU found"),
    "gpu": Runtime("gpu", "TensorFlow registers 1 GPU(s)", gpu_devices=1),
    "gpu_without_cuda": Runtime("gpu", "an NVIDIA driver is loaded but TensorFlow registers no GPU"),
    "tpu": Runtime("tpu", "TensorFlow registers 8 TPU device(s)", tpu_devices=8, tpu_hints=("/dev/accel0",)),
    "tpu_without_device": Runtime("tpu", "TPU found (/dev/accel0) but TensorFlow registers no TPU device",
                                  tpu_hints=("/dev/accel0",)),
}


@pytest.mark.parametrize("machine, backend", [("cpu", "tf-keras"), ("gpu", "tf-keras"), ("tpu", "jax"),
                                              ("tpu_without_device", "jax")])
def test_the_road_cell_takes_jax_on_a_tpu(monkeypatch, machine, backend):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    namespace = {"RUNTIME": RUNTIMES[machine], "BACKEND": "auto", "os": __import__("os")}
    exec(_cell("pick-road"), namespace)
    assert namespace["BACKEND"] == backend
    assert __import__("os").environ.get("KERAS_BACKEND") == (None if backend == "tf-keras" else "jax")
    monkeypatch.delenv("KERAS_BACKEND", raising=False)


def _check(runtime, backend="tf-keras", accelerators=None):
    """Run the check cell with the Keras 3 device list faked (`accelerators`)."""
    import sys
    import types

    fake = types.ModuleType("kerasbert.keras3.distribution")
    fake.accelerators = lambda: accelerators
    namespace = {"BATCH_PER_REPLICA": 32, "RUNTIME": runtime, "BACKEND": backend}
    saved = sys.modules.get(fake.__name__)
    sys.modules[fake.__name__] = fake
    try:
        exec(_cell("check-accelerator"), namespace)
    finally:
        if saved is None:
            sys.modules.pop(fake.__name__)
        else:
            sys.modules[fake.__name__] = saved
    return namespace


@pytest.mark.parametrize("machine, strategy, replicas", [("cpu", "auto", 1), ("gpu", "auto", 1), ("tpu", "tpu", 8)])
def test_check_cell_picks_the_strategy(capsys, machine, strategy, replicas):
    namespace = _check(RUNTIMES[machine])
    assert (namespace["STRATEGY"], namespace["REPLICAS"]) == (strategy, replicas)
    assert "%d replica(s) x 32 = %d examples per step" % (replicas, 32 * replicas) in capsys.readouterr().out


def test_check_cell_on_the_jax_road_counts_the_chips_jax_sees(capsys):
    namespace = _check(RUNTIMES["tpu_without_device"], "jax", ("tpu", ("TPU:0",)))  # TF's view does not matter
    assert (namespace["STRATEGY"], namespace["REPLICAS"]) == ("tpu", 1)
    namespace = _check(RUNTIMES["tpu"], "jax", ("tpu", tuple("TPU:%d" % i for i in range(8))))
    assert namespace["REPLICAS"] == 8 and "8 replica(s) x 32 = 256" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="JAX sees no TPU"):
        _check(RUNTIMES["tpu"], "jax", ("cpu", ("cpu:0",)))


def test_check_cell_stops_without_a_tpu_device():
    with pytest.raises(SystemExit) as stopped:
        _check(RUNTIMES["tpu_without_device"])
    message = str(stopped.value)
    for report in ("tensorflow/tensorflow#96203", "googlecolab/colabtools#5419", "googlecolab/colabtools#4481"):
        assert report in message
    assert "the strategy and mixed precision set to auto" in message
    with pytest.raises(SystemExit, match="registers no GPU"):
        _check(RUNTIMES["gpu_without_cuda"])


def _run_install_cell(runtime, tpu_tf_version="", resolvable=True, calls=None, backend="tf-keras"):
    """Run the cell with pip faked; returns pip's calls (`resolvable`: the dry run succeeds)."""
    calls = [] if calls is None else calls

    def pip_install(*arguments, stop=True):
        calls.append(arguments)
        return resolvable or "--dry-run" not in arguments

    namespace = {"RUNTIME": runtime, "TPU_TF_VERSION": tpu_tf_version, "pip_install": pip_install, "BACKEND": backend}
    exec("import importlib.metadata\n" + _cell("install-tpu-build"), namespace)
    return calls


@pytest.mark.parametrize("machine", ["cpu", "gpu", "tpu"])
def test_install_cell_does_nothing_without_a_tpu_to_fix(machine):
    assert _run_install_cell(RUNTIMES[machine]) == []


def test_install_cell_never_installs_tensorflow_tpu_on_the_jax_road():
    assert _run_install_cell(RUNTIMES["tpu_without_device"], backend="jax") == []


def test_install_cell_installs_the_tpu_build_of_the_same_version():
    calls = _run_install_cell(RUNTIMES["tpu_without_device"])
    version = tf.__version__
    minor = ".".join(version.split(".")[:2])
    tpu_build = ("tensorflow-tpu==%s" % version, "-f", distribute.LIBTPU_FIND_LINKS)
    assert calls == [("--dry-run",) + tpu_build, ("tensorflow==%s" % version, "tf-keras~=%s.0" % minor), tpu_build]
    calls = _run_install_cell(RUNTIMES["tpu_without_device"], tpu_tf_version="2.20.0")
    assert calls[-1][0] == "tensorflow-tpu==2.20.0" and calls[-2] == ("tensorflow==2.20.0", "tf-keras~=2.20.0")


def test_install_cell_stops_before_installing_a_missing_release():
    calls = []
    with pytest.raises(SystemExit, match="no tensorflow-tpu==9.9.9 .* TPU_TF_VERSION"):
        _run_install_cell(RUNTIMES["tpu_without_device"], tpu_tf_version="9.9.9", resolvable=False, calls=calls)
    assert calls == [("--dry-run", "tensorflow-tpu==9.9.9", "-f", distribute.LIBTPU_FIND_LINKS)]
