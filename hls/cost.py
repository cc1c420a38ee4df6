"""Operations -> FPGA resources and cycles: the mapping rules of the estimate, in one place.

An unrolled region (the body of one pipelined loop) is described by what it computes
(`Region`): constant x variable products (a weight times an activation), variable x variable
products, adders and comparators, table reads, row multiplexers and stored bits. `Rules` turns
that into LUT, FF, DSP, BRAM_18K and URAM, and into a pipeline depth. The same rules price
qpart's layers (hls/estimate.py) and the hls4ml layers of the public reports the constants are
fitted on (hls/calibration.py); docs/hls.md states them in words.

Pure Python: no hls4ml, no TensorFlow.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, replace

from hls.common import RESOURCES
from hls.folding import multiplier_limit, rom_copies

# DSP48E2: a 27 x 18 signed multiplier.
DSP_A_BITS, DSP_B_BITS = 27, 18
# BRAM18K aspect ratios (depth, width) a ROM can take.
BRAM18_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
LUTRAM_MAX_DEPTH = 64  # tables this small (or smaller) are LUT ROMs: one LUT6 per 64 x 1 bits


@dataclass(frozen=True)
class Rules:
    """The constants of the mapping. Those marked 'fitted' come from hls/calibration.py's fit
    on real Vivado/Vitis HLS reports (tests/test_estimate.py refits and compares); per tool
    family they are FAMILY_RULES, whose defaults here are the fields common to all families
    (ff_per_lut, the scales and softmax_rom_ports are a family's own); the others are
    data-sheet facts or stated assumptions. clock_ns and series7 describe the design."""

    # constant x variable multiply-accumulate, weight of at most const_lut_max_bits bits: LUTs
    # (shift-add), LUT = base + per_bit2 * weight_bits * data_bits, adder included (fitted)
    cmac_lut_base: float = 18.38
    cmac_lut_per_bit2: float = 0.0675
    const_lut_max_bits: int = 10
    # wider constant products: a share of them on DSPs, the rest (zeros, powers of two, small
    # values) in LUTs; LUT per product includes the adder (fitted)
    wide_const_dsp_share: float = 0.4749
    wide_cmac_lut: float = 22.2
    # variable x variable: DSPs (tiles of 27 x 18 signed) unless an operand has at most
    # var_lut_max_bits bits; a LUT multiplier costs about a*b/2 LUTs (assumption)
    var_lut_max_bits: int = 8
    var_mult_lut_per_bit2: float = 0.55
    # adders, subtractors, comparators, casts with saturation: LUTs per bit (assumption)
    add_lut_per_bit: float = 1.0
    # ReLU and other pointwise selects: LUT per bit (fitted on hls4ml relu modules)
    select_lut_per_bit: float = 0.715
    # an N-way multiplexer: ceil(N / 4) LUT6 per bit (F7/F8 muxes free)
    mux_ways_per_lut: int = 4
    # pipeline registers: FF per LUT of logic in a pipelined region (fitted per tool family)
    ff_per_lut: float = 0.1628
    # depth: cycles for a multiply stage, adder-tree levels per cycle (fitted on the first
    # calibration set, kept), table reads
    mac_cycles: int = 1
    adder_levels_per_cycle: int = 6
    table_cycles: int = 2
    # the tool family: its LUT, and its DSPs of wide constant products, against the rules
    # above; its pipeline depth against theirs (fitted per family)
    lut_scale: float = 1.0
    dsp_scale: float = 1.0
    latency_scale: float = 1.0
    # the clock: a path's delay is what it is, so the pipeline stages it is cut into go as
    # 1 / clock: depth times (5 ns / clock) ** clock_exp (assumption; FF per LUT showed no such
    # dependence on the holdout: exponents 0.5 and 1 made its error larger)
    clock_ns: float = 5.0  # the design's clock (set per design, not fitted)
    clock_exp: float = 1.0
    # a 7-series part (slower fabric than UltraScale/UltraScale+ at the same clock): its FF
    # and pipeline depth against those of the newer parts (fitted over all families)
    series7: bool = False  # the design's part (set per design, not fitted)
    ff_series7: float = 3.8162
    latency_series7: float = 3.155
    # hls4ml's own layers (the calibration designs): cycles a Latency dense adds per doubling
    # of its reuse factor, its softmax tables' ports (a Vitis table is one read per copy), the
    # share of narrow constant products on DSPs under `config_op mul -impl dsp` (fitted)
    rf_cycles_per_log2: float = 1.5
    softmax_rom_ports: int = 2
    dsp_impl_share: float = 0.2089

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULT_RULES = Rules()
# The rules of each tool family (hls/calibration.py: FAMILIES), as `python -m hls.calibration`
# fits them; the rest of Rules is common to all families.
FAMILY_RULES = {
    "Vivado HLS 2019-2020": replace(
        DEFAULT_RULES,
        ff_per_lut=0.1591,
        lut_scale=1.2024,
        dsp_scale=1.6522,
        latency_scale=0.7719,
        softmax_rom_ports=2,
    ),
    "Vitis HLS 2021-2022": replace(
        DEFAULT_RULES,
        ff_per_lut=0.2405,
        lut_scale=1.1568,
        dsp_scale=1.2608,
        latency_scale=1.2174,
        softmax_rom_ports=1,
    ),
    "Vitis HLS 2023-2024": replace(
        DEFAULT_RULES,
        ff_per_lut=0.5896,
        lut_scale=1.3732,
        dsp_scale=1.7241,
        latency_scale=1.0342,
        softmax_rom_ports=1,
    ),
}


def rules_for(family: str, clock_ns: float, part: str) -> Rules:
    """The rules of a design: its tool family's, at its clock, for its part's generation."""
    return replace(
        FAMILY_RULES[family],
        clock_ns=float(clock_ns),
        series7=device_generation(part) == "7-series",
    )


@dataclass
class Region:
    """One pipelined loop: `trips` iterations at II `ii`, each unrolling what is listed.
    Counts are per iteration (all lanes). Lists hold (count, bits...) tuples."""

    name: str
    trips: int = 1
    ii: int = 1
    const_macs: list = field(default_factory=list)  # (count, weight_bits, data_bits)
    var_mults: list = field(default_factory=list)  # (count, a_bits, b_bits), a/b signed widths
    adds: list = field(default_factory=list)  # (count, bits): adders, comparators, casts
    selects: list = field(default_factory=list)  # (count, bits): ReLU, masks
    tables: list = field(default_factory=list)  # (reads, depth, width) per table
    muxes: list = field(default_factory=list)  # (bits, ways): row reads by a loop index
    mac_terms: int = 1  # longest sum (for the depth)
    share_var: bool = True  # ALLOCATION shares var x var products
    pipelined: bool = True  # registers between stages (FF)
    mult_limit: int | None = None  # hls4ml dense's ALLOCATION of all its products (DSPs)
    mul_impl: str | None = None  # `config_op mul -impl dsp|fabric` (None: the tool decides)
    rom_ports: int = 2  # reads per ROM copy a cycle
    extra_cycles: int = 0  # cycles the reuse factor adds to an hls4ml dense

    @property
    def unrolled_mults(self) -> int:
        """Multiplications written out in one iteration: what the HLS tool must unroll and
        schedule at once (before any ALLOCATION sharing)."""
        return sum(c for c, *_ in self.const_macs) + sum(c for c, *_ in self.var_mults)

    @property
    def table_reads(self) -> int:
        return sum(r for r, *_ in self.tables)

    @property
    def multiplier_limit(self) -> int:
        """The loop's ALLOCATION limit in the C++: its products shared over the II."""
        return multiplier_limit(self.unrolled_mults, self.ii)

    def rom_copies(self) -> list[int]:
        """ROM copies per table, in the order of `tables` (the C++ holds as many)."""
        return [rom_copies(reads, self.ii, self.rom_ports) for reads, *_ in self.tables]


def dsp_tiles(a_bits: int, b_bits: int) -> int:
    """DSP48E2 tiles for a signed a x b product (27 x 18 each)."""
    hi, lo = max(a_bits, b_bits), min(a_bits, b_bits)
    return math.ceil(hi / DSP_A_BITS) * math.ceil(lo / DSP_B_BITS)


def rom_cost(depth: int, width: int) -> dict:
    """One ROM copy: LUTRAM when tiny, else BRAM18K in its best aspect ratio."""
    if depth <= LUTRAM_MAX_DEPTH:
        return {"LUT": math.ceil(depth / 64) * width, "BRAM_18K": 0}
    brams = min(math.ceil(depth / d) * math.ceil(width / w) for d, w in BRAM18_SHAPES)
    return {"LUT": 0, "BRAM_18K": brams}


def device_generation(part: str) -> str:
    """'7-series' or 'UltraScale' (UltraScale and UltraScale+, Zynq MPSoC, Alveo, Versal) from an
    AMD part name; any other name is an error that names it."""
    p = part.lower()
    if p.startswith("xc7"):
        return "7-series"
    if re.match(r"xc(vu|ku|zu|u\d|au|xc|v[cmpeh]\d)", p):
        return "UltraScale"
    raise ValueError(f"part {part!r}: the estimate's rules know 7-series and UltraScale(+) parts")


def clock_factor(rules: Rules) -> float:
    """(5 ns / clock) ** clock_exp: the pipeline stages a path needs at the clock."""
    return (5.0 / rules.clock_ns) ** rules.clock_exp


def region_cost(region: Region, rules: Rules = DEFAULT_RULES) -> dict:
    """Resources of one region (its registers of pipelining included, its stored arrays not),
    for the rules' tool family and clock."""
    r, lut, dsp, bram = rules, 0.0, 0.0, 0
    fabric = region.mul_impl == "fabric"
    for count, wb, xb in region.const_macs:
        if wb <= r.const_lut_max_bits or fabric:
            lut += count * (r.cmac_lut_base + r.cmac_lut_per_bit2 * wb * xb)
            if region.mul_impl == "dsp":
                dsp += count * r.dsp_impl_share * dsp_tiles(wb, xb)
        else:
            dsp += count * r.wide_const_dsp_share * r.dsp_scale * dsp_tiles(wb, xb)
            lut += count * r.wide_cmac_lut
    for count, ab, bb in region.var_mults:
        n = -(-count // region.ii) if region.share_var else count
        if min(ab, bb) <= r.var_lut_max_bits or fabric:
            lut += n * r.var_mult_lut_per_bit2 * ab * bb
        else:
            dsp += n * dsp_tiles(ab, bb)
            if region.share_var and region.ii > 1:  # operand multiplexers of the sharing
                lut += n * (ab + bb) * math.ceil(region.ii / r.mux_ways_per_lut)
    lut += sum(c * b * r.add_lut_per_bit for c, b in region.adds)
    lut += sum(c * b * r.select_lut_per_bit for c, b in region.selects)
    lut += sum(
        bits * math.ceil(ways / r.mux_ways_per_lut) for bits, ways in region.muxes if ways > 1
    )
    ff = lut * r.ff_per_lut if region.pipelined else 0.0
    if r.series7:
        ff *= r.ff_series7
    lut *= r.lut_scale
    dsp = math.ceil(dsp - 1e-9)
    if region.mult_limit is not None:
        dsp = min(dsp, region.mult_limit)
    for (_, depth, width), copies in zip(region.tables, region.rom_copies()):
        one = rom_cost(depth, width)
        lut += copies * one["LUT"]
        bram += copies * one["BRAM_18K"]
    return {
        "LUT": int(round(lut)),
        "FF": int(round(ff)),
        "DSP": int(dsp),
        "BRAM_18K": int(bram),
        "URAM": 0,
    }


def region_depth(region: Region, rules: Rules = DEFAULT_RULES) -> int:
    """Pipeline depth in cycles: a multiply stage and the adder tree, table reads, one
    register for a region of adders only; pointwise selects are wires. Scaled for the tool
    family and clock; a reuse factor's cycles (hls4ml dense) added."""
    depth = 0
    if region.const_macs or region.var_mults:
        levels = math.ceil(math.log2(max(region.mac_terms, 1) + 1))
        depth += rules.mac_cycles + math.ceil(levels / rules.adder_levels_per_cycle)
    if region.tables:
        depth += rules.table_cycles
    if not depth and region.adds:
        depth = 1
    scale = rules.latency_scale * clock_factor(rules)
    if rules.series7:
        scale *= rules.latency_series7
    return int(round(depth * scale)) + region.extra_cycles


def region_latency(region: Region, rules: Rules = DEFAULT_RULES) -> int:
    return region_depth(region, rules) + (region.trips - 1) * region.ii


def add(a: dict, b: dict) -> dict:
    return {k: a.get(k, 0) + b.get(k, 0) for k in RESOURCES}
