"""The dashboard's plots (matplotlib, Agg), one function per PNG.

Each function takes the records that hls/report/discover.py collected (plain dicts, missing
figures as None) and writes one PNG; make_plots() writes every plot the data allows. Nothing
here reads files or invents a figure: a value that is None is drawn as a labelled gap ("not
run", "n/a"), never as zero.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from hls.common import RESOURCE_LABELS as RES_LABEL  # noqa: E402
from hls.common import RESOURCES, fmt  # noqa: E402
from hls.report.discover import PAIR_MODES, background_jets, constant_fidelity  # noqa: E402
from hls.report.points import _finite, accuracy_panels, pareto_front  # noqa: E402

RES_COLOR = {
    "LUT": "#4c72b0",
    "FF": "#55a868",
    "DSP": "#c44e52",
    "BRAM_18K": "#8172b2",
    "URAM": "#ccb974",
}
ROUTE_COLOR = {"predict": "#4c72b0", "testbench": "#dd8452"}
VARIANT_COLOR = {True: "#4c72b0", False: "#dd8452"}  # quantized / float
NOT_RUN = "#b35900"
DPI = 110


def _save(fig, path: Path):
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)


def _pct_label(v) -> str:
    if v is None:
        return "n/a"
    if v == 0:
        return "0"
    if v < 0.1:
        return "<0.1"
    return f"{v:.1f}" if v < 10 else f"{v:.0f}"


def short(name: str, width=34) -> str:
    """Long HLS module names, shortened in the middle so both ends stay readable."""
    return name if len(name) <= width else f"{name[:width - 11]}…{name[-10:]}"


def _not_run(ax, x, y, text="not run", rotation=90):
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="bottom",
        rotation=rotation,
        fontsize=8,
        color=NOT_RUN,
        style="italic",
    )


def _design_ticks(ax, names):
    ax.set_xticks(
        range(len(names)),
        [short(n, 28) for n in names],
        rotation=20 if len(names) > 2 else 0,
        ha="right" if len(names) > 2 else "center",
    )


# ------------------------------------------------------------------------- training metrics


def training_plot(models: list[dict], path: Path, background="QCD"):
    """Accuracy and macro AUC per model (quantized next to its float twin), and the background
    rejection at 50% signal efficiency per class."""
    names = sorted({m["model"] for m in models})
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), gridspec_kw={"width_ratios": [1, 1, 1.9]})
    width = 0.38
    for ax, key, title in (
        (axes[0], "accuracy", "test accuracy"),
        (axes[1], "macro_auc", "macro AUC (one vs rest)"),
    ):
        for k, quantized in enumerate((True, False)):
            xs, ys = [], []
            for i, name in enumerate(names):
                m = next(
                    (m for m in models if m["model"] == name and m["quantized"] is quantized), None
                )
                x = i + (k - 0.5) * width
                if m is None:
                    _not_run(
                        ax,
                        x,
                        0.02,
                        "quantized: not trained" if quantized else "float twin: not trained",
                    )
                    continue
                v = m["metrics"].get(key)
                if _finite(v):
                    xs.append(x)
                    ys.append(v)
                else:
                    _not_run(ax, x, 0.01, "—", 0)
            bars = ax.bar(
                xs,
                ys,
                width,
                color=VARIANT_COLOR[quantized],
                label="quantized" if quantized else "float twin",
            )
            ax.bar_label(bars, [f"{y:.3f}" for y in ys], fontsize=7, padding=2)
        ax.set_xticks(range(len(names)), names, rotation=15 if len(names) > 3 else 0)
        ax.set_ylim(0, 1.08)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right")

    ax = axes[2]
    variants = [m for n in names for m in models if m["model"] == n]
    classes = []
    for m in variants:
        for c in m["metrics"].get("rejection_at_50pct") or {}:
            if c not in classes:
                classes.append(c)
    if classes:
        w = 0.8 / len(variants)
        finite = [
            v
            for m in variants
            for v in (m["metrics"].get("rejection_at_50pct") or {}).values()
            if _finite(v) and v > 0
        ]
        top = max(finite) * 3 if finite else 10.0
        caps = {}
        for k, m in enumerate(variants):
            rej = m["metrics"].get("rejection_at_50pct") or {}
            cap = background_jets(m["metrics"], background)
            xs = np.arange(len(classes)) + (k - (len(variants) - 1) / 2) * w
            ys = [rej.get(c) for c in classes]
            at = cap or top  # no background jet passed: at least the cap, drawn there
            shown = [y if _finite(y) and y > 0 else (at if y == math.inf else np.nan) for y in ys]
            color = VARIANT_COLOR[m["quantized"]] if len(names) == 1 else f"C{k}"
            ax.bar(xs, shown, w, color=color, alpha=1 if m["quantized"] else 0.55, label=m["label"])
            for x, y in zip(xs, ys):
                if y == math.inf:
                    ax.text(x, at, "≥" if cap else "∞", ha="center", va="bottom", fontsize=8)
            if cap:
                caps.setdefault(cap, []).append(m["label"])
        for cap, who in sorted(caps.items()):
            ax.axhline(cap, color="grey", ls=":", lw=1)
            ax.text(
                0.01,
                cap,
                f"cap: {cap:,} {background} test jets"
                + ("" if len(caps) == 1 else f" ({', '.join(who)})"),
                transform=ax.get_yaxis_transform(),
                fontsize=7,
                color="grey",
                va="bottom",
            )
        ax.set_yscale("log")
        ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
        ax.set_ylabel(f"{background} rejection 1/ε_B at ε_S = 50%")
        ax.legend(fontsize=7, ncol=2)
        ax.grid(axis="y", alpha=0.3, which="both")
    else:
        ax.text(
            0.5,
            0.5,
            "no rejection figures in metrics.json",
            ha="center",
            transform=ax.transAxes,
            color=NOT_RUN,
        )
    ax.set_title(
        f"background rejection vs {background} (at most the number of {background} test jets; "
        "≥: none passed)",
        fontsize=9,
    )
    fig.suptitle("Training metrics (build/models/*/metrics.json, each model's own test set)")
    fig.tight_layout()
    _save(fig, path)


# ------------------------------------------------------------------------- the designs


KIND_MARKER = {"estimate": "o", "rtl": "^", "hls": "s", "vivado": "X"}
KIND_LEGEND = {
    "estimate": "estimate (bar: its error band)",
    "rtl": "RTL route (da4ml cost / yosys)",
    "hls": "HLS synthesis (Vivado / Vitis)",
    "vivado": "Vivado logic synthesis (HLS latency)",
}


def _source_marker(ax, r: dict, key: str, y, color, band=None):
    """One overview row as a marker: its source's shape, hollow for the estimate, and the
    estimate's error band (low, high) as a horizontal bar."""
    xerr = None if not band else [[r[key] - band[0]], [band[1] - r[key]]]
    ax.errorbar(
        r[key],
        y,
        xerr=xerr,
        fmt=KIND_MARKER[r["kind"]],
        ms=8,
        color=color,
        mfc="white" if r["kind"] == "estimate" else color,
        mew=1.5,
        capsize=3,
        zorder=3,
    )


def _source_handles(rows: list[dict]) -> list:
    """The legend of the sources present in `rows`."""
    return [
        plt.Line2D(
            [],
            [],
            marker=KIND_MARKER[k],
            ls="none",
            color="black",
            mfc="white" if k == "estimate" else "black",
            label=label,
        )
        for k, label in KIND_LEGEND.items()
        if any(r["kind"] == k for r in rows)
    ]


def overview_plot(ov: dict, path: Path):
    """Every design's latency against its LUT and DSP share of the part, one colour per design
    and one marker per source (the estimate hollow, with its band as an error bar where it has
    one), the budgets dashed, each design named with its verdict (✓ fits / ✗ does not)."""
    rows = [r for r in ov["rows"] if _finite(r["latency_ns"])]
    designs = list(dict.fromkeys(r["design"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharey=True)
    lats = [r["latency_ns"] for r in rows]
    for ax, key, res in ((axes[0], "lut_pct", "LUT"), (axes[1], "dsp_pct", "DSP")):
        for i, name in enumerate(designs):
            color = f"C{i % 10}"
            mine = [r for r in rows if r["design"] == name and _finite(r[key])]
            if len(mine) > 1:
                ax.plot(
                    [r[key] for r in mine],
                    [r["latency_ns"] for r in mine],
                    color=color,
                    lw=0.8,
                    alpha=0.5,
                )
            for r in mine:
                _source_marker(ax, r, key, r["latency_ns"], color, (r.get("band") or {}).get(res))
            est = next((r for r in mine if r["kind"] == "estimate"), mine[0] if mine else None)
            if est is not None:
                ok = est["verdict"]["ok"]
                mark = "✓" if ok else ("✗" if ok is False else "?")
                ax.annotate(
                    f"{name} {mark}",
                    (est[key], est["latency_ns"]),
                    fontsize=8,
                    xytext=(6, 4),
                    textcoords="offset points",
                    color="#146b2e" if ok else "#b00020",
                )
        for b in ov["budgets"]:
            x = 100 * b["resources"]
            ax.axvline(x, color="red", ls="--", lw=1)
            ax.text(
                x,
                0.98,
                f" budget {b['resources']:.0%}",
                transform=ax.get_xaxis_transform(),
                fontsize=8,
                color="red",
                va="top",
            )
            if b.get("latency_ns") is not None:
                ax.axhline(b["latency_ns"], color="red", ls=":", lw=1)
                ax.text(
                    0.99,
                    b["latency_ns"],
                    f"latency budget {fmt(b['latency_ns'])} ns",
                    transform=ax.get_yaxis_transform(),
                    fontsize=8,
                    color="red",
                    ha="right",
                    va="bottom",
                )
        ax.set_xlabel(f"{res} (% of the part)")
        ax.set_xlim(left=-0.03 * ax.get_xlim()[1])  # a marker at 0% stays whole
        ax.grid(alpha=0.3, which="both")
    if lats and min(lats) > 0 and max(lats) / min(lats) > 20:
        axes[0].set_yscale("log")
    axes[0].set_ylabel("latency (ns, worst case)")
    axes[1].legend(handles=_source_handles(rows), fontsize=8, loc="lower right")
    fig.suptitle(
        "The designs: latency against LUT and DSP share of the part, per source "
        "(dashed: budget; ✓ fits / ✗ does not, by the estimate)",
        fontsize=11,
    )
    fig.tight_layout()
    _save(fig, path)


DESIGN_ROUTE_COLOR = {"hls": "C0", "rtl": "C3"}
DESIGN_ROUTE_WORDS = {"hls": "HLS route (hls4ml)", "rtl": "RTL route (alkaid Verilog)"}


def routes_plot(ov: dict, path: Path):
    """Accuracy against LUT share and against latency, one point per design and source: the
    colour tells the route (HLS or RTL), the marker the source (estimate hollow, with its
    band; RTL report; HLS synthesis; Vivado); the accuracy is the design's own simulation's
    on its held-out jets (C simulation, Verilator)."""
    rows = [r for r in ov["rows"] if _finite(r.get("accuracy"))]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for ax, key, xlabel in (
        (axes[0], "lut_pct", "LUT (% of the part)"),
        (axes[1], "latency_ns", "latency (ns, worst case)"),
    ):
        mine = [r for r in rows if _finite(r[key])]
        named = set()
        for r in mine:
            color = DESIGN_ROUTE_COLOR.get(r["route"], "C7")
            band = (r.get("band") or {}).get("LUT") if key == "lut_pct" else None
            _source_marker(ax, r, key, r["accuracy"], color, band)
            if r["design"] in named:  # one name per design: its first source
                continue
            named.add(r["design"])
            ax.annotate(
                r["design"],
                (r[key], r["accuracy"]),
                fontsize=7,
                xytext=(5, 3),
                textcoords="offset points",
                color=color,
            )
        vals = [r[key] for r in mine]
        if key == "latency_ns" and vals and min(vals) > 0 and max(vals) / min(vals) > 20:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("accuracy (the design's simulation, held-out jets)")
    handles = [
        plt.Line2D(
            [], [], marker="s", ls="none", color=DESIGN_ROUTE_COLOR[k], label=DESIGN_ROUTE_WORDS[k]
        )
        for k in DESIGN_ROUTE_COLOR
        if any(r["route"] == k for r in rows)
    ] + _source_handles(rows)
    axes[1].legend(handles=handles, fontsize=8, loc="lower right")
    fig.suptitle(
        "Both routes: accuracy against LUT share and latency, per source (never merged)",
        fontsize=11,
    )
    fig.tight_layout()
    _save(fig, path)


# ------------------------------------------------------------------------- C-sim fidelity


FIDELITY_PANELS = (
    ("bit_exact_fraction", "bit-exact fraction of jets", (0, 1.12)),
    ("argmax_agreement", "argmax agreement (Keras vs C-sim)", (0, 1.12)),
    ("max_abs_diff_lsb", "max |C-sim − Keras| (output LSBs)", None),
)


def fidelity_plot(designs: list[dict], panels, path: Path):
    """Bit-exact fraction, argmax agreement and max |diff| (LSB) per design, both routes: the
    panels whose values differ (one value everywhere is said in a sentence, not drawn)."""
    names = [d["name"] for d in designs]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.8), squeeze=False)
    axes = axes[0]
    width = 0.38
    for ax, (key, title, ylim) in zip(axes, panels):
        top = 0.0
        for k, route in enumerate(("predict", "testbench")):
            for i, d in enumerate(designs):
                r = (d["csim"] or {}).get(route)
                v = None if r is None else r.get(key)
                x = i + (k - 0.5) * width
                if v is None:
                    _not_run(ax, x, 0.02 if ylim else 0, "not run")
                    continue
                top = max(top, v)
                labelled = route in ax.get_legend_handles_labels()[1]
                ax.bar(x, v, width, color=ROUTE_COLOR[route], label=None if labelled else route)
                label = f"{v:.4f}".rstrip("0").rstrip(".") if ylim else fmt(v)
                ax.text(x, v, label, ha="center", va="bottom", fontsize=7)
        _design_ticks(ax, names)
        if ylim:
            ax.set_ylim(*ylim)
        else:
            ax.set_ylim(0, max(1.0, top * 1.2))
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    legend = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(lab, h)
    names_ = {
        "predict": "predict (hls4ml compile)",
        "testbench": "testbench (g++ myproject_test.cpp)",
    }
    axes[-1].legend(
        list(legend.values()), [names_[k] for k in legend], fontsize=8, loc="upper right"
    )
    fig.suptitle("C-simulation fidelity (build/hls/*/csim_report.json)")
    fig.tight_layout()
    _save(fig, path)


# ------------------------------------------------------------------------- resources


def resources_plot(designs: list[dict], path: Path):
    """Utilisation of the part per design (HLS estimate), Vivado post-synthesis as markers."""
    names = [d["name"] for d in designs]
    fig, ax = plt.subplots(figsize=(max(10.0, 2.2 * len(names) + 3), 5))
    n = len(RESOURCES)
    width = 0.8 / n
    top = 0.0
    vivado_shown = False
    for i, d in enumerate(designs):
        util = d.get("utilization")
        if util is None:
            _not_run(ax, i, 0, d.get("synth_note") or "synthesis not run", 0)
            continue
        for k, r in enumerate(RESOURCES):
            x = i + (k - (n - 1) / 2) * width
            pct = util[r]["pct"]
            if pct is None:
                ax.text(
                    x, 0, "n/a", ha="center", va="bottom", fontsize=7, rotation=90, color="grey"
                )
                continue
            top = max(top, pct)
            ax.bar(x, pct, width, color=RES_COLOR[r], label=RES_LABEL[r])
            ax.text(
                x, pct, " " + _pct_label(pct), ha="center", va="bottom", fontsize=7, rotation=90
            )
            vpct = (d.get("vivado_util") or {}).get(r)
            if vpct is not None:
                top = max(top, vpct)
                ax.plot(
                    x,
                    vpct,
                    marker="x",
                    color="black",
                    ms=8,
                    mew=2,
                    ls="none",
                    label="Vivado logic synthesis" if not vivado_shown else None,
                )
                vivado_shown = True
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), fontsize=8, ncol=3, loc="upper right")
    if top >= 70:
        ax.axhline(100, color="red", ls="--", lw=1)
    _design_ticks(ax, names)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylim(0, max(10.0, top * 1.35))
    ax.set_ylabel("% of the part's capacity")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(
        "Resource utilisation per design (HLS C-synthesis estimate; "
        "× = Vivado logic synthesis where run)",
        fontsize=10,
    )
    fig.tight_layout()
    _save(fig, path)


# ------------------------------------------------------------------------- latency


def latency_plot(designs: list[dict], path: Path):
    """Latency per design in clock cycles (best, worst, initiation interval) and in ns."""
    names = [d["name"] for d in designs]
    fig, axes = plt.subplots(1, 2, figsize=(max(11.0, 2.6 * len(names) + 4), 4.8))
    series = (
        (
            axes[0],
            (
                ("best_cycles", "best", "#4c72b0"),
                ("worst_cycles", "worst", "#c44e52"),
                ("interval_min", "II (min)", "#55a868"),
            ),
            "clock cycles",
        ),
        (
            axes[1],
            (("best_ns", "best", "#4c72b0"), ("worst_ns", "worst", "#c44e52")),
            "ns (cycles × target clock period)",
        ),
    )
    for ax, keys, unit in series:
        vals = [
            v
            for d in designs
            if d.get("synth")
            for k, _, _ in keys
            for v in [d["synth"]["latency"].get(k)]
            if _finite(v) and v > 0
        ]
        log = bool(vals) and max(vals) / min(vals) > 100
        width = 0.8 / len(keys)
        for i, d in enumerate(designs):
            if not d.get("synth"):
                _not_run(
                    ax,
                    i,
                    min(vals) if (log and vals) else 0,
                    d.get("synth_note") or "synthesis not run",
                    0,
                )
                continue
            lat = d["synth"]["latency"]
            for k, (key, label, color) in enumerate(keys):
                x = i + (k - (len(keys) - 1) / 2) * width
                v = lat.get(key)
                if not _finite(v):
                    ax.text(
                        x,
                        min(vals) if (log and vals) else 0,
                        "—",
                        ha="center",
                        va="bottom",
                        fontsize=8,
                    )
                    continue
                ax.bar(
                    x,
                    v,
                    width,
                    color=color,
                    label=label
                    if i == 0 or label not in ax.get_legend_handles_labels()[1]
                    else None,
                )
                ax.text(x, v, fmt(v), ha="center", va="bottom", fontsize=7)
            cos = d["synth"].get("cosim") or {}
            if unit == "clock cycles" and _finite(cos.get("latency_max")):
                ax.plot(
                    i,
                    cos["latency_max"],
                    marker="D",
                    color="black",
                    ls="none",
                    label="co-sim latency (max)",
                )
        if log:
            ax.set_yscale("log")
            ax.set_ylim(min(vals) / 2, max(vals) * 6)
        else:
            ax.set_ylim(0, max(vals) * 1.25 if vals else 1)
        _design_ticks(ax, names)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_ylabel(unit + (" (log scale)" if log else ""))
        ax.grid(axis="y", alpha=0.3, which="both")
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles))
        if uniq:
            ax.legend(uniq.values(), uniq.keys(), fontsize=8, loc="upper left")
    fig.suptitle("Latency per design (HLS C-synthesis report)")
    fig.tight_layout()
    _save(fig, path)


# ------------------------------------------------------------------------- accuracy vs cost


def _reference_lines(ax, refs):
    """Horizontal reference accuracies (the float twins), labelled at the right edge."""
    for label, acc in refs:
        ax.axhline(acc, color="grey", ls=":", lw=1)
        ax.text(
            1.0,
            acc,
            f" {label}",
            transform=ax.get_yaxis_transform(),
            fontsize=7,
            va="bottom",
            ha="right",
            color="grey",
        )


def _front(ax, front, xkey, color="black", label="Pareto front", marker="o", filled=False):
    """A Pareto front: a step line through its points in x order, the points drawn bigger
    (circled around the ordinary marker, or filled in the group's colour)."""
    front = sorted(front, key=lambda p: (p[xkey], -p["accuracy"]))
    if not front:
        return
    xs, ys = [p[xkey] for p in front], [p["accuracy"] for p in front]
    ax.step(xs, ys, where="post", color=color, lw=1.2, zorder=2)
    ax.scatter(
        xs,
        ys,
        s=90 if filled else 150,
        marker=marker,
        facecolors=color if filled else "none",
        edgecolors="black",
        lw=1.0 if filled else 1.5,
        zorder=4,
        label=label,
    )


def _scatter_panel(ax, points, xkey, xlabel, title, refs, log=False):
    sources = sorted({p["source"] for p in points})
    markers = "os^vDP*Xh<>"
    for k, src in enumerate(sources):
        sel = [p for p in points if p["source"] == src]
        ax.scatter(
            [p[xkey] for p in sel],
            [p["accuracy"] for p in sel],
            s=40,
            marker=markers[k % len(markers)],
            color=f"C{k}",
            label=src,
            zorder=3,
        )
    _front(ax, pareto_front(points, xkey), xkey)
    for p in points:
        ax.annotate(
            short(p["label"], 24),
            (p[xkey], p["accuracy"]),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    _reference_lines(ax, refs)
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (C simulation; Keras where no C-sim)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower right")
    ax.margins(x=0.15, y=0.15)


def pareto_plot(panels: list[dict], path: Path):
    """One panel per resource axis: synthesised points against the binding resource, the rest
    against BOPs, and points with neither against their label."""
    ncols = min(2, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.0 * ncols, 5.2 * nrows + 0.4), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, panel in zip(axes.flat, panels):
        pts, refs = panel["points"], panel.get("refs", [])
        if panel["kind"] == "label":
            labels = [short(p["label"], 26) for p in pts]
            xs = np.arange(len(pts))
            ax.scatter(xs, [p["accuracy"] for p in pts], s=40, zorder=3)
            for x, p in zip(xs, pts):
                ax.annotate(
                    f"{p['accuracy']:.3f}",
                    (x, p["accuracy"]),
                    fontsize=7,
                    xytext=(4, 4),
                    textcoords="offset points",
                )
            _reference_lines(ax, refs)
            ax.set_xticks(xs, labels, rotation=35, ha="right", fontsize=7)
            ax.set_ylabel("accuracy (C simulation; Keras where no C-sim)")
            ax.set_title(panel["title"], fontsize=10)
            ax.grid(alpha=0.3)
            ax.margins(x=0.1, y=0.15)
        else:
            _scatter_panel(
                ax,
                pts,
                panel["xkey"],
                panel["xlabel"],
                panel["title"],
                refs,
                panel.get("log", False),
            )
    fig.suptitle(
        "Accuracy vs resources across firmware configs and precisions " "(circled: Pareto front)"
    )
    fig.tight_layout()
    _save(fig, path)


# ------------------------------------------------------------------------- design-space search

MODE_STYLE = {"onchip": ("#4c72b0", "o"), "host": ("#55a868", "s"), "none": ("#dd8452", "^")}


def search_plot(search: dict, path: Path):
    """Accuracy against the estimated latency, LUT and DSP of a search's done points, one style
    per pair-feature mode. The front of each mode is over all three objectives at once
    (hls.points.pareto), so in one panel its step line need not only rise."""
    from hls.points import figures

    done = [(r, f) for r in search["points"] if (f := figures(r))]
    target = search["target"] or {}  # an interrupted run's: unknown
    budget = {  # the target's share of each part the points were estimated for
        k: sorted(
            {target["resources"] * r["estimate"]["resources"][k]["available"] for r, _ in done}
        )
        if target
        else []
        for k in ("LUT", "DSP")
    }
    refs = [
        (f"float twin of the best {mode} point", ref["accuracy"])
        for mode, ref in sorted((search.get("float_reference") or {}).items())
        if _finite(ref.get("accuracy"))
    ]
    full = search.get("part_full_reference") or {}
    if _finite(full.get("accuracy")):
        refs.append(("part_full float (build/models)", full["accuracy"]))
    best = {m["best"]: mode for mode, m in search["modes"].items() if m["best"]}
    panels = (
        ("latency_ns", "estimated latency (ns, make estimate)", [target.get("latency_ns")]),
        ("LUT", "estimated LUT (make estimate)", budget["LUT"]),
        ("DSP", "estimated DSP (make estimate)", budget["DSP"]),
    )
    modes = sorted({r["pair_features"] for r, _ in done})
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.4), sharey=True)
    for ax, (key, xlabel, lines) in zip(axes, panels):
        for k, mode in enumerate(modes):
            color, marker = MODE_STYLE.get(mode, (f"C{k + 4}", "D"))
            what = PAIR_MODES.get(mode, mode)
            group = [(r, f) for r, f in done if r["pair_features"] == mode]
            rest = [f for r, f in group if not r.get("pareto")]
            front = [f for r, f in group if r.get("pareto")]
            _front(ax, front, key, color, f"{mode} ({what}): Pareto front", marker, filled=True)
            if rest:
                ax.scatter(
                    [f[key] for f in rest],
                    [f["accuracy"] for f in rest],
                    s=30,
                    marker=marker,
                    facecolors="none",
                    edgecolors=color,
                    zorder=3,
                    label=f"{mode}: dominated",
                )
        for r, f in done:
            if r["id"] in best:
                ax.annotate(
                    f"best {best[r['id']]}",
                    (f[key], f["accuracy"]),
                    fontsize=7,
                    xytext=(5, 5),
                    textcoords="offset points",
                )
        xs = [f[key] for _, f in done] + [x for x in lines if x is not None]
        for x in lines:
            if x is not None:
                ax.axvline(x, color="red", ls="--", lw=1)
                ax.text(
                    x,
                    0.02,
                    f" target {fmt(x)}",
                    transform=ax.get_xaxis_transform(),
                    fontsize=7,
                    color="red",
                    rotation=90,
                )
        if min(xs) > 0 and max(xs) / min(xs) > 20:
            ax.set_xscale("log")
        _reference_lines(ax, refs)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3, which="both")
        ax.margins(x=0.1, y=0.15)
    axes[0].set_ylabel(
        "test accuracy (quantized model; C simulation bit-exact)"
        if search["kind"] == "search"
        else "Keras accuracy on the C-simulated jets (bit-exact)"
    )
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(
        f"{search['kind'].capitalize()} {search['name']}: {len(done)} of "
        f"{len(search['points'])} points "
        "done, all figures ESTIMATED (filled: Pareto front per mode; dashed: target)",
        fontsize=11,
    )
    fig.tight_layout()
    _save(fig, path)


# ------------------------------------------------------------------------- per layer


def _barh_rows(rows, key, limit):
    rows = sorted(rows, key=lambda r: -(r.get(key) or 0))
    if len(rows) <= limit:
        return rows, None
    rest = rows[limit - 1 :]
    return rows[: limit - 1], (len(rest), sum(r.get(key) or 0 for r in rest))


def layers_plot(design: dict, path: Path, limit=30):
    """Per-module resources of one design, as the synthesis report lists its modules."""
    mods = design["synth"]["modules"]
    shown = [r for r in RESOURCES if any(m.get(r) for m in mods)] or ["LUT"]
    order = sorted(mods, key=lambda m: -(m.get("LUT") or 0))
    if len(order) > limit:
        rest = order[limit - 1 :]
        order = order[: limit - 1] + [
            {
                "name": f"other ({len(rest)} modules)",
                **{r: sum(m.get(r) or 0 for m in rest) for r in shown},
            }
        ]
    labels = [short(m["name"], 40) for m in order]
    height = max(3.2, 0.3 * len(order) + 1.6)
    fig, axes = plt.subplots(
        1, len(shown), figsize=(3.3 * len(shown) + 3.2, height), sharey=True, squeeze=False
    )
    y = np.arange(len(order))[::-1]
    for ax, r in zip(axes[0], shown):
        vals = [m.get(r) for m in order]
        ax.barh(y, [v or 0 for v in vals], color=RES_COLOR[r])
        for yy, v in zip(y, vals):
            ax.text(v or 0, yy, f" {fmt(v)}", va="center", fontsize=6.5)
        total = (design.get("utilization") or {}).get(r, {}).get("used")
        ax.set_title(
            f"{RES_LABEL[r]}" + (f" (design total {fmt(total)})" if total is not None else ""),
            fontsize=9,
        )
        ax.set_xlim(0, max([v or 0 for v in vals] + [1]) * 1.3)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="x", labelsize=7)
    axes[0][0].set_yticks(y, labels, fontsize=7)
    fig.suptitle(
        f"{design['name']}: resources per module ({design['synth'].get('tool') or 'HLS'}"
        " report; nested modules may also count in their parent)",
        fontsize=10,
    )
    fig.tight_layout()
    _save(fig, path)


def bops_plot(model: dict, path: Path, limit=30):
    """Bit operations per layer from metrics.json cost_per_layer (layers with BOPs only)."""
    rows = [r for r in model["metrics"]["cost_per_layer"] if (r.get("bops") or 0) > 0]
    total = sum(r["bops"] for r in rows)
    rows, other = _barh_rows(rows, "bops", limit)
    labels = [short(f"{r['layer']} ({r.get('type', '?')})", 40) for r in rows]
    vals = [r["bops"] for r in rows]
    if other:
        labels.append(f"other ({other[0]} layers)")
        vals.append(other[1])
    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.32 * len(vals) + 1.6)))
    y = np.arange(len(vals))[::-1]
    ax.barh(y, vals, color="#4c72b0")
    for yy, v in zip(y, vals):
        ax.text(v, yy, f" {v / 1e6:.2f} M ({100 * v / total:.1f}%)", va="center", fontsize=7)
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlim(0, max(vals) * 1.35)
    ax.set_xlabel("BOPs (MACs × operand bits; from metrics.json cost_per_layer)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        f"{model['label']}: bit operations per layer (total {total / 1e6:.2f} M)", fontsize=10
    )
    fig.tight_layout()
    _save(fig, path)


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def make_plots(data: dict, points: list[dict], out: Path, ov: dict | None = None):
    """Write every plot the data allows (`points`: hls.report.points.accuracy_points);
    returns (written [{file, title, section}], skipped [{plot, reason}])."""
    written, skipped = [], []

    def run(fn, args, file, title, section):
        fn(*args, out / file)
        written.append({"file": file, "title": title, "section": section})

    models, designs = data["models"], data["designs"]
    if ov and any(_finite(r["latency_ns"]) for r in ov["rows"]):
        run(
            overview_plot,
            (ov,),
            "overview.png",
            "The designs: latency against LUT and DSP share, per source, budgets dashed",
            "overview",
        )
    elif designs:
        skipped.append({"plot": "overview.png", "reason": "no design has a latency figure"})
    if ov and any(_finite(r.get("accuracy")) for r in ov["rows"]):
        run(
            routes_plot,
            (ov,),
            "routes.png",
            "Both routes: accuracy against LUT share and latency, per source",
            "overview",
        )
    elif ov and ov["rows"]:
        skipped.append(
            {"plot": "routes.png", "reason": "no design simulated (make hls-csim, make rtl-sim)"}
        )
    if models:
        run(
            training_plot,
            (models,),
            "training.png",
            "Training metrics: accuracy, macro AUC, rejection (quantized vs float twin)",
            "models",
        )
    else:
        skipped.append({"plot": "training.png", "reason": "no metrics.json (make train)"})
    with_csim = [d for d in designs if d["csim"] is not None]
    same = constant_fidelity(with_csim)
    if with_csim and len(same) < len(FIDELITY_PANELS):
        run(
            fidelity_plot,
            (with_csim, [p for p in FIDELITY_PANELS if p[0] not in same]),
            "fidelity.png",
            "C-simulation fidelity per design, both routes",
            "fidelity",
        )
    elif with_csim:
        skipped.append(
            {"plot": "fidelity.png", "reason": "one value for every design and route: a sentence"}
        )
    else:
        skipped.append({"plot": "fidelity.png", "reason": "no csim_report.json (make hls-csim)"})
    if any(d["synth"] for d in designs):
        run(
            resources_plot,
            (designs,),
            "resources.png",
            "Resource utilisation per design (% of the part)",
            "synthesis",
        )
        run(
            latency_plot,
            (designs,),
            "latency.png",
            "Latency per design (cycles and ns)",
            "synthesis",
        )
    else:
        reason = "no synth_report.json in any design (make synth)"
        skipped += [
            {"plot": "resources.png", "reason": reason},
            {"plot": "latency.png", "reason": reason},
        ]
    panels = accuracy_panels(points, models)
    if panels:
        run(
            pareto_plot,
            (panels,),
            "pareto.png",
            "Accuracy vs resources across firmware configs and precisions (Pareto front)",
            "pareto",
        )
    else:
        skipped.append({"plot": "pareto.png", "reason": "no design or scan point with an accuracy"})
    for s in data.get("searches", []):
        file = f"{s['kind']}_{safe_name(s['name'])}.png"
        sec = f"{s['kind']}:{s['name']}"
        if any(p["status"] == "done" for p in s["points"]):
            run(
                search_plot,
                (s,),
                file,
                f"{s['kind'].capitalize()} {s['name']}: accuracy vs estimated latency, LUT, DSP",
                sec,
            )
        else:
            reason = f"{s['path']}: no point done"
            skipped.append({"plot": file, "reason": reason, "section": sec})
    for d in designs:
        if d["synth"] and d["synth"].get("modules"):
            run(
                layers_plot,
                (d,),
                f"layers_{safe_name(d['name'])}.png",
                f"{d['name']}: resources per module (synthesis report)",
                "layers",
            )
        elif d["synth"]:
            skipped.append(
                {
                    "plot": f"layers_{safe_name(d['name'])}.png",
                    "reason": f"{d['synth_path']} has no module rows",
                }
            )
    for m in models:  # the quantized models are the ones that become firmware
        if m["quantized"] and any(
            (r.get("bops") or 0) > 0 for r in m["metrics"].get("cost_per_layer") or []
        ):
            run(
                bops_plot,
                (m,),
                f"bops_{safe_name(m['dir'])}.png",
                f"{m['label']}: BOPs per layer (metrics.json cost_per_layer)",
                "layers",
            )
    return written, skipped
