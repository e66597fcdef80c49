"""ScalarMix (Keras 3): the ELMo softmax-weighted sum of layers (Peters et al. 2018)."""

import keras
from keras import ops

from kerasbert.keras3.layers.masking import expand_mask, first_mask


@keras.saving.register_keras_serializable(package="kerasbert")
class ScalarMix(keras.layers.Layer):
    """`gamma * sum_k softmax(s)_k * h_k` over a list of layer outputs, in `keras.ops`.

    The same layer as `kerasbert.layers.ScalarMix` (AllenNLP's `ScalarMix`):
    one scalar `s_k` per mixed layer (initialised to 0, or to
    `initial_scalar_parameters`), a softmax taken in float32, and a scale
    `gamma` initialised to 1; the scalars stay float32 under mixed precision.
    With `do_layer_norm=True` each layer is first normalised with the mean
    and variance of its unmasked positions, per sentence.

    Args:
        layer_indices: which entries of the input list to mix; `None` mixes them all.
        initial_scalar_parameters: starting values of the scalars `s_k`.
        do_layer_norm: normalise each layer (mask-aware, per sentence).

    Input: a list of N tensors `(batch, time, hidden)` with their `(batch, time)` mask.
    Output: `(batch, time, hidden)`, carrying the same mask.

    Example:
        >>> mixed = ScalarMix(do_layer_norm=True)(hidden_states)       # (batch, time, hidden)
    """

    def __init__(self, layer_indices=None, initial_scalar_parameters=None, do_layer_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.layer_indices = None if layer_indices is None else [int(i) for i in layer_indices]
        self.initial_scalar_parameters = (
            None if initial_scalar_parameters is None else [float(v) for v in initial_scalar_parameters])
        self.do_layer_norm = bool(do_layer_norm)
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(input_shape[0],
                                                                                           (list, tuple)):
            raise ValueError("ScalarMix expects a non-empty list of tensors, got %r" % (input_shape,))
        self.num_inputs = len(input_shape)
        for index in self.layer_indices or ():
            if not -self.num_inputs <= index < self.num_inputs:
                raise ValueError("layer_indices has %d, but only %d layers are given" % (index, self.num_inputs))
        mixture_size = len(self._selected(list(range(self.num_inputs))))
        initial = self.initial_scalar_parameters or [0.0] * mixture_size
        if len(initial) != mixture_size:
            raise ValueError("initial_scalar_parameters has %d values for %d mixed layers"
                             % (len(initial), mixture_size))
        # autocast=False: the softmax reads the float32 scalars even under a mixed policy.
        self.scalar_parameters = self.add_weight(name="scalar_parameters", shape=(mixture_size,),
                                                 initializer=keras.initializers.Constant(initial),
                                                 dtype="float32", autocast=False)
        self.gamma = self.add_weight(name="gamma", shape=(), initializer=keras.initializers.Constant(1.0),
                                     dtype="float32", autocast=False)

    def _selected(self, items):
        return list(items) if self.layer_indices is None else [items[i] for i in self.layer_indices]

    def normalized_weights(self):
        """The softmax layer weights as a NumPy array (for plots)."""
        return keras.ops.convert_to_numpy(ops.softmax(self.scalar_parameters))

    def call(self, inputs, mask=None):
        inputs = list(inputs)
        if len(inputs) != self.num_inputs:
            # As AllenNLP: the scalars belong to fixed layers, so a different count is a bug.
            raise ValueError("ScalarMix %r was built for %d tensors but got %d"
                             % (self.name, self.num_inputs, len(inputs)))
        mask = first_mask(mask)
        weights = ops.softmax(ops.cast(self.scalar_parameters, "float32"))
        mixed = 0.0
        for k, tensor in enumerate(self._selected(inputs)):
            tensor = ops.cast(tensor, "float32")
            if self.do_layer_norm:
                tensor = _masked_layer_norm(tensor, mask)
            mixed = mixed + weights[k] * tensor
        return ops.cast(ops.cast(self.gamma, "float32") * mixed, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        return first_mask(mask)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update(layer_indices=self.layer_indices, initial_scalar_parameters=self.initial_scalar_parameters,
                      do_layer_norm=self.do_layer_norm)
        return config


def _masked_layer_norm(tensor, mask, epsilon=1e-12):
    """Normalise each example over its unmasked (time, hidden) entries (float32)."""
    if mask is None:
        mask = ops.ones(ops.shape(tensor)[:2], dtype="bool")
    weights = expand_mask(mask, "float32")  # (batch, time, 1)
    count = ops.maximum(ops.sum(weights, axis=(1, 2), keepdims=True) * ops.cast(ops.shape(tensor)[-1], "float32"),
                        1.0)
    mean = ops.sum(tensor * weights, axis=(1, 2), keepdims=True) / count
    variance = ops.sum(ops.square((tensor - mean) * weights), axis=(1, 2), keepdims=True) / count
    return (tensor - mean) / ops.sqrt(variance + epsilon)
