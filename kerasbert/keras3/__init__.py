"""The Keras 3 road: kerasbert's modelling floors written in `keras.ops`, for every Keras 3 backend.

Importing it imports Keras 3 (`keras`) and nothing of TensorFlow: set
`KERAS_BACKEND` (jax, tensorflow or torch) before the first import, as with
any Keras 3 code. The layers carry the same names and maths as the tf-keras
road's (`kerasbert.layers`), and are registered under the same package name.

    import os; os.environ["KERAS_BACKEND"] = "jax"
    from kerasbert.keras3.layers import ScalarMix, SelfAttentivePooling
"""
