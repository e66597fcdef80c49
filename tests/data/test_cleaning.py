"""Comment cleaning against independent references (str.split, unicodedata)."""

import unicodedata

import pytest

from kerasbert.data import clean_comment, remove_punctuation
from kerasbert.data.cleaning import normalize_whitespace


@pytest.mark.parametrize("text", ["  a\\tb\n\nc  ", "全角\u3000空格\r\n换行", "", "no-change"])
def test_whitespace_runs_become_one_space(text):
    assert normalize_whitespace(text) == " ".join(text.split())


def test_remove_punctuation_matches_unicode_categories():
    text = "好看！真的，“很好”看...★★★ 😀 $5 (wow)"
    expected = " ".join("".join(" " if unicodedata.category(c).startswith("P") else c for c in text).split())
    assert remove_punctuation(text) == expected
    assert "★" in expected and "😀" in expected and "$" in expected  # symbols carry sentiment


def test_clean_comment_keeps_punctuation_unless_asked():
    assert clean_comment(" 好看！\n 推荐 ") == "好看！ 推荐"
    assert clean_comment(" 好看！\n 推荐 ", remove_punct=True) == "好看 推荐"
    assert clean_comment(None) == ""
