"""Checks of the Keras 3 `TransformerEncoder` on a tiny random keras-hub BERT, run per backend
by `test_keras3_encoder.py`."""

import math
import os

import numpy as np
import pytest

import keras  # noqa: E402
import keras_hub  # noqa: E402
from keras import ops  # noqa: E402

from kerasbert.keras3.layers import MaskedMeanPooling  # noqa: E402
from kerasbert.keras3.layers.transformer_encoder import TransformerEncoder  # noqa: E402

IDS = np.array([[2, 5, 7, 9, 3, 0], [2, 8, 3, 0, 0, 0]], dtype="int32")
MASK = (IDS > 0).astype("int32")
MASK[:, 0] = 1


def tiny_backbone(dropout=0.3):
    keras.utils.set_random_seed(1)
    return keras_hub.models.BertBackbone(vocabulary_size=16, num_layers=3, num_heads=2, hidden_dim=8,
                                         intermediate_dim=12, dropout=dropout, max_sequence_length=16)


def states(encoder, training=False):
    out = encoder({"input_ids": IDS, "attention_mask": MASK}, training=training)["hidden_states"]
    return [ops.convert_to_numpy(x) for x in out]


def test_every_hidden_state_and_the_backbones_sequence_output():
    backbone = tiny_backbone()
    encoder = TransformerEncoder(backbone, exact_gelu=False)  # keras-hub's own activation: the same network
    hidden = states(encoder)
    assert len(hidden) == 4 and hidden[0].shape == (2, 6, 8)
    sequence = backbone({"token_ids": IDS, "segment_ids": np.zeros_like(IDS), "padding_mask": MASK})
    np.testing.assert_allclose(hidden[-1], ops.convert_to_numpy(sequence["sequence_output"]), rtol=1e-5, atol=1e-5)


def exact_gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def feedforward_activation(encoder, x):
    block = encoder.backbone.transformer_layers[0]
    return ops.convert_to_numpy(block._feedforward_intermediate_dense.activation(ops.convert_to_tensor(x)))


def test_exact_gelu_changes_the_blocks_and_survives_save_and_load(tmp_path):
    probe = np.linspace(-3, 3, 13).astype("float32")
    approximate = TransformerEncoder(tiny_backbone(), exact_gelu=False)
    assert np.abs(feedforward_activation(approximate, probe) - exact_gelu(probe)).max() > 1e-4  # keras-hub's tanh
    encoder = TransformerEncoder(tiny_backbone(), exact_gelu=True)
    np.testing.assert_allclose(feedforward_activation(encoder, probe), exact_gelu(probe), rtol=1e-5, atol=1e-6)
    inputs = {name: keras.Input((None,), dtype="int32", name=name) for name in ("input_ids", "attention_mask")}
    pooled = MaskedMeanPooling()(TransformerEncoder(encoder.backbone, exact_gelu=True, name="encoder")(inputs)
                                 ["hidden_states"][-1])
    model = keras.Model(inputs, pooled)
    expected = ops.convert_to_numpy(model({"input_ids": IDS, "attention_mask": MASK}))
    model.save(tmp_path / "encoder.keras")
    loaded = keras.models.load_model(tmp_path / "encoder.keras", safe_mode=True)
    assert loaded.get_layer("encoder").exact_gelu
    np.testing.assert_allclose(feedforward_activation(loaded.get_layer("encoder"), probe), exact_gelu(probe),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(loaded({"input_ids": IDS, "attention_mask": MASK})), expected,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode, top_k, trainable_blocks", [("frozen", None, 0), ("top_k", 1, 1), ("top_k", 0, 0),
                                                           ("full", None, 3)])
def test_trainable_weights_and_frozen_parts_in_inference_mode(mode, top_k, trainable_blocks):
    encoder = TransformerEncoder(tiny_backbone(), mode=mode, top_k=top_k)
    per_block = len(encoder.backbone.transformer_layers[0].weights)
    embeddings = sum(len(encoder.backbone.get_layer(n).weights) for n in
                     ("token_embedding", "position_embedding", "segment_embedding", "embeddings_layer_norm"))
    expected = trainable_blocks * per_block + (embeddings if mode == "full" else 0)
    assert len(encoder.trainable_weights) == expected
    inference, training = states(encoder), states(encoder, training=True)
    frozen_states = encoder.first_trainable_block + 1 if mode != "full" else 0
    for index in range(frozen_states):  # below the open blocks, dropout never runs
        np.testing.assert_allclose(training[index], inference[index], rtol=1e-6, atol=1e-6)
    if mode != "frozen" and trainable_blocks:
        assert np.abs(training[-1] - inference[-1]).max() > 1e-4  # the open blocks run dropout in training


def test_padding_does_not_change_real_tokens():
    encoder = TransformerEncoder(tiny_backbone())
    short = encoder({"input_ids": IDS[1:, :3], "attention_mask": MASK[1:, :3]})["hidden_states"]
    long = states(encoder)
    for a, b in zip(short, long):
        np.testing.assert_allclose(ops.convert_to_numpy(a)[0], b[1, :3], rtol=1e-5, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="top_k"):
        TransformerEncoder(tiny_backbone(), mode="top_k", top_k=4)
    with pytest.raises(ValueError, match="mode must be"):
        TransformerEncoder(tiny_backbone(), mode="half")
    assert os.environ["KERAS_BACKEND"] == keras.backend.backend()


def test_an_xlm_roberta_backbone_gives_its_own_output_and_trains_its_top_block():
    keras.utils.set_random_seed(2)
    backbone = keras_hub.models.XLMRobertaBackbone(vocabulary_size=16, num_layers=2, num_heads=2, hidden_dim=8,
                                                   intermediate_dim=12, dropout=0.0, max_sequence_length=16)
    encoder = TransformerEncoder(backbone, exact_gelu=False)
    hidden = states(encoder)
    assert len(hidden) == 3
    sequence = backbone({"token_ids": IDS, "padding_mask": MASK})
    np.testing.assert_allclose(hidden[-1], ops.convert_to_numpy(sequence), rtol=1e-5, atol=1e-5)
    top = TransformerEncoder(backbone, mode="top_k", top_k=1)
    assert top.trainable_weights and all("transformer_layer_1" in w.path for w in top.trainable_weights)
    full = TransformerEncoder(backbone, mode="full")
    assert any("embeddings" in w.path for w in full.trainable_weights)
    assert len({id(w) for w in full.trainable_weights}) == len(full.trainable_weights)
