"""qpart's fixed-point operations on alkaid's symbolic arrays (FVArray), shared by the layers'
RTL traces (hls/layers/<layer>/rtl.py), exactly as model.fixed and model.tables compute them in
Keras: the same types, the same rounding and overflow, the same table values (the table
objects of the Keras layer itself, never rebuilt)."""

from __future__ import annotations

import numpy as np
from alkaid.trace import FVArray

from model.fixed import Fx, quantize_np

_ROUND = {"AP_RND_CONV": "RND_CONV", "AP_RND": "RND", "AP_TRN": "TRN"}
_OVERFLOW = {"AP_SAT": "SAT", "AP_WRAP": "WRAP"}


def kif(t: Fx) -> tuple[int, int, int]:
    """alkaid's (keep_negative, integer bits without the sign, fractional bits) of an Fx."""
    return int(t.signed), t.integer - int(t.signed), t.frac


def cast(x: FVArray, t: Fx | None) -> FVArray:
    """model.fixed.quantize(x, t): round then saturate or wrap (None: unchanged). Constant
    elements are cast here with model.fixed.quantize_np: alkaid 0.8.2 folds a constant's
    cast by truncation whatever the rounding, and wraps an unsigned constant modulo twice
    its range."""
    if t is None:
        return x
    k, i, f = kif(t)
    raw = np.asarray(x)
    consts = np.array([v.low == v.high for v in raw.ravel()]).reshape(raw.shape)
    y = x.quantize(k, i, f, overflow_mode=_OVERFLOW[t.overflow], round_mode=_ROUND[t.rounding])
    if not consts.any():
        return y
    out = np.asarray(y).copy()
    folded = quantize_np(np.array([v.low for v in raw[consts]], np.float64), t)
    out[consts] = np.asarray(const(folded, x)).ravel()
    return FVArray(out, x.solver_options, hwconf=x.hwconf)


def inputs(shape, t: Fx) -> FVArray:
    """A model input port of type t."""
    k, i, f = kif(t)
    return FVArray.from_kif(np.full(shape, k), np.full(shape, i), np.full(shape, f))


def const(values, like: FVArray) -> FVArray:
    """Constants in the graph of `like` (a class token, a padding value)."""
    return FVArray(np.asarray(values, np.float64), like.solver_options, hwconf=like.hwconf)


def lookup(x: FVArray, table) -> FVArray:
    """model.tables._Table.lookup: the index is x cast to the table's index type
    (ap_ufixed<B,R,AP_TRN,AP_SAT>), the entry is table.values[index]."""
    idx = cast(x, table.index_t)
    lsb = table.index_t.lsb
    qint = (0.0, (table.size - 1) * lsb, lsb)
    out = [v.lookup(table.values, original_qint=qint) for v in np.asarray(idx).ravel()]
    return wrap(np.array(out, dtype=object).reshape(idx.shape), x)


def where(cond: FVArray, a, b) -> FVArray:
    """tf.where(cond != 0, a, b) for a 0/1 (or any non-zero) condition."""
    return np.where(cond, a, b)


def _without_signed_bit_luts(x: FVArray) -> FVArray:
    """x, with alkaid's 1-bit-input table lowering switched off when an element is a signed
    single bit (values -1 x step and 0: an activation the trained ranges narrowed to its sign).
    alkaid 0.8.2 addresses that table with the negative value and stops on an assertion; the
    adder graph computes the same product."""
    bits = [v.kif for v in np.asarray(x).ravel()]
    if not any(k and sum((k, i, f)) == 1 for k, i, f in bits):
        return x
    return FVArray(np.asarray(x), {**x.solver_options, "binary_lut": False}, hwconf=x.hwconf)


def dense(x: FVArray, kernel: np.ndarray, bias: np.ndarray) -> FVArray:
    """x . W + b over the last axis, exact (the constant matrix becomes an adder graph).

    Rows that are constants (the class token's, in a class attention's keys) are computed here
    in float64 (exact: the values are fixed-point and max_bits <= 53 holds them): alkaid 0.8.2
    computed a constant row inside a matrix of variable rows at too few fractional bits,
    truncated (measured: -0.109375 came out -0.0625 in part_trigger_rtl_nonorm's class
    attention, 18 of 200 held-out jets off by an LSB in the logits)."""
    shape = x.shape
    kernel, bias = np.asarray(kernel, np.float64), np.asarray(bias, np.float64)
    rows = np.asarray(x.reshape(-1, shape[-1]))
    fixed = np.array([all(v.low == v.high for v in row) for row in rows], bool)
    y = np.empty((len(rows), kernel.shape[1]), dtype=object)
    if not fixed.all():
        variable = _without_signed_bit_luts(wrap(rows[~fixed], x))
        y[~fixed] = np.asarray((variable @ kernel) + bias)
    if fixed.any():
        values = np.array([[v.low for v in row] for row in rows[fixed]], np.float64)
        y[fixed] = np.asarray(const(values @ kernel + bias, x))
    return wrap(y, x).reshape(*shape[:-1], kernel.shape[1])


def as_np(t) -> np.ndarray:
    """A Keras weight (already through the layer's quantizer) as float64."""
    return np.asarray(t.numpy(), np.float64)


def wrap(elements, like: FVArray) -> FVArray:
    """An object array of traced elements as an FVArray in the graph of `like`."""
    return FVArray(np.asarray(elements, dtype=object), like.solver_options, hwconf=like.hwconf)


def pairs(n: int) -> list[tuple[int, int]]:
    """The pairs i <= j the firmware computes (pair features and their embedding are
    symmetric: the other half is the same wires)."""
    return [(i, j) for i in range(n) for j in range(i, n)]
