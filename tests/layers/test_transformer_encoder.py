import numpy as np
import pytest
from layer_test_case import token_batch

from kerasbert._backend import keras, tf
from kerasbert.training.callbacks import GradualUnfreezing
from kerasbert.layers import MaskedMeanPooling, TransformerEncoder
from kerasbert.models import model_inputs




def pooled_model(encoder, units=3):
    inputs = model_inputs()
    last = encoder(inputs)["hidden_states"][-1]
    pooled = MaskedMeanPooling()(last)
    return keras.Model(inputs, keras.layers.Dense(units, name="head")(pooled))


def block_variables(encoder, index):
    return encoder.transformer_blocks()[index].weights


def test_outputs_every_hidden_state_and_the_mask(tiny_bert_config):
    encoder = TransformerEncoder(tiny_bert_config, output_attentions=True)
    x = token_batch()
    out = encoder(x)
    assert len(out["hidden_states"]) == 3 and len(out["attentions"]) == 2
    assert out["hidden_states"][0].shape == (4, 6, 16)
    assert out["attentions"][0].shape == (4, 2, 6, 6)
    # The same numbers as the wrapped Hugging Face model called directly.
    reference = encoder.transformer(x, output_hidden_states=True, training=False).hidden_states
    for ours, theirs in zip(out["hidden_states"], reference):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    masks = encoder.compute_mask(x)
    assert len(masks["hidden_states"]) == 3
    np.testing.assert_array_equal(masks["hidden_states"][-1].numpy(), x["attention_mask"].astype(bool))
    # In a functional model the mask travels with the tensors.
    symbolic = encoder(model_inputs())["hidden_states"][-1]
    assert symbolic._keras_mask is not None


def test_frozen_has_no_trainable_weights_and_no_dropout(tiny_bert_config):
    encoder = TransformerEncoder(tiny_bert_config, mode="frozen")
    assert encoder.trainable_weights == []
    x = token_batch()
    a = encoder(x, training=True)["hidden_states"][-1].numpy()
    b = encoder(x, training=True)["hidden_states"][-1].numpy()
    np.testing.assert_array_equal(a, b)


def test_full_trains_everything_but_the_unused_pooler(tiny_bert_config):
    encoder = TransformerEncoder(tiny_bert_config, mode="full")
    names = [w.name for w in encoder.trainable_weights]
    assert names and not any("pooler" in n for n in names)
    assert len(encoder.trainable_weights) + 2 == len(encoder.weights)  # pooler kernel + bias
    x = token_batch()
    a = encoder(x, training=True)["hidden_states"][-1].numpy()
    b = encoder(x, training=True)["hidden_states"][-1].numpy()
    assert not np.allclose(a, b)  # dropout is on in training


def test_top_k_marks_exactly_the_top_blocks(tiny_bert_config):
    encoder = TransformerEncoder(tiny_bert_config, mode="top_k", top_k=1)
    trainable = {id(w) for w in encoder.trainable_weights}
    assert trainable == {id(w) for w in block_variables(encoder, 1)}
    encoder.set_top_k(2)
    assert len(encoder.trainable_weights) == 2 * len(block_variables(encoder, 0))
    with pytest.raises(ValueError, match="top_k"):
        TransformerEncoder(tiny_bert_config, mode="top_k")


@pytest.mark.parametrize("mode,top_k", [("frozen", None), ("top_k", 1)])
def test_fit_changes_only_the_trainable_parts(tiny_bert_config, mode, top_k):
    encoder = TransformerEncoder(tiny_bert_config, mode=mode, top_k=top_k, name="encoder")
    model = pooled_model(encoder)
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    frozen = encoder.main_layer().embeddings.weights + block_variables(encoder, 0)
    opened = [] if mode == "frozen" else block_variables(encoder, 1)
    before = {id(w): w.numpy().copy() for w in frozen + opened + model.get_layer("head").weights}
    model.fit(token_batch(), np.array([0, 1, 2, 1]), epochs=2, verbose=0)
    for w in frozen:
        np.testing.assert_array_equal(w.numpy(), before[id(w)], err_msg=w.name)
    for w in opened + model.get_layer("head").weights:
        if "LayerNorm" not in w.name:
            assert np.any(w.numpy() != before[id(w)]), w.name


def test_gradual_unfreezing_opens_one_block_per_epoch(tiny_bert_config):
    encoder = TransformerEncoder(tiny_bert_config, mode="frozen", name="encoder")
    model = pooled_model(encoder)
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    bottom = block_variables(encoder, 0)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((encoder.top_k, [w.numpy().copy() for w in bottom]))

    model.fit(token_batch(), np.array([0, 1, 2, 1]), epochs=3, verbose=0,
              callbacks=[GradualUnfreezing(initial_blocks=1, verbose=0), Record()])
    assert [k for k, _ in seen] == [1, 2, 2]
    # The bottom block stays fixed while closed (epoch 1) and trains once opened (epoch 2).
    before_fit = seen[0][1]
    assert any(np.any(a != b) for a, b in zip(before_fit, seen[1][1]))


def test_config_round_trip_rebuilds_the_architecture(tiny_bert_config):
    encoder = TransformerEncoder(tiny_bert_config, mode="top_k", top_k=1, output_attentions=True)
    config = encoder.get_config()
    assert config["checkpoint"] is None and config["mode"] == "top_k" and config["top_k"] == 1
    assert config["model_config"]["hidden_size"] == 16
    restored = TransformerEncoder.from_config(config)
    assert restored.get_config() == config
    assert [w.shape for w in restored.weights] == [w.shape for w in encoder.weights]


def test_bad_arguments(tiny_bert_config):
    with pytest.raises(ValueError, match="mode must be one of"):
        TransformerEncoder(tiny_bert_config, mode="half")
    with pytest.raises(TypeError, match="checkpoint must be"):
        TransformerEncoder(12)
