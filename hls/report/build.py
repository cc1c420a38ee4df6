"""`make report`: the latency/resource dashboard, from whatever the pipeline left under build/.

    python -m hls.report --build build --out build/reports [--screenshot page.png]

Reads (each optional; what is absent is reported as not run, never filled in):

    build/models/<model>[-float]/metrics.json      make train (model/metrics.py schema)
    build/hls/<model>-<fw>/csim_report.json        make hls-csim (hls/csim_report.py schema)
    build/hls/<model>-<fw>/synth_report.json       make synth (hls/synth_report.py schema)
    build/hls/<model>-<fw>/estimate.json           make estimate / make hls-csim (hls/estimate.py),
                                                   shown as a pre-synthesis estimate, never as a
                                                   synthesis result
    build/scan/<model>-<fw>/scan.json              make scan (hls/scan.py) and make scan
    build/search/<space>/search.json               SPACE=<space> (hls/search.py): one schema
                                                   (hls/points.py), the points' configs copied
                                                   under scan|search/<name>/
    build/bench/*.json                             make bench (listed generically)

Writes build/reports/: PNG plots, index.html (one page; the plots are PNGs next to it, linked
by relative paths, so the folder can be copied anywhere) and dashboard.json (what was found,
which plots were written, what was not run).

A malformed JSON file, a report with a missing key or a non-numeric figure, or a
synth_report.json that belongs to another design than its project directory (part, top module
or clock differing from csim_report.json) stops the run with an error naming the file(s).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from hls.report.browser import screenshot
from hls.report.discover import collect
from hls.report.overview import overview
from hls.report.points import accuracy_points
from hls.report.render import render_html
from infra.errors import exit_code
from infra.paths import BUILD

SCHEMA_VERSION = 1


def _summary_json(data, points, written, skipped, copied, generated, out) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "generated": generated,
        "build": data["build"],
        "out": str(out),
        "found": {
            "models": [
                {
                    "dir": m["dir"],
                    "model": m["model"],
                    "quantized": m["quantized"],
                    "metrics": m["path"],
                    # where the bits went (model.widths.summary); None: one width per model
                    "learned_widths": m["metrics"].get("learned_widths"),
                }
                for m in data["models"]
            ],
            "designs": [
                {
                    "name": d["name"],
                    "model": d["model"],
                    "firmware": d["firmware"],
                    "backend": d["backend"],
                    "part": d["part"],
                    "csim_report": d["csim_path"],
                    "synth_report": d["synth_path"],
                    "estimate": d["estimate_path"],
                    "csim": d["csim_status"],
                    "synthesis": d["synth_status"],
                    "vivado_synth": None
                    if d["synth"] is None
                    else ("run" if d["synth"].get("vivado_synth") else "not run"),
                    "cosim": None
                    if d["synth"] is None
                    else ((d["synth"].get("cosim") or {}).get("status") or "not run"),
                }
                for d in data["designs"]
            ],
            "rtl_designs": [
                {
                    "name": d["name"],
                    "model": d["model"],
                    "firmware": d["firmware"],
                    "part": d["part"],
                    "rtl_report": d["rtl_path"],
                    "rtlsim_report": d["csim_path"],
                    "source": d["rtl"]["source"],
                    "verilator": d["csim_status"],
                    "yosys_unfinished": d["yosys_unfinished"],
                }
                for d in data["rtl_designs"]
            ],
            "scans": [
                {
                    "name": s["name"],
                    "path": s["path"],
                    "points": len(s["points"]),
                    "done": s["done"],
                    "interrupted": bool(s.get("interrupted")),
                    "synthesised": sum(p.get("synth") is not None for p in s["points"]),
                }
                for s in data["searches"]
                if s["kind"] == "scan"
            ],
            "searches": [
                {
                    "name": s["name"],
                    "path": s["path"],
                    "points": len(s["points"]),
                    "done": s["done"],
                    "interrupted": bool(s.get("interrupted")),
                    "best": {mode: m["best"] for mode, m in s["modes"].items()},
                }
                for s in data["searches"]
                if s["kind"] == "search"
            ],
            "bench": [{"name": b["name"], "path": b["path"]} for b in data["bench"]],
        },
        "plots": written,
        "plots_not_written": skipped,
        "copied": copied,
        "pareto_front": [
            {"label": p["label"], "source": p["source"], "axis": p["pareto"]}
            for p in points
            if p.get("pareto")
        ],
        # accuracy points: synthesised utilisation (util_max) and, apart, the estimate's
        "points": [
            {
                k: p[k]
                for k in (
                    "label",
                    "source",
                    "accuracy",
                    "accuracy_kind",
                    "binding",
                    "util_max",
                    "est_binding",
                    "est_util",
                    "bops",
                )
            }
            for p in points
        ],
        "not_run": data["not_run"],
        "warnings": data["warnings"],
    }


def _clean_previous(out: Path):
    """Remove the files a previous run wrote (listed in its dashboard.json), nothing else."""
    old = out / "dashboard.json"
    if not old.is_file():
        return
    try:
        prev = json.loads(old.read_text())
        files = [p["file"] for p in prev.get("plots", [])] + list(prev.get("copied", []))
    except (json.JSONDecodeError, AttributeError, KeyError, TypeError):
        return
    for f in files:
        p = (out / f).resolve()
        if out.resolve() in p.parents and p.is_file():
            p.unlink()


def build_dashboard(build=str(BUILD.root), out=str(BUILD.reports)) -> dict:
    """Collect, plot, write index.html and dashboard.json; returns the summary dict."""
    build, out = Path(build), Path(out)
    data = collect(build)
    out.mkdir(parents=True, exist_ok=True)
    _clean_previous(out)
    from hls.report.plots import make_plots, safe_name  # matplotlib: only when plotting

    points = accuracy_points(data)
    ov = overview(data["designs"] + data["rtl_designs"])
    written, skipped = make_plots(data, points, out, ov)
    copied = []

    def copy(src, rel):
        """Into the reports folder, so that it can be moved with its links intact."""
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / rel)
        copied.append(rel)
        return rel

    for m in data["models"]:
        for src in m["plots"]:
            copy(src, f"models/{safe_name(m['dir'])}/{src.name}")
    for s in data["searches"]:  # each point's configs, which its row links to
        for p in s["points"]:
            p["links"] = {
                key: copy(src, f"{s['kind']}/{safe_name(s['name'])}/{p[key]}")
                for key, src in p["files"].items()
                if src is not None
            }
    generated = time.strftime("%Y-%m-%d %H:%M:%S")
    (out / "index.html").write_text(
        render_html(data, points, written, skipped, copied, generated, ov)
    )
    summary = _summary_json(data, points, written, skipped, copied, generated, out)
    summary["overview"] = ov
    (out / "dashboard.json").write_text(
        json.dumps(summary, indent=1, allow_nan=False, default=str) + "\n"
    )
    return summary


@exit_code
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=str(BUILD.root), help="the build directory to read")
    p.add_argument("--out", default=str(BUILD.reports), help="where the dashboard goes")
    p.add_argument(
        "--screenshot",
        default=None,
        help="also render index.html in headless Chromium into this PNG",
    )
    args = p.parse_args(argv)
    summary = build_dashboard(args.build, args.out)
    f = summary["found"]
    print(
        f"[report] {len(f['models'])} model(s), {len(f['designs'])} design(s) "
        f"({sum(d['synth_report'] is not None for d in f['designs'])} synthesised), "
        f"{len(f['scans'])} scan(s), {len(f['searches'])} search(es), "
        f"{len(f['bench'])} bench file(s)"
    )
    for line in summary["not_run"]:
        print(f"[report] not run: {line}")
    print(f"[report] {len(summary['plots'])} plot(s) -> {args.out}/index.html")
    if args.screenshot:
        print("[report] screenshot ->", screenshot(Path(args.out) / "index.html", args.screenshot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
