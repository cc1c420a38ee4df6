"""Calibration of the estimate's mapping rules (hls/cost.py) on real HLS reports.

    python -m hls.calibration       -> the fitted constants and the error table (JSON)

hls/calibration.yml holds public hls4ml designs with their C-synthesis reports (figures copied
from the reports, architectures from the same repositories' generated projects). Their hls4ml
layers (dense, Conv1D, ReLU, softmax, pooling) are priced with the same `Region` / `Rules` as
qpart's layers: constant x variable multiply-accumulates by operand width, tables by ROM
copies, pointwise selects. The constants are fitted on the `fit` designs (per-layer modules),
the error is measured on the `holdout` designs (whole-design totals), per resource: median and
worst |estimate - report| / report. What no public report can validate: qpart's attention
(variable x variable products at scale, the masked table softmax, its row multiplexers) and the
effect of ALLOCATION on variable products; docs/hls.md says so.

Pure Python + numpy + PyYAML.
"""

from __future__ import annotations

import argparse
import json
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


def layer_region(layer: dict) -> Region | None:
    """An hls4ml layer as a Region (what its hls4ml C++ unrolls), or None when it is wiring."""
    kind, rf = layer["kind"], int(layer.get("reuse_factor") or 1)
    if kind in ("dense", "conv1d"):
        # Latency strategy: the constant products are not shared whatever the reuse factor
        # (measured: tutorial_model1_rf2, tutorial_model3_pynq_rf64)
        lanes, trips = 1, 1
        if kind == "conv1d":
            if layer.get("implementation") == "pointwise":
                lanes = layer["out_width"]
            else:  # line buffer on a stream: one kernel, one output position per iteration
                trips = layer["out_width"]
        r = Region(layer["name"], trips=trips, ii=rf if kind == "dense" else 1, share_var=False)
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
        r = Region(layer["name"], share_var=False)
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
    """Totals of a calibration design: resources summed, latency the sum of depths (trips)."""
    total = {k: 0 for k in cost.RESOURCES}
    latency = 0
    for layer in design["layers"]:
        r = layer_region(layer)
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


def fit(designs: list[dict], rules: Rules = cost.DEFAULT_RULES) -> Rules:
    """Fit the constants marked 'fitted' in Rules on the per-layer modules and totals of the
    `fit` designs (closed-form least squares; deterministic)."""
    import numpy as np

    fit_set = [d for d in designs if d["role"] == "fit"]
    narrow, wide, relu = [], [], []
    for d in fit_set:
        for layer in d["layers"]:
            m = _module_of(d, layer["name"])
            if m is None:
                continue
            if layer["kind"] == "dense":
                wb, xb = bits(layer["weight_type"]), bits(layer["input_type"])
                n = _products(layer)
                cast = layer["n_out"] * bits(layer["result_type"]) * rules.add_lut_per_bit
                row = (n, n * wb * xb, m["LUT"] - cast, m["DSP"], n * cost.dsp_tiles(wb, xb))
                (narrow if wb <= rules.const_lut_max_bits else wide).append(row)
            elif layer["kind"] == "relu":
                relu.append((layer["n_in"] * bits(layer["input_type"]), m["LUT"]))
    a = np.array([[n, nwx] for n, nwx, *_ in narrow], float)
    y = np.array([lut for _, _, lut, *_ in narrow], float)
    base, per_bit2 = np.linalg.lstsq(a, y, rcond=None)[0]
    dsp_share = sum(r[3] for r in wide) / sum(r[4] for r in wide)
    wide_lut = sum(r[2] for r in wide) / sum(r[0] for r in wide)
    select = sum(lut for _, lut in relu) / sum(b for b, _ in relu)
    new = replace(
        rules,
        cmac_lut_base=round(float(base), 2),
        cmac_lut_per_bit2=round(float(per_bit2), 4),
        wide_const_dsp_share=round(dsp_share, 4),
        wide_cmac_lut=round(wide_lut, 2),
        select_lut_per_bit=round(select, 3),
    )
    # FF: pipeline registers per LUT, over the fit designs' totals
    luts = sum(design_estimate(d, replace(new, ff_per_lut=1.0))["FF"] for d in fit_set)
    ffs = sum(d["totals"]["FF"] for d in fit_set)
    new = replace(new, ff_per_lut=round(ffs / luts, 4))

    # depth: adder-tree levels per cycle, the integer that best matches the fit latencies
    def latency_error(levels):
        trial = replace(new, adder_levels_per_cycle=levels)
        return sum(
            abs(design_estimate(d, trial)["latency"] - d["totals"]["latency_max"]) for d in fit_set
        )

    return replace(new, adder_levels_per_cycle=min(range(2, 9), key=latency_error))


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


def errors(designs: list[dict], rules: Rules, role="holdout") -> dict:
    """Per compared figure: the relative errors |estimate - report| / report of the designs
    with `role` (a role name, or a predicate on the design), their median and worst, the bias
    (median of estimate / report), and each design's pair. A report of 0 has no relative error:
    its design is listed, not counted in median/worst/bias, and `zero_report_overestimated`
    counts those whose estimate is not 0 (an error the ratios cannot show)."""
    keep = role if callable(role) else (lambda d: d["role"] == role)
    table = {}
    for key in COMPARED:
        rows, zero_over = [], 0
        for d in designs:
            if not keep(d):
                continue
            est = design_estimate(d, rules)[key]
            rep = d["totals"]["latency_max" if key == "latency" else key]
            row = {"design": d["name"], "estimate": est, "report": rep, "error": None}
            if rep:
                row["error"] = abs(est - rep) / rep
            elif est:
                zero_over += 1
            rows.append(row)
        counted = [r for r in rows if r["error"] is not None]
        errs = [r["error"] for r in counted]
        table[key] = {
            "median": round(statistics.median(errs), 3) if errs else None,
            "worst": round(max(errs), 3) if errs else None,
            "bias": (
                round(statistics.median(r["estimate"] / r["report"] for r in counted), 3)
                if counted
                else None
            ),
            "n": len(counted),
            "zero_report_overestimated": zero_over,
            "designs": rows,
        }
    return table


def family_table(designs: list[dict], rules: Rules, role="holdout") -> dict:
    """`errors` per tool family (FAMILIES) of the designs with `role` (a name or a predicate):
    {family: {figure: {n, median, worst, bias, zero_report_overestimated}}}, plus `designs`
    (their names) and `notes` (tool versions counted in the nearest family). Families without
    such designs are absent."""
    keep = role if callable(role) else (lambda d: d["role"] == role)
    out = {}
    for fam, *_ in FAMILIES:
        members = [d for d in designs if keep(d) and family(d["tool"])[0] == fam]
        if not members:
            continue
        table = errors(members, rules, lambda d: True)
        out[fam] = {k: {s: v for s, v in row.items() if s != "designs"} for k, row in table.items()}
        out[fam]["designs"] = [d["name"] for d in members]
        out[fam]["notes"] = sorted({n for d in members if (n := family(d["tool"])[1])})
    return out


def only_directives(design: dict) -> bool:
    """An excluded design whose one reason is its non-default tool directives (that reason
    comes first and alone): everything else in it is priced, so its error shows what the
    directives do. Not a holdout figure."""
    why = design.get("excluded_because") or ""
    return (
        design["role"] == "excluded"
        and why.startswith("non-default tool directives (")
        and why.endswith("): not modelled")
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DATA))
    args = ap.parse_args(argv)
    designs = load(args.data)
    rules = fit(designs)
    out = {
        "fitted": rules.as_dict(),
        "shipped": cost.DEFAULT_RULES.as_dict(),
        "holdout": errors(designs, cost.DEFAULT_RULES),
        "fit": errors(designs, cost.DEFAULT_RULES, "fit"),
        "holdout_by_family": family_table(designs, cost.DEFAULT_RULES),
        "directives_by_family": family_table(designs, cost.DEFAULT_RULES, only_directives),
    }
    print(json.dumps(out, indent=1))
    for key, row in out["holdout"].items():
        print(f"{key:<9} median {row['median']}  worst {row['worst']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
