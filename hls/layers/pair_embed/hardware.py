"""PairEmbed: a loop over the pair slots, a dense chain (hidden layers with ReLU, then the
heads) per pair. The firmware computes the pairs i <= j and mirrors them (ParT's pair features
are symmetric); hls4ml's `Symmetric: false` (convert's hls_overrides) computes all N*N.
C++: nnet::qpart::pair_embed."""

from __future__ import annotations

from hls.cost import Region
from hls.folding import symmetric_pairs
from hls.layers import sbits
from hls.layers.dense.hardware import dense_row

KERAS_CLASSES = ("PairEmbed",)


def n_pair_rows(n: int, symmetric: bool = True) -> int:
    """The pair slots the firmware computes: N(N+1)/2 with the mirror, else N*N."""
    return symmetric_pairs(n) if symmetric else n * n


def regions(fold, n_feat, in_t, dims, hidden_t, result_t, weight_bits, products=None):
    """The pair loop. `dims`: [n_feat, hidden..., heads]; `products`: kept weights per kernel
    (None: all, as the C++ writes)."""
    r = Region("pairs", fold.trips, fold.reuse_factor)
    x_bits, n_layers = sbits(in_t), len(dims) - 1
    for i in range(n_layers):
        n_in, n_out = dims[i], dims[i + 1]
        dense_row(
            r,
            n_in,
            n_in * n_out if products is None else products[i],
            weight_bits,
            x_bits,
            fold.parallel,
        )
        t = result_t if i == n_layers - 1 else hidden_t
        r.adds.append((fold.parallel * n_out, t.width))
        if i < n_layers - 1:
            r.selects.append((fold.parallel * n_out, t.width))
        x_bits = sbits(t)
    r.muxes.append((fold.parallel * n_feat * in_t.width, fold.trips))
    return [r]


def estimate(layer, ctx):
    in_t = ctx.in_t(layer)
    n, n_feat = int(layer.input_shape[1]), int(layer.input_shape[-1])
    f = ctx.fold(layer, n_pair_rows(n))
    dims = [int(layer.stack[0][0].shape[0])] + [int(k.shape[1]) for k, _ in layer.stack]
    products = [ctx.nonzero(layer, k) for k, _ in layer.stack]
    regs = regions(
        f, n_feat, in_t, dims, layer.hidden_t, layer.result_t, layer.weight_bits, products
    )
    return f, regs, layer.num_heads * n * n * layer.result_t.width
