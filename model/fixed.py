"""Fixed-point types and their exact emulation in TensorFlow.

An `Fx` is an `ap_fixed` / `ap_ufixed` type: total width, integer bits (sign included for
signed types), rounding (AP_RND_CONV = round half to even, as QKeras' `quantized_bits`;
AP_RND = half up; AP_TRN = floor) and overflow (AP_SAT, AP_WRAP). `quantize` computes
exactly what casting an exact value to that type does in C++: the value is scaled by a power
of two, rounded and saturated or wrapped in float64, which holds every intermediate of these
models exactly (53 significant bits; the widest accumulator here is far below that).

Training sees a straight-through gradient: the forward value is the fixed-point one, the
backward pass is the identity.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from infra.errors import QpartError

FLOAT64_BITS = 53  # significand bits: every value and exact sum the emulation holds
_ROUNDING = ("AP_RND_CONV", "AP_RND", "AP_TRN")
_OVERFLOW = ("AP_SAT", "AP_WRAP")
_PATTERN = re.compile(
    r"^\s*ap_(u?)fixed\s*<\s*(\d+)\s*,\s*(-?\d+)\s*(?:,\s*(AP_\w+)\s*)?(?:,\s*(AP_\w+)\s*)?>\s*$"
)


class FxError(QpartError, ValueError):
    """A fixed-point type string that is not a valid ap_fixed / ap_ufixed."""


@dataclass(frozen=True)
class Fx:
    width: int
    integer: int
    signed: bool = True
    rounding: str = "AP_RND_CONV"
    overflow: str = "AP_SAT"

    def __post_init__(self):
        if self.width < 1 or self.width > 64:
            raise FxError(f"{self}: width must be 1..64")
        if self.rounding not in _ROUNDING:
            raise FxError(f"{self}: rounding must be one of {_ROUNDING}")
        if self.overflow not in _OVERFLOW:
            raise FxError(f"{self}: overflow must be one of {_OVERFLOW}")

    @classmethod
    def parse(cls, text: str) -> "Fx":
        """'ap_fixed<16,6,AP_RND_CONV,AP_SAT>' -> Fx; missing modes default to AP_TRN, AP_WRAP
        as in C++."""
        m = _PATTERN.match(text)
        if not m:
            raise FxError(
                f"not a fixed-point type: {text!r} (expected e.g. "
                "'ap_fixed<16,6,AP_RND_CONV,AP_SAT>')"
            )
        unsigned, w, i, rnd, ovf = m.groups()
        return cls(int(w), int(i), not unsigned, rnd or "AP_TRN", ovf or "AP_WRAP")

    def check_useful(self) -> "Fx":
        """Refuse a type with no fractional bit: its step is 1 or coarser (ap_fixed<4,9>: 32),
        so the activations, features and table values of a ParT (of order one) all round to
        a few levels, the model trains to chance and still C-simulates "bit-exact"."""
        if self.frac <= 0:
            raise FxError(
                f"{self}: no fractional bit (I={self.integer} >= W={self.width}, a step of "
                f"{self.lsb:g}): values of order one round to 0; give it I < W"
            )
        return self

    @property
    def frac(self) -> int:
        return self.width - self.integer

    @property
    def lsb(self) -> float:
        return 2.0**-self.frac

    @property
    def min(self) -> float:
        return -(2.0 ** (self.integer - 1)) if self.signed else 0.0

    @property
    def max(self) -> float:
        top = self.integer - 1 if self.signed else self.integer
        return 2.0**top - self.lsb

    def __str__(self) -> str:
        return (
            f"ap_{'' if self.signed else 'u'}fixed<{self.width},{self.integer},"
            f"{self.rounding},{self.overflow}>"
        )

    def hls(self) -> str:
        return str(self)


def as_fx(t) -> Fx | None:
    if t is None or isinstance(t, Fx):
        return t
    return Fx.parse(t)


def _round(scaled, rounding, floor, fround):
    if rounding == "AP_TRN":
        return floor(scaled)
    if rounding == "AP_RND":
        return floor(scaled + 0.5)
    return fround(scaled)  # half to even


def quantize_np(x, t: Fx) -> np.ndarray:
    """Exact cast of float64 values to `t`, in numpy (tables, weights, reference code)."""
    scaled = np.asarray(x, np.float64) * 2.0**t.frac
    n = _round(scaled, t.rounding, np.floor, np.round)
    lo, hi = t.min * 2.0**t.frac, t.max * 2.0**t.frac
    if t.overflow == "AP_SAT":
        n = np.clip(n, lo, hi)
    else:
        n = np.mod(n - lo, 2.0**t.width) + lo
    return n * t.lsb


def quantize(x, t: Fx | None, ste: bool = True):
    """Exact cast of a float64 tensor to `t` (None: unchanged), straight-through gradient."""
    if t is None:
        return x
    import tensorflow as tf

    scaled = x * (2.0**t.frac)
    n = _round(scaled, t.rounding, tf.floor, tf.round)
    lo, hi = t.min * 2.0**t.frac, t.max * 2.0**t.frac
    if t.overflow == "AP_SAT":
        n = tf.clip_by_value(n, lo, hi)
    else:
        n = tf.math.floormod(n - lo, 2.0**t.width) + lo
    q = n * t.lsb
    if not ste:
        return q
    # Forward exactly q (x + (q - x) can be off by an ulp when x is far out of range).
    return tf.stop_gradient(q) + (x - tf.stop_gradient(x))


def bits_for_sum(n_terms: int) -> int:
    """Extra integer bits so that a sum of `n_terms` values of one type cannot overflow."""
    return max(0, math.ceil(math.log2(max(n_terms, 1))))


def product_type(a: Fx, b: Fx) -> Fx:
    """The exact type of a*b."""
    signed = a.signed or b.signed
    return Fx(a.width + b.width, a.integer + b.integer, signed, "AP_TRN", "AP_WRAP")


def accum_type(a: Fx, b: Fx, n_terms: int, bias: Fx | None = None) -> Fx:
    """An exact accumulator type for sum_{n_terms} a*b (+ bias): never rounds, never wraps."""
    p = product_type(a, b)
    frac = p.frac if bias is None else max(p.frac, bias.frac)
    integer = p.integer + bits_for_sum(n_terms + (1 if bias is not None else 0))
    if bias is not None:
        integer = max(integer, bias.integer + 1)
    integer += 0 if p.signed else 1
    return Fx(integer + frac, integer, True, "AP_TRN", "AP_WRAP")


def narrowest_fx(values, rounding="AP_RND_CONV", overflow="AP_SAT") -> Fx:
    """The narrowest signed ap_fixed that holds every value exactly (values are dyadic, e.g.
    learned-width weights): its LSB is the finest step among them, its integer bits the fewest
    that hold the extremes (possibly negative: ap_fixed<3,-1> holds 0.125 = 2**-3). Only zeros:
    ap_fixed<1,1>."""
    v = np.asarray(values, np.float64).ravel()
    nz = v[v != 0]
    if nz.size == 0:
        return Fx(1, 1, True, rounding, overflow)
    m, e = np.frexp(np.abs(nz))  # |v| = m 2**e, m in [0.5, 1): 53-bit integer mantissa
    mi = (m * 2.0**53).astype(np.int64)
    _, low = np.frexp((mi & -mi).astype(np.float64))  # lowest set bit of the mantissa, + 1
    frac = int(np.max(53 - e - (low - 1)))
    lo, hi = float(v.min()), float(v.max())
    integer = 1 - frac  # width >= 1
    while not (lo >= -(2.0 ** (integer - 1)) and hi <= 2.0 ** (integer - 1) - 2.0**-frac):
        integer += 1
    return Fx(integer + frac, integer, True, rounding, overflow)
