"""Figures: non-empty PNGs, CJK font, attention rollout and flow."""

import os

import matplotlib
import numpy as np
import pytest
from matplotlib import font_manager

from kerasbert.analysis.attention import attention_flow, attention_rollout, residual_attention
from kerasbert.evaluation import (
    plot_attention_heatmap,
    plot_confusion_matrices,
    plot_layer_weights,
    plot_rating_histograms,
    plot_tsne,
    within_one_confusion,
)
from kerasbert.utils.figures import find_cjk_font, use_cjk_font

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    assert os.path.isfile(path)
    with open(path, "rb") as handle:
        head = handle.read(8)
    assert head == PNG_SIGNATURE and os.path.getsize(path) > 1000
    leftovers = [name for name in os.listdir(os.path.dirname(path)) if name.endswith(".tmp")]
    assert leftovers == []


@pytest.fixture
def ratings():
    rng = np.random.default_rng(0)
    y_true = rng.integers(1, 6, 60)
    y_pred = np.clip(y_true + rng.integers(-1, 2, 60), 1, 5)
    return y_true, y_pred


def test_cjk_font_is_selected_and_used_for_text():
    found = find_cjk_font()
    if found is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    family = use_cjk_font()
    assert family == found[0]
    assert os.path.isfile(found[1])
    assert matplotlib.rcParams["axes.unicode_minus"] is False
    resolved = font_manager.findfont(font_manager.FontProperties(family=matplotlib.rcParams["font.family"]))
    assert resolved == font_manager.findfont(family)


def test_confusion_matrices_png(tmp_path, ratings):
    path = plot_confusion_matrices(*ratings, tmp_path / "cm.png")
    assert_png(path)


def test_within_one_confusion_folds_neighbours_into_diagonal():
    counts = np.arange(25).reshape(5, 5)
    folded = within_one_confusion(counts)
    assert folded[0, 0] == 0 + 1 and folded[2, 2] == 11 + 12 + 13
    assert folded[2, 1] == 0 and folded[2, 3] == 0 and folded[2, 4] == 14
    assert folded.sum() == counts.sum()


def test_rating_histograms_png(tmp_path, ratings):
    y_true, y_pred = ratings
    assert_png(plot_rating_histograms(y_true, y_pred, tmp_path / "h1.png"))
    score = y_pred + np.random.default_rng(1).normal(0, 0.3, len(y_pred))
    assert_png(plot_rating_histograms(y_true, score, tmp_path / "h2.png", y_score=score))
    probs = np.random.default_rng(2).dirichlet(np.ones(5), len(y_pred))
    assert_png(plot_rating_histograms(y_true, y_pred, tmp_path / "h3.png", y_score=probs))


def test_tsne_png_with_subsampling_and_small_n(tmp_path, ratings):
    y_true, _ = ratings
    features = np.random.default_rng(3).normal(size=(60, 8)) + y_true[:, None]
    assert_png(plot_tsne(features, y_true, tmp_path / "t1.png", max_points=40))
    assert_png(plot_tsne(features[:8], y_true[:8], tmp_path / "t2.png"))
    with pytest.raises(ValueError, match="stars has 59"):
        plot_tsne(features, y_true[:59], tmp_path / "t3.png")


def test_layer_weights_png(tmp_path):
    weights = np.array([0.05, 0.1, 0.15, 0.3, 0.4])
    assert_png(plot_layer_weights(weights, tmp_path / "w.png", gamma=1.25))
    assert_png(plot_layer_weights([0.1, -0.3, 2.0], tmp_path / "w2.png", from_logits=True))
    with pytest.raises(ValueError, match="labels has 2"):
        plot_layer_weights(weights, tmp_path / "w3.png", labels=["a", "b"])
    with pytest.raises(ValueError, match="non-negative"):
        plot_layer_weights([0.5, -0.1], tmp_path / "w4.png")


def test_attention_heatmap_png(tmp_path):
    tokens = ["[CLS]", "这", "部", "电影", "太", "好看", "了", "[SEP]"]
    hops = np.random.default_rng(4).dirichlet(np.ones(len(tokens)), 3)
    assert_png(plot_attention_heatmap(hops, tokens, tmp_path / "a1.png"))
    square = np.random.default_rng(5).dirichlet(np.ones(len(tokens)), len(tokens))
    assert_png(plot_attention_heatmap(square, tokens, tmp_path / "a2.png"))
    with pytest.raises(ValueError, match="tokens has 7"):
        plot_attention_heatmap(hops, tokens[:-1], tmp_path / "a3.png")


def test_attention_rollout_on_hand_built_two_layer_example():
    layer_one = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 0.0]]])  # heads mean [[1,0],[.5,.5]]
    layer_two = np.array([[[0.0, 1.0], [0.0, 1.0]]])
    # mixed: [[1, 0], [.25, .75]] then [[.5, .5], [0, 1]]; rollout = second @ first
    expected = np.array([[0.625, 0.375], [0.25, 0.75]])
    np.testing.assert_allclose(attention_rollout([layer_one, layer_two]), expected)
    np.testing.assert_allclose(attention_rollout(np.stack([layer_one.mean(0), layer_two[0]])), expected)


def test_attention_flow_properties():
    rng = np.random.default_rng(6)
    one_layer = rng.dirichlet(np.ones(4), (1, 2, 4))  # (layers, heads, T, T)
    np.testing.assert_allclose(attention_flow(one_layer), residual_attention(one_layer)[0], atol=1e-9)
    three_layers = rng.dirichlet(np.ones(4), (3, 2, 4))
    flow = attention_flow(three_layers)
    assert flow.shape == (4, 4) and np.all(flow >= 0)
    np.testing.assert_allclose(flow.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="short sequences"):
        attention_flow(three_layers, max_tokens=3)
    with pytest.raises(ValueError, match="attentions must be"):
        attention_rollout(np.ones((2, 3, 4)))
