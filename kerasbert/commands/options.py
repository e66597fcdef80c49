"""Options that several commands share, spelled the same everywhere."""

import argparse


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not an integer" % text) from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1, got %d" % value)
    return value


def add_output_argument(parser, help_text, required=True):
    """`--output`, with `--out` and `--output-dir` as aliases (every command takes all three)."""
    parser.add_argument("--output", "--out", "--output-dir", dest="output", required=required, help=help_text)


def add_quiet_argument(parser, help_text="no progress output"):
    parser.add_argument("--quiet", action="store_true", help=help_text)
