"""Self-attentive sentence embedding (Lin et al. 2017), in `keras.ops`."""

import keras
from keras import ops

from kerasbert.keras3.layers.masking import large_negative_number
from kerasbert.model_arguments import HOP_MERGES  # noqa: F401  (declared once for both roads)
from kerasbert.model_arguments import MODEL_LIMITS


@keras.saving.register_keras_serializable(package="kerasbert")
class SelfAttentivePooling(keras.layers.Layer):
    """r attention hops over a sequence, with the ‖AAᵀ − I‖² penalty (the same layer as `kerasbert.layers`').

        A = softmax(W_s2 · tanh(W_s1 · Hᵀ))      (batch, r, time)
        M = A · H                                (batch, r, hidden)
        P = ‖A·Aᵀ − I‖²_F                        penalty per example

    Padding is masked before the softmax. The softmax and the penalty run in
    float32 under mixed precision; `penalty_coefficient * mean_batch(P)` is
    added with `add_loss`.

    Args:
        attention_units: d_a, the width of W_s1 (paper: 350).
        num_hops: r, the number of attention rows (paper: 30).
        penalty_coefficient: weight of the penalty; 0 disables it.
        merge_hops: `"flatten"` gives `(batch, r * hidden)`; `"mean"` `(batch, hidden)`.

    Call arguments:
        inputs: `(batch, time, hidden)`, with its `(batch, time)` mask.
        return_attention_scores: also return A, `(batch, r, time)`, float32.

    Example:
        >>> pooled, attention = SelfAttentivePooling(num_hops=8)(mixed, return_attention_scores=True)
    """

    def __init__(self, attention_units=350, num_hops=30, penalty_coefficient=1.0, merge_hops="flatten", **kwargs):
        super().__init__(**kwargs)
        if merge_hops not in HOP_MERGES:
            raise ValueError("merge_hops must be one of %s, got %r" % (HOP_MERGES, merge_hops))
        MODEL_LIMITS["num_hops"].check("num_hops", num_hops)
        MODEL_LIMITS["attention_units"].check("attention_units", attention_units)
        self.attention_units = int(attention_units)
        self.num_hops = int(num_hops)
        self.penalty_coefficient = float(penalty_coefficient)
        self.merge_hops = merge_hops
        self.supports_masking = True
        # The paper's W_s1 and W_s2 have no biases.
        self.ws1 = keras.layers.Dense(self.attention_units, use_bias=False, activation="tanh",
                                      dtype=self.dtype_policy, name="ws1")
        self.ws2 = keras.layers.Dense(self.num_hops, use_bias=False, dtype=self.dtype_policy, name="ws2")

    def build(self, input_shape):
        self.ws1.build(input_shape)
        self.ws2.build(tuple(input_shape[:-1]) + (self.attention_units,))

    def call(self, inputs, mask=None, return_attention_scores=False):
        scores = ops.transpose(ops.cast(self.ws2(self.ws1(inputs)), "float32"), (0, 2, 1))  # (batch, r, time)
        if mask is not None:
            keep = ops.expand_dims(ops.cast(mask, "bool"), 1)
            scores = ops.where(keep, scores, large_negative_number("float32"))
        attention = ops.softmax(scores, axis=-1)
        if self.penalty_coefficient:
            self.add_loss(self.penalty_coefficient * ops.mean(self.penalty(attention)))
        pooled = ops.matmul(ops.cast(attention, inputs.dtype), inputs)  # (batch, r, hidden)
        if self.merge_hops == "mean":
            pooled = ops.mean(pooled, axis=1)
        else:
            pooled = ops.reshape(pooled, (-1, self.num_hops * inputs.shape[-1]))
        if return_attention_scores:
            return pooled, attention
        return pooled

    @staticmethod
    def penalty(attention):
        """‖A·Aᵀ − I‖²_F per example, in float32. `(batch, r, time)` -> `(batch,)`."""
        attention = ops.cast(attention, "float32")
        gram = ops.matmul(attention, ops.transpose(attention, (0, 2, 1)))
        return ops.sum(ops.square(gram - ops.eye(ops.shape(attention)[1], dtype="float32")), axis=(1, 2))

    def compute_mask(self, inputs, mask=None, return_attention_scores=False):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(attention_units=self.attention_units, num_hops=self.num_hops,
                      penalty_coefficient=self.penalty_coefficient, merge_hops=self.merge_hops)
        return config
