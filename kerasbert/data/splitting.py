"""Train/validation/test splits: stratified random, or whole titles held out."""

import logging
import os

import numpy as np

from kerasbert.data.validation import load_split_csv, read_ratings_csv
from kerasbert.errors import InputError, KerasbertError

__all__ = ["SPLIT_NAMES", "load_recipe_splits", "split_by_movie", "split_frame", "split_random"]

logger = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "validation", "test")


def check_fractions(fractions):
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise KerasbertError("fractions must be three non-negative numbers summing to 1, got %r" % (fractions,))
    if fractions[0] <= 0:
        raise KerasbertError("the train fraction must be > 0, got %r" % (fractions,))
    return fractions


def split_random(frame, fractions=(0.8, 0.1, 0.1), seed=0):
    """Stratified (by star) random split: returns an array of split names."""
    from sklearn.model_selection import train_test_split

    fractions = check_fractions(fractions)
    n = len(frame)
    labels = frame["star"].to_numpy()
    positions = np.arange(n)
    assign = np.empty(n, dtype=object)
    assign[:] = "train"
    rest_fraction = fractions[1] + fractions[2]
    if n == 0 or rest_fraction == 0:
        return assign

    def _split(idx, test_size, strat):
        try:
            return train_test_split(idx, test_size=test_size, random_state=seed, stratify=strat)
        except ValueError:  # a class too small to stratify, or too few rows
            logger.warning("stratified split impossible here (too few rows per star); splitting unstratified")
            return train_test_split(idx, test_size=test_size, random_state=seed)

    n_rest = int(round(n * rest_fraction))
    if n_rest == 0:
        return assign
    if n_rest >= n:
        train_idx, rest_idx = positions[:0], positions
    else:
        train_idx, rest_idx = _split(positions, n_rest, labels)
    n_test = int(round(n * fractions[2]))
    n_test = min(n_test, len(rest_idx))
    if n_test == 0:
        val_idx, test_idx = rest_idx, rest_idx[:0]
    elif n_test == len(rest_idx):
        val_idx, test_idx = rest_idx[:0], rest_idx
    else:
        val_idx, test_idx = _split(rest_idx, n_test, labels[rest_idx])
    assign[val_idx] = "validation"
    assign[test_idx] = "test"
    return assign


def split_by_movie(frame, fractions=(0.8, 0.1, 0.1), seed=0):
    """Hold out whole titles: returns an array of split names.

    Deterministic greedy assignment: titles in descending size (ties in a
    seeded random order) each go to the split furthest below its target row
    count, so each split gets roughly its fraction of rows and no title is
    in two splits. Every split with a fraction > 0 gets at least one title
    when there are enough titles.
    """
    fractions = check_fractions(fractions)
    sizes = frame["movie"].value_counts()
    rng = np.random.RandomState(seed)
    titles = list(sizes.index)
    order = rng.permutation(len(titles))
    titles = [titles[i] for i in order]
    titles.sort(key=lambda t: -int(sizes[t]))  # stable: ties keep the seeded order
    total = len(frame)
    targets = np.array(fractions) * total
    current = np.zeros(3)
    mapping = {}
    wanted = np.array(fractions) > 0
    for position, title in enumerate(titles):
        deficit = targets - current
        deficit[~wanted] = -np.inf
        empty = wanted & (current == 0)
        if empty.any() and len(titles) - position <= int(empty.sum()):
            # As many titles left as empty splits: give each split at least one title.
            deficit[~empty] = -np.inf
        k = int(np.argmax(deficit))
        mapping[title] = SPLIT_NAMES[k]
        current[k] += sizes[title]
    return frame["movie"].map(mapping).to_numpy(dtype=object)


def split_frame(frame, mode="random", fractions=(0.8, 0.1, 0.1), seed=0):
    """{split name: DataFrame} for mode "random" or "by-movie"."""
    mode = mode.replace("_", "-")
    if mode == "random":
        assign = split_random(frame, fractions, seed)
    elif mode == "by-movie":
        assign = split_by_movie(frame, fractions, seed)
    else:
        raise KerasbertError("split mode must be 'random' or 'by-movie', got %r" % mode)
    return {name: frame[assign == name] for name in SPLIT_NAMES}


def _file_system(path):
    """`tf.io.gfile` for URLs (`gs://...`), else `os.path`: local data needs no TensorFlow (the Keras 3 road)."""
    if "://" in path:
        from kerasbert._backend import tf

        return tf.io.gfile
    return os.path


def load_recipe_splits(data, split="by-movie", seed=0, verbose=True):
    """{train, validation, test: DataFrame} for a recipe's `data`.

    `data` is a prepared folder with train/validation/test.csv, or one
    ratings CSV split here by `split` ("by-movie" or "random") with `seed`.
    Local paths and `gs://` URLs are read directly (no local copy). Skipped
    rows are summarised in the log (logger `kerasbert.data.splitting`) when `verbose`.
    """
    if not data:
        raise KerasbertError("no training data: `data` is empty (give a ratings CSV or a prepared folder)")
    data = str(data)
    files = _file_system(data)
    if files.isdir(data):
        paths = {name: files.join(data, name + ".csv") for name in SPLIT_NAMES}
        missing = [path for path in paths.values() if not files.exists(path)]
        if missing:
            raise InputError(data, "a folder without %s; run `kerasbert prepare` first"
                             % ", ".join(os.path.basename(path) for path in missing))
        splits = {}
        for name, path in paths.items():
            splits[name], report = load_split_csv(path, progress=False, return_report=True)
            _log_skips(report, verbose)
    else:
        frame, report = read_ratings_csv(data, progress=False, return_report=True)
        _log_skips(report, verbose)
        splits = split_frame(frame, mode=split, seed=seed)
    for name in SPLIT_NAMES:
        if len(splits[name]) == 0:
            raise InputError(data, "split %r is empty; use more data or the random split" % name)
    return splits


def _log_skips(report, verbose):
    if verbose and report.skipped_total:
        logger.info(report.summary())
