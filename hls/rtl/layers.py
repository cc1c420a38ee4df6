"""Each qpart layer's fixed-point forward pass on alkaid's symbolic arrays (one jet, no batch
axis), written from model/layers.py line by line: the same casts, the same order, the layer's
own quantized weights and its own table objects.

A trace takes the layer and its traced inputs and returns its traced output. TRACES maps a
Keras class to its trace; a class without one stops the trace with its name
(hls.rtl.trace.UnsupportedLayer).
"""

from __future__ import annotations

import numpy as np

from hls.rtl.fxtrace import cast, const, dense, lookup, where
from model import layers as L
from model.fixed import Fx


def _np(t) -> np.ndarray:
    return np.asarray(t.numpy(), np.float64)


def fx_quant(layer, x):
    """A cast (the model's inputs arrive already cast: see hls.rtl.trace)."""
    return cast(x, layer.result_t)


def fx_dense(layer, x):
    y = cast(dense(x, _np(layer.qw(layer.kernel)), _np(layer.qb(layer.bias))), layer.result_t)
    return np.maximum(y, 0.0) if layer.activation == "relu" else y


def fx_add(layer, a, b):
    return cast(a + b, layer.result_t)


def layer_norm(norm: L.LayerNormFx, x):
    """LayerNormFx: exact mean and variance (the dimension is a power of two), the 1/sqrt
    table on the variance, one cast at the end."""
    o = norm.owner
    gamma, beta = _np(o.qb(norm.gamma)), _np(o.qb(norm.beta))
    inv_dim = 1.0 / norm.dim
    mean = np.sum(x, axis=-1, keepdims=True) * inv_dim
    d = x - mean
    var = np.sum(d * d, axis=-1, keepdims=True) * inv_dim
    rsqrt = lookup(var, norm.table)
    return cast(d * rsqrt * gamma + beta, norm.result_t)


def fx_layer_norm(layer, x):
    return layer_norm(layer.norm, x)


def class_token(layer, x):
    token = _np(layer.q(layer.token, layer.result_t))[0]
    return const(token, x)


def _pairs(n):
    return [(i, j) for i in range(n) for j in range(i, n)]


def pair_embed(layer, x):
    """(N, N, F) -> (H, N, N). The features are symmetric: only i <= j is computed, the other
    half is the same wires (the firmware computes i <= j too)."""
    n = x.shape[0]
    pairs = _pairs(n)
    h = x[tuple(np.array(pairs).T)]  # (P, F)
    last = len(layer.dims)
    for i, (w, b) in enumerate(layer.stack):
        h = dense(h, _np(layer.qw(w)), _np(layer.qb(b)))
        h = np.maximum(cast(h, layer.hidden_t), 0.0) if i < last else cast(h, layer.result_t)
    out = np.empty((layer.num_heads, n, n), dtype=object)
    raw = np.asarray(h)
    for p, (i, j) in enumerate(pairs):
        out[:, i, j] = raw[p]
        out[:, j, i] = raw[p]
    return type(h)(out, h.solver_options, hwconf=h.hwconf)


def _heads(layer, x, w, b):
    """(T, E) -> cast (H, T, d)."""
    y = cast(dense(x, _np(layer.qw(w)), _np(layer.qb(b))), layer.qkv_t)
    return y.reshape(x.shape[0], layer.num_heads, layer.key_dim).transpose(1, 0, 2)


def attend(layer, xq, xkv, keep, bias=None):
    """_Attention._attend and _softmax_fx for one jet; keep: (T_k,) 0/1 per key."""
    q, k, v = (
        _heads(layer, xq, layer.wq, layer.bq),
        _heads(layer, xkv, layer.wk, layer.bk),
        _heads(layer, xkv, layer.wv, layer.bv),
    )
    logits = np.einsum("hqd,hkd->hqk", q, k) * (2.0**-layer.shift)
    if bias is not None:
        logits = logits + bias
    logits = cast(logits, layer.logit_t)
    keep = np.broadcast_to(np.asarray(keep), logits.shape)
    keep = type(logits)(keep, logits.solver_options, hwconf=logits.hwconf)
    top = np.max(where(keep, logits, layer.logit_t.min), axis=-1, keepdims=True)
    e = where(keep, lookup(top - logits, layer.exp_table), 0.0)
    total = np.sum(e, axis=-1, keepdims=True)
    p = cast(e * lookup(total, layer.inv_table), layer.attn_t)
    ctx = cast(np.einsum("hqk,hkd->hqd", p, v), layer.ctx_t)
    ctx = ctx.transpose(1, 0, 2).reshape(xq.shape[0], layer.dim)
    return cast(dense(ctx, _np(layer.qw(layer.wo)), _np(layer.qb(layer.bo))), layer.result_t)


def particle_attention(layer, *inputs):
    x, mask = inputs[0], inputs[-1]
    bias = inputs[1] if len(inputs) == 3 else None
    h = layer_norm(layer.norm, x)
    return attend(layer, h, h, mask, bias)


def class_attention(layer, cls, x, mask):
    hc, hx = layer_norm(layer.norm, cls), layer_norm(layer.norm, x)
    keys = np.concatenate([hc, hx], axis=0)
    keep = np.concatenate([const([1.0], mask), mask], axis=0)
    return attend(layer, hc, keys, keep)


def _table(x, values):
    """values[x] for an integer-valued x in [0, len(values))."""
    qint = (0.0, float(len(values) - 1), 1.0)
    out = [v.lookup(np.asarray(values), original_qint=qint) for v in np.asarray(x).ravel()]
    return type(x)(np.array(out, dtype=object).reshape(x.shape), x.solver_options, x.hwconf)


def _log(layer, x, frac: int, max_bits: int):
    """tables.LogTable.lookup then the cast to ln_t, for x = raw * 2**-frac > 0: the leading
    one e = sum_k [raw >= 2**k] (as the Keras code counts it), the `bits` bits below it index
    the mantissa table, ln = (e - frac) * ln2 + mant. raw = 0 gives ln_t.min (the caller's
    tf.where)."""
    t = layer.log_table
    index_t = Fx(t.bits, t.bits, False, "AP_TRN", "AP_WRAP")
    idx = e = None
    for k in range(0, max_bits):
        # raw in [2**k, 2**(k+1)): the bits below the leading one, truncated
        idx_k = cast(x * 2.0 ** (frac + t.bits - k), index_t)
        if k == 0:
            idx = idx_k
            continue
        above = x >= 2.0 ** (k - frac)
        idx = where(above, idx_k, idx)
        e = above if e is None else e + above
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
    pairs = _pairs(n)
    ii, jj = np.array(pairs).T
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
    for p, (i, j) in enumerate(pairs):
        grid[i, j] = vals[p]
        grid[j, i] = vals[p]
    return type(kin)(grid, kin.solver_options, hwconf=kin.hwconf)


def flatten(layer, x):
    return x.reshape(-1)


TRACES = {
    L.FxQuant: fx_quant,
    L.FxDense: fx_dense,
    L.FxAdd: fx_add,
    L.FxLayerNorm: fx_layer_norm,
    L.PairEmbed: pair_embed,
    L.PairFeatures: pair_features,
    L.ParticleAttention: particle_attention,
    L.ClassAttention: class_attention,
    L.ClassToken: class_token,
}
