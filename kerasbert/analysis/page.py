"""A Markdown report page that collects figures and tables, for the analyses."""

import os
import shutil
import weakref

from kerasbert.utils.io import atomic_write_text, check_output_folder, publish_files, staging_directory

__all__ = ["Page"]


class Page:
    """A Markdown report collecting figures and tables; published into `out_dir` only when complete.

    Figures go to `page.path(name)`, a hidden temporary folder (inside
    `out_dir` where it exists, else beside it); `write()` moves them and the
    page into `out_dir` (other files there stay). An analysis that fails
    half-way therefore leaves an existing `out_dir` as it was: its temporary
    folder is removed by `discard()`, or when the page is dropped.
    """

    def __init__(self, out_dir, title):
        self.out_dir = os.fspath(out_dir)
        check_output_folder(self.out_dir, follow_links=True)  # files go into it; a file there is refused
        # Inside an existing folder (only it need be writable, not its parent), else beside the new one.
        self.staging = staging_directory(self.out_dir, inside_existing=True)
        # A failed analysis raises past its page without calling anything: the finalizer (run when the
        # page is garbage-collected, or at exit) still removes the temporary folder.
        self._discard = weakref.finalize(self, shutil.rmtree, self.staging, True)
        self.lines = [f"# {title}", ""]
        self.names = []  # files of the staging folder to publish, in order
        self.written = []

    def path(self, name):
        return os.path.join(self.staging, name)

    def add(self, *lines):
        self.lines.extend(lines)
        self.lines.append("")

    def figure(self, path, caption):
        path = os.fspath(path)
        staged = os.path.dirname(os.path.abspath(path)) == os.path.abspath(self.staging)
        if staged:
            self.names.append(os.path.basename(path))
            self.written.append(os.path.join(self.out_dir, os.path.basename(path)))
            link = os.path.basename(path)
        else:  # written elsewhere by the caller: linked where it is, not moved
            self.written.append(path)
            link = os.path.relpath(path, self.out_dir)
        self.add(f"![{caption}]({link})")

    def table(self, header, rows):
        self.add("| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                 *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows))

    def write(self, name="report.md"):
        """Publish the figures, then the page; returns every file written (figures first, the page last)."""
        atomic_write_text(self.path(name), "\n".join(self.lines).rstrip() + "\n")
        publish_files(self.staging, self.out_dir, self.names + [name])  # the page last: it links the rest
        self._discard()
        self.written.append(os.path.join(self.out_dir, name))
        return list(self.written)

    def discard(self):
        """Drop what was written so far; `out_dir` stays as it was."""
        self._discard()
