"""One harness for the standard checks every kerasbert layer must pass.

In the spirit of keras-hub's `TestCase.run_layer_test`: `run_layer_test`
builds the layer from `init_kwargs`, calls it on `input_data` (with `mask`)
and checks

- config: the layer is registered for serialisation under "kerasbert",
  `get_config` holds exactly the constructor's arguments, and
  `from_config(get_config())` gives the same config and, with the weights
  copied over, the same outputs;
- masking: the output mask is the one expected, and changing the padded
  positions of the input does not change the output at unpadded positions;
- fit: one short `fit` inside a model changes the layer's trainable
  weights and the weights before it (gradients flow through the layer);
- mixed precision (`mixed_float16`, `mixed_bfloat16`): the layer and each
  sublayer compute in the policy's dtype, variables stay float32, outputs
  have the expected dtype, are finite and close to the float32 outputs;
- save/load: a `.keras` round trip of a model holding the layer predicts
  the same values.
"""

import inspect
import os
import tempfile

import numpy as np

from kerasbert._backend import keras, tf

POLICIES = {"mixed_float16": tf.float16, "mixed_bfloat16": tf.bfloat16}
# Keys every Keras 2 layer puts in its config besides its own constructor arguments.
BASE_CONFIG_KEYS = {"name", "trainable", "dtype", "batch_input_shape"}
PASS_THROUGH = "input"  # `expected_output_mask` value: the input mask comes out unchanged


def _as_list(data):
    return list(data) if isinstance(data, (list, tuple)) else [data]


def _call(layer, arrays, mask, is_list, dtype=None):
    tensors = [tf.constant(a) if dtype is None else tf.cast(a, dtype) for a in arrays]
    inputs = tensors if is_list else tensors[0]
    if mask is None:
        return layer(inputs)
    mask_tensor = tf.constant(mask)
    return layer(inputs, mask=[mask_tensor] * len(tensors) if is_list else mask_tensor)


def _numpy(output):
    return tf.cast(output, tf.float32).numpy()


def _check_config(layer_cls, layer, init_kwargs, arrays, mask, is_list, output, config_excludes):
    assert keras.saving.get_registered_name(layer_cls) == "kerasbert>" + layer_cls.__name__, (
        "register the layer with keras.saving.register_keras_serializable(package='kerasbert')"
    )
    config = layer.get_config()
    parameters = {
        name
        for name, p in inspect.signature(layer_cls.__init__).parameters.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }
    own_keys = set(config) - BASE_CONFIG_KEYS
    assert own_keys == parameters - set(config_excludes), (
        "get_config must return exactly the constructor arguments: config has %s, __init__ takes %s"
        % (sorted(own_keys), sorted(parameters))
    )
    for key, value in init_kwargs.items():
        if key in own_keys:
            assert config[key] == value or np.allclose(config[key], value), (key, config[key], value)
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config
    _call(clone, arrays, mask, is_list)  # build
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_numpy(_call(clone, arrays, mask, is_list)), _numpy(output), rtol=1e-6, atol=1e-6)


def _check_masking(layer, arrays, mask, is_list, output, expected_output_mask, rng):
    tensors = [tf.constant(a) for a in arrays]
    mask_tensor = tf.constant(mask)
    computed = layer.compute_mask(tensors if is_list else tensors[0],
                                  [mask_tensor] * len(tensors) if is_list else mask_tensor)
    if expected_output_mask is None:
        assert computed is None, "the layer should consume the mask"
    else:
        expected = mask if expected_output_mask == PASS_THROUGH else expected_output_mask
        np.testing.assert_array_equal(np.asarray(computed), expected)
    # Garbage at padded positions must not reach unpadded outputs.
    noisy = [np.where(mask[:, :, None], a, rng.normal(scale=100.0, size=a.shape)).astype(a.dtype) for a in arrays]
    changed = _numpy(_call(layer, noisy, mask, is_list))
    reference = _numpy(output)
    if reference.ndim >= 2 and reference.shape[:2] == mask.shape:  # a sequence output: compare unpadded steps
        np.testing.assert_allclose(changed[mask], reference[mask], rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_allclose(changed, reference, rtol=1e-5, atol=1e-5)


def _model_around(layer, arrays, is_list, masked):
    """Inputs -> (Masking) -> Dense `before_k` -> the layer -> Flatten -> Dense(1)."""
    inputs = [keras.Input(shape=a.shape[1:], dtype=a.dtype) for a in arrays]
    x = [keras.layers.Masking(0.0)(i) if masked else i for i in inputs]
    x = [keras.layers.Dense(a.shape[-1], name="before_%d" % k)(t) for k, (a, t) in enumerate(zip(arrays, x))]
    y = layer(x if is_list else x[0])
    y = keras.layers.Flatten()(y) if len(y.shape) > 2 else y
    outputs = keras.layers.Dense(1, name="after")(y)
    return keras.Model(inputs, outputs)


def _model_inputs(arrays, mask):
    """The data a `_model_around` model takes: padded positions zeroed for `Masking(0.0)`."""
    if mask is None:
        return list(arrays)
    return [np.where(mask[:, :, None], a, 0.0).astype(a.dtype) for a in arrays]


def _check_fit(layer_cls, init_kwargs, arrays, mask, is_list):
    layer = layer_cls(**init_kwargs)
    model = _model_around(layer, arrays, is_list, masked=mask is not None)
    model.compile(keras.optimizers.Adam(0.05), "mse")
    x = _model_inputs(arrays, mask)
    y = np.random.default_rng(0).normal(size=(len(arrays[0]), 1)).astype("float32")
    own_before = [w.numpy().copy() for w in layer.trainable_weights]
    before = {w.name: w.numpy().copy() for w in model.trainable_weights if w.name.startswith("before_")}
    model.fit(x if is_list else x[0], y, epochs=2, batch_size=len(y), verbose=0)
    for old, weight in zip(own_before, layer.trainable_weights):
        assert np.any(old != weight.numpy()), "fit did not change %s" % weight.name
    moved = [name for name, old in before.items() if np.any(old != _by_name(model, name))]
    assert moved, "no gradient reached the weights before the layer"


def _by_name(model, name):
    return next(w.numpy() for w in model.trainable_weights if w.name == name)


def _check_mixed_precision(layer_cls, init_kwargs, arrays, mask, is_list, layer, output, mixed_output_dtype,
                           float32_sublayers, mixed_atol):
    for policy, compute in POLICIES.items():
        keras.mixed_precision.set_global_policy(policy)
        try:
            mixed = layer_cls(**init_kwargs)
            result = _call(mixed, arrays, mask, is_list, dtype=compute)
            for sublayer in mixed._flatten_layers(include_self=True):
                wanted = tf.float32 if sublayer.name in float32_sublayers else compute
                assert tf.as_dtype(sublayer.compute_dtype) == wanted, (policy, sublayer.name, sublayer.compute_dtype)
            assert all(v.dtype == tf.float32 for v in mixed.weights), [v.dtype for v in mixed.weights]
            expected_dtype = tf.as_dtype(mixed_output_dtype) if mixed_output_dtype else compute
            assert result.dtype == expected_dtype, (policy, result.dtype)
            assert np.all(np.isfinite(_numpy(result)))
            mixed.set_weights(layer.get_weights())
            np.testing.assert_allclose(_numpy(_call(mixed, arrays, mask, is_list, dtype=compute)), _numpy(output),
                                       rtol=0.05, atol=mixed_atol)
        finally:
            keras.mixed_precision.set_global_policy("float32")


def _check_save_load(layer_cls, init_kwargs, arrays, mask, is_list):
    model = _model_around(layer_cls(**init_kwargs), arrays, is_list, masked=mask is not None)
    x = _model_inputs(arrays, mask)
    x = x if is_list else x[0]
    expected = model.predict(x, verbose=0)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "layer_test.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    mask=None,
    expected_output_shape=None,
    expected_output_mask=None,
    run_fit=True,
    run_mixed_precision=True,
    run_save_load=True,
    mixed_output_dtype=None,
    float32_sublayers=(),
    config_excludes=(),
    mixed_atol=0.05,
):
    """Run the standard layer checks (see the module docstring); returns the float32 output.

    Args:
        input_data: a float32 array `(batch, time, hidden)`, or a list of
            them for layers that take a list (ScalarMix, LayerSelection).
        mask: a `(batch, time)` bool array, or None.
        expected_output_mask: None (the layer consumes the mask),
            `PASS_THROUGH` (the input mask comes out), or an array.
        mixed_output_dtype: the output dtype under mixed precision, when it
            is not the compute dtype (e.g. "float32").
        float32_sublayers: names of sublayers that deliberately compute in float32.
        config_excludes: constructor arguments not in the config (e.g. assets).
    """
    is_list = isinstance(input_data, (list, tuple))
    arrays = [np.asarray(a, dtype="float32") for a in _as_list(input_data)]
    mask = None if mask is None else np.asarray(mask, dtype=bool)
    rng = np.random.default_rng(0)

    layer = layer_cls(**init_kwargs)
    output = _call(layer, arrays, mask, is_list)
    if expected_output_shape is not None:
        assert tuple(output.shape) == tuple(expected_output_shape), output.shape
    _check_config(layer_cls, layer, init_kwargs, arrays, mask, is_list, output, config_excludes)
    if mask is not None:
        _check_masking(layer, arrays, mask, is_list, output, expected_output_mask, rng)
    if run_fit:
        _check_fit(layer_cls, init_kwargs, arrays, mask, is_list)
    if run_mixed_precision:
        _check_mixed_precision(layer_cls, init_kwargs, arrays, mask, is_list, layer, output, mixed_output_dtype,
                               float32_sublayers, mixed_atol)
    if run_save_load:
        _check_save_load(layer_cls, init_kwargs, arrays, mask, is_list)
    return _numpy(output)


def token_batch(batch=4, time=6, vocab=60, seed=0):
    """Random token ids with the first row padded after 4 tokens (a BERT-style input dict)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(3, vocab, size=(batch, time)).astype("int32")
    mask = np.ones((batch, time), "int32")
    mask[0, 4:] = 0
    ids[0, 4:] = 0
    return {"input_ids": ids, "attention_mask": mask}
