"""What trains, and what runs in inference mode, in each encoder mode (issue 12 items 2-3, issue 15)."""

import numpy as np
import pytest
from layer_test_case import token_batch

from kerasbert._backend import keras
from kerasbert.layers import MaskedMeanPooling, TransformerEncoder
from kerasbert.models import model_inputs



def three_layer_config(tiny_bert_config):
    tiny_bert_config.num_hidden_layers = 3
    return tiny_bert_config


def variable_ids(variables):
    return {id(v) for v in variables}


def test_top_k_trains_the_top_blocks_and_nothing_else(tiny_bert_config):
    encoder = TransformerEncoder(three_layer_config(tiny_bert_config), mode="top_k", top_k=2)
    blocks = encoder.transformer_blocks()
    expected = variable_ids(blocks[1].weights) | variable_ids(blocks[2].weights)
    assert variable_ids(encoder.trainable_weights) == expected
    # Everything else, whatever its owner, is listed as non-trainable, and nothing twice.
    assert variable_ids(encoder.non_trainable_weights) == variable_ids(encoder.transformer.weights) - expected
    assert len(encoder.weights) == len(encoder.transformer.weights)


def test_top_k_freezes_weights_outside_the_blocks(tiny_bert_config):
    """A weight the main layer owns directly (like DeBERTa's rel_embeddings) stays frozen."""
    encoder = TransformerEncoder(tiny_bert_config, mode="top_k", top_k=1)
    main = encoder.main_layer()
    extra = main.encoder.add_weight(name="rel_embeddings", shape=(3,), trainable=True)
    assert id(extra) not in variable_ids(encoder.trainable_weights)
    assert id(extra) in variable_ids(encoder.non_trainable_weights)


def run_twice(encoder, x):
    first = encoder(x, training=True)["hidden_states"]
    second = encoder(x, training=True)["hidden_states"]
    return [np.allclose(a.numpy(), b.numpy()) for a, b in zip(first, second)]


def test_frozen_blocks_run_in_inference_mode_under_top_k(tiny_bert_config):
    encoder = TransformerEncoder(three_layer_config(tiny_bert_config), mode="top_k", top_k=1)
    x = token_batch(time=7)
    same = run_twice(encoder, x)
    # Embeddings and the two closed blocks: no dropout. The open top block: dropout.
    assert same == [True, True, True, False]
    # And the closed part gives exactly the inference-mode numbers.
    reference = encoder(x, training=False)["hidden_states"]
    trained = encoder(x, training=True)["hidden_states"]
    for index in range(3):
        np.testing.assert_array_equal(trained[index].numpy(), reference[index].numpy())


def test_top_k_zero_is_frozen(tiny_bert_config):
    encoder = TransformerEncoder(tiny_bert_config, mode="top_k", top_k=0)
    assert encoder.trainable_weights == []
    assert encoder.runs_in_inference_mode()
    assert all(run_twice(encoder, token_batch(time=7)))


def test_keras_trainable_false_means_inference_mode(tiny_bert_config):
    encoder = TransformerEncoder(tiny_bert_config, mode="full")
    assert not all(run_twice(encoder, token_batch(time=7)))  # dropout on while trainable
    encoder.trainable = False
    assert encoder.trainable_weights == []
    assert all(run_twice(encoder, token_batch(time=7)))
    encoder.trainable = True
    names = [w.name for w in encoder.trainable_weights]
    assert names and not any("pooler" in name for name in names)


def test_closed_bottom_block_stays_fixed_during_fit(tiny_bert_config):
    tiny_bert_config.hidden_dropout_prob = 0.0
    encoder = TransformerEncoder(three_layer_config(tiny_bert_config), mode="top_k", top_k=1)
    inputs = model_inputs()
    pooled = MaskedMeanPooling()(encoder(inputs)["hidden_states"][-1])
    model = keras.Model(inputs, keras.layers.Dense(2)(pooled))
    model.compile(keras.optimizers.Adam(0.05), "mse")
    blocks = encoder.transformer_blocks()
    before = [[w.numpy().copy() for w in block.weights] for block in blocks]
    embeddings_before = [w.numpy().copy() for w in encoder.main_layer().embeddings.weights]
    x = token_batch(batch=8, time=7)
    model.fit(x, np.ones((8, 2), "float32"), epochs=2, batch_size=4, verbose=0)
    for index, block in enumerate(blocks):
        changed = [not np.array_equal(a, w.numpy()) for a, w in zip(before[index], block.weights)]
        assert any(changed) == (index == 2), index
    for a, w in zip(embeddings_before, encoder.main_layer().embeddings.weights):
        np.testing.assert_array_equal(a, w.numpy())


def test_call_blocks_matches_the_whole_encoder(tiny_bert_config):
    encoder = TransformerEncoder(three_layer_config(tiny_bert_config), mode="top_k", top_k=2)
    x = token_batch(time=7)
    states = encoder(x, training=False)["hidden_states"]
    top = encoder.call_blocks(states[1], x["attention_mask"], 1, training=False)
    keep = x["attention_mask"].astype(bool)
    for ours, theirs in zip(top, states[2:]):
        np.testing.assert_allclose(ours.numpy()[keep], theirs.numpy()[keep], rtol=1e-5, atol=1e-5)


def test_set_top_k_moves_the_inference_boundary(tiny_bert_config):
    encoder = TransformerEncoder(three_layer_config(tiny_bert_config), mode="top_k", top_k=1)
    encoder.set_top_k(3)
    assert run_twice(encoder, token_batch(time=7)) == [True, False, False, False]
    with pytest.raises(ValueError, match="top_k"):
        TransformerEncoder(tiny_bert_config, mode="top_k")
