import numpy as np
import pytest

import kerasbert
from kerasbert._backend import keras, tf
from kerasbert.models import (
    DEFAULT_SCORE_RANGE,
    build_feature_model,
    build_rating_model,
    compile_rating_model,
    rating_analysis_model,
)

SMALL_POOL = dict(attention_units=8, num_hops=2)


def toy_task(n=48, time=8, seed=0):
    """Star = 1 + number of distinct 'good' tokens (ids 3-6) in the text: learnable."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(10, 60, size=(n, time)).astype("int32")
    stars = rng.integers(1, 6, size=n)
    for row, star in enumerate(stars):
        ids[row, 1 : star] = np.arange(3, 3 + star - 1)
    mask = np.ones_like(ids)
    lengths = rng.integers(5, time + 1, size=n)
    for row, length in enumerate(lengths):
        mask[row, length:] = 0
        ids[row, length:] = 0
    return {"input_ids": ids, "attention_mask": mask}, stars


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_outputs_and_save_load_identical(tiny_bert_config, task, tmp_path):
    model = build_rating_model(tiny_bert_config, task=task, mode="full", hidden_units=(8,), **SMALL_POOL)
    compile_rating_model(model, task)
    x, stars = toy_task(n=8)
    y = stars - 1 if task == "classification" else stars.astype("float32")
    model.fit(x, y, epochs=1, verbose=0)
    predictions = model.predict(x, verbose=0)
    if task == "classification":
        assert predictions.shape == (8, 5)
        np.testing.assert_allclose(predictions.sum(-1), 1.0, rtol=1e-5)
    else:
        low, high = DEFAULT_SCORE_RANGE
        assert predictions.shape == (8, 1) and np.all((predictions >= low) & (predictions <= high))
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), predictions)
    # The compiled loss and star metrics come back too.
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(expected)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_fit_lowers_the_loss_on_a_learnable_task(tiny_bert_config, task):
    tf.keras.utils.set_random_seed(0)
    model = build_rating_model(tiny_bert_config, task=task, mode="full", hidden_units=(16,), dropout=0.0,
                               penalty_coefficient=0.0, **SMALL_POOL)
    compile_rating_model(model, task, learning_rate=3e-3)
    x, stars = toy_task(n=64)
    y = stars - 1 if task == "classification" else stars.astype("float32")
    first = model.evaluate(x, y, verbose=0, return_dict=True)
    model.fit(x, y, epochs=25, batch_size=16, verbose=0)
    last = model.evaluate(x, y, verbose=0, return_dict=True)
    assert last["loss"] < 0.5 * first["loss"], (first, last)
    assert last["within_one_accuracy"] > first["within_one_accuracy"]


@pytest.mark.parametrize(
    "layers,pooling",
    [([1, 2], "cls"), ("concat_last_4", "mean"), ("second_to_last", "max"), ("embeddings", "self_attentive")],
)
def test_layer_and_pooling_choices_build(tiny_bert_config, layers, pooling):
    if layers == "concat_last_4":
        tiny_bert_config.num_hidden_layers = 3  # 4 hidden states needed
    model = build_rating_model(tiny_bert_config, layers=layers, pooling=pooling, hidden_units=(), **SMALL_POOL)
    x, _ = toy_task(n=2)
    assert model.predict(x, verbose=0).shape == (2, 5)


def test_analysis_model_exposes_features_and_attention(tiny_bert_config):
    model = build_rating_model(tiny_bert_config, hidden_units=(), **SMALL_POOL)
    analysis = rating_analysis_model(model)
    x, _ = toy_task(n=3)
    out = analysis.predict(x, verbose=0)
    np.testing.assert_allclose(out["stars"], model.predict(x, verbose=0), rtol=1e-6)
    assert out["features"].shape == (3, 2 * 16) and out["attention"].shape == (3, 2, 8)
    pad = x["attention_mask"] == 0
    assert np.all(out["attention"][np.broadcast_to(pad[:, None, :], out["attention"].shape)] == 0)
    assert model.get_layer("scalar_mix").normalized_weights().shape == (3,)


def test_feature_model_is_frozen_mean_pool(tiny_bert_config):
    features = build_feature_model(tiny_bert_config, layers="last", pooling="mean")
    assert features.trainable_weights == []
    x, _ = toy_task(n=3)
    encoder = features.get_layer("encoder")
    last = encoder.transformer(x, output_hidden_states=True, training=False).last_hidden_state.numpy()
    m = x["attention_mask"][:, :, None]
    np.testing.assert_allclose(features.predict(x, verbose=0), (last * m).sum(1) / m.sum(1), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="parameter-free"):
        build_feature_model(tiny_bert_config, pooling="self_attentive")


@pytest.mark.parametrize("score_range", [(0.5, 5.5), (1.0, 5.0), (2.0, 3.0)])
def test_regression_score_is_the_scaled_sigmoid_of_the_logit(tiny_bert_config, score_range):
    model = build_rating_model(tiny_bert_config, task="regression", hidden_units=(), score_range=score_range,
                               **SMALL_POOL)
    model.get_layer("logit").bias.assign([3.0])  # push some scores towards the top of the range
    x, _ = toy_task(n=6)
    logit = keras.Model(model.inputs, model.get_layer("logit").output).predict(x, verbose=0)
    low, high = score_range
    expected = low + (high - low) / (1.0 + np.exp(-logit.astype(np.float64)))
    scores = model.predict(x, verbose=0)
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    assert np.all((scores > low) & (scores < high))
    assert model.get_layer("stars").get_config()["low"] == low


def test_bad_arguments(tiny_bert_config):
    with pytest.raises(ValueError, match="task must be one of"):
        build_rating_model(tiny_bert_config, task="ranking")
    with pytest.raises(ValueError, match="pooling must be one of"):
        build_rating_model(tiny_bert_config, pooling="attention")
    with pytest.raises(ValueError, match="layers must be"):
        build_rating_model(tiny_bert_config, layers="top")
    with pytest.raises(ValueError, match="score_range must have low < high"):
        build_rating_model(tiny_bert_config, task="regression", score_range=(5, 1))
    with pytest.raises(ValueError, match="score_range must be two numbers"):
        build_rating_model(tiny_bert_config, task="regression", score_range=5)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_mixed_precision_model(tiny_bert_config, policy, task):
    keras.mixed_precision.set_global_policy(policy)
    compute = "float16" if policy == "mixed_float16" else "bfloat16"
    model = build_rating_model(tiny_bert_config, task=task, mode="full", hidden_units=(8,), **SMALL_POOL)
    compile_rating_model(model, task)
    x, stars = toy_task(n=8)
    y = stars - 1 if task == "classification" else stars.astype("float32")
    history = model.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    analysis = rating_analysis_model(model)
    out = analysis(x)
    assert out["stars"].dtype == tf.float32 and out["attention"].dtype == tf.float32
    assert out["features"].dtype == compute
    assert model.get_layer("scalar_mix").output.dtype == compute
    assert all(np.isfinite(tf.cast(v, tf.float32).numpy()).all() for v in out.values())
    assert all(w.dtype == tf.float32 for w in model.weights)


def test_mirrored_strategy_on_two_logical_cpus(tiny_bert_config):
    from kerasbert.distribute import resolve_strategy

    strategy = resolve_strategy("mirrored")  # the two logical CPUs set up in conftest
    with strategy.scope():
        model = build_rating_model(tiny_bert_config, mode="full", hidden_units=(8,), **SMALL_POOL)
        compile_rating_model(model, "classification")
    x, stars = toy_task(n=16)
    history = model.fit(x, stars - 1, batch_size=8, epochs=2, verbose=0)
    assert model.distribute_strategy.num_replicas_in_sync == 2
    assert np.all(np.isfinite(history.history["loss"]))
