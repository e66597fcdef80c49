"""`kerasbert` command line: one entry point, one module per command group.

Each module named in `COMMAND_MODULES` defines `add_parser(subparsers)`,
which adds its sub-command(s) and sets `func` (called with the parsed args,
returning an exit code).

A user error (a `kerasbert.errors.KerasbertError`: bad input file, bad
recipe, missing checkpoint or model folder) is printed as one
`kerasbert: error: ...` line and exits with status 2; `--debug` shows its
traceback. Anything else is a bug and keeps its traceback.
"""

import argparse
import importlib
import sys

from kerasbert.errors import KerasbertError

COMMAND_MODULES = (
    "kerasbert.checkpoints.cli",  # kerasbert checkpoint build|trim|info
    "kerasbert.training.cli",  # kerasbert train|predict|evaluate
    "kerasbert.training.cache_cli",  # kerasbert cache list|clear
    "kerasbert.data.cli",  # kerasbert prepare|tfrecords
    "kerasbert.analysis.cli",  # kerasbert analyze attention|layers|words|sentences|transfer|words-per-star
)

USER_ERROR_STATUS = 2


def _user_error_types():
    """KerasbertError, plus the checkpoint errors (they name the problem too)."""
    types = [KerasbertError]
    try:
        from kerasbert.checkpoints.errors import CheckpointError
    except ImportError:  # pragma: no cover
        pass
    else:
        types.append(CheckpointError)
    return tuple(types)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kerasbert", description="Text models on pretrained BERT-family encoders."
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of a user error too")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        module.add_parser(subparsers)
    return parser


def format_user_error(error):
    """`kerasbert: error: ...` for the first line; further lines (details) indented."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return "\n".join(["kerasbert: error: %s" % lines[0]] + ["  %s" % line for line in lines[1:]])


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # accepted anywhere, also after the command
    argv = [arg for arg in argv if arg != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return USER_ERROR_STATUS
    try:
        return int(args.func(args) or 0)
    except _user_error_types() as error:
        if debug:
            raise
        print(format_user_error(error), file=sys.stderr)
        return USER_ERROR_STATUS


if __name__ == "__main__":
    sys.exit(main())
