"""Douban short comments (DMSC and simple `movie,star,comment` CSVs).

Reading, validation, cleaning, de-duplication, jieba segmentation, the
train/validation/test split and `prepare_douban` (used by
`data_scripts/prepare_douban.py` and by the TFDS builder).

Input formats, recognised from the header (case-insensitive):

* Kaggle DMSC (`ID, Movie_Name_EN, Movie_Name_CN, Crawl_Date, Number,
  Username, Date, Star, Comment, Like`): Movie_Name_CN -> movie,
  Star -> star, Comment -> comment.
* simple `movie,star,comment` (any column order, extra columns ignored; a
  `words` column, as in prepared splits, is kept when asked for).

The delimiter is sniffed from the header (`,`, tab, `;`, `|`), a UTF-8 BOM is
dropped, and a file that is not UTF-8 but decodes as GB18030 (GBK) is read as
such with a warning (see `read_ratings_csv`).

Labels (`star`):

* integers 1-5 are kept; integer-valued floats ("4.0", as pandas writes a
  column with gaps) are read as that integer;
* 3.5 and other non-integers are skipped (`star_not_integer`); 0, 6 ... are
  skipped (`star_out_of_range`); empty / NaN are skipped (`star_missing`);
* text labels are *mapped* by default (`text_labels=True`) and counted under
  `converted`: Douban's 力荐=5, 推荐=4, 还行=3, 较差=2, 很差=1; star glyphs
  ("★★★", "★★★☆☆") -> number of filled stars; "N星" -> N; Douban's CSS class
  "allstarNN" / "NN" is not accepted except as "allstar10".."allstar50" -> 1-5.
  With `text_labels=False` they are skipped (`star_text_label`).

Comments: every whitespace run (newlines, full-width spaces) becomes one
space and the ends are stripped; empty comments are skipped
(`comment_empty`). Punctuation is kept in `comment` unless
`remove_punctuation=True` (BERT sees punctuation); the `words` column is
always punctuation-free and jieba-segmented (space separated). Very long
comments are kept (the tokenizer truncates them) and counted in the length
stats. Emoji, Traditional characters and mixed English are kept unchanged.

Every skipped record is counted by reason with a few examples; row numbers
are line numbers in the source file (the header is line 1; a record with a
quoted newline is numbered by its first line).
"""

import collections
import csv
import logging
import math
import os
import re
import sys
import time
import unicodedata
import warnings

import numpy as np
import pandas as pd

from kerasbert.utils.io import atomic_directory, atomic_output_file, atomic_write_json

__all__ = [
    "ColumnError",
    "DoubanFormatError",
    "ReadReport",
    "STAR_TEXT_LABELS",
    "SPLIT_NAMES",
    "OUTPUT_COLUMNS",
    "clean_comment",
    "parse_star",
    "read_ratings_csv",
    "load_split_csv",
    "remove_punctuation",
    "segment_words",
    "split_random",
    "split_by_movie",
    "split_frame",
    "compute_stats",
    "plot_splits",
    "prepare_douban",
]

logger = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "validation", "test")
OUTPUT_COLUMNS = ["movie", "star", "comment", "words"]
OUTPUT_FILES = ("train.csv", "validation.csv", "test.csv", "stats.json", "splits.png")

# Douban's rating words (shown on hover over the stars).
STAR_TEXT_LABELS = {"力荐": 5, "推荐": 4, "还行": 3, "较差": 2, "很差": 1}

# Header name (lower-cased) -> our column. Kaggle DMSC names first.
_COLUMN_ALIASES = {
    "movie": ("movie_name_cn", "movie", "movie_name", "title", "电影"),
    "star": ("star", "stars", "rating", "评分"),
    "comment": ("comment", "comments", "text", "评论", "短评"),
    "words": ("words",),
}
_KAGGLE_MARKERS = {"movie_name_cn", "movie_name_en", "crawl_date"}
_DELIMITERS = (",", "\t", ";", "|")
_MAX_RECORD_LINES = 200  # a quoted field may span this many lines at most
_MAX_EXAMPLES = 5
_EXAMPLE_CHARS = 80

_WHITESPACE_RE = re.compile(r"\s+")


class DoubanFormatError(ValueError):
    """The file cannot be read as a ratings CSV at all (names the file)."""


class ColumnError(DoubanFormatError):
    """Required columns are missing from the header."""


# ---------------------------------------------------------------------------
# Cleaning helpers
# ---------------------------------------------------------------------------


def normalize_whitespace(text):
    """Collapse every whitespace run (incl. newlines, U+3000) to one space."""
    return _WHITESPACE_RE.sub(" ", text).strip()


def _is_punctuation(char):
    return unicodedata.category(char).startswith("P")


_PUNCT_TABLE = {}


def remove_punctuation(text):
    """Replace Unicode punctuation (categories P*) by spaces, then normalise.

    Symbols (emoji, ★, currency) are kept: they carry sentiment.
    """
    out = []
    for char in text:
        flag = _PUNCT_TABLE.get(char)
        if flag is None:
            flag = _PUNCT_TABLE[char] = _is_punctuation(char)
        out.append(" " if flag else char)
    return normalize_whitespace("".join(out))


def clean_comment(text, remove_punct=False):
    """The cleaned `comment` text ("" when nothing is left)."""
    if text is None:
        return ""
    text = normalize_whitespace(str(text))
    if remove_punct:
        text = remove_punctuation(text)
    return text


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


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


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

    def warn(self, message):
        self.warnings.append(message)
        warnings.warn(message, UserWarning, stacklevel=3)

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


# ---------------------------------------------------------------------------
# Low-level record reader
# ---------------------------------------------------------------------------


def _open_binary(path):
    path = os.fspath(path)
    if "://" in path:
        import tensorflow as tf  # noqa: F401  (kerasbert already set the env)

        return tf.io.gfile.GFile(path, "rb")
    return open(path, "rb")


class _LineDecoder:
    """Decodes byte lines: UTF-8 (BOM dropped), switching to GB18030 when the
    file turns out not to be UTF-8 before any non-ASCII UTF-8 text was seen."""

    def __init__(self, report, encoding=None):
        self.report = report
        self.fixed = encoding is not None
        self.encoding = encoding or "utf-8"
        self.seen_utf8_text = False

    def decode(self, raw, line_no, offset):
        """Return the text, or None after reporting an undecodable line."""
        try:
            text = raw.decode(self.encoding)
            if not self.seen_utf8_text and not raw.isascii():
                self.seen_utf8_text = True
            return text
        except UnicodeDecodeError as error:
            bad = offset + error.start
            if not self.fixed and not self.seen_utf8_text:
                try:
                    text = raw.decode("gb18030")
                except UnicodeDecodeError:
                    text = None
                if text is not None:
                    self.encoding = "gb18030"
                    self.fixed = True
                    self.seen_utf8_text = True
                    self.report.warn(
                        "%s is not UTF-8 (line %d, byte offset %d: %r); decoding it "
                        "as GB18030/GBK. Convert it to UTF-8 (e.g. `iconv -f gbk -t "
                        "utf-8`) or pass encoding= to silence this."
                        % (self.report.path, line_no, bad, raw[error.start:error.start + 4])
                    )
                    return text
            self.report.skip(
                "invalid_encoding",
                line_no,
                "not %s at byte offset %d (%r)" % (self.encoding, bad, raw[error.start:error.start + 4]),
            )
            return None


def _record_open(text, delimiter):
    """True when `text` ends inside a quoted field (CSV continues on the next line)."""
    if '"' not in text:
        return False
    try:
        for _ in csv.reader([text], delimiter=delimiter, strict=True):
            pass
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


def _iter_records(path, report, decoder, delimiter=None):
    """Yield (line_no, fields) for each data record; sets report.delimiter etc.

    Raises DoubanFormatError for an empty file. Records with broken quoting
    are skipped (reason `broken_quoting`), reading resumes on the next line.
    """
    with _open_binary(path) as handle:
        raw_lines = iter(handle)
        pending = []  # lines read ahead after a broken record: (line_no, offset, raw)
        state = {"line": 0, "offset": 0}

        def next_line():
            if pending:
                return pending.pop(0)
            raw = next(raw_lines, None)
            if raw is None:
                return None
            state["line"] += 1
            item = (state["line"], state["offset"], raw)
            state["offset"] += len(raw)
            return item

        # Header: first non-blank line.
        header_line = None
        while True:
            item = next_line()
            if item is None:
                break
            line_no, offset, raw = item
            if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
                offset += 3
                report.warn("%s starts with a UTF-8 byte-order mark (BOM); it was removed." % report.path)
            if raw.strip():
                text = decoder.decode(raw, line_no, offset)
                if text is None:
                    raise DoubanFormatError("%s: line %d (header) cannot be decoded." % (report.path, line_no))
                header_line = (line_no, text.rstrip("\r\n"))
                break
        if header_line is None:
            raise DoubanFormatError("%s is empty: no header line (expected e.g. movie,star,comment)." % report.path)

        header_text = header_line[1]
        if delimiter is None:
            delimiter = _sniff_delimiter(header_text)
        report.delimiter = delimiter
        header = next(csv.reader([header_text], delimiter=delimiter))
        yield header_line[0], header  # first item: the header

        while True:
            item = next_line()
            if item is None:
                return
            line_no, offset, raw = item
            text = decoder.decode(raw, line_no, offset)
            if text is None:
                continue
            if not text.strip():
                continue  # blank line: not a record
            if _record_open(text, delimiter):
                parts = [text]
                consumed = []
                closed = False
                while len(consumed) < _MAX_RECORD_LINES:
                    nxt = next_line()
                    if nxt is None:
                        break
                    consumed.append(nxt)
                    nxt_text = nxt[2].decode(decoder.encoding, errors="replace")
                    parts.append(nxt_text)
                    if not _record_open("".join(parts), delimiter):
                        closed = True
                        break
                if not closed:
                    report.skip(
                        "broken_quoting",
                        line_no,
                        "unterminated quote within %d lines: %s" % (len(consumed) + 1, text.strip()),
                    )
                    pending[:0] = consumed  # re-read the following lines as records
                    continue
                # Decode the continuation lines strictly (they were peeked with replace).
                joined = [text]
                ok = True
                for nxt in consumed:
                    t = decoder.decode(nxt[2], nxt[0], nxt[1])
                    if t is None:
                        ok = False
                        break
                    joined.append(t)
                if not ok:
                    continue
                text = "".join(joined)
            try:
                fields = next(csv.reader([text], delimiter=delimiter, strict=True))
            except csv.Error as error:
                report.skip("broken_quoting", line_no, "%s: %s" % (error, text.strip()))
                continue
            yield line_no, fields


def _sniff_delimiter(header_text):
    best, best_hits = ",", -1
    for delim in _DELIMITERS:
        names = [h.strip().lower() for h in header_text.split(delim)]
        hits = sum(1 for aliases in _COLUMN_ALIASES.values() for name in names if name in aliases)
        if hits > best_hits and len(names) > 1:
            best, best_hits = delim, hits
    return best


def _resolve_columns(header, report, want_words=False):
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    index = {}
    for column, aliases in _COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in names:
                index[column] = names.index(alias)
                break
    missing = [c for c in ("movie", "star", "comment") if c not in index]
    if missing:
        hint = ""
        if len(header) == 1:
            hint = " The header has a single column: is the delimiter one of , tab ; | ?"
        raise ColumnError(
            "%s: missing column(s) %s in the header %r. Expected the Kaggle DMSC columns "
            "(Movie_Name_CN, Star, Comment) or movie,star,comment.%s"
            % (report.path, ", ".join(missing), header, hint)
        )
    report.format = "kaggle_dmsc" if _KAGGLE_MARKERS & set(names) else "simple"
    report.columns = list(header)
    if not want_words:
        index.pop("words", None)
    return index


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


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
    decoder = _LineDecoder(report, encoding)
    records = _iter_records(path, report, decoder, delimiter=delimiter)
    _, header = next(records)
    cols = _resolve_columns(header, report, want_words=keep_words)
    n_fields = len(header)
    i_movie, i_star, i_comment = cols["movie"], cols["star"], cols["comment"]
    i_words = cols.get("words")

    lines, movies, stars, comments, words = [], [], [], [], []
    seen = {}
    bar = _progress(progress, desc="read %s" % os.path.basename(str(path)), unit=" rows")
    for line_no, fields in records:
        report.rows_read += 1
        if bar is not None and report.rows_read % 10000 == 0:
            bar.update(10000)
        if len(fields) != n_fields:
            report.skip(
                "wrong_field_count",
                line_no,
                "%d fields, header has %d: %s" % (len(fields), n_fields, ",".join(fields)),
            )
            continue
        star, reason, conversion = parse_star(fields[i_star], text_labels=text_labels)
        if star is None:
            report.skip(reason, line_no, "star=%r" % fields[i_star])
            continue
        comment = clean_comment(fields[i_comment], remove_punct)
        if not comment:
            report.skip("comment_empty", line_no, "comment=%r" % fields[i_comment])
            continue
        movie = normalize_whitespace(fields[i_movie])
        if not movie:
            report.skip("movie_missing", line_no, comment)
            continue
        if dedupe:
            first = seen.get(comment)
            if first is not None:
                report.skip("duplicate_comment", line_no, "same as line %d: %s" % (first, comment))
                continue
            seen[comment] = line_no
        if conversion is not None:
            report.convert(conversion, line_no, fields[i_star], star)
        lines.append(line_no)
        movies.append(movie)
        stars.append(star)
        comments.append(comment)
        if i_words is not None:
            words.append(fields[i_words])
    if bar is not None:
        bar.update(report.rows_read % 10000)
        bar.close()
    report.kept = len(lines)
    report.encoding = decoder.encoding
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


def load_split_csv(path, *, progress=None, return_report=False):
    """Read a prepared split (movie, star, comment, words) with validation.

    Same checks and skip report as `read_ratings_csv` (no de-duplication;
    the `words` column is kept when present).
    """
    return read_ratings_csv(
        path, dedupe=False, keep_words=True, progress=progress, return_report=return_report
    )


def _progress(progress, **kwargs):
    if progress is False:
        return None
    from tqdm.auto import tqdm

    return tqdm(disable=None if progress is None else not progress, file=sys.stderr, **kwargs)


# ---------------------------------------------------------------------------
# Segmentation
# ---------------------------------------------------------------------------


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _segment_one(jieba_module, text):
    text = remove_punctuation(text)
    return " ".join(tok for tok in jieba_module.cut(text) if tok.strip())


def _segment_chunk(texts):
    jieba_module = _jieba()
    return [_segment_one(jieba_module, t) for t in texts]


def segment_words(texts, progress=None, jobs=1, chunk_size=2000):
    """Punctuation-free, jieba-segmented, space-joined words for each text."""
    texts = list(texts)
    if not texts:
        return []
    bar = _progress(progress, total=len(texts), desc="jieba", unit=" comments")
    chunks = [texts[i:i + chunk_size] for i in range(0, len(texts), chunk_size)]
    out = []
    if jobs and jobs > 1 and len(chunks) > 1:
        import multiprocessing

        _jieba()  # load the dictionary once before forking
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for result in pool.imap(_segment_chunk, chunks):
                out.extend(result)
                if bar is not None:
                    bar.update(len(result))
    else:
        jieba_module = _jieba()
        for chunk in chunks:
            out.extend(_segment_one(jieba_module, t) for t in chunk)
            if bar is not None:
                bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return out


# ---------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------


def _check_fractions(fractions):
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError("fractions must be three non-negative numbers summing to 1, got %r" % (fractions,))
    if fractions[0] <= 0:
        raise ValueError("the train fraction must be > 0, got %r" % (fractions,))
    return fractions


def split_random(frame, fractions=(0.8, 0.1, 0.1), seed=0):
    """Stratified (by star) random split: returns an array of split names."""
    from sklearn.model_selection import train_test_split

    fractions = _check_fractions(fractions)
    n = len(frame)
    labels = frame["star"].to_numpy()
    positions = np.arange(n)
    assign = np.empty(n, dtype=object)
    assign[:] = "train"
    rest_fraction = fractions[1] + fractions[2]
    if n == 0 or rest_fraction == 0:
        return assign

    def _split(idx, test_size, strat):
        try:
            return train_test_split(idx, test_size=test_size, random_state=seed, stratify=strat)
        except ValueError:  # a class too small to stratify, or too few rows
            logger.warning("stratified split impossible here (too few rows per star); splitting unstratified")
            return train_test_split(idx, test_size=test_size, random_state=seed)

    n_rest = int(round(n * rest_fraction))
    if n_rest == 0:
        return assign
    if n_rest >= n:
        train_idx, rest_idx = positions[:0], positions
    else:
        train_idx, rest_idx = _split(positions, n_rest, labels)
    n_test = int(round(n * fractions[2]))
    n_test = min(n_test, len(rest_idx))
    if n_test == 0:
        val_idx, test_idx = rest_idx, rest_idx[:0]
    elif n_test == len(rest_idx):
        val_idx, test_idx = rest_idx[:0], rest_idx
    else:
        val_idx, test_idx = _split(rest_idx, n_test, labels[rest_idx])
    assign[val_idx] = "validation"
    assign[test_idx] = "test"
    return assign


def split_by_movie(frame, fractions=(0.8, 0.1, 0.1), seed=0):
    """Hold out whole titles: returns an array of split names.

    Deterministic greedy assignment: titles in descending size (ties in a
    seeded random order) each go to the split furthest below its target row
    count, so each split gets roughly its fraction of rows and no title is
    in two splits. Every split with a fraction > 0 gets at least one title
    when there are enough titles.
    """
    fractions = _check_fractions(fractions)
    sizes = frame["movie"].value_counts()
    rng = np.random.RandomState(seed)
    titles = list(sizes.index)
    order = rng.permutation(len(titles))
    titles = [titles[i] for i in order]
    titles.sort(key=lambda t: -int(sizes[t]))  # stable: ties keep the seeded order
    total = len(frame)
    targets = np.array(fractions) * total
    current = np.zeros(3)
    mapping = {}
    wanted = np.array(fractions) > 0
    for position, title in enumerate(titles):
        deficit = targets - current
        deficit[~wanted] = -np.inf
        empty = wanted & (current == 0)
        if empty.any() and len(titles) - position <= int(empty.sum()):
            # As many titles left as empty splits: give each split at least one title.
            deficit[~empty] = -np.inf
        k = int(np.argmax(deficit))
        mapping[title] = SPLIT_NAMES[k]
        current[k] += sizes[title]
    return frame["movie"].map(mapping).to_numpy(dtype=object)


def split_frame(frame, mode="random", fractions=(0.8, 0.1, 0.1), seed=0):
    """{split name: DataFrame} for mode "random" or "by-movie"."""
    mode = mode.replace("_", "-")
    if mode == "random":
        assign = split_random(frame, fractions, seed)
    elif mode == "by-movie":
        assign = split_by_movie(frame, fractions, seed)
    else:
        raise ValueError("split mode must be 'random' or 'by-movie', got %r" % mode)
    return {name: frame[assign == name] for name in SPLIT_NAMES}


# ---------------------------------------------------------------------------
# Stats and figure
# ---------------------------------------------------------------------------


def _length_stats(lengths):
    lengths = np.asarray(lengths)
    if lengths.size == 0:
        return {"count": 0}
    return {
        "count": int(lengths.size),
        "mean": round(float(lengths.mean()), 2),
        "median": float(np.median(lengths)),
        "p90": float(np.percentile(lengths, 90)),
        "p99": float(np.percentile(lengths, 99)),
        "min": int(lengths.min()),
        "max": int(lengths.max()),
        "over_128_chars": int((lengths > 128).sum()),
        "over_512_chars": int((lengths > 512).sum()),
    }


def compute_stats(splits, report=None, extra=None):
    """The stats.json dict for {split: DataFrame}."""
    stats = {}
    if extra:
        stats.update(extra)
    total = sum(len(f) for f in splits.values())
    stats["counts"] = {name: int(len(f)) for name, f in splits.items()}
    stats["total_kept"] = int(total)
    stats["fractions_actual"] = {
        name: (round(len(f) / total, 4) if total else 0.0) for name, f in splits.items()
    }
    stats["star_distribution"] = {
        name: {str(s): int((f["star"] == s).sum()) for s in range(1, 6)} for name, f in splits.items()
    }
    stats["star_fraction"] = {
        name: {str(s): (round(float((f["star"] == s).mean()), 4) if len(f) else 0.0) for s in range(1, 6)}
        for name, f in splits.items()
    }
    stats["movies"] = {name: int(f["movie"].nunique()) for name, f in splits.items()}
    stats["top_movies"] = {
        name: {str(k): int(v) for k, v in f["movie"].value_counts().head(10).items()}
        for name, f in splits.items()
    }
    all_lengths = np.concatenate([f["comment"].str.len().to_numpy() for f in splits.values()]) if splits else []
    stats["comment_length_chars"] = _length_stats(all_lengths)
    stats["comment_length_chars_per_split"] = {
        name: _length_stats(f["comment"].str.len().to_numpy()) for name, f in splits.items()
    }
    if report is not None:
        rep = report.to_dict() if isinstance(report, ReadReport) else dict(report)
        stats["input_rows"] = rep["rows_read"]
        stats["skipped_total"] = rep["skipped_total"]
        stats["skipped"] = rep["skipped"]
        stats["skip_examples"] = rep["skip_examples"]
        stats["converted"] = rep["converted"]
        stats["convert_examples"] = rep["convert_examples"]
        stats["input_format"] = rep["format"]
        stats["input_encoding"] = rep["encoding"]
        stats["input_delimiter"] = rep["delimiter"]
        stats["warnings"] = rep["warnings"]
    return stats


def plot_splits(splits, path, title=None):
    """splits.png: split sizes, star distribution per split, length histogram."""
    # A Figure of its own: no pyplot, so the caller's matplotlib backend is untouched.
    from matplotlib.figure import Figure

    from kerasbert.analysis.fonts import use_cjk_font

    use_cjk_font()
    names = list(splits)
    zh = {"train": "训练集 train", "validation": "验证集 validation", "test": "测试集 test"}
    colors = {"train": "#4C72B0", "validation": "#DD8452", "test": "#55A868"}
    fig = Figure(figsize=(16, 4.8))
    axes = fig.subplots(1, 3)

    ax = axes[0]
    counts = [len(splits[n]) for n in names]
    bars = ax.bar([zh.get(n, n) for n in names], counts, color=[colors.get(n) for n in names])
    for bar, count, n in zip(bars, counts, names):
        ax.annotate(
            "%d\n(%d 部)" % (count, splits[n]["movie"].nunique()),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center", va="bottom", fontsize=9,
        )
    ax.set_title("各划分的短评数量")
    ax.set_ylabel("短评数")
    ax.set_ylim(0, max(counts + [1]) * 1.2)

    ax = axes[1]
    width = 0.8 / max(len(names), 1)
    x = np.arange(1, 6)
    for i, n in enumerate(names):
        frame = splits[n]
        frac = [float((frame["star"] == s).mean()) if len(frame) else 0.0 for s in x]
        ax.bar(x + (i - (len(names) - 1) / 2) * width, frac, width, label=zh.get(n, n), color=colors.get(n))
    ax.set_xticks(x)
    ax.set_xticklabels(["%d★" % s for s in x])
    ax.set_title("各划分的星级分布")
    ax.set_ylabel("比例")
    ax.legend(fontsize=8)

    ax = axes[2]
    lengths = [splits[n]["comment"].str.len().to_numpy() for n in names]
    clip = 300
    bins = np.arange(0, clip + 10, 10)
    ax.hist([np.minimum(l, clip) for l in lengths], bins=bins, stacked=True,
            label=[zh.get(n, n) for n in names], color=[colors.get(n) for n in names])
    ax.set_yscale("log")
    ax.set_title("短评长度分布（字符，≥%d 归入最后一格）" % clip)
    ax.set_xlabel("字符数")
    ax.legend(fontsize=8)

    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_output_file(str(path), suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    return path


# ---------------------------------------------------------------------------
# End to end
# ---------------------------------------------------------------------------


def _check_out_dir(out):
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise FileExistsError("--out %s exists and is not a folder" % out)
        other = sorted(set(os.listdir(out)) - set(OUTPUT_FILES))
        if other:
            raise FileExistsError(
                "--out %s already holds other files (%s); it is replaced as a whole, so "
                "choose an empty or new folder." % (out, ", ".join(other[:5]))
            )


def prepare_douban(
    input_path,
    out_dir,
    split="random",
    fractions=(0.8, 0.1, 0.1),
    seed=0,
    remove_punct=False,
    text_labels=True,
    encoding=None,
    jobs=1,
    progress=None,
    figure=True,
):
    """Read, clean, segment and split; write train/validation/test.csv,
    stats.json and splits.png into `out_dir` (written as a whole, atomically).

    Returns the stats dict (also in stats.json).
    """
    start = time.time()
    out_dir = os.path.abspath(os.fspath(out_dir))
    _check_out_dir(out_dir)
    frame, report = read_ratings_csv(
        input_path,
        text_labels=text_labels,
        remove_punct=remove_punct,
        encoding=encoding,
        progress=progress,
        return_report=True,
    )
    t_read = time.time() - start
    if len(frame) == 0:
        raise DoubanFormatError(
            "%s: no valid rows left after validation.\n%s" % (input_path, report.summary())
        )
    t0 = time.time()
    frame["words"] = segment_words(frame["comment"].tolist(), progress=progress, jobs=jobs)
    t_seg = time.time() - t0
    t0 = time.time()
    splits = split_frame(frame, split, fractions, seed)
    t_split = time.time() - t0
    extra = {
        "input": os.path.abspath(os.fspath(input_path)),
        "split_mode": split,
        "seed": seed,
        "fractions": list(_check_fractions(fractions)),
        "remove_punctuation": bool(remove_punct),
        "text_labels_mapped": bool(text_labels),
        "columns": OUTPUT_COLUMNS,
    }
    stats = compute_stats(splits, report, extra)
    if split.replace("_", "-") == "by-movie":
        titles = {n: set(f["movie"]) for n, f in splits.items()}
        stats["titles_disjoint"] = not (
            (titles["train"] & titles["validation"])
            or (titles["train"] & titles["test"])
            or (titles["validation"] & titles["test"])
        )
        stats["held_out_titles"] = {
            n: sorted(titles[n]) if len(titles[n]) <= 200 else sorted(titles[n])[:200] + ["…"]
            for n in ("validation", "test")
        }
    t0 = time.time()
    with atomic_directory(out_dir) as tmp:
        for name, part in splits.items():
            part[OUTPUT_COLUMNS].to_csv(os.path.join(tmp, name + ".csv"), index=False, encoding="utf-8")
        if figure:
            plot_splits(
                splits,
                os.path.join(tmp, "splits.png"),
                title="豆瓣短评 %s 划分（%s）" % ({"random": "随机分层", "by-movie": "按电影"}.get(split, split),
                                               os.path.basename(os.fspath(input_path))),
            )
        stats["timing_seconds"] = {
            "read_validate": round(t_read, 2),
            "segment": round(t_seg, 2),
            "split": round(t_split, 2),
            "write": round(time.time() - t0, 2),
            "total": round(time.time() - start, 2),
        }
        atomic_write_json(os.path.join(tmp, "stats.json"), stats)
    return stats
