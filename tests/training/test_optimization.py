"""Layer-wise learning-rate decay: `LayerwiseAdamW` against a NumPy Adam, and the encoder's factors."""

import copy

import numpy as np
import pytest

from kerasbert._backend import keras, tf
from kerasbert.layers import TransformerEncoder
from kerasbert.models import make_optimizer
from kerasbert.models.optimizers import LayerwiseAdamW, LinearWarmupDecay


def numpy_adam(value, gradients, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Adam as Keras writes it (epsilon outside the bias-corrected root)."""
    m = np.zeros_like(value)
    v = np.zeros_like(value)
    for t, g in enumerate(gradients, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        value = value - alpha * m / (np.sqrt(v) + epsilon)
    return value


def test_layerwise_adamw_scales_each_variables_step_by_its_factor():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(3, 4)).astype("float32")
    gradients = [rng.normal(size=(3, 4)).astype("float32") for _ in range(4)]
    scaled = tf.Variable(start, name="scaled")
    plain = tf.Variable(start, name="plain")
    optimizer = LayerwiseAdamW({scaled.name: 0.25}, learning_rate=0.01, weight_decay=0.0)
    for g in gradients:
        optimizer.apply_gradients([(tf.constant(g), scaled), (tf.constant(g), plain)])
    # The moments are plain Adam's: a factor f is Adam with f times the rate.
    np.testing.assert_allclose(scaled.numpy(), numpy_adam(start, gradients, 0.01 * 0.25), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(plain.numpy(), numpy_adam(start, gradients, 0.01), rtol=1e-5, atol=1e-6)


def test_layerwise_adamw_config_round_trip():
    optimizer = make_optimizer("adamw", 5e-5, total_steps=100, lr_multipliers={"a/kernel:0": 0.5})
    assert isinstance(optimizer, LayerwiseAdamW)
    config = optimizer.get_config()
    restored = LayerwiseAdamW.from_config(copy.deepcopy(config))
    assert restored.lr_multipliers == {"a/kernel:0": 0.5}
    assert isinstance(restored._learning_rate, LinearWarmupDecay)
    assert restored.get_config() == config
    # Through Keras' own (de)serialisation, by its registered name.
    again = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(again) is LayerwiseAdamW and again.lr_multipliers == {"a/kernel:0": 0.5}
    # Without factors: the ordinary AdamW.
    assert type(make_optimizer("adamw", 5e-5, total_steps=100)) is keras.optimizers.AdamW
    with pytest.raises(ValueError, match="adamw"):
        make_optimizer("adam", 1e-3, lr_multipliers={"a/kernel:0": 0.5})


def test_encoder_layerwise_factors(tiny_bert_config):
    tiny_bert_config.num_hidden_layers = 3
    encoder = TransformerEncoder(tiny_bert_config, mode="full")
    factors = encoder.layerwise_lr_multipliers(0.5)
    blocks = encoder.transformer_blocks()
    for index, block in enumerate(blocks):
        assert block.weights and all(factors[v.name] == 0.5 ** (3 - index) for v in block.weights)
    embeddings = encoder.main_layer().embeddings.weights
    assert embeddings and all(factors[v.name] == 0.5**4 for v in embeddings)
    # Only the encoder's own weights: the pooler is never trained, the head is not the encoder's.
    assert len(factors) == sum(len(b.weights) for b in blocks) + len(embeddings)
    assert set(encoder.layerwise_lr_multipliers(1.0).values()) == {1.0}
    with pytest.raises(ValueError, match="decay"):
        encoder.layerwise_lr_multipliers(0.0)
