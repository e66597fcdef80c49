"""The model arguments of a rating network, declared once for both roads.

`MODEL_ARGUMENTS` holds each argument and its default; both roads'
`build_rating_model` take exactly these keywords (`takes_model_arguments`
gives them the signature), `check_model_arguments` checks them, and a
recipe's `model` section and `RatingModel.from_checkpoint` pass them through.
"""

import inspect

from kerasbert.encoder_modes import check_mode
from kerasbert.errors import ArgumentError
from kerasbert.layer_strategies import LAYER_STRATEGIES
from kerasbert.limits import choice, integer, number

__all__ = ["DEFAULT_SCORE_RANGE", "HOP_MERGES", "MODEL_ARGUMENTS", "MODEL_LIMITS", "POOLINGS",
           "check_encoder_limits", "check_model_arguments", "model_defaults", "takes_model_arguments",
           "usable_positions"]

# The regression head's output range. Wider than the stars 1-5, so that the
# sigmoid need not saturate to reach the common 1 and 5 star labels;
# `kerasbert.tasks.round_stars` clips the predicted star back to 1-5.
DEFAULT_SCORE_RANGE = (0.5, 5.5)
POOLINGS = ("self_attentive", "cls", "mean", "max")
HOP_MERGES = ("flatten", "mean")

# Each model argument and its default, in the builders' order.
MODEL_ARGUMENTS = {
    "mode": "frozen",                 # encoder trainability: frozen, full or top_k
    "top_k": None,                    # trainable top blocks for mode="top_k"
    "layers": "scalar_mix",           # "scalar_mix", a list of layer indices, or a LAYER_STRATEGIES name
    "pooling": "self_attentive",      # one of POOLINGS
    "hidden_units": (256,),           # widths of the head's dense layers
    "dropout": 0.1,                   # before each dense layer of the head, in [0, 1)
    "attention_units": 350,           # SelfAttentivePooling
    "num_hops": 30,
    "penalty_coefficient": 1.0,
    "merge_hops": "flatten",
    "score_range": DEFAULT_SCORE_RANGE,  # regression: low + (high - low) * sigmoid(logit)
}

# The range of each numeric or named model argument (`kerasbert.limits`); `top_k` is also checked against
# the encoder's block count once the checkpoint is read (`check_encoder_limits`).
MODEL_LIMITS = {
    "mode": choice("frozen", "full", "top_k"),
    "top_k": integer(0, 1000).or_none(),
    "pooling": choice(*POOLINGS),
    "hidden_units": integer(1, 65536),  # each width
    "dropout": number(0.0, 1.0, high_open=True),
    "attention_units": integer(1, 65536),
    "num_hops": integer(1, 1024),
    "penalty_coefficient": number(0.0, 1e6),
    "merge_hops": choice(*HOP_MERGES),
}


def model_defaults():
    """`{argument: default}` of the model arguments (a fresh dict)."""
    return dict(MODEL_ARGUMENTS)


def takes_model_arguments(builder):
    """Give `builder(checkpoint, task=..., name=None, **model_arguments)` a signature listing every argument.

    So `help()` and `inspect.signature` show the model arguments and their
    defaults although the builder receives them as `**model_arguments`.
    """
    head = [p for p in inspect.signature(builder).parameters.values() if p.kind is not p.VAR_KEYWORD]
    named = [p for p in head if p.name != "name"]
    name = [p for p in head if p.name == "name"]
    arguments = [inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=value)
                 for key, value in MODEL_ARGUMENTS.items()]
    keyword_name = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in name]
    builder.__signature__ = inspect.Signature(named + arguments + keyword_name)
    return builder


def check_model_arguments(**arguments):
    """The arguments with the defaults filled in; an `ArgumentError` (a `ValueError`) naming the first bad one.

    Checks what can be checked before the encoder is loaded; once its checkpoint is read,
    `check_encoder_limits` checks the length and `check_mode` the `top_k` against it.
    """
    unknown = sorted(set(arguments) - set(MODEL_ARGUMENTS))
    if unknown:
        raise ArgumentError(unknown[0], "unknown model argument(s) %s; known: %s"
                            % (", ".join(unknown), ", ".join(MODEL_ARGUMENTS)))
    for key, value in arguments.items():
        _check_type(key, value, MODEL_ARGUMENTS[key])
    values = dict(MODEL_ARGUMENTS, **arguments)
    check_mode(values["mode"], values["top_k"])
    for key, limit in MODEL_LIMITS.items():
        for value in (values[key] or ()) if key == "hidden_units" else (values[key],):
            limit.check(key, value)
    layers = values["layers"]
    if isinstance(layers, str) and not (layers == "scalar_mix" or layers in LAYER_STRATEGIES):
        raise ArgumentError("layers", "layers must be 'scalar_mix', a list of layer indices, or one of %s; got %r"
                            % (", ".join(LAYER_STRATEGIES), layers))
    low, high = (float(v) for v in values["score_range"])
    if not low < high:
        raise ArgumentError("score_range", "score_range must have low < high, got %r" % (values["score_range"],))
    return values


# RoBERTa-style models count positions from the padding index + 1: two rows of their table are never used.
POSITION_OFFSETS = {"roberta": 2, "xlm-roberta": 2, "camembert": 2}


def usable_positions(config):
    """Tokens per text a Hugging Face config's position embeddings allow."""
    return int(config.max_position_embeddings) - POSITION_OFFSETS.get(getattr(config, "model_type", ""), 0)


def check_encoder_limits(max_length, num_positions, checkpoint=None):
    """An `ArgumentError` when `max_length` exceeds the encoder's positions (read from its checkpoint).

    `num_positions` counts the usable positions (`usable_positions`). `top_k` against the block count is
    `kerasbert.encoder_modes.check_mode`'s.
    """
    where = " of %s" % checkpoint if checkpoint else ""
    if num_positions is not None and max_length is not None and int(max_length) > int(num_positions):
        raise ArgumentError("max_length", "max_length %d is above the %d positions of the encoder%s"
                            % (max_length, num_positions, where))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_type(key, value, default):
    """An `ArgumentError` when `value` is not of the kind `default` is (the declaration above is the one source)."""
    if key == "layers":
        ok = isinstance(value, str) or (isinstance(value, (list, tuple)) and all(_is_int(v) for v in value))
        kind = "a layer strategy name or a list of layer indices"
    elif key == "score_range":
        ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_number(v) for v in value)
        kind = "two numbers (low, high)"
    elif key == "top_k":
        ok, kind = value is None or _is_int(value), "an integer or null"
    elif isinstance(default, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        ok, kind = _is_int(value), "an integer"
    elif isinstance(default, float):
        ok, kind = _is_number(value), "a number"
    elif isinstance(default, str):
        ok, kind = isinstance(value, str), "a string"
    else:  # hidden_units
        ok = value is None or (isinstance(value, (list, tuple)) and all(_is_int(v) for v in value))
        kind = "a list of integers"
    if not ok:
        raise ArgumentError(key, "%s must be %s, got %r" % (key, kind, value))
