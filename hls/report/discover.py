"""What the pipeline left under build/: models, designs, scans, searches and benchmarks, read
through the validators of the modules that write them (model.metrics, hls.csim_report,
hls.synth_report, hls.estimate, hls.points), plus the checks that span files: a
report in the project directory of another design (part, top module, clock) stops the run,
naming both."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

from data.pairmode import MODES
from hls.common import PROJECT_NAME, RESOURCES, TOOLS, fmt
from hls.csim_report import check_csim_report
from hls.estimate import check_estimate
from hls.points import budget_target, check_point, check_result, summarise
from hls.synth_report import check_synth_report
from infra.checks import need, read_json
from infra.errors import QpartError
from model.metrics import check_metrics_json

MODEL_PLOTS = ("history.png", "roc.png", "confusion.png")
# a search point's pair_features (model.builder.pair_mode) -> its words
PAIR_MODES = {name: mode.label for name, mode in MODES.items()}


class DashboardError(QpartError, RuntimeError):
    """Input the dashboard cannot use; the message names the file(s) and what is wrong."""


def _firmware(name):
    """The firmware config `name` (hls/firmware.py), or None when it does not load."""
    try:
        from hls.firmware import load_firmware
        from infra.yamlconfig import ConfigError
    except Exception:  # noqa: BLE001  (the dashboard still works from the JSON alone)
        return None
    try:
        return load_firmware(name)
    except (ConfigError, OSError):
        return None


def _design_firmware(name, *reports):
    """A design's firmware config: the file its own reports record (`configs.firmware.path`:
    a user's config outside firmware_configs/ is found too), else the shipped one named
    `name`; None when neither loads."""
    for r in reports:
        cfg = r.get("configs") if isinstance(r, dict) else None
        cfg = cfg.get("firmware") if isinstance(cfg, dict) else None
        path = cfg.get("path") if isinstance(cfg, dict) else None
        if isinstance(path, str) and Path(path).is_file():
            fw = _firmware(path)
            if fw is not None:
                return fw
    return _firmware(name) if name else None


def _changes_arithmetic(fw) -> bool:
    from hls.firmware import changes_arithmetic

    return changes_arithmetic(fw)


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


def background_jets(metrics: dict, background="QCD") -> int | None:
    """The number of background test jets: the largest finite rejection 1/eps_B a model can
    show (one jet passing), and the lower bound where none passed."""
    names, conf = metrics.get("class_names") or [], metrics.get("confusion")
    if background in names and conf:  # rows: the true class
        return int(sum(conf[names.index(background)]))
    bound = metrics.get("rejection_at_50pct_lower_bound") or {}
    return max(bound.values()) if bound else None


FIDELITY_KEYS = ("bit_exact_fraction", "argmax_agreement", "max_abs_diff_lsb")


def constant_fidelity(designs: list[dict]) -> dict:
    """{figure: value} for each C-simulation figure that has one value on every route of
    every design that ran (bit-exact fraction 1, max difference 0): a sentence, not a chart."""
    values = {k: set() for k in FIDELITY_KEYS}
    for d in designs:
        for route in ("predict", "testbench"):
            r = (d.get("csim") or {}).get(route)
            if r is not None:
                for k in FIDELITY_KEYS:
                    values[k].add(r.get(k))
    return {k: next(iter(v)) for k, v in values.items() if len(v) == 1 and None not in v}


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
        m = check_metrics_json(read_json(path), path)
        if "rejection_at_50pct" in m:  # null: no background jet passed (a lower bound)
            m["rejection_at_50pct"] = {
                c: (math.inf if v is None else v) for c, v in m["rejection_at_50pct"].items()
            }
        quantized = m.get("quantized", not d.name.endswith("-float"))
        name = m.get("model") or (d.name[: -len("-float")] if d.name.endswith("-float") else d.name)
        models.append(
            {
                "dir": d.name,
                "path": str(path),
                "model": name,
                "quantized": bool(quantized),
                "label": f"{name} ({'quantized' if quantized else 'float'})",
                "metrics": m,
                "plots": [d / p for p in MODEL_PLOTS if (d / p).is_file()],
            }
        )
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
    """csim_report.json's schema (hls/csim_report.py), and that it is this directory's."""
    check_csim_report(c, path)
    expected = f"{c['model']}-{c['firmware']}"
    if expected != d.name:
        raise DashboardError(
            f"{path}: written for model {c['model']!r} / firmware "
            f"{c['firmware']!r}, which belongs in {d.parent / expected}, not "
            f"{d}; rerun make hls-csim or move the project"
        )


def _check_synth(s, path, d: Path, csim, csim_path, fw):
    """synth_report.json's schema (hls/synth_report.py), and that the report is this
    design's: part, top module, clock."""
    check_synth_report(s, path)
    clock = s.get("clock") or {}
    if csim is not None:
        ref, ref_path = {"part": csim.get("part"), "clock": csim.get("clock_period_ns")}, csim_path
    elif fw is not None:
        ref, ref_path = {"part": fw["part"], "clock": fw["clock_period"]}, Path(fw["path"])
    else:
        ref, ref_path = {"part": None, "clock": None}, None
    part = s.get("part")
    if part and ref["part"] and part.lower() != ref["part"].lower():
        raise DashboardError(
            f"{path}: part {part!r} does not match {ref_path}: part "
            f"{ref['part']!r}; this synthesis report belongs to another design "
            f"(rerun make synth for {d.name})"
        )
    top = s.get("top_module")
    expected, where = _project_name(d)
    if expected is None:
        expected, where = PROJECT_NAME, ref_path or "hls/csim.py (project name)"
    if top and top != expected:
        raise DashboardError(
            f"{path}: top module {top!r} is not this project's {expected!r} "
            f"({where}); the synthesis report belongs to another design"
        )
    target = clock.get("target_ns")
    if target is not None and ref["clock"] is not None and abs(target - ref["clock"]) > 1e-6:
        raise DashboardError(
            f"{path}: clock target {target} ns does not match {ref_path}: "
            f"{ref['clock']} ns; the synthesis report belongs to another "
            f"build of {d.name} (rerun make synth)"
        )


def _budget(fw, est) -> dict | None:
    """The budget a design is checked against: its firmware config's (resource share of the
    part, latency and II in ns), else the share its estimate.json was checked against."""
    if fw is not None:
        return {**budget_target(fw), "from": fw["path"]}
    frac = ((est or {}).get("fit") or {}).get("budget_fraction")
    if frac is None:
        return None
    return {"resources": frac, "latency_ns": None, "ii_ns": None, "from": "estimate.json"}


def _check_rtl(r, path) -> dict:
    """rtl_report.json (the RTL route's report, beside the design): a `source` (what measured
    it, e.g. a da4ml cost or yosys) and resources as synth_report.json has them; a latency
    where the route gives one."""
    from infra.checks import SchemaError, numbers

    need(r, "source", path, kind=str)
    res = need(r, "resources", path, kind=dict)
    for k, v in res.items():
        if not isinstance(v, dict):
            raise SchemaError(f"{path}: resources.{k} must be an object with 'used'")
        numbers(v, ("used", "available", "utilization_pct"), path, f"resources.{k}.")
    lat = r.get("latency")
    if lat is not None:
        keys = tuple(k for k in lat if k != "pipeline_type")  # the one word among numbers
        numbers(need(r, "latency", path, kind=dict), keys, path, "latency.")
    return r


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
        synth = read_json(synth_path) if synth_path.is_file() else None
        est = check_estimate(read_json(est_path), est_path) if est_path.is_file() else None
        fw = _design_firmware(firmware, csim, synth, est)
        if synth is not None:
            _check_synth(synth, synth_path, d, csim, csim_path, fw)
        backend = (csim or {}).get("backend") or (fw or {}).get("backend")
        part = (csim or {}).get("part") or (fw or {}).get("part") or (synth or {}).get("part")
        capacity = _part_capacity(part, fw)
        rtl_path = d / "rtl_report.json"
        rtl = _check_rtl(read_json(rtl_path), rtl_path) if rtl_path.is_file() else None
        metrics = by_key.get((model, True))
        bops = None
        if metrics and fw is not None and not _changes_arithmetic(fw):  # else BOPs do not hold
            bops = metrics["metrics"].get("bops")
        design = {
            "name": d.name,
            "dir": str(d),
            "model": model,
            "firmware": firmware,
            "backend": backend,
            "part": part,
            "fw_config": fw["path"] if fw else None,
            "clock_ns": (csim or {}).get("clock_period_ns") or (fw or {}).get("clock_period"),
            "csim_path": str(csim_path) if csim else None,
            "csim": csim,
            "synth_path": str(synth_path) if synth else None,
            "synth": synth,
            "capacity": capacity,
            "bops": bops,
            "metrics_path": metrics["path"] if metrics else None,
            "estimate_path": str(est_path) if est else None,
            "estimate": est,
            "estimate_util": utilization(est["resources"], capacity) if est else None,
            "budget": _budget(fw, est),
            "rtl": rtl,
            "rtl_path": str(rtl_path) if rtl else None,
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
            design["vivado_util"] = (
                None if vs is None else {r: v["pct"] for r, v in utilization(vs, capacity).items()}
            )
            if vs is None:
                not_run.append(f"{d.name}: Vivado logic synthesis not run (make synth VSYNTH=1)")
            if synth.get("cosim") is None:
                not_run.append(f"{d.name}: C/RTL co-simulation not run (make synth COSIM=1)")
        if csim is not None and csim.get("testbench") is None:
            not_run.append(f"{d.name}: standalone testbench route not run")
        designs.append(design)
    return designs


def collect_rtl_designs(root: Path, not_run: list) -> list[dict]:
    """The RTL route's designs (build/rtl/<model>-<fw>/, make rtl): rtl_report.json (latency
    counted in registers; resources by da4ml cost or yosys, each labelled) and, where make
    rtl-sim ran, rtlsim_report.json (csim_report.json's schema: Verilator against Keras).
    Each has the keys of an HLS design that the overview and the accuracy plots read."""
    from hls.rtl import REPORT, SIM_REPORT

    designs = []
    if not root.is_dir():
        return designs
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        rtl_path, sim_path = d / REPORT, d / SIM_REPORT
        if not rtl_path.is_file():
            if (d / "qpart_project.json").is_file():
                not_run.append(f"{d.name}: make rtl did not finish (no {rtl_path})")
            continue
        rtl = _check_rtl(read_json(rtl_path), rtl_path)
        for key in ("model", "firmware"):
            need(rtl, key, rtl_path, kind=str)
        if f"{rtl['model']}-{rtl['firmware']}" != d.name:
            raise DashboardError(
                f"{rtl_path}: written for model {rtl['model']!r} / firmware "
                f"{rtl['firmware']!r}, not for {d.name}; rerun make rtl or move the design"
            )
        sim = read_json(sim_path) if sim_path.is_file() else None
        if sim is not None:
            _check_csim(sim, sim_path, d)
        fw = _design_firmware(rtl["firmware"], rtl)
        yosys = rtl.get("yosys") or {}
        design = {
            "name": d.name,
            "route": "rtl",
            "dir": str(d),
            "model": rtl["model"],
            "firmware": rtl["firmware"],
            "backend": "rtl",
            "part": rtl.get("part") or (fw or {}).get("part"),
            "fw_config": fw["path"] if fw else None,
            "clock_ns": (rtl.get("clock") or {}).get("target_ns"),
            "csim_path": str(sim_path) if sim else None,
            "csim": sim,
            "csim_status": "ok" if sim else "not run (no rtlsim_report.json; make rtl-sim)",
            "synth": None,
            "capacity": _part_capacity(rtl.get("part"), fw),
            "bops": None,
            "estimate": None,
            "estimate_util": None,
            "budget": _budget(fw, None),
            "rtl": rtl,
            "rtl_path": str(rtl_path),
            "stages": rtl.get("stages"),
            "yosys_unfinished": yosys.get("unfinished"),
        }
        design["utilization"] = utilization(rtl["resources"], design["capacity"])
        if sim is None:
            not_run.append(f"{d.name}: Verilator simulation not run (make rtl-sim)")
        if not yosys:
            not_run.append(f"{d.name}: yosys not run (make rtl-synth); LUT by da4ml cost")
        designs.append(design)
    return designs


# ---------------------------------------------------------------------------- scans, searches


def _points_of(path: Path, result: dict | None, warnings: list) -> dict:
    """A scan's or a search's result (hls.points.check_result), or, where the run stopped
    before writing it, its kept points (points/<id>.json) flagged as interrupted; each point's
    config files, which the page links to, looked up so that a missing one is a warning, not
    a dead link, and its synthesised utilisation."""
    folder = path.parent
    if result is None:  # interrupted: what the points folder holds
        kept = []
        for f in sorted((folder / "points").glob("*.json")):
            kept.append(check_point(read_json(f), f, ""))
        kind = "scan" if path.name == "scan.json" else "search"
        result = {
            "kind": kind,
            "target": None,
            "points": kept,
            "modes": summarise(kept, None),
            "interrupted": True,
        }
    fw = _firmware(result["firmware"]) if result.get("firmware") else None
    for i, p in enumerate(result["points"]):
        p["files"] = {}
        for key in ("config", "firmware_config"):
            if not p.get(key):
                continue
            rel = Path(p[key])
            if rel.is_absolute() or ".." in rel.parts:
                raise DashboardError(
                    f"{path}: points[{i}].{key} {p[key]!r} must be relative to {folder} (no '..')"
                )
            src = folder / rel
            p["files"][key] = src if src.is_file() else None
            if not src.is_file():
                warnings.append(f"{path}: point {p['id']}: {key} {src} is missing")
        est, syn = p.get("estimate"), p.get("synth")
        part = (est or {}).get("part") or result.get("part")
        p["utilization"] = (
            utilization(syn["resources"], _part_capacity(syn.get("part") or part, fw))
            if syn
            else None
        )
        p["estimate_util"] = utilization(est["resources"], None) if est else None
    done = sum(p["status"] == "done" for p in result["points"])
    return {
        **result,
        "name": folder.name,
        "path": str(path),
        "done": done,
        "all_failed": bool(result["points"]) and done == 0,
    }


def collect_points(build: Path, warnings: list) -> list[dict]:
    """build/scan/<model>-<fw>/scan.json and build/search/<space>/search.json (one schema:
    hls/points.py; a broken file stops the run naming it), and the folders of runs that were
    interrupted before writing theirs (points/ only)."""
    found = []
    for root, file in ((build / "scan", "scan.json"), (build / "search", "search.json")):
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            path = folder / file
            if path.is_file():
                found.append(_points_of(path, check_result(read_json(path), path), warnings))
            elif any((folder / "points").glob("*.json")):
                found.append(_points_of(path, None, warnings))
    return found


# ---------------------------------------------------------------------------- bench


def _flatten(obj, prefix="", out=None):
    out = [] if out is None else out
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, list) and obj and all(not isinstance(v, (dict, list)) for v in obj):
        out.append(
            (
                prefix,
                ", ".join(fmt(v) for v in obj[:12])
                + (f", … ({len(obj)} items)" if len(obj) > 12 else ""),
            )
        )
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _flatten(v, f"{prefix}[{i}]", out)
    else:
        out.append((prefix, obj))
    return out


def collect_bench(root: Path) -> list[dict]:
    if not root.is_dir():
        return []
    return [
        {"name": p.stem, "path": str(p), "flat": _flatten(read_json(p))}
        for p in sorted(root.glob("*.json"))
    ]


def collect(build: Path) -> dict:
    build = Path(build)
    if not build.is_dir():
        raise DashboardError(
            f"{build}: no such build directory (run make train / make hls-csim "
            "first, or pass --build)"
        )
    warnings, not_run = [], []
    models = collect_models(build / "models", warnings)
    designs = collect_designs(build / "hls", models, not_run)
    rtl_designs = collect_rtl_designs(build / "rtl", not_run)
    searches = collect_points(build, warnings)
    for s in searches:
        n = sum(p.get("synth") is None for p in s["points"])
        if s["kind"] == "scan" and n:
            not_run.append(
                f"scan {s['name']}: synthesis not run for {n} of {len(s['points'])} points"
            )
        if s.get("interrupted"):
            warnings.append(
                f"{s['kind']} {s['name']}: interrupted ({len(s['points'])} point(s) kept, no "
                f"{Path(s['path']).name}); rerun the same command to finish it"
            )
        if s["all_failed"]:
            warnings.append(
                f"{s['kind']} {s['name']}: none of its {len(s['points'])} points is done"
            )
    scans = [s for s in searches if s["kind"] == "scan"]
    bench = collect_bench(build / "bench")
    if not models:
        not_run.append("training: no build/models/*/metrics.json (make train)")
    if not designs:
        not_run.append("hls-csim: no build/hls/<model>-<fw>/csim_report.json (make hls-csim)")
    if not scans:
        not_run.append("scan: no build/scan/*/scan.json (make scan)")
    if not [s for s in searches if s["kind"] == "search"]:
        not_run.append("search: no build/search/*/search.json (make scan SPACE=<space>)")
    if not bench:
        not_run.append("bench: no build/bench/*.json (make bench)")
    return {
        "build": str(build),
        "models": models,
        "designs": designs,
        "rtl_designs": rtl_designs,
        "searches": searches,
        "bench": bench,
        "warnings": warnings,
        "not_run": not_run,
    }
