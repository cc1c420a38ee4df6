"""FxLayerNorm: a row loop, each row an exact mean / variance, a 1/sqrt table read, the
affine. The same row is the pre-norm of the attention layers. C++: nnet::qpart::layernorm."""

from __future__ import annotations

import math

from hls.cost import Region
from hls.fxtypes import CType, add_type, clog2, ctype, mul_type, shift_type, sub_type
from hls.layers import sbits
from model import tables

KERAS_CLASSES = ("FxLayerNorm",)


def layernorm_types(in_t, dim, table: tables.RsqrtTable, gamma_fx, beta_fx) -> dict:
    """The exact intermediates of LayerNormFx for inputs of type in_t (hls/fxtypes.py)."""
    k = clog2(dim)
    x = ctype(in_t)
    sum_t = CType(x.width + k, x.integer + k, x.signed)
    mean_t = shift_type(sum_t, k)
    diff_t = sub_type(x, mean_t)
    # d*d < 2**(2*diff_int - 2) summed over dim terms; unsigned
    sq = mul_type(diff_t, diff_t)
    var_sum_t = CType(sq.width - 2 + k, sq.integer - 2 + k, False)
    var_t = shift_type(var_sum_t, k)
    scaled_t = mul_type(diff_t, table.value_t)
    affine_t = add_type(mul_type(scaled_t, gamma_fx), beta_fx)
    return {
        "sum_t": sum_t,
        "mean_t": mean_t,
        "diff_t": diff_t,
        "var_sum_t": var_sum_t,
        "var_t": var_t,
        "index_t": table.index_t,
        "scaled_t": scaled_t,
        "affine_t": affine_t,
    }


def layernorm_row(region, in_t, dim, table: tables.RsqrtTable, bias_t, lanes):
    """`lanes` rows of a layer norm of `dim` elements: per element d*d and d*(1/sqrt)
    variable products and the gamma constant product; one table read per row."""
    t = layernorm_types(in_t, dim, table, bias_t, bias_t)
    region.adds += [
        (lanes * dim, t["sum_t"].width),
        (lanes * dim, t["diff_t"].width),
        (lanes * dim, t["var_sum_t"].width),
        (lanes * dim, t["affine_t"].width),
    ]
    region.var_mults += [
        (lanes * dim, t["diff_t"].width, t["diff_t"].width),
        (lanes * dim, t["diff_t"].width, sbits(table.value_t)),
    ]
    region.const_macs.append((lanes * dim, int(bias_t.width), t["scaled_t"].width))
    region.tables.append((lanes, table.size, int(table.value_t.width)))
    region.mac_terms = max(region.mac_terms, dim)


def regions(fold, dim, in_t, table, bias_t):
    """The row loop; its only table is the 1/sqrt ROM (`regions(...)[0].rom_copies()[0]`)."""
    r = Region("rows", fold.trips, fold.reuse_factor)
    layernorm_row(r, in_t, dim, table, bias_t, fold.parallel)
    r.muxes.append((fold.parallel * dim * in_t.width, fold.trips))
    return [r]


def estimate(layer, ctx):
    in_t, res = ctx.in_t(layer), layer.result_t
    shape = layer.input_shape
    rows, dim = int(math.prod(shape[1:-1])), int(shape[-1])
    f = ctx.fold(layer, rows)
    table = tables.RsqrtTable(layer.table_size, layer.var_range, layer.rsqrt_t)
    return f, regions(f, dim, in_t, table, layer.bias_t), rows * dim * res.width
