"""prepare_douban end to end on a few thousand real comments, both split modes."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

import kerasbert  # noqa: F401
from kerasbert.errors import OutputError
from kerasbert.data import load_split_csv, prepare_douban, split_by_movie

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BAD_ROWS = '美人鱼,0,零分\n美人鱼,3.5,半星\n美人鱼,,没分\n美人鱼,2,  \n美人鱼,力荐,力荐的映射\n'


@pytest.fixture(scope="module")
def sample_csv(douban_csv, tmp_path_factory):
    """Every 25th row of the shared CSV (about 3,700 rows, many titles) + 5 bad rows."""
    frame = pd.read_csv(douban_csv).iloc[::25]
    path = tmp_path_factory.mktemp("douban") / "sample.csv"
    frame.to_csv(path, index=False)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(BAD_ROWS)
    return path, frame


def _check_common(stats, out, frame):
    assert set(os.listdir(out)) == {"train.csv", "validation.csv", "test.csv", "stats.json", "splits.png"}
    assert json.loads((out / "stats.json").read_text(encoding="utf-8"))["counts"] == stats["counts"]
    assert stats["input_rows"] == len(frame) + 5
    assert stats["skipped"] == {"star_not_integer": 1, "star_out_of_range": 1, "star_missing": 1,
                                "comment_empty": 1}
    assert stats["converted"] == {"text_label": 1}
    assert sum(stats["counts"].values()) == stats["input_rows"] - stats["skipped_total"] == stats["total_kept"]
    assert (out / "splits.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    parts = {}
    for name in ("train", "validation", "test"):
        part = load_split_csv(out / (name + ".csv"), progress=False)
        assert list(part.columns) == ["movie", "star", "comment", "words"]
        assert part.attrs["report"]["skipped_total"] == 0
        assert len(part) == stats["counts"][name]
        assert not part["words"].str.contains(r"[，。！？、,.!?]", regex=True).any()
        parts[name] = part
    # Labels survive unchanged: every kept comment has its source star.
    truth = dict(zip(frame["comment"], frame["star"]))
    truth["力荐的映射"] = 5
    for part in parts.values():
        assert all(truth[c] == s for c, s in zip(part["comment"], part["star"]))
    return parts


def test_prepare_random_is_stratified(sample_csv, tmp_path):
    path, frame = sample_csv
    out = tmp_path / "random"
    stats = prepare_douban(path, out, split="random", seed=0, progress=False)
    parts = _check_common(stats, out, frame)
    n = stats["total_kept"]
    for name, frac in zip(("train", "validation", "test"), (0.8, 0.1, 0.1)):
        assert abs(len(parts[name]) / n - frac) < 0.005
    overall = pd.concat(parts.values())["star"].value_counts(normalize=True)
    for part in parts.values():
        dist = part["star"].value_counts(normalize=True)
        for star in range(1, 6):
            assert abs(dist[star] - overall[star]) < 0.01
    # Same seed, same split.
    again = prepare_douban(path, tmp_path / "again", split="random", seed=0, progress=False, figure=False)
    assert again["counts"] == stats["counts"]
    assert (tmp_path / "again" / "test.csv").read_bytes() == (out / "test.csv").read_bytes()


def test_prepare_by_movie_cli_holds_out_titles(sample_csv, tmp_path):
    path, frame = sample_csv
    out = tmp_path / "by_movie"
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "data_scripts", "prepare_douban.py"), "--input", str(path),
         "--out", str(out), "--split", "by-movie", "--quiet"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "titles disjoint across splits: True" in result.stdout
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    parts = _check_common(stats, out, frame)
    titles = {name: set(part["movie"]) for name, part in parts.items()}
    assert not titles["train"] & titles["validation"]
    assert not titles["train"] & titles["test"]
    assert not titles["validation"] & titles["test"]
    assert stats["titles_disjoint"] is True
    n = stats["total_kept"]
    assert 0.6 < len(parts["train"]) / n < 0.9
    assert len(parts["validation"]) > 0 and len(parts["test"]) > 0
    assert stats["split_mode"] == "by-movie" and stats["seed"] == 0


def test_by_movie_is_deterministic_and_gives_every_split_a_title():
    frame = pd.DataFrame({"movie": list("aabbccdd"), "star": [1] * 8, "comment": list("12345678")})
    first = split_by_movie(frame, seed=3)
    assert (first == split_by_movie(frame, seed=3)).all()
    assert set(first) == {"train", "validation", "test"}


def test_out_dir_with_foreign_files_is_refused(sample_csv, tmp_path):
    path, _ = sample_csv
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="notes.txt"):
        prepare_douban(path, out, progress=False)
    assert (out / "notes.txt").exists()
