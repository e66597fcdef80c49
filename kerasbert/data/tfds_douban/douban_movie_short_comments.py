"""TFDS builder for Douban Movie Short Comments (DMSC), built from a manual download.

Features:
  * `comment`: tfds Text, whitespace-normalised, punctuation kept.
  * `star`: ClassLabel with names "1".."5": the stored int is **star - 1**
    (0-4), the same encoding as `kerasbert.data.make_dataset` uses for
    classification; `info.features["star"].int2str(i)` gives the rating.
  * `movie`: tfds Text, the Chinese title (Movie_Name_CN).

Configs: `random` (stratified by star, 80/10/10, seed 0; default) and
`by_movie` (whole titles held out, 80/10/10 of rows, seed 0). Validation,
de-duplication and splitting are `kerasbert.data`'s (the same as
`data_scripts/prepare_douban.py`); skipped rows are logged.
"""

import logging

import tensorflow_datasets as tfds
from etils import epath

from kerasbert.data.splitting import split_frame
from kerasbert.data.validation import read_ratings_csv

_KAGGLE_URL = "https://www.kaggle.com/datasets/utmhikari/doubanmovieshortcomments"
_CSV_NAMES = ("DMSC.csv", "dmsc.csv", "douban_comments.csv")

logger = logging.getLogger(__name__)


def find_manual_csv(manual_dir):
    """The CSV in the manual folder: DMSC.csv, douban_comments.csv or a single *.csv."""
    manual_dir = epath.Path(manual_dir)
    for name in _CSV_NAMES:
        if (manual_dir / name).exists():
            return manual_dir / name
    found = sorted(manual_dir.glob("*.csv")) if manual_dir.exists() else []
    if len(found) == 1:
        return found[0]
    raise FileNotFoundError(
        "No Douban CSV in the manual folder %s (found %s). Put DMSC.csv there:\n%s"
        % (manual_dir, [p.name for p in found] or "nothing", DoubanMovieShortComments.MANUAL_DOWNLOAD_INSTRUCTIONS)
    )


class DoubanConfig(tfds.core.BuilderConfig):
    """Split mode and fractions."""

    def __init__(self, *, split_mode="random", fractions=(0.8, 0.1, 0.1), seed=0, **kwargs):
        super().__init__(**kwargs)
        self.split_mode = split_mode
        self.fractions = tuple(fractions)
        self.seed = seed


class DoubanMovieShortComments(tfds.core.GeneratorBasedBuilder):
    """Douban movie short comments with 1-5 star ratings (DMSC)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: random and by-movie splits."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
    Download the Kaggle dataset "Douban Movie Short Comments" (DMSC) from
    %s
    (`kaggle datasets download -d utmhikari/doubanmovieshortcomments`), unzip
    it and place `DMSC.csv` in the manual folder (default
    ~/tensorflow_datasets/downloads/manual/). A simple UTF-8 CSV with
    columns movie,star,comment (e.g. douban_comments.csv) is accepted too.
    """ % _KAGGLE_URL

    BUILDER_CONFIGS = [
        DoubanConfig(name="random", split_mode="random",
                     description="Random 80/10/10 split, stratified by star (seed 0)."),
        DoubanConfig(name="by_movie", split_mode="by-movie",
                     description="Whole titles held out: 80/10/10 of rows, no title in two splits."),
    ]
    DEFAULT_BUILDER_CONFIG_NAME = "random"

    def _info(self):
        return self.dataset_info_from_configs(
            description=(
                "Douban (豆瓣) movie short comments with the user's 1-5 star rating, from the "
                "Kaggle DMSC dataset (28 films, ~2.1M comments). Cleaned (whitespace "
                "normalised, invalid ratings and empty comments skipped, duplicate comments "
                "removed) and split into train/validation/test. `star` is a ClassLabel: "
                "stored value = rating - 1."
            ),
            features=tfds.features.FeaturesDict({
                "comment": tfds.features.Text(),
                "star": tfds.features.ClassLabel(names=["1", "2", "3", "4", "5"]),
                "movie": tfds.features.Text(),
            }),
            supervised_keys=("comment", "star"),
            homepage=_KAGGLE_URL,
        )

    def _split_generators(self, dl_manager):
        path = find_manual_csv(dl_manager.manual_dir)
        frame, report = read_ratings_csv(path, progress=False, return_report=True)
        logger.info("%s", report.summary())
        config = self.builder_config
        splits = split_frame(frame, config.split_mode, config.fractions, config.seed)
        return {name: self._generate_examples(part) for name, part in splits.items()}

    def _generate_examples(self, part):
        for line, movie, star, comment in zip(part.index, part["movie"], part["star"], part["comment"]):
            # Key: the source line number (unique within the file).
            yield int(line), {"comment": comment, "star": str(int(star)), "movie": movie}
