"""Make sure TensorFlow runs with Keras 2 (`tf-keras`).

Hugging Face's TF classes (transformers 4.x) are Keras 2 models. TensorFlow
>= 2.16 puts Keras 3 behind `tf.keras` unless `TF_USE_LEGACY_KERAS=1` is set
before TensorFlow is imported, so this module must run before any import of
TensorFlow inside the package.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

try:
    import tf_keras as keras  # noqa: E402
except ImportError as error:  # pragma: no cover - depends on the install
    raise ImportError(
        "kerasbert needs Keras 2 for Hugging Face's TensorFlow models. "
        "Install it with: pip install tf-keras "
        "(the same minor version as your tensorflow, e.g. tf-keras==2.21.*)."
    ) from error

import tensorflow as tf  # noqa: E402


def _check_tf_keras():
    """Stop with a clear message when `tf.keras` is Keras 3 anyway."""
    if os.environ.get("TF_USE_LEGACY_KERAS") not in ("1", "true", "True"):
        raise RuntimeError(
            "TF_USE_LEGACY_KERAS is set to %r; kerasbert needs it to be 1 so "
            "that tf.keras is Keras 2 (tf-keras)." % os.environ["TF_USE_LEGACY_KERAS"]
        )
    version = getattr(tf.keras, "__version__", "2")
    if str(version).startswith("3"):
        raise RuntimeError(
            "tf.keras is Keras %s: TensorFlow was imported before kerasbert "
            "without TF_USE_LEGACY_KERAS=1. Import kerasbert first, or set "
            "TF_USE_LEGACY_KERAS=1 in the environment, and make sure tf-keras "
            "is installed (pip install tf-keras)." % version
        )


_check_tf_keras()

__all__ = ["keras", "tf"]
