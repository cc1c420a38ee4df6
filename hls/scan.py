"""`make scan`: one trained model under a grid of precisions and reuse factors (or, with
`SPACE=<space>`, a design-space search that trains every point: hls/search.py).

The grid is the `scan:` section of a firmware config:

    scan:
      precision:                 # model quantization keys -> values; the grid is their product
        act_t: [ap_fixed<16,6,AP_RND_CONV,AP_SAT>, ap_fixed<12,5,AP_RND_CONV,AP_SAT>]
        weight_bits: [8, 6]
      reuse_factor: [1, 4]
      n_jets: 500

A row is one (precision, reuse factor) pair and one task (hls/cluster.py: serial, a local Dask
cluster, a running scheduler or a batch system): it rebuilds the Keras model around the trained
weights at that precision (hls.firmware), measures its accuracy, converts it at that reuse
factor, compiles and C-simulates it bit for bit against Keras, estimates it (hls/estimate.py)
and synthesizes it where the HLS tool is on the worker's PATH. Folding changes the schedule,
not the arithmetic, so every row of one precision has the same figures, and each row proves it
on its own project. Rows are kept as they finish (points/<id>.json); a rerun skips the rows
whose configs, weights and data are unchanged; a failed row is recorded with its stage and
error. Output: build/scan/<model>-<fw>/scan.json, read by the dashboard.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from pathlib import Path

from hls.common import TOOLS
from infra.checks import SchemaError, need, numbers
from infra.paths import BUILD
from infra.yamlconfig import REQUIRED, ConfigError, validate

SCAN_SCHEMA = {
    "precision": (dict, REQUIRED),
    "reuse_factor": (list, [1]),
    "n_jets": (int, 500),
}


def scan_grid(fw: dict) -> tuple[list[dict], list[int], int]:
    """The precision points, reuse factors and jet count of a firmware config's scan section."""
    from hls.firmware import check_value
    from model import builder

    where = f"{fw['path']}: scan"
    if not fw.get("scan"):
        raise ConfigError(f"{fw['path']}: no scan: section (see hls/scan.py for its format)")
    spec = validate(fw["scan"], SCAN_SCHEMA, where)
    quant_keys = builder.SCHEMA["quantization"][0]
    axes = []
    for key, values in spec["precision"].items():
        if key not in quant_keys:
            raise ConfigError(
                f"{where}.precision: unknown key {key!r}; allowed: the model "
                f"quantization keys {', '.join(quant_keys)}"
            )
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}.precision.{key} must be a non-empty list")
        for i, value in enumerate(values):
            check_value(fw["path"], f"scan.precision.{key}[{i}]", key, value)
        axes.append([(key, v) for v in values])
    for i, rf in enumerate(spec["reuse_factor"]):
        if not isinstance(rf, int) or isinstance(rf, bool) or rf < 1:
            raise ConfigError(f"{where}.reuse_factor[{i}] must be an int >= 1, got {rf!r}")
    points = [dict(combo) for combo in itertools.product(*axes)] if axes else [{}]
    return points, spec["reuse_factor"], spec["n_jets"]


def _label(precision: dict) -> str:
    """Short: 'act_t<12,5> weight_bits=6' (a type's rounding/overflow modes left out)."""

    def short(key, value):
        if key.endswith("_t"):
            return (
                f"{key}<{value.split('<', 1)[1].split(',')[0]},{value.split(',')[1].rstrip('>')}>"
            )
        return f"{key}={value}"

    return " ".join(short(k, v) for k, v in precision.items()) or "as trained"


def inputs_digest(fw_path, cfg_path, trained_dir: Path, data_dir) -> str:
    """What every row depends on: the firmware and model configs, the trained weights and the
    data (read once per scan, not per row)."""
    files = (fw_path, cfg_path, trained_dir / "model.keras")
    from hls.design import file_sha256

    return json.dumps([*(file_sha256(f) for f in files), str(data_dir)])


def point_spec(inputs: str, precision, rf, n_jets) -> str:
    """What a row depends on: the scan's inputs (inputs_digest), its precision, reuse factor
    and jet count (a rerun skips a row whose spec is unchanged)."""
    text = json.dumps([inputs, precision, rf, n_jets], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _empty_row(precision, rf) -> dict:
    """A row before it is done: no figures, failed at stage config until it gets further."""
    row = {"label": f"{_label(precision)} RF={rf}", "precision": precision, "reuse_factor": rf}
    row.update({k: None for k in POINT_NUMBERS[1:]}, n_jets=None, synth=None, estimate=None)
    return dict(row, status="error", stage="config", error=None)


def scan_point(model_name, fw_path, precision, rf, n_jets, data_dir, models_root, prj) -> dict:
    """One row (one Dask task): the trained model at `precision` and reuse factor `rf`
    (hls.design), estimated and C-simulated against Keras in `prj` (hls.runner), synthesized
    where the HLS tool is on this worker's PATH. Never raises for the point's own failure: the
    row records the stage and the error."""
    from hls import runner, synth
    from hls.design import design
    from hls.estimate import summary
    from model import builder

    row = dict(_empty_row(precision, rf))
    d = None

    def assemble(row):
        nonlocal d
        d = design(model_name, fw_path, "trained", precision, rf, models_root, prj=prj)

    est = None

    def simulate(row):
        nonlocal est
        est, report = runner.simulate(d, data_dir, n_jets, force=True, testbench=False)
        row.update({k: report["predict"][k] for k in FIDELITY})
        point_cfg = dict(d.cfg, quantization={**d.cfg["quantization"], **d.fw["precision"]})
        row["bops"] = int(sum(r["bops"] for r in builder.cost_report(d.model, point_cfg)))

    def estimated(row):
        row["estimate"] = summary(est)

    def synthesize(row):
        missing = synth.tool_missing(d.fw["backend"])
        if missing:
            row["synthesis"] = f"not run ({TOOLS[d.fw['backend']]} not on PATH on {row['host']})"
        else:
            row["synth"] = synth.synthesize(d)
            row["synthesis"] = "run"
        row["stage"] = "done"

    return runner.run_point(
        row,
        [("convert", assemble), ("csim", simulate), ("estimate", estimated), ("synth", synthesize)],
    )


def run(
    model_name: str,
    fw_name: str,
    data_dir=str(BUILD.data),
    models_root=str(BUILD.models),
    scan_root=str(BUILD.scan),
    scheduler="serial",
    workers=None,
) -> dict:
    """Every row of the firmware config's scan grid, one task each on `scheduler`
    (hls.cluster), kept as it finishes; a rerun skips the rows already done."""
    from hls import cluster
    from hls.firmware import load_firmware
    from model import builder
    from model.train import check_trained, model_dir

    cfg = builder.load_config(model_name)
    fw = load_firmware(fw_name)
    points, reuse_factors, n_jets = scan_grid(fw)
    trained_dir = model_dir(cfg["name"], True, models_root)
    check_trained(trained_dir, cfg)
    out = Path(scan_root) / f"{cfg['name']}-{fw['name']}"
    (out / "points").mkdir(parents=True, exist_ok=True)
    grid = [(i, precision, rf) for i, precision in enumerate(points) for rf in reuse_factors]
    print(
        f"[scan] {cfg['name']} on {fw['name']}: {len(points)} precision point(s) x "
        f"{len(reuse_factors)} reuse factor(s), {n_jets} jets, scheduler {scheduler} -> {out}",
        flush=True,
    )
    ids = [f"point{i}_rf{rf}" for i, _, rf in grid]
    inputs = inputs_digest(fw["path"], cfg["path"], trained_dir, data_dir)
    specs = [point_spec(inputs, precision, rf, n_jets) for _, precision, rf in grid]
    # absolute paths: a worker on another host (shared file system) has another working dir
    absolute = [str(Path(p).resolve()) for p in (cfg["path"], fw["path"], data_dir, models_root)]
    jobs = [
        (pid, spec, (*absolute[:2], precision, rf, n_jets, *absolute[2:], (out / pid).resolve()))
        for pid, spec, (_, precision, rf) in zip(ids, specs, grid)
    ]

    def lost(k, err):
        _, precision, rf = grid[k]
        return dict(
            _empty_row(precision, rf), id=ids[k], stage="worker", error=cluster.lost_error(err)
        )

    t0 = time.perf_counter()
    rows = cluster.run_kept(
        scan_point, jobs, out / "points", scheduler, workers, "scan", lost, _line
    )
    synthesized = [r for r in rows if r.get("synth")]
    result = {
        "model": cfg["name"],
        "firmware": fw["name"],
        "backend": fw["backend"],
        "part": fw["part"],
        "scheduler": scheduler,
        "seconds": round(time.perf_counter() - t0, 1),
        "synthesis": f"run for {len(synthesized)} of {len(rows)} points"
        if synthesized
        else f"not run ({TOOLS[fw['backend']]} not on PATH)",
        "points": rows,
    }
    check_scan(result, out / "scan.json")
    (out / "scan.json").write_text(json.dumps(result, indent=1))
    failed = [r for r in rows if r["status"] != "done"]
    print(
        f"[scan] {len(rows) - len(failed)} of {len(rows)} points done"
        + (f", {len(failed)} failed" if failed else "")
        + f" -> {out}/scan.json",
        flush=True,
    )
    return result


def _line(row: dict) -> str:
    if row["status"] != "done":
        return f"error at {row['stage']}: {row['error']}"
    est = row["estimate"]
    return (
        f"Keras accuracy {row['keras_accuracy']:.4f}, bit-exact {row['bit_exact_fraction']:.4f}, "
        f"II {est['latency']['interval_max']} cycles, LUT {est['resources']['LUT']['used']}, "
        f"DSP {est['resources']['DSP']['used']} ({row['seconds']:.0f} s)"
    )


POINT_NUMBERS = ("reuse_factor", "keras_accuracy", "csim_accuracy", "bit_exact_fraction", "bops")
FIDELITY = ("keras_accuracy", "csim_accuracy", "bit_exact_fraction", "max_abs_diff_lsb", "n_jets")


def check_scan(data, path) -> list[dict]:
    """scan.json (an object with `points`, or a bare list of points): each point has a label,
    numbers or null for its figures, and `synth` (a synth_report.json's latency and resources)
    and `estimate` (hls.estimate.summary) objects or null. Returns the points."""
    from hls.estimate import check_estimate
    from hls.synth_report import check_synth_report

    if isinstance(data, dict):
        points = need(data, "points", path, kind=list)
    elif isinstance(data, list):
        points = data
    else:
        raise SchemaError(f"{path}: must be a list of points or an object with 'points'")
    for i, p in enumerate(points):
        where = f"points[{i}]."
        need(p, "label", path, where)
        numbers(p, POINT_NUMBERS, path, where)
        if p.get("status", "done") not in ("done", "error"):
            raise SchemaError(f"{path}: {where}status must be done or error, got {p['status']!r}")
        if p.get("status") == "error" and not p.get("error"):
            raise SchemaError(f"{path}: {where}a point that failed says why (error)")
        if p.get("precision") is not None and not isinstance(p["precision"], dict):
            raise SchemaError(f"{path}: {where}precision must be an object")
        if p.get("synth") is not None:
            if not isinstance(p["synth"], dict):
                raise SchemaError(f"{path}: {where}synth must be an object or null")
            check_synth_report(p["synth"], f"{path}: {where}synth")
        if p.get("estimate") is not None:
            check_estimate(dict(p["estimate"], layers=[]), f"{path}: {where}estimate")
    return points
