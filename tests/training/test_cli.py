import json

import numpy as np
import pandas as pd
import pytest

from kerasbert.cli import main
from kerasbert.training import load_recipe, load_trained_model, predict_texts, run_recipe


@pytest.fixture(scope="module")
def trained_model_dir(tiny_chinese_checkpoint, demo_sample_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    config = load_recipe("douban_classify_frozen", checkpoint=tiny_chinese_checkpoint, data=str(demo_sample_csv),
                         output_dir=str(out), trim_vocabulary=False, max_examples=64, max_eval_examples=32, epochs=1,
                         batch_size=16, max_length=32, attention_units=8, num_hops=2, strategy="default",
                         mixed_precision="float32")
    run_recipe(config, verbose=False)
    return str(out)


def test_predict_rates_every_row_and_reports_bad_ones(trained_model_dir, tmp_path, capsys):
    source = tmp_path / "new_comments.csv"
    source.write_text(
        "id,comment\n"
        "1,这部电影太好看了，演员演技在线\n"
        "2,\n"  # empty comment
        '3,"剧情拖沓,\n看睡着了"\n'  # quoted newline: one row
        "4,太难看了,extra\n"  # malformed: 3 fields
        "5,   \n"  # whitespace only
        "6,還行吧 not bad 😀\n",
        encoding="utf-8",
    )
    out = tmp_path / "predictions.csv"
    assert main(["predict", "--model", trained_model_dir, "--input", str(source), "--output", str(out), "--quiet"]) == 0
    frame = pd.read_csv(out)
    assert frame["id"].tolist() == [1, 2, 3, 4, 5, 6]  # nothing dropped, order kept
    statuses = dict(zip(frame["id"], frame["status"]))
    assert statuses[1] == statuses[3] == statuses[6] == "ok"
    assert statuses[2] == statuses[5] == "empty comment"
    assert statuses[4].startswith("malformed row: 3 fields")
    rated = frame[frame["status"] == "ok"]
    assert rated["predicted_star"].between(1, 5).all() and frame.loc[frame["status"] != "ok", "predicted_star"].isna().all()
    probabilities = rated[["p_%d" % s for s in range(1, 6)]].to_numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(probabilities.argmax(axis=1) + 1, rated["predicted_star"].to_numpy())
    # The same numbers as calling the model directly.
    model, tokenizer, recipe = load_trained_model(trained_model_dir)
    direct = predict_texts(model, tokenizer, rated["comment"].tolist(), "classification", max_length=32, verbose=False)
    np.testing.assert_allclose(direct["score"], probabilities, rtol=1e-5, atol=1e-6)


def test_predict_errors_name_the_problem(trained_model_dir, tmp_path, capsys):
    source = tmp_path / "wrong.csv"
    source.write_text("id,text\n1,好看\n", encoding="utf-8")
    with pytest.raises(ValueError, match="wrong.csv: no column 'comment'"):
        main(["predict", "--model", trained_model_dir, "--input", str(source), "--output", str(tmp_path / "o.csv")])
    assert not (tmp_path / "o.csv").exists()
    with pytest.raises(FileNotFoundError, match="not a trained kerasbert model folder"):
        main(["predict", "--model", str(tmp_path), "--input", str(source), "--output", str(tmp_path / "o.csv")])


def test_evaluate_writes_a_report_for_any_labelled_csv(trained_model_dir, demo_sample_csv, tmp_path):
    labelled = tmp_path / "labelled.csv"
    rows = pd.read_csv(demo_sample_csv).tail(40)
    text = rows.to_csv(index=False) + "某电影,6,星级超出范围\n"
    labelled.write_text(text, encoding="utf-8")
    out = tmp_path / "evaluation"
    assert main(["evaluate", "--model", trained_model_dir, "--input", str(labelled), "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["n"] == 40  # the out-of-range row was skipped and counted
    assert metrics["extra"]["skipped_rows"] == 1
    assert (out / "report.md").exists()
