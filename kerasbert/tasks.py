"""The two rating tasks and the rules every module shares about stars.

One place owns them: the task names, the number of stars, how labels map to
stars, and how a continuous score becomes a star (round half up, clip 1-5).

- classification: 5 classes, labels 0-4 (star - 1), predicted star = argmax + 1;
- regression: one score in [1, 5], labels 1-5, predicted star = the score
  rounded half up and clipped to 1-5.
"""

import numpy as np

TASKS = ("classification", "regression")
NUM_STARS = 5
MIN_STAR, MAX_STAR = 1, NUM_STARS


def check_task(task):
    """`task` if it is one of `TASKS`, else a `ValueError` naming the choices."""
    if task not in TASKS:
        raise ValueError("task must be one of %s, got %r" % (", ".join(TASKS), task))
    return task


def round_stars(scores):
    """Continuous scores to integer stars 1-5: round half up (2.5 -> 3), clip.

    NumPy's `round` rounds half to even (2.5 -> 2), which would bias the
    middle stars; this is the one rule used by metrics, reports and predict.
    Works on NumPy arrays; `round_stars_tf` is the same rule on tensors.
    """
    return np.clip(np.floor(np.asarray(scores, dtype=np.float64) + 0.5), MIN_STAR, MAX_STAR).astype(int)


def round_stars_tf(scores):
    """`round_stars` on a float tensor; returns float32 stars."""
    from kerasbert._backend import tf

    scores = tf.cast(scores, tf.float32)
    return tf.clip_by_value(tf.floor(scores + 0.5), float(MIN_STAR), float(MAX_STAR))
