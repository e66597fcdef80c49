"""What commands print about the files they read."""

import sys


def print_skip_summary(report, file=None):
    """One line per skip reason (with example lines) for a `ReadReport` or its dict; nothing when none."""
    rep = report if isinstance(report, dict) else report.to_dict()
    if not rep.get("skipped_total"):
        return
    out = file or sys.stdout
    print("%s: skipped %d invalid row(s) of %d:" % (rep["path"], rep["skipped_total"], rep["rows_read"]), file=out)
    for reason, count in sorted(rep["skipped"].items(), key=lambda kv: -kv[1]):
        examples = ", ".join("line %d" % e["line"] for e in rep["skip_examples"].get(reason, [])[:3])
        print("  %-20s %8d  (e.g. %s)" % (reason, count, examples), file=out)
