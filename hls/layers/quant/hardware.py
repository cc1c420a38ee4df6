"""FxQuant: a cast. Right after a model input it has no hardware: it is folded into the input
type (hls/graph.py finds those, hls/layers/quant/extension.py's pass removes them)."""

from __future__ import annotations

import math

from hls import folding
from hls.cost import Region

KERAS_CLASSES = ("FxQuant",)


def estimate(layer, ctx):
    if layer.name in ctx.graph.folded:
        return None
    n = int(math.prod(layer.input_shape[1:]))
    r = Region("cast")
    r.adds.append((n, layer.result_t.width))
    return folding.Folding(1, 1, 1), [r], n * layer.result_t.width
