import json
import logging
import os
import pathlib

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, mean_absolute_error, mean_squared_error

from kerasbert._backend import keras
from kerasbert.errors import RecipeError
from kerasbert.training import load_model_folder, load_recipe, predict_texts, run_recipe
import kerasbert.models as tf_keras_models
from kerasbert.training import runner as runner_module
from kerasbert.training.config import recipe_path
from kerasbert.models.optimizers import LinearWarmupDecay
from kerasbert.tasks import stars_from_outputs
from kerasbert.training.title_adaptation import training_star_prior

RECIPES = ["douban_classify_frozen", "douban_classify_finetune", "douban_regress_frozen", "douban_regress_finetune"]


def spy_on_fit(monkeypatch):
    """Record each `Model.fit` call's model and keyword arguments, then fit as usual."""
    fits = []
    original_fit = keras.Model.fit

    def spying_fit(model, *args, **kwargs):
        fits.append(dict(kwargs, model=model))
        return original_fit(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spying_fit)
    return fits


def small_recipe(name, checkpoint, data, out_dir, **overrides):
    values = dict(checkpoint=checkpoint, data=str(data), output_dir=str(out_dir), trim_vocabulary=False,
                  max_examples=160, max_eval_examples=48, epochs=2, batch_size=16, max_length=32,
                  attention_units=16, num_hops=4, strategy="default", mixed_precision="float32",
                  char_model=False)  # the character model has its own test below
    values.update(overrides)
    recipe = load_recipe(name)
    if recipe.mode == "top_k" and values.get("top_k") is None and os.path.isdir(str(checkpoint)):
        with open(os.path.join(str(checkpoint), "config.json")) as handle:
            blocks = json.load(handle)["num_hidden_layers"]
        values["top_k"] = min(recipe.top_k, blocks)  # a top_k above the blocks is refused; tiny has 2
    return load_recipe(name, **values)


@pytest.mark.parametrize("name", RECIPES)
def test_recipes_differ_only_in_configuration(name):
    config = load_recipe(name)
    assert config.name == name and os.path.isfile(config.data)
    assert config.task == ("classification" if "classify" in name else "regression")
    # Chosen on validation titles (benchmarks/RESULTS.md): the fine-tuned recipes train the top 6 blocks from the cache.
    expected_mode = "frozen" if "frozen" in name else "top_k"
    assert config.mode == expected_mode
    if config.mode == "frozen":
        assert (config.layers, config.pooling, config.optimizer) == ("scalar_mix", "self_attentive", "adam")
    else:
        assert config.optimizer == "adamw"
    assert load_recipe(name, epochs=7, seed=None).epochs == 7


def test_a_recipe_in_the_working_directory_comes_first(tmp_path, monkeypatch):
    local = tmp_path / "recipes"
    (local / "data").mkdir(parents=True)
    (local / "data" / "mine.csv").write_text("movie,star,comment\n")
    values = json.loads(recipe_path("douban_classify_frozen").read_text(encoding="utf-8"))
    values.update(epochs=11, data="data/mine.csv")
    (local / "douban_classify_frozen.json").write_text(json.dumps(values))
    monkeypatch.chdir(tmp_path)
    config = load_recipe("douban_classify_frozen")
    assert config.epochs == 11 and config.data == str(pathlib.Path("recipes") / "data" / "mine.csv")
    assert load_recipe("douban_regress_frozen").epochs != 11  # the others still come from the package


def test_bad_recipe_values(tmp_path):
    with pytest.raises(RecipeError, match="no such recipe.*Recipes: douban_classify_finetune"):
        load_recipe("douban_sentiment")
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"task": "ranking"}))
    with pytest.raises(ValueError, match="task must be one of"):
        load_recipe(str(path))
    path.write_text(json.dumps({"tasks": "classification"}))
    with pytest.raises(ValueError, match="unknown recipe field"):
        load_recipe(str(path))
    path.write_text(json.dumps({"task": "regression", "score_range": [5, 1]}))
    with pytest.raises(ValueError, match="score_range must have low < high"):
        load_recipe(str(path))


@pytest.mark.parametrize(
    "name,checkpoint",
    [
        ("douban_classify_frozen", "tiny"),
        ("douban_regress_finetune", "tiny"),
        # The real MiniLM, with its vocabulary trimmed to the data, fine-tuned.
        pytest.param("douban_classify_finetune", "minilm:all-MiniLM-L6-v2", marks=pytest.mark.slow),
    ],
)
def test_run_recipe_end_to_end(name, checkpoint, tiny_chinese_checkpoint, demo_sample_csv, tmp_path):
    out = tmp_path / "run"
    real = checkpoint != "tiny"
    config = small_recipe(name, tiny_chinese_checkpoint if not real else checkpoint, demo_sample_csv, out,
                          trim_vocabulary=real)
    summary = run_recipe(config)
    for path in ["model.keras", "recipe.json", "training_log.csv", "summary.json",
                 "report/report.md", "report/metrics.json", "report/confusion_matrices.png"]:
        assert (out / path).exists(), path
    assert summary["train_rows"] == 160 and summary["test_rows"] == 48
    log = pd.read_csv(out / "training_log.csv")
    assert list(log["epoch"]) == [0, 1]

    # The saved model reproduces the report's numbers: predict the same test split with the
    # loaded model and recompute the metrics with scikit-learn.
    model, recipe = load_model_folder(str(out))
    test = runner_module.load_splits(config)["test"]
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    assert metrics["n"] == len(test) == 48
    encoded = model.tokenizer(test["comment"].tolist(), truncation=True, max_length=32, padding="longest",
                        return_tensors="np")
    outputs = model.predict({k: encoded[k].astype("int32") for k in ("input_ids", "attention_mask")}, verbose=0)
    true = test["star"].to_numpy()
    # The test titles are rated with the title adaptation chosen on the validation titles (issue 23); the
    # report keeps the metrics of every comment rated alone too.
    assert metrics["adaptation"]["unadapted"]["n"] == 48
    alone = outputs
    if model.adaptation is not None:
        outputs = model.adapt(outputs, test["movie"].tolist())[0]
        assert model.adaptation.describe() == summary["title_adaptation"]
        assert metrics["adaptation"]["unadapted"]["accuracy"] == pytest.approx(
            accuracy_score(true, stars_from_outputs(alone, recipe["task"])), abs=1e-9)
    if recipe["task"] == "classification":
        train = runner_module.load_splits(config)["train"]
        np.testing.assert_allclose(model.adaptation.training_prior,
                                   training_star_prior(train["star"], train["movie"], config.rows_per_title))
        stars = outputs.argmax(axis=-1) + 1
        continuous = stars
    else:
        continuous = outputs[:, 0]
        stars = np.clip(np.floor(continuous + 0.5), 1, 5)  # the documented rule: half up, clip to 1-5
        stars_layer = model.get_layer("stars")
        assert np.all((continuous >= stars_layer.low) & (continuous <= stars_layer.high))
    assert metrics["accuracy"] == pytest.approx(accuracy_score(true, stars), abs=1e-9)
    assert metrics["within_one_accuracy"] == pytest.approx(np.mean(np.abs(stars - true) <= 1), abs=1e-9)
    assert metrics["mae"] == pytest.approx(mean_absolute_error(true, continuous), abs=1e-5)
    assert metrics["rmse"] == pytest.approx(np.sqrt(mean_squared_error(true, continuous)), abs=1e-5)
    assert summary["test_metrics"]["accuracy"] == metrics["accuracy"]

    report_md = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert "confusion" in report_md.lower()
    predictions = predict_texts(model, test["comment"][:5].tolist(), max_length=32)  # each text alone
    np.testing.assert_array_equal(predictions["stars"], stars_from_outputs(alone, recipe["task"])[:5])
    if recipe["model"]["pooling"] == "self_attentive":
        assert predictions["attention"][0].shape[0] == 4  # hops
    else:
        assert predictions["attention"] is None


class _Kill(keras.callbacks.Callback):
    """Simulates a machine going away in the middle of epoch 2."""

    def on_train_batch_end(self, batch, logs=None):
        self.seen = getattr(self, "seen", 0) + 1
        if self.seen == 14:  # 10 batches an epoch: batch 4 of the second epoch
            raise KeyboardInterrupt("killed")


class _FirstEpoch(keras.callbacks.Callback):
    started = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started.append(epoch)


def test_killed_run_resumes_when_rerun(tiny_chinese_checkpoint, demo_sample_csv, tmp_path, monkeypatch):
    config = small_recipe("douban_classify_finetune", tiny_chinese_checkpoint, demo_sample_csv, tmp_path / "run",
                          epochs=3, backup_every_steps=2)
    original = runner_module.make_callbacks
    monkeypatch.setattr(runner_module, "make_callbacks", lambda *a, **k: original(*a, **k) + [_Kill()])
    with pytest.raises(KeyboardInterrupt):
        run_recipe(config)
    assert (tmp_path / "run" / "backup").is_dir() and not (tmp_path / "run" / "model.keras").exists()

    recorder = _FirstEpoch()
    monkeypatch.setattr(runner_module, "make_callbacks", lambda *a, **k: original(*a, **k) + [recorder])
    summary = run_recipe(config)
    assert recorder.started[0] == 1  # resumed inside epoch 2, not from scratch
    assert recorder.started == [1, 2]
    assert (tmp_path / "run" / "model.keras").exists() and summary["test_rows"] == 48
    backup = tmp_path / "run" / "backup"
    assert not backup.exists() or not any(backup.rglob("*"))  # emptied after a finished run


def test_linear_warmup_decay_schedule():
    schedule = LinearWarmupDecay(1e-3, warmup_steps=10, total_steps=110)
    steps = np.array([0, 5, 10, 60, 110, 200])
    expected = [0.0, 5e-4, 1e-3, 5e-4, 0.0, 0.0]
    np.testing.assert_allclose([float(schedule(s)) for s in steps], expected, atol=1e-9)
    assert LinearWarmupDecay(**schedule.get_config()).get_config() == schedule.get_config()


def test_schedule_spans_every_step_and_top_k_trains_from_the_cache(tiny_chinese_checkpoint, demo_sample_csv,
                                                                   tmp_path, monkeypatch, caplog):
    """Length buckets add partial batches: the warm-up/decay schedule must count them (issue 12 item 1)."""
    made = []
    original = tf_keras_models.make_optimizer

    def recording_make_optimizer(name, learning_rate, total_steps, warmup_ratio, weight_decay, **kwargs):
        made.append((original(name, learning_rate, total_steps, warmup_ratio, weight_decay, **kwargs), learning_rate,
                     total_steps, warmup_ratio))
        return made[-1][0]

    monkeypatch.setattr(tf_keras_models, "make_optimizer", recording_make_optimizer)  # the road's, as the runner calls it
    config = small_recipe("douban_classify_finetune", tiny_chinese_checkpoint, demo_sample_csv, tmp_path / "run",
                          mode="top_k", top_k=1)
    with caplog.at_level(logging.INFO, logger="kerasbert"):
        run_recipe(config, verbose=True)
    assert "Training from the encoder cache" in caplog.text
    _, peak, total_steps, warmup_ratio = made[-1]
    # The batches an epoch really has: per length bucket (lengths <= 16, then 17-32), a ceil each.
    from kerasbert.checkpoints import load_tokenizer

    train = runner_module.load_splits(config)["train"]["comment"].tolist()
    lengths = np.array([len(ids) for ids in load_tokenizer(tiny_chinese_checkpoint)(
        train, truncation=True, max_length=32)["input_ids"]])
    per_epoch = sum(-(-int(n) // 16) for n in (np.sum(lengths <= 16), np.sum(lengths > 16)) if n)
    assert per_epoch > -(-len(train) // 16)  # more than the old ceil(rows / batch) count
    assert total_steps == 2 * per_epoch
    schedule = LinearWarmupDecay(peak, int(round(warmup_ratio * total_steps)), total_steps)
    assert float(schedule(total_steps - 1)) > 0.0  # the last step still learns
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["test_metrics"]["accuracy"] is not None


@pytest.mark.parametrize("cache", [True, False])
def test_rows_per_title_caps_each_epoch(tiny_chinese_checkpoint, demo_sample_csv, tmp_path, monkeypatch, cache):
    steps = []
    original = tf_keras_models.make_optimizer

    def recording_make_optimizer(name, learning_rate, total_steps, warmup_ratio, weight_decay, **kwargs):
        steps.append(total_steps)
        return original(name, learning_rate, total_steps, warmup_ratio, weight_decay, **kwargs)

    monkeypatch.setattr(tf_keras_models, "make_optimizer", recording_make_optimizer)  # the road's, as the runner calls it
    config = small_recipe("douban_classify_finetune", tiny_chinese_checkpoint, demo_sample_csv, tmp_path / "run",
                          mode="top_k", top_k=1, rows_per_title=4, cache=cache, split="random")
    run_recipe(config)
    titles = runner_module.load_splits(config)["train"]["movie"].value_counts()
    rows = int(np.minimum(titles.to_numpy(), 4).sum())
    assert rows < titles.sum()  # the cap bites
    per_epoch = steps[-1] // config.epochs
    assert -(-rows // 16) <= per_epoch <= -(-rows // 16) + 1  # two length buckets: at most one extra batch
    log = pd.read_csv(tmp_path / "run" / "training_log.csv")
    assert len(log) == config.epochs


def test_label_smoothing_and_balanced_weights_reach_fit(tiny_chinese_checkpoint, demo_sample_csv, tmp_path,
                                                        monkeypatch):
    from kerasbert.data.title_sampling import balanced_star_weights
    from kerasbert.models.losses import NeighbourSmoothedCrossentropy

    fits = spy_on_fit(monkeypatch)
    config = small_recipe("douban_classify_finetune", tiny_chinese_checkpoint, demo_sample_csv, tmp_path / "run",
                          mode="top_k", top_k=1, rows_per_title=4, split="random", epochs=1,
                          label_smoothing=0.2, class_weight="balanced")
    run_recipe(config)
    loss, class_weight = fits[-1]["model"].loss, fits[-1]["class_weight"]
    assert isinstance(loss, NeighbourSmoothedCrossentropy) and loss.epsilon == 0.2
    train = runner_module.load_splits(config)["train"]
    assert class_weight == balanced_star_weights(train["star"] - 1, train["movie"], 4, num_classes=5)
    assert np.isfinite(pd.read_csv(tmp_path / "run" / "training_log.csv")["loss"]).all()


def test_label_smoothing_is_refused_for_regression():
    with pytest.raises(RecipeError, match="classification only"):
        load_recipe("douban_regress_finetune", label_smoothing=0.1)


def test_layerwise_lr_decay_reaches_the_optimizer_and_the_model_saves(tiny_chinese_checkpoint, demo_sample_csv,
                                                                      tmp_path, monkeypatch):
    from kerasbert.models.optimizers import LayerwiseAdamW

    fits = spy_on_fit(monkeypatch)
    config = small_recipe("douban_classify_finetune", tiny_chinese_checkpoint, demo_sample_csv, tmp_path / "run",
                          mode="full", epochs=1, layerwise_lr_decay=0.5, split="random")
    run_recipe(config)
    optimizer, encoder = fits[-1]["model"].optimizer, fits[-1]["model"].get_layer("encoder")
    assert isinstance(optimizer, LayerwiseAdamW)
    top = encoder.transformer_blocks()[-1]
    assert {optimizer.lr_multipliers[v.name] for v in top.trainable_weights} == {0.5}
    # Every trainable encoder weight has its factor, below 1; the head's weights keep 1.
    encoder_names = {v.name for v in encoder.trainable_weights}
    assert encoder_names <= set(optimizer.lr_multipliers) and max(optimizer.lr_multipliers.values()) == 0.5
    head = [v for v in fits[-1]["model"].trainable_weights if v.name not in encoder_names]
    assert head and not any(v.name in optimizer.lr_multipliers for v in head)
    # The saved model (optimizer config included) loads and predicts.
    model, _ = load_model_folder(str(tmp_path / "run"))
    assert len(predict_texts(model, ["好看", "难看"], max_length=32)["stars"]) == 2


def test_layerwise_lr_decay_is_refused_without_a_training_encoder():
    with pytest.raises(RecipeError, match="layerwise_lr_decay"):
        load_recipe("douban_classify_frozen", layerwise_lr_decay=0.8)
    with pytest.raises(RecipeError, match="layerwise_lr_decay"):
        load_recipe("douban_classify_finetune", layerwise_lr_decay=1.5)


def test_validation_metrics_weigh_each_title_at_most_n_rows(tiny_chinese_checkpoint, demo_sample_csv, tmp_path):
    from kerasbert.data.title_sampling import title_weights

    config = small_recipe("douban_classify_finetune", tiny_chinese_checkpoint, demo_sample_csv, tmp_path / "run",
                          mode="top_k", top_k=1, split="random", epochs=1, validation_rows_per_title=2)
    run_recipe(config)
    validation = runner_module.load_splits(config)["validation"]
    weights = title_weights(validation["movie"], 2)
    assert weights.min() < 1.0  # some title has more than 2 validation rows
    model, _ = load_model_folder(str(tmp_path / "run"))
    predictions = predict_texts(model, validation["comment"].tolist(), max_length=config.max_length)
    predicted = predictions["stars"]
    expected = accuracy_score(validation["star"], predicted, sample_weight=weights)
    log = pd.read_csv(tmp_path / "run" / "training_log.csv")
    assert log["val_accuracy"].iloc[-1] == pytest.approx(expected, abs=1e-5)
    # val_loss is the title-weighted mean cross-entropy (not divided by the row count instead of the weights).
    probabilities = np.asarray(predictions["score"], dtype=np.float64)
    cross_entropy = -np.log(probabilities[np.arange(len(predicted)), validation["star"].to_numpy() - 1])
    assert log["val_loss"].iloc[-1] == pytest.approx(np.average(cross_entropy, weights=weights), rel=1e-4)
    assert accuracy_score(validation["star"], predicted) != pytest.approx(expected, abs=1e-5)


def test_a_stacked_char_model_and_the_title_adaptation_reach_the_folder_and_its_report(
        tiny_chinese_checkpoint, demo_sample_csv, tmp_path):
    out = tmp_path / "run"
    config = small_recipe("douban_classify_frozen", tiny_chinese_checkpoint, demo_sample_csv, out, char_model=True,
                          split="by-movie", max_examples=400, max_eval_examples=200, epochs=1)
    summary = run_recipe(config)
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    weight = metrics["extra"]["char_model_weight"]
    assert weight is not None and 0 <= weight < 1  # character n-grams beat an encoder of random weights
    model, _ = load_model_folder(str(out))
    assert (out / "char_model").is_dir() == (weight is not None)
    test = runner_module.load_splits(config)["test"]
    texts = test["comment"].tolist()
    if weight is not None:  # the folder's predictions are the network's blended with the character model's
        stacked = tf_keras_models.predict_scores(model, texts)
        char_model, model.char_model = model.char_model, None
        network = tf_keras_models.predict_scores(model, texts)
        model.char_model = char_model
        expected = network ** weight * char_model.predict(texts) ** (1 - weight)
        np.testing.assert_allclose(stacked, expected / expected.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-6)
    # The report rated each test title as a whole: predict(groups=) on the loaded folder gives the same.
    report = pd.read_csv(out / "report" / "predictions.csv")
    groups = test["movie"].tolist() if model.adaptation is not None else None
    np.testing.assert_allclose(report[["p%d" % s for s in range(1, 6)]].to_numpy(),
                               model.predict(texts, groups=groups, verbose=0), atol=2e-5)
    assert summary["test_metrics"]["accuracy"] == pytest.approx(metrics["accuracy"])


def test_a_seed_ensemble_trains_its_members_and_averages_them(tiny_chinese_checkpoint, demo_sample_csv, tmp_path):
    out = tmp_path / "run"
    config = small_recipe("douban_classify_frozen", tiny_chinese_checkpoint, demo_sample_csv, out, seeds=2,
                          char_model=False, title_adaptation=False, epochs=1, max_examples=64,
                          max_eval_examples=24)
    run_recipe(config)
    assert json.loads((out / "members.json").read_text()) == {"members": ["members/seed_1"]}
    model, _ = load_model_folder(str(out))
    member = load_model_folder(str(out / "members" / "seed_1"))[0]
    assert len(model.members) == 1 and load_model_folder(str(out / "members" / "seed_1"))[1]["seed"] == 1
    texts = runner_module.load_splits(config)["test"]["comment"].tolist()
    ensemble = tf_keras_models.predict_scores(model, texts)
    model.members = []
    alone = tf_keras_models.predict_scores(model, texts)
    other = tf_keras_models.predict_scores(member, texts)
    assert not np.allclose(alone, other, atol=1e-3)  # another seed, another model
    np.testing.assert_allclose(ensemble, (alone + other) / 2, rtol=1e-5, atol=1e-6)
    report = pd.read_csv(out / "report" / "predictions.csv")
    np.testing.assert_allclose(report[["p%d" % s for s in range(1, 6)]].to_numpy(), ensemble, atol=2e-5)
    # re-saved without members, the folder forgets them
    tf_keras_models.save_model_folder(model, {"task": "classification", "max_length": 32}, str(out))
    assert not (out / "members.json").exists() and load_model_folder(str(out))[0].members == []
