"""`kerasbert predict`: star predictions for every row of a CSV, streamed."""

from kerasbert.commands.options import add_output_argument, add_quiet_argument, positive_int
from kerasbert.training.predict import DEFAULT_CHUNK_ROWS, predict_csv


def predict_command(args):
    summary = predict_csv(args.model, args.input, column=args.column, output_path=args.output,
                          batch_size=args.batch_size, max_length=args.max_length, chunk_rows=args.chunk_rows,
                          verbose=not args.quiet)
    if args.quiet:
        return 0
    not_rated = summary["not_rated"]
    print("%s: rated %d row(s); %d row(s) could not be rated%s"
          % (args.input, summary["rated"], not_rated, ":" if not_rated else "."))
    for line, status in summary["bad_examples"]:
        print("  line %d: %s" % (line, status))
    if not_rated > len(summary["bad_examples"]):
        print("  ... and %d more (see the status column)" % (not_rated - len(summary["bad_examples"])))
    return 0


def add_parser(subparsers):
    predict = subparsers.add_parser("predict", help="predict stars for every row of a CSV")
    predict.add_argument("--model", required=True, help="a folder written by kerasbert train")
    predict.add_argument("--input", required=True, help="CSV file (any encoding/delimiter kerasbert reads)")
    predict.add_argument("--column", default=None,
                         help="the text column, case-insensitive (default: the comment column)")
    add_output_argument(predict, "CSV to write (replaced only when complete)")
    predict.add_argument("--batch-size", type=positive_int, default=32)
    predict.add_argument("--max-length", type=positive_int, default=None, help="tokens per text (default: the model's)")
    predict.add_argument("--chunk-rows", type=positive_int, default=DEFAULT_CHUNK_ROWS,
                         help="rows read and written at a time")
    add_quiet_argument(predict)
    predict.set_defaults(func=predict_command)
