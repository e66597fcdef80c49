"""The declared kind and range of every number or name a user gives kerasbert.

One `Limit` per value, declared where the value is defined (a recipe field in
`kerasbert.training.config.RECIPE_LIMITS`, a model argument in
`kerasbert.model_arguments.MODEL_LIMITS`, a command's own option beside its
`add_argument`), and checked by the same code whichever way the value came:

    Limit.check(name, value)   # the Python API and recipe files: an ArgumentError naming `name`
    Limit.parse(text)          # a command-line option (`kerasbert.commands.options.typed`)

Bounds that depend on a checkpoint (its positions, its block count) are
checked once the checkpoint's configuration is read, before any work starts
(`kerasbert.model_arguments.check_encoder_limits`).

This module imports only `kerasbert.errors`.
"""

import dataclasses
import math
from typing import Optional

from kerasbert.errors import ArgumentError

__all__ = ["BATCH_SIZE", "COUNT", "Limit", "SMOOTHING", "TOKENS_PER_TEXT", "choice", "integer", "number"]

_HUGE = 10 ** 12  # "no practical upper bound": still a bound, so a typo of many zeros is refused


@dataclasses.dataclass(frozen=True)
class Limit:
    """An integer, a number or one of some names, optionally null, within `[low, high]`.

    `low_open` / `high_open` exclude that end. `nullable` accepts None (JSON null;
    on the command line the words `none` / `null`).
    """

    kind: str  # "integer", "number" or "choice"
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    nullable: bool = False

    def or_none(self):
        return dataclasses.replace(self, nullable=True)

    def describe(self):
        """`an integer in [1, 512]`, `a number in (0, 1]`, `one of a, b`, with `or null` where allowed."""
        if self.kind == "choice":
            text = "one of %s" % ", ".join(str(c) for c in self.choices)
        else:
            text = "an integer" if self.kind == "integer" else "a number"
            if self.high in (None, _HUGE) and self.low is not None:  # no practical upper bound: say so simply
                text += " %s %s" % (">" if self.low_open else ">=", _show(self.low))
            elif self.high not in (None, _HUGE) or self.low is not None:
                low = "-inf" if self.low is None else _show(self.low)
                high = "inf" if self.high is None else _show(self.high)
                text += " in %s%s, %s%s" % ("(" if self.low_open or self.low is None else "[", low, high,
                                            ")" if self.high_open or self.high is None else "]")
        return text + (" or null" if self.nullable else "")

    def problem(self, value):
        """None when `value` is allowed, else `must be ..., got ...`."""
        if value is None:
            return None if self.nullable else "must be %s, got null" % self.describe()
        if self.kind == "choice":
            ok = value in self.choices
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and (self.kind == "number" or float(value).is_integer()) and math.isfinite(value)
            ok = ok and (self.low is None or (value > self.low if self.low_open else value >= self.low))
            ok = ok and (self.high is None or (value < self.high if self.high_open else value <= self.high))
        if ok:
            return None
        if self.high == _HUGE and isinstance(value, (int, float)) and value > self.high:
            return "must be %s and at most %s, got %r" % (self.describe(), _show(self.high), value)
        return "must be %s, got %r" % (self.describe(), value)

    def check(self, name, value):
        """`value` (an integer kind as `int`); an `ArgumentError` naming `name` when it is outside the limit."""
        problem = self.problem(value)
        if problem:
            raise ArgumentError(name, "%s %s" % (name, problem))
        return int(value) if self.kind == "integer" and value is not None else value

    def parse(self, text):
        """The value of a command-line word; a `ValueError` with the problem (argparse names the option)."""
        if self.nullable and text.strip().lower() in ("none", "null"):
            return None
        if self.kind == "choice":
            value = text
        else:
            try:
                value = int(text) if self.kind == "integer" else float(text)
            except ValueError:
                raise ValueError("must be %s, got %r" % (self.describe(), text)) from None
        problem = self.problem(value)
        if problem:
            raise ValueError(problem)
        return value


def _show(bound):
    return "%d" % bound if float(bound).is_integer() and abs(bound) < 1e15 else "%g" % bound


def integer(low=None, high=_HUGE):
    """An integer in `[low, high]` (a huge default upper bound)."""
    return Limit("integer", low=low, high=high)


def number(low=None, high=_HUGE, low_open=False, high_open=False):
    """A finite number in `[low, high]`, either end excluded on request."""
    return Limit("number", low=low, high=high, low_open=low_open, high_open=high_open)


def choice(*values):
    """One of `values`."""
    return Limit("choice", choices=tuple(values))


# Values several floors take (a model's max_length, a batch size, a smoothing share): declared once here.
TOKENS_PER_TEXT = integer(2, 8192)  # special tokens included; the checkpoint's own positions are checked when read
BATCH_SIZE = integer(1, 1 << 20)
SMOOTHING = number(0.0, 1.0, high_open=True)
COUNT = integer(1)
