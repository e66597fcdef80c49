"""Per title: the star mix (or offset) a title adaptation estimated from the texts, against the true one."""

import numpy as np
import pandas as pd

from kerasbert.tasks import NUM_STARS, STARS
from kerasbert.utils.figures import new_figure, save_figure

__all__ = ["plot_title_mix", "title_mix_table"]


def title_mix_table(y_true, movies, estimates, task):
    """One row per adapted title, most rows first.

    Classification: `n`, the estimated share of each star (`est_1..est_5`) and
    the true shares (`true_1..true_5`), their expected stars (`est_mean`,
    `true_mean`) and the total variation distance between the two mixes.
    Regression: `n`, the estimated `offset`, `true_mean`.
    """
    frame = pd.DataFrame({"movie": [str(m) for m in movies], "star": np.asarray(y_true).astype(int)})
    counts = pd.crosstab(frame["movie"], frame["star"]).reindex(columns=list(STARS), fill_value=0)
    rows = []
    for movie, estimate in estimates.items():
        true = counts.loc[str(movie)].to_numpy(dtype=float)
        n = int(true.sum())
        true_share = true / max(n, 1)
        row = {"movie": movie, "n": n}
        if task == "classification":
            estimate = np.asarray(estimate, float)
            row.update({"est_%d" % s: estimate[s - 1] for s in STARS})
            row.update({"true_%d" % s: true_share[s - 1] for s in STARS})
            row["est_mean"] = float(np.dot(estimate, STARS))
            row["true_mean"] = float(np.dot(true_share, STARS))
            row["distance"] = 0.5 * float(np.abs(estimate - true_share).sum())
        else:
            row["offset"] = float(estimate)
            row["true_mean"] = float(np.dot(true_share, STARS))
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        table = table.sort_values(["n", "movie"], ascending=[False, True], kind="mergesort")
    return table.reset_index(drop=True)


def plot_title_mix(table, out_path, prior=None):
    """Per title, the estimated expected star against the true mean star (circle area ~ rows)."""
    fig = new_figure((5.5, 5))
    ax = fig.add_subplot(1, 1, 1)
    sizes = 12 + 120 * np.sqrt(table["n"].to_numpy() / max(table["n"].max(), 1))
    ax.scatter(table["true_mean"], table["est_mean"], s=sizes, alpha=0.5, color="tab:blue",
               label="titles (%d)" % len(table))
    ax.plot([1, NUM_STARS], [1, NUM_STARS], color="grey", linewidth=1, linestyle="--")
    if prior is not None:
        ax.axhline(float(np.dot(prior, STARS)), color="tab:orange", linewidth=1, label="source prior")
    ax.set_xlim(1, NUM_STARS)
    ax.set_ylim(1, NUM_STARS)
    ax.set_xlabel("真实平均星级 (true mean star)")
    ax.set_ylabel("估计平均星级 (estimated from the texts)")
    ax.set_title("各电影星级分布估计 (title star mix)", fontsize=11)
    ax.legend(loc="upper left", fontsize=8)
    save_figure(fig, out_path)
