"""FxSumPool: one iteration, the masked rows summed per feature (N - 1 adders of the exact sum's
width each, a select per input word), scaled by a rewiring and cast. C++: nnet::qpart::sum_pool."""

from __future__ import annotations

from hls import folding
from hls.cost import Region
from hls.fxtypes import sum_type

KERAS_CLASSES = ("FxSumPool",)


def regions(n, dim, x_t):
    r = Region("pool")
    r.selects.append((n * dim, x_t.width))
    r.adds.append(((n - 1) * dim, sum_type(x_t, n).width))
    r.mac_terms = n
    return [r]


def estimate(layer, ctx):
    x_t = ctx.in_t(layer, 0)
    n, dim = int(layer.input_shape[0][1]), int(layer.input_shape[0][-1])
    return folding.Folding(1, 1, 1), regions(n, dim, x_t), dim * layer.result_t.width
