"""Row validation of ratings tables and the skip report.

`read_ratings_csv` reads a DMSC or `movie,star,comment` CSV (through
`kerasbert.data.reader.read_table`) into a validated DataFrame.

Labels (`star`):

* integers 1-5 are kept; integer-valued floats ("4.0", as pandas writes a
  column with gaps) are read as that integer;
* 3.5 and other non-integers are skipped (`star_not_integer`); 0, 6 ... are
  skipped (`star_out_of_range`); empty / NaN are skipped (`star_missing`);
* text labels are *mapped* by default (`text_labels=True`) and counted under
  `converted`: Douban's 力荐=5, 推荐=4, 还行=3, 较差=2, 很差=1; star glyphs
  ("★★★", "★★★☆☆") -> number of filled stars; "N星" -> N; Douban's CSS class
  "allstar10".."allstar50" -> 1-5. With `text_labels=False` they are
  skipped (`star_text_label`).

Empty comments (`comment_empty`: nothing visible, `cleaning.has_text`; NULs
or zero-width spaces alone are empty), missing titles (`movie_missing`),
records with a wrong field count, undecodable bytes, broken quoting or a
field longer than `reader.MAX_FIELD_CHARS` (`long_field`), and (by default)
repeated comments (`duplicate_comment`) are skipped. Every skip is counted by
reason with a few examples; row numbers are line numbers in the source file
(the header is line 1). Very long comments are kept (the tokenizer truncates
them).
"""

import collections
import math
import os
import re
import unicodedata

import numpy as np
import pandas as pd

from kerasbert.data.cleaning import _progress, clean_comment, has_text, normalize_whitespace, segment_words
from kerasbert.data.reader import ColumnError, find_column, read_table

__all__ = ["ReadReport", "STAR_TEXT_LABELS", "load_split_csv", "parse_star", "read_ratings_csv"]

# Douban's rating words (shown on hover over the stars).
STAR_TEXT_LABELS = {"力荐": 5, "推荐": 4, "还行": 3, "较差": 2, "很差": 1}
_MAX_EXAMPLES = 5
_EXAMPLE_CHARS = 80

_STAR_GLYPHS_RE = re.compile(r"^[★☆✩✭⭐]+$")
_N_STAR_RE = re.compile(r"^([1-5])\s*星$")
_ALLSTAR_RE = re.compile(r"^allstar([1-5])0$", re.IGNORECASE)


def parse_star(value, text_labels=True):
    """Parse one star value: returns (star or None, reason, conversion).

    `reason` is the skip reason when star is None; `conversion` names the
    mapping used for a text label (else None).
    """
    if value is None:
        return None, "star_missing", None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        number = float(value)
        text = str(value)
    elif isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None, "star_missing", None
        number = float(value)
        text = str(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        if text == "" or text.lower() in ("nan", "none", "null", "na", "n/a"):
            return None, "star_missing", None
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is None or math.isnan(number) or math.isinf(number):
            mapped, kind = _map_text_star(text)
            if mapped is None:
                return None, "star_not_integer", None
            if not text_labels:
                return None, "star_text_label", None
            return mapped, None, kind
    if number != int(number):
        return None, "star_not_integer", None
    star = int(number)
    if not 1 <= star <= 5:
        return None, "star_out_of_range", None
    return star, None, None


def _map_text_star(text):
    if text in STAR_TEXT_LABELS:
        return STAR_TEXT_LABELS[text], "text_label"
    if _STAR_GLYPHS_RE.match(text):
        filled = sum(text.count(c) for c in "★✭⭐")
        if 1 <= filled <= 5:
            return filled, "star_glyphs"
        return None, None
    match = _N_STAR_RE.match(text)
    if match:
        return int(match.group(1)), "n_star_text"
    match = _ALLSTAR_RE.match(text)
    if match:
        return int(match.group(1)), "allstar_class"
    return None, None


class ReadReport:
    """Counts of read, kept and skipped records (by reason, with examples)."""

    def __init__(self, path):
        self.path = str(path)
        self.format = None
        self.encoding = None
        self.delimiter = None
        self.columns = None
        self.rows_read = 0
        self.kept = 0
        self.skipped = collections.Counter()
        self.skip_examples = collections.defaultdict(list)
        self.converted = collections.Counter()
        self.convert_examples = collections.defaultdict(list)
        self.warnings = []

    def skip(self, reason, line, detail=""):
        self.skipped[reason] += 1
        if len(self.skip_examples[reason]) < _MAX_EXAMPLES:
            self.skip_examples[reason].append({"line": line, "detail": _short(detail)})

    def unskip(self, reason, count):
        """Forget `count` skips of `reason` (undo, e.g. for a dropped filter)."""
        self.skipped[reason] -= count
        if self.skipped[reason] <= 0:
            del self.skipped[reason]
            self.skip_examples.pop(reason, None)

    def convert(self, kind, line, value, star):
        self.converted[kind] += 1
        if len(self.convert_examples[kind]) < _MAX_EXAMPLES:
            self.convert_examples[kind].append({"line": line, "value": _short(value), "star": star})

    @property
    def skipped_total(self):
        return int(sum(self.skipped.values()))

    def to_dict(self):
        return {
            "path": self.path,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "columns": self.columns,
            "rows_read": self.rows_read,
            "kept": self.kept,
            "skipped_total": self.skipped_total,
            "skipped": {k: int(v) for k, v in sorted(self.skipped.items())},
            "skip_examples": {k: list(v) for k, v in sorted(self.skip_examples.items())},
            "converted": {k: int(v) for k, v in sorted(self.converted.items())},
            "convert_examples": {k: list(v) for k, v in sorted(self.convert_examples.items())},
            "warnings": list(self.warnings),
        }

    def summary(self):
        """A few human-readable lines."""
        lines = [
            "%s: %d records read, %d kept, %d skipped"
            % (self.path, self.rows_read, self.kept, self.skipped_total)
        ]
        for reason, count in sorted(self.skipped.items(), key=lambda kv: -kv[1]):
            examples = ", ".join(
                "line %d%s" % (e["line"], (" (%s)" % e["detail"]) if e["detail"] else "")
                for e in self.skip_examples[reason][:3]
            )
            lines.append("  skipped %-20s %8d   e.g. %s" % (reason, count, examples))
        for kind, count in sorted(self.converted.items()):
            lines.append("  mapped  %-20s %8d" % (kind, count))
        return "\n".join(lines)


def _short(value):
    text = str(value)
    return text if len(text) <= _EXAMPLE_CHARS else text[: _EXAMPLE_CHARS - 1] + "…"




def read_ratings_csv(
    path,
    *,
    text_labels=True,
    remove_punct=False,
    dedupe=True,
    keep_words=False,
    segment=False,
    encoding=None,
    delimiter=None,
    progress=None,
    return_report=False,
):
    """Read a DMSC or `movie,star,comment` CSV into a validated DataFrame.

    Returns a DataFrame with columns movie (str), star (int64, 1-5),
    comment (str) [, words (str)], indexed by the source line number
    (`line`). The read report (counts by skip reason with examples) is in
    `df.attrs["report"]` as a dict; with `return_report=True` the
    `ReadReport` object is returned as well: `(df, report)`.

    Raises `DoubanFormatError` (naming the file) for an empty file, missing
    columns or an undecodable header; bad records are skipped and counted.
    `keep_words`: keep an existing `words` column (prepared splits).
    `segment`: add a jieba `words` column (punctuation-free).
    `encoding`: None = UTF-8 with BOM removal and GB18030 fallback (warns).
    """
    report = ReadReport(path)
    with read_table(path, encoding=encoding, delimiter=delimiter) as table:
        header = table.header
        cols = _resolve_columns(table, report, want_words=keep_words)
        n_fields = len(header)
        i_words = cols.get("words")

        lines, movies, stars, comments, words = [], [], [], [], []
        seen = {} if dedupe else None
        bar = _progress(progress, desc="read %s" % os.path.basename(str(path)), unit=" rows")
        for line_no, fields, problem in table:
            report.rows_read += 1
            if bar is not None and report.rows_read % 10000 == 0:
                bar.update(10000)
            row = _valid_row(report, line_no, fields, problem, n_fields, cols, text_labels, remove_punct, seen)
            if row is None:
                continue
            lines.append(line_no)
            movies.append(row[0])
            stars.append(row[1])
            comments.append(row[2])
            if i_words is not None:
                words.append(fields[i_words])
        report.encoding = table.encoding
        report.delimiter = table.delimiter
        report.warnings = list(table.warnings)
    if bar is not None:
        bar.update(report.rows_read % 10000)
        bar.close()
    report.kept = len(lines)
    data = {"movie": movies, "star": np.asarray(stars, dtype=np.int64), "comment": comments}
    if i_words is not None:
        data["words"] = words
    frame = pd.DataFrame(data, index=pd.Index(np.asarray(lines, dtype=np.int64), name="line"))
    if segment:
        frame["words"] = segment_words(frame["comment"].tolist(), progress=progress)
    frame.attrs["report"] = report.to_dict()
    if return_report:
        return frame, report
    return frame


def _valid_row(report, line_no, fields, problem, n_fields, cols, text_labels, remove_punct, seen):
    """(movie, star, comment) of a good record; None for a bad one, counted in `report` by reason.

    `seen` maps comments to the line they were first seen on (None: keep duplicates).
    """
    if fields is None:
        report.skip(problem[0], line_no, problem[1])
        return None
    if len(fields) != n_fields:
        report.skip("wrong_field_count", line_no,
                    "%d fields, header has %d: %s" % (len(fields), n_fields, ",".join(fields)))
        return None
    raw_star = fields[cols["star"]]
    star, reason, conversion = parse_star(raw_star, text_labels=text_labels)
    if star is None:
        report.skip(reason, line_no, "star=%r" % raw_star)
        return None
    comment = clean_comment(fields[cols["comment"]], remove_punct)
    if not comment:
        report.skip("comment_empty", line_no, "comment=%r" % fields[cols["comment"]])
        return None
    movie = normalize_whitespace(fields[cols["movie"]])
    if not has_text(movie):
        report.skip("movie_missing", line_no, comment)
        return None
    if seen is not None:
        first = seen.get(comment)
        if first is not None:
            report.skip("duplicate_comment", line_no, "same as line %d: %s" % (first, comment))
            return None
        seen[comment] = line_no
    if conversion is not None:
        report.convert(conversion, line_no, raw_star, star)
    return movie, star, comment


def _resolve_columns(table, report, want_words=False):
    """{role: index} for movie, star, comment [, words]; ColumnError names what is missing."""
    index = {role: find_column(table.header, role) for role in ("movie", "star", "comment", "words")}
    missing = [role for role in ("movie", "star", "comment") if index[role] is None]
    if missing:
        hint = ""
        if len(table.header) == 1:
            hint = " The header has a single column: is the delimiter one of , tab ; | ?"
        raise ColumnError(
            table.path,
            "missing column(s) %s in the header %r. Expected the Kaggle DMSC columns "
            "(Movie_Name_CN, Star, Comment) or movie,star,comment.%s" % (", ".join(missing), table.header, hint),
            table.header_line,
        )
    report.format = table.layout
    report.columns = list(table.header)
    if not want_words or index["words"] is None:
        index.pop("words")
    return index


def load_split_csv(path, *, progress=None, return_report=False):
    """Read a prepared split (movie, star, comment, words) with validation.

    Same checks and skip report as `read_ratings_csv` (no de-duplication;
    the `words` column is kept when present).
    """
    return read_ratings_csv(
        path, dedupe=False, keep_words=True, progress=progress, return_report=return_report
    )


