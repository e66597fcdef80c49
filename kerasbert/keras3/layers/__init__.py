"""Keras 3 layers for BERT-family encoders: mix -> pool (`keras.ops`, any backend)."""

from kerasbert.keras3.layers.layer_selection import LAYER_STRATEGIES, LayerSelection
from kerasbert.keras3.layers.masking import large_negative_number
from kerasbert.keras3.layers.pooling import CLSPooling, MaskedMaxPooling, MaskedMeanPooling
from kerasbert.keras3.layers.scalar_mix import ScalarMix
from kerasbert.keras3.layers.self_attentive_pooling import HOP_MERGES, SelfAttentivePooling
from kerasbert.keras3.layers.transformer_encoder import TRAINABLE_MODES, TransformerEncoder

__all__ = [
    "CLSPooling",
    "HOP_MERGES",
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
