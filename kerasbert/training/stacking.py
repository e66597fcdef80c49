"""Fit the character model beside a trained encoder and choose its blend weight on validation titles.

`kerasbert.char_ngrams` has the model and the blend. The weight `w` (the
encoder's share) is chosen on a grid by capped validation accuracy (RMSE for
regression), each title weighing at most `cap_per_title` rows; `w = 1`, the
encoder alone, is one of the candidates, so stacking is kept only when it wins.
"""

import logging

import numpy as np

from kerasbert.char_ngrams import CharNgramModel, blend_outputs
from kerasbert.data.title_sampling import title_weights
from kerasbert.defaults import DEFAULT_BATCH_SIZE
from kerasbert.tasks import stars_from_outputs
from kerasbert.training.roads import predict_scores

__all__ = ["STACK_WEIGHTS", "choose_stack_weight", "fit_char_model"]

logger = logging.getLogger(__name__)

STACK_WEIGHTS = tuple(np.round(np.arange(0.0, 1.01, 0.1), 2).tolist())  # the encoder's share


def choose_stack_weight(encoder_outputs, char_outputs, stars, groups, task, cap_per_title=500):
    """`(weight, {weight: validation score})`: the best blend by capped accuracy (classification) or minus
    the capped RMSE (regression); ties go to the larger encoder share."""
    weights = title_weights(np.asarray(groups).astype(str), cap_per_title)
    stars = np.asarray(stars).astype(int)
    scores = {}
    for weight in STACK_WEIGHTS:
        blended = blend_outputs(encoder_outputs, char_outputs, weight, task)
        if task == "regression":
            scores[weight] = -float(np.sqrt(np.average((blended.reshape(-1) - stars) ** 2, weights=weights)))
        else:
            scores[weight] = float(np.average(stars_from_outputs(blended, task) == stars, weights=weights))
    best = max(scores, key=lambda w: (scores[w], w))
    return best, scores


def fit_char_model(model, train_texts, train_stars, texts, stars, groups, cap_per_title=500, batch_size=None):
    """Fit the character model on the training rows, choose its weight on the validation rows and set
    `model.char_model` (None when the encoder alone wins).

    Returns:
        `(the model's validation outputs after stacking, {weight: validation score})`.
    """
    model.char_model = None
    texts = list(texts)
    encoder_outputs = predict_scores(model, texts, batch_size=batch_size or DEFAULT_BATCH_SIZE)
    char_model = CharNgramModel.fit(train_texts, train_stars, model.task)
    char_outputs = char_model.predict(texts)
    weight, scores = choose_stack_weight(encoder_outputs, char_outputs, stars, groups, model.task, cap_per_title)
    logger.info("Character n-gram model: encoder weight %.1f chosen on validation titles (%s)", weight,
                ", ".join("%.1f: %.4f" % item for item in scores.items()))
    if weight >= 1.0:
        return encoder_outputs, scores
    char_model.weight = weight
    model.char_model = char_model
    return blend_outputs(encoder_outputs, char_outputs, weight, model.task), scores
