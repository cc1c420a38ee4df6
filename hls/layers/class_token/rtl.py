"""ClassToken's fixed-point forward pass on alkaid's symbolic arrays (the RTL route, hls/rtl),
written from model/layers.py line by line: the same casts in the same order, the layer's own
quantized weights and table objects. One jet, no batch axis."""

from __future__ import annotations

from hls.layers.rtl_ops import as_np, const


def class_token(layer, x):
    token = as_np(layer.q(layer.token, layer.result_t))[0]
    return const(token, x)


TRACES = {"ClassToken": class_token}
