"""`prepare_douban`: read, validate, clean, segment and split a ratings CSV.

Writes train/validation/test.csv (movie, star, comment, words), stats.json
and splits.png into one folder, replaced as a whole (atomically). Used by
`kerasbert prepare`, `data_scripts/prepare_douban.py` and the TFDS builder's
rules (see `kerasbert.data.validation` for what is skipped and why).
"""

import os
import time

import numpy as np

from kerasbert.data.cleaning import segment_words
from kerasbert.data.figures import plot_splits
from kerasbert.data.splitting import check_fractions, split_frame
from kerasbert.data.validation import ReadReport, read_ratings_csv
from kerasbert.errors import DoubanFormatError, OutputError
from kerasbert.tasks import STARS
from kerasbert.utils.io import atomic_directory, atomic_write_json

__all__ = ["OUTPUT_COLUMNS", "OUTPUT_FILES", "compute_stats", "prepare_douban"]

OUTPUT_COLUMNS = ["movie", "star", "comment", "words"]
OUTPUT_FILES = ("train.csv", "validation.csv", "test.csv", "stats.json", "splits.png")


def _length_stats(lengths):
    lengths = np.asarray(lengths)
    if lengths.size == 0:
        return {"count": 0}
    return {
        "count": int(lengths.size),
        "mean": round(float(lengths.mean()), 2),
        "median": float(np.median(lengths)),
        "p90": float(np.percentile(lengths, 90)),
        "p99": float(np.percentile(lengths, 99)),
        "min": int(lengths.min()),
        "max": int(lengths.max()),
        "over_128_chars": int((lengths > 128).sum()),
        "over_512_chars": int((lengths > 512).sum()),
    }


def compute_stats(splits, report=None, extra=None):
    """The stats.json dict for {split: DataFrame}."""
    stats = {}
    if extra:
        stats.update(extra)
    total = sum(len(f) for f in splits.values())
    stats["counts"] = {name: int(len(f)) for name, f in splits.items()}
    stats["total_kept"] = int(total)
    stats["fractions_actual"] = {
        name: (round(len(f) / total, 4) if total else 0.0) for name, f in splits.items()
    }
    stats["star_distribution"] = {
        name: {str(s): int((f["star"] == s).sum()) for s in STARS} for name, f in splits.items()
    }
    stats["star_fraction"] = {
        name: {str(s): (round(float((f["star"] == s).mean()), 4) if len(f) else 0.0) for s in STARS}
        for name, f in splits.items()
    }
    stats["movies"] = {name: int(f["movie"].nunique()) for name, f in splits.items()}
    stats["top_movies"] = {
        name: {str(k): int(v) for k, v in f["movie"].value_counts().head(10).items()}
        for name, f in splits.items()
    }
    all_lengths = np.concatenate([f["comment"].str.len().to_numpy() for f in splits.values()]) if splits else []
    stats["comment_length_chars"] = _length_stats(all_lengths)
    stats["comment_length_chars_per_split"] = {
        name: _length_stats(f["comment"].str.len().to_numpy()) for name, f in splits.items()
    }
    if report is not None:
        rep = report.to_dict() if isinstance(report, ReadReport) else dict(report)
        stats["input_rows"] = rep["rows_read"]
        stats["skipped_total"] = rep["skipped_total"]
        stats["skipped"] = rep["skipped"]
        stats["skip_examples"] = rep["skip_examples"]
        stats["converted"] = rep["converted"]
        stats["convert_examples"] = rep["convert_examples"]
        stats["input_format"] = rep["format"]
        stats["input_encoding"] = rep["encoding"]
        stats["input_delimiter"] = rep["delimiter"]
        stats["warnings"] = rep["warnings"]
    return stats


def _held_out_titles(splits, shown=200):
    """Whether no title is in two splits, and the titles held out (at most `shown` per split)."""
    titles = {n: set(f["movie"]) for n, f in splits.items()}
    disjoint = not ((titles["train"] & titles["validation"]) or (titles["train"] & titles["test"])
                    or (titles["validation"] & titles["test"]))
    held_out = {n: sorted(titles[n]) if len(titles[n]) <= shown else sorted(titles[n])[:shown] + ["…"]
                for n in ("validation", "test")}
    return {"titles_disjoint": disjoint, "held_out_titles": held_out}


def _check_out_dir(out):
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise OutputError("%s: exists and is not a folder" % out)
        other = sorted(set(os.listdir(out)) - set(OUTPUT_FILES))
        if other:
            raise OutputError(
                "%s: already holds other files (%s); it is replaced as a whole, so "
                "choose an empty or new folder." % (out, ", ".join(other[:5]))
            )


def prepare_douban(
    input_path,
    out_dir,
    split="random",
    fractions=(0.8, 0.1, 0.1),
    seed=0,
    remove_punct=False,
    text_labels=True,
    encoding=None,
    jobs=1,
    progress=None,
    figure=True,
):
    """Read, clean, segment and split; write train/validation/test.csv,
    stats.json and splits.png into `out_dir` (written as a whole, atomically).

    Returns the stats dict (also in stats.json).
    """
    start = time.time()
    out_dir = os.path.abspath(os.fspath(out_dir))
    _check_out_dir(out_dir)
    frame, report = read_ratings_csv(
        input_path,
        text_labels=text_labels,
        remove_punct=remove_punct,
        encoding=encoding,
        progress=progress,
        return_report=True,
    )
    t_read = time.time() - start
    if len(frame) == 0:
        raise DoubanFormatError(
            input_path, "no valid rows left after validation.\n%s" % report.summary()
        )
    t0 = time.time()
    frame["words"] = segment_words(frame["comment"].tolist(), progress=progress, jobs=jobs)
    t_seg = time.time() - t0
    t0 = time.time()
    splits = split_frame(frame, split, fractions, seed)
    t_split = time.time() - t0
    extra = {
        "input": os.path.abspath(os.fspath(input_path)),
        "split_mode": split,
        "seed": seed,
        "fractions": list(check_fractions(fractions)),
        "remove_punctuation": bool(remove_punct),
        "text_labels_mapped": bool(text_labels),
        "columns": OUTPUT_COLUMNS,
    }
    stats = compute_stats(splits, report, extra)
    if split.replace("_", "-") == "by-movie":
        stats.update(_held_out_titles(splits))
    t0 = time.time()
    with atomic_directory(out_dir) as tmp:
        for name, part in splits.items():
            part[OUTPUT_COLUMNS].to_csv(os.path.join(tmp, name + ".csv"), index=False, encoding="utf-8")
        if figure:
            plot_splits(
                splits,
                os.path.join(tmp, "splits.png"),
                title="豆瓣短评 %s 划分（%s）" % ({"random": "随机分层", "by-movie": "按电影"}.get(split, split),
                                               os.path.basename(os.fspath(input_path))),
            )
        stats["timing_seconds"] = {
            "read_validate": round(t_read, 2),
            "segment": round(t_seg, 2),
            "split": round(t_split, 2),
            "write": round(time.time() - t0, 2),
            "total": round(time.time() - start, 2),
        }
        atomic_write_json(os.path.join(tmp, "stats.json"), stats)
    return stats
