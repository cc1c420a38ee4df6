"""PairFeatures's fixed-point forward pass on alkaid's symbolic arrays (the RTL route, hls/rtl),
written from model/layers.py line by line: the same casts in the same order, the layer's own
quantized weights and table objects. One jet, no batch axis."""

from __future__ import annotations

import numpy as np

from hls.layers.rtl_ops import cast, lookup, pairs, where, wrap
from model.fixed import Fx


def _table(x, values):
    """values[x] for an integer-valued x in [0, len(values))."""
    qint = (0.0, float(len(values) - 1), 1.0)
    out = [v.lookup(np.asarray(values), original_qint=qint) for v in np.asarray(x).ravel()]
    return wrap(np.array(out, dtype=object).reshape(x.shape), x)


def _log(layer, x, frac: int, max_bits: int):
    """tables.LogTable.lookup then the cast to ln_t, for x = raw * 2**-frac > 0: the leading
    one e = sum_k [raw >= 2**k] (as the Keras code counts it), the `bits` bits below it index
    the mantissa table, ln = (e - frac) * ln2 + mant. raw = 0 gives ln_t.min (the caller's
    tf.where).

    The leading one is found by halving (a balanced tree of multiplexers on the thresholds
    [raw >= 2**k], which hold for every k up to it): log2(max_bits) levels where a scan over k
    is max_bits in series (measured on part_trigger_rtl_nonorm's pair features: depth 58.9 ->
    30.6 of alkaid's delay units, the same values)."""
    t = layer.log_table
    index_t = Fx(t.bits, t.bits, False, "AP_TRN", "AP_WRAP")
    # raw in [2**k, 2**(k+1)): the bits below the leading one, truncated
    idx_k = [cast(x * 2.0 ** (frac + t.bits - k), index_t) for k in range(max_bits)]
    above = [None] + [x >= 2.0 ** (k - frac) for k in range(1, max_bits)]

    def leading(lo, hi):
        if lo == hi:
            return idx_k[lo]
        mid = (lo + hi + 1) // 2
        return where(above[mid], leading(mid, hi), leading(lo, mid - 1))

    idx = leading(0, max_bits - 1)
    e = np.sum(np.stack(above[1:]), axis=0)
    # (e - frac) * ln2 as a table on e (a constant product per element would be an adder
    # graph each; the values are the same exact float64 products)
    e_term = _table(e, (np.arange(max_bits) - frac) * t.ln2)
    mant = _table(idx, t.values)
    ln = cast(e_term + mant, layer.ln_t)
    return where(x > 0, ln, layer.ln_t.min)


def pair_features(layer, kin, mask):
    """PairFeatures._fixed for the pairs i <= j, mirrored (the features are symmetric)."""
    n = kin.shape[0]
    lpt, eta, phi = (
        cast(kin[:, 0], layer.lpt_t),
        cast(kin[:, 1], layer.angle_t),
        cast(kin[:, 2], layer.angle_t),
    )
    ij = pairs(n)
    ii, jj = np.array(ij).T
    da, db = eta[ii] - eta[jj], phi[ii] - phi[jj]
    a2, b2 = da * da, db * db
    lo, hi = np.minimum(lpt[ii], lpt[jj]), np.maximum(lpt[ii], lpt[jj])
    d = hi - lo
    af, tf_ = layer.angle_t.frac, layer.table_t.frac
    d2_bits = 2 * layer.angle_t.width + 1
    c = a2 * lookup(np.abs(da), layer.cosh_table) + b2 * lookup(np.abs(db), layer.cos_table)
    ln_d2 = _log(layer, a2 + b2, 2 * af, d2_bits)
    ln_c = _log(layer, c, 2 * af + tf_, d2_bits + tf_)
    ln_delta = ln_d2 * 0.5
    feats = [
        ln_delta,
        lo + ln_delta,
        -(d + lookup(d, layer.softplus_table)),
        layer.log_table.ln2 + (lpt[ii] + lpt[jj]) + ln_c,
    ]
    out = []
    for f, cen, s in zip(feats, layer.center, layer.scale):
        y = np.clip((f - cen) * s, -layer.clip, layer.clip)
        out.append(cast(y, layer.result_t))
    keep = where(mask[ii], mask[jj], 0.0)
    vals = np.asarray(where(np.stack([keep] * 4, axis=-1), np.stack(out, axis=-1), 0.0))
    grid = np.empty((n, n, 4), dtype=object)
    for p, (i, j) in enumerate(ij):
        grid[i, j] = vals[p]
        grid[j, i] = vals[p]
    return wrap(grid, kin)


TRACES = {"PairFeatures": pair_features}
