"""`kerasbert predict`: star predictions for every row of any CSV."""

import csv
import io

import numpy as np
import pandas as pd

from kerasbert.training.evaluation import load_trained_model, predict_texts
from kerasbert.utils.io import atomic_output_file

STATUS_OK = "ok"


def read_rows(path, column):
    """Every data row of a CSV as a dict, plus a status saying why it cannot be rated.

    Rows are never dropped: a malformed row or an empty text keeps its
    place in the output with an explanatory status and no prediction.
    """
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            "%s: not UTF-8 (byte %d: %r); convert it, e.g. iconv -f GB18030 -t UTF-8"
            % (path, error.start, raw[error.start : error.start + 4])
        ) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError("%s: the file is empty" % path) from None
    if column not in header:
        raise ValueError("%s: no column %r; the header has %s" % (path, column, ", ".join(map(repr, header))))
    rows, statuses, lines = [], [], []
    for record in reader:
        line = reader.line_num
        if not record:
            continue  # a blank line is not a row
        row = dict(zip(header, record + [""] * (len(header) - len(record))))
        if len(record) != len(header):
            status = "malformed row: %d fields, the header has %d" % (len(record), len(header))
            row = dict(zip(header, record[: len(header)] + [""] * (len(header) - len(record))))
        elif not row[column].strip():
            status = "empty %s" % column
        else:
            status = STATUS_OK
        rows.append(row)
        statuses.append(status)
        lines.append(line)
    frame = pd.DataFrame(rows, columns=header)
    frame.insert(0, "line", lines)
    frame["status"] = statuses
    return frame


def predict_csv(model_dir, input_path, column="comment", output_path=None, batch_size=32, verbose=True):
    """Write `output_path` with the input rows plus predictions; returns the frame."""
    model, tokenizer, recipe = load_trained_model(model_dir)
    task = recipe["task"]
    frame = read_rows(input_path, column)
    good = (frame["status"] == STATUS_OK).to_numpy()
    predictions = predict_texts(
        model, tokenizer, frame.loc[good, column].tolist(), task,
        max_length=recipe.get("max_length", 128), batch_size=batch_size, verbose=verbose,
    )
    frame["predicted_star"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    frame.loc[good, "predicted_star"] = predictions["stars"].astype(int)
    if task == "classification":
        for star in range(1, 6):
            frame["p_%d" % star] = np.nan
            frame.loc[good, "p_%d" % star] = predictions["score"][:, star - 1]
    else:
        frame["score"] = np.nan
        frame.loc[good, "score"] = predictions["score"]
    if output_path:
        with atomic_output_file(output_path, suffix=".csv") as tmp:
            frame.to_csv(tmp, index=False, encoding="utf-8")
    bad = frame[~good]
    if verbose:
        print("%s: rated %d row(s); %d row(s) could not be rated%s"
              % (input_path, int(good.sum()), len(bad), ":" if len(bad) else "."))
        for _, row in bad.head(20).iterrows():
            print("  line %d: %s" % (row["line"], row["status"]))
        if len(bad) > 20:
            print("  ... and %d more (see the status column)" % (len(bad) - 20))
    return frame
