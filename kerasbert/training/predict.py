"""`kerasbert predict`: star predictions for every row of any CSV, streamed.

The input is read with `kerasbert.data.read_table` (any encoding, delimiter
and layout the package reads) in chunks of `chunk_rows` records; each chunk
is predicted in batches of similar token length (sorted within the chunk,
so padding is minimal) and written in the input order. Memory stays flat
however long the file is. The output appears only when complete (written
to a temporary sibling and renamed), so an interrupted run leaves an older
output intact.

Rows are never dropped: a malformed row, an undecodable line or an empty
text keeps its place with an explanatory `status` and no prediction.
"""

import collections
import csv
import os
import sys
import time
import weakref

import numpy as np

from kerasbert.tasks import check_task, round_stars
from kerasbert.utils.io import atomic_output_file

__all__ = ["STATUS_OK", "iter_row_chunks", "predict_csv", "predict_scores"]

STATUS_OK = "ok"
DEFAULT_CHUNK_ROWS = 8192
LENGTH_BUCKET = 16  # batch lengths are rounded up to a multiple of this: few distinct shapes


def _record_status(record, n_columns, text_index, text_name):
    """(values padded/cut to the header, status) for one `Record`."""
    if record.fields is None:
        reason, detail = record.problem
        return [""] * n_columns, "%s: %s" % (reason.replace("_", " "), detail)
    fields = record.fields
    values = (fields + [""] * n_columns)[:n_columns]
    if len(fields) != n_columns:
        return values, "malformed row: %d fields, the header has %d" % (len(fields), n_columns)
    if not fields[text_index].strip():
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


def _pad_id(tokenizer):
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0


_INFERENCE_FUNCTIONS = weakref.WeakKeyDictionary()


def _inference_function(model):
    """`model(inputs, training=False)` as one tf.function for every batch shape.

    Traced once (dynamic batch and time dimensions), unlike `predict_on_batch`,
    which builds an input pipeline per call and retraces per shape: memory
    stays flat over millions of rows.
    """
    function = _INFERENCE_FUNCTIONS.get(model)
    if function is None:
        from kerasbert._backend import tf

        spec = {name: tf.TensorSpec((None, None), tf.int32, name=name) for name in ("input_ids", "attention_mask")}
        function = tf.function(lambda inputs: tf.cast(model(inputs, training=False), tf.float32),
                               input_signature=[spec])
        _INFERENCE_FUNCTIONS[model] = function
    return function


def predict_scores(model, tokenizer, texts, max_length=128, batch_size=32):
    """The model's raw outputs for `texts`, in their order: `(n, 5)` or `(n, 1)`.

    Texts are tokenized once, sorted by token length and batched so each
    batch is padded only to its longest member (rounded up to a multiple of
    16); results return in input order.
    """
    texts = list(texts)
    if not texts:
        return None
    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    lengths = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
    order = np.argsort(lengths, kind="stable")
    pad = _pad_id(tokenizer)
    forward = _inference_function(model)
    scores = None
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        width = int(min(max_length, -(-int(lengths[rows].max()) // LENGTH_BUCKET) * LENGTH_BUCKET))
        input_ids = np.full((len(rows), width), pad, dtype=np.int32)
        attention_mask = np.zeros((len(rows), width), dtype=np.int32)
        for slot, row in enumerate(rows):
            input_ids[slot, :lengths[row]] = ids[row]
            attention_mask[slot, :lengths[row]] = 1
        out = np.asarray(forward({"input_ids": input_ids, "attention_mask": attention_mask}), dtype=np.float32)
        if scores is None:
            scores = np.empty((len(texts),) + out.shape[1:], dtype=np.float32)
        scores[rows] = out
    return scores


def _prediction_columns(task):
    return ["predicted_star"] + (["p_%d" % s for s in range(1, 6)] if task == "classification" else ["score"])


def _prediction_values(task, scores):
    """Per row: [star, p_1..p_5] or [star, score] as strings."""
    if task == "classification":
        stars = scores.argmax(axis=-1) + 1
        return [[str(int(star))] + ["%.6g" % p for p in row] for star, row in zip(stars, scores)]
    flat = scores.reshape(-1)
    return [[str(int(star)), "%.6g" % value] for star, value in zip(round_stars(flat), flat)]


def predict_csv(model_dir, input_path, column=None, output_path=None, batch_size=32, max_length=None,
                chunk_rows=DEFAULT_CHUNK_ROWS, verbose=True, model=None):
    """Write `output_path` (CSV): `line`, the input columns, `status`, the prediction.

    `column`: the text column (case-insensitive; default: the layout's
    comment column). `max_length`: tokens per text (default: the recipe's).
    `model`: an already loaded `(model, tokenizer, recipe)` (else loaded
    from `model_dir`). Returns a summary dict (rows, rated, statuses).
    """
    from kerasbert.data.reader import read_table
    from kerasbert.training.evaluation import load_trained_model

    model, tokenizer, recipe = model or load_trained_model(model_dir)
    task = check_task(recipe["task"])
    max_length = int(max_length or recipe.get("max_length", 128))
    started = time.time()
    statuses = collections.Counter()
    bad_examples = []
    rows = 0
    with read_table(input_path) as table:
        text_index = table.column(column)
        header = ["line"] + table.header + ["status"] + _prediction_columns(task)
        blank = [""] * (len(header) - len(table.header) - 2)
        with atomic_output_file(output_path, suffix=".csv") as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                for chunk in iter_row_chunks(table, text_index, chunk_rows):
                    good = [i for i, (_, _, status) in enumerate(chunk) if status == STATUS_OK]
                    scores = predict_scores(model, tokenizer, [chunk[i][1][text_index] for i in good],
                                            max_length=max_length, batch_size=batch_size)
                    predicted = dict(zip(good, _prediction_values(task, scores))) if good else {}
                    for i, (line, values, status) in enumerate(chunk):
                        writer.writerow([line] + values + [status] + predicted.get(i, blank))
                        statuses["ok" if status == STATUS_OK else status.split(":")[0]] += 1
                        if status != STATUS_OK and len(bad_examples) < 20:
                            bad_examples.append((line, status))
                    rows += len(chunk)
                    if verbose:
                        print("\rpredict: %d rows, %.0f rows/s" % (rows, rows / max(time.time() - started, 1e-9)),
                              end="", file=sys.stderr, flush=True)
    if verbose:
        print(file=sys.stderr)
    rated = statuses.get(STATUS_OK, 0)
    summary = {"input": str(input_path), "output": os.fspath(output_path), "rows": rows, "rated": rated,
               "not_rated": rows - rated, "statuses": dict(statuses),
               "seconds": round(time.time() - started, 3)}
    if verbose:
        print("%s: rated %d row(s); %d row(s) could not be rated%s"
              % (input_path, rated, rows - rated, ":" if rows - rated else "."))
        for line, status in bad_examples:
            print("  line %d: %s" % (line, status))
        if rows - rated > len(bad_examples):
            print("  ... and %d more (see the status column)" % (rows - rated - len(bad_examples)))
    return summary
