"""PairFeatures: ParT's four pair features computed on chip, a loop over the pair slots
(i <= j, mirrored: pair_embed's loop). Per pair: differences and squares of the angles,
F/G/softplus/ln-mantissa table reads, two leading-one logarithms (priority encoder + shifter),
the standardisation. C++: nnet::qpart::pair_features."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hls.cost import Region
from hls.fxtypes import mul_type, sub_type
from hls.layers import sbits
from hls.layers.pair_embed.hardware import n_pair_rows

KERAS_CLASSES = ("PairFeatures",)


@dataclass(frozen=True)
class Spec:
    n: int
    kin_t: object  # the particles' input type
    angle_t: object
    table_t: object
    ln_t: object
    result_t: object
    angle_table_size: int
    softplus_table_size: int
    log_bits: int

    def rows(self) -> int:
        return n_pair_rows(self.n)


def regions(fold, s: Spec):
    """The pair loop; its tables in order: cosh (F), cos (G), softplus, ln mantissa."""
    p, r = fold.parallel, Region("pairs", fold.trips, fold.reuse_factor)
    diff = sub_type(s.angle_t, s.angle_t)
    sq = mul_type(diff, diff)
    tab = s.table_t
    r.var_mults += [(2 * p, diff.width, diff.width), (2 * p, sq.width, sbits(tab))]
    # (e - frac) * ln 2 twice; (f - center) * scale four times: constant products
    r.const_macs += [(2 * p, tab.width, 7), (4 * p, 10, s.ln_t.width + 2)]
    log_w = sq.width + tab.width + 1
    shifter = log_w * max(1, math.ceil(math.log2(log_w)))
    r.adds += [
        (6 * p, diff.width),
        (2 * p, shifter),
        (2 * p, log_w),
        (12 * p, tab.width + 4),
        (4 * p, s.result_t.width),
    ]
    r.selects.append((4 * p, s.result_t.width))  # padding
    r.tables += [
        (p, s.angle_table_size, tab.width),
        (p, s.angle_table_size, tab.width),
        (p, s.softplus_table_size, tab.width),
        (2 * p, 1 << s.log_bits, tab.width),
    ]
    r.muxes.append((2 * p * 3 * s.kin_t.width, s.n))
    r.mac_terms = 2
    return [r]


def rom_copies(fold, s: Spec) -> dict:
    """The C++'s table copies: those of the region the estimate prices."""
    angle, _, softplus, log = regions(fold, s)[0].rom_copies()
    return {"angle": angle, "softplus": softplus, "log": log}


def estimate(layer, ctx):
    s = Spec(
        n=int(layer.input_shape[0][1]),
        kin_t=ctx.in_t(layer, 0),
        angle_t=layer.angle_t,
        table_t=layer.table_t,
        ln_t=layer.ln_t,
        result_t=layer.result_t,
        angle_table_size=layer.angle_table_size,
        softplus_table_size=layer.softplus_table_size,
        log_bits=layer.log_bits,
    )
    f = ctx.fold(layer, s.rows())
    return f, regions(f, s), s.n * s.n * 4 * layer.result_t.width
