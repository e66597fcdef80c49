"""The title adaptation's maths (kerasbert.title_adaptation) against hand-worked values and NumPy references."""

import numpy as np
import pytest

from kerasbert.errors import ArgumentError
from kerasbert.title_adaptation import (OffsetAdaptation, PriorAdaptation, adaptation_from_config, apply_calibration,
                                        em_group_priors, group_codes)
from kerasbert.training.title_adaptation import fit_calibration, select_adaptation, training_star_prior


def test_em_on_a_hand_worked_two_class_example():
    # Posteriors under a 50/50 prior: (0.9, 0.1) and (0.3, 0.7). The likelihood of a new prior pi peaks where
    # 0.8 / (0.1 + 0.8 pi) = 0.4 / (0.7 - 0.4 pi), i.e. pi = 0.52 / 0.64 = 0.8125; the adjusted posteriors are
    # 0.73125 / 0.75 = 0.975 and 0.24375 / 0.375 = 0.65, whose mean is pi again.
    posteriors = np.array([[0.9, 0.1], [0.3, 0.7]])
    priors, adapted = em_group_priors(posteriors, np.array([0, 0]), 1, np.array([0.5, 0.5]), strength=0.0,
                                      tolerance=1e-12, max_iterations=10000)
    np.testing.assert_allclose(priors[0], [0.8125, 0.1875], atol=1e-7)
    np.testing.assert_allclose(adapted[:, 0], [0.975, 0.65], atol=1e-7)


def _reference_em(posteriors, source, strength, iterations=5000):
    """One group, plain loops: the fixed point of Saerens et al.'s EM with pseudo-rows at the source prior."""
    prior = source.copy()
    for _ in range(iterations):
        adjusted = []
        for row in posteriors:
            weighted = [row[k] * prior[k] / source[k] for k in range(len(row))]
            adjusted.append([w / sum(weighted) for w in weighted])
        prior = (np.sum(adjusted, axis=0) + strength * source) / (len(posteriors) + strength)
    return prior, np.array(adjusted)


@pytest.mark.parametrize("strength", [0.0, 3.0, 50.0])
def test_em_matches_a_per_group_reference_for_many_groups(strength):
    rng = np.random.default_rng(0)
    source = np.array([0.2, 0.1, 0.15, 0.25, 0.3])
    posteriors = rng.dirichlet(np.ones(5), size=40)
    codes = np.repeat([0, 1, 2, 3], 10)
    codes[[5, 17]] = -1  # rows left as they are
    priors, adapted = em_group_priors(posteriors, codes, 4, source, strength, tolerance=1e-13,
                                      max_iterations=20000)
    for group in range(4):
        rows = codes == group
        prior, expected = _reference_em(posteriors[rows], source, strength, iterations=3000)
        np.testing.assert_allclose(priors[group], prior, atol=1e-6)
        np.testing.assert_allclose(adapted[rows], expected, atol=1e-6)
    np.testing.assert_array_equal(adapted[codes == -1], posteriors[codes == -1])


def test_the_em_prior_is_the_penalised_maximum_likelihood():
    # The shrunk EM's fixed point maximises sum_i log(sum_k p_ik pi_k / s_k) + strength * sum_k s_k log pi_k
    # on the simplex: every star's partial derivative equals the same Lagrange multiplier.
    rng = np.random.default_rng(1)
    source = np.array([0.3, 0.1, 0.1, 0.2, 0.3])
    posteriors = rng.dirichlet(np.ones(5) * 0.7, size=30)
    strength = 4.0
    prior = em_group_priors(posteriors, np.zeros(30, int), 1, source, strength, tolerance=1e-14,
                            max_iterations=100000)[0][0]
    mixture = (posteriors / source) @ prior
    gradient = ((posteriors / source) / mixture[:, None]).sum(axis=0) + strength * source / prior
    np.testing.assert_allclose(gradient, gradient.mean(), rtol=1e-5)


def test_a_title_whose_comments_lean_to_five_stars_moves_its_prior_there():
    source = np.full(5, 0.2)
    adaptation = PriorAdaptation(source, strength=5.0)
    leaning = np.tile([0.05, 0.05, 0.1, 0.3, 0.5], (30, 1))
    sour = np.tile([0.5, 0.3, 0.1, 0.05, 0.05], (30, 1))
    adapted, estimates = adaptation.adapt(np.vstack([leaning, sour]), ["good"] * 30 + ["bad"] * 30)
    assert estimates["good"][4] > 0.5 > estimates["bad"][4]
    assert estimates["bad"][0] > 0.5
    assert np.all(adapted[:30, 4] > leaning[:, 4]) and np.all(adapted[30:, 0] > sour[:, 0])
    np.testing.assert_allclose(adapted.sum(axis=1), 1.0, atol=1e-6)


def test_a_group_of_one_row_and_rows_without_a_group_are_left_alone():
    probabilities = np.random.default_rng(2).dirichlet(np.ones(5), size=6).astype(np.float32)
    adaptation = PriorAdaptation(np.full(5, 0.2), strength=0.0)
    adapted, estimates = adaptation.adapt(probabilities, ["a", "a", "b", None, "", float("nan")])
    np.testing.assert_allclose(adapted[2:], probabilities[2:], atol=1e-6)
    assert set(estimates) == {"a"}
    assert not np.allclose(adapted[:2], probabilities[:2])


def test_calibration_recovers_a_known_temperature_and_bias():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(6000, 5)) * 2.0
    model_probabilities = apply_calibration(np.exp(logits))  # the model: softmax(z)
    true_bias = np.array([0.5, -0.3, 0.0, -0.6, 0.4])
    truth = apply_calibration(np.exp(logits), temperature=2.0, bias=true_bias)  # the world: softmax(z / 2 + b)
    stars = np.array([rng.choice(5, p=p) for p in truth]) + 1
    temperature, bias = fit_calibration(model_probabilities, stars, kind="bias")
    assert temperature == pytest.approx(2.0, rel=0.08)
    np.testing.assert_allclose(bias, true_bias - true_bias.mean(), atol=0.12)
    assert fit_calibration(model_probabilities, stars, kind="temperature")[1].tolist() == [0.0] * 5
    assert fit_calibration(model_probabilities, stars, kind="none") == (1.0, pytest.approx(np.zeros(5)))


def test_offset_adaptation_against_its_formula():
    scores = np.array([4.0, 4.5, 5.0, 2.0, 3.0, 3.3])
    groups = ["a", "a", "a", "b", "b", "c"]
    adapted, offsets = OffsetAdaptation(center=3.0, gain=1.5, strength=2.0).adapt(scores[:, None], groups)
    offset_a = 1.5 * 3 / 5 * (4.5 - 3.0)
    offset_b = 1.5 * 2 / 4 * (2.5 - 3.0)
    np.testing.assert_allclose(adapted[:, 0], scores + np.array([offset_a] * 3 + [offset_b] * 2 + [0.0]), rtol=1e-6)
    assert offsets == {"a": pytest.approx(offset_a), "b": pytest.approx(offset_b)}
    assert adapted.shape == (6, 1)


def test_training_prior_counts_the_per_title_cap_and_class_weights():
    stars = np.array([1] * 8 + [5] * 2 + [5] * 2)
    titles = ["big"] * 10 + ["small"] * 2
    # "big" draws 4 of its 10 rows per epoch (0.4 each): 3.2 one-star and 0.8 five-star; "small" 2 five-star.
    np.testing.assert_allclose(training_star_prior(stars, titles, rows_per_title=4), [3.2 / 6, 0, 0, 0, 2.8 / 6])
    weighted = training_star_prior(stars, titles, 4, class_weight={0: 0.5, 4: 2.0})
    np.testing.assert_allclose(weighted, np.array([1.6, 0, 0, 0, 5.6]) / 7.2)


def test_config_round_trip():
    adaptation = PriorAdaptation([0.1, 0.2, 0.3, 0.2, 0.2], [0.2] * 5, 1.3, [0.1, 0, 0, 0, -0.1], 20.0, "bias")
    again = adaptation_from_config(adaptation.get_config())
    assert again.get_config() == adaptation.get_config()
    offset = OffsetAdaptation(3.1, 0.75, 50.0)
    assert adaptation_from_config(offset.get_config()).get_config() == offset.get_config()
    assert PriorAdaptation([0.2] * 5, strength=None).adapt(np.full((2, 5), 0.2), ["a", "a"])[1] == {}


def _shifted_titles(seed, n_titles=40, rows=60):
    """A calibrated classifier's probabilities on titles whose star mixes differ (Dirichlet(0.5) priors)."""
    rng = np.random.default_rng(seed)
    likelihood = rng.dirichlet(np.ones(8) * 0.7, size=5)  # p(feature | star), 8 discrete features
    probabilities, stars, titles = [], [], []
    for t in range(n_titles):
        prior = rng.dirichlet(np.ones(5) * 0.5)
        for _ in range(rows):
            star = rng.choice(5, p=prior)
            feature = rng.choice(8, p=likelihood[star])
            posterior = likelihood[:, feature] * 0.2  # under the uniform training prior
            probabilities.append(posterior / posterior.sum())
            stars.append(star + 1)
            titles.append("t%d" % t)
    return np.array(probabilities), np.array(stars), titles


def test_select_adaptation_chooses_the_em_when_titles_differ_and_it_helps():
    probabilities, stars, titles = _shifted_titles(0)
    adaptation, table = select_adaptation("classification", probabilities, stars, titles,
                                          training_prior=np.full(5, 0.2))
    assert adaptation.strength is not None
    alone = table[table["strength"].isna() & (table["calibration"] == "none")]["accuracy"].iloc[0]
    assert table["accuracy"].iloc[0] > alone + 0.05
    # and on fresh titles of the same world, the chosen adaptation wins too
    fresh, fresh_stars, fresh_titles = _shifted_titles(1)
    adapted = adaptation.adapt(fresh, fresh_titles)[0]
    assert (adapted.argmax(1) + 1 == fresh_stars).mean() > (fresh.argmax(1) + 1 == fresh_stars).mean() + 0.05


def test_select_adaptation_for_regression_keeps_no_offset_when_titles_do_not_differ():
    rng = np.random.default_rng(4)
    stars = rng.integers(1, 6, size=1200)
    scores = np.clip(3 + 0.5 * (stars - 3) + rng.normal(scale=0.8, size=1200), 1, 5)
    titles = ["t%d" % (i % 30) for i in range(1200)]  # every title the same mix
    adaptation, _ = select_adaptation("regression", scores[:, None], stars, titles)
    assert adaptation.gain <= 0.5


def test_bad_groups_are_refused():
    with pytest.raises(ArgumentError, match="3 keys for 2 rows"):
        group_codes(["a", "b", "c"], 2)
    with pytest.raises(ArgumentError, match="one key per row"):
        group_codes("movie", 5)
    with pytest.raises(ArgumentError, match="at least 2 titles"):
        select_adaptation("classification", np.full((3, 5), 0.2), [1, 2, 3], ["a", "a", "a"])
    with pytest.raises(ArgumentError, match="at least 2 titles with 2 or more rows, got 1"):  # singletons rate alone
        select_adaptation("classification", np.full((5, 5), 0.2), [1, 2, 3, 4, 5], ["a", "a", "b", "c", "d"])
    codes, names, sizes = group_codes(np.array([3, 3, -1, 7]), 4)
    assert codes.tolist() == [0, 0, -1, -1] and names == [3, 7] and sizes.tolist() == [2, 1]
