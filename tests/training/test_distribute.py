import numpy as np
import pytest

from kerasbert._backend import keras, tf
from kerasbert import distribute, hardware
from kerasbert.distribute import (
    global_batch_size,
    mixed_precision_policy,
    resolve_strategy,
    set_mixed_precision,
    strategy_kind,
)
from kerasbert.models import build_rating_model, compile_rating_model


def test_strategies_on_this_cpu(monkeypatch):
    for name in ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE", "TF_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    default = resolve_strategy("auto")
    assert default.num_replicas_in_sync == 1 and strategy_kind(default) == "cpu"
    mirrored = resolve_strategy("mirrored")
    assert mirrored.num_replicas_in_sync == 2  # the two logical CPUs from conftest
    assert global_batch_size(16, mirrored) == 32
    monkeypatch.setattr(distribute, "cpu_flags", lambda: {"avx2", "fma"})
    assert mixed_precision_policy("auto", mirrored) == "float32"
    assert set_mixed_precision("mixed_bfloat16") == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    with pytest.raises(ValueError, match="strategy must be one of"):
        resolve_strategy("gpu")
    with pytest.raises(ValueError, match="mixed precision must be one of"):
        mixed_precision_policy("half")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        resolve_strategy("auto")


def test_auto_precision_on_a_cpu_follows_its_bfloat16_flags(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert "avx512_bf16" in distribute.cpu_flags(str(cpuinfo))
    assert distribute.cpu_flags(str(tmp_path / "missing")) == set()
    default = tf.distribute.get_strategy()
    for flags, expected in [({"avx2", "fma"}, "float32"), ({"avx512f", "avx512_bf16"}, "float32"),
                            ({"amx_bf16", "amx_tile"}, "mixed_bfloat16"), (set(), "float32")]:
        monkeypatch.setattr(hardware, "cpu_flags", lambda flags=flags: flags)  # the rule's home reads them
        assert mixed_precision_policy("auto", default) == expected
    # An explicit setting is never second-guessed.
    assert mixed_precision_policy("float32", default) == "float32"


def _train(strategy, config, initial_weights, x, y, global_batch):
    with strategy.scope():
        model = build_rating_model(config, mode="full", hidden_units=(8,), dropout=0.0,
                                   attention_units=8, num_hops=2)
        model.set_weights(initial_weights)
        compile_rating_model(model, "classification", keras.optimizers.SGD(0.5))
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(global_batch)
    history = model.fit(dataset, epochs=3, verbose=0)
    return model.get_weights(), history.history["loss"]


def test_mirrored_run_matches_single_device(tiny_bert_config):
    tiny_bert_config.hidden_dropout_prob = tiny_bert_config.attention_probs_dropout_prob = 0.0
    rng = np.random.default_rng(0)
    x = {"input_ids": rng.integers(1, 60, size=(32, 6)).astype("int32"), "attention_mask": np.ones((32, 6), "int32")}
    x["attention_mask"][::3, 4:] = 0
    y = rng.integers(0, 5, size=32)
    keras.utils.set_random_seed(0)
    initial = build_rating_model(tiny_bert_config, mode="full", hidden_units=(8,), dropout=0.0,
                                 attention_units=8, num_hops=2).get_weights()
    single_weights, single_loss = _train(tf.distribute.get_strategy(), tiny_bert_config, initial, x, y, 8)
    mirrored = resolve_strategy("mirrored")
    assert mirrored.num_replicas_in_sync == 2
    mirrored_weights, mirrored_loss = _train(mirrored, tiny_bert_config, initial, x, y, 8)
    np.testing.assert_allclose(mirrored_loss, single_loss, rtol=1e-4)
    assert single_loss[-1] != single_loss[0]  # it did train
    for a, b in zip(mirrored_weights, single_weights):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
