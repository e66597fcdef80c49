"""The quality benchmark reads a run's own predictions rather than predicting twice."""

import importlib.util
import os

import numpy as np
import pandas as pd
import pytest

from kerasbert.evaluation import write_evaluation_report

BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "bench_douban_quality.py")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_douban_quality", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scored_frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"movie": rng.choice(["活着", "霸王别姬", "英雄"], n), "star": rng.integers(1, 6, n),
                         "comment": ["评论%d" % i for i in range(n)]}, index=np.arange(100, 100 + n))


def test_report_predictions_are_the_reports_rows(bench, tmp_path):
    scored = scored_frame()
    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet(np.ones(5), len(scored))
    predicted = probabilities.argmax(axis=1) + 1
    write_evaluation_report(tmp_path, y_true=scored["star"].to_numpy(), y_pred=predicted, y_score=probabilities,
                            task="classification", texts=scored["comment"].tolist(),
                            movies=scored["movie"].tolist(), verbose=False)
    frame = bench.report_predictions(str(tmp_path / "predictions.csv"), scored, "classification", "validation")
    np.testing.assert_array_equal(frame["line"], scored.index)
    np.testing.assert_array_equal(frame["predicted_star"], predicted)
    np.testing.assert_allclose(frame["score"], probabilities.max(axis=1), rtol=1e-5)
    assert set(frame["split"]) == {"validation"}


def test_regression_report_predictions_keep_the_continuous_score(bench, tmp_path):
    scored = scored_frame()
    score = np.clip(scored["star"].to_numpy() + np.random.default_rng(2).normal(0, 0.8, len(scored)), 0.6, 5.4)
    write_evaluation_report(tmp_path, y_true=scored["star"].to_numpy(), y_pred=score, y_score=score,
                            task="regression", texts=None, verbose=False)
    frame = bench.report_predictions(str(tmp_path / "predictions.csv"), scored, "regression", "test")
    np.testing.assert_allclose(frame["score"], score, rtol=1e-5)
    np.testing.assert_array_equal(frame["predicted_star"], np.clip(np.floor(score + 0.5), 1, 5))


def test_report_of_other_rows_is_refused(bench, tmp_path):
    scored = scored_frame()
    write_evaluation_report(tmp_path, y_true=scored["star"].to_numpy()[:-1], y_pred=scored["star"].to_numpy()[:-1],
                            task="classification", texts=None, verbose=False)
    with pytest.raises(SystemExit, match="does not hold the 40 scored rows"):
        bench.report_predictions(str(tmp_path / "predictions.csv"), scored, "classification", "test")


def test_tag_names_a_variant(bench, capsys):
    assert bench.method_name("douban_classify_finetune", "top2") == "douban_classify_finetune+top2"
    assert bench.method_name("recipes/mine.json") == "mine"
    with pytest.raises(SystemExit):
        bench.main(["--tag", "a/b", "--methods", "tfidf"])
    assert "--tag: letters, digits" in capsys.readouterr().err


def test_expected_star_is_scored_as_a_regressor_against_ridge(bench):
    scored = scored_frame(n=60)
    rng = np.random.default_rng(3)
    probabilities = rng.dirichlet(np.ones(5), len(scored))
    classifier = bench.prediction_frame(scored, probabilities.argmax(axis=1) + 1, probabilities.max(axis=1),
                                        "classification", "test", probabilities)
    ridge_score = np.clip(scored["star"].to_numpy() + rng.normal(0, 1, len(scored)), 1, 5)
    ridge = bench.prediction_frame(scored, np.clip(np.floor(ridge_score + 0.5), 1, 5), ridge_score, "regression",
                                   "test")
    results, _ = bench.score_methods({bench.TFIDF_LR: classifier, bench.TFIDF_RIDGE: ridge}, cap_per_title=500,
                                     n_boot=20, seed=0)
    derived = results[bench.TFIDF_LR + bench.EXPECTED_SUFFIX]
    expected = probabilities @ np.arange(1, 6)
    assert derived["task"] == "regression"
    assert derived["scores"]["rows"]["mae"]["value"] == pytest.approx(np.mean(np.abs(expected - scored["star"])))
    assert derived["difference"]["reference"] == bench.TFIDF_RIDGE


def test_star_probabilities_place_each_class_in_its_column(bench):
    class Classifier:
        classes_ = np.array([1, 3, 5])

    full = bench.star_probabilities(Classifier(), np.array([[0.2, 0.3, 0.5]]))
    np.testing.assert_allclose(full, [[0.2, 0.0, 0.3, 0.0, 0.5]])


def test_frozen_blocks_dropout_ablation_turns_dropout_back_on_below_the_split(bench, tiny_bert_config, monkeypatch):
    from kerasbert.layers import TransformerEncoder, transformer_encoder

    ids = np.array([[2, 5, 7, 9, 3, 0]] * 4, dtype="int32")
    x = {"input_ids": ids, "attention_mask": (ids > 0).astype("int32")}

    def bottom_block_varies(encoder):
        a = encoder(x, training=True)["hidden_states"][1].numpy()
        b = encoder(x, training=True)["hidden_states"][1].numpy()
        return not np.allclose(a, b)

    assert not bottom_block_varies(TransformerEncoder(tiny_bert_config, mode="top_k", top_k=1))
    monkeypatch.setattr(transformer_encoder, "_run_in_inference_mode", transformer_encoder._run_in_inference_mode)
    bench.allow_dropout_in_frozen_blocks()
    encoder = TransformerEncoder(tiny_bert_config, mode="top_k", top_k=1)
    assert bottom_block_varies(encoder)
    assert {id(w) for w in encoder.trainable_weights} == {id(w) for w in encoder.transformer_blocks()[1].weights}
