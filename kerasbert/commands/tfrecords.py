"""`kerasbert tfrecords`: tokenize a prepared split into fixed-length TFRecord shards."""

import argparse
import os
import sys

from kerasbert.commands.options import (add_output_argument, add_quiet_argument, checkpoint_or_folder, input_path,
                                         max_length, typed)
from kerasbert.data import load_split_csv, write_tfrecords
from kerasbert.errors import ColumnError
from kerasbert.limits import integer
from kerasbert.tasks import TASKS

TFRECORDS_HELP = """Tokenize a prepared split CSV into fixed-length TFRecord shards (for TPU).

Writes {prefix}-NNNNN-of-NNNNN.tfrecord and the sidecar {prefix}.json into
--output (local or gs://); read them with kerasbert.data.tfrecord_dataset."""


def add_tfrecords_arguments(parser):
    parser.add_argument("--input", required=True, type=input_path, help="prepared split CSV (movie, star, comment[, words])")
    parser.add_argument("--tokenizer", required=True, type=checkpoint_or_folder, help="tokenizer folder, name or kerasbert spec")
    add_output_argument(parser, "output folder (local or gs://)")
    parser.add_argument("--prefix", default=None, help="shard name prefix (default: the CSV's name, e.g. train)")
    parser.add_argument("--max-length", type=max_length, default=128)
    parser.add_argument("--task", choices=TASKS, default="classification")
    parser.add_argument("--num-shards", type=typed(integer(1, 100000)), default=None)
    parser.add_argument("--examples-per-shard", type=typed(integer(1)), default=50000)
    parser.add_argument("--column", "--text-column", dest="text_column", default="comment",
                        help="the text column (as in predict and checkpoint trim)")
    add_quiet_argument(parser)


def tfrecords_command(args):
    prefix = args.prefix or os.path.splitext(os.path.basename(args.input))[0]
    progress = not args.quiet
    frame, report = load_split_csv(args.input, progress=progress, return_report=True)
    if report.skipped_total:
        print(report.summary(), file=sys.stderr)
    if args.text_column not in frame:
        raise ColumnError(args.input, "no column %r (columns: %s)" % (args.text_column, ", ".join(frame.columns)))
    meta = write_tfrecords(
        frame[args.text_column].tolist(), frame["star"].to_numpy(), args.tokenizer, args.output,
        prefix=prefix, max_length=args.max_length, task=args.task, num_shards=args.num_shards,
        examples_per_shard=args.examples_per_shard, tokenizer_name=args.tokenizer, progress=progress,
    )
    print("wrote %d examples in %d shard(s) to %s (max_length %d, %d truncated, task %s)"
          % (meta["count"], meta["num_shards"], args.output, meta["max_length"], meta["truncated"], meta["task"]))
    return 0


def add_parser(subparsers):
    tfrecords = subparsers.add_parser("tfrecords", help="tokenize a prepared split into TFRecord shards",
                                      description=TFRECORDS_HELP,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    add_tfrecords_arguments(tfrecords)
    tfrecords.set_defaults(func=tfrecords_command)
