"""`kerasbert` command line: one entry point, one module per command.

Each command module defines `add_parser(subparsers)`, which adds its
sub-command(s) and sets `func` (called with the parsed args, returning an
exit code). This floor alone parses arguments and prints.

A user error (a `kerasbert.errors.KerasbertError`: bad input file, bad
recipe, missing checkpoint or model folder) is printed as one
`kerasbert: error: ...` line and exits with status 2; `--debug` shows its
traceback and the third-party messages that are otherwise silenced.
Anything else is a bug and keeps its traceback.
"""

import argparse
import importlib
import logging
import sys

from kerasbert import environment
from kerasbert.errors import KerasbertError

# Command modules, in the order `kerasbert --help` lists them.
COMMANDS = (
    "train",  # kerasbert train
    "predict",  # kerasbert predict
    "evaluate",  # kerasbert evaluate
    "cache",  # kerasbert cache list|clear
    "checkpoint",  # kerasbert checkpoint build|trim|info
    "prepare",  # kerasbert prepare
    "tfrecords",  # kerasbert tfrecords
    "analyze",  # kerasbert analyze attention|layers|words|sentences|transfer|words-per-star
)

USER_ERROR_STATUS = 2

# The one mapping of user errors: kerasbert's own, and the third-party ones a user's input causes
# (a path that is missing, a folder, unwritable, in the way or not seekable, a full disk; bytes in
# the wrong encoding; an optional package or a model hub that is not there).
USER_ERRORS = (
    KerasbertError,
    OSError,  # FileNotFoundError, PermissionError, IsADirectoryError, io.UnsupportedOperation, ENOSPC, ...
    UnicodeError,
    ImportError,
)
# TensorFlow's file-system errors (tf.errors.*), matched by name so that the command floor need not load
# TensorFlow: they are what a bad path given to a TF reader or writer (TFRecords, SavedModel) raises.
TENSORFLOW_FILE_ERRORS = ("NotFoundError", "PermissionDeniedError", "AlreadyExistsError", "FailedPreconditionError",
                          "ResourceExhaustedError")


def is_user_error(error):
    """True for an exception that a user's input or environment causes, not a bug."""
    if isinstance(error, USER_ERRORS):
        return True
    return (type(error).__module__.startswith("tensorflow")
            and any(cls.__name__ in TENSORFLOW_FILE_ERRORS for cls in type(error).__mro__))


class Parser(argparse.ArgumentParser):
    """argparse, with a refused option told in one line (and where to look) instead of the whole usage."""

    def error(self, message):
        self.exit(USER_ERROR_STATUS, "%s: error: %s (see %s --help)\n" % (self.prog, message, self.prog))


def build_parser():
    """The `kerasbert` parser with every command (importing the command modules loads the library)."""
    parser = Parser(prog="kerasbert", description="Text models on pretrained BERT-family encoders.")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks of user errors and TensorFlow's and transformers' own messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module("kerasbert.commands." + name).add_parser(subparsers)
    return parser


def format_user_error(error):
    """`kerasbert: error: ...` for the first line; further lines (details) indented."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return "\n".join(["kerasbert: error: %s" % lines[0]] + ["  %s" % line for line in lines[1:]])


def _library_messages(quiet):
    """A handler that shows the library's log messages on stderr for one command (none with --quiet)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(logging.WARNING if quiet else logging.INFO)
    return handler


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # accepted anywhere, also after the command
    argv = [arg for arg in argv if arg != "--debug"]
    if not debug:
        environment.quiet_third_party()  # before TensorFlow loads
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # a refused option (2) or --help (0): already told on stderr / stdout
        return stop.code
    if not getattr(args, "func", None):
        parser.print_help()
        return USER_ERROR_STATUS
    logger = logging.getLogger("kerasbert")
    handler, level, propagate = _library_messages(quiet=getattr(args, "quiet", False)), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(min(level or logging.WARNING, handler.level))
    logger.propagate = False  # TensorFlow gives the root logger a handler: show each message once
    try:
        return int(args.func(args) or 0)
    except Exception as error:
        if debug or not is_user_error(error):
            raise
        print(format_user_error(error), file=sys.stderr)
        return USER_ERROR_STATUS
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


if __name__ == "__main__":
    sys.exit(main())
