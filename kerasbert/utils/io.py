"""Atomic file and folder writes: a reader never sees a half-written output."""

import contextlib
import json
import os
import shutil
import tempfile

from kerasbert.errors import OutputError


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


def _refuse_a_file(path):
    """A file (or a link to one) where a folder is to be written is the user's: refuse, never replace it."""
    if os.path.lexists(path) and not os.path.isdir(path):
        raise OutputError("%s: exists and is not a folder; it is left as it is (give a folder path)" % path)


def _check_ancestors(path):
    """The nearest existing ancestor of `path` must be a folder (missing ones are created)."""
    parent = os.path.dirname(path)
    while parent and not os.path.lexists(parent):
        if os.path.dirname(parent) == parent:
            return
        parent = os.path.dirname(parent)
    if parent and not os.path.isdir(parent):
        raise OutputError("%s: cannot be written, %s is a file, not a folder" % (path, parent))


def check_output_folder(path, marker=None, follow_links=False):
    """Raise `OutputError` where writing the folder `path` would destroy something of the user's.

    Refused: `path` an existing file, an existing ancestor that is a file,
    a symbolic link (unless `follow_links`: files are written into the folder
    it points to, the link is not replaced), and, with `marker` (the file a
    writer leaves in every folder it writes), a non-empty folder without it:
    the user's own folder, which a publish of the whole folder would delete.
    Missing parents are fine: the writers create them.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.islink(path) and not follow_links:
        raise OutputError("%s: is a symbolic link; give the folder itself or a new path (nothing was written)" % path)
    _refuse_a_file(path)
    _check_ancestors(path)
    if marker is not None and os.path.isdir(path):
        entries = sorted(os.listdir(path))
        if entries and not os.path.isfile(os.path.join(path, marker)):
            raise OutputError("%s: already holds files this command did not write (%s); it would be replaced "
                              "as a whole, so choose a new or empty folder" % (path, ", ".join(entries[:5])))


def staging_directory(path, inside_existing=False):
    """A new, empty temporary folder beside `path` (`.NAME.XXXX.partial`), with a plain folder's mode.

    Beside, so its contents move to `path` by `os.replace` (one file system);
    hidden and `.partial`, so nobody takes it for a finished output. With
    `inside_existing`, an existing folder `path` holds it instead: its files
    are published one by one (`publish_files`), and only `path` itself needs
    to be writable, not its parent.
    """
    path = os.path.abspath(os.fspath(path))
    _check_ancestors(path)
    if inside_existing and os.path.isdir(path):
        parent = path
    else:
        parent = os.path.dirname(path)
        os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(path) + ".", suffix=".partial", dir=parent)
    os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes it private; the result should not be
    return tmp


def publish_files(staging, path, names):
    """Move the files `names` from the folder `staging` into the folder `path`; other files of `path` stay.

    Where `path` does not exist, `staging` itself is renamed to it (one step).
    Otherwise each file replaces its namesake atomically, in the order given
    (put the file that links the others last). Checked first, so a name
    taken by a folder stops the publish before anything moved. `staging` is
    removed in the end (it may lie inside `path`: `staging_directory`).
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.lexists(path):
        os.replace(staging, path)
        return
    _refuse_a_file(path)
    taken = [name for name in names if os.path.isdir(os.path.join(path, name))]
    if taken:
        raise OutputError("%s: %s is a folder; nothing was replaced" % (path, ", ".join(taken)))
    for name in names:
        os.replace(os.path.join(staging, name), os.path.join(path, name))
    shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a temporary folder next to `path`; renamed to `path` on success.

    An existing `path` is replaced only once the new folder is complete, so
    an interrupted build never leaves a half-written folder under `path`.
    An existing file at `path` is refused (`OutputError`), never replaced.
    """
    path = os.path.abspath(path)
    _refuse_a_file(path)
    tmp = staging_directory(path)
    try:
        yield tmp
        if os.path.lexists(path):
            old = tmp + ".old"
            os.replace(path, old)
            os.replace(tmp, path)
            if os.path.islink(old):  # a link to a folder: the link is replaced, its target is not touched
                os.remove(old)
            else:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
