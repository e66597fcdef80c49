"""A character n-gram model stacked with the encoder: char 1-3-gram TF-IDF + logistic regression (or ridge).

Characters carry much of a short Chinese comment's rating, and a linear model
on their n-grams errs differently from a fine-tuned encoder, so the two are
combined on their outputs:

    classification: p = softmax(w log p_encoder + (1 - w) log p_chars)
    regression:     s = w s_encoder + (1 - w) s_chars

with `w` chosen on validation titles (`kerasbert.training.fit_char_model`;
`w = 1` is the encoder alone). The fitted scikit-learn state is saved as
plain arrays and JSON in the model folder (`char_model/`), never pickled,
and rebuilt into the same scikit-learn objects when loaded.
"""

import json
import os

import numpy as np

from kerasbert.errors import ModelFolderError
from kerasbert.limits import number
from kerasbert.tasks import NUM_STARS, check_task
from kerasbert.utils.io import atomic_output_file, atomic_write_json

__all__ = ["CHAR_MODEL_DIR", "CharNgramModel", "blend_outputs", "load_folder_char_model", "save_folder_char_model"]

CHAR_MODEL_DIR = "char_model"
VECTORIZER = dict(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, dtype=np.float32)
MIN_DF = 2  # an n-gram seen once is noise
LOGISTIC_C, RIDGE_ALPHA = 2.0, 1.0
WEIGHT = number(0.0, 1.0)
_TINY = 1e-12


def blend_outputs(encoder_outputs, char_outputs, weight, task):
    """The encoder's outputs combined with the character model's (module docstring), float32, shaped like the former."""
    encoder_outputs = np.asarray(encoder_outputs, np.float64)
    char_outputs = np.asarray(char_outputs, np.float64).reshape(encoder_outputs.shape)
    if check_task(task) == "regression":
        return (weight * encoder_outputs + (1 - weight) * char_outputs).astype(np.float32)
    logits = (weight * np.log(np.clip(encoder_outputs, _TINY, None))
              + (1 - weight) * np.log(np.clip(char_outputs, _TINY, None)))
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


class CharNgramModel:
    """Char 1-3-gram TF-IDF with logistic regression (stars 1-5) or ridge (the score), and its blend weight.

    Args:
        task: `"classification"` or `"regression"`.
        weight: the encoder's share `w` in `blend_outputs`.
        vectorizer, estimator: fitted scikit-learn objects (`fit` makes them).
    """

    def __init__(self, task, weight=0.5, vectorizer=None, estimator=None):
        self.task = check_task(task)
        self.weight = WEIGHT.check("weight", weight)
        self.vectorizer, self.estimator = vectorizer, estimator

    @classmethod
    def fit(cls, texts, stars, task, weight=0.5):
        """Fit on training texts and their stars 1-5."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression, Ridge

        vectorizer = TfidfVectorizer(min_df=MIN_DF, **VECTORIZER)
        features = vectorizer.fit_transform(list(texts))
        stars = np.asarray(stars).astype(int)
        if check_task(task) == "classification":
            estimator = LogisticRegression(max_iter=2000, C=LOGISTIC_C).fit(features, stars)
        else:
            estimator = Ridge(alpha=RIDGE_ALPHA).fit(features, stars.astype(np.float64))
        return cls(task, weight, vectorizer, estimator)

    def predict(self, texts):
        """`(n, 5)` star probabilities (0 for a star never seen in training) or `(n, 1)` scores in [1, 5]."""
        features = self.vectorizer.transform(list(texts))
        if self.task == "regression":
            return np.clip(self.estimator.predict(features), 1, NUM_STARS).astype(np.float32)[:, None]
        probabilities = np.zeros((features.shape[0], NUM_STARS), np.float32)
        probabilities[:, self.estimator.classes_.astype(int) - 1] = self.estimator.predict_proba(features)
        return probabilities

    def stack(self, texts, encoder_outputs):
        """The encoder's outputs on `texts` blended with this model's."""
        return blend_outputs(encoder_outputs, self.predict(texts), self.weight, self.task)

    # The folder form: arrays and JSON ------------------------------------------

    def save(self, folder):
        """Write `folder/` (`char_model.json`, `vocabulary.json`, `weights.npz`), each file atomically."""
        os.makedirs(folder, exist_ok=True)
        vocabulary = {term: int(index) for term, index in self.vectorizer.vocabulary_.items()}
        with atomic_output_file(os.path.join(folder, "vocabulary.json"), suffix=".json") as tmp:
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(vocabulary, handle, ensure_ascii=False)
        arrays = {"idf": self.vectorizer.idf_, "coef": self.estimator.coef_,
                  "intercept": np.atleast_1d(self.estimator.intercept_)}
        if self.task == "classification":
            arrays["classes"] = self.estimator.classes_
        with atomic_output_file(os.path.join(folder, "weights.npz"), suffix=".npz") as tmp:
            np.savez(tmp, **arrays)
        atomic_write_json(os.path.join(folder, "char_model.json"),
                          {"task": self.task, "weight": self.weight, "ngram_range": list(VECTORIZER["ngram_range"]),
                           "analyzer": VECTORIZER["analyzer"], "sublinear_tf": VECTORIZER["sublinear_tf"]})

    @classmethod
    def load(cls, folder):
        """The model `save` wrote; a `ModelFolderError` naming the file when it is unusable."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression, Ridge

        paths = {name: os.path.join(folder, name) for name in ("char_model.json", "vocabulary.json", "weights.npz")}
        try:
            with open(paths["char_model.json"], encoding="utf-8") as handle:
                settings = json.load(handle)
            with open(paths["vocabulary.json"], encoding="utf-8") as handle:
                vocabulary = json.load(handle)
            arrays = dict(np.load(paths["weights.npz"], allow_pickle=False))
        except (OSError, ValueError, KeyError) as error:
            raise ModelFolderError("%s: the character model cannot be read (%s)" % (folder, error)) from None
        vectorizer = TfidfVectorizer(vocabulary=vocabulary, **VECTORIZER)
        vectorizer.idf_ = arrays["idf"]
        if settings["task"] == "classification":
            estimator = LogisticRegression(C=LOGISTIC_C)
            estimator.classes_ = arrays["classes"]
        else:
            estimator = Ridge(alpha=RIDGE_ALPHA)
        estimator.coef_ = arrays["coef"]
        estimator.intercept_ = arrays["intercept"] if settings["task"] == "classification" else arrays["intercept"][0]
        return cls(settings["task"], settings["weight"], vectorizer, estimator)


def save_folder_char_model(char_model, model_dir):
    """Write `model_dir/char_model/` (staged, then swapped in), or remove an older one when `char_model` is None."""
    import shutil
    import tempfile

    target = os.path.join(model_dir, CHAR_MODEL_DIR)
    if char_model is None:
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        return
    staging = tempfile.mkdtemp(prefix="." + CHAR_MODEL_DIR + ".", suffix=".partial", dir=model_dir)
    try:
        char_model.save(staging)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)


def load_folder_char_model(model_dir):
    """The character model of a model folder, or None when it has none."""
    folder = os.path.join(model_dir, CHAR_MODEL_DIR)
    return CharNgramModel.load(folder) if os.path.isdir(folder) else None
