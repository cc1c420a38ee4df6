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
