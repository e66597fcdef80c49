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
"""

import collections
import csv
import os
import time

from tqdm.auto import tqdm

from kerasbert.data.cleaning import has_text
from kerasbert.data.reader import read_table
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


def _prediction_columns(task):
    return ["predicted_star"] + (["p_%d" % star for star in STARS] if task == "classification" else ["score"])


def _prediction_values(task, scores):
    """Per row: [star, p_1..p_5] or [star, score] as strings."""
    stars = stars_from_outputs(scores, task)
    if task == "classification":
        return [[str(int(star))] + ["%.6g" % p for p in row] for star, row in zip(stars, scores)]
    return [[str(int(star)), "%.6g" % value] for star, value in zip(stars, scores.reshape(-1))]


def predict_csv(model_dir, input_path, column=None, output_path=None, batch_size=32, max_length=None,
                chunk_rows=DEFAULT_CHUNK_ROWS, verbose=True, model=None):
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

    Returns:
        A summary dict: `rows`, `rated`, `not_rated`, `statuses` (counts),
        `bad_examples` (the first (line, status) pairs), `seconds`.
    """
    model = model or load_model_folder(model_dir)[0]
    started = time.time()
    statuses = collections.Counter()
    bad_examples = []
    rows = 0
    with read_table(input_path) as table, tqdm(desc="predict", unit=" rows", disable=not verbose) as bar:
        text_index = table.column(column)
        header = ["line"] + table.header + ["status"] + _prediction_columns(model.task)
        blank = [""] * (len(header) - len(table.header) - 2)
        with atomic_output_file(output_path, suffix=".csv") as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                for chunk in iter_row_chunks(table, text_index, chunk_rows):
                    good = [i for i, (_, _, status) in enumerate(chunk) if status == STATUS_OK]
                    scores = predict_scores(model, [chunk[i][1][text_index] for i in good],
                                            batch_size=batch_size, max_length=max_length)
                    predicted = dict(zip(good, _prediction_values(model.task, scores))) if good else {}
                    for i, (line, values, status) in enumerate(chunk):
                        writer.writerow([line] + values + [status] + predicted.get(i, blank))
                        statuses["ok" if status == STATUS_OK else status.split(":")[0]] += 1
                        if status != STATUS_OK and len(bad_examples) < MAX_BAD_EXAMPLES:
                            bad_examples.append((line, status))
                    rows += len(chunk)
                    bar.update(len(chunk))
    rated = statuses.get(STATUS_OK, 0)
    return {"input": table.path, "output": os.fspath(output_path), "rows": rows, "rated": rated,
            "not_rated": rows - rated, "statuses": dict(statuses), "bad_examples": bad_examples,
            "seconds": round(time.time() - started, 3)}
