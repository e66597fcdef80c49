"""The defaults both roads share: batch size and token length, learning rates, weight decay.

Each road's optimizers, preprocessor and inference import them from here, so
that a tf-keras and a Keras 3 model trained from one recipe see the same
numbers.
"""

DEFAULT_BATCH_SIZE = 32
DEFAULT_MAX_LENGTH = 128  # tokens per text, special tokens included
# Learning rates by default: a head on a frozen encoder, and fine-tuning (BERT paper range).
FROZEN_LEARNING_RATE = 1e-3
FINE_TUNING_LEARNING_RATE = 5e-5
DEFAULT_WEIGHT_DECAY = 0.01
# Variables that AdamW's decoupled weight decay leaves alone (BERT's convention).
NO_WEIGHT_DECAY = ("LayerNorm", "layer_norm", "bias")
