"""Atomic file and folder writes: a reader never sees a half-written output."""

import contextlib
import json
import os
import shutil
import tempfile


def current_umask():
    """The process umask (read without changing it for longer than a moment)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def apply_default_modes(path):
    """Give `path` the modes a plain `open`/`mkdir` would: 0666/0777 less the umask.

    `tempfile` creates files 0600 and folders 0700; an atomic write must not
    leave its result private. A folder's immediate files get the file mode.
    """
    mask = current_umask()
    if os.path.isdir(path):
        os.chmod(path, 0o777 & ~mask)
        for name in os.listdir(path):
            child = os.path.join(path, name)
            if os.path.isfile(child) and not os.path.islink(child):
                os.chmod(child, 0o666 & ~mask)
    else:
        os.chmod(path, 0o666 & ~mask)


def _tmp_sibling(path, suffix=""):
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix="." + os.path.basename(path) + ".", suffix=".tmp" + suffix, dir=directory
    )
    os.close(fd)
    apply_default_modes(tmp)
    return tmp


def disk_bytes(path):
    """Bytes of a file, or of every file under a folder (files that vanish meanwhile count 0)."""
    if not os.path.isdir(path):
        return os.path.getsize(path)
    total = 0
    for parent, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(parent, name))
            except OSError:
                pass
    return total


def atomic_write_bytes(path, data):
    """Write `data` to `path` through a temporary file and `os.replace`."""
    tmp = _tmp_sibling(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_text(path, text, encoding="utf-8"):
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path, obj, **kwargs):
    kwargs.setdefault("indent", 2)
    kwargs.setdefault("ensure_ascii", False)
    atomic_write_text(path, json.dumps(obj, **kwargs) + "\n")


@contextlib.contextmanager
def atomic_output_file(path, suffix=""):
    """Yield a temporary path; on success it is renamed to `path`.

    For writers that need a file name (matplotlib's `savefig`, pandas'
    `to_csv`): `suffix` keeps the extension they use to pick a format.
    """
    tmp = _tmp_sibling(path, suffix=suffix)
    try:
        yield tmp
        apply_default_modes(tmp)  # in case the writer re-created the file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a temporary folder next to `path`; renamed to `path` on success.

    An existing `path` is replaced only once the new folder is complete, so
    an interrupted build never leaves a half-written folder under `path`.
    """
    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(path) + ".", suffix=".partial", dir=parent)
    os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes it private; the result should not be
    try:
        yield tmp
        if os.path.exists(path):
            old = tmp + ".old"
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
