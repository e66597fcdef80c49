"""Every error kerasbert raises on purpose, in one place.

`KerasbertError` and its subclasses are user errors: something the user
gave (a file, a flag, a recipe field, an argument) is wrong, and the message
says what and where. The `kerasbert` command prints them as one
`kerasbert: error: ...` line and exits 2 (`kerasbert.commands.main`).
Anything else is a bug and keeps its traceback. All derive from
`ValueError`, so older `except ValueError` code still catches them.

This module imports nothing of kerasbert: every floor may use it.
"""

__all__ = [
    "ArgumentError",
    "CacheTooLarge",
    "CheckpointError",
    "CheckpointNotFound",
    "ColumnError",
    "DoubanFormatError",
    "InputError",
    "KerasbertError",
    "LabelError",
    "ModelFolderError",
    "OutputError",
    "RecipeError",
    "TPUUnavailableError",
]


class KerasbertError(ValueError):
    """A problem with what the user gave us (a file, a flag, a recipe, an argument)."""


class InputError(KerasbertError):
    """A data file cannot be read: `path: line N: problem`.

    `line` is the 1-based line number in the file (the header is line 1) or
    None when the problem concerns the whole file.
    """

    def __init__(self, path, problem, line=None):
        self.path = str(path)
        self.problem = str(problem)
        self.line = line
        where = self.path if line is None else "%s: line %d" % (self.path, line)
        super().__init__("%s: %s" % (where, self.problem))


class DoubanFormatError(InputError):
    """The file cannot be read as a table at all (names the file)."""


class ColumnError(DoubanFormatError):
    """A column the caller asked for (or the layout needs) is not in the header."""


class LabelError(KerasbertError):
    """A label is not a valid star rating."""


class ArgumentError(KerasbertError):
    """An argument of a library call is out of its range or of the wrong kind; `argument` names it."""

    def __init__(self, argument, problem):
        self.argument = argument
        self.problem = str(problem)
        super().__init__(self.problem)


class RecipeError(KerasbertError):
    """A recipe JSON is missing, not JSON, or has an unknown or mistyped field."""

    def __init__(self, path, problem, field=None):
        self.path = str(path)
        self.field = field
        self.problem = str(problem)
        where = self.path if field is None else "%s: field %r" % (self.path, field)
        super().__init__("%s: %s" % (where, self.problem))


class CheckpointError(KerasbertError):
    """A checkpoint cannot be resolved, read or built; the message says why and what to do."""


class CheckpointNotFound(CheckpointError):
    """A checkpoint spec, hub id or folder that does not resolve."""


class ModelFolderError(KerasbertError):
    """A trained-model folder is missing, incomplete, corrupt or unsafe to load."""


class OutputError(KerasbertError):
    """An output path that cannot be written without destroying the user's files."""


class CacheTooLarge(OutputError):
    """The encoder-state cache would not fit on the disk holding the cache folder."""


class TPUUnavailableError(KerasbertError):
    """A TPU was asked for but none can be reached."""
