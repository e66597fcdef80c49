"""The `kerasbert` command line: the top floor, the only one that parses arguments and prints."""

from kerasbert.commands.cli import main

__all__ = ["main"]
