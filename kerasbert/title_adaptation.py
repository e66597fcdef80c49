"""Rate a title's comments with the title in mind: adaptation to each group's own star mix.

A comment is rated alone under the star prior the model was trained under,
but the comments of one title share that title's star mix, which differs a
great deal between titles. Given the group (title) of each row, and no
label, the outputs of a whole group are adapted together:

- **classification** (`PriorAdaptation`): the EM of Saerens, Latinne and
  Decaestecker (2002). With calibrated posteriors `p(y|x)` under the source
  prior `pi_s`, a group's prior `pi_g` and its posteriors are re-estimated in
  turn:

      q(y|x) = p(y|x) pi_g(y) / pi_s(y), normalised over y
      pi_g   = (sum_x q(.|x) + strength * pi_s) / (n_g + strength)

  `strength` shrinks `pi_g` towards `pi_s` as if the group had that many more
  rows at the source prior. The posteriors are first calibrated: bias-corrected
  temperature scaling, `p = softmax(log p_model / T + b)` (Alexandari, Kundaje
  and Shrikumar 2020), with `T = 1, b = 0` for none.
- **regression** (`OffsetAdaptation`): a per-group offset. A regressor pulls
  its scores towards the mean; a group whose scores lean away from `center`
  is moved further that way:

      s'(x) = s(x) + gain * n_g / (n_g + strength) * (mean_g s - center)

A group of one row, and a row without a group (None or ""), is left as it is.
The parameters are fitted on validation titles
(`kerasbert.training.fit_title_adaptation`) and saved inside the model
(`RatingModel.adaptation`). Maths in float64 NumPy; no framework.
"""

import numpy as np

from kerasbert.errors import ArgumentError
from kerasbert.limits import number
from kerasbert.tasks import NUM_STARS, check_task

__all__ = ["CALIBRATIONS", "OffsetAdaptation", "PriorAdaptation", "adaptation_from_config", "apply_calibration",
           "em_group_priors", "group_codes", "star_prior"]

CALIBRATIONS = ("none", "temperature", "bias")  # the kinds `fit_calibration` fits
STRENGTH = number(0)  # pseudo-rows at the source prior
TEMPERATURE = number(0, low_open=True)
EM_TOLERANCE = 1e-7
EM_MAX_ITERATIONS = 500
_TINY = 1e-12  # floor on probabilities before their log


def group_codes(groups, n):
    """`(codes, names, sizes)`: the group index of each of `n` rows (-1: no group, or a group of one row), the
    group names and their row counts. `groups` holds one key per row (None, NaN or a blank string: no group),
    or is an integer array of group numbers (negative: no group). An `ArgumentError` when it is not one per row."""
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__len__"):
        raise ArgumentError("groups", "groups must hold one key per row (a list, array or Series), got %s"
                            % type(groups).__name__)
    if len(groups) != n:
        raise ArgumentError("groups", "groups has %d keys for %d rows" % (len(groups), n))
    if isinstance(groups, np.ndarray) and np.issubdtype(groups.dtype, np.integer):  # group numbers, -1: none
        names, inverse = np.unique(groups[groups >= 0], return_inverse=True)
        names = names.tolist()
        codes = np.full(n, -1, np.int64)
        codes[groups >= 0] = inverse
    else:
        named = {}
        codes = np.full(n, -1, np.int64)
        for i, key in enumerate(groups.tolist() if hasattr(groups, "tolist") else list(groups)):
            if key is None or (isinstance(key, float) and np.isnan(key)) or (isinstance(key, str)
                                                                             and not key.strip()):
                continue
            codes[i] = named.setdefault(key if isinstance(key, str) else str(key), len(named))
        names = list(named)
    sizes = np.bincount(codes[codes >= 0], minlength=len(names))
    single = (codes >= 0) & (sizes[np.maximum(codes, 0)] < 2)
    codes[single] = -1
    return codes, names, sizes


def star_prior(stars, weights=None):
    """`(5,)` float64: the (weighted) share of each star 1-5 among `stars`."""
    stars = np.asarray(stars).astype(int).ravel()
    counts = np.bincount(stars - 1, weights=weights, minlength=NUM_STARS)[:NUM_STARS].astype(np.float64)
    if counts.sum() <= 0:
        raise ArgumentError("stars", "no star to estimate a prior from")
    return counts / counts.sum()


def _as_prior(values, name):
    prior = np.asarray(values, np.float64).reshape(-1)
    if prior.shape != (NUM_STARS,) or not np.all(np.isfinite(prior)) or np.any(prior <= 0):
        raise ArgumentError(name, "%s must be %d positive shares, got %r" % (name, NUM_STARS, list(np.ravel(values))))
    return prior / prior.sum()


def apply_calibration(probabilities, temperature=1.0, bias=None):
    """`softmax(log p / temperature + bias)` row by row, float64."""
    logits = np.log(np.clip(np.asarray(probabilities, np.float64), _TINY, None)) / temperature
    if bias is not None:
        logits = logits + np.asarray(bias, np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def em_group_priors(posteriors, codes, n_groups, source_prior, strength, tolerance=EM_TOLERANCE,
                    max_iterations=EM_MAX_ITERATIONS):
    """The EM of Saerens et al. (2002) for every group at once.

    Args:
        posteriors: `(n, K)` calibrated probabilities under `source_prior`.
        codes: `(n,)` group index per row, -1 for rows left as they are.
        n_groups: the number of groups.
        source_prior: `(K,)` the prior the posteriors are relative to.
        strength: pseudo-rows at `source_prior` added to each group's counts.

    Returns:
        `(priors (n_groups, K), adapted (n, K))`; rows with code -1 keep their posteriors.
    """
    posteriors = np.asarray(posteriors, np.float64)
    source_prior = np.asarray(source_prior, np.float64)
    grouped = codes >= 0
    p, g = posteriors[grouped], codes[grouped]
    sizes = np.bincount(g, minlength=n_groups).astype(np.float64)[:, None]
    priors = np.tile(source_prior, (n_groups, 1))
    for _ in range(max_iterations):
        adjusted = p * (priors / source_prior)[g]
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        sums = np.zeros_like(priors)
        np.add.at(sums, g, adjusted)
        updated = (sums + strength * source_prior) / np.maximum(sizes + strength, _TINY)
        updated[sizes[:, 0] == 0] = source_prior
        done = np.max(np.abs(updated - priors)) < tolerance
        priors = updated
        if done:
            break
    adapted = posteriors.copy()
    adjusted = p * (priors / source_prior)[g]
    adapted[grouped] = adjusted / adjusted.sum(axis=1, keepdims=True)
    return priors, adapted


class PriorAdaptation:
    """Per-group star priors by EM on calibrated probabilities (classification).

    Args:
        training_prior: `(5,)` the star mix the classifier was trained under
            (after per-title caps and class weights): saved for reference and
            the source prior of uncalibrated probabilities.
        source_prior: `(5,)` the prior the calibrated probabilities are
            relative to (the calibration data's star mix after bias-corrected
            calibration); default `training_prior`.
        temperature, bias: the calibration, `softmax(log p / T + b)`.
        strength: pseudo-rows at the source prior; None turns the EM off
            (calibration only).
        calibration: the kind fitted (`"none"`, `"temperature"`, `"bias"`), for reports.
    """

    task = "classification"

    def __init__(self, training_prior, source_prior=None, temperature=1.0, bias=None, strength=20.0,
                 calibration="none"):
        self.training_prior = _as_prior(training_prior, "training_prior")
        self.source_prior = self.training_prior if source_prior is None else _as_prior(source_prior, "source_prior")
        self.temperature = TEMPERATURE.check("temperature", temperature)
        self.bias = np.zeros(NUM_STARS) if bias is None else np.asarray(bias, np.float64).reshape(NUM_STARS)
        self.strength = None if strength is None else STRENGTH.check("strength", strength)
        if calibration not in CALIBRATIONS:
            raise ArgumentError("calibration", "calibration must be one of %s, got %r"
                                % (", ".join(CALIBRATIONS), calibration))
        self.calibration = calibration

    def calibrate(self, probabilities):
        return apply_calibration(probabilities, self.temperature, self.bias)

    def adapt(self, outputs, groups):
        """`(adapted (n, 5) float32, {group: (5,) estimated star mix})` of probabilities and one key per row."""
        outputs = np.asarray(outputs)
        codes, names, _ = group_codes(groups, len(outputs))
        calibrated = self.calibrate(outputs)
        if self.strength is None:
            return calibrated.astype(np.float32), {}
        priors, adapted = em_group_priors(calibrated, codes, len(names), self.source_prior, self.strength)
        present = set(codes[codes >= 0].tolist())
        return adapted.astype(np.float32), {names[k]: priors[k] for k in sorted(present)}

    def describe(self):
        em = "off" if self.strength is None else "strength %g rows" % self.strength
        return "EM prior adaptation (%s), calibration %s (T %.3f)" % (em, self.calibration, self.temperature)

    def get_config(self):
        return {"task": self.task, "training_prior": self.training_prior.tolist(),
                "source_prior": self.source_prior.tolist(), "temperature": float(self.temperature),
                "bias": self.bias.tolist(), "strength": self.strength, "calibration": self.calibration}


class OffsetAdaptation:
    """A per-group offset of scores (regression): `s + gain * n/(n + strength) * (group mean - center)`.

    Args:
        center: the typical score (the mean score on the fitting data).
        gain: how far a group is moved along its own lean; 0 leaves scores as they are.
        strength: pseudo-rows at `center` shrinking the group mean.
    """

    task = "regression"

    def __init__(self, center, gain=1.0, strength=20.0):
        self.center = float(center)
        self.gain = number().check("gain", gain)
        self.strength = STRENGTH.check("strength", strength)

    def adapt(self, outputs, groups):
        """`(adapted scores shaped like outputs, float32, {group: offset})`."""
        outputs = np.asarray(outputs)
        scores = outputs.reshape(-1).astype(np.float64)
        codes, names, _ = group_codes(groups, len(scores))
        grouped = codes >= 0
        sizes = np.bincount(codes[grouped], minlength=len(names)).astype(np.float64)
        sums = np.bincount(codes[grouped], weights=scores[grouped], minlength=len(names))
        means = np.divide(sums, sizes, out=np.full(len(names), self.center), where=sizes > 0)
        offsets = self.gain * sizes / (sizes + self.strength + _TINY) * (means - self.center)
        adapted = scores.copy()
        adapted[grouped] += offsets[codes[grouped]]
        present = set(codes[grouped].tolist())
        return adapted.reshape(outputs.shape).astype(np.float32), {names[k]: float(offsets[k]) for k in sorted(present)}

    def describe(self):
        return "per-title offset (gain %g, strength %g rows, center %.3f)" % (self.gain, self.strength, self.center)

    def get_config(self):
        return {"task": self.task, "center": self.center, "gain": self.gain, "strength": self.strength}


def adaptation_from_config(config):
    """A `PriorAdaptation` or `OffsetAdaptation` from its `get_config()` (None stays None)."""
    if config is None:
        return None
    if isinstance(config, (PriorAdaptation, OffsetAdaptation)):
        return config
    config = dict(config)
    kind = {"classification": PriorAdaptation, "regression": OffsetAdaptation}[check_task(config.pop("task"))]
    return kind(**config)
