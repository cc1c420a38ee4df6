"""The lookup tables of softmax and layer normalisation: built once, here, for both sides.

hls4ml's own softmax/layernorm rebuild their tables in C++ from float std::exp; two builders
can disagree by one LSB at a rounding boundary. So the tables are computed here in float64,
rounded to their Fx type, used by the Keras forward pass, and written into the HLS project as
constant arrays (hls/), never recomputed.

A table of 2**B entries over [0, 2**R) is indexed by the input cast to
ap_ufixed<B, R, AP_TRN, AP_SAT>: the index is that type's raw integer (truncation; negative
inputs saturate to entry 0, inputs past the range to the last entry). Each entry holds the
function at the centre of its bin.
"""

from __future__ import annotations

import math

import numpy as np

from model.fixed import Fx, quantize_np


def _log2_exact(n: int, what: str) -> int:
    if n < 2 or n & (n - 1):
        raise ValueError(f"{what} must be a power of two >= 2, got {n}")
    return n.bit_length() - 1


class _Table:
    func = None

    def __init__(self, size: int, range_bits: int, value_t: Fx, what: str):
        self.size = int(size)
        self.index_t = Fx(
            _log2_exact(self.size, f"{what} table size"), int(range_bits), False, "AP_TRN", "AP_SAT"
        )
        self.value_t = value_t
        centres = (np.arange(self.size) + 0.5) * self.index_t.lsb
        self.values = quantize_np(self.func(centres), value_t)

    def index(self, x: np.ndarray) -> np.ndarray:
        """numpy: the table index of each input (the raw bits of the index type)."""
        return np.clip(
            np.floor(np.asarray(x, np.float64) / self.index_t.lsb), 0, self.size - 1
        ).astype(np.int64)

    def lookup(self, x):
        """TensorFlow: the table entry of each input (float64 tensor)."""
        import tensorflow as tf

        idx = tf.clip_by_value(tf.floor(x / self.index_t.lsb), 0, self.size - 1)
        return tf.gather(tf.constant(self.values, tf.float64), tf.cast(idx, tf.int32))


class ExpTable(_Table):
    """exp(-d) for d = max - logit >= 0, over [0, 2**range_bits)."""

    @staticmethod
    def func(d):
        return np.exp(-d)

    def __init__(self, size, range_bits, value_t):
        super().__init__(size, range_bits, value_t, "exp")


class InvTable(_Table):
    """1/s for the softmax denominator s in [1, n_keys]: the range is the next power of two
    above n_keys, so the sum of n_keys ones still indexes inside the table."""

    @staticmethod
    def func(s):
        return 1.0 / s

    def __init__(self, size, n_keys, value_t):
        super().__init__(size, math.ceil(math.log2(n_keys + 1)), value_t, "inverse")


class RsqrtTable(_Table):
    """1/sqrt(var) for the layer-norm variance over [0, 2**var_range)."""

    @staticmethod
    def func(v):
        return 1.0 / np.sqrt(v)

    def __init__(self, size, var_range, value_t):
        super().__init__(size, var_range, value_t, "rsqrt")


# ----------------------------------------------------------------- pair features (on chip)


class CoshTable(_Table):
    """F(a) = (cosh a - 1) / a^2 over |a| in [0, 2**range_bits): cosh a - 1 = a^2 F(a) without
    the cancellation of two numbers near 1 (F -> 1/2 at 0, smooth: a uniform table suffices)."""

    @staticmethod
    def func(a):
        a = np.asarray(a, np.float64)
        return np.where(a < 1e-4, 0.5 + a**2 / 24, (np.cosh(a) - 1) / np.maximum(a, 1e-300) ** 2)

    def __init__(self, size, range_bits, value_t):
        super().__init__(size, range_bits, value_t, "cosh")


class CosTable(_Table):
    """G(b) = (1 - cos b) / b^2 over |b| in [0, 2**range_bits): 1 - cos b = b^2 G(b)."""

    @staticmethod
    def func(b):
        b = np.asarray(b, np.float64)
        return np.where(b < 1e-4, 0.5 - b**2 / 24, (1 - np.cos(b)) / np.maximum(b, 1e-300) ** 2)

    def __init__(self, size, range_bits, value_t):
        super().__init__(size, range_bits, value_t, "cos")


class SoftplusTable(_Table):
    """ln(1 + exp(-d)) for d >= 0 over [0, 2**range_bits): ln z = -(d + this), d the difference
    of the two particles' ln pT."""

    @staticmethod
    def func(d):
        return np.log1p(np.exp(-np.asarray(d, np.float64)))

    def __init__(self, size, range_bits, value_t):
        super().__init__(size, range_bits, value_t, "softplus")


class LogTable:
    """ln x of a fixed-point x by its leading one, floating-point style: x = raw * 2**-frac with
    raw an integer >= 1 is 2**(e - frac) * m, m in [1, 2), e the position of raw's leading one;
    ln x = (e - frac) * ln2 + ln m, with ln m read from 2**bits entries over [1, 2) indexed by the
    `bits` bits after the leading one (truncated). The relative precision is the same at every
    scale, which a uniform table over x cannot give to a logarithm. raw = 0 has no logarithm:
    the caller decides (PairFeatures gives it the ln type's minimum, weaver-core's eps clamp)."""

    def __init__(self, bits: int, value_t: Fx, ln2_t: Fx):
        self.bits, self.size, self.value_t, self.ln2_t = int(bits), 1 << int(bits), value_t, ln2_t
        centres = 1.0 + (np.arange(self.size) + 0.5) / self.size
        self.values = quantize_np(np.log(centres), value_t)
        self.ln2 = float(quantize_np(math.log(2.0), ln2_t))

    def lookup(self, raw, frac: int, max_bits: int):
        """TensorFlow: ln(raw * 2**-frac) for float64 tensors of exact integers raw < 2**max_bits,
        exact (every step is an exact float64 operation)."""
        import tensorflow as tf

        raw = tf.maximum(raw, 1.0)
        # e = floor(log2 raw) by comparisons with powers of two (exact, unlike log2 in floats)
        e = tf.add_n([tf.cast(raw >= 2.0**k, tf.float64) for k in range(1, max_bits)])
        idx = tf.floor(raw * tf.pow(tf.constant(2.0, tf.float64), self.bits - e)) - self.size
        mant = tf.gather(tf.constant(self.values, tf.float64), tf.cast(idx, tf.int32))
        return (e - frac) * self.ln2 + mant
