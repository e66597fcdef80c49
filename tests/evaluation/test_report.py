"""write_evaluation_report: files, links, atomic publishing, bad inputs."""

import json
import os
import re

import numpy as np
import pandas as pd
import pytest

from kerasbert.evaluation import rating_metrics, write_evaluation_report
from kerasbert.evaluation import report as report_module

N = 50


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    y_true = rng.integers(1, 6, N)
    probs = rng.dirichlet(np.ones(5), N)
    probs[np.arange(N), y_true - 1] += 1.0
    probs /= probs.sum(axis=1, keepdims=True)
    y_pred = probs.argmax(axis=1) + 1
    texts = [f"第{i}条：剧情<script>alert({i})</script> | 好看" for i in range(N)]
    tokens = [["[CLS]"] + list(text) + ["[SEP]"] for text in texts]
    return dict(
        y_true=y_true, y_pred=y_pred, y_score=probs, texts=texts,
        movies=rng.choice(["霸王别姬", "活着", "大话西游"], N),
        features=rng.normal(size=(N, 12)) + y_true[:, None],
        tokens=tokens, attention=[rng.dirichlet(np.ones(len(t)), 2) for t in tokens],
    )


def linked_files(markdown):
    return re.findall(r"\]\(([^)]+)\)", markdown)


def staging_leftovers(parent):
    return [name for name in os.listdir(parent) if name.endswith(".partial")]


def test_full_report_writes_all_files_and_links_only_existing_ones(tmp_path, data):
    out_dir = tmp_path / "report"
    path = write_evaluation_report(
        out_dir, task="classification", layer_weights=[0.1, 0.2, 0.3, 0.4], gamma=1.5,
        extra={"model": "bert-base-chinese", "epochs": np.int64(2)}, n_highlight=6, n_worst=5,
        verbose=False, **data)
    assert path == str(out_dir / "report.md")
    expected = {"report.md", "metrics.json", "confusion_matrices.png", "rating_histograms.png", "tsne.png",
                "layer_weights.png", "attention_highlights.html", "attention_highlights.png",
                "worst_errors.csv", "per_movie.csv", "predictions.csv"}
    assert set(os.listdir(out_dir)) == expected
    markdown = open(path, encoding="utf-8").read()
    links = linked_files(markdown)
    assert set(links) == expected - {"report.md"}
    assert all((out_dir / link).is_file() for link in links)
    assert "![" in markdown and "<script>" not in markdown

    metrics = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    reference = rating_metrics(data["y_true"], data["y_pred"])
    assert metrics["accuracy"] == pytest.approx(reference["accuracy"])
    assert metrics["extra"] == {"model": "bert-base-chinese", "epochs": 2}

    errors = pd.read_csv(out_dir / "worst_errors.csv")
    assert len(errors) == int(np.sum(data["y_true"] != data["y_pred"]))
    assert list(errors["abs_error"]) == sorted(errors["abs_error"], reverse=True)
    predictions = pd.read_csv(out_dir / "predictions.csv")
    np.testing.assert_array_equal(predictions["star"], data["y_true"])
    np.testing.assert_array_equal(predictions["predicted_star"], data["y_pred"])
    np.testing.assert_array_equal(predictions["movie"], data["movies"])
    np.testing.assert_allclose(predictions[["p1", "p2", "p3", "p4", "p5"]], data["y_score"], atol=1e-5)
    movies = pd.read_csv(out_dir / "per_movie.csv")
    assert movies["n"].sum() == N and set(movies["movie"]) == set(data["movies"])
    row = movies.set_index("movie").loc["活着"]
    mask = data["movies"] == "活着"
    assert row["accuracy"] == pytest.approx(np.mean(data["y_true"][mask] == data["y_pred"][mask]))
    assert row["mean_true"] == pytest.approx(data["y_true"][mask].mean())
    assert staging_leftovers(tmp_path) == []


def test_minimal_regression_report_links_only_what_it_wrote(tmp_path, data):
    score = data["y_true"] + np.random.default_rng(1).normal(0, 0.7, N)
    path = write_evaluation_report(tmp_path / "r", y_true=data["y_true"], y_pred=score, y_score=score,
                                   task="regression", texts=None, verbose=False)
    names = set(os.listdir(tmp_path / "r"))
    assert "tsne.png" not in names and "per_movie.csv" not in names
    links = linked_files(open(path, encoding="utf-8").read())
    assert links and all((tmp_path / "r" / link).is_file() for link in links)
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["mae"] == pytest.approx(np.mean(np.abs(score - data["y_true"])))
    predictions = pd.read_csv(tmp_path / "r" / "predictions.csv")
    np.testing.assert_allclose(predictions["score"], score, rtol=1e-5)
    np.testing.assert_array_equal(predictions["predicted_star"], np.clip(np.floor(score + 0.5), 1, 5))


def test_report_into_folder_with_user_files_keeps_them(tmp_path, data):
    out_dir = tmp_path / "results"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("my notes", encoding="utf-8")
    (out_dir / "report.md").write_text("old report", encoding="utf-8")
    write_evaluation_report(out_dir, y_true=data["y_true"], y_pred=data["y_pred"], task="classification",
                            texts=data["texts"], verbose=False)
    assert (out_dir / "notes.txt").read_text(encoding="utf-8") == "my notes"
    assert (out_dir / "report.md").read_text(encoding="utf-8").startswith("# ")
    assert staging_leftovers(tmp_path) == []


def test_failure_midway_leaves_previous_outputs_untouched(tmp_path, data, monkeypatch):
    out_dir = tmp_path / "results"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("my notes", encoding="utf-8")
    (out_dir / "report.md").write_text("old report", encoding="utf-8")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report_module, "plot_rating_histograms", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_evaluation_report(out_dir, y_true=data["y_true"], y_pred=data["y_pred"], task="classification",
                                texts=data["texts"], verbose=False)
    assert sorted(os.listdir(out_dir)) == ["notes.txt", "report.md"]
    assert (out_dir / "report.md").read_text(encoding="utf-8") == "old report"
    assert staging_leftovers(tmp_path) == []
    with pytest.raises(RuntimeError):
        write_evaluation_report(tmp_path / "fresh", y_true=data["y_true"], y_pred=data["y_pred"],
                                task="classification", texts=None, verbose=False)
    assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(texts=["only one"]), "texts has 1 entries but y_true has 50"),
        (dict(movies=["a"] * 3), "movies has 3"),
        (dict(attention="keep", tokens=None), "attention and tokens must be given together"),
        (dict(features=np.ones((N, 2)) * np.nan), "features contains NaN"),
        (dict(task="ordinal"), "task must be"),
        (dict(y_pred=np.full(N, 6)), "y_pred must hold stars 1-5"),
    ],
)
def test_bad_inputs_raise_before_writing(tmp_path, data, change, message):
    kwargs = dict(y_true=data["y_true"], y_pred=data["y_pred"], task="classification", texts=data["texts"],
                  verbose=False)
    if change.get("attention") == "keep":
        change = dict(change, attention=data["attention"])
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        write_evaluation_report(tmp_path / "bad", **kwargs)
    assert not (tmp_path / "bad").exists()
    assert staging_leftovers(tmp_path) == []


def test_too_few_rows_for_tsne_give_a_note_not_an_error(tmp_path):
    import numpy as np

    from kerasbert.evaluation import write_evaluation_report

    rng = np.random.default_rng(0)
    y_true, y_pred = np.array([1, 5, 3]), np.array([1, 4, 3])
    path = write_evaluation_report(str(tmp_path / "report"), y_true=y_true, y_pred=y_pred, task="classification",
                                   texts=["好", "差", "一般"], features=rng.normal(size=(3, 8)))
    text = open(path, encoding="utf-8").read()
    assert "t-SNE left out: 3 rows, it needs 4" in text
    assert not (tmp_path / "report" / "tsne.png").exists() and (tmp_path / "report" / "confusion_matrices.png").exists()
