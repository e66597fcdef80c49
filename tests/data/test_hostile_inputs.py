"""Inputs a hostile (or unlucky) user gives the readers (issue 22): each against a known result.

Pipes and FIFOs, texts of invisible characters, CR-only line endings,
UTF-16 without a byte-order mark, very long fields, duplicated column names,
and `kerasbert predict --input -`.
"""

import io
import os
import sys
import threading
import warnings

import pandas as pd
import pytest

from kerasbert.data import read_ratings_csv, read_table, read_texts
from kerasbert.data.cleaning import clean_comment, has_text
from kerasbert.data.reader import MAX_FIELD_CHARS
from kerasbert.errors import InputError

GOOD = "movie,star,comment\n大鱼海棠,4,画面很美\n美人鱼,2,\"无聊,透顶\"\n西游记,5,经典永流传\n"
EXPECTED = [(2, ["大鱼海棠", "4", "画面很美"]), (3, ["美人鱼", "2", "无聊,透顶"]),
            (4, ["西游记", "5", "经典永流传"])]
INVISIBLE = ["\x00", "\x00\x00\x00", "\u200b", "\u200c\u200d", "\ufeff\u2060", "\u200b \u3000\u200b", "\u00ad",
             "\u200e\u200f", "\x01\x1f", "\u3164", "\u2800", "\ufe0f"]


def write(tmp_path, content, name="ratings.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def records(source, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with read_table(source, **kwargs) as table:
            found = [(r.line, r.fields if r.fields is not None else r.problem) for r in table]
    return table, found, [str(w.message) for w in caught]


def feed(path_or_fd, data):
    """A writer thread that writes `data` to a FIFO path or a pipe's write end, then closes it."""
    def run():
        with open(path_or_fd, "wb") as handle:
            handle.write(data)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# --- 1. inputs that cannot seek ------------------------------------------------------------------

def test_a_fifo_reads_the_same_rows_as_a_regular_file(tmp_path):
    data = GOOD.encode("utf-8")
    _, expected, _ = records(write(tmp_path, data))
    fifo = tmp_path / "ratings.fifo"
    os.mkfifo(fifo)
    writer = feed(str(fifo), data)
    table, found, _ = records(fifo)
    writer.join(5)
    assert found == expected == EXPECTED
    assert table.path == str(fifo)


def test_a_pipe_stream_is_read_like_a_file_even_when_the_start_decides_how(tmp_path):
    """UTF-16 without BOM and CR-only endings are decided on the first bytes, then read from the start."""
    data = GOOD.replace("\n", "\r").encode("utf-16-le")
    read_end, write_end = os.pipe()
    writer = feed(write_end, data)
    stream = os.fdopen(read_end, "rb")
    assert not stream.seekable()
    table, found, messages = records(stream)
    writer.join(5)
    assert found == EXPECTED and table.encoding == "utf-16-le"
    assert any("UTF-16" in message for message in messages)
    assert stream.closed  # the table owns the stream it was given


def test_read_ratings_csv_from_a_fifo(tmp_path):
    fifo = tmp_path / "ratings.fifo"
    os.mkfifo(fifo)
    writer = feed(str(fifo), GOOD.encode("utf-8"))
    frame = read_ratings_csv(fifo, progress=False)
    writer.join(5)
    assert list(frame.index) == [2, 3, 4]
    assert frame["comment"].tolist() == ["画面很美", "无聊,透顶", "经典永流传"]


# --- 2. texts of nothing visible are empty -------------------------------------------------------

@pytest.mark.parametrize("text", INVISIBLE)
def test_invisible_texts_have_no_text(text):
    assert not has_text(text) and clean_comment(text) == ""


@pytest.mark.parametrize("text", ["好", "a\u200b", "\u200b好\u200b", "😀", "\U0001fae8", "5", "★"])
def test_visible_texts_have_text(text):
    assert has_text(text) and clean_comment(text) == text.strip()


def test_nul_and_zero_width_comments_are_counted_as_empty(tmp_path):
    rows = "".join("m%d,3,%s\n" % (i, text) for i, text in enumerate(INVISIBLE))
    path = write(tmp_path, "movie,star,comment\n大鱼海棠,4,画面很美\n" + rows + "\u200b\u200b,5,好看\n")
    frame, report = read_ratings_csv(path, progress=False, return_report=True)
    assert frame["comment"].tolist() == ["画面很美"]
    assert report.skipped == {"comment_empty": len(INVISIBLE), "movie_missing": 1}
    texts, skipped = read_texts(path)
    assert texts == ["画面很美", "好看"] and skipped == {"text_empty": len(INVISIBLE)}


# --- 3. CR-only line endings ---------------------------------------------------------------------

def test_cr_only_file_reads_as_rows(tmp_path):
    path = write(tmp_path, GOOD.replace("\n", "\r"))
    _, found, _ = records(path)
    assert found == EXPECTED
    frame = read_ratings_csv(path, progress=False)
    assert list(frame.index) == [2, 3, 4] and frame["star"].tolist() == [4, 2, 5]


def test_cr_only_file_keeps_a_quoted_line_break_and_the_line_numbers(tmp_path):
    path = write(tmp_path, 'movie,star,comment\r大鱼海棠,4,"第一行\r第二行"\r美人鱼,2,无聊\r')
    _, found, _ = records(path)
    assert found == [(2, ["大鱼海棠", "4", "第一行\r第二行"]), (4, ["美人鱼", "2", "无聊"])]


def test_cr_only_gbk_file(tmp_path):
    path = write(tmp_path, GOOD.replace("\n", "\r").encode("gbk"))
    table, found, _ = records(path)
    assert found == EXPECTED and table.encoding == "gb18030"


# --- 4. UTF-16 without a byte-order mark ---------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read_with_a_warning(tmp_path, encoding):
    path = write(tmp_path, GOOD.encode(encoding))
    table, found, messages = records(path)
    assert found == EXPECTED and table.encoding == encoding
    assert any("looks like UTF-16 without a byte-order mark" in message for message in messages)


def test_utf16_named_by_the_caller_without_bom(tmp_path):
    path = write(tmp_path, GOOD.encode("utf-16-le"))
    _, found, _ = records(path, encoding="utf-16-le")
    assert found == EXPECTED


def test_utf8_with_nul_comments_at_odd_offsets_is_not_taken_for_utf16(tmp_path):
    path = write(tmp_path, "movie,star,comment\n" + "m,1,\x00\n" * 8 + "大鱼海棠,4,画面很美\n")
    frame, report = read_ratings_csv(path, progress=False, return_report=True)
    assert report.encoding == "utf-8" and report.skipped == {"comment_empty": 8}
    assert frame["comment"].tolist() == ["画面很美"]


def test_binary_nuls_are_still_binary_not_utf16(tmp_path):
    path = write(tmp_path, b"\x00\x01\x02" * 50)
    with pytest.raises(InputError, match="binary"):
        read_table(path)


# --- 5. very long fields -------------------------------------------------------------------------

def test_a_200000_character_field_is_read(tmp_path):
    long_text = "好" * 200_000
    path = write(tmp_path, GOOD + "长片,3,%s\n" % long_text)
    _, found, _ = records(path)
    assert found[-1] == (5, ["长片", "3", long_text])
    frame = read_ratings_csv(path, progress=False)
    assert frame.loc[5, "comment"] == long_text


def test_a_field_over_the_limit_is_a_long_field_skip_naming_its_length_and_the_limit(tmp_path):
    length = MAX_FIELD_CHARS + 10
    path = write(tmp_path, GOOD + "长片,3,%s\n哪吒,5,燃\n" % ("好" * length))
    _, found, _ = records(path)
    assert found[-1] == (6, ["哪吒", "5", "燃"])
    reason, detail = found[-2][1]
    assert reason == "long_field"
    assert "%d characters" % length in detail and str(MAX_FIELD_CHARS) in detail and "long" in detail
    assert len(detail) < 200
    frame, report = read_ratings_csv(path, progress=False, return_report=True)
    assert report.skipped == {"long_field": 1} and list(frame.index) == [2, 3, 4, 6]


# --- 6. duplicated column names ------------------------------------------------------------------

@pytest.mark.parametrize("header,named", [
    ("movie,star,comment,comment", "'comment'"),
    ("movie,Star,comment,star", "'Star'"),
])
def test_duplicate_column_names_are_an_error_naming_the_file_and_the_names(tmp_path, header, named):
    path = write(tmp_path, header + "\nx,1,a,b\n")
    with pytest.raises(InputError) as info:
        read_table(path)
    message = str(info.value)
    assert str(path) in message and named in message and "duplicate" in message and info.value.line == 1
    assert "\n" not in message


def test_unnamed_trailing_columns_are_not_duplicates(tmp_path):
    path = write(tmp_path, "movie,star,comment,,\n大鱼海棠,4,画面很美,,\n")
    _, found, _ = records(path)
    assert found == [(2, ["大鱼海棠", "4", "画面很美", "", ""])]


# --- kerasbert predict --input - -----------------------------------------------------------------

@pytest.fixture
def model_dir(untrained_model_dir):
    return untrained_model_dir


def stdin_pipe(monkeypatch, data):
    """Standard input as a real pipe fed by a writer thread (not seekable, like `cat file |`)."""
    read_end, write_end = os.pipe()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(os.fdopen(read_end, "rb"), encoding="utf-8"))
    return feed(write_end, data)


def test_predict_reads_standard_input(model_dir, tmp_path, monkeypatch, capsys):
    from kerasbert.commands import main

    content = GOOD + "空白,3,\u200b\u200b\n零,1,\x00\x00\n"
    source = write(tmp_path, content)
    from_file = tmp_path / "from_file.csv"
    assert main(["predict", "--model", model_dir, "--input", str(source), "--output", str(from_file),
                 "--quiet", "--chunk-rows", "2"]) == 0
    writer = stdin_pipe(monkeypatch, content.encode("utf-8"))
    from_stdin = tmp_path / "from_stdin.csv"
    assert main(["predict", "--model", model_dir, "--input", "-", "--output", str(from_stdin),
                 "--chunk-rows", "2"]) == 0
    writer.join(5)
    assert "rated 3 row(s); 2 row(s) could not be rated" in capsys.readouterr().out
    expected = pd.read_csv(from_file, dtype=str, keep_default_na=False)
    frame = pd.read_csv(from_stdin, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["status"].tolist() == ["ok"] * 3 + ["empty comment"] * 2


def test_predict_standard_input_errors_are_one_line(model_dir, tmp_path, monkeypatch, capsys):
    from kerasbert.commands import main

    writer = stdin_pipe(monkeypatch, b"movie,star,comment,Comment\nx,1,a,b\n")
    status = main(["predict", "--model", model_dir, "--input", "-", "--output", str(tmp_path / "p.csv")])
    writer.join(5)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("kerasbert: error: ")]
    assert status == 2 and "Traceback" not in err and len(lines) == 1
    assert "line 1" in lines[0] and "duplicate" in lines[0] and "'comment', 'Comment'" in lines[0]
    assert not (tmp_path / "p.csv").exists()
