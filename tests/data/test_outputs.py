"""Outputs: the modes a plain write gives (umask respected), and recipe splits."""

import logging
import os
import stat

import pytest

from kerasbert.data import load_recipe_splits, prepare_douban
from kerasbert.errors import InputError
from kerasbert.utils.io import atomic_directory, atomic_output_file, atomic_write_json

ROWS = "".join("电影%d,%d,第%d条评论很%s\n" % (i % 7, i % 5 + 1, i, "好" * (i % 3 + 1)) for i in range(60))


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o022, 0o077, 0o002])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_atomic_writes_get_the_modes_of_a_plain_write(tmp_path, umask):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    plain_dir = tmp_path / "plain_dir"
    plain_dir.mkdir()
    atomic_write_json(str(tmp_path / "a.json"), {"a": 1})
    with atomic_output_file(str(tmp_path / "b.csv"), suffix=".csv") as tmp:
        with open(tmp, "w") as handle:
            handle.write("x\n")
    with atomic_directory(str(tmp_path / "folder")) as tmp:
        with open(os.path.join(tmp, "c.txt"), "w") as handle:
            handle.write("x")
    assert mode(tmp_path / "a.json") == mode(tmp_path / "b.csv") == mode(plain) == 0o666 & ~umask
    assert mode(tmp_path / "folder") == mode(plain_dir) == 0o777 & ~umask
    assert mode(tmp_path / "folder" / "c.txt") == mode(plain)


def test_prepare_outputs_are_readable_like_any_file(tmp_path, umask):
    source = tmp_path / "ratings.csv"
    source.write_text("movie,star,comment\n" + ROWS, encoding="utf-8")
    out = tmp_path / "prepared"
    prepare_douban(source, out, progress=False, figure=False)
    for name in ("train.csv", "validation.csv", "test.csv", "stats.json"):
        assert mode(out / name) == 0o666 & ~umask, name
    assert mode(out) == 0o777 & ~umask


def test_load_recipe_splits_from_a_csv_and_from_a_prepared_folder(tmp_path, caplog):
    source = tmp_path / "ratings.csv"
    source.write_text("movie;star;comment\n" + ROWS.replace(",", ";") + "电影1;9;坏星级\n", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="kerasbert"):
        splits = load_recipe_splits(str(source), split="random", seed=3)
    assert sorted(splits) == ["test", "train", "validation"]
    assert sum(len(f) for f in splits.values()) == 60
    assert "star_out_of_range" in caplog.text  # the one skipped row is reported in the log
    prepared = tmp_path / "prepared"
    prepare_douban(source, prepared, split="random", seed=3, progress=False, figure=False)
    again = load_recipe_splits(str(prepared))
    assert {name: len(f) for name, f in again.items()} == {name: len(f) for name, f in splits.items()}
    assert set(again["test"]["comment"]) == set(splits["test"]["comment"])


def test_load_recipe_splits_errors_name_the_data(tmp_path):
    (tmp_path / "train.csv").write_text("movie,star,comment\n")
    with pytest.raises(InputError, match="validation.csv, test.csv; run `kerasbert prepare`"):
        load_recipe_splits(str(tmp_path))
    with pytest.raises(InputError, match="no such file"):
        load_recipe_splits(str(tmp_path / "none.csv"))
