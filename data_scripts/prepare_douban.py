#!/usr/bin/env python
"""Prepare Douban short comments: clean, validate, segment (jieba), split.

    python data_scripts/prepare_douban.py --input DMSC.csv --out data/douban_random --split random
    python data_scripts/prepare_douban.py --input douban_comments.csv --out data/douban_by_movie --split by-movie

Input: the Kaggle DMSC CSV (Movie_Name_CN, Star, Comment, ...) or a simple
movie,star,comment CSV. Writes train/validation/test.csv (movie, star,
comment, words), stats.json and splits.png into --out. The logic lives in
`kerasbert.data.douban` (see its docstring for the validation rules).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import kerasbert  # noqa: E402,F401  (sets TF_USE_LEGACY_KERAS)
from kerasbert.data.douban import DoubanFormatError, prepare_douban  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, help="DMSC.csv or a movie,star,comment CSV")
    parser.add_argument("--out", required=True, help="output folder (created or replaced as a whole)")
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
                        help="input encoding (default: UTF-8, falling back to GB18030 with a warning)")
    parser.add_argument("--jobs", type=int, default=1, help="processes for jieba segmentation")
    parser.add_argument("--no-figure", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        stats = prepare_douban(
            args.input,
            args.out,
            split=args.split,
            fractions=tuple(args.fractions),
            seed=args.seed,
            remove_punct=args.remove_punctuation,
            text_labels=not args.skip_text_labels,
            encoding=args.encoding,
            jobs=args.jobs,
            progress=False if args.quiet else None,
            figure=not args.no_figure,
        )
    except (DoubanFormatError, FileExistsError, FileNotFoundError, ValueError) as error:
        print("error: %s" % error, file=sys.stderr)
        return 2
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
    print("wrote %s" % os.path.abspath(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
