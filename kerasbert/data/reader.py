"""One reader for every CSV the package takes: `read_table`.

Used by `kerasbert prepare | train --data | predict | evaluate | checkpoint
trim --corpus` and the TFDS builder, so every command reads the same files
the same way:

* encodings: UTF-8 with or without a BOM (the BOM is dropped with a
  warning), UTF-16 recognised by its BOM or, without one, by the NUL bytes
  of its ASCII characters (read with a warning), and a file that is not
  UTF-8 but decodes as GB18030 (a superset of GBK) read as such with a
  warning;
* line endings: LF, CRLF, and a lone CR (classic Mac OS files);
* the delimiter (`,` tab `;` `|`) sniffed from the header (`csv.Sniffer`,
  checked against the known column names);
* layouts: the Kaggle DMSC file (`Movie_Name_CN, Star, Comment, ...`) and
  simple `movie,star,comment` files; column names match case-insensitively;
* records keep the line number of their first line in the file (the header
  is line 1), also across quoted newlines;
* local paths, any `tf.io.gfile` URL (`gs://...`), read as a stream, and
  binary streams (standard input); an input that cannot seek (a pipe, a
  FIFO) is first copied to an anonymous temporary file;
* a header with duplicated column names is refused; a field longer than
  `MAX_FIELD_CHARS` is a record with a `long_field` problem.

A record that cannot be decoded, whose quoting is broken or whose field is
too long is yielded with a `problem` (reason, detail) instead of fields, so
callers decide: the validator counts it as a skip, `predict` keeps its place
with a status. Whether a text is empty is `cleaning.has_text`'s rule.
"""

import codecs
import collections
import csv
import io
import os
import shutil
import tempfile
import warnings

from kerasbert.data.cleaning import has_text
from kerasbert.errors import ColumnError, DoubanFormatError, InputError  # noqa: F401  (re-exported)

__all__ = [
    "COLUMN_ALIASES",
    "ColumnError",
    "DoubanFormatError",
    "MAX_FIELD_CHARS",
    "Record",
    "Table",
    "find_column",
    "read_table",
    "read_texts",
]

# Header name (lower-cased) -> role. Kaggle DMSC names first.
COLUMN_ALIASES = {
    "movie": ("movie_name_cn", "movie", "movie_name", "title", "电影"),
    "star": ("star", "stars", "rating", "评分"),
    "comment": ("comment", "comments", "text", "评论", "短评"),
    "words": ("words",),
}
_KAGGLE_MARKERS = {"movie_name_cn", "movie_name_en", "crawl_date"}
_DELIMITERS = ",\t;|"
_MAX_RECORD_LINES = 200  # a quoted field may span this many lines at most
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SNIFF_BYTES = 1 << 16  # the start of the file that decides BOM-less UTF-16 and CR-only line endings
# csv refuses fields over 131,072 characters by default, which a long but real
# text can pass; far beyond it, a field is a runaway quote or not text at all.
MAX_FIELD_CHARS = 1 << 20


# One data record: `fields` is None when `problem` = (reason, detail) says why.
Record = collections.namedtuple("Record", "line fields problem")


def _source_name(source):
    """The name messages give `source`: its path, or a stream's name (`<stdin>`)."""
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        return name if isinstance(name, str) else "<stream>"
    return os.fspath(source)


def _seekable(handle):
    """`handle`, or a copy of it in an anonymous temporary file when it cannot seek.

    The reader looks at the first bytes (BOM, UTF-16, line endings) and then
    starts over, which a pipe or FIFO cannot do; the copy is on disk so that a
    long stream does not fill the memory.
    """
    try:
        if handle.seekable():
            return handle
    except (AttributeError, OSError, ValueError):
        pass
    spool = tempfile.TemporaryFile()
    try:
        shutil.copyfileobj(handle, spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    finally:
        handle.close()
    return spool


def _open_binary(path):
    if hasattr(path, "read"):  # a binary stream, e.g. sys.stdin.buffer; text streams give their buffer
        return _seekable(path.buffer if isinstance(path, io.TextIOBase) else path)
    path = os.fspath(path)
    if "://" in path:
        from kerasbert._backend import tf

        if not tf.io.gfile.exists(path):
            raise InputError(path, "no such file")
        if tf.io.gfile.isdir(path):
            raise InputError(path, "is a folder, not a CSV file")
        return tf.io.gfile.GFile(path, "rb")
    if os.path.isdir(path):
        raise InputError(path, "is a folder, not a CSV file")
    try:
        return _seekable(open(path, "rb"))
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except OSError as error:
        raise InputError(path, "cannot be opened (%s)" % (error.strerror or error)) from None


def _io_base(handle):
    """`handle` as an `io` stream (a `tf.io.gfile.GFile` is read whole into memory)."""
    return handle if isinstance(handle, io.IOBase) else io.BytesIO(handle.read())


def _utf16_lines(handle, path, encoding="utf-16"):
    """Byte lines re-encoded as UTF-8 from a UTF-16 stream ("utf-16": the BOM picks the byte order)."""
    text = io.TextIOWrapper(_io_base(handle), encoding=encoding, newline="")
    line_no = 0
    try:
        for line in text:
            line_no += 1
            yield line.encode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(path, "not valid UTF-16 (%s)" % error.reason, line=line_no + 1) from None


def _cr_lines(handle):
    """Byte lines of a file whose lines end in a lone CR (classic Mac OS).

    Latin-1 maps each byte to one character and back, so `newline="\r"`
    splits the bytes without decoding them (a CR byte is never part of a
    UTF-8 or GB18030 character); the lines are decoded later as usual.
    """
    for line in io.TextIOWrapper(_io_base(handle), encoding="latin-1", newline="\r"):
        yield line.encode("latin-1")


def _utf16_without_bom(sample):
    """The codec ("utf-16-le" or "utf-16-be") when `sample` looks like UTF-16 without a BOM, else None.

    Every ASCII character (the header, digits, delimiters, line ends) has a
    NUL high byte in UTF-16: at odd offsets in little-endian, at even ones in
    big-endian. Binary data has NULs at both, and decodes to U+0000 characters;
    a UTF-8 file with a few NUL comments has line-end bytes that do not decode
    as line ends.
    """
    sample = sample[:len(sample) // 2 * 2]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    for encoding, zeros, others in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros >= 4 and zeros >= 4 * others:  # the header alone has more than 4 ASCII characters
            try:  # an incremental decode: the sample may end inside a surrogate pair
                text = codecs.getincrementaldecoder(encoding)().decode(sample)
            except UnicodeDecodeError:
                return None
            line_end_bytes = sample.count(b"\n") + sample.count(b"\r")
            line_ends = text.count("\n") + text.count("\r")
            return encoding if "\x00" not in text and 2 * line_ends >= line_end_bytes else None
    return None


def _csv_problem(error, text, delimiter):
    """(reason, detail) of a record the csv module refuses."""
    if "field larger than field limit" in str(error):
        limit = csv.field_size_limit(len(text) + 1)  # parse once more, only to measure the field
        try:
            longest = max(map(len, next(csv.reader([text], delimiter=delimiter))))
        except csv.Error:
            longest = len(text)
        finally:
            csv.field_size_limit(limit)
        return ("long_field", "a field of %d characters, longer than the limit of %d: %s..."
                % (longest, limit, text[:40]))
    return ("broken_quoting", "%s: %s" % (error, text.strip()))


class _LineDecoder:
    """Decodes byte lines: UTF-8, switching to GB18030 when the file turns
    out not to be UTF-8 before any non-ASCII UTF-8 text was seen."""

    def __init__(self, table, encoding=None):
        self.table = table
        self.fixed = encoding is not None
        self.encoding = encoding or "utf-8"
        self.seen_utf8_text = False

    def decode(self, raw, line_no, offset):
        """(text, None), or (None, problem) for an undecodable line."""
        try:
            text = raw.decode(self.encoding)
            if not self.seen_utf8_text and not raw.isascii():
                self.seen_utf8_text = True
            return text, None
        except UnicodeDecodeError as error:
            bad = offset + error.start
            if not self.fixed and not self.seen_utf8_text:
                try:
                    text = raw.decode("gb18030")
                except UnicodeDecodeError:
                    text = None
                if text is not None:
                    self.encoding = self.table.encoding = "gb18030"
                    self.fixed = self.seen_utf8_text = True
                    self.table.warn(
                        "%s is not UTF-8 (line %d, byte offset %d: %r); decoding it "
                        "as GB18030/GBK. Convert it to UTF-8 (e.g. `iconv -f gbk -t "
                        "utf-8`) or pass encoding= to silence this."
                        % (self.table.path, line_no, bad, raw[error.start:error.start + 4])
                    )
                    return text, None
            detail = "not %s at byte offset %d (%r)" % (self.encoding, bad, raw[error.start:error.start + 4])
            return None, ("invalid_encoding", detail)


def _record_open(text, delimiter):
    """True when `text` ends inside a quoted field (the record continues on the next line)."""
    if '"' not in text:
        return False
    try:
        for _ in csv.reader([text], delimiter=delimiter, strict=True):
            pass
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


def _alias_hits(names):
    return sum(1 for aliases in COLUMN_ALIASES.values() for name in names if name in aliases)


def sniff_delimiter(header_text):
    """The header's delimiter: `csv.Sniffer`'s guess unless another of , tab ; |
    splits it into more known column names."""
    try:
        best = csv.Sniffer().sniff(header_text, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        best = ","
    best_hits = _alias_hits([h.strip().lower() for h in header_text.split(best)])
    for delim in _DELIMITERS:
        names = [h.strip().lower() for h in header_text.split(delim)]
        if len(names) > 1 and _alias_hits(names) > best_hits:
            best, best_hits = delim, _alias_hits(names)
    return best


def find_column(header, role_or_name):
    """Index of a column in `header`: an exact name (case-insensitive) or a role
    of `COLUMN_ALIASES` (movie, star, comment, words); None when absent."""
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    wanted = str(role_or_name).strip().lower()
    if wanted in names:
        return names.index(wanted)
    for alias in COLUMN_ALIASES.get(wanted, ()):
        if alias in names:
            return names.index(alias)
    return None


class Table:
    """An open CSV: `header`, `layout`, `encoding`, `delimiter`, `warnings`;
    iterate it for `Record`s. Use it as a context manager (closes the file,
    also a stream it was given)."""

    def __init__(self, path, encoding=None, delimiter=None):
        self.path = _source_name(path)
        self.encoding = encoding or "utf-8"
        self.delimiter = delimiter
        self.warnings = []
        self.header = None
        self.header_line = None
        self.layout = None
        self._handle = _open_binary(path)
        try:
            self._start(encoding)
        except BaseException:
            self.close()
            raise

    def warn(self, message):
        self.warnings.append(message)
        warnings.warn(message, UserWarning, stacklevel=4)

    def _start(self, encoding):
        if csv.field_size_limit() < MAX_FIELD_CHARS:  # raised, never lowered, for the whole process
            csv.field_size_limit(MAX_FIELD_CHARS)
        start = self._handle.tell()
        sample = self._handle.read(_SNIFF_BYTES)
        self._handle.seek(start)
        utf16 = None
        if encoding is None:
            if sample.startswith(_UTF16_BOMS):
                utf16 = "utf-16"
            else:
                utf16 = _utf16_without_bom(sample)
                if utf16:
                    self.warn("%s looks like UTF-16 without a byte-order mark (BOM); reading it as %s."
                              % (self.path, utf16.upper()))
        elif codecs.lookup(encoding).name.startswith("utf-16"):
            utf16 = encoding
        if utf16:
            self.encoding = utf16
            raw_lines = _utf16_lines(self._handle, self.path, utf16)
            encoding = "utf-8"  # the lines are re-encoded
        elif b"\r" in sample and b"\n" not in sample:
            raw_lines = _cr_lines(self._handle)
        else:
            raw_lines = iter(self._handle)
        if encoding is None and b"\x00" in sample[:4]:
            raise DoubanFormatError(self.path, "binary data (NUL bytes), not a text CSV file")
        self._decoder = _LineDecoder(self, encoding)
        self._raw_lines = raw_lines
        self._pending = []
        self._line = 0
        self._offset = 0
        self._read_header()

    def _next_line(self):
        if self._pending:
            return self._pending.pop(0)
        raw = next(self._raw_lines, None)
        if raw is None:
            return None
        self._line += 1
        item = (self._line, self._offset, raw)
        self._offset += len(raw)
        return item

    def _read_header(self):
        while True:
            item = self._next_line()
            if item is None:
                raise DoubanFormatError(self.path, "the file is empty: no header line (expected e.g. movie,star,comment)")
            line_no, offset, raw = item
            if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw, offset = raw[3:], offset + 3
                self.warn("%s starts with a UTF-8 byte-order mark (BOM); it was removed." % self.path)
            if raw.strip():
                break
        if b"\x00" in raw:
            raise DoubanFormatError(self.path, "binary data (NUL bytes) in the header, not a text CSV file", line_no)
        text, problem = self._decoder.decode(raw, line_no, offset)
        if text is None:
            raise DoubanFormatError(self.path, "the header cannot be decoded: %s" % problem[1], line_no)
        text = text.rstrip("\r\n")
        if self.delimiter is None:
            self.delimiter = sniff_delimiter(text)
        try:
            self.header = next(csv.reader([text], delimiter=self.delimiter, strict=True))
        except csv.Error as error:
            raise DoubanFormatError(self.path, "the header is not valid CSV (%s)" % error, line_no) from None
        self.header = [h.strip().lstrip("\ufeff") for h in self.header]
        self.header_line = line_no
        # Columns are found by name, case-insensitively: a repeated name would pick one
        # of its columns silently. Unnamed columns (trailing delimiters) are not looked up.
        counts = collections.Counter(h.lower() for h in self.header if h)
        repeated = list(dict.fromkeys(h for h in self.header if counts[h.lower()] > 1))
        if repeated:
            raise DoubanFormatError(self.path, "duplicate column name(s) in the header: %s; every column needs "
                                    "its own name" % ", ".join(map(repr, repeated)), line_no)
        names = {h.lower() for h in self.header}
        if _KAGGLE_MARKERS & names:
            self.layout = "kaggle_dmsc"
        elif all(find_column(self.header, role) is not None for role in ("movie", "star", "comment")):
            self.layout = "simple"

    def column(self, name=None, role="comment"):
        """Index of column `name` (case-insensitive), or of the layout's `role` column.

        Raises `ColumnError` naming the file and the header when absent.
        """
        index = find_column(self.header, name if name else role)
        if index is None:
            what = "no column %r" % name if name else "no %s column (looked for %s)" % (
                role, ", ".join(COLUMN_ALIASES.get(role, (role,))))
            hint = ""
            if len(self.header) == 1:
                hint = "; the header has a single column: is the delimiter one of , tab ; | ?"
            raise ColumnError(self.path, "%s; the header has %s%s" % (
                what, ", ".join(map(repr, self.header)), hint), self.header_line)
        return index

    def __iter__(self):
        decoder, delimiter = self._decoder, self.delimiter
        while True:
            item = self._next_line()
            if item is None:
                return
            line_no, offset, raw = item
            text, problem = decoder.decode(raw, line_no, offset)
            if text is None:
                yield Record(line_no, None, problem)
                continue
            if not text.strip():
                continue  # a blank line is not a record
            if _record_open(text, delimiter):
                text, problem = self._continue_record(text, line_no)
                if text is None:
                    if problem is not None:
                        yield Record(line_no, None, problem)
                    continue
            try:
                fields = next(csv.reader([text], delimiter=delimiter, strict=True))
            except csv.Error as error:
                yield Record(line_no, None, _csv_problem(error, text, delimiter))
                continue
            yield Record(line_no, fields, None)

    def _continue_record(self, text, line_no):
        """Join the lines of a record with a quoted newline: (text, None) or (None, problem)."""
        decoder = self._decoder
        parts, consumed, closed = [text], [], False
        while len(consumed) < _MAX_RECORD_LINES:
            nxt = self._next_line()
            if nxt is None:
                break
            consumed.append(nxt)
            parts.append(nxt[2].decode(decoder.encoding, errors="replace"))
            if not _record_open("".join(parts), self.delimiter):
                closed = True
                break
        if not closed:
            self._pending[:0] = consumed  # re-read the following lines as records
            return None, ("broken_quoting",
                          "unterminated quote within %d lines: %s" % (len(consumed) + 1, text.strip()))
        joined = [text]
        for nxt in consumed:  # decode strictly (the lines were peeked with errors="replace")
            part, problem = decoder.decode(nxt[2], nxt[0], nxt[1])
            if part is None:
                return None, problem
            joined.append(part)
        return "".join(joined), None

    def close(self):
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_table(path, encoding=None, delimiter=None):
    """Open a CSV for reading records: a `Table` (see the module docstring).

    `path`: a local path, a `tf.io.gfile` URL, or a binary stream (read from
    its position; closed with the table).

    Raises `InputError` naming the file for a missing, empty, binary or
    undecodable-header file, or a header with duplicated names.
    """
    return Table(path, encoding=encoding, delimiter=delimiter)


def text_skip_reason(record, header, text_index):
    """Why `record` yields no text (a skip-report reason), or None when it does."""
    if record.fields is None:
        return record.problem[0]
    if len(record.fields) != len(header):
        return "wrong_field_count"
    if not has_text(record.fields[text_index]):
        return "text_empty"
    return None


def read_texts(path, column=None, encoding=None):
    """(texts, skipped) for the non-empty values of `column` (default: the
    layout's comment column); `skipped` counts the other records by reason."""
    texts, skipped = [], collections.Counter()
    with read_table(path, encoding=encoding) as table:
        index = table.column(column)
        for record in table:
            reason = text_skip_reason(record, table.header, index)
            if reason:
                skipped[reason] += 1
            else:
                texts.append(record.fields[index])
    return texts, skipped
