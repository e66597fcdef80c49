"""The two rating tasks and every rule about stars: the one home for them.

- classification: 5 classes, labels 0-4 (star - 1), predicted star = argmax + 1;
- regression: one score in [1, 5], labels 1-5, predicted star = the score
  rounded half up and clipped to 1-5.

Other modules import these names instead of writing `argmax + 1`, `1-5` or
`range(1, 6)` themselves. The rules exist in NumPy here; `stars_from_outputs_tf`
is the same rule on TensorFlow tensors (for Keras metrics), imported lazily so
that this module stays free of TensorFlow.
"""

import numpy as np

TASKS = ("classification", "regression")
NUM_STARS = 5
MIN_STAR, MAX_STAR = 1, NUM_STARS
STARS = tuple(range(MIN_STAR, MAX_STAR + 1))  # (1, 2, 3, 4, 5)


def check_task(task):
    """`task` if it is one of `TASKS`, else a `ValueError` naming the choices."""
    if task not in TASKS:
        raise ValueError("task must be one of %s, got %r" % (", ".join(TASKS), task))
    return task


def output_width(task):
    """The width of a rating network's output: 5 probabilities, or 1 score."""
    return NUM_STARS if check_task(task) == "classification" else 1


def round_stars(scores):
    """Continuous scores to integer stars 1-5: round half up (2.5 -> 3), clip.

    NumPy's `round` rounds half to even (2.5 -> 2), which would bias the
    middle stars; this is the one rule used by metrics, reports and predict.
    """
    return np.clip(np.floor(np.asarray(scores, dtype=np.float64) + 0.5), MIN_STAR, MAX_STAR).astype(int)


def stars_from_outputs(outputs, task):
    """Integer stars 1-5 from a rating network's outputs.

    Args:
        outputs: `(n, 5)` star probabilities (classification) or `(n,)` /
            `(n, 1)` scores (regression).
        task: `"classification"` or `"regression"`.

    Returns:
        `(n,)` int array: argmax + 1, or the score rounded half up and clipped.
    """
    outputs = np.asarray(outputs)
    if check_task(task) == "classification":
        return outputs.argmax(axis=-1).astype(int) + MIN_STAR
    return round_stars(outputs.reshape(-1))


def scores_from_outputs(outputs, task):
    """What a report keeps of the outputs: `(n, 5)` probabilities, or the `(n,)` score."""
    outputs = np.asarray(outputs)
    return outputs if check_task(task) == "classification" else outputs.reshape(-1)


def labels_from_stars(stars, task):
    """Stars 1-5 as the task's labels: int 0-4 (classification) or float 1-5 (regression)."""
    stars = np.asarray(stars)
    if check_task(task) == "classification":
        return stars.astype(np.int32) - MIN_STAR
    return stars.astype(np.float32)


def stars_from_outputs_tf(y_true, y_pred, task, rounded=True):
    """`(true, predicted)` float32 stars `(batch,)` from labels and outputs, as TF tensors.

    The rules above on tensors: classification labels + 1 and argmax + 1;
    regression scores rounded half up and clipped when `rounded`, else kept.
    """
    from kerasbert._backend import tf

    true = tf.cast(tf.reshape(y_true, [-1]), tf.float32)
    if check_task(task) == "classification":
        return true + float(MIN_STAR), tf.cast(tf.argmax(y_pred, axis=-1), tf.float32) + float(MIN_STAR)
    predicted = tf.cast(tf.reshape(y_pred, [-1]), tf.float32)
    if rounded:
        predicted = tf.clip_by_value(tf.floor(predicted + 0.5), float(MIN_STAR), float(MAX_STAR))
    return true, predicted


def stars_from_outputs_ops(y_true, y_pred, task, rounded=True):
    """`stars_from_outputs_tf` in Keras 3's `keras.ops`, for the Keras 3 road's metrics (any backend)."""
    from keras import ops

    true = ops.cast(ops.reshape(y_true, (-1,)), "float32")
    if check_task(task) == "classification":
        return true + float(MIN_STAR), ops.cast(ops.argmax(y_pred, axis=-1), "float32") + float(MIN_STAR)
    predicted = ops.cast(ops.reshape(y_pred, (-1,)), "float32")
    if rounded:
        predicted = ops.clip(ops.floor(predicted + 0.5), float(MIN_STAR), float(MAX_STAR))
    return true, predicted
