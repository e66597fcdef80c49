"""`kerasbert prepare | tfrecords`: data preparation from the command line."""

import os

PREPARE_HELP = """Clean, validate, segment (jieba) and split a ratings CSV.

Input: the Kaggle DMSC CSV (Movie_Name_CN, Star, Comment, ...) or a
movie,star,comment CSV (any encoding/delimiter `kerasbert.data.read_table`
reads). Writes train/validation/test.csv (movie, star, comment, words),
stats.json and splits.png into --output, replaced as a whole."""

TFRECORDS_HELP = """Tokenize a prepared split CSV into fixed-length TFRecord shards (for TPU).

Writes {prefix}-NNNNN-of-NNNNN.tfrecord and the sidecar {prefix}.json into
--output (local or gs://); read them with kerasbert.data.tfrecord_dataset."""


def positive_int(text):
    """argparse type: an integer >= 1."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not an integer" % text) from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1, got %d" % value)
    return value


def add_output_argument(parser, help_text, required=True):
    """`--output` with `--out` as an alias (every command spells it the same)."""
    parser.add_argument("--output", "--out", dest="output", required=required, help=help_text)


def add_prepare_arguments(parser):
    parser.add_argument("--input", required=True, help="DMSC.csv or a movie,star,comment CSV")
    add_output_argument(parser, "output folder (created or replaced as a whole)")
    parser.add_argument("--split", choices=["random", "by-movie"], default="random",
                        help="random: stratified by star; by-movie: whole titles held out")
    parser.add_argument("--fractions", type=float, nargs=3, default=(0.8, 0.1, 0.1),
                        metavar=("TRAIN", "VAL", "TEST"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--remove-punctuation", action="store_true",
                        help="also strip punctuation from the comment column (words is always punctuation-free)")
    parser.add_argument("--skip-text-labels", action="store_true",
                        help="skip text star labels (力荐/★★★/N星) instead of mapping them to 1-5")
    parser.add_argument("--encoding", default=None,
                        help="input encoding (default: UTF-8/UTF-16 by BOM, falling back to GB18030 with a warning)")
    parser.add_argument("--jobs", type=positive_int, default=1, help="processes for jieba segmentation")
    parser.add_argument("--no-figure", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def prepare_command(args):
    from kerasbert.data.prepare import prepare_douban

    stats = prepare_douban(
        args.input, args.output, split=args.split, fractions=tuple(args.fractions), seed=args.seed,
        remove_punct=args.remove_punctuation, text_labels=not args.skip_text_labels, encoding=args.encoding,
        jobs=args.jobs, progress=False if args.quiet else None, figure=not args.no_figure,
    )
    print("input %s: %d rows read, %d kept, %d skipped"
          % (args.input, stats["input_rows"], stats["total_kept"], stats["skipped_total"]))
    for reason, count in sorted(stats["skipped"].items(), key=lambda kv: -kv[1]):
        examples = ", ".join("line %d" % e["line"] for e in stats["skip_examples"][reason][:3])
        print("  skipped %-20s %8d  (e.g. %s)" % (reason, count, examples))
    for kind, count in stats["converted"].items():
        print("  mapped  %-20s %8d" % (kind, count))
    for name, count in stats["counts"].items():
        dist = " ".join("%s★:%d" % (s, c) for s, c in stats["star_distribution"][name].items())
        print("  %-10s %8d rows  %4d titles  %s" % (name, count, stats["movies"][name], dist))
    if "titles_disjoint" in stats:
        print("  titles disjoint across splits: %s" % stats["titles_disjoint"])
    print("  time: %s" % stats["timing_seconds"])
    print("wrote %s" % os.path.abspath(args.output))
    return 0


def add_tfrecords_arguments(parser):
    parser.add_argument("--input", required=True, help="prepared split CSV (movie, star, comment[, words])")
    parser.add_argument("--tokenizer", required=True, help="tokenizer folder, name or kerasbert spec")
    add_output_argument(parser, "output folder (local or gs://)")
    parser.add_argument("--prefix", default=None, help="shard name prefix (default: the CSV's name, e.g. train)")
    parser.add_argument("--max-length", type=positive_int, default=128)
    parser.add_argument("--task", choices=["classification", "regression"], default="classification")
    parser.add_argument("--num-shards", type=int, default=None)
    parser.add_argument("--examples-per-shard", type=int, default=50000)
    parser.add_argument("--text-column", default="comment")
    parser.add_argument("--quiet", action="store_true")


def tfrecords_command(args):
    import sys

    from kerasbert.data.reader import ColumnError
    from kerasbert.data.tfrecords import write_tfrecords
    from kerasbert.data.validation import load_split_csv

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
    import argparse

    prepare = subparsers.add_parser("prepare", help="clean, validate and split a ratings CSV",
                                    description=PREPARE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_prepare_arguments(prepare)
    prepare.set_defaults(func=prepare_command)

    tfrecords = subparsers.add_parser("tfrecords", help="tokenize a prepared split into TFRecord shards",
                                      description=TFRECORDS_HELP,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    add_tfrecords_arguments(tfrecords)
    tfrecords.set_defaults(func=tfrecords_command)
