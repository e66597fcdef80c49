"""`kerasbert cache list|clear`: the encoder-state caches on disk.

Training from the cache stores hidden states as float16 (a 13-layer cache of
75,000 comments is about 20 GB), so users need to see and free that space.
"""

import argparse
import time

from kerasbert.commands.options import typed
from kerasbert.errors import KerasbertError, OutputError
from kerasbert.limits import number
from kerasbert.training.encoder_cache import cache_directory, remove_cache, scan_cache_directory

CACHE_HELP = """\
Encoder-state caches (see `cache` in the recipes) live in $KERASBERT_ENCODER_CACHE,
by default encoder_states/ under the checkpoint cache. A cache is reused whenever the
same texts, checkpoint, max length, kept layers and precision come back. Only folders
kerasbert made are listed or deleted: other files and folders there, and symbolic links,
are left alone.

examples:
  kerasbert cache list
  kerasbert cache clear 0032d3af577f1d8ef1e9978b
  kerasbert cache clear --unused-days 7
  kerasbert cache clear --all
"""


def _size(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return ("%.0f %s" if unit == "B" else "%.1f %s") % (n, unit)
        n /= 1000.0


def _describe(entry):
    if not entry["complete"]:
        return "interrupted build (no meta.json)"
    checkpoint = entry.get("checkpoint")
    if isinstance(checkpoint, dict):
        checkpoint = checkpoint.get("checkpoint")
    return "%s rows, max length %s, layers %s, %s, %s" % (
        entry.get("rows"), entry.get("max_length"), entry.get("stored"), entry.get("policy"), checkpoint)


def _foreign_note(foreign):
    """One line on the entries that are not caches (left alone), or None."""
    if not foreign:
        return None
    links = [entry["name"] for entry in foreign if entry["kind"] == "symlink"]
    count = len(foreign)
    note = "%d other entr%s left alone (not caches kerasbert made)" % (count, "y" if count == 1 else "ies")
    if links:
        note += "; symbolic links are never followed or deleted: %s" % ", ".join(links)
    return note


def list_command(args):
    entries, foreign = scan_cache_directory()
    print("Encoder caches in %s: %d, %s" % (cache_directory(), len(entries), _size(sum(e["bytes"] for e in entries))))
    for entry in entries:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry["last_used"]))
        print("  %s  %9s  last used %s  %s" % (entry["key"], _size(entry["bytes"]), used, _describe(entry)))
    if _foreign_note(foreign):
        print("  (%s)" % _foreign_note(foreign))
    return 0


def clear_command(args):
    if not (args.keys or args.all or args.unused_days is not None):
        raise KerasbertError("cache clear: name cache keys, or give --all or --unused-days N "
                             "(`kerasbert cache list` shows them)")
    entries, foreign = scan_cache_directory()
    known = {entry["key"]: entry for entry in entries}
    others = {entry["name"] for entry in foreign}
    not_ours = [key for key in args.keys if key in others]
    if not_ours:
        raise OutputError("cache clear: %s in %s: not an encoder cache kerasbert made (or a symbolic link); "
                          "left as it is" % (", ".join(not_ours), cache_directory()))
    missing = [key for key in args.keys if key not in known]
    if missing:
        raise KerasbertError("cache clear: no encoder cache %s in %s" % (", ".join(missing), cache_directory()))
    if args.all:
        chosen = entries
    else:
        chosen = [known[key] for key in args.keys]
        if args.unused_days is not None:
            cutoff = time.time() - args.unused_days * 86400.0
            chosen += [e for e in entries if e["last_used"] < cutoff and e["key"] not in args.keys]
    freed = 0
    for entry in chosen:
        if args.dry_run:
            print("would delete %s (%s)" % (entry["key"], _size(entry["bytes"])))
        else:
            freed += remove_cache(entry)
            print("deleted %s (%s)" % (entry["key"], _size(entry["bytes"])))
    if (args.all or args.unused_days is not None) and _foreign_note(foreign):
        print(_foreign_note(foreign))
    if not args.dry_run:
        print("%d cache(s) deleted, %s freed" % (len(chosen), _size(freed)))
    return 0


def add_parser(subparsers):
    cache = subparsers.add_parser("cache", help="list or delete cached encoder states", description=CACHE_HELP,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = cache.add_subparsers(dest="cache_action", metavar="ACTION")
    listing = actions.add_parser("list", help="each cache: key, size, last use, what it holds")
    listing.set_defaults(func=list_command)
    clear = actions.add_parser("clear", help="delete caches by key, unused for N days, or all")
    clear.add_argument("keys", nargs="*", help="cache keys from `kerasbert cache list`")
    clear.add_argument("--all", action="store_true", help="every cache kerasbert made, interrupted builds included")
    clear.add_argument("--unused-days", type=typed(number(0.0)),  # a negative age would make every cache "unused"
                       help="caches not used for this many days (>= 0)")
    clear.add_argument("--dry-run", action="store_true", help="say what would be deleted, delete nothing")
    clear.set_defaults(func=clear_command)
