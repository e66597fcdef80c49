"""`kerasbert` command line: one entry point, one module per command group.

Each module named in `COMMAND_MODULES` defines `add_parser(subparsers)`,
which adds its sub-command(s) and sets `func` (called with the parsed args,
returning an exit code).
"""

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "kerasbert.checkpoints.cli",  # kerasbert checkpoint build|trim|info
    "kerasbert.training.cli",  # kerasbert train|predict|evaluate
)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kerasbert", description="Text models on pretrained BERT-family encoders."
    )
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


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
