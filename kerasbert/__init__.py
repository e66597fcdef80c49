"""kerasbert: Keras layers, models and recipes on pretrained BERT-family encoders."""

from kerasbert import _backend  # noqa: F401  (must run before TensorFlow is imported)

__version__ = "0.1.0"
