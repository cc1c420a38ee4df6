"""FxAdd: a row loop of a + b (exact) cast to the result type. C++: nnet::qpart::add."""

from __future__ import annotations

import math

from hls.cost import Region

KERAS_CLASSES = ("FxAdd",)


def rows(shape) -> int:
    """Rows of the loop: all axes but the last (shape without the batch axis)."""
    return int(math.prod(shape[:-1]))


def regions(fold, cols, a_t, b_t, result_t):
    r = Region("rows", fold.trips, fold.reuse_factor)
    p = fold.parallel
    r.adds += [(p * cols, max(a_t.width, b_t.width) + 1), (p * cols, result_t.width)]
    r.muxes += [(p * cols * a_t.width, fold.trips), (p * cols * b_t.width, fold.trips)]
    return [r]


def estimate(layer, ctx):
    a, b, res = ctx.in_t(layer, 0), ctx.in_t(layer, 1), layer.result_t
    shape = layer.input_shape[0]
    n_rows, cols = rows(shape[1:]), int(shape[-1])
    f = ctx.fold(layer, n_rows)
    return f, regions(f, cols, a, b, res), n_rows * cols * res.width
