"""Word and sentence vectors, MDS, whitening and WMD against NumPy references."""

import numpy as np
import pytest

from kerasbert.analysis.encoders import EncodedText
from kerasbert.analysis.sentence_vectors import sentence_vectors, text_wmd, whitening_ranking
from kerasbert.analysis.vectors import apply_whitening
from kerasbert.analysis.word_vectors import (
    combine_layers,
    cosine_distances,
    mds_embedding,
    segment_words,
    target_distance_summary,
    word_vectors,
)


def fake_encoded(text, tokens, offsets, hidden_states):
    return EncodedText(text, tokens, np.asarray(offsets), np.asarray(hidden_states, dtype=float))


def test_layer_strategies():
    hidden = np.random.default_rng(0).normal(size=(7, 3, 4))  # L + 1 = 7 layers, 3 tokens
    np.testing.assert_allclose(combine_layers(hidden, "last"), hidden[6])
    np.testing.assert_allclose(combine_layers(hidden, "second_to_last"), hidden[5])
    np.testing.assert_allclose(combine_layers(hidden, "sum_last_4"), hidden[3] + hidden[4] + hidden[5] + hidden[6])
    np.testing.assert_allclose(combine_layers(hidden, "mean_last_4"), (hidden[3] + hidden[4] + hidden[5] + hidden[6]) / 4)
    concat = combine_layers(hidden, "concat_last_4")
    assert concat.shape == (3, 16)
    np.testing.assert_allclose(concat[:, 12:], hidden[6])
    with pytest.raises(ValueError, match="strategy"):
        combine_layers(hidden, "first")
    with pytest.raises(ValueError, match="at least 4 layers"):
        combine_layers(hidden[:3], "sum_last_4")


def test_segmentation_cuts_a_target_out_of_a_longer_word():
    text = "我给妈妈打电话。"
    spans = segment_words(text, targets=["打"])
    assert all(text[start:end] == word for word, start, end in spans)
    words = [word for word, _, _ in spans]
    assert "打" in words and "电话" in words and "打电话" not in words
    assert "。" not in words
    english = segment_words("What is your date of birth?")
    assert [w for w, _, _ in english] == ["What", "is", "your", "date", "of", "birth"]


def test_word_vector_is_the_mean_of_its_tokens():
    # "ab cd": tokens [CLS] a ##b cd [SEP]; word "ab" = tokens 1, 2.
    hidden = np.random.default_rng(1).normal(size=(2, 5, 3))
    item = fake_encoded("ab cd", ["[CLS]", "a", "##b", "cd", "[SEP]"],
                        [(0, 0), (0, 1), (1, 2), (3, 5), (0, 0)], hidden)
    words = word_vectors([item], "last")
    assert [w.word for w in words] == ["ab", "cd"]
    np.testing.assert_allclose(words[0].vector, hidden[-1, 1:3].mean(axis=0))
    np.testing.assert_allclose(words[1].vector, hidden[-1, 3])


def test_cosine_distances_and_target_summary():
    vectors = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    np.testing.assert_allclose(cosine_distances(vectors), 1 - unit @ unit.T, atol=1e-12)
    # Sentence 1: "x t", sentence 2: "t y"; one hidden layer, one token per word.
    items = [fake_encoded("x t", ["x", "t"], [(0, 1), (2, 3)], [[[1.0, 0.0], [1.0, 0.2]]]),
             fake_encoded("t y", ["t", "y"], [(0, 1), (2, 3)], [[[0.1, 1.0], [0.0, 1.0]]])]
    words = word_vectors(items, "last", targets=["t"])
    distances = cosine_distances([w.vector for w in words])
    rows = target_distance_summary(words, distances)
    assert [row["label"] for row in rows] == ["t (1)", "t (2)"]
    first = rows[0]
    assert first["to_targets"]["t (2)"] == pytest.approx(distances[1, 2])
    assert first["own_sentence_mean"] == pytest.approx(distances[1, 0])  # x
    assert first["other_sentences_mean"] == pytest.approx(distances[1, 3])  # y
    assert first["own_sentence_mean"] < first["other_sentences_mean"]


def test_mds_preserves_the_distances_of_an_easy_configuration():
    points = np.array([[0, 0], [3, 0], [0, 4], [3, 4], [1.5, 2.0], [6, 1]], dtype=float)
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    embedded = mds_embedding(distances, seed=0)
    recovered = np.linalg.norm(embedded[:, None] - embedded[None], axis=-1)
    np.testing.assert_allclose(recovered, distances, atol=0.05)


def test_sentence_vector_methods():
    hidden = np.random.default_rng(2).normal(size=(4, 5, 3))
    item = fake_encoded("t", ["[CLS]"] + ["x"] * 3 + ["[SEP]"], [(0, 0)] * 5, hidden)
    np.testing.assert_allclose(sentence_vectors([item], "cls")[0], hidden[-1, 0])
    np.testing.assert_allclose(sentence_vectors([item], "mean")[0], hidden[-1].mean(axis=0))
    np.testing.assert_allclose(sentence_vectors([item], "first_last_avg")[0], ((hidden[1] + hidden[-1]) / 2).mean(axis=0))


def test_whitening_ranking_whitens_the_corpus_and_ranks_by_cosine():
    rng = np.random.default_rng(3)
    corpus = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5)) + 2.0
    texts = corpus[:6]
    result = whitening_ranking(texts, corpus, query=0)
    whitened = apply_whitening(corpus, result["kernel"], result["bias"])
    np.testing.assert_allclose(whitened.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(np.cov(whitened.T), np.eye(5), atol=1e-9)

    def cosine(a, b):
        return a @ b / np.linalg.norm(a) / np.linalg.norm(b)

    before = sorted(((i, cosine(texts[0], texts[i])) for i in range(1, 6)), key=lambda p: -p[1])
    assert [i for i, _ in result["before"]] == [i for i, _ in before]
    np.testing.assert_allclose([s for _, s in result["before"]], [s for _, s in before])
    after = {i: cosine(whitened[0], whitened[i]) for i in range(1, 6)}
    for i, similarity in result["after"]:
        assert similarity == pytest.approx(after[i])


def test_wmd_between_texts_on_a_two_token_case_by_hand():
    # Text A: one token, vector (1, 0). Text B: two tokens, (0, 1) and (1, 0),
    # weight 1/2 each. All of A's mass goes to both: cost 1/2 * 1 + 1/2 * 0.
    a = fake_encoded("a", ["[CLS]", "a", "[SEP]"], [(0, 0), (0, 1), (0, 0)],
                     np.array([[[0, 0], [1.0, 0.0], [0, 0]]]))
    b = fake_encoded("b c", ["[CLS]", "b", "c", "[SEP]"], [(0, 0), (0, 1), (2, 3), (0, 0)],
                     np.array([[[0, 0], [0.0, 1.0], [1.0, 0.0], [0, 0]]]))
    assert text_wmd(a, b) == pytest.approx(0.5)
    assert text_wmd(a, b, metric="euclidean") == pytest.approx(0.5 * np.sqrt(2))
    assert text_wmd(a, a) == pytest.approx(0.0, abs=1e-12)
