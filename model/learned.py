"""Learned fixed-point widths of the weights: HGQ's method in qpart's float64 layers.

HGQ (C. Sun et al., "Gradient-based automatic mixed precision quantization for neural networks
on-chip", arXiv 2405.00645; reference code github.com/calad0i/HGQ, the Keras-2 release `hgq`
0.2.6: src/HGQ/quantizer/quantizer.py at 00043f2, src/HGQ/layers/base.py at 100e35a) gives
every weight (or every output channel) its own number of fractional bits f, a trainable float.
HGQ's quantizer is float32 and rounds half up; qpart's layers are float64 and their weights
must be exactly the firmware's ap_fixed values, so the method is implemented here rather than
imported:

- forward: weight i is cast to ap_fixed<b_i, I+1, AP_RND_CONV, AP_SAT>, b_i = I + 1 + round(f_i),
  I the config's `weight_integer`: round half to even and saturate, exactly what QKeras'
  quantized_bits does for the uniform width. f is kept in [-(I+1), max_bits - I - 1]; at
  b_i = 0 the weight is exactly 0 (pruned), as is any weight that rounds to 0;
- backward: the weight gets the straight-through gradient; f gets HGQ's surrogate
  d(w_q)/df = -ln 2 * (w_q - w) (the rounding error shrinks as 2**-f);
- resource: each weight costs HGQ's bits relu(floor(log2 |w_q|) + 1 + f) (zero when w_q = 0)
  times the width of the activation it multiplies, times how often it is used per jet: the
  EBOPs of the kernel (`ebops`), which train.py adds to the loss with a weight beta.

The firmware keeps one weight type per layer: the narrowest that holds every learned value
(model.fixed.narrowest_fx), so the C++ products see exactly the values Keras used.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from infra.errors import QpartError
from model.fixed import FLOAT64_BITS, bits_for_sum

LN2 = math.log(2.0)
GRANULARITIES = ("weight", "channel")


class LearnedWidthError(QpartError, ValueError):
    """Learned widths that cannot be trained or emulated exactly: names the layer or key."""


@dataclass(frozen=True)
class LearnedWidths:
    """A layer's learned-width settings (the config's `quantization.learned_widths`, less the
    training keys beta and warmup_epochs). `input_bits`: width of the activations the layer's
    first kernel multiplies (the builder knows that type; the layer does not). `lr_scale`: the
    stored variable is f / lr_scale, so that Adam (whose steps are about the learning rate
    whatever the gradient's scale) moves f lr_scale times faster than the weights."""

    granularity: str = "weight"
    init_fractional_bits: float = 6.0
    max_bits: int = 8
    input_bits: int = 16
    lr_scale: float = 1.0

    def __post_init__(self):
        if self.granularity not in GRANULARITIES:
            raise LearnedWidthError(
                f"granularity must be one of {GRANULARITIES}, got {self.granularity!r}"
            )
        if not 1 <= self.max_bits <= 32:
            raise LearnedWidthError(f"max_bits must be 1..32, got {self.max_bits}")
        if not self.lr_scale > 0:
            raise LearnedWidthError(f"lr_scale must be > 0, got {self.lr_scale}")

    @classmethod
    def of(cls, value) -> "LearnedWidths | None":
        if value is None or isinstance(value, cls):
            return value
        return cls(**value)

    def as_dict(self) -> dict:
        return asdict(self)

    def frac(self, stored):
        """The fractional bits f (float) of a stored `_fbits` variable or its value."""
        return stored * self.lr_scale

    def frac_range(self, integer: int) -> tuple[int, int]:
        """(lowest, highest) fractional bits: width 0 (pruned) .. max_bits."""
        return -(integer + 1), self.max_bits - integer - 1


def check_float64(layer: str, weight_bits: int, input_bits: int, n_terms: int):
    """Refuse a kernel whose exact dot products would not fit float64's significand."""
    need = weight_bits + input_bits + bits_for_sum(n_terms + 1)  # the bias is one more term
    if need > FLOAT64_BITS:
        raise LearnedWidthError(
            f"{layer}: weights of up to {weight_bits} bits times {input_bits}-bit activations "
            f"summed over {n_terms} terms need {need} bits, more than float64 holds exactly "
            f"({FLOAT64_BITS}); lower quantization.learned_widths.max_bits"
        )


# ---------------------------------------------------------------------------------------------
# numpy: the reference (firmware constants, summaries)


def frac_np(stored, integer: int, lw: LearnedWidths) -> np.ndarray:
    """The integer fractional bits the forward pass uses: round(f) within frac_range."""
    lo, hi = lw.frac_range(integer)
    return np.clip(np.round(lw.frac(np.asarray(stored, np.float64))), lo, hi)


def quantize_np(w, stored, integer: int, lw: LearnedWidths) -> np.ndarray:
    """Each weight cast to ap_fixed<I+1+round(f), I+1, AP_RND_CONV, AP_SAT>; width 0 -> 0.
    `stored`: the `_fbits` variable's value (f / lr_scale)."""
    fi = frac_np(stored, integer, lw)
    fi = np.broadcast_to(fi, np.shape(w))
    b = integer + 1 + fi
    n = np.round(np.asarray(w, np.float64) * np.exp2(fi))
    half = np.exp2(b - 1)
    n = np.clip(n, -half, half - 1)
    return np.where(b > 0, n * np.exp2(-fi), 0.0)


def widths_np(q, stored, integer: int, lw: LearnedWidths) -> np.ndarray:
    """Each weight's learned width b = I + 1 + round(f) (its ap_fixed's), 0 where w_q = 0."""
    fi = np.broadcast_to(frac_np(stored, integer, lw), np.shape(q))
    return np.where(np.asarray(q) != 0, integer + 1 + fi, 0).astype(np.int64)


def ebops_bits_np(q, frac) -> np.ndarray:
    """HGQ's bits of each value: relu(floor(log2|q|) + 1 + frac), 0 for q = 0."""
    q = np.asarray(q, np.float64)
    frac = np.broadcast_to(np.asarray(frac, np.float64), q.shape)
    _, e = np.frexp(np.where(q != 0, q, 1.0))  # |q| = m 2**e, m in [0.5, 1): floor(log2) = e-1
    return np.where(q != 0, np.maximum(e + frac, 0.0), 0.0)


# ---------------------------------------------------------------------------------------------
# TensorFlow: the training forward pass


def _exp2(k):
    """2**k for integer-valued float64 k, exactly (the exponent field set directly)."""
    import tensorflow as tf

    bits = tf.bitwise.left_shift(tf.cast(k, tf.int64) + 1023, tf.constant(52, tf.int64))
    return tf.bitcast(bits, tf.float64)


def _floor_log2(x):
    """floor(log2 |x|) exactly for normal non-zero float64 x (its exponent field)."""
    import tensorflow as tf

    bits = tf.bitcast(tf.abs(x), tf.int64)
    e = tf.bitwise.bitwise_and(
        tf.bitwise.right_shift(bits, tf.constant(52, tf.int64)), tf.constant(0x7FF, tf.int64)
    )
    return tf.cast(e - 1023, tf.float64)


def quantize(w, stored, integer: int, lw: LearnedWidths):
    """Forward: exactly quantize_np(w, stored); gradients: straight-through to w, HGQ's
    surrogate -ln 2 * (w_q - w) to f (summed over a channel's weights at channel granularity)."""
    import tensorflow as tf

    f = lw.frac(stored)
    lo, hi = lw.frac_range(integer)
    fi = tf.stop_gradient(tf.round(tf.clip_by_value(f, float(lo), float(hi))))
    fi = tf.broadcast_to(fi, tf.shape(w))
    b = integer + 1 + fi
    n = tf.round(w * _exp2(fi))  # exact scaling, round half to even
    half = _exp2(tf.maximum(b - 1, -1.0))
    n = tf.clip_by_value(n, -half, half - 1.0)
    q = tf.where(b > 0, n * _exp2(-fi), tf.zeros_like(w))
    delta = tf.stop_gradient(q - w)
    p = delta * f * LN2
    # forward exactly q: x - x and p - p are exactly zero
    return tf.stop_gradient(q) + (w - tf.stop_gradient(w)) + (tf.stop_gradient(p) - p)


def ebops_bits(q, stored, integer: int, lw: LearnedWidths, degeneracy: int = 1):
    """HGQ's differentiable bits of each quantized weight, relu(floor(log2|q|) + 1 + f) with a
    straight-through round of f; 0 where q = 0. At channel granularity the gradient to a
    channel's f is scaled by 1/sqrt(weights per channel), as HGQ does."""
    import tensorflow as tf

    lo, hi = lw.frac_range(integer)
    fc = tf.clip_by_value(lw.frac(stored), float(lo), float(hi))
    f_ste = fc + tf.stop_gradient(tf.round(fc) - fc)
    if degeneracy > 1:
        s = 1.0 / math.sqrt(degeneracy)
        f_ste = f_ste * s + tf.stop_gradient(f_ste - f_ste * s)
    qs = tf.stop_gradient(q)
    nz = qs != 0
    ib = _floor_log2(tf.where(nz, qs, tf.ones_like(qs))) + 1.0
    return tf.where(nz, tf.nn.relu(ib + f_ste), tf.zeros_like(qs))
