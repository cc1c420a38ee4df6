"""FxDense: a row loop over all axes but the last, each row an exact dense row (n_in -> n_out)
with the cast (saturating) and an optional ReLU. C++: nnet::qpart::dense."""

from __future__ import annotations

import math

from hls.cost import Region
from hls.layers import sbits

KERAS_CLASSES = ("FxDense",)


def dense_row(region, n_in, products, weight_bits, x_bits, lanes):
    """One exact dense row of `products` constant x variable products (n_in x n_out, less the
    zero weights when trained), `lanes` times."""
    region.const_macs.append((lanes * products, weight_bits, x_bits))
    region.mac_terms = max(region.mac_terms, n_in + 1)


def regions(fold, n_in, n_out, in_t, result_t, weight_bits, relu, products=None):
    """The row loop. `products`: kept weights of the kernel (None: all, as the C++ writes)."""
    r = Region("rows", fold.trips, fold.reuse_factor)
    dense_row(
        r,
        n_in,
        n_in * n_out if products is None else products,
        weight_bits,
        sbits(in_t),
        fold.parallel,
    )
    r.adds.append((fold.parallel * n_out, result_t.width))  # cast with saturation
    if relu:
        r.selects.append((fold.parallel * n_out, result_t.width))
    r.muxes.append((fold.parallel * n_in * in_t.width, fold.trips))
    return [r]


def estimate(layer, ctx):
    in_t, res = ctx.in_t(layer), layer.result_t
    shape = layer.input_shape
    rows, n_in = int(math.prod(shape[1:-1])), int(shape[-1])
    f = ctx.fold(layer, rows)
    regs = regions(
        f,
        n_in,
        layer.units,
        in_t,
        res,
        layer.weight_bits,
        layer.activation == "relu",
        ctx.nonzero(layer, layer.kernel),
    )
    return f, regs, rows * layer.units * res.width
