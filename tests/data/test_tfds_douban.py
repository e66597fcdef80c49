"""TFDS builder `douban_movie_short_comments` on the tiny DMSC fixture (dummy_data/DMSC.csv)."""

import kerasbert  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)

import pytest

tfds = pytest.importorskip("tensorflow_datasets")
pytest.importorskip("dill")  # tfds.testing needs it

from tensorflow_datasets import testing as tfds_testing  # noqa: E402

from kerasbert.data.tfds_douban import DoubanMovieShortComments  # noqa: E402


class DoubanRandomTest(tfds_testing.DatasetBuilderTestCase):
    """46 fixture rows: 3 skipped (star 0, blank comment, duplicate), 43 kept."""

    DATASET_CLASS = DoubanMovieShortComments
    BUILDER_CONFIG_NAMES_TO_TEST = ["random"]
    SPLITS = {"train": 34, "validation": 5, "test": 4}


class DoubanByMovieTest(tfds_testing.DatasetBuilderTestCase):
    DATASET_CLASS = DoubanMovieShortComments
    BUILDER_CONFIG_NAMES_TO_TEST = ["by_movie"]
    SPLITS = {"train": 29, "validation": 7, "test": 7}


def test_by_movie_titles_disjoint_and_labels(tmp_path):
    from tensorflow_datasets.core import download

    from kerasbert.data import read_ratings_csv

    builder = DoubanMovieShortComments(config="by_movie", data_dir=str(tmp_path))
    manual = DoubanMovieShortComments.code_path.parent / "dummy_data"
    builder.download_and_prepare(download_config=download.DownloadConfig(manual_dir=str(manual)))
    source = read_ratings_csv(manual / "DMSC.csv", progress=False)
    truth = dict(zip(source["comment"], source["star"]))
    titles = {}
    for split in ("train", "validation", "test"):
        rows = list(tfds.as_numpy(builder.as_dataset(split=split)))
        titles[split] = {r["movie"].decode() for r in rows}
        for r in rows:
            comment = r["comment"].decode()
            assert int(r["star"]) == truth[comment] - 1  # ClassLabel index = star - 1
    assert not titles["train"] & titles["validation"]
    assert not titles["train"] & titles["test"]
    assert not titles["validation"] & titles["test"]
    assert "第一行 第二行：带换行的短评" in truth  # the quoted newline is one row
    assert builder.info.features["star"].int2str(4) == "5"


def test_missing_manual_file_names_kaggle(tmp_path):
    from kerasbert.data.tfds_douban import find_manual_csv

    with pytest.raises(FileNotFoundError, match="kaggle.com/datasets/utmhikari"):
        find_manual_csv(tmp_path)
