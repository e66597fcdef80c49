"""TFDS dataset `douban_movie_short_comments` (manual download of Kaggle DMSC).

Importing this module registers the builder with TFDS:

    import kerasbert.data.tfds_douban  # noqa: F401
    ds = tfds.load("douban_movie_short_comments/random", split="train",
                   download_and_prepare_kwargs={"download_config":
                       tfds.download.DownloadConfig(manual_dir="~/dmsc")})
"""

from kerasbert import _backend  # noqa: F401
from kerasbert.data.tfds_douban.douban_movie_short_comments import (  # noqa: F401
    DoubanMovieShortComments,
    find_manual_csv,
)
