"""Calibration of the estimate's mapping rules (hls/cost.py) on real HLS reports.

    python -m hls.calibration       -> the fitted rules, their spread and the holdout tables (JSON)

hls/calibration.yml holds public hls4ml designs with their C-synthesis reports (figures copied
from the reports, architectures from the same repositories' generated projects). Their hls4ml
layers (dense, Conv1D, ReLU, softmax, pooling) are priced with the same `Region` / `Rules` as
qpart's layers. `fit` gives the rules of each tool family (FAMILIES): per-product constants on
per-layer modules, then per family in log space (each repository weighted once) the LUT and
DSP scales, FF per LUT and the pipeline depth against clock and part. The holdout is leave one
repository out: each used design is estimated by the rules fitted without its repository, so
fit and holdout are split by repository, never within one; the refits' spread is the
constants' uncertainty. The holdout errors per family make the error band every estimate
carries (`band_for`, `span`; hls/estimate.py). What no public report can validate: qpart's
attention (variable x variable products at scale, the masked table softmax, its row
multiplexers) and the effect of ALLOCATION on variable products; docs/hls.md says so.

Pure Python + numpy + PyYAML.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import statistics
import sys
from dataclasses import replace
from pathlib import Path

import yaml

from hls import cost
from hls.cost import Region, Rules

DATA = Path(__file__).with_name("calibration.yml")
COMPARED = ("LUT", "FF", "DSP", "BRAM_18K", "latency")
# hls4ml layers that are wiring in the C++ (no arithmetic): priced as nothing, by name
WIRING = ("zeropad1d", "flatten", "linear", "concatenate")
# tool families of the holdout table: (family, first year, last year)
FAMILIES = (
    ("Vivado HLS 2019-2020", "Vivado HLS", 2019, 2020),
    ("Vitis HLS 2021-2022", "Vitis HLS", 2021, 2022),
    ("Vitis HLS 2023-2024", "Vitis HLS", 2023, 2024),
)


def bits(type_name: str | None) -> int:
    """Signed operand width of an ap_fixed / ap_ufixed / ap_(u)int type string."""
    m = re.match(r"ap_(u?)(fixed|int)<(\d+)", type_name or "")
    if not m:
        raise ValueError(f"calibration.yml: cannot read the width of {type_name!r}")
    return int(m.group(3)) + (1 if m.group(1) == "u" else 0)


def load(path=DATA) -> list[dict]:
    return yaml.safe_load(Path(path).read_text())["designs"]


def _products(layer) -> int:
    if layer["kind"] == "dense":
        n = layer["n_in"] * layer["n_out"]
    else:  # conv1d: one kernel
        n = layer["n_chan"] * layer["n_filt"] * layer.get("filt_width", 1)
    return n - int(layer.get("n_zeros") or 0)


def mul_impl(design: dict) -> str | None:
    """`config_op mul -impl dsp|fabric` among a design's directives, else None."""
    for line in design.get("directives") or []:
        m = re.search(r"config_op mul -impl (dsp|fabric)", line)
        if m:
            return m.group(1)
    return None


def layer_region(layer: dict, rules: Rules = cost.DEFAULT_RULES, impl=None) -> Region | None:
    """An hls4ml layer as a Region (what its hls4ml C++ unrolls), or None when it is wiring."""
    kind, rf = layer["kind"], int(layer.get("reuse_factor") or 1)
    if kind in ("dense", "conv1d"):
        lanes, trips = 1, 1
        if kind == "conv1d":
            if layer.get("implementation") == "pointwise":
                lanes = layer["out_width"]
            else:  # line buffer on a stream: one kernel, one output position per iteration
                trips = layer["out_width"]
        r = Region(layer["name"], trips=trips, share_var=False, mul_impl=impl)
        if kind == "dense" and rf > 1:
            # Latency dense: hls4ml's ALLOCATION of its products (DIV_ROUNDUP(n_in * n_out,
            # rf) - n_zeros / rf) caps the multipliers, and the schedule grows with rf
            n_all = layer["n_in"] * layer["n_out"]
            r.mult_limit = -(-n_all // rf) - int(layer.get("n_zeros") or 0) // rf
            r.extra_cycles = int(round(rules.rf_cycles_per_log2 * math.log2(rf)))
        r.const_macs.append(
            (lanes * _products(layer), bits(layer["weight_type"]), bits(layer["input_type"]))
        )
        n_out = layer.get("n_out") or layer["n_filt"]
        r.adds.append((lanes * n_out, bits(layer["result_type"])))
        r.mac_terms = layer.get("n_in") or layer["n_chan"] * layer.get("filt_width", 1)
        return r
    if kind == "relu":
        # on a stream, `stream_width` elements a cycle (one position's channels)
        width = int(layer.get("stream_width") or layer["n_in"])
        r = Region(layer["name"], trips=layer["n_in"] // width, pipelined=False)
        r.selects.append((width, bits(layer["input_type"])))
        return r
    if kind == "softmax":
        n, tsize = layer["n_in"], int(layer.get("table_size") or 1024)
        e_bits, i_bits = bits(layer["exp_table_type"]), bits(layer["inv_table_type"])
        r = Region(layer["name"], share_var=False, rom_ports=rules.softmax_rom_ports, mul_impl=impl)
        r.tables += [(n, tsize, e_bits - 1), (1, tsize, i_bits - 1)]
        r.var_mults.append((n, e_bits, i_bits))
        r.adds += [(n, bits(layer["input_type"]))] * (
            3 if layer.get("implementation") == "stable" else 1
        )
        return r
    if kind == "sigmoid":
        r = Region(layer["name"])
        r.tables.append((1, int(layer.get("table_size") or 1024), bits(layer["table_type"])))
        return r
    if kind == "global_pooling1d":
        width = int(layer.get("stream_width") or layer["n_in"] * layer["n_filt"])
        r = Region(layer["name"], trips=layer["n_in"] * layer["n_filt"] // width)
        r.adds.append((width, bits(layer["accum_type"])))
        return r
    if kind in WIRING:
        return None
    raise ValueError(
        f"calibration.yml: layer {layer.get('name')!r} has kind {kind!r}, which the estimate does"
        " not price (mark its design excluded, with excluded_because)"
    )


def design_estimate(design: dict, rules: Rules) -> dict:
    """Totals of a calibration design: resources summed, latency the sum of depths (trips).
    `rules` are the design's own (rules_for: its family and clock)."""
    total = {k: 0 for k in cost.RESOURCES}
    latency = 0
    impl = mul_impl(design)
    for layer in design["layers"]:
        r = layer_region(layer, rules, impl)
        if r is None:
            continue
        total = cost.add(total, cost.region_cost(r, rules))
        latency += cost.region_latency(r, rules)
    total["latency"] = latency
    return total


def _module_of(design, layer_name):
    """The outermost module row of a layer (the one with the most LUTs)."""
    rows = [m for m in design.get("modules", []) if m["layer"] == layer_name]
    return max(rows, key=lambda m: m["LUT"]) if rows else None


def used(designs: list[dict]) -> list[dict]:
    return [d for d in designs if d["role"] == "used"]


def _nonnegative_lstsq(a, y) -> tuple[float, float]:
    """Least squares of y on the two columns of `a` with both coefficients >= 0 (a LUT count
    neither starts below 0 nor falls with the operand widths): the unconstrained solution, or
    the best with one coefficient at 0."""
    import numpy as np

    coef = np.linalg.lstsq(a, y, rcond=None)[0]
    if (coef >= 0).all():
        return float(coef[0]), float(coef[1])
    best = None
    for keep in (0, 1):
        col = a[:, keep]
        c = max(float(col @ y / (col @ col)), 0.0)
        err = float(((y - c * col) ** 2).sum())
        if best is None or err < best[0]:
            best = (err, (c, 0.0) if keep == 0 else (0.0, c))
    return best[1]


def fit_structure(designs: list[dict], rules: Rules = cost.DEFAULT_RULES) -> Rules:
    """The per-product constants of Rules, on the per-layer modules of `designs` (reuse factor
    1, default directives: closed-form least squares; deterministic)."""
    import numpy as np

    narrow, wide, relu = [], [], []
    for d in designs:
        if mul_impl(d):
            continue
        for layer in d["layers"]:
            m = _module_of(d, layer["name"])
            if m is None or int(layer.get("reuse_factor") or 1) != 1:
                continue
            if layer["kind"] == "dense":
                wb, xb = bits(layer["weight_type"]), bits(layer["input_type"])
                n = _products(layer)
                cast = layer["n_out"] * bits(layer["result_type"]) * rules.add_lut_per_bit
                row = (n, n * wb * xb, m["LUT"] - cast, m["DSP"], n * cost.dsp_tiles(wb, xb))
                (narrow if wb <= rules.const_lut_max_bits else wide).append(row)
            elif layer["kind"] == "relu":
                relu.append((layer["n_in"] * bits(layer["input_type"]), m["LUT"]))
    new = rules
    if narrow:
        a = np.array([[n, nwx] for n, nwx, *_ in narrow], float)
        y = np.array([lut for _, _, lut, *_ in narrow], float)
        base, per_bit2 = _nonnegative_lstsq(a, y)
        new = replace(new, cmac_lut_base=round(float(base), 2))
        new = replace(new, cmac_lut_per_bit2=round(float(per_bit2), 4))
    if wide:
        new = replace(
            new,
            wide_const_dsp_share=round(sum(r[3] for r in wide) / sum(r[4] for r in wide), 4),
            wide_cmac_lut=round(sum(r[2] for r in wide) / sum(r[0] for r in wide), 2),
        )
    if relu:
        new = replace(
            new, select_lut_per_bit=round(sum(v for _, v in relu) / sum(b for b, _ in relu), 3)
        )
    return new


NEUTRAL = dict(
    ff_per_lut=1.0,
    lut_scale=1.0,
    dsp_scale=1.0,
    latency_scale=1.0,
    clock_ns=5.0,
    rf_cycles_per_log2=0.0,
)


def _weights(designs):
    """Each repository counts once: a design weighs 1 / (its repository's designs)."""
    per_repo = {}
    for d in designs:
        per_repo[d["repo"]] = per_repo.get(d["repo"], 0) + 1
    return [1.0 / per_repo[d["repo"]] for d in designs]


def _family_fit(rows, families):
    """Weighted least squares in log space: y = a_family + g * (7-series part), rows (family,
    series7, y, weight); ({family: a}, g)."""
    import numpy as np

    x = np.array(
        [[1.0 if f == fam else 0.0 for fam in families] + [float(s7)] for f, s7, _, _ in rows]
    )
    y = np.array([v for *_, v, _ in rows])
    w = np.sqrt(np.array([w for *_, w in rows]))
    coef = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)[0]
    return {fam: float(coef[i]) for i, fam in enumerate(families)}, float(coef[-1])


def series7(design: dict) -> bool:
    return cost.device_generation(design["part"]) == "7-series"


def _wmean(rows):
    """Weighted mean of (value, weight) rows."""
    return sum(v * w for v, w in rows) / sum(w for _, w in rows)


def fit(designs: list[dict], rules: Rules = cost.DEFAULT_RULES) -> dict:
    """The rules of every tool family (FAMILIES), fitted on the `used` designs of `designs`:
    the per-product constants on their per-layer modules (fit_structure), then per family,
    in log space with each repository weighted once, the LUT and DSP scales, FF per LUT and
    the pipeline depth against the clock (one clock exponent each over all families), the
    softmax table ports; over all families the cycles per doubling of the reuse factor and
    the DSP share under `config_op mul -impl dsp`. A family without designs takes its nearest
    family's figures. Deterministic."""
    fit_set = used(designs)
    base = fit_structure(fit_set, rules)
    neutral = replace(base, **NEUTRAL)
    fams = [f[0] for f in FAMILIES]
    w = dict(zip((d["name"] for d in fit_set), _weights(fit_set)))
    # at neutral rules, each design at its clock (the depth's clock term is a stated rule)
    est = {d["name"]: design_estimate(d, replace(neutral, clock_ns=d["clock_ns"])) for d in fit_set}
    fam_of = {d["name"]: family(d["tool"])[0] for d in fit_set}
    rf1 = [d for d in fit_set if max(int(lay.get("reuse_factor") or 1) for lay in d["layers"]) == 1]
    have = sorted({fam_of[d["name"]] for d in fit_set}, key=fams.index)

    def per_family(rows_of):
        out = {}
        for fam in have:
            rows = [r for r in rows_of(fam)]
            if rows:
                out[fam] = math.exp(_wmean(rows))
        return out

    def ratio_rows(key, pool, fam, skip=lambda d: False):
        return [
            (math.log(d["totals"][key] / est[d["name"]][key]), w[d["name"]])
            for d in pool
            if fam_of[d["name"]] == fam and d["totals"][key] and est[d["name"]][key] and not skip(d)
        ]

    lut = per_family(lambda fam: ratio_rows("LUT", fit_set, fam))
    dsp = per_family(lambda fam: ratio_rows("DSP", rf1, fam, skip=mul_impl))
    # FF per LUT and the depth per family, a 7-series factor for each over all families
    ff_rows = [
        (
            fam_of[d["name"]],
            series7(d),
            math.log(d["totals"]["FF"] / est[d["name"]]["FF"]),
            w[d["name"]],
        )
        for d in fit_set
        if d["totals"]["FF"] and est[d["name"]]["FF"]
    ]
    ff, ff_s7 = _family_fit(ff_rows, have)
    lat_rows = [
        (
            fam_of[d["name"]],
            series7(d),
            math.log(d["totals"]["latency_max"] / est[d["name"]]["latency"]),
            w[d["name"]],
        )
        for d in rf1
        if d["totals"]["latency_max"] and est[d["name"]]["latency"]
    ]
    lat, lat_s7 = _family_fit(lat_rows, have)

    # softmax ROM ports per family: the integer that best matches its BRAM (median |log|)
    def bram_error(fam, ports):
        errs = []
        for d in fit_set:
            if fam_of[d["name"]] != fam or not d["totals"]["BRAM_18K"]:
                continue
            e = design_estimate(d, replace(neutral, softmax_rom_ports=ports))["BRAM_18K"]
            errs.append(abs(math.log(max(e, 0.5) / d["totals"]["BRAM_18K"])))
        return statistics.median(errs) if errs else 0.0

    ports = {fam: min((2, 1), key=lambda p: bram_error(fam, p)) for fam in have}
    # -impl dsp: DSPs per narrow constant product at reuse 1, over those designs
    impl = [
        (
            d["totals"]["DSP"]
            / sum(
                _products(lay)
                for lay in d["layers"]
                if lay["kind"] == "dense" and bits(lay["weight_type"]) <= base.const_lut_max_bits
            ),
            w[d["name"]],
        )
        for d in rf1
        if mul_impl(d) == "dsp"
    ]
    impl_share = round(_wmean(impl), 4) if impl else 0.0
    out = {}
    for fam in fams:
        src = fam if fam in have else _nearest(fam, have)
        out[fam] = replace(
            base,
            lut_scale=round(lut.get(src, 1.0), 4),
            dsp_scale=round(dsp.get(src, 1.0), 4),
            ff_per_lut=round(math.exp(ff[src]), 4),
            latency_scale=round(math.exp(lat[src]), 4),
            ff_series7=round(math.exp(ff_s7), 4),
            latency_series7=round(math.exp(lat_s7), 4),
            softmax_rom_ports=ports[src],
            dsp_impl_share=impl_share,
        )
    # reuse factor: the cycles per doubling that best match the designs with rf > 1
    rfx = [d for d in fit_set if d not in rf1]

    def rf_error(c):
        errs = []
        for d in rfx:
            r = replace(design_rules(d, out), rf_cycles_per_log2=c)
            errs.append(
                abs(math.log(max(design_estimate(d, r)["latency"], 1) / d["totals"]["latency_max"]))
            )
        return statistics.median(errs) if errs else 0.0

    c = min((x / 2 for x in range(0, 21)), key=rf_error) if rfx else 0.0
    return {fam: replace(r, rf_cycles_per_log2=c) for fam, r in out.items()}


def _nearest(fam: str, have: list[str]) -> str:
    """The family nearest `fam` among `have`: the same tool first, then the closest years."""
    _, tool, first, _ = next(f for f in FAMILIES if f[0] == fam)
    cand = [f for f in FAMILIES if f[0] in have]
    return min(cand, key=lambda f: (f[1] != tool, abs(f[2] - first)))[0]


def rules_for(family_rules: dict, fam: str, clock_ns: float) -> Rules:
    """The rules of a family at a clock."""
    return replace(family_rules[fam], clock_ns=float(clock_ns))


def design_rules(design: dict, family_rules: dict) -> Rules:
    """The rules of a calibration design: its tool family, clock and part."""
    r = rules_for(family_rules, family(design["tool"])[0], design["clock_ns"])
    return replace(r, series7=series7(design))


def family(tool: str) -> tuple[str, str | None]:
    """The tool family of a report's tool string ("Vitis HLS 2024.1 (Build ...)") and, when the
    version lies outside every family, a note naming the nearest one used instead."""
    m = re.match(r"(Vivado HLS|Vitis HLS) (\d{4})", tool or "")
    if not m:
        raise ValueError(f"calibration.yml: cannot read the tool and version of {tool!r}")
    name, year = m.group(1), int(m.group(2))
    same = [f for f in FAMILIES if f[1] == name]
    for fam, _, first, last in same:
        if first <= year <= last:
            return fam, None
    fam = min(same, key=lambda f: min(abs(year - f[2]), abs(year - f[3])))[0]
    return fam, f"{tool.split(' (')[0]} is outside every family: counted in {fam}, the nearest"


def leave_one_repository_out(designs: list[dict]) -> list[dict]:
    """The holdout: each used design estimated by the rules fitted without its repository
    (so never on a design of its own repository), with the family rules of that fit. Rows:
    design, repo, family and, per compared figure, (estimate, report); plus `fits`, the rules
    of each refit, whose spread is the uncertainty of the fitted constants."""
    pool = used(designs)
    rows, fits = [], {}
    for repo in sorted({d["repo"] for d in pool}):
        rules = fit([d for d in pool if d["repo"] != repo])
        fits[repo] = rules
        for d in (d for d in pool if d["repo"] == repo):
            est = design_estimate(d, design_rules(d, rules))
            rows.append(
                {
                    "design": d["name"],
                    "repo": repo,
                    "family": family(d["tool"])[0],
                    "mul_impl": mul_impl(d),
                    "pairs": {
                        k: (est[k], d["totals"]["latency_max" if k == "latency" else k])
                        for k in COMPARED
                    },
                }
            )
    return rows, fits


def errors(rows: list[dict]) -> dict:
    """Per compared figure over holdout rows: the relative errors |estimate - report| / report,
    their median and worst, the bias (median of estimate / report), n. A report of 0 has no
    relative error: `zero_report_overestimated` counts those whose estimate is not 0 (an
    error the ratios cannot show)."""
    table = {}
    for key in COMPARED:
        pairs = [r["pairs"][key] for r in rows]
        counted = [(e, r) for e, r in pairs if r]
        errs = [abs(e - r) / r for e, r in counted]
        table[key] = {
            "n": len(counted),
            "median": round(statistics.median(errs), 3) if errs else None,
            "worst": round(max(errs), 3) if errs else None,
            "bias": round(statistics.median(e / r for e, r in counted), 3) if counted else None,
            "zero_report_overestimated": sum(1 for e, r in pairs if not r and e),
        }
    return table


def family_table(rows: list[dict]) -> dict:
    """`errors` per tool family (FAMILIES), and "all families": {family: {figure: {n, median,
    worst, bias, zero_report_overestimated}, "designs": n, "repos": n}}."""
    out = {}
    for fam, *_ in FAMILIES:
        members = [r for r in rows if r["family"] == fam]
        if members:
            out[fam] = dict(
                errors(members), designs=len(members), repos=len({r["repo"] for r in members})
            )
    out["all families"] = dict(
        errors(rows), designs=len(rows), repos=len({r["repo"] for r in rows})
    )
    return out


# ------------------------------------------------------------------------------ the band

MIN_FAMILY_DESIGNS = 5  # below this many holdout designs a family's band is the pooled one
BAND_COVERAGE = 0.9  # the band holds this share of the holdout designs' reports (central)
BAND_FLOOR = 20  # DSP or BRAM under this (estimate or report): an offset for the band, not a scale
COUNTS = ("DSP", "BRAM_18K")  # the figures whose designs count a few units


@functools.lru_cache(maxsize=1)
def holdout() -> tuple:
    """(holdout rows, the refits) of calibration.yml by leave_one_repository_out (cached)."""
    return leave_one_repository_out(load())


def band_stats(rows: list[dict]) -> dict:
    """Per figure, over holdout `rows`: n (designs), median and worst relative error |estimate -
    report| / report and bias (median estimate / report) over those with both above 0, and the
    band's terms, each the BAND_COVERAGE central interval (linear interpolation between
    designs): `factor_low/high` of report / estimate over the designs whose estimate and report
    are both at least BAND_FLOOR for DSP and BRAM (above 0 for the others: a scale),
    `offset_low/high` of report - estimate over the others (a count of a few DSPs or BRAMs is an
    offset, not a scale); None where no design gives one. `zero_estimate` counts designs
    estimated 0 where the report is not, `zero_report` those reported 0 where the estimate is
    not. Designs built with `config_op mul -impl` are
    left out of LUT and DSP (the directive decides where products go; qpart's designs use the
    default)."""
    import numpy as np

    def interval(values):
        if not values:
            return None, None
        return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))

    out = {}
    tail = 100 * (1 - BAND_COVERAGE) / 2
    for k in COMPARED:
        keep = [r for r in rows if not (k in ("LUT", "DSP") and r.get("mul_impl"))]
        pairs = [row["pairs"][k] for row in keep]
        floor = BAND_FLOOR if k in COUNTS else 1
        factors = [r / e for e, r in pairs if min(e, r) >= floor]
        offsets = [r - e for e, r in pairs if min(e, r) < floor]
        errs = [abs(e - r) / r for e, r in pairs if e and r]
        (f_low, f_high), (o_low, o_high) = interval(factors), interval(offsets)
        out[k] = {
            "n": len(pairs),
            "n_scale": len(factors),
            "median_err": round(statistics.median(errs), 3) if errs else None,
            "worst_err": round(max(errs), 3) if errs else None,
            "bias": round(statistics.median(e / r for e, r in pairs if e and r), 3)
            if errs
            else None,
            "factor_low": f_low,
            "factor_high": f_high,
            "offset_low": o_low,
            "offset_high": o_high,
            "zero_estimate": sum(1 for e, r in pairs if not e and r),
            "zero_report": sum(1 for e, r in pairs if e and not r),
        }
    return out


@functools.lru_cache(maxsize=1)
def bands() -> dict:
    """{family: {"designs": n, "figures": band_stats}} for every family with holdout designs,
    and "pooled" over all of them; computed from calibration.yml (cached per process)."""
    rows = holdout()[0]
    out = {"pooled": {"designs": len(rows), "figures": band_stats(rows)}}
    for fam, *_ in FAMILIES:
        members = [r for r in rows if r["family"] == fam]
        if members:
            out[fam] = {"designs": len(members), "figures": band_stats(members)}
    return out


def tool_family(backend: str, version=None) -> tuple[str, list[str]]:
    """The calibration family of a firmware config's tool (backend Vivado | Vitis, optional
    tool_version such as 2023.2) and notes: the family assumed without a version, or the
    nearest one for a version outside every family."""
    tool = {"Vivado": "Vivado HLS", "Vitis": "Vitis HLS"}.get(backend)
    if tool is None:
        raise ValueError(f"backend {backend!r} has no tool family (Vivado or Vitis)")
    if version is None:
        fam = [f for f in FAMILIES if f[1] == tool][-1][0]
        return fam, [f"no tool_version in the firmware config: {fam} assumed (the newest)"]
    fam, note = family(f"{tool} {version}")
    return fam, [note] if note else []


def band_for(backend: str, version=None) -> dict:
    """The error band of an estimate made for this tool: per figure, the family's holdout
    figures, or the pooled ones (all families) where the family has fewer than
    MIN_FAMILY_DESIGNS holdout designs for that figure; `source` says which."""
    fam, notes = tool_family(backend, version)
    table = bands()
    own = table.get(fam, {"designs": 0, "figures": {}})
    pooled = table["pooled"]
    figures, borrowed = {}, []
    for k in COMPARED:
        mine = own["figures"].get(k)
        if mine and mine["n"] >= MIN_FAMILY_DESIGNS:
            figures[k] = dict(mine, source=fam)
        else:
            figures[k] = dict(pooled["figures"][k], source="pooled")
            borrowed.append(f"{k} ({mine['n'] if mine else 0})")
    if len(borrowed) == len(COMPARED):
        source = (
            f"holdout, all families pooled ({pooled['designs']} designs): {fam} has "
            f"{own['designs']} (< {MIN_FAMILY_DESIGNS})"
        )
    else:
        source = f"holdout {fam} ({own['designs']} designs)"
        if borrowed:
            source += (
                f"; all families pooled ({pooled['designs']}) for {', '.join(borrowed)}: "
                f"< {MIN_FAMILY_DESIGNS} in {fam}"
            )
    return {
        "family": fam,
        "source": source,
        "pooled": bool(borrowed),
        "notes": notes,
        "figures": figures,
    }


def span(value: int, stats: dict | None) -> dict:
    """An estimated figure with its band: the wider of value x factor_low..factor_high and value
    + offset_low..offset_high (band_stats), and at least the value itself (a verdict at the
    upper end is never below the point estimate), low at least 0; a figure without holdout data
    has no width."""
    if not stats or not stats.get("n"):
        return {"low": value, "high": value, "median_err": None, "worst_err": None, "n": 0}
    lows, highs = [], []
    if stats["factor_high"] is not None:
        lows.append(math.floor(value * stats["factor_low"]))
        highs.append(math.ceil(value * stats["factor_high"]))
    if stats["offset_high"] is not None:
        lows.append(value + math.floor(stats["offset_low"]))
        highs.append(value + math.ceil(stats["offset_high"]))
    return {  # the band holds the estimate itself
        "low": max(0, min(lows + [value])),
        "high": max(highs + [value]),
        "median_err": stats["median_err"],
        "worst_err": stats["worst_err"],
        "bias": stats["bias"],
        "n": stats["n"],
        "from": stats.get("source"),
    }


def constants_spread(fits: dict) -> dict:
    """Per fitted constant of each family: (min, max) over the leave-one-repository-out
    refits, the uncertainty of the shipped value."""
    out = {}
    for fam in (f[0] for f in FAMILIES):
        rows = [r[fam].as_dict() for r in fits.values()]
        out[fam] = {
            k: (min(r[k] for r in rows), max(r[k] for r in rows))
            for k in rows[0]
            if isinstance(rows[0][k], float) and len({r[k] for r in rows}) > 1
        }
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DATA))
    args = ap.parse_args(argv)
    designs = load(args.data)
    rows, fits = leave_one_repository_out(designs)
    out = {
        "fitted": {fam: r.as_dict() for fam, r in fit(designs).items()},
        "shipped": {fam: r.as_dict() for fam, r in cost.FAMILY_RULES.items()},
        "spread_over_refits": constants_spread(fits),
        "holdout_by_family": family_table(rows),
        "holdout_designs": rows,
    }
    print(json.dumps(out, indent=1))
    for fam, table in out["holdout_by_family"].items():
        print(f"{fam} ({table['designs']} designs, {table['repos']} repositories)", file=sys.stderr)
        for key in COMPARED:
            row = table[key]
            print(
                f"  {key:<9} median {row['median']}  worst {row['worst']}  bias {row['bias']}",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
