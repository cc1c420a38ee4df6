"""The designs at a glance, as a trigger engineer reads them: every design's latency against its
LUT and DSP share of the part, from each source that estimated or measured it (the estimate,
with its error band where estimate.json has one; an RTL route's report; the HLS tool's
synthesis; Vivado's logic synthesis), each checked against the design's budget, with the
verdict and its labelled reasons. Only figures the reports hold: a source without a latency
is not placed on a latency axis."""

from __future__ import annotations

from hls.common import RESOURCE_LABELS, RESOURCES
from hls.report.points import accuracy_of
from infra.checks import is_number

KINDS = ("estimate", "rtl", "hls", "vivado")  # the order of a design's rows
KIND_WORDS = {
    "estimate": "estimate (pre-synthesis)",
    "rtl": "RTL route",
    "hls": "HLS synthesis",
    "vivado": "Vivado logic synthesis",
}


def _pct(v) -> str:
    return f"{v:.1f}%" if v >= 1 or v == 0 else f"{v:.2g}%"


def band_span(band, resource):
    """(low, high) counts of a resource from an estimate's error band, or None. Tolerates the
    band's shapes: {resource: {low, high}} or {resource: [low, high]}."""
    b = band.get(resource) if isinstance(band, dict) else None
    if isinstance(b, dict):
        lo, hi = b.get("low"), b.get("high")
    elif isinstance(b, (list, tuple)) and len(b) == 2:
        lo, hi = b
    else:
        return None
    return (lo, hi) if is_number(lo) and is_number(hi) else None


def band_pct(band, resource, available):
    """(low %, high %) of a resource from an estimate's error band (band_span), or None."""
    span = band_span(band, resource)
    if span is None or not available:
        return None
    return 100 * span[0] / available, 100 * span[1] / available


def budget_words(budget: dict | None, part: str | None) -> str:
    """'every resource ≤ 80% of xcvu13p-flga2577-2-e, II ≤ 150 ns'."""
    if not budget or budget.get("resources") is None:
        return "no budget known (firmware config not found)"
    words = [f"every resource ≤ {budget['resources']:.0%} of {part or 'the part'}"]
    if budget.get("latency_ns") is not None:
        words.append(f"latency ≤ {budget['latency_ns']:,.0f} ns")
    if budget.get("ii_ns") is not None:
        words.append(f"II ≤ {budget['ii_ns']:,.0f} ns")
    return ", ".join(words)


def _timing_reasons(budget, latency_ns, ii_ns) -> list[tuple[str, str]]:
    out = []
    if budget and budget.get("latency_ns") is not None and is_number(latency_ns):
        if latency_ns > budget["latency_ns"]:
            out.append(("latency", f"{latency_ns:,.0f} ns > {budget['latency_ns']:,.0f} ns"))
    if budget and budget.get("ii_ns") is not None and is_number(ii_ns):
        if ii_ns > budget["ii_ns"]:
            out.append(("II", f"{ii_ns:,.0f} ns > {budget['ii_ns']:,.0f} ns"))
    return out


def estimate_verdict(est: dict, budget: dict | None) -> dict:
    """The estimate's fit (hls.estimate) in words: fits or not, the budget it was checked
    against, and each reason under its label (over the budget, a layer over one SLR, a region
    too large to unroll, parallel: auto's error, latency or II over their budgets)."""
    fit, lat = est.get("fit") or {}, est.get("latency") or {}
    frac = fit.get("budget_fraction", (budget or {}).get("resources"))
    budget = dict(budget or {}, resources=frac)
    per = fit.get("resources") or {}
    reasons = []
    over = fit.get("over_budget") or []
    if over:
        reasons.append(
            (
                f"over the {frac:.0%} budget" if is_number(frac) else "over the budget",
                ", ".join(
                    f"{RESOURCE_LABELS.get(r, r)} {_share(per[r])} of the part"
                    if is_number((per.get(r) or {}).get("fraction"))
                    else RESOURCE_LABELS.get(r, r)
                    for r in over
                ),
            )
        )
    slr = fit.get("over_slr") or []
    if slr:
        reasons.append(
            (
                "a layer over one SLR",
                ", ".join(
                    f"{RESOURCE_LABELS.get(r, r)} "
                    f"{_pct(100 * per[r]['largest_layer_slr_fraction'])} of an SLR"
                    if is_number((per.get(r) or {}).get("largest_layer_slr_fraction"))
                    else RESOURCE_LABELS.get(r, r)
                    for r in slr
                ),
            )
        )
    if fit.get("regions_ok") is False:
        r = est.get("largest_region") or {}
        reasons.append(
            (
                "region too large",
                f"{r.get('layer')} unrolls {r.get('unrolled_mults', 0):,} multiplications in "
                f"one region (limit {r.get('limit', 0):,})",
            )
        )
    if fit.get("auto_parallel_error"):
        reasons.append(("parallel: auto", f"{fit['auto_parallel_error']} (shown: the smallest)"))
    reasons += _timing_reasons(budget, lat.get("worst_ns"), lat.get("interval_ns"))
    ok = bool(fit.get("fits")) and not reasons
    band = est.get("band")  # the error band (hls/estimate.py): the fit is taken at its upper end
    banded = isinstance(band, dict)
    return {
        "ok": ok,
        "head": ("fits" if ok else "does not fit") + (" at the band's upper end" if banded else ""),
        "band": band.get("source") if banded else None,
        "budget": budget_words(budget, est.get("part")),
        "reasons": reasons,
    }


def _share(r: dict) -> str:
    """A resource's share of the part: the estimate's, and its band's upper end where known."""
    text = _pct(100 * r["fraction"])
    high = r.get("fraction_high")
    return text + (
        f" (up to {_pct(100 * high)})" if is_number(high) and high != r["fraction"] else ""
    )


def measured_verdict(util: dict, budget: dict | None, part, latency_ns, ii_ns) -> dict:
    """A report's utilisation and latency against the design's budget."""
    if not budget or budget.get("resources") is None:
        return {
            "ok": None,
            "head": "not checked",
            "budget": budget_words(budget, part),
            "reasons": [],
        }
    limit = 100 * budget["resources"]
    over = [
        f"{RESOURCE_LABELS[r]} {_pct(util[r]['pct'])} of the part"
        for r in RESOURCES
        if r in util and is_number(util[r].get("pct")) and util[r]["pct"] > limit
    ]
    reasons = [(f"over the {budget['resources']:.0%} budget", ", ".join(over))] if over else []
    reasons += _timing_reasons(budget, latency_ns, ii_ns)
    return {
        "ok": not reasons,
        "head": "within the budget" if not reasons else "over the budget",
        "budget": budget_words(budget, part),
        "reasons": reasons,
    }


def _ns(lat: dict, key_ns, key_cycles, clock):
    if is_number(lat.get(key_ns)):
        return lat[key_ns]
    if is_number(lat.get(key_cycles)) and is_number(clock):
        return lat[key_cycles] * clock
    return None


def design_accuracy(d: dict):
    """(accuracy, what measured it) of a design on its held-out jets: the simulation's own
    (C simulation; Verilator on the RTL route), else the Keras model's on the same jets."""
    acc, kind = accuracy_of((d.get("csim") or {}).get("predict") or {})
    return acc, ("Verilator" if kind == "C-sim" and d.get("route") == "rtl" else kind)


def design_rows(d: dict) -> list[dict]:
    """One row per source of a design: latency (ns, cycles), II, LUT and DSP share of the part,
    the estimate's band (LUT, DSP in % of the part) and the verdict."""
    from hls.report.discover import utilization

    rows = []
    budget, clock, part = d.get("budget"), d.get("clock_ns"), d.get("part")
    accuracy, accuracy_kind = design_accuracy(d)

    def row(kind, label, util, lat, verdict, band=None):
        lat = lat or {}
        rows.append(
            {
                "design": d["name"],
                "route": d.get("route", "hls"),
                "accuracy": accuracy,
                "accuracy_kind": accuracy_kind,
                "kind": kind,
                "source": label,
                "latency_ns": _ns(lat, "worst_ns", "worst_cycles", clock),
                "latency_cycles": lat.get("worst_cycles"),
                "ii_cycles": lat.get("interval_max"),
                "lut_pct": (util.get("LUT") or {}).get("pct"),
                "dsp_pct": (util.get("DSP") or {}).get("pct"),
                "band": band,
                "verdict": verdict,
            }
        )

    est = d.get("estimate")
    if est:
        util = d["estimate_util"]
        band = {
            r: b
            for r in ("LUT", "DSP")
            if (b := band_pct(est.get("band"), r, (util.get(r) or {}).get("available")))
        }
        source = "estimate" + (
            f" (band: {est['band']['source']})"
            if isinstance(est.get("band"), dict) and est["band"].get("source")
            else ""
        )
        row("estimate", source, util, est["latency"], estimate_verdict(est, budget), band or None)
    rtl = d.get("rtl")
    if rtl:
        util = utilization(rtl.get("resources") or {}, d.get("capacity"))
        lat = rtl.get("latency") or {}
        ns = _ns(lat, "worst_ns", "worst_cycles", clock)
        ii = _ns(lat, "interval_ns", "interval_max", clock)
        row("rtl", str(rtl["source"]), util, lat, measured_verdict(util, budget, part, ns, ii))
    syn = d.get("synth")
    if syn:
        util, lat = d["utilization"], syn.get("latency") or {}
        ns = _ns(lat, "worst_ns", "worst_cycles", clock)
        ii = _ns(lat, "interval_ns", "interval_max", clock)
        label = " ".join(str(x) for x in (syn.get("tool") or "HLS", syn.get("tool_version")) if x)
        row("hls", label, util, lat, measured_verdict(util, budget, part, ns, ii))
        vs = syn.get("vivado_synth")
        if vs:
            vutil = utilization(vs, d.get("capacity"))
            label = f"Vivado {vs.get('tool_version') or ''} logic synthesis".replace("  ", " ")
            # logic synthesis keeps the HLS schedule: its latency is the HLS report's
            row("vivado", label, vutil, lat, measured_verdict(vutil, budget, part, ns, ii))
    return rows


def overview(designs: list[dict]) -> dict:
    """Every design's rows, and the budgets (resource share, latency) to draw."""
    rows = [r for d in designs for r in design_rows(d)]
    budgets = sorted(
        {
            (d["budget"]["resources"], d["budget"].get("latency_ns"))
            for d in designs
            if d.get("budget") and d["budget"].get("resources") is not None
        },
        key=lambda b: (b[0], b[1] or 0),
    )
    return {"rows": rows, "budgets": [{"resources": r, "latency_ns": ns} for r, ns in budgets]}
