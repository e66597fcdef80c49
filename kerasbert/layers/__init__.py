"""Keras layers for BERT-family encoders: encode -> mix -> pool."""

from kerasbert.layers.layer_selection import LAYER_STRATEGIES, LayerSelection
from kerasbert.layers.masking import large_negative_number
from kerasbert.layers.pooling import CLSPooling, MaskedMaxPooling, MaskedMeanPooling
from kerasbert.layers.scalar_mix import ScalarMix
from kerasbert.layers.self_attentive_pooling import SelfAttentivePooling
from kerasbert.layers.transformer_encoder import TRAINABLE_MODES, TransformerEncoder

__all__ = [
    "CLSPooling",
    "LAYER_STRATEGIES",
    "LayerSelection",
    "MaskedMaxPooling",
    "MaskedMeanPooling",
    "ScalarMix",
    "SelfAttentivePooling",
    "TRAINABLE_MODES",
    "TransformerEncoder",
    "large_negative_number",
]
