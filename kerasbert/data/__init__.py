"""Data: Douban ratings CSVs (reading, cleaning, splits), input pipelines, TFRecords.

* `read_ratings_csv`, `load_split_csv`, `prepare_douban` (kerasbert.data.douban)
* `make_dataset`, `dataset_from_csv`, `per_replica_to_global` (kerasbert.data.pipeline)
* `write_tfrecords`, `tfrecord_dataset` (kerasbert.data.tfrecords)
* TFDS builder `douban_movie_short_comments` (kerasbert.data.tfds_douban)
"""

from kerasbert import _backend  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
from kerasbert.data.douban import (  # noqa: F401
    ColumnError,
    DoubanFormatError,
    ReadReport,
    STAR_TEXT_LABELS,
    load_split_csv,
    parse_star,
    prepare_douban,
    read_ratings_csv,
    segment_words,
    split_frame,
)
from kerasbert.data.pipeline import (  # noqa: F401
    LabelError,
    dataset_from_csv,
    encode_labels,
    encode_texts,
    make_dataset,
    per_replica_to_global,
    resolve_tokenizer,
)
from kerasbert.data.tfrecords import read_tfrecord_metadata, tfrecord_dataset, write_tfrecords  # noqa: F401
