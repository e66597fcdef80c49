"""Sentence vectors (CLS, mean, first-last average), whitening and WMD between texts."""

import numpy as np

from kerasbert.analysis.vectors import apply_whitening, bert_whitening, word_movers_distance
from kerasbert.errors import ArgumentError

SENTENCE_METHODS = ("cls", "mean", "first_last_avg")


def sentence_vector(item, method="mean"):
    """One text's vector from its `EncodedText`.

    cls: the first token of the last layer; mean: mean of the last layer
    over all real tokens; first_last_avg: mean over tokens of the average of
    the first transformer block's output (hidden state 1) and the last
    (Su et al. 2021's corrected "first-last-avg").
    """
    if method not in SENTENCE_METHODS:
        raise ValueError(f"method must be one of {SENTENCE_METHODS}, got {method!r}")
    hidden = item.hidden_states
    if method == "cls":
        return hidden[-1][0]
    if method == "mean":
        return hidden[-1].mean(axis=0)
    return ((hidden[1] + hidden[-1]) / 2).mean(axis=0)


def sentence_vectors(encoded, method="mean"):
    return np.stack([sentence_vector(item, method) for item in encoded])


def cosine_similarity_matrix(vectors):
    from sklearn.metrics.pairwise import cosine_similarity

    return cosine_similarity(np.asarray(vectors, dtype=float))


def similarity_ranking(query_vector, vectors):
    """Indices of `vectors` by decreasing cosine similarity to the query, and the similarities."""
    similarities = cosine_similarity_matrix(np.vstack([query_vector, vectors]))[0, 1:]
    order = np.argsort(-similarities, kind="stable")
    return order, similarities


def whitening_ranking(texts_vectors, corpus_vectors, n_components=None, query=0):
    """Rank texts against `texts_vectors[query]` before and after BERT-whitening.

    The whitening (mean and SVD kernel, first `n_components` dimensions) is
    fitted on `corpus_vectors`. Returns a dict with `before` and `after`:
    each a list of (text index, cosine similarity), best first, the query
    left out; plus the fitted `kernel` and `bias`.
    """
    kernel, bias = bert_whitening(corpus_vectors, n_components=n_components)
    whitened = apply_whitening(texts_vectors, kernel, bias)
    result = {"kernel": kernel, "bias": bias}
    others = [i for i in range(len(texts_vectors)) if i != query]
    for name, vectors in (("before", np.asarray(texts_vectors, dtype=float)), ("after", whitened)):
        order, similarities = similarity_ranking(vectors[query], vectors[others])
        result[name] = [(others[i], float(similarities[i])) for i in order]
    return result


def text_wmd(item_a, item_b, metric="cosine", layer=-1):
    """Word Mover's Distance between two encoded texts over their content tokens' vectors."""
    positions_a, positions_b = item_a.content_positions(), item_b.content_positions()
    if not positions_a or not positions_b:
        raise ArgumentError("texts", "WMD needs at least one non-special token in each text")
    return word_movers_distance(
        [item_a.tokens[i] for i in positions_a], item_a.hidden_states[layer][positions_a],
        [item_b.tokens[i] for i in positions_b], item_b.hidden_states[layer][positions_b],
        metric=metric,
    )
