"""`kerasbert predict`: star predictions for every row of a CSV, streamed.

`--input -` reads the CSV from standard input (a pipe is copied to a
temporary file by the reader, which needs to look at its start twice).
"""

import sys

from kerasbert.commands.options import (add_output_argument, add_quiet_argument, batch_size, folder_path, input_path,
                                         max_length, positive_int)
from kerasbert.training.predict import DEFAULT_CHUNK_ROWS, predict_csv


def predict_command(args):
    source = sys.stdin.buffer if args.input == "-" else args.input
    summary = predict_csv(args.model, source, column=args.column, output_path=args.output,
                          batch_size=args.batch_size, max_length=args.max_length, chunk_rows=args.chunk_rows,
                          verbose=not args.quiet, group_column=args.group_column)
    if args.quiet:
        return 0
    not_rated = summary["not_rated"]
    print("%s: rated %d row(s); %d row(s) could not be rated%s"
          % (summary["input"], summary["rated"], not_rated, ":" if not_rated else "."))
    if args.group_column:
        print("  rated by %s: %d group(s) of 2 or more rows, %d row(s) adapted to their group"
              % (args.group_column, summary["groups"], summary["adapted_rows"]))
    for line, status in summary["bad_examples"]:
        print("  line %d: %s" % (line, status))
    if not_rated > len(summary["bad_examples"]):
        print("  ... and %d more (see the status column)" % (not_rated - len(summary["bad_examples"])))
    return 0


def add_parser(subparsers):
    predict = subparsers.add_parser("predict", help="predict stars for every row of a CSV")
    predict.add_argument("--model", required=True, type=folder_path, help="a folder written by kerasbert train")
    predict.add_argument("--input", required=True, type=input_path,
                         help="CSV file (any encoding/delimiter kerasbert reads); - reads standard input")
    predict.add_argument("--column", default=None,
                         help="the text column, case-insensitive (default: the comment column)")
    add_output_argument(predict, "CSV to write (replaced only when complete)")
    predict.add_argument("--group-column", default=None,
                         help="rate each value's rows together, adapted to the group's own star mix "
                              "(e.g. movie); the output keeps the unadapted prediction too")
    predict.add_argument("--batch-size", type=batch_size, default=32)
    predict.add_argument("--max-length", type=max_length, default=None, help="tokens per text (default: the model's)")
    predict.add_argument("--chunk-rows", type=positive_int, default=DEFAULT_CHUNK_ROWS,
                         help="rows read and written at a time")
    add_quiet_argument(predict)
    predict.set_defaults(func=predict_command)
