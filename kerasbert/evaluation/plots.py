"""Evaluation figures as PNG files, each written atomically.

Figures are built with `matplotlib.figure.Figure` on an Agg canvas, so no
pyplot backend is touched.
"""

import logging

import numpy as np
from matplotlib.patches import Rectangle
from sklearn.metrics import confusion_matrix

from kerasbert.errors import ArgumentError
from kerasbert.evaluation.metrics import as_finite_array, as_stars, check_same_length
from kerasbert.tasks import STARS, round_stars
from kerasbert.utils.figures import new_figure, save_figure, star_colors
from kerasbert.utils.tokens import clean_token, is_special_token

logger = logging.getLogger(__name__)

STAR_LABELS = [f"{star}★" for star in STARS]
TRUE_AXIS = "真实星级 (true)"
PRED_AXIS = "预测星级 (predicted)"


def _row_normalise(matrix):
    totals = matrix.sum(axis=1, keepdims=True).astype(float)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape, dtype=float), where=totals > 0)


def within_one_confusion(counts):
    """Counts with off-by-one cells folded into the diagonal."""
    counts = np.asarray(counts)
    folded = counts.copy()
    size = len(folded)
    for i in range(size):
        band = [j for j in (i - 1, i + 1) if 0 <= j < size]
        folded[i, i] = counts[i, i] + sum(counts[i, j] for j in band)
        for j in band:
            folded[i, j] = 0
    return folded


def _draw_matrix(ax, values, labels, title, fmt, vmax, blank=None):
    ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if blank is not None and blank[i, j]:
                continue
            color = "white" if values[i, j] > 0.6 * vmax else "black"
            ax.text(j, i, fmt(values[i, j]), ha="center", va="center", color=color, fontsize=9)
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    ax.set_xlabel(PRED_AXIS)
    ax.set_ylabel(TRUE_AXIS)
    ax.set_title(title, fontsize=11)


def plot_confusion_matrices(y_true, y_pred, out_path):
    """Counts, row-normalised, and ±1-counted-as-correct confusion matrices."""
    y_true = as_stars("y_true", y_true)
    y_pred = as_stars("y_pred", y_pred)
    check_same_length("y_true", len(y_true), y_pred=y_pred)
    counts = confusion_matrix(y_true, y_pred, labels=list(STARS))
    recall = _row_normalise(counts)
    folded = _row_normalise(within_one_confusion(counts))
    accuracy = np.trace(counts) / counts.sum()
    within_one = np.mean(np.abs(y_true - y_pred) <= 1)

    figure = new_figure((16, 5.2))
    axes = figure.subplots(1, 3)
    _draw_matrix(axes[0], counts, STAR_LABELS, "计数 (counts)", lambda v: f"{int(v)}", max(counts.max(), 1))
    _draw_matrix(axes[1], recall, STAR_LABELS, f"按行归一化 (recall) · 准确率 {accuracy:.1%}",
                 lambda v: f"{v:.0%}", 1.0)
    off_by_one = np.abs(np.subtract.outer(np.arange(5), np.arange(5))) == 1
    _draw_matrix(axes[2], folded, STAR_LABELS, f"±1 计为正确 · ±1 准确率 {within_one:.1%}",
                 lambda v: f"{v:.0%}", 1.0, blank=off_by_one)
    for i, j in zip(*np.nonzero(off_by_one)):  # hatch the cells folded into the diagonal
        axes[2].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//",
                                    edgecolor="#2ca02c", linewidth=0))
    axes[2].set_xlabel(PRED_AXIS + "\n斜线格 = 差一星，已并入对角线")
    figure.suptitle(f"混淆矩阵 (n = {len(y_true)})", fontsize=13)
    return save_figure(figure, out_path)


def plot_rating_histograms(y_true, y_pred, out_path, y_score=None):
    """True vs predicted star counts; plus the score (regression) or
    confidence (classification probabilities) histogram when `y_score` given."""
    y_true = as_stars("y_true", y_true)
    y_pred_values = as_finite_array("y_pred", y_pred)
    y_pred = round_stars(y_pred_values)
    check_same_length("y_true", len(y_true), y_pred=y_pred)
    score = None
    if y_score is not None:
        score = np.asarray(y_score, dtype=float)
        score = as_finite_array("y_score", score, ndim=score.ndim if score.ndim in (1, 2) else 1)
        check_same_length("y_true", len(y_true), y_score=score)

    figure = new_figure((12 if score is not None else 7, 4.5))
    axes = figure.subplots(1, 2 if score is not None else 1, squeeze=False)[0]
    stars = np.asarray(STARS)
    true_counts = np.bincount(y_true, minlength=6)[1:]
    pred_counts = np.bincount(y_pred, minlength=6)[1:]
    width = 0.4
    ax = axes[0]
    for offset, counts, label, color in (
        (-width / 2, true_counts, "真实 (true)", "#4c72b0"),
        (width / 2, pred_counts, "预测 (predicted)", "#dd8452"),
    ):
        bars = ax.bar(stars + offset, counts, width, label=label, color=color)
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(stars, STAR_LABELS)
    ax.set_xlabel("星级 (stars)")
    ax.set_ylabel("评论数 (count)")
    ax.set_title("星级分布：真实 vs 预测")
    ax.legend()

    if score is not None:
        ax = axes[1]
        if score.ndim == 1:
            low, high = min(0.5, score.min()), max(5.5, score.max())
            ax.hist(score, bins=np.linspace(low, high, 41), color="#55a868")
            for edge in (1.5, 2.5, 3.5, 4.5):
                ax.axvline(edge, color="gray", linestyle="--", linewidth=0.8)
            ax.set_xlabel("连续预测分数 (score; 虚线 = 取整边界)")
            ax.set_title("回归分数分布")
        else:
            ax.hist(score.max(axis=1), bins=np.linspace(0, 1, 41), color="#55a868")
            ax.set_xlabel("最大类别概率 (confidence)")
            ax.set_title("预测置信度分布")
        ax.set_ylabel("评论数 (count)")
    return save_figure(figure, out_path)


MIN_TSNE_POINTS = 4  # below this the perplexity cannot stay under the number of points


def tsne_embedding(features, seed=0, perplexity=None):
    """2-D t-SNE of (n, d) features; PCA to 50 dims first when d > 50."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    n, dims = features.shape
    if dims > 50 and n > 50:
        features = PCA(n_components=50, random_state=seed).fit_transform(features)
    if perplexity is None:
        perplexity = float(min(30.0, max(1.0, (n - 1) / 3.0)))
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto",
                random_state=seed)
    return tsne.fit_transform(features), perplexity


def plot_tsne(features, stars, out_path, seed=0, max_points=2000, perplexity=None):
    """t-SNE of pooled features coloured by star (fixed-seed subsample)."""
    features = as_finite_array("features", features, ndim=2)
    stars = as_stars("stars", stars)
    check_same_length("features", len(features), stars=stars)
    if len(features) < MIN_TSNE_POINTS:
        raise ArgumentError("features", f"plot_tsne needs at least {MIN_TSNE_POINTS} points, got {len(features)}")
    if max_points is not None and len(features) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(features), max_points, replace=False))
        features, stars = features[keep], stars[keep]
    logger.info("t-SNE on %d points (%d dims)...", len(features), features.shape[1])
    points, perplexity = tsne_embedding(features, seed=seed, perplexity=perplexity)

    figure = new_figure((7.5, 6.5))
    ax = figure.subplots()
    for star, color in zip(STARS, star_colors()):
        mask = stars == star
        if mask.any():
            ax.scatter(points[mask, 0], points[mask, 1], s=10, color=color, alpha=0.75,
                       label=f"{star}★ ({mask.sum()})", edgecolors="none")
    ax.legend(title="真实星级", markerscale=2)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"t-SNE：句向量按真实星级着色 (n = {len(points)}, perplexity = {perplexity:.0f})")
    return save_figure(figure, out_path)


def plot_layer_weights(weights, out_path, labels=None, gamma=None, from_logits=False):
    """Bar chart of ScalarMix softmax weights per layer (layer 0 = embeddings).

    `from_logits=True` applies the softmax to raw ScalarMix parameters.
    """
    weights = as_finite_array("weights", weights)
    if from_logits:
        weights = np.exp(weights - weights.max())
        weights = weights / weights.sum()
    elif np.any(weights < 0):
        raise ValueError("weights must be non-negative softmax weights (or pass from_logits=True)")
    if labels is None:
        labels = ["嵌入"] + [str(layer) for layer in range(1, len(weights))]
    if len(labels) != len(weights):
        raise ValueError(f"labels has {len(labels)} entries but weights has {len(weights)}")

    figure = new_figure((max(6, 0.5 * len(weights) + 2), 4.2))
    ax = figure.subplots()
    positions = np.arange(len(weights))
    bars = ax.bar(positions, weights, color="#4c72b0")
    ax.bar_label(bars, labels=[f"{w:.2f}" for w in weights], fontsize=8)
    ax.axhline(1.0 / len(weights), color="gray", linestyle="--", linewidth=0.8, label="均匀 (uniform)")
    ax.set_xticks(positions, labels)
    ax.set_xlabel("层 (layer; 0 = 嵌入层)")
    ax.set_ylabel("softmax 权重")
    title = "ScalarMix 层权重"
    if gamma is not None:
        title += f" (γ = {float(gamma):.3f})"
    ax.set_title(title)
    ax.legend()
    return save_figure(figure, out_path)


def plot_attention_heatmap(attention, tokens, out_path, row_labels=None, drop_special=True,
                           title="注意力热图"):
    """Heatmap of a (heads or hops, T) or (T, T) attention matrix with token labels.

    A 1-D array is one row. Special tokens ([CLS], <s>, <pad>, ...) are
    dropped (columns, and rows of a square matrix) when `drop_special`.
    """
    matrix = np.asarray(attention, dtype=float)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    matrix = as_finite_array("attention", matrix, ndim=2)
    tokens = [str(token) for token in tokens]
    if matrix.shape[1] != len(tokens):
        raise ValueError(f"attention has {matrix.shape[1]} columns but tokens has {len(tokens)}")
    square = matrix.shape[0] == matrix.shape[1]
    if row_labels is None:
        row_labels = tokens if square else [f"{i + 1}" for i in range(matrix.shape[0])]
    if len(row_labels) != matrix.shape[0]:
        raise ValueError(f"row_labels has {len(row_labels)} entries but attention has {matrix.shape[0]} rows")
    keep = np.array([not (drop_special and is_special_token(token)) for token in tokens])
    if not keep.any():
        raise ValueError("tokens holds only special tokens: nothing to show")
    matrix = matrix[:, keep]
    shown = [clean_token(token) or token for token, k in zip(tokens, keep) if k]
    if square:
        matrix = matrix[keep]
        row_labels = [clean_token(label) or label for label, k in zip(row_labels, keep) if k]

    n_rows, n_cols = matrix.shape
    figure = new_figure((max(5, 0.38 * n_cols + 2), max(2.2, 0.38 * n_rows + 1.6)))
    ax = figure.subplots()
    image = ax.imshow(matrix, cmap="viridis", aspect="auto")
    figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    ax.set_xticks(np.arange(n_cols), shown, fontsize=10)
    for label, text in zip(ax.get_xticklabels(), shown):
        label.set_rotation(0 if len(text) <= 2 else 90)  # CJK characters stay upright
    ax.set_yticks(np.arange(n_rows), row_labels, fontsize=10)
    if not square:
        ax.set_ylabel("头 / 跳 (head / hop)")
    ax.set_title(title)
    return save_figure(figure, out_path)
