"""Attention of one text: every layer x head, rollout and flow, first token and pooled output."""

import numpy as np

from kerasbert.analysis.attention import (
    attention_flow,
    attention_rollout,
    pooled_attention_flow,
    pooled_attention_rollout,
)
from kerasbert.utils.figures import new_figure, save_figure
from kerasbert.utils.tokens import clean_token


def display_tokens(tokens):
    """Readable labels: sub-word markers stripped, special tokens kept as written."""
    return [clean_token(token) or token for token in tokens]


def _rotate_latin(tick_labels, texts):
    """Short (e.g. CJK) labels stay upright; longer ones turn vertical so they do not overlap."""
    for label, text in zip(tick_labels, texts):
        label.set_rotation(0 if len(text) <= 2 else 90)


def attention_views(attentions, pooled_weights=None, max_flow_tokens=32):
    """Raw (last layer, head mean), rollout and flow of one text's attentions.

    `attentions`: (L, heads, T, T). `pooled_weights`: how the pooled output
    weighs the top-layer tokens (default: mean pooling, equal weights).
    Returns a dict of (T, T) matrices `raw`, `rollout`, `flow` (None when
    T > `max_flow_tokens`: T^2 max-flow problems) and, for the rows
    `first` (the first token, [CLS] / <s>) and `pooled`, a dict
    {"raw", "rollout", "flow"} of (T,) vectors.
    """
    attentions = np.asarray(attentions, dtype=float)
    length = attentions.shape[-1]
    weights = np.full(length, 1.0 / length) if pooled_weights is None else np.asarray(pooled_weights, float)
    weights = weights / weights.sum()
    raw = attentions[-1].mean(axis=0)
    rollout = attention_rollout(attentions)
    max_tokens = max(max_flow_tokens, 1)
    flow = attention_flow(attentions, max_tokens=max_tokens) if length <= max_flow_tokens else None
    # Rows for the comparison always get a flow (T problems each), up to 128 tokens.
    first_flow = flow[0] if flow is not None else attention_flow(attentions, max_tokens=128, rows=[0])[0]
    return {
        "raw": raw,
        "rollout": rollout,
        "flow": flow,
        "first": {"raw": raw[0], "rollout": rollout[0], "flow": first_flow},
        "pooled": {
            "raw": weights @ raw,
            "rollout": pooled_attention_rollout(attentions, weights),
            "flow": pooled_attention_flow(attentions, weights, max_tokens=128),
        },
        "pooled_weights": weights,
    }


def plot_attention_grid(attentions, tokens, out_path, title="注意力：每层 × 每头"):
    """Every layer (rows, layer 1 at the top) x head (columns) heatmap, token labels on the edges."""
    attentions = np.asarray(attentions, dtype=float)
    n_layers, n_heads, length, _ = attentions.shape
    labels = display_tokens(tokens)
    cell = max(1.2, 0.12 * length + 0.3)  # about 0.12 inch per token keeps 6-pt labels apart
    figure = new_figure((cell * n_heads + 1.0, cell * n_layers + 1.0))
    figure.set_layout_engine("constrained")
    axes = figure.subplots(n_layers, n_heads, squeeze=False)
    fontsize = 6
    for layer in range(n_layers):
        for head in range(n_heads):
            ax = axes[layer, head]
            ax.imshow(attentions[layer, head], cmap="viridis", vmin=0, vmax=1, aspect="equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if head == 0:
                ax.set_yticks(np.arange(length), labels, fontsize=fontsize)
                ax.set_ylabel(f"层 {layer + 1}", fontsize=9)
            if layer == n_layers - 1:
                ax.set_xticks(np.arange(length), labels, fontsize=fontsize)
                _rotate_latin(ax.get_xticklabels(), labels)
            if layer == 0:
                ax.set_title(f"头 {head + 1}", fontsize=9)
    figure.suptitle(title + "（行 = 查询词，列 = 被关注词）", fontsize=12)
    return save_figure(figure, out_path, dpi=100)


def plot_attention_matrices(views, tokens, out_path, title=""):
    """Raw last-layer attention, rollout and flow side by side, (T, T) each."""
    labels = display_tokens(tokens)
    panels = [("原始注意力（最后一层，头平均）", views["raw"]), ("注意力 rollout", views["rollout"])]
    if views["flow"] is not None:
        panels.append(("注意力 flow（最大流）", views["flow"]))
    length = len(labels)
    size = max(3.5, 0.3 * length + 1.5)
    figure = new_figure((size * len(panels), size))
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, matrix) in zip(axes, panels):
        image = ax.imshow(matrix, cmap="viridis", aspect="equal")
        figure.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
        ax.set_xticks(np.arange(length), labels, fontsize=8)
        _rotate_latin(ax.get_xticklabels(), labels)
        ax.set_yticks(np.arange(length), labels, fontsize=8)
        ax.set_title(name, fontsize=10)
    figure.suptitle(title, fontsize=11)
    return save_figure(figure, out_path)


def plot_attention_comparison(views, tokens, out_path, title=""):
    """Bars over input tokens: raw vs rollout vs flow, for the first token and the pooled output."""
    labels = display_tokens(tokens)
    positions = np.arange(len(labels))
    figure = new_figure((max(7, 0.45 * len(labels) + 2), 7))
    figure.set_layout_engine("constrained")
    axes = figure.subplots(2, 1)
    width = 0.27
    colors = {"raw": "#4c72b0", "rollout": "#dd8452", "flow": "#55a868"}
    names = {"raw": "原始 (raw)", "rollout": "rollout", "flow": "flow"}
    for ax, row, row_title in ((axes[0], "first", f"第一个词 {labels[0]} 的输出"),
                               (axes[1], "pooled", "池化输出 (pooled)")):
        for offset, kind in zip((-width, 0.0, width), ("raw", "rollout", "flow")):
            values = views[row][kind]
            ax.bar(positions + offset, values / max(values.sum(), 1e-12), width,
                   label=names[kind], color=colors[kind])
        ax.set_xticks(positions, labels, fontsize=9)
        _rotate_latin(ax.get_xticklabels(), labels)
        ax.set_ylabel("占比 (share)")
        ax.set_title(row_title, fontsize=10)
        ax.legend(fontsize=8)
    figure.suptitle(title, fontsize=11)
    return save_figure(figure, out_path)
