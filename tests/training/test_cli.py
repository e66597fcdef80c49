import json

import numpy as np
import pandas as pd
import pytest

from kerasbert.commands import main
from kerasbert.training import load_model_folder, load_recipe, predict_texts, run_recipe


@pytest.fixture(scope="module")
def trained_model_dir(tiny_chinese_checkpoint, demo_sample_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    config = load_recipe("douban_classify_frozen", checkpoint=tiny_chinese_checkpoint, data=str(demo_sample_csv),
                         output_dir=str(out), trim_vocabulary=False, max_examples=64, max_eval_examples=32, epochs=1,
                         batch_size=16, max_length=32, attention_units=8, num_hops=2, strategy="default",
                         mixed_precision="float32")
    run_recipe(config)
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
    model, recipe = load_model_folder(trained_model_dir)
    direct = predict_texts(model, rated["comment"].tolist(), max_length=32)
    np.testing.assert_allclose(direct["score"], probabilities, rtol=1e-5, atol=1e-6)


def test_predict_errors_name_the_problem(trained_model_dir, tmp_path, capsys):
    source = tmp_path / "wrong.csv"
    source.write_text("id,body\n1,好看\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    assert main(["predict", "--model", trained_model_dir, "--input", str(source), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "kerasbert: error: %s: line 1: no comment column" % source in err and "Traceback" not in err
    assert not out.exists()
    assert main(["predict", "--model", str(tmp_path), "--input", str(source), "--output", str(out)]) == 2
    assert "not a trained kerasbert model folder" in capsys.readouterr().err


def test_predict_output_order_is_the_input_order(trained_model_dir, tmp_path):
    """Rows are sorted by length inside each chunk for speed; the output must not be."""
    texts = ["好" * n for n in (30, 1, 12, 5, 25, 2, 17, 9, 3, 28, 7, 14)]
    source = tmp_path / "varied.csv"
    pd.DataFrame({"id": range(len(texts)), "Comment": texts}).to_csv(source, index=False)
    outputs = {}
    for chunk_rows in (5, 1000):
        out = tmp_path / ("pred_%d.csv" % chunk_rows)
        assert main(["predict", "--model", trained_model_dir, "--input", str(source), "--out", str(out),
                     "--batch-size", "4", "--chunk-rows", str(chunk_rows), "--quiet"]) == 0
        outputs[chunk_rows] = pd.read_csv(out)
    frame = outputs[5]
    assert frame["id"].tolist() == list(range(len(texts))) and frame["Comment"].tolist() == texts
    assert frame["line"].tolist() == list(range(2, len(texts) + 2))
    probabilities = frame[["p_%d" % s for s in range(1, 6)]].to_numpy()
    np.testing.assert_allclose(outputs[1000][["p_%d" % s for s in range(1, 6)]].to_numpy(), probabilities,
                               rtol=1e-4, atol=1e-5)
    # Reference: each text alone (no padding, no sorting).
    model, recipe = load_model_folder(trained_model_dir)
    for row, text in enumerate(texts):
        alone = predict_texts(model, [text], max_length=32, batch_size=1)
        np.testing.assert_allclose(probabilities[row], alone["score"][0], rtol=1e-4, atol=1e-5)
    # predict_texts sorts by length too and gives the same rows back in order.
    batched = predict_texts(model, texts, max_length=32, batch_size=4)
    np.testing.assert_allclose(batched["score"], probabilities, rtol=1e-4, atol=1e-5)
    assert [len(tokens) for tokens in batched["tokens"]] == [min(len(t), 30) + 2 for t in texts]


def test_predict_max_length_flag_changes_truncation(trained_model_dir, tmp_path):
    source = tmp_path / "long.csv"
    source.write_text("comment\n" + "好" * 20 + "看" * 10 + "\n", encoding="utf-8")
    model, _ = load_model_folder(trained_model_dir)
    for max_length in (8, 32):
        out = tmp_path / ("p%d.csv" % max_length)
        assert main(["predict", "--model", trained_model_dir, "--input", str(source), "--output", str(out),
                     "--max-length", str(max_length), "--quiet"]) == 0
        expected = predict_texts(model, ["好" * 20 + "看" * 10], max_length=max_length)["score"][0]
        got = pd.read_csv(out)[["p_%d" % s for s in range(1, 6)]].to_numpy()[0]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_predict_failure_keeps_the_older_output(trained_model_dir, tmp_path, monkeypatch):
    """Interrupted mid-file: no half file, the earlier predictions stay."""
    import kerasbert.training.predict as predict_module

    source = tmp_path / "many.csv"
    pd.DataFrame({"comment": ["好看%d" % i for i in range(20)]}).to_csv(source, index=False)
    out = tmp_path / "predictions.csv"
    out.write_text("older predictions\n", encoding="utf-8")
    calls = []
    real = predict_module.predict_scores

    def dies_on_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(predict_module, "predict_scores", dies_on_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        main(["predict", "--model", trained_model_dir, "--input", str(source), "--output", str(out),
              "--chunk-rows", "5", "--quiet"])
    assert out.read_text(encoding="utf-8") == "older predictions\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.csv", "predictions.csv"]


def test_evaluate_writes_a_report_for_any_labelled_csv(trained_model_dir, demo_sample_csv, tmp_path):
    labelled = tmp_path / "labelled.csv"
    rows = pd.read_csv(demo_sample_csv).tail(40)
    text = rows.to_csv(index=False) + "某电影,6,星级超出范围\n"
    labelled.write_text(text, encoding="utf-8")
    out = tmp_path / "evaluation"
    assert main(["evaluate", "--model", trained_model_dir, "--input", str(labelled), "--output", str(out),
                 "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["n"] == 40  # the out-of-range row was skipped and counted
    assert metrics["extra"]["skipped_rows"] == 1
    assert (out / "report.md").exists()


def test_loss_flags_override_the_recipe():
    import argparse

    from kerasbert.commands.train import add_train_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    args = parser.parse_args(["--recipe", "douban_classify_finetune", "--label-smoothing", "0.2",
                              "--class-weight", "balanced", "--layerwise-lr-decay", "0.8", "--warmup-ratio", "0"])
    config = config_from_args(args)
    assert (config.label_smoothing, config.class_weight) == (0.2, "balanced")
    assert (config.layerwise_lr_decay, config.warmup_ratio) == (0.8, 0.0)
    assert load_recipe("douban_classify_finetune").label_smoothing == 0.0
