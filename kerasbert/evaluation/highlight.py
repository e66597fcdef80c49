"""Self-attention highlights on reviews: HTML and PNG renderings."""

import html
import os

import numpy as np
from matplotlib.patches import Rectangle

from kerasbert.evaluation.metrics import as_stars, check_same_length
from kerasbert.utils.figures import new_figure, save_figure
from kerasbert.utils.tokens import merge_pieces_to_chars
from kerasbert.utils.io import atomic_write_text

HIGHLIGHT_RGB = (255, 112, 0)


def _reviews(texts_tokens, weights, stars_true, stars_pred, spread="split"):
    """Per review: (chars, weights normalised to max 1, raw weights, true, pred)."""
    if len(texts_tokens) == 0:
        raise ValueError("texts_tokens is empty")
    stars_true = as_stars("stars_true", stars_true)
    stars_pred = as_stars("stars_pred", stars_pred)
    check_same_length("texts_tokens", len(texts_tokens), weights=weights,
                      stars_true=stars_true, stars_pred=stars_pred)
    reviews = []
    for index, (tokens, review_weights) in enumerate(zip(texts_tokens, weights)):
        if isinstance(tokens, str):
            raise ValueError(f"texts_tokens[{index}] must be a list of tokens, got a string")
        try:
            chars, char_weights = merge_pieces_to_chars(tokens, review_weights, spread=spread)
        except ValueError as err:
            raise ValueError(f"review {index}: {err}") from None
        if np.any(char_weights < 0):
            raise ValueError(f"weights[{index}] must be non-negative")
        peak = char_weights.max() if len(char_weights) else 0.0
        shade = char_weights / peak if peak > 0 else np.zeros_like(char_weights)
        reviews.append((chars, shade, char_weights, int(stars_true[index]), int(stars_pred[index])))
    return reviews


def _meta_line(number, label, true_star, pred_star):
    mark = "✓" if true_star == pred_star else f"✗ (差 {pred_star - true_star:+d})"
    return f"#{label if label is not None else number} · 真实 {true_star}★ · 预测 {pred_star}★ {mark}"


_CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; }
.review { border-bottom: 1px solid #ddd; padding: 0.6em 0; }
.meta { color: #555; font-size: 0.9em; }
.meta.wrong { color: #b00020; }
.text { font-size: 1.15em; line-height: 2; }
.tok { padding: 0.1em 0; border-radius: 2px; }
.legend span { display: inline-block; width: 2.6em; text-align: center; }
"""


def _rgba(alpha):
    red, green, blue = HIGHLIGHT_RGB
    return f"rgba({red},{green},{blue},{alpha:.3f})"


def attention_highlights_html(texts_tokens, weights, stars_true, stars_pred, out_path,
                              title="自注意力高亮 (self-attention highlights)", labels=None,
                              spread="split"):
    """HTML page shading each character by its attention weight.

    `texts_tokens`: per review a list of tokens (sub-word pieces allowed);
    `weights`: per review 1-D weights over those tokens. Weights are spread
    over characters (see `merge_pieces_to_chars`) and normalised per review
    so its most-attended character is fully shaded. `labels`: optional
    per-review ids shown in the header. Returns `out_path`.
    """
    reviews = _reviews(texts_tokens, weights, stars_true, stars_pred, spread)
    if labels is not None:
        check_same_length("texts_tokens", len(texts_tokens), labels=labels)
    legend = "".join(
        f'<span style="background-color:{_rgba(level)}">{level:.2g}</span>'
        for level in np.linspace(0, 1, 6)
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="legend">颜色深浅 = 注意力权重（每条评论内按最大值归一化）：{legend}</p>',
    ]
    for number, (chars, shade, raw, true_star, pred_star) in enumerate(reviews, start=1):
        label = None if labels is None else labels[number - 1]
        css = "meta" if true_star == pred_star else "meta wrong"
        spans = []
        for char, alpha, weight in zip(chars, shade, raw):
            if char.isspace():
                spans.append(" ")
            else:
                spans.append(
                    f'<span class="tok" style="background-color:{_rgba(alpha)}" '
                    f'title="{weight:.4g}">{html.escape(char)}</span>'
                )
        parts.append(
            f'<div class="review"><div class="{css}">'
            f"{html.escape(_meta_line(number, label, true_star, pred_star))}</div>"
            f'<div class="text">{"".join(spans)}</div></div>'
        )
    parts.append("</body></html>\n")
    out_path = os.fspath(out_path)
    atomic_write_text(out_path, "\n".join(parts))
    return out_path


def attention_highlights_png(texts_tokens, weights, stars_true, stars_pred, out_path,
                             max_reviews=8, chars_per_line=32, labels=None,
                             title="自注意力高亮", spread="split"):
    """The first `max_reviews` highlighted reviews drawn with matplotlib."""
    reviews = _reviews(texts_tokens, weights, stars_true, stars_pred, spread)[:max_reviews]
    if labels is not None:
        check_same_length("texts_tokens", len(texts_tokens), labels=labels)
    # Layout in character cells: a header row, then wrapped text rows, then a gap.
    blocks = []
    for chars, shade, _, true_star, pred_star in reviews:
        lines = [list(zip(chars[i:i + chars_per_line], shade[i:i + chars_per_line]))
                 for i in range(0, max(len(chars), 1), chars_per_line)]
        blocks.append((lines, true_star, pred_star))
    n_rows = sum(len(lines) + 1.6 for lines, _, _ in blocks)

    figure = new_figure((0.3 * chars_per_line + 0.4, 0.36 * n_rows + 0.8))
    ax = figure.add_axes([0.01, 0.01, 0.98, 0.98 - 0.5 / (0.36 * n_rows + 0.8)])
    ax.set_xlim(0, chars_per_line)
    ax.set_ylim(n_rows, 0)
    ax.axis("off")
    red, green, blue = (value / 255 for value in HIGHLIGHT_RGB)
    row = 0.0
    for number, (lines, true_star, pred_star) in enumerate(blocks, start=1):
        label = None if labels is None else labels[number - 1]
        ax.text(0, row + 0.5, _meta_line(number, label, true_star, pred_star), va="center",
                fontsize=10, color="#222" if true_star == pred_star else "#b00020")
        row += 1
        for line in lines:
            for column, (char, alpha) in enumerate(line):
                if char.isspace():
                    continue
                ax.add_patch(Rectangle((column, row + 0.05), 1, 0.9, linewidth=0,
                                       facecolor=(red, green, blue, float(alpha))))
                ax.text(column + 0.5, row + 0.5, char, ha="center", va="center", fontsize=12)
            row += 1
        row += 0.6
    figure.suptitle(title, fontsize=12)
    return save_figure(figure, out_path)
