"""The tf-keras road's entry to TensorFlow: Keras 2 (`tf-keras`) and `tf`.

Every module of the tf-keras road imports TensorFlow through here, after
`kerasbert.environment` has set `TF_USE_LEGACY_KERAS=1`, so `tf.keras` is
Keras 2, as Hugging Face's TF classes require.
"""

import os

from kerasbert import environment  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)

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
