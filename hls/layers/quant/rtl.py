"""FxQuant's fixed-point forward pass on alkaid's symbolic arrays (the RTL route, hls/rtl),
written from model/layers.py line by line: the same casts in the same order, the layer's own
quantized weights and table objects. One jet, no batch axis."""

from __future__ import annotations

from hls.layers.rtl_ops import cast


def fx_quant(layer, x):
    """A cast (the model's inputs arrive already cast: see hls.rtl.trace)."""
    return cast(x, layer.result_t)


TRACES = {"FxQuant": fx_quant}
