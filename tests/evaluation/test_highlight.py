"""Token merging and attention highlights (HTML, PNG)."""

import os

import numpy as np
import pytest

from kerasbert.evaluation import attention_highlights_html, attention_highlights_png
from kerasbert.utils.tokens import clean_token, merge_pieces_to_chars


def test_sentencepiece_pieces_split_weight_over_characters_and_drop_specials():
    tokens = ["<s>", "▁这部", "电影", "▁好", "</s>", "<pad>"]
    chars, weights = merge_pieces_to_chars(tokens, [0.1, 0.4, 0.2, 0.3, 0.0, 0.0])
    assert "".join(chars) == "这部电影好"
    np.testing.assert_allclose(weights, [0.2, 0.2, 0.1, 0.1, 0.3])
    _, copied = merge_pieces_to_chars(tokens, [0.1, 0.4, 0.2, 0.3, 0.0, 0.0], spread="copy")
    np.testing.assert_allclose(copied, [0.4, 0.4, 0.2, 0.2, 0.3])


def test_wordpiece_markers_are_stripped_and_words_spaced():
    tokens = ["[CLS]", "play", "##ing", "good", "[SEP]", "[PAD]"]
    chars, weights = merge_pieces_to_chars(tokens, [0, 0.4, 0.2, 0.4, 0, 0])
    assert "".join(chars) == "playing good"
    assert weights[chars.index(" ")] == 0.0
    assert clean_token("##ing") == "ing" and clean_token("▁这部") == "这部" and clean_token("[CLS]") is None


def test_merge_rejects_mismatched_weights():
    with pytest.raises(ValueError, match="weights has 2 entries but tokens has 3"):
        merge_pieces_to_chars(["a", "b", "c"], [0.5, 0.5])
    with pytest.raises(ValueError, match="NaN"):
        merge_pieces_to_chars(["a"], [np.nan])


REVIEWS = [
    ["[CLS]", "这", "部", "电", "影", "<script>alert(1)</script>", "[SEP]"],
    ["<s>", "▁太", "好看", "了", "!", "</s>", "<pad>"],
]
WEIGHTS = [np.array([0.1, 0.3, 0.1, 0.2, 0.2, 0.1, 0.0]), np.array([0.0, 0.5, 0.3, 0.1, 0.1, 0.0, 0.0])]


def test_html_escapes_text_and_has_one_span_per_displayed_character(tmp_path):
    path = attention_highlights_html(REVIEWS, WEIGHTS, [1, 5], [2, 5], tmp_path / "h.html",
                                     title="<script>title</script>")
    page = open(path, encoding="utf-8").read()
    assert "<script>" not in page and "&lt;" in page
    displayed = sum(len([c for c in merge_pieces_to_chars(t, w)[0] if not c.isspace()])
                    for t, w in zip(REVIEWS, WEIGHTS))
    assert displayed == 4 + len("<script>alert(1)</script>") + 5
    assert page.count('class="tok"') == displayed
    assert "真实 1★" in page and "预测 2★" in page
    assert "rgba(255,112,0,1.000)" in page  # each review's top character fully shaded


def test_png_highlights(tmp_path):
    path = attention_highlights_png(REVIEWS, WEIGHTS, [1, 5], [2, 5], tmp_path / "h.png")
    assert os.path.getsize(path) > 1000


def test_highlight_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="stars_pred has 1"):
        attention_highlights_html(REVIEWS, WEIGHTS, [1, 5], [2], tmp_path / "x.html")
    with pytest.raises(ValueError, match="stars_true must hold stars 1-5"):
        attention_highlights_html(REVIEWS, WEIGHTS, [0, 5], [2, 5], tmp_path / "x.html")
    with pytest.raises(ValueError, match="review 1: weights has 3"):
        attention_highlights_html(REVIEWS, [WEIGHTS[0], [1, 2, 3]], [1, 5], [2, 5], tmp_path / "x.html")
    assert not os.path.exists(tmp_path / "x.html")
