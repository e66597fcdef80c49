"""The package's user errors: `kerasbert` prints them as one line and exits 2.

Anything else raised from the command line is a bug and keeps its traceback.
All derive from `KerasbertError` (a `ValueError`, so older `except
ValueError` code still catches them).
"""

__all__ = ["KerasbertError", "InputError", "RecipeError", "CheckpointNotFound", "ModelFolderError", "OutputError"]


class KerasbertError(ValueError):
    """A problem with what the user gave us (a file, a flag, a recipe)."""


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


class RecipeError(KerasbertError):
    """A recipe JSON is missing, not JSON, or has an unknown or mistyped field."""

    def __init__(self, path, problem, field=None):
        self.path = str(path)
        self.field = field
        self.problem = str(problem)
        where = self.path if field is None else "%s: field %r" % (self.path, field)
        super().__init__("%s: %s" % (where, self.problem))


class CheckpointNotFound(KerasbertError):
    """A checkpoint spec, hub id or folder that does not resolve."""


class ModelFolderError(KerasbertError):
    """A trained-model folder is missing, incomplete, corrupt or unsafe to load."""


class OutputError(KerasbertError):
    """An output path that cannot be written without destroying the user's files."""
