"""`make scan`: one trained model under a grid of precisions and reuse factors (or, with
`SPACE=<space>`, a design-space search that trains every point: hls/search.py).

The grid is the `scan:` section of a firmware config:

    scan:
      precision:                 # model quantization keys -> values; the grid is their product
        act_t: [ap_fixed<16,6,AP_RND_CONV,AP_SAT>, ap_fixed<12,5,AP_RND_CONV,AP_SAT>]
        weight_bits: [8, 6]
      reuse_factor: [1, 4]
      n_jets: 500

The scan is a generator of search points (hls/points.py) over the trained model, with the axes
`firmware.precision.<key>` and `firmware.reuse_factor` and no training stage: a point is one
(precision, reuse factor) pair, its firmware config written as configs/<id>_fw.yml, and one task
(hls/cluster.py: serial, a local Dask cluster, a running scheduler or a batch system). It
rebuilds the Keras model around the trained weights at that precision (hls.firmware), converts
it, compiles and C-simulates it bit for bit against Keras (its accuracy: the Keras model's on
those jets), estimates it (hls/estimate.py) and synthesizes it where the HLS tool is on the
worker's PATH. Folding changes the schedule, not the arithmetic, so every point of one
precision has the same accuracy, and each proves it on its own project (<id>/). Points are
kept as they finish (points/<id>.json); a rerun skips the points whose configs, weights and
data are unchanged; a failed point is recorded with its stage and error. The firmware config's
budget is the scan's target. Output: build/scan/<model>-<fw>/scan.json (the search's schema,
`kind: scan`), read by the dashboard.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from hls.common import TOOLS
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


def grid_overrides(fw: dict) -> tuple[list[dict], int]:
    """The scan's points as search points of the trained model: one {axis: value} mapping per
    (precision, reuse factor) pair, axes `firmware.precision.<key>` and
    `firmware.reuse_factor`; and the jet count."""
    precisions, reuse_factors, n_jets = scan_grid(fw)
    grid = [
        {
            **{f"firmware.precision.{k}": v for k, v in precision.items()},
            "firmware.reuse_factor": rf,
        }
        for precision in precisions
        for rf in reuse_factors
    ]
    return grid, n_jets


def run(
    model_name: str,
    fw_name: str,
    data_dir=str(BUILD.data),
    models_root=str(BUILD.models),
    scan_root=str(BUILD.scan),
    scheduler="serial",
    workers=None,
) -> dict:
    """Every point of the firmware config's scan grid, one task each on `scheduler`
    (hls.points, hls.cluster), kept as it finishes; a rerun skips the points already done."""
    from hls import points
    from hls.firmware import load_firmware
    from model import builder
    from model.train import check_trained, model_dir

    cfg = builder.load_config(model_name)
    fw = load_firmware(fw_name)
    grid, n_jets = grid_overrides(fw)
    trained_dir = model_dir(cfg["name"], True, models_root)
    check_trained(trained_dir, cfg)
    out = Path(scan_root) / f"{cfg['name']}-{fw['name']}"
    print(
        f"[scan] {cfg['name']} on {fw['name']}: {len(grid)} point(s) (precision x reuse factor), "
        f"{n_jets} jets, scheduler {scheduler} -> {out}",
        flush=True,
    )
    jobs = []
    for overrides in grid:
        files = points.write_configs(
            out, overrides, cfg["path"], fw["path"], f"scan {out.name}", own_model=False
        )
        prj = out / points.point_id(overrides)
        j = points.job(
            overrides, files, out, data_dir, n_jets, synth=True, models_root=models_root, prj=prj
        )
        jobs.append((j, points.depends_on([*files, trained_dir / "model.keras"], data_dir, n_jets)))
    t0 = time.perf_counter()
    records = points.run_points("scan", jobs, out, scheduler, workers)
    synthesized = sum(r.get("synth") is not None for r in records)
    meta = {
        "name": out.name,
        "description": f"{cfg['name']} (trained) under the scan: grid of {fw['path']}",
        "model": cfg["name"],
        "firmware": fw["name"],
        "backend": fw["backend"],
        "part": fw["part"],
        "data_dir": str(data_dir),
        "axes": {k: list(dict.fromkeys(g[k] for g in grid)) for k in grid[0]},
        "scheduler": scheduler,
        "synthesis": f"run for {synthesized} of {len(records)} points"
        if synthesized
        else f"not run ({TOOLS[fw['backend']]} not on PATH)",
    }
    result = points.result("scan", meta, records, points.budget_target(fw), t0)
    points.write_result(result, out / "scan.json")
    failed = [r for r in records if r["status"] != "done"]
    print(
        f"[scan] {len(records) - len(failed)} of {len(records)} points done"
        + (f", {len(failed)} failed" if failed else "")
        + f" -> {out}/scan.json",
        flush=True,
    )
    return result
