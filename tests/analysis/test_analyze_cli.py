"""`kerasbert analyze SUBCOMMAND` on a tiny checkpoint and a tiny trained model: each writes its figures."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from kerasbert.commands import main

TEXTS = ["这部电影很好看，演员演得很好。", "剧情太无聊了，浪费时间。", "一般般，还可以。"]


@pytest.fixture(scope="module")
def tiny_trained_model(tmp_path_factory, tiny_chinese_checkpoint):
    """A trained-model folder (model.keras, tokenizer/, recipe.json) with ScalarMix and self-attentive pooling."""
    from transformers import AutoTokenizer

    from kerasbert._backend import keras
    from kerasbert.models import build_rating_model

    folder = tmp_path_factory.mktemp("tiny_run")
    model = build_rating_model(tiny_chinese_checkpoint, task="classification", mode="full", hidden_units=(8,),
                               attention_units=8, num_hops=2)
    model.save(str(folder / "model.keras"))
    AutoTokenizer.from_pretrained(tiny_chinese_checkpoint).save_pretrained(str(folder / "tokenizer"))
    (folder / "recipe.json").write_text(json.dumps({"task": "classification"}), encoding="utf-8")
    keras.backend.clear_session()
    return str(folder)


def assert_figures(out_dir, names):
    """Each named PNG exists and is not a blank canvas; report.md links it."""
    report = (out_dir / "report.md").read_text(encoding="utf-8")
    for name in names:
        image = np.asarray(Image.open(out_dir / name).convert("L"), dtype=float)
        assert image.shape[0] > 100 and image.shape[1] > 100, name
        assert image.std() > 5, f"{name} is blank"
        assert f"]({name})" in report, f"report.md does not show {name}"


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("which", ["checkpoint", "trained"])
def test_attention(which, tiny_chinese_checkpoint, tiny_trained_model, tmp_path, capsys):
    model = tiny_chinese_checkpoint if which == "checkpoint" else tiny_trained_model
    texts = TEXTS[:2] if which == "checkpoint" else TEXTS[:1]
    status, out, _ = run(capsys, "analyze", "attention", model, *[arg for text in texts for arg in ("--text", text)],
                         "--out", str(tmp_path))
    assert status == 0
    names = [f"text{i + 1}_{kind}.png" for i in range(len(texts))
             for kind in ("heads", "raw_rollout_flow", "first_and_pooled")]
    assert_figures(tmp_path, names)
    assert str(tmp_path / "report.md") in out  # prints what it wrote
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert ("self-attentive pooling weights" in report) == (which == "trained")


def test_layers_on_a_trained_model(tiny_trained_model, demo_sample_csv, tmp_path, capsys):
    status, out, _ = run(capsys, "analyze", "layers", tiny_trained_model, "--data", str(demo_sample_csv),
                         "--train-rows", "60", "--val-rows", "30", "--out", str(tmp_path))
    assert status == 0
    assert_figures(tmp_path, ["scalar_mix_weights.png", "layer_probe.png"])
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "gamma = " in report and "60 training and 30 validation comments" in report
    assert "probe accuracies" in out


def test_words(tiny_chinese_checkpoint, tmp_path, capsys):
    status, out, _ = run(capsys, "analyze", "words", tiny_chinese_checkpoint, "--text", "他打人了。",
                         "--text", "他在打电话。", "--target", "打", "--out", str(tmp_path))
    assert status == 0
    assert_figures(tmp_path, ["distances_last.png", "mds_last.png", "distances_second_to_last.png",
                              "mds_second_to_last.png"])
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "打 (1)" in report and "打 (2)" in report
    assert "left out" in report  # 2 layers: no last-4 strategies


def test_sentences(tiny_chinese_checkpoint, demo_sample_csv, tmp_path, capsys):
    argv = ["analyze", "sentences", tiny_chinese_checkpoint, "--corpus", str(demo_sample_csv), "--corpus-rows", "60",
            "--components", "8", "--out", str(tmp_path)]
    for text in TEXTS:
        argv += ["--text", text]
    status, out, _ = run(capsys, *argv)
    assert status == 0
    assert_figures(tmp_path, ["similarity_cls.png", "similarity_mean.png", "similarity_first_last_avg.png",
                              "whitening_ranking.png"])
    assert "WMD(text 1, text 2)" in out


def test_transfer_pretrained_and_fine_tuned(tiny_chinese_checkpoint, tiny_trained_model, demo_sample_csv,
                                            tmp_path, capsys):
    comments = pd.read_csv(demo_sample_csv)
    paths = []
    for name, rows in (("shop", comments.iloc[:30]), ("hotel", comments.iloc[30:60])):
        folder = tmp_path / name
        folder.mkdir()
        frame = pd.DataFrame({"label": (rows["star"] >= 4).astype(int).to_numpy(), "review": rows["comment"].to_numpy()})
        frame.loc[len(frame)] = [7, "a bad label"]  # skipped and counted
        frame.to_csv(folder / "reviews.csv", index=False)
        paths += ["--data", str(folder / "reviews.csv")]
    out_dir = tmp_path / "out"
    status, out, _ = run(capsys, "analyze", "transfer", tiny_chinese_checkpoint, "--model", tiny_trained_model,
                         *paths, "--rows", "20", "--out", str(out_dir))
    assert status == 0
    assert_figures(out_dir, ["tsne_pretrained.png", "tsne_finetuned.png"])
    report = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "(1 skipped; label_not_0_or_1: 1)" in report and "Does fine-tuning move the geometry" in report
    assert "pretrained polarity: silhouette" in out and "fine-tuned domain: silhouette" in out


def test_words_per_star(demo_sample_csv, tmp_path, capsys):
    from kerasbert.utils.figures import find_cjk_font

    status, _, _ = run(capsys, "analyze", "words-per-star", "--data", str(demo_sample_csv), "--max-rows", "400",
                       "--out", str(tmp_path))
    assert status == 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert all(f"## {star}★" in report for star in range(1, 6))
    if find_cjk_font() is not None:
        assert_figures(tmp_path, [f"wordcloud_{star}star.png" for star in range(1, 6)])


def test_user_errors_are_one_line(tmp_path, capsys, demo_sample_csv):
    status, _, err = run(capsys, "analyze", "words", str(tmp_path / "missing"), "--text", "x", "--out",
                         str(tmp_path / "out"))
    assert status == 2 and err.startswith("kerasbert: error:") and "Traceback" not in err
    empty_folder = tmp_path / "empty"
    empty_folder.mkdir()
    status, _, err = run(capsys, "analyze", "attention", str(empty_folder), "--text", "x", "--out", str(tmp_path))
    assert status == 2 and "neither a trained kerasbert model folder" in err
    status, _, err = run(capsys, "analyze", "transfer", "unused", "--data", str(demo_sample_csv), "--out",
                         str(tmp_path / "out"))
    assert status == 2 and "douban_sample.csv" in err and "no label column" in err


def test_too_little_data_gives_a_note_not_a_crash(tiny_chinese_checkpoint, tiny_trained_model, demo_sample_csv,
                                                  tmp_path, capsys):
    comments = pd.read_csv(demo_sample_csv)
    # transfer: a domain with a single positive row cannot be measured
    folder = tmp_path / "shop"
    folder.mkdir()
    pd.DataFrame({"label": [0, 0, 0, 1], "review": comments["comment"].iloc[:4]}).to_csv(folder / "r.csv", index=False)
    out_dir = tmp_path / "transfer"
    status, out, err = run(capsys, "analyze", "transfer", tiny_chinese_checkpoint, "--data", str(folder / "r.csv"),
                           "--rows", "4", "--out", str(out_dir))
    assert status == 0, err
    report = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "Geometry left out" in report and "1 positive rows; the geometry needs at least 2 of each" in report
    # layers: probe rows of a single star
    one_star = comments.head(60).assign(star=4)
    one_star.to_csv(tmp_path / "one_star.csv", index=False)
    out_dir = tmp_path / "layers"
    status, out, err = run(capsys, "analyze", "layers", tiny_trained_model, "--data", str(tmp_path / "one_star.csv"),
                           "--out", str(out_dir))
    assert status == 0, err
    assert "Layer probe left out" in (out_dir / "report.md").read_text(encoding="utf-8")


def test_a_max_length_beyond_the_positions_is_one_line(tiny_chinese_checkpoint, tmp_path, capsys):
    status, _, err = run(capsys, "analyze", "attention", tiny_chinese_checkpoint, "--text", "很好看",
                         "--max-length", "500", "--out", str(tmp_path / "out"))
    assert status == 2 and "max_length 500 is above the 128 positions of the encoder" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
