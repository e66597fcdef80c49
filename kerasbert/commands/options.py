"""Options that several commands share, spelled the same everywhere, and the argparse side of the limits.

Every numeric option takes `type=typed(limit)`, with the `kerasbert.limits.Limit`
declared for the value (a recipe field's in `RECIPE_LIMITS`, a model argument's in
`MODEL_LIMITS`, or the command's own): argparse then refuses a bad value naming
the option, before any work starts. `tests/commands/test_every_option.py` reads
the declared limits from the parsers to build its cases.
"""

import argparse

from kerasbert.limits import integer
from kerasbert.training.config import RECIPE_LIMITS


def typed(limit):
    """An argparse `type` that parses and range-checks a word by `limit` (kept as `.limit`)."""

    def parse(text):
        try:
            return limit.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.limit = limit
    parse.__name__ = limit.kind  # argparse names the type in some messages
    return parse


def path_of_kind(kind):
    """An argparse `type` for a path: the text as given, declared as `kind` (kept as `.path_kind`).

    Kinds: `input` (a file to read; `-` is standard input where the command says so),
    `checkpoint_or_folder` (a checkpoint spec or hub id, or a folder: a checkpoint or a model folder),
    `folder` (a folder to read, such as a model folder), `input_or_folder` (either),
    `output` (a file or folder to write, published only when complete).
    The commands check the path itself; the declaration lets the option table test it.
    """

    def parse(text):
        if not text:
            raise argparse.ArgumentTypeError("an empty path")
        return text

    parse.path_kind = kind
    parse.__name__ = kind + " path"
    return parse


input_path = path_of_kind("input")
checkpoint_or_folder = path_of_kind("checkpoint_or_folder")  # a spec, a hub id or a folder (a model folder too)
folder_path = path_of_kind("folder")
input_or_folder_path = path_of_kind("input_or_folder")
output_path = path_of_kind("output")


def encoding_name(text):
    """argparse type: a text encoding Python knows (`utf-8`, `gb18030`, ...)."""
    import codecs

    try:
        return codecs.lookup(text).name
    except LookupError:
        raise argparse.ArgumentTypeError("unknown text encoding %r (for example utf-8, gb18030, utf-16)" % text) \
            from None


positive_int = typed(integer(1))
batch_size = typed(RECIPE_LIMITS["batch_size"])
max_length = typed(RECIPE_LIMITS["max_length"])
seed = typed(RECIPE_LIMITS["seed"])


def add_output_argument(parser, help_text, required=True):
    """`--output`, with `--out` and `--output-dir` as aliases (every command takes all three)."""
    parser.add_argument("--output", "--out", "--output-dir", dest="output", required=required, type=output_path,
                        help=help_text)


def add_quiet_argument(parser, help_text="no progress output"):
    parser.add_argument("--quiet", action="store_true", help=help_text)
