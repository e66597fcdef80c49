"""`kerasbert.data.read_table`: encodings, delimiters, layouts, line numbers, gfile URLs."""

import csv
import io
import os
import warnings

import pandas as pd
import pytest

from kerasbert._backend import tf
from kerasbert.data import ColumnError, DoubanFormatError, find_column, read_ratings_csv, read_table, read_texts
from kerasbert.data.reader import sniff_delimiter
from kerasbert.errors import InputError

ROWS = [["大鱼海棠", "4", "画面很美, 故事一般"], ["美人鱼", "2", "無聊 😀"], ["西游记", "5", '他说"好'], ["哪吒", "5", "燃"]]


def as_csv(rows, header=("movie", "star", "comment"), delimiter=","):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def records(path, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with read_table(path, **kwargs) as table:
            found = list(table)
    return table, found, [str(w.message) for w in caught]


@pytest.mark.parametrize("encoding,prefix", [("utf-16", b""), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")])
def test_utf16_by_its_bom(tmp_path, encoding, prefix):
    path = tmp_path / "u16.csv"
    path.write_bytes(prefix + as_csv(ROWS).encode(encoding))
    table, found, _ = records(path)
    assert table.encoding == "utf-16"
    assert [r.fields for r in found] == ROWS  # the same values as pandas would give for the UTF-8 text
    assert [r.line for r in found] == [2, 3, 4, 5]


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_delimiter_is_sniffed(tmp_path, delimiter):
    path = tmp_path / "d.csv"
    path.write_text(as_csv(ROWS, delimiter=delimiter), encoding="utf-8")
    table, found, _ = records(path)
    assert table.delimiter == delimiter
    expected = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False).values.tolist()
    assert [r.fields for r in found] == expected


def test_sniffer_prefers_the_split_giving_known_columns():
    assert sniff_delimiter("movie;star;comment, with comma") == ";"
    assert sniff_delimiter("comment") == ","


def test_column_names_are_case_insensitive_and_layouts_known(tmp_path):
    header = ["ID", "Movie_Name_EN", "Movie_Name_CN", "Crawl_Date", "Number", "Username", "Date", "Star", "Comment",
              "Like"]
    path = tmp_path / "dmsc.csv"
    path.write_text(as_csv([["0", "M", "美人鱼", "d", "1", "u", "d", "3", "还行", "2"]], header=header),
                    encoding="utf-8")
    with read_table(path) as table:
        assert table.layout == "kaggle_dmsc"
        assert table.column() == 8 and table.column("COMMENT") == 8 and table.column("star") == 7
        with pytest.raises(ColumnError, match=r"line 1: no column 'review'"):
            table.column("review")
    assert find_column(["Movie", "STAR", "Text"], "comment") == 2


def test_line_numbers_follow_quoted_newlines_and_blank_lines(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text('movie,star,comment\n\n大鱼海棠,4,"一\n二\n三"\n美人鱼,2,无聊\n', encoding="utf-8")
    _, found, _ = records(path)
    assert [(r.line, r.fields[2]) for r in found] == [(3, "一\n二\n三"), (6, "无聊")]


def test_bad_records_come_with_a_problem_not_an_exception(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"movie,star,comment\nx,1,\xff\xfe\n" + '大鱼海棠,4,"好看"吧\n美人鱼,2,ok\n'.encode())
    _, found, _ = records(path)
    assert [(r.line, r.problem and r.problem[0]) for r in found] == [
        (2, "invalid_encoding"), (3, "broken_quoting"), (4, None)]


@pytest.mark.parametrize("content,match", [
    (b"", "empty"),
    (b"\n\n  \n", "empty"),
    (b"\x00\x01\x02\x03binary", "binary"),
])
def test_unreadable_files_name_the_file(tmp_path, content, match):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(DoubanFormatError, match=match) as info:
        read_table(path)
    assert str(path) in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_table(tmp_path / "none.csv")
    with pytest.raises(InputError, match="folder"):
        read_table(tmp_path)


def test_gfile_urls_are_read_directly():
    """`gs://` goes through tf.io.gfile; the in-memory `ram://` file system takes the same path."""
    url = "ram://kerasbert-test/ratings.csv"
    with tf.io.gfile.GFile(url, "wb") as handle:
        handle.write(as_csv(ROWS).encode("gbk", errors="ignore").replace(b"\xf0", b""))
    frame = read_ratings_csv(url, progress=False)
    assert frame["movie"].tolist()[:2] == ["大鱼海棠", "美人鱼"]
    with pytest.raises(InputError, match="no such file"):
        read_table("ram://kerasbert-test/none.csv")


def test_read_texts_counts_what_it_leaves_out(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id;Comment\n1;好看\n2;\n3;一般;多余\n4;难看\n", encoding="utf-8")
    texts, skipped = read_texts(path)
    assert texts == ["好看", "难看"] and skipped == {"text_empty": 1, "wrong_field_count": 1}
    assert os.path.exists(path)


def test_utf16_through_gfile():
    url = "ram://kerasbert-test/u16.csv"
    with tf.io.gfile.GFile(url, "wb") as handle:
        handle.write(as_csv(ROWS).encode("utf-16"))
    with read_table(url) as table:
        assert table.encoding == "utf-16" and [r.fields for r in table] == ROWS
