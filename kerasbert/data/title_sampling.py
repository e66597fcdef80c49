"""At most N training rows per title in each epoch, drawn afresh every epoch.

Ratings cluster by title, and a few titles hold most Douban rows (in the
by-movie split of the shared data, 4 of 280 training titles hold 88% of the
training rows, with opposite star mixes). Trained on every row, a model
learns those titles. Capping each title's rows per epoch weighs titles more
evenly, and re-drawing the cap every epoch still shows the model every row
over several epochs, at a fraction of an epoch's cost.

Rows are drawn within (title, length bucket) groups with fixed quotas, so
every epoch has the same number of batches: Keras' progress bar, the
learning-rate schedule and `BackupAndRestore` need that count.

    sampling = TitleSampling.build(titles, lengths, rows_per_title=2000, bucket_boundaries=[17, 33])
    rows = sampling.dataset(seed=0)        # int64 row indices, a new draw each iteration
    sampling.count_lengths                 # lengths with the epoch's bucket sizes, for counting batches
"""

import dataclasses

import numpy as np

from kerasbert.limits import COUNT


@dataclasses.dataclass(frozen=True)
class TitleSampling:
    """Row groups (one title, one length bucket) and how many rows each gives per epoch.

    groups: list of int64 arrays of row indices. quotas: int array, one per
    group (`quota <= len(group)`). group_lengths: a token length of each
    group's bucket (what counting batches needs).
    """

    groups: tuple
    quotas: np.ndarray
    group_lengths: np.ndarray

    @classmethod
    def build(cls, titles, lengths, rows_per_title, bucket_boundaries=()):
        """Quotas that give each title `min(rows, rows_per_title)` rows, split over its length buckets
        in proportion (largest remainders)."""
        rows_per_title = COUNT.check("rows_per_title", rows_per_title)
        titles = np.asarray([str(t) for t in titles])
        lengths = np.asarray(lengths, dtype=np.int64)
        if len(titles) != len(lengths):
            raise ValueError("%d titles but %d rows" % (len(titles), len(lengths)))
        buckets = np.digitize(lengths, sorted(int(b) for b in bucket_boundaries)) if len(bucket_boundaries) else (
            np.zeros(len(lengths), int))
        title_ids = np.unique(titles, return_inverse=True)[1]
        # One group per (title, bucket), in title order; rows sorted so each group is one slice.
        order = np.lexsort((buckets, title_ids))
        keys = np.stack([title_ids[order], buckets[order]], axis=1)
        starts = np.flatnonzero(np.r_[True, np.any(keys[1:] != keys[:-1], axis=1)])
        groups = np.split(order.astype(np.int64), starts[1:])
        sizes = np.diff(np.r_[starts, len(order)])
        group_titles = keys[starts, 0]
        title_rows = np.bincount(title_ids)[group_titles]
        share = sizes * np.minimum(title_rows, rows_per_title) / title_rows
        quotas = np.floor(share).astype(np.int64)
        for title in np.unique(group_titles):  # largest remainders, so each title gives exactly its cap
            members = np.flatnonzero(group_titles == title)
            missing = min(title_rows[members[0]], rows_per_title) - quotas[members].sum()
            quotas[members[np.argsort(-(share - quotas)[members], kind="stable")[:missing]]] += 1
        group_lengths = lengths[order[starts]]
        return cls(tuple(groups), quotas, group_lengths.astype(np.int64))

    @property
    def rows_per_epoch(self):
        return int(self.quotas.sum())

    @property
    def count_lengths(self):
        """One length per row of an epoch, each in its row's bucket: what `_count_batches` needs."""
        return np.repeat(self.group_lengths, self.quotas)

    def draw(self, rng):
        """Row indices (int64) of one epoch, shuffled, drawn with a `numpy.random.Generator` (no TensorFlow)."""
        picked = [group[rng.permutation(len(group))[:quota]] for group, quota in zip(self.groups, self.quotas)]
        rows = np.concatenate(picked) if picked else np.zeros(0, np.int64)
        return rows[rng.permutation(len(rows))]

    def dataset(self, seed=0):
        """Row indices (int64) of one epoch, shuffled; every iteration draws new rows from capped groups."""
        from kerasbert._backend import tf

        seed = int(seed)
        members = tf.RaggedTensor.from_row_lengths(
            tf.constant(np.concatenate(self.groups) if self.groups else np.zeros(0, np.int64), tf.int64),
            tf.constant([len(g) for g in self.groups], tf.int64),
        )
        quotas = tf.constant(self.quotas, tf.int64)

        def draw(group, key):
            rows, quota = group
            # A stateless draw keyed by a number that changes every iteration: a new subset each epoch,
            # the same sequence of subsets for the same seed.
            order = tf.argsort(tf.random.stateless_uniform(tf.shape(rows), seed=tf.stack([key, seed])))
            return tf.data.Dataset.from_tensor_slices(tf.gather(rows, order[:quota]))

        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        groups = tf.data.Dataset.from_tensor_slices((members, quotas))
        ds = tf.data.Dataset.zip((groups, keys)).flat_map(draw)
        if self.rows_per_epoch > 1:
            ds = ds.shuffle(self.rows_per_epoch, seed=seed, reshuffle_each_iteration=True)
        return ds.apply(tf.data.experimental.assert_cardinality(self.rows_per_epoch))



def balanced_star_weights(labels, titles=None, rows_per_title=None, num_classes=None):
    """{label: weight} inversely proportional to each label's share of an epoch's rows.

    sklearn's "balanced" rule, n / (classes * count_k), with each row counted
    by its chance to be drawn: min(1, rows_per_title / rows of its title).
    Labels absent from the data get weight 0 (never used).
    """
    labels = np.asarray(labels).astype(int).ravel()
    share = np.ones(len(labels)) if rows_per_title is None else title_weights(titles, rows_per_title)
    num_classes = num_classes or int(labels.max()) + 1
    counts = np.bincount(labels, weights=share, minlength=num_classes)
    present = counts > 0
    weights = np.zeros(num_classes)
    weights[present] = share.sum() / (present.sum() * counts[present])
    return {k: float(w) for k, w in enumerate(weights)}


def title_weights(titles, rows_per_title):
    """`(rows,)` float32: min(1, rows_per_title / rows of the row's title).

    A title's rows then weigh as much as `rows_per_title` rows at most: the
    expectation of a metric over a per-title capped sample, without drawing one.
    """
    _, inverse, counts = np.unique(np.asarray(titles).astype(str), return_inverse=True, return_counts=True)
    return np.minimum(1.0, rows_per_title / counts[inverse]).astype(np.float32)


__all__ = ["TitleSampling", "balanced_star_weights", "title_weights"]
