"""Deprecated location: the Douban reader was split by concept (reader,
validation, cleaning, splitting, prepare). Import from `kerasbert.data`."""

from kerasbert.data import *  # noqa: F401,F403
from kerasbert.data import (  # noqa: F401
    ColumnError,
    DoubanFormatError,
    ReadReport,
    STAR_TEXT_LABELS,
    load_split_csv,
    parse_star,
    prepare_douban,
    read_ratings_csv,
    segment_words,
    split_by_movie,
    split_frame,
)
