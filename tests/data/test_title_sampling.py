"""Per-title cap on training rows per epoch, drawn afresh each epoch."""

import collections

import numpy as np
import pytest
from transformers import BertTokenizerFast

from kerasbert.data.pipeline import make_dataset
from kerasbert.data.title_sampling import TitleSampling

BOUNDARIES = [17, 33]


def corpus(seed=0):
    """One big title (120 rows), one medium (30) and three small ones (5 each); lengths 2-60."""
    rng = np.random.default_rng(seed)
    titles = ["big"] * 120 + ["medium"] * 30 + ["a"] * 5 + ["b"] * 5 + ["c"] * 5
    lengths = rng.integers(2, 61, len(titles))
    return np.array(titles), lengths


def epochs(sampling, count, seed=0):
    dataset = sampling.dataset(seed)
    return [np.fromiter(dataset.as_numpy_iterator(), np.int64) for _ in range(count)]


def test_quotas_give_each_title_its_cap_split_over_its_buckets():
    titles, lengths = corpus()
    sampling = TitleSampling.build(titles, lengths, rows_per_title=20, bucket_boundaries=BOUNDARIES)
    assert sampling.rows_per_epoch == 20 + 20 + 5 + 5 + 5
    buckets = np.digitize(lengths, BOUNDARIES)
    for group, quota in zip(sampling.groups, sampling.quotas):
        assert len(set(titles[group])) == 1 and len(set(buckets[group])) == 1
        title = titles[group[0]]
        n_title = np.sum(titles == title)
        share = len(group) * min(n_title, 20) / n_title
        assert np.floor(share) <= quota <= np.ceil(share)  # largest remainders
    # The counting lengths fall in the same buckets as the rows an epoch draws.
    np.testing.assert_array_equal(np.bincount(np.digitize(sampling.count_lengths, BOUNDARIES), minlength=3),
                                  np.bincount(np.repeat([buckets[g[0]] for g in sampling.groups], sampling.quotas),
                                              minlength=3))


def test_each_epoch_draws_new_rows_within_the_caps_and_reproduces_by_seed():
    titles, lengths = corpus()
    sampling = TitleSampling.build(titles, lengths, rows_per_title=20, bucket_boundaries=BOUNDARIES)
    draws = epochs(sampling, 8)
    for rows in draws:
        assert len(rows) == len(set(rows)) == sampling.rows_per_epoch
        counts = collections.Counter(titles[rows])
        assert counts == {"big": 20, "medium": 20, "a": 5, "b": 5, "c": 5}
    assert len({tuple(sorted(rows)) for rows in draws}) == 8  # a new subset every epoch
    seen = set(np.concatenate(draws))
    assert len(seen & set(np.flatnonzero(titles == "big"))) > 60  # the big title's rows rotate
    np.testing.assert_array_equal(epochs(sampling, 1, seed=0)[0], draws[0])
    assert not np.array_equal(epochs(sampling, 1, seed=1)[0], draws[0])


def test_a_cap_above_every_title_keeps_every_row():
    titles, lengths = corpus()
    sampling = TitleSampling.build(titles, lengths, rows_per_title=1000, bucket_boundaries=BOUNDARIES)
    assert sorted(epochs(sampling, 1)[0]) == list(range(len(titles)))


def test_bad_arguments():
    titles, lengths = corpus()
    with pytest.raises(ValueError, match="rows_per_title must be an integer >= 1"):
        TitleSampling.build(titles, lengths, 0)
    with pytest.raises(ValueError, match="165 titles but 3 rows"):
        TitleSampling.build(titles, lengths[:3], 5)


def test_pipeline_batches_match_its_cardinality_and_labels_follow_rows(tmp_path):
    vocab = tmp_path / "vocab.txt"
    letters = list("abcdefgh")
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + letters))
    tokenizer = BertTokenizerFast(str(vocab))
    titles, lengths = corpus()
    stars = np.array([1 + i % 5 for i in range(len(titles))])
    # Each text repeats the letter of its star, so a batch row shows which label must be beside it.
    texts = [" ".join([letters[star - 1]] * max(1, int(n) - 2)) for star, n in zip(stars, lengths)]
    first_letter = tokenizer.convert_tokens_to_ids("a")
    dataset = make_dataset(texts, stars, tokenizer=tokenizer, batch_size=8, max_length=64, shuffle=True,
                           titles=titles, rows_per_title=20, seed=3)
    expected_rows = 20 + 20 + 15
    for _ in range(2):
        batches = list(dataset)
        assert len(batches) == int(dataset.cardinality())
        assert sum(len(labels) for _, labels in batches) == expected_rows
        for features, labels in batches:
            for ids, mask, label in zip(features["input_ids"].numpy(), features["attention_mask"].numpy(),
                                        labels.numpy()):
                assert ids[1] - first_letter == label  # ids[0] is [CLS]
    with pytest.raises(ValueError, match="needs the title of each text"):
        make_dataset(texts, stars, tokenizer=tokenizer, rows_per_title=20)


def test_balanced_star_weights_match_sklearn_and_count_the_cap():
    from sklearn.utils.class_weight import compute_class_weight

    from kerasbert.data.title_sampling import balanced_star_weights

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, size=300)
    expected = compute_class_weight("balanced", classes=np.arange(5), y=labels)
    np.testing.assert_allclose(list(balanced_star_weights(labels).values()), expected)

    # With a cap, a title of 8 rows capped at 2 counts each row as 1/4: the same
    # as sklearn on the expected epoch (each row of that title repeated 1x, others 4x).
    titles = np.array(["big"] * 8 + ["small"] * 2)
    labels = np.array([0] * 8 + [1, 2])
    weights = balanced_star_weights(labels, titles, rows_per_title=2, num_classes=4)
    expanded = np.concatenate([np.repeat(labels[:8], 1), np.repeat(labels[8:], 4)])
    reference = compute_class_weight("balanced", classes=np.arange(3), y=expanded)
    np.testing.assert_allclose([weights[k] for k in range(3)], reference)
    assert weights[3] == 0.0
