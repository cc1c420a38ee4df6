"""Accuracy against resources: every design and scan point with an accuracy, placed on the
synthesised utilisation when a report exists, else on the estimate's LUT / DSP (labelled so),
else on BOPs; one panel per axis, each with its Pareto front."""

from __future__ import annotations

import math

from hls.report.discover import binding


def pareto_front(points: list[dict], xkey: str) -> list[dict]:
    """Points not dominated by another: no other has lower-or-equal x and higher accuracy
    (lower x is better, higher accuracy is better)."""
    ok = sorted(
        (p for p in points if _finite(p.get(xkey)) and _finite(p.get("accuracy"))),
        key=lambda p: (p[xkey], -p["accuracy"]),
    )
    front, best = [], -math.inf
    for p in ok:
        if p["accuracy"] > best:
            front.append(p)
            best = p["accuracy"]
    return front


def _finite(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def accuracy_of(obj):
    """(accuracy, kind) of a simulation's `predict` block: the simulation's own accuracy,
    else the Keras model's on the same jets, else (None, None)."""
    if obj.get("csim_accuracy") is not None:
        return obj["csim_accuracy"], "C-sim"
    if obj.get("keras_accuracy") is not None:
        return obj["keras_accuracy"], "Keras"
    return None, None


def _lut_dsp(util):
    """(resource, pct) of the larger of the estimated LUT and DSP utilisations."""
    if not util:
        return None, None
    return binding({r: util[r] for r in ("LUT", "DSP")})


def _point(label, source, record, util, est_util, bops, model) -> dict:
    """One accuracy point: its accuracy (C-sim, else Keras), the synthesised binding resource
    and, apart, the estimate's larger of LUT / DSP."""
    acc, kind = accuracy_of(record)
    res, pct = binding(util)
    est_res, est_pct = _lut_dsp(est_util)
    return {
        "label": label,
        "source": source,
        "accuracy": acc,
        "accuracy_kind": kind,
        "binding": res,
        "util_max": pct,
        "est_binding": est_res,
        "est_util": est_pct,
        "bops": bops,
        "model": model,
    }


def accuracy_points(data: dict) -> list[dict]:
    """Every design and scan point with an accuracy, its resource figures (synthesised, and
    estimated LUT / DSP) and BOPs."""
    points = []
    for d in data["designs"]:
        if d["csim"] is None:
            continue
        points.append(
            dict(
                _point(
                    d["name"],
                    "designs (build/hls)",
                    d["csim"]["predict"],
                    d["utilization"],
                    d["estimate_util"],
                    d["bops"],
                    d["model"],
                ),
                ref=d,
            )
        )
    for s in data["searches"]:
        if s["kind"] != "scan":  # a search's points have their own section and plot
            continue
        for p in s["points"]:
            points.append(
                dict(
                    _point(
                        p["label"],
                        f"scan {s['name']}",
                        p.get("csim") or {},
                        p["utilization"],
                        p.get("estimate_util"),
                        p.get("bops"),
                        s.get("model"),
                    ),
                    ref=p,
                )
            )
    return points


def accuracy_panels(points: list[dict], models: list[dict]) -> list[dict]:
    have = [p for p in points if p["accuracy"] is not None]
    synth = [p for p in have if p["util_max"] is not None]
    estimated = [p for p in have if p["util_max"] is None and p["est_util"] is not None]
    bops = [p for p in have if p["util_max"] is None and p["est_util"] is None and p["bops"]]
    rest = [p for p in have if p["util_max"] is None and p["est_util"] is None and not p["bops"]]
    involved = {p["model"] for p in have}
    refs = [
        (f"{m['model']} float twin (metrics.json)", m["metrics"]["accuracy"])
        for m in models
        if not m["quantized"]
        and m["model"] in involved
        and m["metrics"].get("accuracy") is not None
    ]
    panels = []
    if synth:
        panels.append(
            {
                "kind": "resources",
                "points": synth,
                "xkey": "util_max",
                "refs": refs,
                "xlabel": "binding resource: max utilisation of LUT/FF/DSP/BRAM/URAM "
                "(% of the part)",
                "title": "synthesised: accuracy vs resources (HLS estimate)",
            }
        )
    if estimated:
        panels.append(
            {
                "kind": "estimate",
                "points": estimated,
                "xkey": "est_util",
                "refs": refs,
                "xlabel": "ESTIMATED max(LUT, DSP) utilisation (% of the part; "
                "make estimate, not synthesised)",
                "title": "synthesis not run: accuracy vs estimated resources",
            }
        )
    if bops:
        vals = [p["bops"] for p in bops]
        panels.append(
            {
                "kind": "bops",
                "points": bops,
                "xkey": "bops",
                "refs": refs,
                "log": max(vals) / min(vals) > 20,
                "xlabel": "BOPs (metrics.json / scan point) - resource proxy",
                "title": "synthesis not run: accuracy vs BOPs instead of resources",
            }
        )
    if rest:
        panels.append(
            {
                "kind": "label",
                "points": rest,
                "refs": refs,
                "title": "synthesis not run, no BOPs: accuracy per configuration",
            }
        )
    for panel in panels:
        front = pareto_front(panel["points"], panel["xkey"]) if panel["kind"] != "label" else []
        for p in front:
            p["pareto"] = panel["kind"]
    return panels
