"""ParticleAttention's and ClassAttention's fixed-point forward pass on alkaid's symbolic
arrays (the RTL route, hls/rtl), written from model/layers.py line by line: the same casts in
the same order, the layer's own quantized weights and table objects. One jet, no batch axis."""

from __future__ import annotations

import numpy as np

from hls.layers.layernorm.rtl import layer_norm
from hls.layers.rtl_ops import as_np, cast, const, dense, lookup, where, wrap


def _heads(layer, x, w, b):
    """(T, E) -> cast (H, T, d)."""
    y = cast(dense(x, as_np(layer.qw(w)), as_np(layer.qb(b))), layer.qkv_t)
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
    keep = wrap(keep, logits)
    top = np.max(where(keep, logits, layer.logit_t.min), axis=-1, keepdims=True)
    e = where(keep, lookup(top - logits, layer.exp_table), 0.0)
    total = np.sum(e, axis=-1, keepdims=True)
    p = cast(e * lookup(total, layer.inv_table), layer.attn_t)
    ctx = cast(np.einsum("hqk,hkd->hqd", p, v), layer.ctx_t)
    ctx = ctx.transpose(1, 0, 2).reshape(xq.shape[0], layer.dim)
    return cast(dense(ctx, as_np(layer.qw(layer.wo)), as_np(layer.qb(layer.bo))), layer.result_t)


def _pre_norm(layer, x):
    return layer_norm(layer.norm, x) if layer.norm is not None else x


def particle_attention(layer, *inputs):
    x, mask = inputs[0], inputs[-1]
    bias = inputs[1] if len(inputs) == 3 else None
    h = _pre_norm(layer, x)
    return attend(layer, h, h, mask, bias)


def class_attention(layer, cls, x, mask):
    hc, hx = _pre_norm(layer, cls), _pre_norm(layer, x)
    keys = np.concatenate([hc, hx], axis=0)
    keep = np.concatenate([const([1.0], mask), mask], axis=0)
    return attend(layer, hc, keys, keep)


TRACES = {"ParticleAttention": particle_attention, "ClassAttention": class_attention}
