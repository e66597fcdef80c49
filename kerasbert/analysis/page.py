"""A Markdown report page that collects figures and tables, for the analyses."""

import os

from kerasbert.utils.io import atomic_write_text

__all__ = ["Page"]


class Page:
    """A Markdown report collecting figures and tables; written atomically at the end."""

    def __init__(self, out_dir, title):
        self.out_dir = os.fspath(out_dir)
        os.makedirs(self.out_dir, exist_ok=True)
        self.lines = [f"# {title}", ""]
        self.written = []

    def path(self, name):
        return os.path.join(self.out_dir, name)

    def add(self, *lines):
        self.lines.extend(lines)
        self.lines.append("")

    def figure(self, path, caption):
        self.written.append(path)
        self.add(f"![{caption}]({os.path.relpath(path, self.out_dir)})")

    def table(self, header, rows):
        self.add("| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                 *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows))

    def write(self, name="report.md"):
        """Write the page atomically; returns every file written (figures first, the page last)."""
        path = self.path(name)
        atomic_write_text(path, "\n".join(self.lines).rstrip() + "\n")
        self.written.append(path)
        return list(self.written)
