"""Title adaptation through the model folder, `predict_csv` and the commands (issue 23).

The adaptation survives save -> load inside `model.keras`; grouped `predict` on a file larger than one chunk
equals the in-memory result; bad group columns get one-line errors.
"""

import csv

import numpy as np
import pandas as pd
import pytest

from kerasbert.commands import main
from kerasbert.errors import ArgumentError
from kerasbert.models import load_model_folder, save_model_folder
from kerasbert.title_adaptation import PriorAdaptation
from kerasbert.training.predict import predict_csv

ADAPTATION = PriorAdaptation([0.15, 0.1, 0.2, 0.25, 0.3], [0.2, 0.1, 0.2, 0.2, 0.3], temperature=0.7,
                             bias=[0.2, -0.1, 0.0, 0.1, -0.2], strength=3.0, calibration="bias")


@pytest.fixture(scope="module")
def adapted_model_dir(untrained_model_dir, tmp_path_factory):
    model, recipe = load_model_folder(untrained_model_dir)
    model.adaptation = ADAPTATION
    out = tmp_path_factory.mktemp("adapted_model")
    save_model_folder(model, recipe, str(out))
    return str(out)


@pytest.fixture(scope="module")
def grouped_csv(demo_sample_csv, tmp_path_factory):
    frame = pd.read_csv(demo_sample_csv).head(45)
    frame.loc[3, "movie"] = ""  # a row without a group: rated alone
    frame.loc[7, "comment"] = " "  # not rated at all
    path = tmp_path_factory.mktemp("grouped") / "comments.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_the_adaptation_survives_save_and_load(adapted_model_dir):
    model = load_model_folder(adapted_model_dir)[0]
    assert model.adaptation.get_config() == ADAPTATION.get_config()
    assert model.get_config()["adaptation"] == ADAPTATION.get_config()


def test_grouped_predict_uses_the_saved_adaptation(adapted_model_dir):
    model = load_model_folder(adapted_model_dir)[0]
    texts = ["好看", "很好看的电影", "无聊", "烂片"]
    alone = model.predict(texts)
    grouped = model.predict(texts, groups=["a", "a", "b", "b"])
    expected = ADAPTATION.adapt(alone, ["a", "a", "b", "b"])[0]
    np.testing.assert_allclose(grouped, expected, atol=1e-6)
    assert model.predict_stars(texts, groups=["a", "a", "b", "b"]).tolist() == (expected.argmax(1) + 1).tolist()


def test_a_model_without_an_adaptation_refuses_groups(untrained_model_dir):
    model = load_model_folder(untrained_model_dir)[0]
    with pytest.raises(ArgumentError, match="no title adaptation"):
        model.predict(["好看"], groups=["a"])


def test_grouped_predict_csv_over_many_chunks_equals_the_in_memory_result(adapted_model_dir, grouped_csv, tmp_path):
    path, frame = grouped_csv
    model = load_model_folder(adapted_model_dir)[0]
    out = tmp_path / "rated.csv"
    summary = predict_csv(None, str(path), output_path=str(out), chunk_rows=7, model=model, group_column="movie",
                          verbose=False)
    written = pd.read_csv(out, keep_default_na=False)
    assert len(written) == len(frame) and summary["not_rated"] == 1
    rated = written[written["status"] == "ok"]
    texts = frame["comment"].drop(index=7).tolist()
    groups = frame["movie"].drop(index=7).tolist()
    expected = model.predict(texts, groups=groups)
    columns = ["p_%d" % s for s in range(1, 6)]
    np.testing.assert_allclose(rated[columns].to_numpy(float), expected, atol=2e-5)
    np.testing.assert_allclose(rated[["unadapted_" + c for c in columns]].to_numpy(float), model.predict(texts),
                               atol=2e-5)
    assert rated["predicted_star"].astype(int).tolist() == (expected.argmax(1) + 1).tolist()
    sizes = pd.Series(groups).value_counts()
    assert rated["group_rows"].tolist() == ["" if not g else str(sizes[g]) for g in groups]
    assert summary["adapted_rows"] == sum(1 for g in groups if g and sizes[g] > 1)
    assert written.loc[7, "p_1"] == "" and written.loc[7, "status"].startswith("empty")


def run(capsys, *argv):
    status = main([str(arg) for arg in argv])
    return status, capsys.readouterr()


@pytest.mark.parametrize("column, words", [("nosuch", "no column 'nosuch'"), ("comment", "is the text column")])
def test_bad_group_columns_get_one_line_errors(adapted_model_dir, grouped_csv, tmp_path, capsys, column, words):
    out = tmp_path / "out.csv"
    status, captured = run(capsys, "predict", "--model", adapted_model_dir, "--input", grouped_csv[0], "--output",
                           out, "--group-column", column, "--quiet")
    assert status == 2
    errors = [line for line in captured.err.splitlines() if "error" in line]
    assert len(errors) == 1 and words in errors[0], captured.err
    assert "Traceback" not in captured.err and not out.exists()


def test_group_column_needs_a_model_with_an_adaptation(untrained_model_dir, grouped_csv, tmp_path, capsys):
    for command in ("predict", "evaluate"):
        status, captured = run(capsys, command, "--model", untrained_model_dir, "--input", grouped_csv[0],
                               "--output", tmp_path / command, "--group-column", "movie", "--quiet")
        assert status == 2 and "no title adaptation" in captured.err, captured.err


def test_evaluate_by_title_reports_both_and_each_titles_star_mix(adapted_model_dir, grouped_csv, tmp_path, capsys):
    status, captured = run(capsys, "evaluate", "--model", adapted_model_dir, "--input", grouped_csv[0],
                           "--output", tmp_path / "report", "--group-column", "movie", "--quiet")
    assert status == 0, captured.err
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "title adaptation" in report and "title_mix.png" in report
    mix = pd.read_csv(tmp_path / "report" / "title_adaptation.csv")
    frame = grouped_csv[1].drop(index=7)
    frame = frame[frame["movie"].astype(bool)]
    biggest = frame["movie"].value_counts().index[0]
    row = mix[mix["movie"] == biggest].iloc[0]
    true = frame[frame["movie"] == biggest]["star"].value_counts(normalize=True)
    for star in range(1, 6):
        assert row["true_%d" % star] == pytest.approx(true.get(star, 0.0), abs=1e-5)
    assert sum(row["est_%d" % s] for s in range(1, 6)) == pytest.approx(1.0, abs=1e-5)
    status, captured = run(capsys, "evaluate", "--model", adapted_model_dir, "--input", grouped_csv[0],
                           "--output", tmp_path / "r2", "--group-column", "comment", "--quiet")
    assert status == 2 and "--group-column: evaluate rates groups by the title column" in captured.err
