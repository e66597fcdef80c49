"""Predict with a trained rating model and write the evaluation report."""

import json
import os

import numpy as np
from tqdm.auto import tqdm

from kerasbert._backend import keras
from kerasbert.models import rating_analysis_model
from kerasbert.tasks import round_stars
from kerasbert.utils.io import atomic_directory, atomic_output_file, atomic_write_json

MODEL_FILE = "model.keras"
TOKENIZER_DIR = "tokenizer"
RECIPE_FILE = "recipe.json"


def save_trained_model(model, tokenizer, config, out_dir):
    """`model.keras`, `tokenizer/` and `recipe.json` in `out_dir`, each written atomically."""
    os.makedirs(out_dir, exist_ok=True)
    with atomic_output_file(os.path.join(out_dir, MODEL_FILE), suffix=".keras") as tmp:
        model.save(tmp)
    with atomic_directory(os.path.join(out_dir, TOKENIZER_DIR)) as tmp:
        tokenizer.save_pretrained(tmp)
    atomic_write_json(os.path.join(out_dir, RECIPE_FILE), config.to_dict())


def load_trained_model(model_dir):
    """(model, tokenizer, recipe dict) from a folder written by `save_trained_model`.

    Raises `ModelFolderError` naming the folder and the file for a missing,
    incomplete or corrupt folder. The model is loaded with Keras'
    `safe_mode=True`: a folder holding a Lambda layer (code) is refused,
    never executed.
    """
    from transformers import AutoTokenizer

    from kerasbert.errors import ModelFolderError
    from kerasbert.tasks import TASKS

    model_dir = os.fspath(model_dir)
    if not os.path.isdir(model_dir):
        raise ModelFolderError("%s: no such model folder (expected the output folder of kerasbert train)"
                               % model_dir)
    paths = {name: os.path.join(model_dir, name) for name in (MODEL_FILE, TOKENIZER_DIR, RECIPE_FILE)}
    missing = [name for name, path in paths.items() if not os.path.exists(path)]
    if missing:
        raise ModelFolderError(
            "%s: not a trained kerasbert model folder: missing %s" % (model_dir, ", ".join(missing))
        )
    try:
        with open(paths[RECIPE_FILE], encoding="utf-8") as handle:
            recipe = json.load(handle)
    except (ValueError, UnicodeDecodeError) as error:
        raise ModelFolderError("%s: not valid JSON (%s)" % (paths[RECIPE_FILE], error)) from None
    if not isinstance(recipe, dict) or recipe.get("task") not in TASKS:
        raise ModelFolderError("%s: field 'task' must be one of %s" % (paths[RECIPE_FILE], ", ".join(TASKS)))
    try:
        model = keras.models.load_model(paths[MODEL_FILE], compile=False, safe_mode=True)
    except ValueError as error:
        if "safe_mode" in str(error) or "Lambda" in str(error):
            raise ModelFolderError("%s: refused: the model holds code (a Lambda layer), which kerasbert "
                                   "never runs from a model folder" % paths[MODEL_FILE]) from None
        raise ModelFolderError("%s: cannot be loaded (%s)" % (paths[MODEL_FILE], _first_line(error))) from None
    except (OSError, KeyError, TypeError) as error:
        raise ModelFolderError("%s: corrupt or not a Keras model file (%s)"
                               % (paths[MODEL_FILE], _first_line(error))) from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(paths[TOKENIZER_DIR])
    except (OSError, ValueError) as error:
        raise ModelFolderError("%s: cannot load the tokenizer (%s)"
                               % (paths[TOKENIZER_DIR], _first_line(error))) from None
    return model, tokenizer, recipe


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def predict_texts(model, tokenizer, texts, task, max_length=128, batch_size=32, fixed_length=False, verbose=True):
    """Run the model over `texts` in order, keeping what the report needs.

    Returns a dict with `stars` (predicted 1-5), `score` (probabilities
    `(n, 5)` or the regression score `(n,)`), `features` `(n, d)`, and for
    self-attentive pooling `attention` (a list of `(hops, length)` arrays)
    and `tokens` (a list of token lists).
    """
    analysis = rating_analysis_model(model)
    texts = list(texts)
    # Batches of similar length pad little; the results go back to the input order.
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable") if texts else np.zeros(0, int)
    scores, features, attention, tokens = [], [], [], []
    chunks = range(0, len(texts), batch_size)
    for start in tqdm(chunks, desc="predict", unit="batch", disable=not verbose):
        chunk = [texts[i] for i in order[start : start + batch_size]]
        real = len(chunk)
        chunk = chunk + [""] * (batch_size - real if fixed_length else 0)  # static shapes on TPU
        encoded = tokenizer(
            chunk,
            truncation=True,
            max_length=max_length,
            padding="max_length" if fixed_length else "longest",
            return_tensors="np",
        )
        inputs = {name: encoded[name].astype("int32") for name in ("input_ids", "attention_mask")}
        out = analysis.predict_on_batch(inputs)
        out = {k: np.asarray(v)[:real] for k, v in out.items()}
        scores.append(out["stars"])
        features.append(out["features"].astype("float32"))
        row_lengths = inputs["attention_mask"][:real].sum(axis=1)
        for row, length in enumerate(row_lengths):
            if "attention" in out:
                attention.append(out["attention"][row, :, :length])
            tokens.append(tokenizer.convert_ids_to_tokens(inputs["input_ids"][row, :length].tolist()))
    restore = np.argsort(order, kind="stable")  # sorted position of each input row
    if texts:
        scores = [np.concatenate(scores)[restore]]
        features = [np.concatenate(features)[restore]]
        tokens = [tokens[i] for i in restore]
        attention = [attention[i] for i in restore] if attention else attention
    score = np.concatenate(scores) if scores else np.zeros((0, 5 if task == "classification" else 1))
    if task == "classification":
        stars = score.argmax(axis=-1) + 1
    else:
        score = score.reshape(-1)
        stars = round_stars(score)
    return {
        "stars": stars,
        "score": score,
        "features": np.concatenate(features) if features else None,
        "attention": attention or None,
        "tokens": tokens,
    }


def scalar_mix_weights(model):
    """(normalised layer weights, gamma) of the model's ScalarMix, or (None, None)."""
    try:
        layer = model.get_layer("scalar_mix")
    except ValueError:
        return None, None
    return layer.normalized_weights(), float(layer.gamma.numpy())


def evaluate_frame(model, tokenizer, frame, task, out_dir, max_length=128, batch_size=32,
                   fixed_length=False, title=None, extra=None, verbose=True):
    """Predict a labelled DataFrame (movie, star, comment) and write the report; returns metrics."""
    from kerasbert.analysis import write_evaluation_report

    predictions = predict_texts(
        model, tokenizer, frame["comment"].tolist(), task, max_length, batch_size, fixed_length, verbose
    )
    layer_weights, gamma = scalar_mix_weights(model)
    report_path = write_evaluation_report(
        out_dir,
        y_true=frame["star"].to_numpy(),
        y_pred=predictions["stars"] if task == "classification" else predictions["score"],
        y_score=predictions["score"],
        task=task,
        texts=frame["comment"].tolist(),
        movies=frame["movie"].tolist() if "movie" in frame else None,
        features=predictions["features"],
        layer_weights=layer_weights,
        gamma=gamma,
        attention=predictions["attention"],
        tokens=predictions["tokens"] if predictions["attention"] is not None else None,
        title=title or "豆瓣短评星级预测评估报告",
        extra=extra,
        verbose=verbose,
    )
    with open(os.path.join(out_dir, "metrics.json"), encoding="utf-8") as handle:
        metrics = json.load(handle)
    return metrics, report_path
