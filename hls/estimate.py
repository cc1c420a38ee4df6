"""make estimate: resources, II and latency of a qpart design before any synthesis.

    python -m hls.estimate --model part_l1 --fw vu13p     -> build/hls/<model>-<fw>/estimate.json

Each layer is counted by its hardware module (hls/layers: the regions its C++ template takes
its multiplier limits and ROM copies from) from the Keras layer (its shapes, its types, and
with a trained model its quantized weights: zero weights cost nothing) and the graph analysis
(hls/graph.py), folded as the firmware config says (hls/folding.py): per region (one
pipelined row loop) the constant x variable and variable x variable products with their operand
widths, adders, table reads and ROM copies, row multiplexers; hls/cost.py maps them to LUT, FF,
DSP, BRAM_18K, URAM and cycles. The top function is a DATAFLOW region of the layers: the
model's interval is the slowest layer's latency, its latency their sum. The result has
synth_report.json's resource and latency keys with "source": "estimate", a fit verdict per
resource against the part (whole device and one SLR) and the largest region (the HLS
compile-size risk).

Without a trained model (`--untrained`, or none in build/models/) the model is built from the
config and every weight counts as non-zero.
"""

from __future__ import annotations

import math

from hls import cost, folding, graph
from hls import layers as hardware
from hls.cost import RESOURCES
from hls.layers.clone import hardware as clone_hw
from infra.checks import SchemaError, need

UNROLL_LIMIT = 4096  # hls4ml's guidance: unrolled multiplications per region an HLS tool compiles
DEFAULT_BUDGET = 0.8
SCHEMA_VERSION = 1


def _clone_estimate(clone, rules) -> dict:
    """A QpartClone (inserted by hls4ml, no Keras layer): `copies` registers of the array."""
    entry = _layer_estimate(
        _Named(f"clone_{clone.name}", "QpartClone"),
        folding.Folding(1, 1, 1),
        clone_hw.regions(clone.n_clones),
        clone.copies * clone.bits,
        rules,
    )
    entry["latency_cycles"] = entry["interval_cycles"] = clone.n_clones  # a register each
    return entry


def layer_estimates(model, fw, trained, rules=cost.DEFAULT_RULES) -> list[dict]:
    """Per-layer estimates in graph order, each clone right after the array it copies. Each
    layer's regions come from its hardware module (hls/layers); a class without one is an
    error, never free."""
    ctx = hardware.Context(graph.analyse(model), fw, trained)
    clones = {c.name: _clone_estimate(c, rules) for c in ctx.graph.clones}
    out = [clones.pop(name) for name in model.input_names if name in clones]
    try:
        for layer, got in _hardware(model, ctx):
            if got is not None:  # else wiring (InputLayer, Flatten, Reshape) or a folded cast
                fold, regions, stored_bits = got
                out.append(_layer_estimate(layer, fold, regions, stored_bits, rules))
            if layer.name in clones:
                out.append(clones.pop(layer.name))
    except hardware.ModelWideFoldingError as err:
        raise hardware.ModelWideFoldingError(f"{err}; {_model_wide_hint(model, fw)}") from None
    return out


def _hardware(model, ctx):
    """(layer, its hardware module's estimate or None) in graph order."""
    for layer in model.layers:
        hw = hardware.module_for(type(layer).__name__, layer.name)
        yield layer, None if hw is None else hw.estimate(layer, ctx)


def _model_wide_hint(model, fw) -> str:
    """What a model-wide `parallel` can be: the common divisors of the rows of every layer it
    applies to (those without their own `parallel`)."""
    ctx = hardware.Context(graph.analyse(model), dict(fw, parallel=1), False)
    for _ in _hardware(model, ctx):
        pass
    rows = [r for name, r in ctx.rows.items() if "parallel" not in fw["layers"].get(name, {})]
    common = [d for d in folding.divisors(math.gcd(*rows)) if d > 1]
    ways = "set parallel per layer (layers: <name>: {parallel: N}) or use parallel: auto"
    if common:
        return f"model-wide values that divide every layer's rows: {common}, or {ways}"
    return f"no model-wide value above 1 divides every layer's rows ({sorted(set(rows))}): {ways}"


class _Named:
    """A layer that hls4ml inserts (no Keras layer): its name and class for the estimate."""

    def __init__(self, name, cls):
        self.name, self.cls = name, cls


def _layer_estimate(layer, fold, regions, stored_bits, rules) -> dict:
    res = {k: 0 for k in RESOURCES}
    rows = []
    for r in regions:
        c = cost.region_cost(r, rules)
        res = cost.add(res, c)
        rows.append(
            {
                "name": r.name,
                "trips": r.trips,
                "ii": r.ii,
                "latency_cycles": cost.region_latency(r, rules),
                "unrolled_mults": r.unrolled_mults,
                "const_mults": [list(x) for x in r.const_macs],
                "var_mults": [list(x) for x in r.var_mults],
                "table_reads": r.table_reads,
                "rom_copies": sum(r.rom_copies()),
                "rom_bits": sum(c * d * w for c, (_, d, w) in zip(r.rom_copies(), r.tables)),
                "adders": sum(n for n, _ in r.adds),
                "resources": c,
            }
        )
    # the layer's output array, complete-partitioned registers, ping-pong between processes
    res["FF"] += 2 * stored_bits
    latency = sum(r["latency_cycles"] for r in rows)
    cls = layer.cls if isinstance(layer, _Named) else type(layer).__name__
    return {
        "name": layer.name,
        "class": cls,
        "rows": fold.rows,
        "parallel": fold.parallel,
        "reuse_factor": fold.reuse_factor,
        "latency_cycles": latency,
        "interval_cycles": latency,
        "resources": res,
        "stored_bits": stored_bits,
        "largest_region_mults": max((r["unrolled_mults"] for r in rows), default=0),
        "regions": rows,
    }


def part_capacity(fw) -> tuple[dict, int]:
    """The part's resources and its number of SLRs (hls.firmware.PARTS or part_resources)."""
    res = fw["resources"]
    return {k: int(res[k]) for k in RESOURCES}, int(fw.get("slrs") or res.get("SLR", 1))


def port_bits(model, types) -> dict:
    """Top-level port bits per jet: hls4ml reshapes every top-level array into one port."""
    bits = {
        inp.name.split(":")[0]: int(math.prod(inp.shape[1:]))
        * graph.width(types[inp.name.split(":")[0]])
        for inp in model.inputs
    }
    out = model.layers[-1]
    return {
        "inputs": bits,
        "output": int(math.prod(out.output_shape[1:])) * graph.width(types[out.name]),
        "total_inputs": sum(bits.values()),
    }


def estimate(
    model, fw: dict, trained: bool, rules=cost.DEFAULT_RULES, budget: float | None = None
) -> dict:
    """The estimate of `model` (qpart Keras model, the firmware's arithmetic) under firmware
    config `fw` (hls.firmware.load_firmware)."""
    layers = layer_estimates(model, fw, trained, rules)
    total = {k: 0 for k in RESOURCES}
    for layer in layers:
        total = cost.add(total, layer["resources"])
    cap, slrs = part_capacity(fw)
    budget = fw.get("budget", {}).get("resources", DEFAULT_BUDGET) if budget is None else budget
    clock = float(fw["clock_period"])
    latency = sum(layer["latency_cycles"] for layer in layers)
    interval = max(layer["interval_cycles"] for layer in layers)
    resources, fit = {}, {}
    for k in RESOURCES:
        avail = cap[k]
        slr = avail // slrs if avail else 0
        largest = max(layer["resources"][k] for layer in layers)
        resources[k] = {
            "used": total[k],
            "available": avail,
            "utilization_pct": round(100 * total[k] / avail, 2) if avail else None,
            "available_slr": slr,
            "utilization_slr_pct": round(100 * total[k] / slr, 2) if slr else None,
        }
        fit[k] = {
            "fraction": round(total[k] / avail, 4) if avail else None,
            "largest_layer_slr_fraction": round(largest / slr, 4) if slr else None,
            "fits": (total[k] <= budget * avail) if avail else total[k] == 0,
            "fits_slr": (largest <= slr) if slr else largest == 0,
        }
    worst = max(layers, key=lambda x: x["largest_region_mults"])
    regions_ok = worst["largest_region_mults"] <= UNROLL_LIMIT
    over = [k for k in RESOURCES if not fit[k]["fits"]]
    over_slr = [k for k in RESOURCES if not fit[k]["fits_slr"]]
    binding = max(RESOURCES, key=lambda k: fit[k]["fraction"] or 0)
    return {
        "schema_version": SCHEMA_VERSION,
        "source": "estimate",
        "model": model.name,
        "firmware": fw.get("name"),
        "backend": fw["backend"],
        "part": fw["part"],
        "slrs": slrs,
        "weights": "trained" if trained else "untrained (every weight counted non-zero)",
        "clock": {"target_ns": clock, "estimated_ns": None, "uncertainty_ns": None},
        "latency": {
            "best_cycles": latency,
            "worst_cycles": latency,
            "best_ns": round(latency * clock, 6),
            "worst_ns": round(latency * clock, 6),
            "interval_min": interval,
            "interval_max": interval,
            "interval_ns": round(interval * clock, 6),
            "pipeline_type": "dataflow",
        },
        "resources": resources,
        "fit": {
            "budget_fraction": budget,
            "resources": fit,
            "fits_device": not over,
            "fits_slr": not over_slr,
            "regions_ok": regions_ok,
            "fits": not over and not over_slr and regions_ok,
            "over_budget": over,
            "over_slr": over_slr,
            "binding": binding,
        },
        "largest_region": {
            "layer": worst["name"],
            "unrolled_mults": worst["largest_region_mults"],
            "limit": UNROLL_LIMIT,
        },
        "ports_bits_per_jet": port_bits(model, graph.analyse(model).types),
        "layers": layers,
        "rules": rules.as_dict(),
    }


def check_estimate(est, path) -> dict:
    """Validate an estimate.json (the dashboard reads it): the keys the dashboard uses, and
    "source": "estimate" so that it is never taken for a synthesis report."""
    if need(est, "source", path, kind=str) != "estimate":
        raise SchemaError(f"{path}: source must be 'estimate', got {est.get('source')!r}")
    res = need(est, "resources", path, kind=dict)
    for k in RESOURCES:
        entry = need(res, k, path, "resources.", dict)
        for key in ("used", "available"):
            need(entry, key, path, f"resources.{k}.", int)
    lat = need(est, "latency", path, kind=dict)
    for key in ("worst_cycles", "interval_max"):
        need(lat, key, path, "latency.", int)
    for key in ("worst_ns", "interval_ns"):
        need(lat, key, path, "latency.", (int, float))
    need(need(est, "fit", path, kind=dict), "fits", path, "fit.", bool)
    need(est, "layers", path, kind=list)
    return est


def summary(est: dict) -> dict:
    """The figures of an estimate that a scan point or a table keeps (no per-layer detail)."""
    return {
        k: est[k]
        for k in (
            "source",
            "part",
            "weights",
            "clock",
            "latency",
            "resources",
            "fit",
            "largest_region",
        )
    }


def verdict_line(est: dict) -> str:
    """One line: fits or not, and why."""
    f = est["fit"]
    pct = ", ".join(
        f"{k} {v['utilization_pct']:.0f}%"
        for k, v in est["resources"].items()
        if v["utilization_pct"] is not None
    )
    lat = est["latency"]
    head = "fits" if f["fits"] else "DOES NOT FIT"
    why = []
    if f["over_budget"]:
        why.append(f"over {f['budget_fraction']:.0%} of the part: {', '.join(f['over_budget'])}")
    if f["over_slr"]:
        why.append(f"a layer exceeds one SLR: {', '.join(f['over_slr'])}")
    if f.get("auto_parallel_error"):
        why.append(f"parallel: auto: {f['auto_parallel_error']} (shown: one row per iteration)")
    if not f["regions_ok"]:
        r = est["largest_region"]
        why.append(
            f"{r['layer']} unrolls {r['unrolled_mults']} multiplications in one region "
            f"(> {r['limit']})"
        )
    return (
        f"estimate {head} {est['part']}: {pct}; II {lat['interval_max']} cycles "
        f"({lat['interval_ns'] / 1000:.2f} us), latency {lat['worst_cycles']} cycles "
        f"({lat['worst_ns'] / 1000:.2f} us)" + (f" -- {'; '.join(why)}" if why else "")
    )
