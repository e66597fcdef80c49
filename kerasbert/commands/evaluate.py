"""`kerasbert evaluate`: the evaluation report of a trained model on a labelled CSV."""

import os

from kerasbert.commands.options import (add_output_argument, add_quiet_argument, batch_size, folder_path, input_path,
                                         max_length)
from kerasbert.commands.reporting import print_skip_summary
from kerasbert.data import read_ratings_csv
from kerasbert.data.reader import COLUMN_ALIASES
from kerasbert.errors import InputError, KerasbertError
from kerasbert.training import evaluate_frame, load_model_folder


def _check_group_column(args, model):
    """`--group-column` names the title column (the one evaluate keeps) of a model with a title adaptation."""
    if args.group_column is None:
        return
    if args.group_column.strip().lower() not in COLUMN_ALIASES["movie"]:
        raise KerasbertError("--group-column: evaluate rates groups by the title column (%s), got %r"
                             % (", ".join(COLUMN_ALIASES["movie"]), args.group_column))
    if model.adaptation is None:
        raise KerasbertError("--group-column: %s has no title adaptation to rate groups with (trained with "
                             "title_adaptation off, or before it existed)" % args.model)


def evaluate_command(args):
    model, recipe = load_model_folder(args.model)
    _check_group_column(args, model)
    frame, report = read_ratings_csv(args.input, progress=False, return_report=True)
    if not args.quiet:
        print_skip_summary(report)
    if len(frame) == 0:
        raise InputError(args.input, "no valid labelled rows to evaluate (%d read, %d skipped: %s)"
                         % (report.rows_read, report.skipped_total, dict(report.skipped) or "none"))
    out_dir = args.output or os.path.join(args.model, "evaluation")
    _, path = evaluate_frame(
        model, frame, out_dir, batch_size=args.batch_size, max_length=args.max_length,
        title="%s on %s" % (recipe.get("name", "model"), os.path.basename(args.input)),
        extra={"input": args.input, "model": args.model, "skipped_rows": report.skipped_total,
               "group_column": args.group_column},
        groups=frame["movie"].astype(str).tolist() if args.group_column else None,
        verbose=not args.quiet,
    )
    print("Report: %s" % path)
    return 0


def add_parser(subparsers):
    evaluate = subparsers.add_parser("evaluate", help="write the evaluation report for a labelled CSV")
    evaluate.add_argument("--model", required=True, type=folder_path, help="a folder written by kerasbert train")
    evaluate.add_argument("--input", required=True, type=input_path, help="CSV with movie,star,comment (or Kaggle DMSC)")
    add_output_argument(evaluate, "report folder (default: MODEL/evaluation)", required=False)
    evaluate.add_argument("--group-column", default=None,
                          help="rate each title's rows together with the model's title adaptation (the title "
                               "column, e.g. movie); the report shows both")
    evaluate.add_argument("--batch-size", type=batch_size, default=32)
    evaluate.add_argument("--max-length", type=max_length, default=None, help="tokens per text (default: the model's)")
    add_quiet_argument(evaluate)
    evaluate.set_defaults(func=evaluate_command)
