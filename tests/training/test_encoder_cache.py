"""Training from cached encoder states: the same numbers as without the cache (issues 8 and 15)."""

import os

import numpy as np
import pytest
from transformers import BertConfig, BertTokenizerFast

import kerasbert
from kerasbert._backend import keras
from kerasbert.data.pipeline import make_dataset
from kerasbert.training import encoder_cache
from kerasbert.training.encoder_cache import (
    build_or_load_cache,
    cache_plan,
    cached_dataset,
    model_on_cache,
)

LETTERS = list("abcdefghijklmnopqrstuvwxyz")


@pytest.fixture
def tokenizer(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + LETTERS))
    return BertTokenizerFast(str(vocab))


@pytest.fixture
def config():
    # No dropout, so the cached and uncached runs can be compared step by step.
    return BertConfig(vocab_size=31, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                      intermediate_size=24, max_position_embeddings=40, hidden_dropout_prob=0.0,
                      attention_probs_dropout_prob=0.0)


@pytest.fixture
def corpus():
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(LETTERS[:8], rng.integers(1, 30))) for _ in range(96)]
    return texts, rng.integers(1, 6, len(texts))


def build(config, mode, top_k, layers, pooling):
    keras.utils.set_random_seed(0)
    return kerasbert.build_rating_model(config, mode=mode, top_k=top_k, layers=layers, pooling=pooling,
                                        hidden_units=[8], dropout=0.0, attention_units=8, num_hops=2)


def train(model, dataset, epochs=2):
    kerasbert.compile_rating_model(model, "classification", keras.optimizers.Adam(1e-2))
    return model.fit(dataset, epochs=epochs, verbose=0).history["loss"]


SETUPS = [
    ("frozen", None, "scalar_mix", "self_attentive"),  # all 4 hidden states from the cache
    ("top_k", 1, "last", "mean"),  # block 2 trains on hidden state 2
    ("top_k", 2, "scalar_mix", "self_attentive"),  # blocks 1-2 train; the mix also reads layers 0-1
]


@pytest.mark.parametrize("mode,top_k,layers,pooling", SETUPS)
def test_training_from_the_cache_gives_the_uncached_losses(config, tokenizer, corpus, mode, top_k, layers, pooling):
    texts, stars = corpus
    uncached = build(config, mode, top_k, layers, pooling)
    reference = train(uncached, make_dataset(texts, stars, tokenizer=tokenizer, batch_size=16, max_length=32,
                                             shuffle=True, seed=0))
    model = build(config, mode, top_k, layers, pooling)
    plan = cache_plan(model)
    store = build_or_load_cache(model, tokenizer, texts, 32, plan, "tiny", verbose=False)
    losses = train(model_on_cache(model, plan),
                   cached_dataset(store, stars, "classification", 16, 32, shuffle=True, seed=0))
    # float16 storage of the cached states is the only difference.
    np.testing.assert_allclose(losses, reference, rtol=2e-3)


def test_plan_keeps_what_the_top_needs(config):
    assert cache_plan(build(config, "frozen", None, "scalar_mix", "mean")).stored == (0, 1, 2, 3)
    assert cache_plan(build(config, "frozen", None, "last", "mean")).stored == (3,)
    plan = cache_plan(build(config, "top_k", 1, [0, -1], "mean"))
    assert (plan.start, plan.stored) == (2, (0, 2))  # layer 3 is computed; 0 is below the split
    plan = cache_plan(build(config, "top_k", 1, "sum_last_4", "mean"))
    assert (plan.start, plan.stored) == (2, (0, 1, 2))
    # Nothing to cache when the whole encoder trains.
    assert cache_plan(build(config, "top_k", 3, "last", "mean")) is None
    assert cache_plan(build(config, "full", None, "last", "mean")) is None


def test_cache_hit_and_a_miss_for_each_key(config, tokenizer, corpus, monkeypatch):
    texts, _ = corpus
    model = build(config, "top_k", 1, "last", "mean")
    plan = cache_plan(model)
    first = build_or_load_cache(model, tokenizer, texts, 32, plan, "tiny", verbose=False)
    built = []
    original = encoder_cache.atomic_directory
    monkeypatch.setattr(encoder_cache, "atomic_directory", lambda path: built.append(path) or original(path))
    again = build_or_load_cache(model, tokenizer, texts, 32, plan, "tiny", verbose=False)
    assert again.folder == first.folder and built == []  # a hit computes nothing
    other_plan = cache_plan(build(config, "top_k", 2, "last", "mean"))
    variants = [
        (texts, 32, plan, "tiny-2"),  # checkpoint
        (texts[:-1] + ["a b"], 32, plan, "tiny"),  # texts
        (texts, 16, plan, "tiny"),  # maximum length
        (texts, 32, other_plan, "tiny"),  # split layer
    ]
    folders = {first.folder}
    for variant_texts, max_length, variant_plan, checkpoint in variants:
        store = build_or_load_cache(model, tokenizer, variant_texts, max_length, variant_plan, checkpoint,
                                    verbose=False)
        folders.add(store.folder)
    assert len(folders) == 5 and len(built) == 4


def test_cached_states_are_the_encoder_states(config, tokenizer, corpus):
    texts, _ = corpus
    model = build(config, "frozen", None, "scalar_mix", "mean")
    plan = cache_plan(model)
    store = build_or_load_cache(model, tokenizer, texts[:5], 32, plan, "tiny", verbose=False)
    encoded = tokenizer(texts[:5], truncation=True, max_length=32, padding=True, return_tensors="np")
    inputs = {k: encoded[k].astype("int32") for k in ("input_ids", "attention_mask")}
    states = model.get_layer("encoder")(inputs)["hidden_states"]
    gathered = store.gather(np.arange(5), encoded["input_ids"].shape[1]).astype("float32")
    keep = inputs["attention_mask"].astype(bool)
    for position, index in enumerate(plan.stored):
        np.testing.assert_allclose(gathered[:, :, position][keep], states[index].numpy()[keep], rtol=2e-3, atol=2e-3)
    assert np.all(gathered[~keep] == 0)


def test_a_killed_build_leaves_no_cache(config, tokenizer, corpus, monkeypatch):
    texts, _ = corpus
    model = build(config, "frozen", None, "last", "mean")
    plan = cache_plan(model)

    class Killed(Exception):
        pass

    def killed(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(np, "save", killed)  # dies after the states, before the lengths and meta
    with pytest.raises(Killed):
        build_or_load_cache(model, tokenizer, texts, 32, plan, "tiny", verbose=False)
    monkeypatch.undo()
    key, _ = encoder_cache.cache_key("tiny", texts, 32, plan, keras.mixed_precision.global_policy().name)
    folder = encoder_cache.cache_folder(key)
    assert not os.path.exists(folder)
    assert not [name for name in os.listdir(os.path.dirname(folder)) if name.startswith("." + key)]


def test_refuses_a_cache_that_does_not_fit(config, tokenizer, corpus, monkeypatch):
    texts, _ = corpus
    model = build(config, "frozen", None, "last", "mean")
    monkeypatch.setattr(encoder_cache, "DISK_MARGIN_BYTES", 1 << 60)
    with pytest.raises(encoder_cache.CacheTooLarge, match="train without the cache"):
        build_or_load_cache(model, tokenizer, texts, 32, cache_plan(model), "tiny", verbose=False)


def test_model_trained_on_the_cache_saves_as_the_whole_model(config, tokenizer, corpus, tmp_path):
    texts, stars = corpus
    model = build(config, "top_k", 1, "scalar_mix", "self_attentive")
    plan = cache_plan(model)
    store = build_or_load_cache(model, tokenizer, texts, 32, plan, "tiny", verbose=False)
    train(model_on_cache(model, plan), cached_dataset(store, stars, "classification", 16, 32, shuffle=True))
    encoded = tokenizer(texts[:8], truncation=True, max_length=32, padding=True, return_tensors="np")
    inputs = {k: encoded[k].astype("int32") for k in ("input_ids", "attention_mask")}
    in_memory = model.predict_on_batch(inputs)
    model.save(str(tmp_path / "model.keras"))
    loaded = keras.models.load_model(str(tmp_path / "model.keras"), compile=False)
    np.testing.assert_allclose(loaded.predict_on_batch(inputs), in_memory, rtol=1e-5, atol=1e-6)
    assert loaded.get_layer("encoder").mode == "top_k"


def test_cached_batches_follow_the_same_title_sampling(config, tokenizer, corpus):
    texts, stars = corpus
    titles = ["big"] * 60 + ["small%d" % (i % 6) for i in range(36)]
    model = build(config, "frozen", None, "scalar_mix", "mean")
    store = build_or_load_cache(model, tokenizer, texts, 32, cache_plan(model), "tiny", verbose=False)
    common = dict(batch_size=8, max_length=32, shuffle=True, seed=4, titles=titles, rows_per_title=10)
    plain = make_dataset(texts, stars, tokenizer=tokenizer, **common)
    cached = cached_dataset(store, stars, **common)
    assert int(plain.cardinality()) == int(cached.cardinality())
    for _ in range(2):  # a fresh draw each epoch, the same one on both sides
        pairs = list(zip(plain, cached))
        assert len(pairs) == int(plain.cardinality())
        for (features, labels), (cached_features, cached_labels) in pairs:
            np.testing.assert_array_equal(labels.numpy(), cached_labels.numpy())
            np.testing.assert_array_equal(features["attention_mask"].numpy(),
                                          cached_features["attention_mask"].numpy())
        assert sum(len(labels) for (_, labels), _ in pairs) == 10 + 36


def test_sample_weights_follow_their_rows_cached_and_plain(config, tokenizer, corpus):
    texts, stars = corpus
    weights = np.arange(len(texts), dtype="float32")  # a weight names its row
    model = build(config, "frozen", None, "last", "mean")
    store = build_or_load_cache(model, tokenizer, texts, 32, cache_plan(model), "tiny", verbose=False)
    plain = make_dataset(texts, stars, tokenizer=tokenizer, batch_size=8, max_length=32, sample_weights=weights)
    cached = cached_dataset(store, stars, batch_size=8, max_length=32, sample_weights=weights)
    seen = []
    for (features, labels, batch_weights), (cached_features, cached_labels, cached_weights) in zip(plain, cached):
        np.testing.assert_array_equal(batch_weights.numpy(), cached_weights.numpy())
        rows = batch_weights.numpy().astype(int)
        np.testing.assert_array_equal(labels.numpy(), stars[rows] - 1)
        np.testing.assert_array_equal(features["attention_mask"].numpy().sum(axis=1),
                                      [len(tokenizer(texts[r])["input_ids"]) for r in rows])
        seen += rows.tolist()
    assert sorted(seen) == list(range(len(texts)))
    with pytest.raises(ValueError, match="sample weights"):
        cached_dataset(store, stars, sample_weights=weights[:-1])


def test_cache_list_and_clear_commands(config, tokenizer, corpus, tmp_path, monkeypatch, capsys):
    from kerasbert.commands import main

    monkeypatch.setenv("KERASBERT_ENCODER_CACHE", str(tmp_path / "caches"))
    texts = corpus[0]
    model = build(config, "top_k", 1, "last", "mean")
    first = build_or_load_cache(model, tokenizer, texts, 32, cache_plan(model), "tiny", verbose=False)
    second = build_or_load_cache(model, tokenizer, texts[:10], 16, cache_plan(model), "tiny", verbose=False)
    interrupted = tmp_path / "caches" / ".deadbeef.x.partial"
    interrupted.mkdir()
    (interrupted / "states.npy").write_bytes(b"0" * 100)
    keys = [os.path.basename(first.folder), os.path.basename(second.folder)]
    sizes = [sum(os.path.getsize(os.path.join(s.folder, f)) for f in os.listdir(s.folder)) for s in (first, second)]

    assert main(["cache", "list"]) == 0
    out = capsys.readouterr().out
    assert "3, " in out.splitlines()[0]
    assert "96 rows, max length 32, layers [2]" in out and "10 rows, max length 16" in out
    assert "interrupted build" in out

    # Unknown keys and no selection are user errors (exit 2, one line), and delete nothing.
    assert main(["cache", "clear", "nosuchkey"]) == 2
    assert "no encoder cache nosuchkey" in capsys.readouterr().err
    assert main(["cache", "clear"]) == 2
    assert main(["cache", "clear", "--all", "--dry-run"]) == 0
    assert all(os.path.isdir(s.folder) for s in (first, second)) and interrupted.is_dir()

    # By key: only that folder goes; the freed size is the folder's.
    capsys.readouterr()
    assert main(["cache", "clear", keys[1]]) == 0
    assert not os.path.exists(second.folder) and os.path.isdir(first.folder)
    assert "%.1f KB" % (sizes[1] / 1000.0) in capsys.readouterr().out

    # A hit marks the cache as used: --unused-days keeps it, and takes the stale interrupted build.
    old = os.path.getmtime(os.path.join(first.folder, "meta.json")) - 10 * 86400
    os.utime(os.path.join(first.folder, "meta.json"), (old, old))
    os.utime(interrupted, (old, old))
    build_or_load_cache(model, tokenizer, texts, 32, cache_plan(model), "tiny", verbose=False)
    assert main(["cache", "clear", "--unused-days", "5"]) == 0
    assert os.path.isdir(first.folder) and not interrupted.exists()
    assert main(["cache", "clear", "--all"]) == 0
    assert os.listdir(tmp_path / "caches") == []
