#!/usr/bin/env python
"""Prepare Douban short comments: the same as `kerasbert prepare`.

    python data_scripts/prepare_douban.py --input DMSC.csv --output data/douban_random --split random

See `kerasbert prepare --help` (the logic lives in `kerasbert.data`).
"""

import sys

from kerasbert.commands import main

if __name__ == "__main__":
    sys.exit(main(["prepare"] + sys.argv[1:]))
