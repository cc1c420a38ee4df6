"""An independent reference of the firmware arithmetic, on integers, for the layer tests.

Values are (numerator int64 array, fractional bits); casts shift and round on integers as
ap_fixed does in C++ (floor shift for AP_TRN, add-half for AP_RND, round-half-even for
AP_RND_CONV; clamp or two's-complement wrap). Nothing here calls model.fixed's arithmetic:
only the type's fields (width, integer, signed, modes) are read.
"""

import numpy as np


class V:
    """A fixed-point array: value = num * 2**-frac."""

    def __init__(self, num, frac):
        self.num = np.asarray(num, dtype=np.int64)
        self.frac = int(frac)

    def value(self):
        return self.num.astype(np.float64) * 2.0**-self.frac

    def align(self, frac):
        assert frac >= self.frac
        return self.num << (frac - self.frac)


def from_float_exact(x, frac):
    """Values that are already multiples of 2**-frac (weights after quantisation)."""
    num = np.asarray(x, np.float64) * 2.0**frac
    assert np.all(num == np.round(num)), "not representable"
    return V(num.astype(np.int64), frac)


def cast(v: V, t) -> V:
    shift = v.frac - t.frac
    if shift > 0:
        q = v.num >> shift
        rem = v.num - (q << shift)
        half = np.int64(1) << (shift - 1)
        if t.rounding == "AP_RND":
            q = q + (rem >= half)
        elif t.rounding == "AP_RND_CONV":
            q = q + ((rem > half) | ((rem == half) & ((q & 1) == 1)))
    else:
        q = v.num << (-shift)
    if t.signed:
        lo, hi = -(1 << (t.width - 1)), (1 << (t.width - 1)) - 1
    else:
        lo, hi = 0, (1 << t.width) - 1
    if t.overflow == "AP_SAT":
        q = np.clip(q, lo, hi)
    else:
        q = ((q - lo) % (1 << t.width)) + lo
    return V(q, t.frac)


def cast_float(x, t) -> V:
    """A float input cast to t (inputs are float32, exact in float64; 2**40 scaling is exact)."""
    return cast(V(np.round(np.asarray(x, np.float64) * 2.0**40).astype(np.int64), 40), t)


def quantized_bits_weight(w, bits, integer):
    """QKeras quantized_bits(bits, integer, alpha=1): round half even, clip; as integers."""
    frac = bits - integer - 1
    num = np.round(np.asarray(w, np.float64) * 2.0**frac)
    num = np.clip(num, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return V(num.astype(np.int64), frac)


def matmul(x: V, w: V, b: V | None = None) -> V:
    """Exact x . w (+ b) over the last axis."""
    num = np.tensordot(x.num, w.num, axes=[[-1], [0]])
    frac = x.frac + w.frac
    out = V(num, frac)
    if b is not None:
        f = max(frac, b.frac)
        out = V(out.align(f) + b.align(f), f)
    return out


def table(func, size, range_bits, value_t):
    """Entry i = func at the centre of bin i over [0, 2**range_bits), rounded half-even,
    saturated to value_t; returned as integers of value_t."""
    lsb = 2.0**range_bits / size
    x = func((np.arange(size) + 0.5) * lsb)
    num = np.round(x * 2.0**value_t.frac)
    hi = (1 << value_t.width) - 1 if not value_t.signed else (1 << (value_t.width - 1)) - 1
    return V(np.clip(num, 0, hi).astype(np.int64), value_t.frac)


def table_index(v: V, size, range_bits):
    """Raw bits of v cast to ap_ufixed<log2 size, range_bits, AP_TRN, AP_SAT>."""
    idx_frac = int(np.log2(size)) - range_bits
    shift = v.frac - idx_frac
    idx = v.num >> shift if shift >= 0 else v.num << (-shift)
    return np.clip(idx, 0, size - 1)
