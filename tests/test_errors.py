"""The user-error classes and how `kerasbert` prints them."""

import pytest

from kerasbert.commands.cli import format_user_error
from kerasbert.data import ColumnError, DoubanFormatError, LabelError
from kerasbert.errors import (
    CheckpointNotFound,
    InputError,
    KerasbertError,
    ModelFolderError,
    OutputError,
    RecipeError,
)


def test_input_error_names_file_and_line():
    error = InputError("data/x.csv", "no column 'comment'", line=1)
    assert str(error) == "data/x.csv: line 1: no column 'comment'"
    assert (error.path, error.line, error.problem) == ("data/x.csv", 1, "no column 'comment'")
    assert str(InputError("data/x.csv", "the file is empty")) == "data/x.csv: the file is empty"


def test_recipe_error_names_file_and_field():
    assert str(RecipeError("r.json", "must be an integer, got 'x'", field="epochs")) == (
        "r.json: field 'epochs': must be an integer, got 'x'")


@pytest.mark.parametrize("cls", [InputError, RecipeError, CheckpointNotFound, ModelFolderError, OutputError,
                                 DoubanFormatError, ColumnError, LabelError])
def test_every_user_error_is_a_kerasbert_error_and_a_value_error(cls):
    assert issubclass(cls, KerasbertError) and issubclass(cls, ValueError)


def test_column_error_is_an_input_error():
    assert issubclass(ColumnError, DoubanFormatError) and issubclass(DoubanFormatError, InputError)


def test_format_user_error_puts_details_under_one_error_line():
    text = format_user_error(InputError("x.csv", "no valid rows left.\nx.csv: 3 read, 3 skipped"))
    lines = text.splitlines()
    assert lines[0] == "kerasbert: error: x.csv: no valid rows left."
    assert lines[1:] == ["  x.csv: 3 read, 3 skipped"]
