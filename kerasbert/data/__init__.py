"""Data: one CSV reader, row validation, cleaning, splits, input pipelines, TFRecords.

Road-neutral: NumPy, pandas and `tf.data` (which Keras 3 reads on every backend).
The names load lazily, so `kerasbert.data.encoding` (tokenise, pad, batch
plans) and the readers import no TensorFlow.

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

_EXPORTS = {
    "ColumnError": "kerasbert.data.reader",
    "DoubanFormatError": "kerasbert.data.reader",
    "LabelError": "kerasbert.data.pipeline",
    "ReadReport": "kerasbert.data.validation",
    "Record": "kerasbert.data.reader",
    "STAR_TEXT_LABELS": "kerasbert.data.validation",
    "Table": "kerasbert.data.reader",
    "clean_comment": "kerasbert.data.cleaning",
    "compute_stats": "kerasbert.data.prepare",
    "dataset_from_csv": "kerasbert.data.pipeline",
    "dataset_from_encoded": "kerasbert.data.pipeline",
    "encode_labels": "kerasbert.data.encoding",
    "encode_texts": "kerasbert.data.encoding",
    "find_column": "kerasbert.data.reader",
    "load_recipe_splits": "kerasbert.data.splitting",
    "load_split_csv": "kerasbert.data.validation",
    "make_dataset": "kerasbert.data.pipeline",
    "pad_id": "kerasbert.data.encoding",
    "pad_token_ids": "kerasbert.data.encoding",
    "parse_star": "kerasbert.data.validation",
    "per_replica_to_global": "kerasbert.data.pipeline",
    "prepare_douban": "kerasbert.data.prepare",
    "read_ratings_csv": "kerasbert.data.validation",
    "read_table": "kerasbert.data.reader",
    "read_texts": "kerasbert.data.reader",
    "read_tfrecord_metadata": "kerasbert.data.tfrecords",
    "remove_punctuation": "kerasbert.data.cleaning",
    "resolve_tokenizer": "kerasbert.data.encoding",
    "row_slices": "kerasbert.data.encoding",
    "segment_words": "kerasbert.data.cleaning",
    "split_by_movie": "kerasbert.data.splitting",
    "split_frame": "kerasbert.data.splitting",
    "split_random": "kerasbert.data.splitting",
    "tfrecord_dataset": "kerasbert.data.tfrecords",
    "write_tfrecords": "kerasbert.data.tfrecords",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError("module 'kerasbert.data' has no attribute %r" % name)
    import importlib

    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
