"""`kerasbert predict`: star predictions for every row of any CSV, streamed.

The input is read with `kerasbert.data.read_table` (any encoding, delimiter
and layout the package reads; a path or a binary stream such as standard
input, which the reader copies to a temporary file when it cannot seek) in
chunks of `chunk_rows` records; each chunk is predicted in batches of
similar token length (sorted within the chunk, so padding is minimal) and
written in the input order. Memory stays flat
however long the file is. The output appears only when complete (written
to a temporary sibling and renamed), so an interrupted run leaves an older
output intact.

Rows are never dropped: a malformed row, an undecodable line, a field too
long or an empty text (nothing visible, `kerasbert.data.cleaning.has_text`)
keeps its place with an explanatory `status` and no prediction.

With `group_column` (for Douban files, `movie`), each group's rows are rated
together with the model's title adaptation (`kerasbert.title_adaptation`),
which needs every row of a group first: the rows go to a temporary spool
file as they are read, and only the outputs (5 probabilities or 1 score,
float32) and a group number (int32) per row stay in memory, 24 bytes a row
for a classifier, plus one entry per distinct group. The output then holds
the adapted prediction (`predicted_star`, `p_1`..`p_5` or `score`) beside
the unadapted one (`unadapted_star`, `unadapted_p_1`..), and `group_rows`.
A row without a group value, or alone in its group, is rated alone.
"""

import collections
import contextlib
import csv
import os
import tempfile
import time

import numpy as np

from tqdm.auto import tqdm

from kerasbert.data.cleaning import has_text
from kerasbert.data.reader import read_table
from kerasbert.errors import ArgumentError
from kerasbert.training.roads import load_model_folder, predict_scores
from kerasbert.tasks import STARS, stars_from_outputs
from kerasbert.utils.io import atomic_output_file

__all__ = ["STATUS_OK", "iter_row_chunks", "predict_csv"]

STATUS_OK = "ok"
DEFAULT_CHUNK_ROWS = 8192
MAX_BAD_EXAMPLES = 20


def _record_status(record, n_columns, text_index, text_name):
    """(values padded/cut to the header, status) for one `Record`."""
    if record.fields is None:
        reason, detail = record.problem
        return [""] * n_columns, "%s: %s" % (reason.replace("_", " "), detail)
    fields = record.fields
    values = (fields + [""] * n_columns)[:n_columns]
    if len(fields) != n_columns:
        return values, "malformed row: %d fields, the header has %d" % (len(fields), n_columns)
    if not has_text(fields[text_index]):
        return values, "empty %s" % text_name
    return values, STATUS_OK


def iter_row_chunks(table, text_index, chunk_rows=DEFAULT_CHUNK_ROWS):
    """Yield lists of (line, values, status) of at most `chunk_rows` records of an open `Table`."""
    n_columns = len(table.header)
    text_name = table.header[text_index]
    chunk = []
    for record in table:
        values, status = _record_status(record, n_columns, text_index, text_name)
        chunk.append((record.line, values, status))
        if len(chunk) >= chunk_rows:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _prediction_columns(task, prefix=""):
    return [prefix + name for name in ["predicted_star" if not prefix else "star"]
            + (["p_%d" % star for star in STARS] if task == "classification" else ["score"])]


def _prediction_values(task, scores):
    """Per row: [star, p_1..p_5] or [star, score] as strings."""
    scores = np.asarray(scores)
    stars = stars_from_outputs(scores, task)
    if task == "classification":
        return [[str(int(star))] + ["%.6g" % p for p in row] for star, row in zip(stars, scores)]
    return [[str(int(star)), "%.6g" % value] for star, value in zip(stars, scores.reshape(-1))]


def predict_csv(model_dir, input_path, column=None, output_path=None, batch_size=32, max_length=None,
                chunk_rows=DEFAULT_CHUNK_ROWS, verbose=True, model=None, group_column=None):
    """Write `output_path` (CSV): `line`, the input columns, `status`, the prediction.

    Args:
        model_dir: a folder written by `kerasbert train` (ignored when `model` is given).
        input_path: any CSV `kerasbert.data.read_table` reads: a path, a URL or a binary
            stream (e.g. `sys.stdin.buffer`; closed when read).
        column: the text column (case-insensitive; default: the layout's comment column).
        output_path: the CSV to write, published only when complete.
        batch_size, max_length: inference settings (`max_length` defaults to the model's).
        chunk_rows: rows read, predicted and written at a time.
        verbose: a progress bar (rows) on stderr.
        model: an already loaded `RatingModel`.
        group_column: rate the rows of each value of this column together
            (the model's title adaptation); the output keeps the unadapted
            prediction beside the adapted one.

    Returns:
        A summary dict: `rows`, `rated`, `not_rated`, `statuses` (counts),
        `bad_examples` (the first (line, status) pairs), `seconds`; with
        `group_column`, also `groups` and `adapted_rows`.
    """
    model = model or load_model_folder(model_dir)[0]
    if group_column is not None and model.adaptation is None:
        raise ArgumentError("group_column", "%s has no title adaptation to rate groups with (trained with "
                                            "title_adaptation off, or before it existed)" % (model_dir or "the model"))
    started = time.time()
    statuses = collections.Counter()
    bad_examples = []
    rows = 0
    with read_table(input_path) as table, tqdm(desc="predict", unit=" rows", disable=not verbose) as bar:
        text_index = table.column(column)
        group_index = None if group_column is None else table.column(group_column)
        if group_index is not None and group_index == text_index:
            raise ArgumentError("group_column", "%s: the group column %r is the text column" % (table.path,
                                                                                            group_column))
        columns = _prediction_columns(model.task)
        grouped = _GroupedOutputs(model.task) if group_index is not None else None
        with atomic_output_file(output_path, suffix=".csv") as tmp, contextlib.ExitStack() as stack:
            spool = stack.enter_context(tempfile.TemporaryFile(  # rows wait here for their group's prediction
                "w+", encoding="utf-8", newline="", dir=os.path.dirname(os.path.abspath(tmp)))) if grouped else None
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(spool if grouped else handle)
                if not grouped:
                    writer.writerow(["line"] + table.header + ["status"] + columns)
                blank = [""] * len(columns)
                for chunk in iter_row_chunks(table, text_index, chunk_rows):
                    good = [i for i, (_, _, status) in enumerate(chunk) if status == STATUS_OK]
                    scores = predict_scores(model, [chunk[i][1][text_index] for i in good],
                                            batch_size=batch_size, max_length=max_length)
                    if grouped:
                        grouped.add(scores, [chunk[i][1][group_index] for i in good])
                        predicted = {}
                    else:
                        predicted = dict(zip(good, _prediction_values(model.task, scores))) if good else {}
                    for i, (line, values, status) in enumerate(chunk):  # grouped: predictions come later
                        writer.writerow([line] + values + [status] + ([] if grouped else predicted.get(i, blank)))
                        statuses["ok" if status == STATUS_OK else status.split(":")[0]] += 1
                        if status != STATUS_OK and len(bad_examples) < MAX_BAD_EXAMPLES:
                            bad_examples.append((line, status))
                    rows += len(chunk)
                    bar.update(len(chunk))
                if grouped:
                    groups_summary = grouped.write(model, spool, handle, table.header)
    rated = statuses.get(STATUS_OK, 0)
    summary = {"input": table.path, "output": os.fspath(output_path), "rows": rows, "rated": rated,
               "not_rated": rows - rated, "statuses": dict(statuses), "bad_examples": bad_examples}
    if grouped:
        summary.update(groups_summary)
    summary["seconds"] = round(time.time() - started, 3)
    return summary


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _GroupedOutputs:
    """The outputs (float32) and group number (int32, -1: none) of every rated row, in row order."""

    def __init__(self, task):
        self.task = task
        self.outputs, self.codes, self.names = [], [], {}

    def add(self, scores, keys):
        self.outputs.append(np.asarray(scores, np.float32).reshape(len(keys), -1))
        self.codes.append(np.fromiter((self.names.setdefault(key, len(self.names)) if has_text(key) else -1
                                       for key in keys), np.int32, count=len(keys)))

    def write(self, model, spool, handle, header):
        """Read the spooled rows back and write them with the adapted and unadapted predictions."""
        outputs = np.concatenate(self.outputs) if self.outputs else np.zeros((0, 1), np.float32)
        codes = np.concatenate(self.codes) if self.codes else np.zeros(0, np.int32)
        self.outputs = self.codes = None
        if len(outputs) and self.task == "regression":
            outputs = outputs.reshape(-1)
        adapted = model.adapt(outputs, codes)[0] if len(outputs) else outputs
        sizes = np.bincount(codes[codes >= 0], minlength=len(self.names))
        group_rows = np.where(codes >= 0, sizes[np.maximum(codes, 0)], 0)
        columns = _prediction_columns(self.task)
        writer = csv.writer(handle)
        writer.writerow(["line"] + header + ["status"] + columns + _prediction_columns(self.task, "unadapted_")
                        + ["group_rows"])
        spool.seek(0)
        blank = [""] * (2 * len(columns) + 1)
        rated = 0
        for chunk in _chunks(csv.reader(spool), DEFAULT_CHUNK_ROWS):
            ok = [row[-1] == STATUS_OK for row in chunk]
            end = rated + sum(ok)
            values = iter(zip(_prediction_values(self.task, adapted[rated:end]),
                              _prediction_values(self.task, outputs[rated:end]), group_rows[rated:end]))
            for row, is_ok in zip(chunk, ok):
                if not is_ok:
                    writer.writerow(row + blank)
                    continue
                after, before, size = next(values)
                writer.writerow(row + after + before + [str(int(size)) if size else ""])
            rated = end
        return {"groups": int((sizes >= 2).sum()), "adapted_rows": int((group_rows >= 2).sum())}
