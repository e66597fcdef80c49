"""The figure `prepare` writes beside the splits: sizes, star mix and comment lengths."""

import numpy as np

from kerasbert.tasks import STARS
from kerasbert.utils.figures import new_figure, save_figure

SPLIT_LABELS = {"train": "训练集 train", "validation": "验证集 validation", "test": "测试集 test"}
SPLIT_COLORS = {"train": "#4C72B0", "validation": "#DD8452", "test": "#55A868"}


def plot_splits(splits, path, title=None):
    """splits.png: split sizes, star distribution per split, length histogram."""
    names = list(splits)
    zh, colors = SPLIT_LABELS, SPLIT_COLORS
    fig = new_figure((16, 4.8))
    axes = fig.subplots(1, 3)

    ax = axes[0]
    counts = [len(splits[n]) for n in names]
    bars = ax.bar([zh.get(n, n) for n in names], counts, color=[colors.get(n) for n in names])
    for bar, count, n in zip(bars, counts, names):
        ax.annotate(
            "%d\n(%d 部)" % (count, splits[n]["movie"].nunique()),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center", va="bottom", fontsize=9,
        )
    ax.set_title("各划分的短评数量")
    ax.set_ylabel("短评数")
    ax.set_ylim(0, max(counts + [1]) * 1.2)

    ax = axes[1]
    width = 0.8 / max(len(names), 1)
    x = np.asarray(STARS)
    for i, n in enumerate(names):
        frame = splits[n]
        frac = [float((frame["star"] == s).mean()) if len(frame) else 0.0 for s in x]
        ax.bar(x + (i - (len(names) - 1) / 2) * width, frac, width, label=zh.get(n, n), color=colors.get(n))
    ax.set_xticks(x)
    ax.set_xticklabels(["%d★" % s for s in x])
    ax.set_title("各划分的星级分布")
    ax.set_ylabel("比例")
    ax.legend(fontsize=8)

    ax = axes[2]
    lengths = [splits[n]["comment"].str.len().to_numpy() for n in names]
    clip = 300
    bins = np.arange(0, clip + 10, 10)
    ax.hist([np.minimum(l, clip) for l in lengths], bins=bins, stacked=True,
            label=[zh.get(n, n) for n in names], color=[colors.get(n) for n in names])
    ax.set_yscale("log")
    ax.set_title("短评长度分布（字符，≥%d 归入最后一格）" % clip)
    ax.set_xlabel("字符数")
    ax.legend(fontsize=8)

    if title:
        fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, str(path), dpi=110)
    return path
