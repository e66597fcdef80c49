"""Cross-domain separation scores and per-star TF-IDF against hand computations."""

import numpy as np
import pytest

from kerasbert.utils.figures import find_cjk_font
from kerasbert.analysis.transfer import read_binary_csv, separation_scores, verdict
from kerasbert.analysis.words_per_star import top_words_per_star, write_word_cloud
from kerasbert.errors import InputError


def test_separation_scores_match_the_silhouette_formula():
    # Unit vectors at 0, 5, 10 degrees (label 0) and 90, 95, 100 degrees (label 1).
    angles = np.radians([0, 5, 10, 90, 95, 100])
    points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = np.array([0, 0, 0, 1, 1, 1])
    distance = 1 - points @ points.T  # cosine distance of unit vectors
    silhouettes = []
    for i in range(6):
        same = [distance[i, j] for j in range(6) if labels[j] == labels[i] and j != i]
        other = [distance[i, j] for j in range(6) if labels[j] != labels[i]]
        a, b = np.mean(same), np.mean(other)
        silhouettes.append((b - a) / max(a, b))
    scores = separation_scores(points, labels, folds=3, neighbours=1)
    assert scores["silhouette"] == pytest.approx(np.mean(silhouettes))
    assert scores["centroid_accuracy"] == 1.0 and scores["knn_accuracy"] == 1.0


def test_separation_of_random_labels_is_near_chance():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 8))
    scores = separation_scores(features, rng.integers(0, 2, size=200))
    assert abs(scores["silhouette"]) < 0.05
    assert 0.3 < scores["knn_accuracy"] < 0.7


def test_verdict_reads_the_numbers():
    before = {"polarity": {"silhouette": 0.05, "knn_accuracy": 0.8}, "domain": {"silhouette": 0.2}}
    after = {"polarity": {"silhouette": 0.3, "knn_accuracy": 0.9}, "domain": {"silhouette": 0.05}}
    assert verdict(before, after)[0] is True
    assert verdict(after, before)[0] is False


def test_read_binary_csv_counts_bad_rows(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("label,review\n1,好吃\n0,太慢了\n2,label two\n1,\nx,no label\n0,难吃\n", encoding="utf-8")
    frame, skipped = read_binary_csv(path)
    assert frame["text"].tolist() == ["好吃", "太慢了", "难吃"]
    assert frame["label"].tolist() == [1, 0, 0]
    assert skipped == {"label_not_0_or_1": 2, "text_empty": 1}
    with pytest.raises(InputError, match="reviews.csv.*no column 'body'"):
        read_binary_csv(path, text_column="body")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="other.csv.*no text column"):
        read_binary_csv(other)


def tfidf_by_hand(documents):
    """Sublinear tf, smoothed idf, L2-normalised rows (the class TF-IDF definition)."""
    vocabulary = sorted({w for doc in documents for w in doc.split()})
    n = len(documents)
    df = np.array([sum(w in doc.split() for doc in documents) for w in vocabulary])
    idf = np.log((1 + n) / (1 + df)) + 1
    rows = []
    for doc in documents:
        counts = np.array([doc.split().count(w) for w in vocabulary], dtype=float)
        tf = np.where(counts > 0, 1 + np.log(np.maximum(counts, 1)), 0.0)
        row = tf * idf
        rows.append(row / np.linalg.norm(row))
    return vocabulary, np.array(rows)


def test_top_words_per_star_is_class_tfidf():
    words = ["剧情 烂 的", "烂 烂 演技", "好看 剧情", "好看 演技 好看", "剧情 的 一般", "一般 剧情",
             "不错 剧情", "不错 演技", "好看 感人", "感人 好看 剧情"]
    stars = [1, 1, 5, 5, 3, 3, 4, 4, 5, 5]
    top = top_words_per_star(words, stars, top_n=3, stop_words={"的"}, min_comments=1)
    assert top[2] == []  # no 2-star comments
    documents = ["剧情 烂 烂 烂 演技", "", "剧情 一般 一般 剧情", "不错 剧情 不错 演技",
                 "好看 剧情 好看 演技 好看 好看 感人 感人 好看 剧情"]  # without the stop word
    vocabulary, expected = tfidf_by_hand([d for d in documents if d])
    star_rows = {1: 0, 3: 1, 4: 2, 5: 3}
    for star, row in star_rows.items():
        ranked = sorted(((vocabulary[i], expected[row, i]) for i in range(len(vocabulary)) if expected[row, i] > 0),
                        key=lambda p: -p[1])[:3]
        got = dict(top[star])
        for word, score in ranked:
            assert got[word] == pytest.approx(score)
    assert top[1][0][0] == "烂" and top[5][0][0] == "好看"
    # min_comments drops words used in fewer comments.
    assert "感人" not in dict(top_words_per_star(words, stars, stop_words={"的"}, min_comments=3)[5])
    # The built-in list drops function words and film filler such as 的 and 剧情.
    assert "剧情" not in dict(top_words_per_star(words, stars, min_comments=1)[5])


def test_word_cloud_renders_chinese(tmp_path):
    font = find_cjk_font()
    if font is None:
        pytest.skip("no CJK font installed")
    from PIL import Image

    path = write_word_cloud({"好看": 3.0, "感人": 2.0, "剧情": 1.0}, tmp_path / "cloud.png", font_path=font[1])
    image = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert image.shape == (500, 800)
    assert (image < 200).mean() > 0.01  # glyphs were drawn, not an empty canvas
