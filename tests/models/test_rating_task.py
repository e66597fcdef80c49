"""RatingModel: raw texts in, stars out, tokenizer saved inside the .keras archive."""

import zipfile

import numpy as np
import pandas as pd
import pytest

import kerasbert
from kerasbert import keras
from kerasbert.data.pipeline import LabelError
from kerasbert.models import DEFAULT_SCORE_RANGE, RatingModel, RatingPreprocessor, build_rating_model
from kerasbert.tasks import round_stars

SMALL_HEAD = dict(hidden_units=(8,), attention_units=8, num_hops=2)
MAX_LENGTH = 24


@pytest.fixture(scope="module")
def comments(demo_sample_csv):
    frame = pd.read_csv(demo_sample_csv).head(24)
    return frame["comment"].tolist(), frame["star"].to_numpy()


def reference_inputs(tokenizer, texts):
    """What the network should see: the Hugging Face tokenizer, padded to the longest text."""
    encoded = tokenizer(texts, truncation=True, max_length=MAX_LENGTH, padding="longest", return_tensors="np")
    return {name: encoded[name].astype("int32") for name in ("input_ids", "attention_mask")}


def rating_model(checkpoint, task, mode="frozen"):
    return RatingModel.from_checkpoint(checkpoint, task=task, mode=mode, max_length=MAX_LENGTH, **SMALL_HEAD)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_fit_predict_evaluate_on_raw_texts_and_save_load(tiny_chinese_checkpoint, comments, task, tmp_path):
    texts, stars = comments
    model = rating_model(tiny_chinese_checkpoint, task)
    model.compile()
    history = model.fit(texts, stars, epochs=1, batch_size=8, validation_data=(texts[:8], stars[:8]), verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "val_accuracy" in history.history

    # Raw strings give what the network gives on the tokenizer's own encoding.
    tokenizer = model.preprocessor.tokenizer
    reference = model.network.predict(reference_inputs(tokenizer, texts), verbose=0)
    predictions = model.predict(texts, verbose=0)
    np.testing.assert_allclose(predictions, reference, rtol=1e-5, atol=1e-6)
    if task == "classification":
        assert predictions.shape == (24, 5)
        np.testing.assert_array_equal(model.predict_stars(texts, verbose=0), reference.argmax(-1) + 1)
    else:
        low, high = DEFAULT_SCORE_RANGE
        assert predictions.shape == (24, 1) and np.all((predictions > low) & (predictions < high))
        np.testing.assert_array_equal(model.predict_stars(texts, verbose=0), round_stars(reference[:, 0]))
    single = model.predict("剧情很好", verbose=0)
    np.testing.assert_allclose(single, model.network.predict(reference_inputs(tokenizer, ["剧情很好"]), verbose=0),
                               rtol=1e-5, atol=1e-6)
    # Pre-tokenised dicts and datasets pass through unchanged.
    np.testing.assert_allclose(model.predict(reference_inputs(tokenizer, texts), verbose=0), reference, rtol=1e-5)
    dataset = model.preprocessor.dataset(texts, batch_size=5)
    np.testing.assert_allclose(model.predict(dataset, verbose=0), reference, rtol=1e-5, atol=1e-6)
    evaluation = model.evaluate(texts, stars, verbose=0, return_dict=True)
    x, labels = model.preprocessor(texts, stars)
    assert evaluation == pytest.approx(model.evaluate(x, labels, verbose=0, return_dict=True), rel=1e-5)

    path = str(tmp_path / "rater.keras")
    model.save(path)
    names = zipfile.ZipFile(path).namelist()
    assert any(name.startswith("assets/") and name.endswith("tokenizer.json") for name in names), names
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, RatingModel) and loaded.task == task
    np.testing.assert_array_equal(loaded.predict(texts, verbose=0), predictions)
    assert loaded.preprocessor.tokenizer(texts)["input_ids"] == tokenizer(texts)["input_ids"]
    assert loaded.preprocessor.max_length == MAX_LENGTH
    # The compiled loss and metrics come back too.
    assert loaded.evaluate(texts, stars, verbose=0, return_dict=True) == pytest.approx(evaluation, rel=1e-5)


def test_preprocessor_pads_to_the_longest_text_and_encodes_stars(tiny_chinese_checkpoint):
    preprocessor = RatingPreprocessor(tiny_chinese_checkpoint, task="classification", max_length=6)
    x, labels = preprocessor(["好", "剧情很好看的电影"], [5, 1])
    assert x["input_ids"].shape == (2, 6) and x["input_ids"].dtype == np.int32  # truncated at max_length
    np.testing.assert_array_equal(x["attention_mask"], [[1, 1, 1, 0, 0, 0], [1] * 6])
    np.testing.assert_array_equal(x["input_ids"][0, 3:], [preprocessor.tokenizer.pad_token_id] * 3)
    np.testing.assert_array_equal(labels, [4, 0])
    _, scores = RatingPreprocessor(preprocessor.tokenizer, task="regression")(["好"], [3])
    assert scores.dtype == np.float32 and scores.tolist() == [3.0]
    with pytest.raises(LabelError, match="position 1"):
        preprocessor(["好", "差"], [5, 6])
    with pytest.raises(ValueError, match="position 1 is missing"):
        preprocessor(["好", None])
    config = preprocessor.get_config()
    assert RatingPreprocessor.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="has no tokenizer"):
        RatingPreprocessor.from_config(config)(["好"])


def test_default_compile_follows_task_and_mode(tiny_chinese_checkpoint):
    frozen = rating_model(tiny_chinese_checkpoint, "classification", mode="frozen")
    frozen.compile()
    assert isinstance(frozen.optimizer, keras.optimizers.Adam)
    assert float(frozen.optimizer.learning_rate) == pytest.approx(1e-3)
    assert isinstance(frozen.loss, keras.losses.SparseCategoricalCrossentropy)
    tuned = rating_model(tiny_chinese_checkpoint, "regression", mode="full")
    tuned.compile()
    assert isinstance(tuned.optimizer, keras.optimizers.AdamW)
    assert float(tuned.optimizer.learning_rate) == pytest.approx(5e-5)
    assert isinstance(tuned.loss, keras.losses.MeanSquaredError)
    tuned.compile(optimizer=keras.optimizers.SGD(0.1))  # explicit arguments win
    assert isinstance(tuned.optimizer, keras.optimizers.SGD)


def test_penalty_is_part_of_the_training_loss(tiny_chinese_checkpoint, comments):
    texts, stars = comments
    model = RatingModel.from_checkpoint(tiny_chinese_checkpoint, max_length=MAX_LENGTH, hidden_units=(),
                                        attention_units=8, num_hops=2, penalty_coefficient=2.0, dropout=0.0)
    model.compile()
    x, labels = model.preprocessor(texts, stars)
    probabilities = model.network.predict(x, verbose=0)
    cross_entropy = -np.mean(np.log(probabilities[np.arange(len(labels)), labels]))
    pooling = model.network.get_layer("pooling")
    mixed = keras.Model(model.network.inputs, model.network.get_layer("pooling").input)
    _, attention = pooling(mixed(x), return_attention_scores=True)
    penalty = 2.0 * pooling.penalty(attention).numpy().mean()
    loss = model.evaluate(x, labels, batch_size=len(labels), verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(cross_entropy + penalty, rel=1e-4)


def test_gradual_unfreezing_reaches_the_encoder_inside(tiny_chinese_checkpoint, comments):
    texts, stars = comments
    model = RatingModel.from_checkpoint(tiny_chinese_checkpoint, mode="top_k", top_k=0, max_length=MAX_LENGTH,
                                        **SMALL_HEAD)
    assert model.get_layer("encoder") is model.network.get_layer("encoder")
    model.compile()
    model.fit(texts[:8], stars[:8], epochs=2, batch_size=8, verbose=0,
              callbacks=[kerasbert.GradualUnfreezing(initial_blocks=0, verbose=0)])
    assert model.get_layer("encoder").top_k == 1


def test_bad_construction(tiny_bert_config, tiny_chinese_checkpoint):
    network = build_rating_model(tiny_bert_config, task="regression", hidden_units=(), attention_units=4, num_hops=2)
    preprocessor = RatingPreprocessor(tiny_chinese_checkpoint, task="classification")
    with pytest.raises(ValueError, match="needs a network output of width 5"):
        RatingModel(network, preprocessor)
    with pytest.raises(ValueError, match="pass tokenizer="):
        RatingModel.from_checkpoint(tiny_bert_config)
    with pytest.raises(ValueError, match="max_length 128 is above the 32 positions"):  # tiny_bert_config: 32
        RatingModel(network, RatingPreprocessor(tiny_chinese_checkpoint, task="regression", max_length=128))
    model = RatingModel(network, RatingPreprocessor(tiny_chinese_checkpoint, task="regression", max_length=32))
    model.compile()
    with pytest.raises(ValueError, match="validation_split is not supported with raw texts"):
        model.fit(["好", "差"], [5, 1], validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="needs their stars"):
        model.evaluate(["好"], verbose=0)


def test_public_names():
    assert kerasbert.keras is keras and keras.__version__.startswith("2.")
    assert kerasbert.RatingModel is RatingModel and kerasbert.RatingPreprocessor is RatingPreprocessor


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_predict_on_no_texts_and_on_non_texts(tiny_chinese_checkpoint, task):
    from kerasbert.errors import ArgumentError

    model = rating_model(tiny_chinese_checkpoint, task)
    empty = model.predict([])
    assert empty.shape == (0, 5 if task == "classification" else 1) and empty.dtype == np.float32
    assert model.predict_stars([]).shape == (0,)
    with pytest.raises(ArgumentError, match=r"predict takes texts \(strings\); item 0 is int 3"):
        model.predict([3, 4])
    with pytest.raises(ArgumentError, match="predict needs texts .*got None"):
        model.predict(None)
    with pytest.raises(ArgumentError, match="text at position 1 is int 7, not a string"):
        model.predict(["好看", 7])
    with pytest.raises(ArgumentError, match="fit needs at least one text"):
        model.fit([], [])


def test_a_max_length_beyond_the_encoders_positions_is_refused(tiny_chinese_checkpoint):
    from kerasbert.errors import ArgumentError

    # the tiny checkpoint has 128 positions
    with pytest.raises(ArgumentError, match="max_length 129 is above the 128 positions") as caught:
        RatingModel.from_checkpoint(tiny_chinese_checkpoint, max_length=129, **SMALL_HEAD)
    assert caught.value.argument == "max_length"
    model = rating_model(tiny_chinese_checkpoint, "classification")
    with pytest.raises(ArgumentError, match="max_length 200 is above the 128 positions"):
        kerasbert.models.predict_texts(model, ["好看"], max_length=200)
    with pytest.raises(ArgumentError, match=r"0 <= top_k <= 2 \(the blocks\), got 3"):
        RatingModel.from_checkpoint(tiny_chinese_checkpoint, max_length=16, mode="top_k", top_k=3, **SMALL_HEAD)
