"""Data: one CSV reader, row validation, cleaning, splits, input pipelines, TFRecords.

Road-neutral: NumPy, pandas and `tf.data` (which Keras 3 reads on every backend).

* `read_table`, `read_texts`, `find_column` (kerasbert.data.reader): every CSV the package reads
* `read_ratings_csv`, `load_split_csv`, `ReadReport` (kerasbert.data.validation)
* `clean_comment`, `segment_words` (kerasbert.data.cleaning)
* `split_frame`, `load_recipe_splits` (kerasbert.data.splitting)
* `prepare_douban` (kerasbert.data.prepare)
* `encode_texts`, `pad_token_ids`, `pad_id`: the one tokenise-and-pad rule;
  `make_dataset`, `dataset_from_csv` (kerasbert.data.pipeline)
* `write_tfrecords`, `tfrecord_dataset` (kerasbert.data.tfrecords)
* TFDS builder `douban_movie_short_comments` (kerasbert.data.tfds_douban)
"""

from kerasbert.data.cleaning import clean_comment, remove_punctuation, segment_words  # noqa: F401
from kerasbert.data.pipeline import (  # noqa: F401
    LabelError,
    dataset_from_csv,
    dataset_from_encoded,
    encode_labels,
    encode_texts,
    make_dataset,
    pad_id,
    pad_token_ids,
    per_replica_to_global,
    resolve_tokenizer,
    row_slices,
)
from kerasbert.data.prepare import compute_stats, prepare_douban  # noqa: F401
from kerasbert.data.reader import (  # noqa: F401
    ColumnError,
    DoubanFormatError,
    Record,
    Table,
    find_column,
    read_table,
    read_texts,
)
from kerasbert.data.splitting import load_recipe_splits, split_by_movie, split_frame, split_random  # noqa: F401
from kerasbert.data.tfrecords import read_tfrecord_metadata, tfrecord_dataset, write_tfrecords  # noqa: F401
from kerasbert.data.validation import (  # noqa: F401
    STAR_TEXT_LABELS,
    ReadReport,
    load_split_csv,
    parse_star,
    read_ratings_csv,
)
