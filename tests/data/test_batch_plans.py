"""The NumPy batch plans both roads share (kerasbert.data.encoding), against the tf.data pipeline's count."""

import numpy as np

from kerasbert.data.encoding import (
    LENGTH_BUCKET,
    bucketed_batches,
    default_bucket_boundaries,
    outputs_in_row_order,
    padded_width,
    sorted_batches,
)
from kerasbert.data.title_sampling import TitleSampling


def test_bucketed_batches_cover_every_row_once_one_bucket_a_batch_and_match_the_pipelines_count():
    from kerasbert.data.pipeline import count_batches

    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 96, size=203)
    boundaries = default_bucket_boundaries(96)
    batches = bucketed_batches(lengths, 8, boundaries, np.random.default_rng(1))
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(203))  # every row exactly once
    for batch in batches:
        assert len(set(np.digitize(lengths[batch], boundaries))) == 1 and len(batch) <= 8
    assert len(batches) == count_batches(lengths, 8, bucket_boundaries=boundaries, max_length=96)
    dropped = bucketed_batches(lengths, 8, boundaries, None, drop_remainder=True)
    assert all(len(b) == 8 for b in dropped)
    assert len(dropped) == count_batches(lengths, 8, drop_remainder=True, bucket_boundaries=boundaries, max_length=96)
    again = bucketed_batches(lengths, 8, boundaries, np.random.default_rng(1))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))  # the same seed, the same epoch


def test_title_sampling_draws_its_quotas_in_numpy():
    titles = ["a"] * 50 + ["b"] * 5
    lengths = np.arange(55) % 40 + 2
    sampling = TitleSampling.build(titles, lengths, rows_per_title=10, bucket_boundaries=[17, 33])
    rows = sampling.draw(np.random.default_rng(0))
    assert len(rows) == sampling.rows_per_epoch == 15 and len(set(rows.tolist())) == 15
    assert sum(r < 50 for r in rows) == 10 and sum(r >= 50 for r in rows) == 5
    other = sampling.draw(np.random.default_rng(1))
    assert set(other.tolist()) != set(rows.tolist())  # a fresh draw each epoch


def test_widths_are_rounded_to_the_length_bucket_and_outputs_come_back_in_order():
    assert [padded_width(n, 96) for n in (1, 16, 17, 90, 200)] == [16, 16, 32, 96, 96]
    lengths = np.array([5, 40, 3, 17, 9])
    plan = list(sorted_batches(lengths, 2, 96))
    assert [rows.tolist() for rows, _ in plan] == [[2, 0], [4, 3], [1]]
    assert [width for _, width in plan] == [16, 32, 48]
    rows = [np.arange(1, n + 1) for n in lengths]

    def forward(inputs):  # each row's sum of ids, and its padded width
        assert inputs["input_ids"].shape[1] % LENGTH_BUCKET == 0
        return {"sum": inputs["input_ids"].sum(axis=1).astype(float), "mask": inputs["attention_mask"]}

    out = outputs_in_row_order(forward, rows, 0, 2, 96, per_token=("mask",))
    np.testing.assert_allclose(out["sum"], [n * (n + 1) / 2 for n in lengths])
    assert [len(m) for m in out["mask"]] == lengths.tolist()
