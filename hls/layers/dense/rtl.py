"""FxDense's fixed-point forward pass on alkaid's symbolic arrays (the RTL route, hls/rtl),
written from model/layers.py line by line: the same casts in the same order, the layer's own
quantized weights and table objects. One jet, no batch axis."""

from __future__ import annotations

import numpy as np

from hls.layers.rtl_ops import as_np, cast, dense


def fx_dense(layer, x):
    y = cast(dense(x, as_np(layer.qw(layer.kernel)), as_np(layer.qb(layer.bias))), layer.result_t)
    return np.maximum(y, 0.0) if layer.activation == "relu" else y


TRACES = {"FxDense": fx_dense}
