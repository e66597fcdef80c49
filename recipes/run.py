#!/usr/bin/env python
"""Run a recipe: python recipes/run.py douban_classify_frozen [--data ... --epochs ...].

The four Douban recipes are JSON files beside this script; they share this
one runner (`kerasbert.training.run_recipe`) and differ only in configuration.
`kerasbert train --recipe NAME` does the same.
"""

import argparse
import sys

from kerasbert.commands.train import add_train_arguments, train_command


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_train_arguments(parser, recipe_positional=True)
    return train_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
