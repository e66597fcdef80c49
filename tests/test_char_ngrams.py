"""The character n-gram model stacked with the encoder (kerasbert.char_ngrams, kerasbert.training.stacking)."""

import numpy as np
import pandas as pd
import pytest

from kerasbert.char_ngrams import CharNgramModel, blend_outputs, load_folder_char_model, save_folder_char_model
from kerasbert.training.stacking import choose_stack_weight


@pytest.fixture(scope="module")
def sample(demo_sample_csv):
    frame = pd.read_csv(demo_sample_csv)
    return frame.iloc[:1500], frame.iloc[1500:]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_fit_save_load_predicts_the_same_without_pickles(task, sample, tmp_path):
    train, test = sample
    model = CharNgramModel.fit(train["comment"], train["star"], task, weight=0.3)
    before = model.predict(test["comment"])
    assert before.shape == ((len(test), 5) if task == "classification" else (len(test), 1))
    save_folder_char_model(model, str(tmp_path))
    assert sorted(p.name for p in (tmp_path / "char_model").iterdir()) == ["char_model.json", "vocabulary.json",
                                                                          "weights.npz"]
    loaded = load_folder_char_model(str(tmp_path))
    assert loaded.weight == 0.3 and loaded.task == task
    np.testing.assert_allclose(loaded.predict(test["comment"]), before, rtol=1e-5, atol=1e-6)
    if task == "classification":
        np.testing.assert_allclose(before.sum(axis=1), 1.0, atol=1e-5)
        # better than the majority star on held-out rows of the same titles
        majority = train["star"].mode()[0]
        assert (before.argmax(1) + 1 == test["star"]).mean() > (test["star"] == majority).mean()
    save_folder_char_model(None, str(tmp_path))  # a folder re-saved without one loses the old one
    assert load_folder_char_model(str(tmp_path)) is None


def test_blend_against_its_formula():
    rng = np.random.default_rng(0)
    a, b = rng.dirichlet(np.ones(5), size=4), rng.dirichlet(np.ones(5), size=4)
    expected = a ** 0.7 * b ** 0.3
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(blend_outputs(a, b, 0.7, "classification"), expected, rtol=1e-5)
    np.testing.assert_allclose(blend_outputs(a, b, 1.0, "classification"), a, rtol=1e-5)
    scores_a, scores_b = np.array([[1.0], [4.0]]), np.array([[3.0], [2.0]])
    np.testing.assert_allclose(blend_outputs(scores_a, scores_b, 0.25, "regression"), [[2.5], [2.5]])


def test_the_weight_goes_to_the_model_that_knows():
    rng = np.random.default_rng(1)
    stars = rng.integers(1, 6, size=600)
    informed = np.full((600, 5), 0.1)
    informed[np.arange(600), stars - 1] = 0.6
    noise = rng.dirichlet(np.ones(5), size=600)
    groups = ["t%d" % (i % 20) for i in range(600)]
    weight, scores = choose_stack_weight(noise, informed, stars, groups, "classification")
    assert weight <= 0.3 and scores[weight] > scores[1.0] + 0.3
    weight, _ = choose_stack_weight(informed, noise, stars, groups, "classification")
    assert weight >= 0.7
