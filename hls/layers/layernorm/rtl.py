"""FxLayerNorm's fixed-point forward pass on alkaid's symbolic arrays (the RTL route, hls/rtl),
written from model/layers.py line by line: the same casts in the same order, the layer's own
quantized weights and table objects. One jet, no batch axis."""

from __future__ import annotations

import numpy as np

from hls.layers.rtl_ops import as_np, cast, lookup


def layer_norm(norm, x):
    """LayerNormFx: exact mean and variance (the dimension is a power of two), the 1/sqrt
    table on the variance, one cast at the end."""
    o = norm.owner
    gamma, beta = as_np(o.qb(norm.gamma)), as_np(o.qb(norm.beta))
    inv_dim = 1.0 / norm.dim
    mean = np.sum(x, axis=-1, keepdims=True) * inv_dim
    d = x - mean
    var = np.sum(d * d, axis=-1, keepdims=True) * inv_dim
    rsqrt = lookup(var, norm.table)
    return cast(d * rsqrt * gamma + beta, norm.result_t)


def fx_layer_norm(layer, x):
    return layer_norm(layer.norm, x)


TRACES = {"FxLayerNorm": fx_layer_norm}
