"""PairEmbed's fixed-point forward pass on alkaid's symbolic arrays (the RTL route, hls/rtl),
written from model/layers.py line by line: the same casts in the same order, the layer's own
quantized weights and table objects. One jet, no batch axis."""

from __future__ import annotations

import numpy as np

from hls.layers.rtl_ops import as_np, cast, dense, pairs, wrap


def pair_embed(layer, x):
    """(N, N, F) -> (H, N, N). The features are symmetric: only i <= j is computed, the other
    half is the same wires (the firmware computes i <= j too)."""
    n = x.shape[0]
    ij = pairs(n)
    h = x[tuple(np.array(ij).T)]  # (P, F)
    last = len(layer.dims)
    for i, (w, b) in enumerate(layer.stack):
        h = dense(h, as_np(layer.qw(w)), as_np(layer.qb(b)))
        h = np.maximum(cast(h, layer.hidden_t), 0.0) if i < last else cast(h, layer.result_t)
    out = np.empty((layer.num_heads, n, n), dtype=object)
    raw = np.asarray(h)
    for p, (i, j) in enumerate(ij):
        out[:, i, j] = raw[p]
        out[:, j, i] = raw[p]
    return wrap(out, h)


TRACES = {"PairEmbed": pair_embed}
