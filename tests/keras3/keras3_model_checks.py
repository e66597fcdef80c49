"""Checks of the Keras 3 road's models on a tiny random keras-hub BERT and a tiny tokenizer,
run per backend by `test_keras3_models.py`."""

import json

import numpy as np
import pytest

import keras  # noqa: E402
import keras_hub  # noqa: E402

from kerasbert.keras3.models import (  # noqa: E402
    JsonTokenizer,
    RatingModel,
    RatingPreprocessor,
    StarAccuracy,
    StarMAE,
    StarRMSE,
    WithinOneAccuracy,
    build_rating_model,
    load_model_folder,
    predict_texts,
    save_model_folder,
)
from kerasbert.model_arguments import model_defaults  # noqa: E402

CHARS = "好看无聊剧情演员不错太烂片一般精彩"
TEXTS = ["剧情很好", "太无聊了", "演员不错，剧情一般", "烂片", "精彩精彩精彩精彩精彩精彩", "一般"] * 3
STARS = [5, 1, 3, 1, 5, 3] * 3


def tiny_tokenizer():
    """A WordPiece tokenizer over single characters with BERT's special tokens (the `tokenizers` library)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + list(dict.fromkeys(CHARS)))}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(handle_chinese_chars=True, lowercase=False)  # one piece per 字
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]",
                                                             special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return JsonTokenizer(tokenizer.to_str(), pad_token="[PAD]")


def tiny_backbone():
    keras.utils.set_random_seed(3)
    return keras_hub.models.BertBackbone(vocabulary_size=32, num_layers=2, num_heads=2, hidden_dim=8,
                                         intermediate_dim=12, dropout=0.0, max_sequence_length=32)


def tiny_model(task="classification", **arguments):
    arguments = dict(dict(mode="full", num_hops=2, attention_units=4, hidden_units=[6]), **arguments)
    network = build_rating_model(tiny_backbone(), task=task, **arguments)
    return RatingModel(network, RatingPreprocessor(tiny_tokenizer(), task=task, max_length=8, name="preprocessor"))


def test_the_tokenizer_adds_special_tokens_truncates_and_pads():
    preprocessor = RatingPreprocessor(tiny_tokenizer(), max_length=5)
    x = preprocessor(["好看", "剧情演员不错太"])
    np.testing.assert_array_equal(x["input_ids"], [[2, 4, 5, 3, 0], [2, 8, 9, 10, 3]])  # [CLS] ... [SEP], cut at 5
    np.testing.assert_array_equal(x["attention_mask"], [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]])


def test_builder_takes_the_shared_model_arguments():
    import inspect

    parameters = inspect.signature(build_rating_model).parameters
    # Known defaults of the recipes' model section, independent of how the signature is made.
    assert (parameters["mode"].default, parameters["pooling"].default, parameters["num_hops"].default,
            parameters["score_range"].default) == ("frozen", "self_attentive", 30, (0.5, 5.5))
    assert set(model_defaults()) <= set(parameters)
    with pytest.raises(ValueError, match="num_hops"):
        build_rating_model(tiny_backbone(), num_hops=0)
    with pytest.raises(ValueError, match="top_k"):
        build_rating_model(tiny_backbone(), mode="top_k", top_k=3)  # 2 blocks


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_fit_on_raw_texts_then_save_and_load_predicts_the_same(task, tmp_path):
    model = tiny_model(task)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    history = model.fit(TEXTS, STARS, epochs=4, batch_size=6, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    scores = model.predict(TEXTS)
    assert scores.shape == ((len(TEXTS), 5) if task == "classification" else (len(TEXTS), 1))
    # Length-sorted batches come back in the input order: each text alone gives the same output.
    one_by_one = np.concatenate([model.predict([text]) for text in TEXTS[:6]])
    np.testing.assert_allclose(scores[:6], one_by_one, rtol=1e-5, atol=1e-5)
    path = str(tmp_path / "rater.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, RatingModel) and loaded.tokenizer.pad_token_id == 0
    np.testing.assert_allclose(loaded.predict(TEXTS), scores, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(loaded.predict_stars(TEXTS), model.predict_stars(TEXTS))


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_title_adaptation_is_saved_inside_the_keras_file_and_rates_groups(task, tmp_path):
    from kerasbert.title_adaptation import OffsetAdaptation, PriorAdaptation

    model = tiny_model(task)
    adaptation = (PriorAdaptation([0.3, 0.1, 0.2, 0.2, 0.2], temperature=0.8, strength=4.0)
                  if task == "classification" else OffsetAdaptation(3.0, gain=1.0, strength=2.0))
    model.adaptation = adaptation
    groups = ["a", "b"] * 9
    path = str(tmp_path / "rater.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.adaptation.get_config() == adaptation.get_config()
    expected = adaptation.adapt(model.predict(TEXTS), groups)[0]
    np.testing.assert_allclose(loaded.predict(TEXTS, groups=groups), expected, rtol=1e-5, atol=1e-5)


def test_model_folder_round_trip_and_report_outputs(tmp_path):
    model = tiny_model(layers="scalar_mix", pooling="self_attentive")
    save_model_folder(model, {"task": "classification", "max_length": 8}, str(tmp_path))
    recipe = json.loads((tmp_path / "recipe.json").read_text())
    assert recipe["backend"] == keras.backend.backend()
    loaded, _ = load_model_folder(str(tmp_path))
    expected, got = predict_texts(model, TEXTS), predict_texts(loaded, TEXTS)
    np.testing.assert_allclose(got["score"], expected["score"], rtol=1e-6, atol=1e-6)
    assert got["features"].shape == (len(TEXTS), 2 * 8)  # two hops of the 8-wide states, flattened
    attention = [got["attention"][0], got["attention"][3]]  # "剧情很好", "烂片"
    assert [a.shape for a in attention] == [(2, 6), (2, 4)]  # (hops, tokens) per text, padding cut
    np.testing.assert_allclose([a.sum(axis=-1) for a in attention], [[1, 1], [1, 1]], rtol=1e-5)
    assert got["tokens"][0] == ["[CLS]", "剧", "情", "[UNK]", "好", "[SEP]"]


def test_star_metrics_against_numpy():
    y_true = np.array([0, 4, 2, 1], dtype="int32")  # stars 1, 5, 3, 2
    probabilities = np.eye(5, dtype="float32")[[0, 3, 4, 1]]  # predicted 1, 4, 5, 2
    values = {}
    for metric in (StarAccuracy(), WithinOneAccuracy(), StarMAE(), StarRMSE()):
        metric.update_state(y_true, probabilities)
        values[metric.name] = float(metric.result())
    errors = np.array([0, 1, 2, 0])
    assert values == pytest.approx({"accuracy": 0.5, "within_one_accuracy": 0.75, "mae": errors.mean(),
                                    "rmse": np.sqrt((errors ** 2).mean())})
    regression = StarAccuracy("regression")
    regression.update_state(np.array([3.0, 3.0]), np.array([[2.5], [3.49]]))  # half rounds up: 3, 3
    assert float(regression.result()) == 1.0


def test_predict_on_no_texts_non_texts_and_a_length_beyond_the_positions():
    from kerasbert.errors import ArgumentError

    for task, width in (("classification", 5), ("regression", 1)):
        model = tiny_model(task)
        empty = model.predict([])
        assert empty.shape == (0, width) and empty.dtype == np.float32
    with pytest.raises(ArgumentError, match=r"predict takes texts \(strings\); item 0 is int 3"):
        model.predict([3, 4])
    with pytest.raises(ArgumentError, match="text at position 1 is int 7, not a string"):
        model.predict(["好看", 7])
    with pytest.raises(ArgumentError, match="max_length 33 is above the 32 positions"):  # tiny_backbone: 32
        RatingModel(model.network, RatingPreprocessor(tiny_tokenizer(), task="regression", max_length=33))
    with pytest.raises(ArgumentError, match="max_length 40 is above the 32 positions"):
        predict_texts(model, ["好看"], max_length=40)


def test_gradual_unfreezing_opens_one_block_per_epoch_and_keeps_the_optimizer_state():
    from kerasbert.keras3.models import GradualUnfreezing

    model = tiny_model(mode="top_k", top_k=0, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    encoder = model.get_layer("encoder")
    blocks = encoder.backbone.transformer_layers

    def snapshot():
        return [[np.array(keras.ops.convert_to_numpy(w)) for w in block.weights] for block in blocks]

    class Snapshots(keras.callbacks.Callback):
        taken = [snapshot()]

        def on_epoch_end(self, epoch, logs=None):
            self.taken.append(snapshot())

    model.fit(TEXTS, STARS, epochs=2, batch_size=6, verbose=0,
              callbacks=[GradualUnfreezing(initial_blocks=1), Snapshots()])

    def moved(block, a, b):
        return max(float(np.abs(x - y).max()) for x, y in zip(Snapshots.taken[a][block], Snapshots.taken[b][block]))

    assert encoder.top_k == 2
    assert moved(1, 0, 1) > 0 and moved(0, 0, 1) == 0  # epoch 1: only the top block of two
    assert moved(0, 1, 2) > 0 and moved(1, 1, 2) > 0  # epoch 2: both
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 6  # the step count carried over (2 x 3)


def test_top_k_trains_only_the_top_block_and_the_head():
    model = tiny_model(mode="top_k", top_k=1)
    encoder = model.get_layer("encoder")
    before = {v.path: keras.ops.convert_to_numpy(v).copy() for v in encoder.weights}
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    model.fit(TEXTS, STARS, epochs=1, batch_size=6, verbose=0)
    changed = {path for path, value in before.items()
               if not np.allclose(value, keras.ops.convert_to_numpy(
                   next(v for v in encoder.weights if v.path == path)))}
    assert changed and all("transformer_layer_1" in path for path in changed)


@pytest.mark.parametrize("mode, top_k, layers, pooling", [("frozen", None, "scalar_mix", "self_attentive"),
                                                          ("top_k", 1, "scalar_mix", "self_attentive"),
                                                          ("top_k", 1, "last", "mean")])
def test_the_encoder_cache_gives_the_whole_models_outputs_and_trains_its_weights(mode, top_k, layers, pooling,
                                                                                 tmp_path, monkeypatch):
    from kerasbert.data.encoding import default_bucket_boundaries, pad_token_ids
    from kerasbert.keras3.models import CachedBatches, cached_batches, model_on_cache
    from kerasbert.training.encoder_cache import build_or_load_cache, cache_plan

    monkeypatch.setenv("KERASBERT_ENCODER_CACHE", str(tmp_path))
    model = tiny_model(mode=mode, top_k=top_k, layers=layers, pooling=pooling, dropout=0.0)
    network = model.network
    plan = cache_plan(network)
    assert plan.start == (2 if mode == "frozen" else 1)
    store = build_or_load_cache(network, model.tokenizer, TEXTS, 8, plan, "tiny-random-bert", verbose=False)
    trainee = model_on_cache(network, plan)
    in_order = CachedBatches(store, (), 6, False, 0, None, default_bucket_boundaries(8))
    for index in range(len(in_order)):  # the whole model on the same texts gives the same outputs
        rows = in_order.epoch_batches[index]
        whole = network.predict_on_batch(pad_token_ids(model.preprocessor.encode([TEXTS[i] for i in rows]), 0))
        np.testing.assert_allclose(keras.ops.convert_to_numpy(trainee.predict_on_batch(in_order[index])),
                                   keras.ops.convert_to_numpy(whole), rtol=1e-2, atol=1e-3)  # float16 store
    batches = cached_batches(store, STARS, batch_size=6, max_length=8, shuffle=True)
    before = [keras.ops.convert_to_numpy(w).copy() for w in network.weights]
    trainee.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    trainee.fit(batches, epochs=1, verbose=0)
    changed = [w.path for w, old in zip(network.weights, before)
               if not np.allclose(keras.ops.convert_to_numpy(w), old)]
    assert changed and any("logits" in path for path in changed)  # the network's own weights trained
    assert all("transformer_layer_0" not in path and "embedding" not in path for path in changed)
    assert any("transformer_layer_1" in path for path in changed) == (mode == "top_k")


def test_a_hub_id_maps_to_keras_hubs_hf_handle_and_its_tokenizer_json(tmp_path, monkeypatch):
    """Where a hub is reachable: `owner/name` loads as `hf://owner/name`, its tokenizer.json downloaded (faked here)."""
    import huggingface_hub

    from kerasbert.checkpoints.keras_hub_files import keras_hub_source
    from kerasbert.keras3.models.preprocessor import resolve_json_tokenizer

    assert keras_hub_source("intfloat/multilingual-e5-small") == "hf://intfloat/multilingual-e5-small"
    assert keras_hub_source("bert_base_en") == "bert_base_en"  # a keras-hub preset name
    tiny_tokenizer().save(str(tmp_path))
    asked = []

    def download(repo_id, filename):
        asked.append((repo_id, filename))
        path = tmp_path / filename
        if not path.exists():
            raise FileNotFoundError(filename)
        return str(path)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    tokenizer = resolve_json_tokenizer("someone/tiny-bert")
    assert asked[0] == ("someone/tiny-bert", "tokenizer.json") and tokenizer.pad_token_id == 0
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a: (_ for _ in ()).throw(OSError("offline")))
    from kerasbert.errors import CheckpointError

    with pytest.raises(CheckpointError, match="cannot download its tokenizer.json .offline"):
        resolve_json_tokenizer("someone/tiny-bert")


def test_a_stacked_char_model_lives_in_the_folder_and_blends_every_prediction(tmp_path):
    from kerasbert.char_ngrams import CharNgramModel, blend_outputs

    model = tiny_model()
    network_scores = model.predict(TEXTS)
    model.char_model = CharNgramModel.fit(TEXTS, STARS, "classification", weight=0.4)
    save_model_folder(model, {"task": "classification", "max_length": 8}, str(tmp_path))
    loaded, _ = load_model_folder(str(tmp_path))
    expected = blend_outputs(network_scores, model.char_model.predict(TEXTS), 0.4, "classification")
    np.testing.assert_allclose(loaded.predict(TEXTS), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predict_texts(loaded, TEXTS)["score"], expected, rtol=1e-5, atol=1e-6)


def test_a_seed_ensemble_folder_averages_its_members(tmp_path):
    first, second = tiny_model(), tiny_model()
    save_model_folder(second, {"task": "classification", "max_length": 8}, str(tmp_path / "members" / "seed_1"))
    first.members = [load_model_folder(str(tmp_path / "members" / "seed_1"))[0]]
    save_model_folder(first, {"task": "classification", "max_length": 8}, str(tmp_path))
    loaded, _ = load_model_folder(str(tmp_path))
    assert len(loaded.members) == 1
    first.members = []
    expected = (first.predict(TEXTS) + second.predict(TEXTS)) / 2
    np.testing.assert_allclose(loaded.predict(TEXTS), expected, rtol=1e-5, atol=1e-6)
