"""ClassToken: the quantized token, a constant array copied out (no arithmetic)."""

from __future__ import annotations

from hls import folding
from hls.cost import Region

KERAS_CLASSES = ("ClassToken",)


def estimate(layer, ctx):
    dim = int(layer.input_shape[-1])
    return (
        folding.Folding(1, 1, 1),
        [Region("token", pipelined=False)],
        dim * layer.result_t.width,
    )
