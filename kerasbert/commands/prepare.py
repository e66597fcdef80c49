"""`kerasbert prepare`: clean, validate, segment and split a ratings CSV."""

import argparse
import os

from kerasbert.commands.options import (add_output_argument, add_quiet_argument, encoding_name, input_path, seed,
                                         typed)
from kerasbert.data import prepare_douban
from kerasbert.limits import integer, number

PREPARE_HELP = """Clean, validate, segment (jieba) and split a ratings CSV.

Input: the Kaggle DMSC CSV (Movie_Name_CN, Star, Comment, ...) or a
movie,star,comment CSV (any encoding/delimiter `kerasbert.data.read_table`
reads). Writes train/validation/test.csv (movie, star, comment, words),
stats.json and splits.png into --output, replaced as a whole."""

SPLIT_FRACTION = number(0.0, 1.0)  # each of train, validation, test; the split checks that they sum to 1


def add_prepare_arguments(parser):
    parser.add_argument("--input", required=True, type=input_path, help="DMSC.csv or a movie,star,comment CSV")
    add_output_argument(parser, "output folder (created or replaced as a whole)")
    parser.add_argument("--split", choices=["random", "by-movie"], default="random",
                        help="random: stratified by star; by-movie: whole titles held out")
    parser.add_argument("--fractions", type=typed(SPLIT_FRACTION), nargs=3, default=(0.8, 0.1, 0.1),
                        metavar=("TRAIN", "VAL", "TEST"))
    parser.add_argument("--seed", type=seed, default=0)
    parser.add_argument("--remove-punctuation", action="store_true",
                        help="also strip punctuation from the comment column (words is always punctuation-free)")
    parser.add_argument("--skip-text-labels", action="store_true",
                        help="skip text star labels (力荐/★★★/N星) instead of mapping them to 1-5")
    parser.add_argument("--encoding", type=encoding_name, default=None,
                        help="input encoding (default: UTF-8/UTF-16 by BOM, falling back to GB18030 with a warning)")
    parser.add_argument("--jobs", type=typed(integer(1, 256)), default=1, help="processes for jieba segmentation")
    parser.add_argument("--no-figure", action="store_true")
    add_quiet_argument(parser, "no progress bars")


def prepare_command(args):
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


def add_parser(subparsers):
    prepare = subparsers.add_parser("prepare", help="clean, validate and split a ratings CSV",
                                    description=PREPARE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_prepare_arguments(prepare)
    prepare.set_defaults(func=prepare_command)
