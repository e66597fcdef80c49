"""A Markdown evaluation report (metrics, figures, errors, per movie) in a folder."""

import datetime
import json
import logging
import os
import shutil
import tempfile

import numpy as np
import pandas as pd

from kerasbert.evaluation.highlight import attention_highlights_html, attention_highlights_png
from kerasbert.evaluation.metrics import (
    STARS,
    as_finite_array,
    check_same_length,
    prepare_predictions,
    rating_metrics,
)
from kerasbert.evaluation.plots import (
    MIN_TSNE_POINTS,
    plot_confusion_matrices,
    plot_layer_weights,
    plot_rating_histograms,
    plot_tsne,
)
from kerasbert.evaluation.title_mix import plot_title_mix, title_mix_table
from kerasbert.errors import OutputError
from kerasbert.utils.io import atomic_write_json

logger = logging.getLogger(__name__)

REPORT_NAME = "report.md"
TOP_MOVIES = 15
MD_TEXT_CHARS = 80


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _md_cell(value):
    """Text safe inside a Markdown table cell (no pipes, newlines or raw HTML)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:.3f}"
    text = " ".join(str(value).split())
    if len(text) > MD_TEXT_CHARS:
        text = text[:MD_TEXT_CHARS - 1] + "…"
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _md_table(frame):
    header = "| " + " | ".join(_md_cell(column) for column in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_md_cell(value) for value in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule] + rows)


def worst_errors_table(y_true, y_pred, y_score=None, task="classification", texts=None, movies=None):
    """All wrong predictions, worst first: largest |pred - true|, then lowest
    probability on the true star (classification probabilities) or largest
    |score - true| (regression)."""
    frame = pd.DataFrame({"index": np.arange(len(y_true)), "true": y_true, "pred": y_pred})
    frame["error"] = frame["pred"] - frame["true"]
    frame["abs_error"] = frame["error"].abs()
    sort_by, ascending = ["abs_error"], [False]
    if y_score is not None and task == "classification":
        frame["p_true"] = y_score[np.arange(len(y_true)), y_true - 1]
        frame["p_pred"] = y_score[np.arange(len(y_true)), y_pred - 1]
        sort_by, ascending = sort_by + ["p_true"], ascending + [True]
    elif y_score is not None:
        frame["score"] = y_score
        frame["score_error"] = np.abs(y_score - y_true)
        sort_by, ascending = sort_by + ["score_error"], ascending + [False]
    if movies is not None:
        frame["movie"] = list(movies)
    if texts is not None:
        frame["text"] = list(texts)
    frame = frame[frame["abs_error"] > 0]
    return frame.sort_values(sort_by + ["index"], ascending=ascending + [True], kind="mergesort")


def predictions_table(y_true, y_pred, y_score=None, task="classification", movies=None):
    """One row per example, in input order: true and predicted star, and the
    star probabilities p1..p5 (classification) or the continuous score
    (regression). What a benchmark needs to re-score a model without it."""
    frame = pd.DataFrame({"index": np.arange(len(y_true))})
    if movies is not None:
        frame["movie"] = list(movies)
    frame["star"] = y_true
    frame["predicted_star"] = y_pred
    if y_score is not None and task == "classification":
        for column, star in enumerate(STARS):
            frame["p%d" % star] = y_score[:, column]
    elif y_score is not None:
        frame["score"] = y_score
    return frame


def per_movie_table(y_true, y_pred, movies, y_score=None):
    """Per movie: n, accuracy, ±1 accuracy, MAE, mean true and predicted star."""
    predicted = y_score if y_score is not None else y_pred
    frame = pd.DataFrame({
        "movie": list(movies),
        "correct": y_true == y_pred,
        "within_one": np.abs(y_true - y_pred) <= 1,
        "abs_error": np.abs(predicted - y_true),
        "true": y_true,
        "pred": predicted,
    })
    table = frame.groupby("movie", sort=False).agg(
        n=("true", "size"),
        accuracy=("correct", "mean"),
        within_one_accuracy=("within_one", "mean"),
        mae=("abs_error", "mean"),
        mean_true=("true", "mean"),
        mean_pred=("pred", "mean"),
    )
    table["mean_diff"] = table["mean_pred"] - table["mean_true"]
    table = table.reset_index().sort_values(["n", "movie"], ascending=[False, True], kind="mergesort")
    return table.reset_index(drop=True)


def _highlight_indices(y_true, count, seed):
    """Up to `count` examples taken in turn from each true star (fixed seed)."""
    rng = np.random.default_rng(seed)
    pools = [list(rng.permutation(np.flatnonzero(y_true == star))) for star in STARS]
    chosen = []
    while len(chosen) < count and any(pools):
        for pool in pools:
            if pool and len(chosen) < count:
                chosen.append(int(pool.pop(0)))
    return chosen


def _example_weights(weights, index):
    array = np.asarray(weights, dtype=float)
    if array.ndim == 2:  # (hops or heads, T): average
        array = array.mean(axis=0)
    if array.ndim != 1:
        raise ValueError(f"attention[{index}] must be 1-D weights over tokens, got shape {array.shape}")
    return array


def _validate_inputs(n, texts, movies, features, attention, tokens):
    check_same_length("y_true", n, texts=texts, movies=movies, features=features,
                      attention=attention, tokens=tokens)
    if (attention is None) != (tokens is None):
        raise ValueError("attention and tokens must be given together (per-example weights over tokens)")
    if features is not None:
        as_finite_array("features", features, ndim=2)


def _publish(staging, out_dir, names):
    """Move the finished files into `out_dir`; report.md last. Other files stay."""
    if not os.path.exists(out_dir):
        os.replace(staging, out_dir)
        return
    for name in sorted(names, key=lambda name: name == REPORT_NAME):
        os.replace(os.path.join(staging, name), os.path.join(out_dir, name))


def write_evaluation_report(out_dir, *, y_true, y_pred, y_score=None, task, texts, movies=None,
                            features=None, layer_weights=None, gamma=None, attention=None,
                            tokens=None, title="豆瓣短评星级预测评估报告", extra=None,
                            n_highlight=20, n_worst=20, seed=0, tsne_max_points=2000,
                            adaptation=None, verbose=True):
    """Write metrics.json, figures, CSVs and report.md into `out_dir`.

    y_true: (n,) stars 1-5. y_pred: (n,) predicted stars (regression: may be
    continuous, rounded half up and clipped). y_score: regression (n,)
    continuous scores; classification (n, 5) star probabilities. texts,
    movies: (n,) strings (texts may be None). features: (n, d) pooled vectors
    for t-SNE. layer_weights, gamma: ScalarMix softmax weights and scale.
    attention, tokens: per-example 1-D weights over that example's tokens.
    extra: JSON-able dict stored in metrics.json and shown in report.md.
    adaptation: when y_pred / y_score are title-adapted, a dict with
    `description`, the outputs before adaptation (`y_pred`, `y_score`), the
    `groups` (default `movies`), the per-group `estimates` ({movie: star mix or offset}) and the `prior`
    adapted from: the report then shows both and each title's estimated star
    mix against its true one (`title_adaptation.csv`, `title_mix.png`).

    Everything is built in a temporary folder and moved into `out_dir` only
    when complete (report.md last); other files in `out_dir` are kept.
    Returns the path of report.md.
    """
    y_true, y_pred, score = prepare_predictions(y_true, y_pred, y_score, task)
    _validate_inputs(len(y_true), texts, movies, features, attention, tokens)
    metrics = rating_metrics(y_true, y_pred, score, task)
    out_dir = os.path.abspath(os.fspath(out_dir))
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise OutputError(f"{out_dir}: exists and is not a folder")
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix="." + os.path.basename(out_dir) + ".", suffix=".partial", dir=parent)

    def path(name):
        if verbose:
            logger.info("report: writing %s", os.path.join(out_dir, name))
        return os.path.join(staging, name)

    try:
        names, chosen, notes = _write_figures(path, y_true, y_pred, score, features, layer_weights, gamma,
                                              attention, tokens, n_highlight, seed, tsne_max_points)
        errors, movie_table = _write_tables(path, names, y_true, y_pred, score, task, texts, movies)
        adapted = _write_adaptation(path, names, adaptation, y_true, task, movies)
        names.append("metrics.json")
        atomic_write_json(path("metrics.json"),
                          {**metrics, "title": title, "files": names + [REPORT_NAME], "extra": extra,
                           **({"adaptation": {"description": adapted[2], "unadapted": adapted[0]}}
                              if adapted else {})},
                          default=_json_default)
        names.append(REPORT_NAME)
        markdown = _report_markdown(title, task, metrics, names, errors, movie_table, extra,
                                    n_worst, len(chosen), gamma, notes, adapted)
        with open(path(REPORT_NAME), "w", encoding="utf-8") as handle:
            handle.write(markdown)
        _publish(staging, out_dir, names)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)
    return os.path.join(out_dir, REPORT_NAME)


def _write_figures(path, y_true, y_pred, score, features, layer_weights, gamma, attention, tokens,
                   n_highlight, seed, tsne_max_points):
    """The report's figures; returns (file names written, indices of the highlighted examples, notes).

    A figure the rows are too few for is left out with a note, not an error: a
    small evaluation file still gets its metrics.
    """
    names, notes = [], []
    plot_confusion_matrices(y_true, y_pred, path("confusion_matrices.png"))
    names.append("confusion_matrices.png")
    plot_rating_histograms(y_true, y_pred, path("rating_histograms.png"), y_score=score)
    names.append("rating_histograms.png")
    if features is not None and len(features) < MIN_TSNE_POINTS:
        notes.append(f"t-SNE 略去：只有 {len(features)} 条评论，至少需要 {MIN_TSNE_POINTS} 条 "
                     f"(t-SNE left out: {len(features)} rows, it needs {MIN_TSNE_POINTS})")
    elif features is not None:
        plot_tsne(features, y_true, path("tsne.png"), seed=seed, max_points=tsne_max_points)
        names.append("tsne.png")
    if layer_weights is not None:
        plot_layer_weights(layer_weights, path("layer_weights.png"), gamma=gamma)
        names.append("layer_weights.png")
    chosen = []
    if attention is not None and n_highlight > 0:
        chosen = _highlight_indices(y_true, n_highlight, seed)
        chosen_tokens = [list(tokens[i]) for i in chosen]
        chosen_weights = [_example_weights(attention[i], i) for i in chosen]
        args = (chosen_tokens, chosen_weights, y_true[chosen], y_pred[chosen])
        attention_highlights_html(*args, path("attention_highlights.html"), labels=chosen)
        attention_highlights_png(*args, path("attention_highlights.png"), labels=chosen, max_reviews=6)
        names += ["attention_highlights.html", "attention_highlights.png"]
    return names, chosen, notes


def _write_tables(path, names, y_true, y_pred, score, task, texts, movies):
    """predictions.csv, worst_errors.csv and per_movie.csv (appended to `names`); returns the last two tables."""
    predictions_table(y_true, y_pred, score, task, movies).to_csv(
        path("predictions.csv"), index=False, encoding="utf-8", float_format="%.6g")
    names.append("predictions.csv")
    errors = worst_errors_table(y_true, y_pred, score, task, texts, movies)
    errors.to_csv(path("worst_errors.csv"), index=False, encoding="utf-8")
    names.append("worst_errors.csv")
    movie_table = None
    if movies is not None:
        movie_table = per_movie_table(y_true, y_pred, movies, score if task == "regression" else None)
        movie_table.to_csv(path("per_movie.csv"), index=False, encoding="utf-8")
        names.append("per_movie.csv")
    return errors, movie_table


def _write_adaptation(path, names, adaptation, y_true, task, movies):
    """`(metrics before adaptation, per-title table)` and its files, or None without an adaptation."""
    if adaptation is None:
        return None
    _, before_pred, before_score = prepare_predictions(y_true, adaptation["y_pred"], adaptation.get("y_score"), task)
    before = rating_metrics(y_true, before_pred, before_score, task)
    groups = adaptation.get("groups", movies)
    table = title_mix_table(y_true, groups, adaptation["estimates"], task) if groups is not None else None
    if table is not None and len(table):
        table.to_csv(path("title_adaptation.csv"), index=False, encoding="utf-8", float_format="%.6g")
        names.append("title_adaptation.csv")
        if task == "classification":
            plot_title_mix(table, path("title_mix.png"), prior=adaptation.get("prior"))
            names.append("title_mix.png")
    return before, table, adaptation["description"]


def _adaptation_markdown(metrics, adapted, names):
    before, table, description = adapted
    lines = ["## 按电影整体校正 (title adaptation)", "", description, "",
             "| 指标 | 逐条 (alone) | 按电影 (adapted) |", "|---|---|---|"]
    for key in ("accuracy", "within_one_accuracy", "macro_f1", "mae", "rmse", "quadratic_weighted_kappa"):
        values = [m.get(key) for m in (before, metrics)]
        lines.append("| %s | %s |" % (key, " | ".join("n/a" if v is None else f"{v:.4f}" for v in values)))
    lines.append("")
    if table is not None and len(table):
        if "title_mix.png" in names:
            lines += ["![各电影星级分布估计 (title star mix)](title_mix.png)", ""]
        shown = [c for c in ("movie", "n", "est_mean", "true_mean", "distance", "offset") if c in table]
        lines += [_md_table(table[shown].head(TOP_MOVIES)), "",
                  f"全部 {len(table)} 部电影（估计与真实的各星级比例）：[title_adaptation.csv](title_adaptation.csv)", ""]
    return lines


def _report_markdown(title, task, metrics, names, errors, movie_table, extra, n_worst,
                     n_highlighted, gamma, notes=(), adapted=None):
    def fmt(value):
        return "n/a" if value is None else f"{value:.4f}"

    mae_note = "（基于连续分数）" if task == "regression" else ""
    lines = [
        f"# {title}",
        "",
        f"任务：{task} · 样本数 n = {metrics['n']} · 生成于 "
        f"{datetime.datetime.now().isoformat(timespec='seconds')}",
        "",
        "## 指标 (metrics)",
        "",
        "| 指标 | 值 |",
        "|---|---|",
        f"| 准确率 accuracy | {fmt(metrics['accuracy'])} |",
        f"| ±1 准确率 within-one accuracy | {fmt(metrics['within_one_accuracy'])} |",
        f"| 宏平均 F1 macro F1 | {fmt(metrics['macro_f1'])} |",
        f"| MAE{mae_note} | {fmt(metrics['mae'])} |",
        f"| RMSE{mae_note} | {fmt(metrics['rmse'])} |",
        f"| 二次加权 kappa QWK | {fmt(metrics['quadratic_weighted_kappa'])} |",
        "",
        "| 星级 | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for star, scores in metrics["per_star"].items():
        lines.append(f"| {star}★ | {scores['precision']:.4f} | {scores['recall']:.4f} | "
                     f"{scores['f1']:.4f} | {scores['support']} |")
    lines += ["", "全部指标见 [metrics.json](metrics.json)；逐条预测见 [predictions.csv](predictions.csv)。", ""]
    if notes:
        lines += ["## 说明 (notes)", ""] + [f"- {note}" for note in notes] + [""]
    if adapted:
        lines += _adaptation_markdown(metrics, adapted, names)

    figures = [
        ("confusion_matrices.png", "混淆矩阵 (confusion matrices)"),
        ("rating_histograms.png", "星级分布 (rating distribution)"),
        ("tsne.png", "句向量 t-SNE (pooled features)"),
        ("layer_weights.png", "ScalarMix 层权重" + (f" (γ = {float(gamma):.3f})" if gamma is not None else "")),
    ]
    for name, heading in figures:
        if name in names:
            lines += [f"## {heading}", "", f"![{heading}]({name})", ""]
    if "attention_highlights.html" in names:
        lines += [
            "## 自注意力高亮 (attention highlights)",
            "",
            f"{n_highlighted} 条评论（各星级轮流抽取）：[attention_highlights.html](attention_highlights.html)",
            "",
            "![自注意力高亮](attention_highlights.png)",
            "",
        ]
    if movie_table is not None:
        lines += [f"## 各电影 (per movie, 评论数最多的 {min(TOP_MOVIES, len(movie_table))} 部)", "",
                  _md_table(movie_table.head(TOP_MOVIES)), "",
                  f"全部 {len(movie_table)} 部电影：[per_movie.csv](per_movie.csv)", ""]
    lines += [f"## 最差错误 (worst errors, 前 {min(n_worst, len(errors))} 条)", ""]
    if len(errors):
        lines += [_md_table(errors.head(n_worst)), ""]
    else:
        lines += ["没有预测错误。", ""]
    lines += [f"全部 {len(errors)} 条错误：[worst_errors.csv](worst_errors.csv)", ""]
    if extra:
        lines += ["## 附加信息 (extra)", "", "```json",
                  json.dumps(extra, ensure_ascii=False, indent=2, default=_json_default), "```", ""]
    return "\n".join(lines)
