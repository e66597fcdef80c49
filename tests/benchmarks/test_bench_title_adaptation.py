"""The ablation benchmark runs end to end on a small by-movie split and keeps its choices to validation."""

import importlib.util
import json
import os

import pandas as pd

from kerasbert.data import split_frame

BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "bench_title_adaptation.py")


def test_the_ablation_scores_tfidf_alone_and_adapted_on_test_titles(demo_sample_csv, tmp_path):
    spec = importlib.util.spec_from_file_location("bench_title_adaptation", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    frame = pd.read_csv(demo_sample_csv)
    splits = split_frame(frame, mode="by-movie", seed=0)
    (tmp_path / "data").mkdir()
    for name, part in splits.items():
        part[["movie", "star", "comment"]].to_csv(tmp_path / "data" / ("%s.csv" % name), index=False)
    out = tmp_path / "out"
    bench.main(["--folder", str(tmp_path), "--out", str(out), "--n-boot", "50"])
    results = json.loads((out / "ablation.json").read_text())
    assert {"tfidf", "tfidf+adapt", "tfidf_ridge", "tfidf_ridge+adapt"} <= set(results["results"])
    difference = results["results"]["tfidf+adapt"]["differences"]["tfidf"]["capped"]["accuracy"]
    alone = results["results"]["tfidf"]["scores"]["capped"]["accuracy"]["value"]
    adapted = results["results"]["tfidf+adapt"]["scores"]["capped"]["accuracy"]["value"]
    assert abs(difference["value"] - (adapted - alone)) < 1e-9
    predictions = pd.read_csv(out / "predictions_tfidf+adapt.csv")
    assert len(predictions) == len(splits["test"]) and set(predictions["movie"]) == set(splits["test"]["movie"])
    assert "chosen" in results["notes"]["tfidf+adapt"] and "## capped" in (out / "ablation.md").read_text()
