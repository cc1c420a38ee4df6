"""`make report`: the latency/resource dashboard, from whatever the pipeline left under build/.

    python -m hls.dashboard --build build --out build/reports [--screenshot page.png]

Reads (each optional; what is absent is reported as not run, never filled in):

    build/models/<model>[-float]/metrics.json      make train (accuracy, AUC, BOPs per layer)
    build/hls/<model>-<fw>/csim_report.json        make hls-csim (C-simulation fidelity)
    build/hls/<model>-<fw>/synth_report.json       make synth (hls/synth_report.py schema)
    build/hls/<model>-<fw>/estimate.json           make estimate / make hls-csim (hls/estimate.py),
                                                   shown as a pre-synthesis estimate, never as a
                                                   synthesis result
    build/scan/<model>-<fw>/scan.json              make scan (a list of precision/reuse points)
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
import html
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from data.errors import QpartError
from hls.firmware import changes_arithmetic
from hls.synth import TOOLS

RESOURCES = ("LUT", "FF", "DSP", "BRAM_18K", "URAM")
RES_LABEL = {"LUT": "LUT", "FF": "FF", "DSP": "DSP", "BRAM_18K": "BRAM 18K", "URAM": "URAM"}
PROJECT_NAME = "myproject"  # what hls.csim / hls.synth give hls4ml (hls.convert's default)
MODEL_PLOTS = ("history.png", "roc.png", "confusion.png")
CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SCHEMA_VERSION = 1


class DashboardError(QpartError, RuntimeError):
    """Input the dashboard cannot use; the message names the file(s) and what is wrong."""


# ============================================================================ reading


def read_json(path: Path):
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise DashboardError(f"{path}: cannot be read ({err.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DashboardError(f"{path}: not valid JSON (line {err.lineno} column {err.colno}: "
                             f"{err.msg})") from None


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _need(obj, key, path, where="", kind=None):
    """obj[key], which must exist (and be of `kind` when given)."""
    if not isinstance(obj, dict):
        raise DashboardError(f"{path}: {where or 'top level'} must be a JSON object")
    if key not in obj:
        raise DashboardError(f"{path}: missing key {where}{key!r}")
    value = obj[key]
    if kind is not None and not isinstance(value, kind):
        raise DashboardError(f"{path}: {where}{key!r} must be a "
                             f"{getattr(kind, '__name__', kind)}, got {type(value).__name__}")
    return value


def _numbers(obj, keys, path, where=""):
    """Each of `keys` that is present must be a number or null."""
    for key in keys:
        v = obj.get(key)
        if v is not None and not _is_num(v):
            raise DashboardError(f"{path}: {where}{key!r} is not a number: {v!r}")


def _check_resources(res, path, where="resources."):
    if not isinstance(res, dict):
        raise DashboardError(f"{path}: {where.rstrip('.')} must be a JSON object")
    for r in RESOURCES:
        entry = res.get(r)
        if entry is None:
            continue
        if not isinstance(entry, dict):
            raise DashboardError(f"{path}: {where}{r} must be an object {{used, available, ...}}")
        _numbers(entry, ("used", "available", "utilization_pct"), path, f"{where}{r}.")


def _check_latency(lat, path, where="latency."):
    if not isinstance(lat, dict):
        raise DashboardError(f"{path}: {where.rstrip('.')} must be a JSON object")
    _numbers(lat, ("best_cycles", "worst_cycles", "best_ns", "worst_ns", "interval_min",
                   "interval_max"), path, where)


def _firmware(name):
    """The firmware config `name` (hls/firmware.py), or None when it does not load."""
    try:
        from data.yamlconfig import ConfigError
        from hls.firmware import load_firmware
    except Exception:  # noqa: BLE001  (the dashboard still works from the JSON alone)
        return None
    try:
        return load_firmware(name)
    except (ConfigError, OSError):
        return None


def _part_capacity(part, fw):
    """{resource: capacity} of `part`: the firmware config's when it is that part, else
    hls.firmware.PARTS; None when unknown."""
    if not part:
        return None
    if fw and fw["part"].lower() == part.lower():
        return fw["resources"]
    try:
        from hls.firmware import PARTS
    except Exception:  # noqa: BLE001
        return None
    return PARTS.get(part.lower())


def utilization(resources: dict, capacity: dict | None) -> dict:
    """{resource: {used, available, pct}}: the report's own available/percentage first, else the
    part's capacity; pct None where the part has none of it or nothing is known."""
    out = {}
    for r in RESOURCES:
        entry = resources.get(r) or {}
        used, avail, pct = entry.get("used"), entry.get("available"), entry.get("utilization_pct")
        if not avail and capacity and capacity.get(r) is not None:
            avail = capacity[r]
        if pct is None and used is not None and avail:
            pct = used / avail * 100
        out[r] = {"used": used, "available": avail, "pct": pct}
    return out


def binding(util: dict | None):
    """(resource, pct) of the most used resource, or (None, None)."""
    if not util:
        return None, None
    known = [(v["pct"], r) for r, v in util.items() if v["pct"] is not None]
    if not known:
        return None, None
    pct, r = max(known)
    return r, pct


# ---------------------------------------------------------------------------- models


def collect_models(root: Path, warnings: list) -> list[dict]:
    models = []
    if not root.is_dir():
        return models
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        path = d / "metrics.json"
        if not path.is_file():
            if (d / "config.json").is_file():
                warnings.append(f"{d}: training started but no metrics.json (not finished?)")
            continue
        m = read_json(path)
        _need(m, "accuracy", path)
        _numbers(m, ("accuracy", "macro_auc", "parameters", "bops", "n_train", "n_jets",
                     "epochs_run", "train_seconds"), path)
        for key in ("auc", "rejection_at_50pct"):
            if key in m:
                _need(m, key, path, kind=dict)
                # null rejection: no background jet passed (metrics.json gives a lower bound)
                _numbers(m[key], [c for c, v in m[key].items() if v is not None], path, f"{key}.")
                if key == "rejection_at_50pct":
                    m[key] = {c: (math.inf if v is None else v) for c, v in m[key].items()}
        if "cost_per_layer" in m:
            rows = _need(m, "cost_per_layer", path, kind=list)
            for i, row in enumerate(rows):
                _need(row, "layer", path, f"cost_per_layer[{i}].")
                _numbers(row, ("params", "macs", "bops"), path, f"cost_per_layer[{i}].")
        quantized = m.get("quantized", not d.name.endswith("-float"))
        name = m.get("model") or (d.name[:-len("-float")] if d.name.endswith("-float") else d.name)
        models.append({
            "dir": d.name, "path": str(path), "model": name, "quantized": bool(quantized),
            "label": f"{name} ({'quantized' if quantized else 'float'})", "metrics": m,
            "plots": [d / p for p in MODEL_PLOTS if (d / p).is_file()],
        })
    return models


# ---------------------------------------------------------------------------- designs


def _identity(d: Path, csim):
    """(model, firmware) of project dir `d`: csim_report.json, else the qpart marker, else
    the directory name <model>-<fw>."""
    if csim is not None:
        return csim.get("model"), csim.get("firmware")
    marker = d / "qpart_project.json"
    if marker.is_file():
        m = read_json(marker)
        if isinstance(m, dict) and m.get("model") and m.get("firmware"):
            return m["model"], m["firmware"]
    if "-" in d.name:
        return tuple(d.name.rsplit("-", 1))
    return d.name, None


def _project_name(d: Path):
    """The hls4ml project name (top module) from hls4ml_config.yml, or None."""
    cfg = d / "hls4ml_config.yml"
    if not cfg.is_file():
        return None, None
    m = re.search(r"^ProjectName:\s*['\"]?(\w+)", cfg.read_text(errors="replace"), re.M)
    return (m[1], cfg) if m else (None, None)


def _check_csim(c, path, d: Path):
    for key in ("model", "firmware", "part"):
        _need(c, key, path, kind=str)
    _numbers(c, ("clock_period_ns", "output_lsb"), path)
    pred = _need(c, "predict", path, kind=dict)
    keys = ("n_jets", "bit_exact_fraction", "max_abs_diff_lsb", "argmax_agreement",
            "keras_accuracy", "csim_accuracy", "compile_seconds", "jets_per_second")
    _numbers(pred, keys, path, "predict.")
    tb = c.get("testbench")
    if tb is not None:
        if not isinstance(tb, dict):
            raise DashboardError(f"{path}: 'testbench' must be an object or null")
        _numbers(tb, keys, path, "testbench.")
    expected = f"{c['model']}-{c['firmware']}"
    if expected != d.name:
        raise DashboardError(f"{path}: written for model {c['model']!r} / firmware "
                             f"{c['firmware']!r}, which belongs in {d.parent / expected}, not "
                             f"{d}; rerun make hls-csim or move the project")


def _check_synth(s, path, d: Path, csim, csim_path, fw):
    """Schema, and that the report is this design's: part, top module, clock."""
    lat = _need(s, "latency", path, kind=dict)
    _check_latency(lat, path)
    _check_resources(_need(s, "resources", path, kind=dict), path)
    clock = s.get("clock") or {}
    if not isinstance(clock, dict):
        raise DashboardError(f"{path}: 'clock' must be an object")
    _numbers(clock, ("target_ns", "estimated_ns", "uncertainty_ns"), path, "clock.")
    mods = s.get("modules") or []
    if not isinstance(mods, list):
        raise DashboardError(f"{path}: 'modules' must be a list")
    for i, m in enumerate(mods):
        _need(m, "name", path, f"modules[{i}].")
        _numbers(m, RESOURCES + ("latency_best_cycles", "latency_worst_cycles"), path,
                 f"modules[{i}].")
    if s.get("vivado_synth") is not None:
        _check_resources(s["vivado_synth"], path, "vivado_synth.")

    if csim is not None:
        ref, ref_path = {"part": csim.get("part"), "clock": csim.get("clock_period_ns")}, csim_path
    elif fw is not None:
        ref, ref_path = {"part": fw["part"], "clock": fw["clock_period"]}, Path(fw["path"])
    else:
        ref, ref_path = {"part": None, "clock": None}, None
    part = s.get("part")
    if part and ref["part"] and part.lower() != ref["part"].lower():
        raise DashboardError(f"{path}: part {part!r} does not match {ref_path}: part "
                             f"{ref['part']!r}; this synthesis report belongs to another design "
                             f"(rerun make synth for {d.name})")
    top = s.get("top_module")
    expected, where = _project_name(d)
    if expected is None:
        expected, where = PROJECT_NAME, ref_path or "hls/csim.py (project name)"
    if top and top != expected:
        raise DashboardError(f"{path}: top module {top!r} is not this project's {expected!r} "
                             f"({where}); the synthesis report belongs to another design")
    target = clock.get("target_ns")
    if target is not None and ref["clock"] is not None and abs(target - ref["clock"]) > 1e-6:
        raise DashboardError(f"{path}: clock target {target} ns does not match {ref_path}: "
                             f"{ref['clock']} ns; the synthesis report belongs to another "
                             f"build of {d.name} (rerun make synth)")


def _synth_missing_reason(backend, model, firmware):
    tool = TOOLS.get(backend)
    if tool is None:
        return "not run"
    if shutil.which(tool) is None:
        return f"not run ({tool} not on PATH)"
    return f"not run ({tool} is on PATH: make synth MODEL={model} FW={firmware})"


def collect_designs(root: Path, models: list[dict], not_run: list) -> list[dict]:
    designs = []
    if not root.is_dir():
        return designs
    by_key = {(m["model"], m["quantized"]): m for m in models}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        csim_path, synth_path = d / "csim_report.json", d / "synth_report.json"
        est_path = d / "estimate.json"
        has_marker = (d / "qpart_project.json").is_file()
        if not (csim_path.is_file() or synth_path.is_file() or has_marker or est_path.is_file()):
            continue
        csim = read_json(csim_path) if csim_path.is_file() else None
        if csim is not None:
            _check_csim(csim, csim_path, d)
        model, firmware = _identity(d, csim)
        fw = _firmware(firmware) if firmware else None
        synth = read_json(synth_path) if synth_path.is_file() else None
        if synth is not None:
            _check_synth(synth, synth_path, d, csim, csim_path, fw)
        backend = (csim or {}).get("backend") or (fw or {}).get("backend")
        part = (csim or {}).get("part") or (fw or {}).get("part") or (synth or {}).get("part")
        capacity = _part_capacity(part, fw)
        est = None
        if est_path.is_file():
            from hls.estimate import EstimateError, check_estimate

            try:
                est = check_estimate(read_json(est_path), est_path)
            except EstimateError as err:
                raise DashboardError(str(err)) from None
        metrics = by_key.get((model, True))
        bops = None
        if metrics and fw is not None and not changes_arithmetic(fw):  # else BOPs do not hold
            bops = metrics["metrics"].get("bops")
        design = {
            "name": d.name, "dir": str(d), "model": model, "firmware": firmware,
            "backend": backend, "part": part, "fw_config": fw["path"] if fw else None,
            "clock_ns": (csim or {}).get("clock_period_ns") or (fw or {}).get("clock_period"),
            "csim_path": str(csim_path) if csim else None, "csim": csim,
            "synth_path": str(synth_path) if synth else None, "synth": synth,
            "capacity": capacity, "bops": bops, "metrics_path": metrics["path"] if metrics else None,
            "estimate_path": str(est_path) if est else None, "estimate": est,
            "estimate_util": utilization(est["resources"], capacity) if est else None,
        }
        if csim is None:
            design["csim_status"] = "not run (no csim_report.json; make hls-csim)"
            not_run.append(f"{d.name}: C simulation not run (no {csim_path})")
        else:
            design["csim_status"] = "ok"
        if synth is None:
            reason = _synth_missing_reason(backend, model, firmware)
            design["synth_status"] = reason
            design["synth_note"] = "synthesis: " + reason.replace(" (", "\n(", 1)
            design["utilization"] = design["vivado_util"] = None
            not_run.append(f"{d.name}: synthesis {reason}")
        else:
            design["synth_status"] = "ok"
            design["utilization"] = utilization(synth["resources"], capacity)
            vs = synth.get("vivado_synth")
            design["vivado_util"] = None if vs is None else {
                r: v["pct"] for r, v in utilization(vs, capacity).items()}
            if vs is None:
                not_run.append(f"{d.name}: Vivado logic synthesis not run (make synth VSYNTH=1)")
            if synth.get("cosim") is None:
                not_run.append(f"{d.name}: C/RTL co-simulation not run (make synth COSIM=1)")
        if csim is not None and csim.get("testbench") is None:
            not_run.append(f"{d.name}: standalone testbench route not run")
        designs.append(design)
    return designs


# ---------------------------------------------------------------------------- scans


def collect_scans(root: Path) -> list[dict]:
    scans = []
    if not root.is_dir():
        return scans
    for path in sorted(root.glob("*/scan.json")):
        data = read_json(path)
        meta = {}
        if isinstance(data, dict):
            points = _need(data, "points", path, kind=list)
            meta = data
        elif isinstance(data, list):
            points = data
        else:
            raise DashboardError(f"{path}: must be a list of points or an object with 'points'")
        name = path.parent.name
        model = meta.get("model") or (name.rsplit("-", 1)[0] if "-" in name else name)
        firmware = meta.get("firmware") or (name.rsplit("-", 1)[1] if "-" in name else None)
        fw = _firmware(firmware) if firmware else None
        part = meta.get("part") or (fw or {}).get("part")
        capacity = _part_capacity(part, fw)
        rows = []
        for i, p in enumerate(points):
            where = f"points[{i}]."
            label = _need(p, "label", path, where)
            _numbers(p, ("reuse_factor", "keras_accuracy", "csim_accuracy",
                         "bit_exact_fraction", "bops"), path, where)
            prec = p.get("precision")
            if prec is not None and not isinstance(prec, dict):
                raise DashboardError(f"{path}: {where}precision must be an object")
            synth = p.get("synth")
            util = None
            if synth is not None:
                if not isinstance(synth, dict):
                    raise DashboardError(f"{path}: {where}synth must be an object or null")
                _check_latency(synth.get("latency") or {}, path, f"{where}synth.latency.")
                _check_resources(_need(synth, "resources", path, f"{where}synth.", dict), path,
                                 f"{where}synth.resources.")
                util = utilization(synth["resources"], capacity)
            est = p.get("estimate")
            if est is not None:
                from hls.estimate import EstimateError, check_estimate

                try:
                    check_estimate(dict(est, layers=[]), f"{path}: {where}estimate")
                except EstimateError as err:
                    raise DashboardError(str(err)) from None
            rows.append({**p, "label": str(label), "utilization": util,
                         "estimate_util": utilization(est["resources"], capacity) if est
                         else None})
        scans.append({"name": name, "path": str(path), "model": model, "firmware": firmware,
                      "part": part, "points": rows})
    return scans


# ---------------------------------------------------------------------------- bench


def _flatten(obj, prefix="", out=None):
    out = [] if out is None else out
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, list) and obj and all(not isinstance(v, (dict, list)) for v in obj):
        out.append((prefix, ", ".join(_fmt(v) for v in obj[:12]) +
                    (f", … ({len(obj)} items)" if len(obj) > 12 else "")))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _flatten(v, f"{prefix}[{i}]", out)
    else:
        out.append((prefix, obj))
    return out


def collect_bench(root: Path) -> list[dict]:
    if not root.is_dir():
        return []
    return [{"name": p.stem, "path": str(p), "flat": _flatten(read_json(p))}
            for p in sorted(root.glob("*.json"))]


def collect(build: Path) -> dict:
    build = Path(build)
    if not build.is_dir():
        raise DashboardError(f"{build}: no such build directory (run make train / make hls-csim "
                             "first, or pass --build)")
    warnings, not_run = [], []
    models = collect_models(build / "models", warnings)
    designs = collect_designs(build / "hls", models, not_run)
    scans = collect_scans(build / "scan")
    for s in scans:
        n = sum(p.get("synth") is None for p in s["points"])
        if n:
            not_run.append(f"scan {s['name']}: synthesis not run for {n} of {len(s['points'])} "
                           "points")
    bench = collect_bench(build / "bench")
    if not models:
        not_run.append("training: no build/models/*/metrics.json (make train)")
    if not designs:
        not_run.append("hls-csim: no build/hls/<model>-<fw>/csim_report.json (make hls-csim)")
    if not scans:
        not_run.append("scan: no build/scan/*/scan.json (make scan)")
    if not bench:
        not_run.append("bench: no build/bench/*.json (make bench)")
    return {"build": str(build), "models": models, "designs": designs, "scans": scans,
            "bench": bench, "warnings": warnings, "not_run": not_run}


# ============================================================================ accuracy points


def _acc(obj):
    """(accuracy, kind): C-simulation accuracy, else the Keras model's, else (None, None)."""
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


def accuracy_points(data: dict) -> list[dict]:
    """Every design and scan point with an accuracy, its resource figures (synthesised, and
    estimated LUT / DSP) and BOPs."""
    points = []
    for d in data["designs"]:
        if d["csim"] is None:
            continue
        acc, kind = _acc(d["csim"]["predict"])
        res, pct = binding(d["utilization"])
        est_res, est_pct = _lut_dsp(d["estimate_util"])
        points.append({"label": d["name"], "source": "designs (build/hls)", "accuracy": acc,
                       "accuracy_kind": kind, "binding": res, "util_max": pct,
                       "est_binding": est_res, "est_util": est_pct,
                       "bops": d["bops"], "model": d["model"], "ref": d})
    for s in data["scans"]:
        for p in s["points"]:
            acc, kind = _acc(p)
            res, pct = binding(p["utilization"])
            est_res, est_pct = _lut_dsp(p.get("estimate_util"))
            points.append({"label": p["label"], "source": f"scan {s['name']}", "accuracy": acc,
                           "accuracy_kind": kind, "binding": res, "util_max": pct,
                           "est_binding": est_res, "est_util": est_pct,
                           "bops": p.get("bops"), "model": s["model"], "ref": p})
    return points


def accuracy_panels(points: list[dict], models: list[dict]) -> list[dict]:
    from hls.plots import pareto_front

    have = [p for p in points if p["accuracy"] is not None]
    synth = [p for p in have if p["util_max"] is not None]
    estimated = [p for p in have if p["util_max"] is None and p["est_util"] is not None]
    bops = [p for p in have if p["util_max"] is None and p["est_util"] is None and p["bops"]]
    rest = [p for p in have if p["util_max"] is None and p["est_util"] is None
            and not p["bops"]]
    involved = {p["model"] for p in have}
    refs = [(f"{m['model']} float twin (metrics.json)", m["metrics"]["accuracy"])
            for m in models if not m["quantized"] and m["model"] in involved
            and m["metrics"].get("accuracy") is not None]
    panels = []
    if synth:
        panels.append({"kind": "resources", "points": synth, "xkey": "util_max", "refs": refs,
                       "xlabel": "binding resource: max utilisation of LUT/FF/DSP/BRAM/URAM "
                                 "(% of the part)",
                       "title": "synthesised: accuracy vs resources (HLS estimate)"})
    if estimated:
        panels.append({"kind": "estimate", "points": estimated, "xkey": "est_util", "refs": refs,
                       "xlabel": "ESTIMATED max(LUT, DSP) utilisation (% of the part; "
                                 "make estimate, not synthesised)",
                       "title": "synthesis not run: accuracy vs estimated resources"})
    if bops:
        vals = [p["bops"] for p in bops]
        panels.append({"kind": "bops", "points": bops, "xkey": "bops", "refs": refs,
                       "log": max(vals) / min(vals) > 20,
                       "xlabel": "BOPs (metrics.json / scan point) - resource proxy",
                       "title": "synthesis not run: accuracy vs BOPs instead of resources"})
    if rest:
        panels.append({"kind": "label", "points": rest, "refs": refs,
                       "title": "synthesis not run, no BOPs: accuracy per configuration"})
    for panel in panels:
        front = pareto_front(panel["points"], panel["xkey"]) if panel["kind"] != "label" else []
        for p in front:
            p["pareto"] = panel["kind"]
    return panels


# ============================================================================ plots


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def make_plots(data: dict, out: Path):
    """Write every plot the data allows; returns (written [{file, title, section}],
    skipped [{plot, reason}])."""
    from hls import plots as P

    written, skipped = [], []

    def run(fn, args, file, title, section):
        fn(*args, out / file)
        written.append({"file": file, "title": title, "section": section})

    models, designs = data["models"], data["designs"]
    if models:
        run(P.training_plot, (models,), "training.png",
            "Training metrics: accuracy, macro AUC, rejection (quantized vs float twin)",
            "models")
    else:
        skipped.append({"plot": "training.png", "reason": "no metrics.json (make train)"})
    with_csim = [d for d in designs if d["csim"] is not None]
    if with_csim:
        run(P.fidelity_plot, (with_csim,), "fidelity.png",
            "C-simulation fidelity per design, both routes", "fidelity")
    else:
        skipped.append({"plot": "fidelity.png", "reason": "no csim_report.json (make hls-csim)"})
    if any(d["synth"] for d in designs):
        run(P.resources_plot, (designs,), "resources.png",
            "Resource utilisation per design (% of the part)", "synthesis")
        run(P.latency_plot, (designs,), "latency.png",
            "Latency per design (cycles and ns)", "synthesis")
    else:
        reason = "no synth_report.json in any design (make synth)"
        skipped += [{"plot": "resources.png", "reason": reason},
                    {"plot": "latency.png", "reason": reason}]
    points = accuracy_points(data)
    panels = accuracy_panels(points, models)
    data["points"] = points
    if panels:
        run(P.pareto_plot, (panels,), "pareto.png",
            "Accuracy vs resources across firmware configs and precisions (Pareto front)",
            "pareto")
    else:
        skipped.append({"plot": "pareto.png",
                        "reason": "no design or scan point with an accuracy"})
    for d in designs:
        if d["synth"] and d["synth"].get("modules"):
            run(P.layers_plot, (d,), f"layers_{_safe(d['name'])}.png",
                f"{d['name']}: resources per module (synthesis report)", "layers")
        elif d["synth"]:
            skipped.append({"plot": f"layers_{_safe(d['name'])}.png",
                            "reason": f"{d['synth_path']} has no module rows"})
    for m in models:  # the quantized models are the ones that become firmware
        if m["quantized"] and any((r.get("bops") or 0) > 0 for r in m["metrics"].get("cost_per_layer") or []):
            run(P.bops_plot, (m,), f"bops_{_safe(m['dir'])}.png",
                f"{m['label']}: BOPs per layer (metrics.json cost_per_layer)", "layers")
    return written, skipped


# ============================================================================ HTML


def _fmt(v, digits=4) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:.{digits}g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _e(v) -> str:
    return html.escape(_fmt(v) if not isinstance(v, str) else v)


def _td(v, digits=4, cls=None):
    text = _fmt(v, digits)
    klass = cls or ("num" if _is_num(v) else "")
    if v is None:
        klass = "missing"
    return f'<td class="{klass}">{html.escape(text)}</td>'


def _notrun(text) -> str:
    return f'<td class="notrun">{html.escape(text)}</td>'


def _table(headers, rows, caption=None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "\n".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (f'<div class="tablewrap"><table>{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>\n{body}\n</tbody></table></div>")


def _figures(written, section) -> str:
    out = []
    for p in written:
        if p["section"] == section:
            f = html.escape(p["file"])
            out.append(f'<figure><a href="{f}"><img src="{f}" alt="{html.escape(p["title"])}">'
                       f"</a><figcaption>{html.escape(p['title'])} ({f})</figcaption></figure>")
    return "\n".join(out)


def _skipped(skipped, names) -> str:
    rows = [s for s in skipped if s["plot"] in names]
    return "".join(f'<p class="notrun-p">{html.escape(s["plot"])}: not written '
                   f"({html.escape(s['reason'])})</p>" for s in rows)


def _pct(util, r) -> str:
    v = util[r]
    if v["used"] is None:
        return "<td class='missing'>—</td>"
    pct = "n/a (part has none)" if v["pct"] is None and v["available"] == 0 else (
        "—" if v["pct"] is None else f"{v['pct']:.2f}%")
    return (f'<td class="num">{v["used"]:,} / {_fmt(v["available"])}'
            f"<br><span class='sub'>{pct}</span></td>")


def _models_section(data, written, skipped, copied) -> str:
    models = data["models"]
    if not models:
        return "<p class='notrun-p'>No trained model found: not run (make train).</p>"
    rows = []
    for m in models:
        x = m["metrics"]
        bops = x.get("bops")
        rows.append([f"<td>{_e(m['model'])}</td>",
                     f"<td>{'quantized' if m['quantized'] else 'float'}</td>",
                     _td(x.get("accuracy")), _td(x.get("macro_auc")),
                     _td(x.get("parameters")),
                     _td(None if bops is None else bops / 1e6, 4),
                     _td(x.get("n_train")), _td(x.get("n_jets")), _td(x.get("epochs_run")),
                     _td(x.get("train_seconds")), f"<td>{_e(m['path'])}</td>"])
    table = _table(["model", "variant", "test accuracy", "macro AUC", "parameters", "MBOPs",
                    "train jets", "test jets", "epochs", "train s", "source"], rows)
    pairs = {m["model"] for m in models if not m["quantized"]} & \
        {m["model"] for m in models if m["quantized"]}
    note = ""
    for name in sorted(pairs):
        q = next(m for m in models if m["model"] == name and m["quantized"])["metrics"]
        f = next(m for m in models if m["model"] == name and not m["quantized"])["metrics"]
        if q.get("accuracy") is not None and f.get("accuracy") is not None:
            note += (f"<p>{_e(name)}: quantized {q['accuracy']:.4f} vs float twin "
                     f"{f['accuracy']:.4f} accuracy (Δ {q['accuracy'] - f['accuracy']:+.4f}).</p>")
    extra = ""
    if copied:
        items = "".join(f'<figure class="small"><a href="{html.escape(c)}"><img src="'
                        f'{html.escape(c)}" alt="{html.escape(c)}"></a><figcaption>'
                        f"{html.escape(c)}</figcaption></figure>" for c in copied)
        extra = (f"<details><summary>Training plots of each model ({len(copied)}, copied from "
                 f"build/models)</summary><div class='grid'>{items}</div></details>")
    return (table + note + _figures(written, "models") + _skipped(skipped, ["training.png"])
            + extra)


def _designs_section(data) -> str:
    if not data["designs"]:
        return "<p class='notrun-p'>No hls4ml project found: not run (make hls-csim).</p>"
    rows = []
    for d in data["designs"]:
        c, s = d["csim"], d["synth"]
        if c is None:
            csim = _notrun(d["csim_status"])
        else:
            p = c["predict"]
            exact = p.get("bit_exact_fraction")
            ok = exact == 1 and (c.get("testbench") is None
                                 or c["testbench"].get("bit_exact_fraction") == 1)
            if ok:
                csim = f'<td class="ok">bit-exact on {_e(p.get("n_jets"))} jets</td>'
            else:
                csim = (f'<td class="bad">MISMATCH (predict: {_e(exact)} of '
                        f'{_e(p.get("n_jets"))} jets bit-exact)</td>')
        tb = "—" if c is None else ("run" if c.get("testbench") else None)
        if s is None:
            synth = _notrun("synthesis: " + d["synth_status"])
            vs = cos = _notrun("not run")
        else:
            synth = f"<td class='ok'>{_e(s.get('tool') or 'HLS')} {_e(s.get('tool_version'))}</td>"
            vs = (_notrun("not run") if s.get("vivado_synth") is None else
                  f"<td>{_e(s['vivado_synth'].get('tool_version') or 'run')}</td>")
            cosim = s.get("cosim")
            if cosim is None:
                cos = _notrun("not run")
            else:
                st = cosim.get("status") or "no RTL ran"
                cos = f"<td class='{'ok' if st == 'pass' else 'bad'}'>{_e(st)}</td>"
        rows.append([f"<td>{_e(d['name'])}</td>", f"<td>{_e(d['model'])}</td>",
                     f"<td>{_e(d['firmware'])}</td>", f"<td>{_e(d['backend'])}</td>",
                     f"<td>{_e(d['part'])}</td>", _td(d["clock_ns"]), csim,
                     _notrun("not run") if tb is None else f"<td>{tb}</td>", synth, vs, cos])
    return _table(["design", "model", "firmware", "backend", "part", "clock ns", "C simulation",
                   "testbench route", "HLS synthesis", "Vivado synthesis", "co-simulation"], rows)


def _fidelity_section(data, written, skipped) -> str:
    rows = []
    for d in data["designs"]:
        c = d["csim"]
        if c is None:
            rows.append([f"<td>{_e(d['name'])}</td>", "<td>—</td>",
                         _notrun("not run (no csim_report.json)")] + ["<td>—</td>"] * 9)
            continue
        for route in ("predict", "testbench"):
            r = c.get(route)
            if r is None:
                rows.append([f"<td>{_e(d['name'])}</td>", f"<td>{route}</td>",
                             _notrun("not run")] + ["<td class='missing'>—</td>"] * 9)
                continue
            fdl = c.get("first_divergent_layer")
            exact = r.get("bit_exact_fraction")
            rows.append([
                f"<td>{_e(d['name'])}</td>", f"<td>{route}</td>", _td(r.get("n_jets")),
                _td(exact, cls="num ok" if exact == 1 else "num bad"),
                _td(r.get("max_abs_diff_lsb")), _td(r.get("argmax_agreement")),
                _td(r.get("keras_accuracy")), _td(r.get("csim_accuracy")),
                _td(r.get("compile_seconds")), _td(r.get("jets_per_second")),
                _td(r.get("equals_predict")) if route == "testbench" else "<td>—</td>",
                f"<td>{_e(fdl['layer'] if isinstance(fdl, dict) else fdl)}</td>"])
    if not rows:
        return "<p class='notrun-p'>No csim_report.json: C simulation not run (make hls-csim).</p>"
    return (_table(["design", "route", "jets", "bit-exact fraction", "max |diff| LSB",
                    "argmax agreement", "Keras accuracy", "C-sim accuracy", "compile s",
                    "jets/s", "equals predict", "first divergent layer"], rows)
            + _figures(written, "fidelity") + _skipped(skipped, ["fidelity.png"]))


def _synthesis_section(data, written, skipped) -> str:
    timing, resources = [], []
    for d in data["designs"]:
        s = d["synth"]
        name = f"<td>{_e(d['name'])}</td>"
        if s is None:
            status = _notrun("synthesis: " + d["synth_status"])
            timing.append([name, status] + ["<td class='missing'>—</td>"] * 7)
            resources.append([name, status] + ["<td class='missing'>—</td>"] * len(RESOURCES))
            continue
        lat, clk, util = s["latency"], s.get("clock") or {}, d["utilization"]
        est, tgt = clk.get("estimated_ns"), clk.get("target_ns")
        closes = None if est is None or tgt is None else est <= tgt
        cosim = s.get("cosim")
        if cosim is None:
            cos = _notrun("not run")
        else:
            st = cosim.get("status") or "no RTL ran"
            cos = (f"<td class='{'ok' if st == 'pass' else 'bad'}'>{_e(st)}"
                   + (f" ({_fmt(cosim.get('latency_max'))} cycles)"
                      if cosim.get("latency_max") is not None else "") + "</td>")
        tool = f"<td>{_e(s.get('tool'))} {_e(s.get('tool_version'))}</td>"
        timing.append([name, tool, f"<td>{_e(s.get('part'))}</td>", _td(tgt),
                       _td(est, cls="num ok" if closes else ("num bad" if closes is False
                                                             else None)),
                       f"<td class='num'>{_fmt(lat.get('best_cycles'))} / "
                       f"{_fmt(lat.get('worst_cycles'))}</td>",
                       f"<td class='num'>{_fmt(lat.get('best_ns'))} / "
                       f"{_fmt(lat.get('worst_ns'))}</td>",
                       f"<td class='num'>{_fmt(lat.get('interval_min'))} / "
                       f"{_fmt(lat.get('interval_max'))}</td>", cos])
        resources.append([name, "<td>HLS estimate</td>"] + [_pct(util, r) for r in RESOURCES])
        vs = s.get("vivado_synth")
        if vs is None:
            resources.append([name, _notrun("Vivado logic synthesis: not run")]
                             + ["<td class='missing'>—</td>"] * len(RESOURCES))
        else:
            vutil = utilization(vs, d["capacity"])
            resources.append([name, f"<td>Vivado {_e(vs.get('tool_version'))} logic synthesis"
                                    f"<br><span class='sub'>{_e(vs.get('device'))}</span></td>"]
                             + [_pct(vutil, r) for r in RESOURCES])
    if not timing:
        return "<p class='notrun-p'>No design found.</p>"
    return ("<h3>Latency and timing</h3>"
            + _table(["design", "tool", "part", "clock target ns", "estimated ns",
                      "latency cycles best / worst", "latency ns best / worst", "II min / max",
                      "C/RTL co-simulation"], timing)
            + "<h3>Resources (used / available, % of the part)</h3>"
            + _table(["design", "source"] + [RES_LABEL[r] for r in RESOURCES], resources)
            + _figures(written, "synthesis") + _skipped(skipped, ["resources.png", "latency.png"]))


def _estimate_section(data) -> str:
    """Every design's pre-synthesis estimate; beside a synthesis report, the report / estimate
    ratio of each figure. Estimated and synthesised rows are labelled and never merged."""
    rows = []
    for d in data["designs"]:
        name = f"<td>{_e(d['name'])}</td>"
        est = d["estimate"]
        if est is None:
            rows.append([name, _notrun("estimate: not run (make estimate)")]
                        + ["<td class='missing'>—</td>"] * (len(RESOURCES) + 4))
            continue
        lat, fit, util = est["latency"], est["fit"], d["estimate_util"]
        region = est.get("largest_region") or {}
        verdict = ("<td class='ok'>fits</td>" if fit["fits"] else
                   f"<td class='bad'>does not fit: "
                   f"{_e(', '.join(fit.get('over_budget', []) + fit.get('over_slr', [])) or 'region')}"
                   "</td>")
        rows.append([name, "<td>estimate (pre-synthesis)</td>"]
                    + [_pct(util, r) for r in RESOURCES]
                    + [f"<td class='num'>{_fmt(lat['interval_max'])} ({_fmt(lat['interval_ns'])} ns)"
                       "</td>",
                       f"<td class='num'>{_fmt(lat['worst_cycles'])} ({_fmt(lat['worst_ns'])} ns)"
                       "</td>",
                       _td(region.get("unrolled_mults")), verdict])
        s = d["synth"]
        if s is not None:
            slat = s["latency"]
            rows.append([name, "<td>synthesised (HLS report)</td>"]
                        + [_pct(d["utilization"], r) for r in RESOURCES]
                        + [_td(slat.get("interval_max")), _td(slat.get("worst_cycles")),
                           "<td>—</td>", "<td>—</td>"])

            def ratio(a, b):
                return _td(None if a is None or not b else a / b, 3)
            rows.append([name, "<td>ratio synthesised / estimate</td>"]
                        + [ratio(d["utilization"][r]["used"], util[r]["used"]) for r in RESOURCES]
                        + [ratio(slat.get("interval_max"), lat["interval_max"]),
                           ratio(slat.get("worst_cycles"), lat["worst_cycles"]),
                           "<td>—</td>", "<td>—</td>"])
    if not rows:
        return "<p class='notrun-p'>No design found.</p>"
    return ("<p>From hls/estimate.py: counted from the model and the firmware config's folding, "
            "mapped to resources by rules fitted on public HLS reports (docs/hls.md states "
            "their error). An estimate, not a synthesis result.</p>"
            + _table(["design", "source"] + [RES_LABEL[r] for r in RESOURCES]
                     + ["II cycles", "latency cycles", "largest region (mults)", "verdict"],
                     rows))


def _precision(p) -> str:
    prec = p.get("precision")
    if not prec:
        return "—"
    return ", ".join(f"{k}={v}" for k, v in prec.items())


def _pareto_section(data, written, skipped) -> str:
    points = data.get("points") or []
    parts = [_figures(written, "pareto"), _skipped(skipped, ["pareto.png"])]
    if points:
        rows = []
        for p in points:
            util = p["ref"].get("utilization") if isinstance(p["ref"], dict) else None
            synth = ("yes" if p["util_max"] is not None else None)
            rows.append([
                f"<td>{_e(p['source'])}</td>", f"<td>{_e(p['label'])}</td>",
                _td(p["accuracy"]), f"<td>{_e(p['accuracy_kind'])}</td>",
                f"<td>{synth}</td>" if synth else _notrun("synthesis not run"),
                (f"<td class='num'>{p['util_max']:.2f}% ({RES_LABEL[p['binding']]})</td>"
                 if p["util_max"] is not None else "<td class='missing'>—</td>"),
                _td(util["DSP"]["pct"], 3) if util else "<td class='missing'>—</td>",
                _td(util["LUT"]["pct"], 3) if util else "<td class='missing'>—</td>",
                _td(p["bops"]),
                f"<td class='ok'>✓ ({p['pareto']})</td>" if p.get("pareto") else "<td></td>"])
        parts.append(_table(["source", "design / point", "accuracy", "from", "synthesised",
                             "binding resource", "DSP %", "LUT %", "BOPs", "Pareto front"], rows))
    for s in data["scans"]:
        rows = []
        for p in s["points"]:
            syn = p.get("synth")
            lat = (syn or {}).get("latency") or {}
            util = p["utilization"]
            rows.append([f"<td>{_e(p['label'])}</td>", f"<td>{_e(_precision(p))}</td>",
                         _td(p.get("reuse_factor")), _td(p.get("keras_accuracy")),
                         _td(p.get("csim_accuracy")), _td(p.get("bit_exact_fraction")),
                         *([_notrun("synthesis not run")] + ["<td class='missing'>—</td>"] * 3
                           if syn is None else
                           [_td(lat.get("worst_cycles")), _td(lat.get("worst_ns")),
                            _td(util["LUT"]["pct"], 3), _td(util["DSP"]["pct"], 3)])])
        parts.append(f"<h3>Scan {_e(s['name'])} <span class='sub'>({_e(s['path'])}, part "
                     f"{_e(s['part'])})</span></h3>")
        parts.append(_table(["point", "precision", "reuse", "Keras accuracy", "C-sim accuracy",
                             "bit-exact", "latency cycles (worst) / synthesis",
                             "latency ns (worst)", "LUT %", "DSP %"], rows))
    if not data["scans"]:
        parts.append("<p class='notrun-p'>Design-space scan: not run (no build/scan/*/scan.json; "
                     "make scan).</p>")
    return "\n".join(x for x in parts if x)


def _layers_section(data, written, skipped) -> str:
    body = _figures(written, "layers") + _skipped(
        skipped, [s["plot"] for s in skipped if s["plot"].startswith("layers_")])
    return body or "<p class='notrun-p'>No module rows (synthesis not run) and no " \
                   "cost_per_layer in metrics.json.</p>"


def _bench_section(data) -> str:
    if not data["bench"]:
        return "<p class='notrun-p'>Benchmarks: not run (no build/bench/*.json; make bench).</p>"
    out = []
    for b in data["bench"]:
        rows = [[f"<td>{_e(k)}</td>", _td(v)] for k, v in b["flat"][:80]]
        more = len(b["flat"]) - 80
        table = _table(["key", "value"], rows)
        if more > 0:
            table += f"<p class='sub'>… {more} more values in {_e(b['path'])}</p>"
        opened = " open" if len(b["flat"]) <= 25 else ""
        out.append(f"<details{opened}><summary>{_e(b['name'])} <span class='sub'>({_e(b['path'])}, "
                   f"{len(b['flat'])} values)</span></summary>{table}</details>")
    return "\n".join(out)


CSS = """
body{font-family:"DejaVu Sans",system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;
 background:#f4f6f8;color:#1d232a;font-size:14px;line-height:1.4}
header{background:#1f3b57;color:#fff;padding:14px 28px}
header h1{margin:0 0 4px;font-size:22px}
header .meta{font-size:12px;opacity:.85}
nav{margin-top:8px}
nav a{color:#cfe3ff;margin-right:14px;text-decoration:none;font-size:13px}
main{max-width:1360px;margin:0 auto;padding:4px 24px 40px}
section{background:#fff;border:1px solid #d9dee4;border-radius:6px;padding:10px 18px 14px;
 margin:14px 0}
h2{margin:4px 0 10px;font-size:18px;border-bottom:1px solid #e6e9ed;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 6px}
.tablewrap{overflow-x:auto;margin:6px 0 10px}
table{border-collapse:collapse;font-size:12.5px}
caption{text-align:left;font-weight:bold;padding:4px 0}
th,td{border:1px solid #d5dae0;padding:3px 7px;vertical-align:top}
th{background:#eaeff4;text-align:left;font-weight:600}
td{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.missing{color:#8a9099;text-align:center}
td.notrun{color:#8a4b00;background:#fff3df;font-style:italic}
td.ok,span.ok{color:#146b2e}
td.bad,span.bad{color:#b00020;font-weight:bold}
.sub{color:#66707a;font-size:11.5px}
.notrun-p{color:#8a4b00;background:#fff3df;padding:4px 8px;border-radius:3px;font-style:italic}
.callout{border-left:4px solid #e69a28;background:#fff8ec;padding:6px 14px;margin:10px 0}
.callout ul{margin:4px 0;padding-left:20px}
figure{margin:10px 0 16px}
figure img{max-width:100%;height:auto;border:1px solid #e3e6ea;display:block}
figcaption{font-size:12px;color:#555;margin-top:3px}
.grid{display:flex;flex-wrap:wrap;gap:10px}
figure.small{width:420px;margin:6px 0}
details{margin:6px 0}
summary{cursor:pointer;font-weight:600}
.counts span{display:inline-block;margin-right:18px}
"""


def render_html(data, written, skipped, copied, generated) -> str:
    designs = data["designs"]
    n_synth = sum(d["synth"] is not None for d in designs)
    counts = (f"<span>{len(data['models'])} trained model(s)</span>"
              f"<span>{len(designs)} design(s), {sum(d['csim'] is not None for d in designs)} "
              f"C-simulated, {n_synth} synthesised</span>"
              f"<span>{len(data['scans'])} scan(s)</span>"
              f"<span>{len(data['bench'])} benchmark file(s)</span>"
              f"<span>{len(written)} plot(s)</span>")
    notrun = "".join(f"<li>{html.escape(x)}</li>" for x in data["not_run"])
    warn = "".join(f"<li>{html.escape(x)}</li>" for x in data["warnings"])
    sections = [
        ("models", "Trained models", _models_section(data, written, skipped, copied)),
        ("designs", "Designs (build/hls/&lt;model&gt;-&lt;fw&gt;)", _designs_section(data)),
        ("fidelity", "C-simulation fidelity (Keras vs hls4ml, in output LSBs)",
         _fidelity_section(data, written, skipped)),
        ("estimate", "Estimate: resources, II and latency before synthesis",
         _estimate_section(data)),
        ("synthesis", "Synthesis: latency and resources", _synthesis_section(data, written,
                                                                              skipped)),
        ("pareto", "Accuracy vs resources", _pareto_section(data, written, skipped)),
        ("layers", "Per layer", _layers_section(data, written, skipped)),
        ("bench", "Benchmarks (build/bench)", _bench_section(data)),
    ]
    nav = "".join(f'<a href="#{sid}">{title.split(" (")[0].split(":")[0]}</a>'
                  for sid, title, _ in sections)
    body = "\n".join(f'<section id="{sid}"><h2>{title}</h2>\n{content}\n</section>'
                     for sid, title, content in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>qpart latency/resource dashboard</title>
<style>{CSS}</style></head>
<body>
<header><h1>qpart latency / resource dashboard</h1>
<div class="meta">build directory {html.escape(data['build'])} &middot; generated {generated}
 &middot; <a style="color:#cfe3ff" href="dashboard.json">dashboard.json</a></div>
<nav>{nav}</nav></header>
<main>
<section id="summary"><h2>Summary</h2><div class="counts">{counts}</div>
<div class="callout"><b>Not run / missing</b> (nothing below is filled in; pre-synthesis
estimates are labelled "estimate" and kept apart from synthesis results; missing figures show
as "—"):<ul>{notrun or "<li>everything was run</li>"}</ul></div>
{f'<div class="callout"><b>Warnings</b><ul>{warn}</ul></div>' if warn else ""}
</section>
{body}
</main></body></html>
"""


# ============================================================================ driver


def _summary_json(data, written, skipped, copied, generated, out) -> dict:
    return {
        "schema_version": SCHEMA_VERSION, "generated": generated, "build": data["build"],
        "out": str(out),
        "found": {
            "models": [{"dir": m["dir"], "model": m["model"], "quantized": m["quantized"],
                        "metrics": m["path"]} for m in data["models"]],
            "designs": [{"name": d["name"], "model": d["model"], "firmware": d["firmware"],
                         "backend": d["backend"], "part": d["part"],
                         "csim_report": d["csim_path"], "synth_report": d["synth_path"],
                         "estimate": d["estimate_path"],
                         "csim": d["csim_status"], "synthesis": d["synth_status"],
                         "vivado_synth": None if d["synth"] is None else
                         ("run" if d["synth"].get("vivado_synth") else "not run"),
                         "cosim": None if d["synth"] is None else
                         ((d["synth"].get("cosim") or {}).get("status") or "not run")}
                        for d in data["designs"]],
            "scans": [{"name": s["name"], "path": s["path"], "points": len(s["points"]),
                       "synthesised": sum(p.get("synth") is not None for p in s["points"])}
                      for s in data["scans"]],
            "bench": [{"name": b["name"], "path": b["path"]} for b in data["bench"]],
        },
        "plots": written,
        "plots_not_written": skipped,
        "copied": copied,
        "pareto_front": [{"label": p["label"], "source": p["source"], "axis": p["pareto"]}
                         for p in data.get("points", []) if p.get("pareto")],
        # accuracy points: synthesised utilisation (util_max) and, apart, the estimate's
        "points": [{k: p[k] for k in ("label", "source", "accuracy", "accuracy_kind", "binding",
                                      "util_max", "est_binding", "est_util", "bops")}
                   for p in data.get("points", [])],
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


def build_dashboard(build="build", out="build/reports") -> dict:
    """Collect, plot, write index.html and dashboard.json; returns the summary dict."""
    build, out = Path(build), Path(out)
    data = collect(build)
    out.mkdir(parents=True, exist_ok=True)
    _clean_previous(out)
    written, skipped = make_plots(data, out)
    copied = []
    for m in data["models"]:
        for src in m["plots"]:
            rel = f"models/{_safe(m['dir'])}/{src.name}"
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, out / rel)
            copied.append(rel)
    generated = time.strftime("%Y-%m-%d %H:%M:%S")
    (out / "index.html").write_text(render_html(data, written, skipped, copied, generated))
    summary = _summary_json(data, written, skipped, copied, generated, out)
    (out / "dashboard.json").write_text(json.dumps(summary, indent=1, allow_nan=False,
                                                   default=str) + "\n")
    return summary


def find_chromium():
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html_path, png, width=1400, height=3000, timeout=180):
    """Render `html_path` in headless Chromium into `png`. DashboardError when Chromium is not
    installed or writes no image."""
    exe = find_chromium()
    if exe is None:
        raise DashboardError(f"screenshot: no Chromium on PATH (looked for {', '.join(CHROMIUM)});"
                             " install it, e.g. apt-get install chromium")
    page = Path(html_path).resolve()
    if not page.is_file():
        raise DashboardError(f"{page}: no such HTML file to screenshot")
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()
    with tempfile.TemporaryDirectory(prefix="qpart-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
               f"--screenshot={png}", f"--window-size={width},{height}", page.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DashboardError(f"screenshot: {exe} did not finish within {timeout} s") from None
    if proc.returncode != 0 or not png.is_file() or png.stat().st_size == 0:
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-8:])
        raise DashboardError(f"screenshot: {exe} exited with {proc.returncode} and wrote no "
                             f"{png}:\n{tail}")
    return png


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default="build", help="the build directory to read")
    p.add_argument("--out", default="build/reports", help="where the dashboard goes")
    p.add_argument("--screenshot", default=None,
                   help="also render index.html in headless Chromium into this PNG")
    args = p.parse_args(argv)
    try:
        summary = build_dashboard(args.build, args.out)
        f = summary["found"]
        print(f"[report] {len(f['models'])} model(s), {len(f['designs'])} design(s) "
              f"({sum(d['synth_report'] is not None for d in f['designs'])} synthesised), "
              f"{len(f['scans'])} scan(s), {len(f['bench'])} bench file(s)")
        for line in summary["not_run"]:
            print(f"[report] not run: {line}")
        print(f"[report] {len(summary['plots'])} plot(s) -> {args.out}/index.html")
        if args.screenshot:
            print(f"[report] screenshot -> {screenshot(Path(args.out) / 'index.html', args.screenshot)}")
    except QpartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
