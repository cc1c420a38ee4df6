"""`make synth`: C synthesis (and optionally Vivado logic synthesis / RTL co-simulation) of the
project that `make hls-csim` wrote, through hls4ml's build, then synth_report.json.

The HLS tool must be on PATH: `vivado_hls` for the Vivado backend, `vitis-run` (Vitis 2023.2
and later, what hls4ml 1.3.0's Vitis backend calls) for the Vitis backend. Without it this says
so in one line and exits non-zero, having written nothing: synthesis figures are never made up.

Several designs (`make synth MODEL=a,b FW=x,y`: every model on every firmware) are one Dask task
each (hls/cluster.py, DASK_SCHEDULER), each finished design printed as it ends; a failed one
is reported with its error and does not stop the others; a design whose synth_report.json is
newer than its project and its weights is skipped (FORCE=1 redoes it). On a remote scheduler
or a batch system the tool is looked for on the worker that runs the design.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import sys
import time
from pathlib import Path

from data.errors import QpartError
from hls.common import TOOLS
from hls.csim import MARKER, project_dir
from hls.firmware import load_firmware

EXIT_NO_TOOL = 3


class SynthError(QpartError, RuntimeError):
    """A synthesis run that cannot start or whose reports cannot be read."""


def run(
    model_name: str,
    fw_name: str,
    vsynth=False,
    cosim=False,
    hls_root="build/hls",
    models_root="build/models",
) -> dict:
    from hls import autofold
    from hls.convert import convert
    from hls.firmware import convert_kwargs, firmware_model
    from hls.synth_report import write_synth_report
    from model import builder
    from model.train import load_trained, model_dir

    fw = load_firmware(fw_name)
    prj = project_dir(model_name, fw["name"], hls_root)
    if not (prj / MARKER).exists():
        raise SynthError(
            f"{prj}: no hls-csim project (run make hls-csim MODEL={model_name} "
            f"FW={fw['name']} first)"
        )
    cfg = builder.load_config(model_name)
    keras_model = firmware_model(
        load_trained(model_dir(cfg["name"], True, models_root), cfg), cfg, fw
    )
    fw = autofold.resolve(keras_model, fw)
    hls_model = convert(keras_model, prj, **convert_kwargs(fw))
    hls_model.write()
    print(
        f"[synth] {TOOLS[fw['backend']]}: C synthesis of {prj}"
        + (" + Vivado synthesis" if vsynth else "")
        + (" + co-simulation" if cosim else ""),
        flush=True,
    )
    hls_model.build(csim=False, synth=True, vsynth=vsynth, cosim=cosim)
    report = write_synth_report(prj, prj / "synth_report.json")
    print(f"[synth] -> {prj}/synth_report.json", flush=True)
    return report


def synth_design(model_name, fw_path, vsynth, cosim, hls_root, models_root) -> dict:
    """One design (one Dask task): its synthesis report's figures, or the error that stopped
    it (the HLS tool missing on this worker included)."""
    t0 = time.perf_counter()
    row = {"model": model_name, "firmware": Path(fw_path).stem, "host": socket.gethostname()}
    try:
        fw = load_firmware(fw_path)
        row["firmware"] = fw["name"]
        tool = TOOLS[fw["backend"]]
        if shutil.which(tool) is None:
            raise SynthError(f"{tool} ({fw['backend']} HLS) is not on PATH on {row['host']}")
        report = run(model_name, fw_path, vsynth, cosim, hls_root, models_root)
        row.update(status="done", latency=report.get("latency"), resources=report.get("resources"))
    except Exception as err:  # the design's own failure: reported, the others go on
        row.update(status="error", error=f"{type(err).__name__}: {err}")
    row["seconds"] = round(time.perf_counter() - t0, 1)
    return row


def up_to_date(model_name, fw_name, hls_root, models_root) -> bool:
    """synth_report.json is newer than the project's marker and the trained weights."""
    from model import builder
    from model.train import model_dir

    prj = project_dir(model_name, fw_name, hls_root)
    report = prj / "synth_report.json"
    if not report.exists() or not (prj / MARKER).exists():
        return False
    weights = model_dir(builder.load_config(model_name)["name"], True, models_root) / "model.keras"
    inputs = [prj / MARKER] + ([weights] if weights.exists() else [])
    return all(report.stat().st_mtime > p.stat().st_mtime for p in inputs)


def run_many(
    models,
    fws,
    vsynth=False,
    cosim=False,
    hls_root="build/hls",
    models_root="build/models",
    scheduler="serial",
    workers=None,
    force=False,
) -> list[dict]:
    """Every model on every firmware, one task each on `scheduler`; the rows in that order."""
    from hls import cluster

    fw_cfgs = [load_firmware(f) for f in fws]
    designs = [(m, fw) for m in models for fw in fw_cfgs]
    rows: list[dict | None] = [None] * len(designs)
    todo = []
    for i, (m, fw) in enumerate(designs):
        if not force and up_to_date(m, fw["name"], hls_root, models_root):
            print(f"[synth] {m} / {fw['name']}: synth_report.json up to date, skipped", flush=True)
            prj = project_dir(m, fw["name"], hls_root)
            report = json.loads((prj / "synth_report.json").read_text())
            rows[i] = {
                "model": m,
                "firmware": fw["name"],
                "status": "done",
                "skipped": True,
                "latency": report.get("latency"),
                "resources": report.get("resources"),
            }
        else:
            todo.append(i)
    absolute = [str(Path(p).resolve()) for p in (hls_root, models_root)]
    args = [
        (designs[i][0], str(Path(designs[i][1]["path"]).resolve()), vsynth, cosim, *absolute)
        for i in todo
    ]
    if todo:
        print(f"[synth] {len(todo)} design(s), scheduler {scheduler}", flush=True)

    def record(j, outcome):
        if isinstance(outcome, BaseException):  # the cluster lost the task
            m, fw = designs[todo[j]]
            return {
                "model": m,
                "firmware": fw["name"],
                "status": "error",
                "error": cluster.lost_error(outcome),
            }
        return outcome

    for j, row in cluster.run_reported(
        synth_design,
        args,
        scheduler,
        workers,
        "synth",
        record,
        lambda r: f"{r['model']} / {r['firmware']}: {_line(r)}",
    ):
        rows[todo[j]] = row
    return rows


def _line(row: dict) -> str:
    if row["status"] != "done":
        return f"failed: {row['error']}"
    lat, res = row.get("latency") or {}, row.get("resources") or {}
    return f"latency {lat.get('worst_cycles')} cycles, " + ", ".join(
        f"{k} {v['used']}" for k, v in res.items() if isinstance(v, dict) and "used" in v
    )


def _names(text: str) -> list[str]:
    return [t for t in (s.strip() for s in text.split(",")) if t]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="part_tiny", help="a model config, or several: a,b")
    p.add_argument("--fw", default="vu13p", help="a firmware config, or several: x,y")
    p.add_argument("--vsynth", type=int, choices=(0, 1), default=0)
    p.add_argument("--cosim", type=int, choices=(0, 1), default=0)
    p.add_argument("--hls-root", default="build/hls")
    p.add_argument("--models-root", default="build/models")
    p.add_argument("--force", type=int, choices=(0, 1), default=0)
    p.add_argument(
        "--scheduler",
        default="serial",
        help="where the designs run (hls/cluster.py): serial, local, tcp://host:port or a "
        "dask-jobqueue file",
    )
    p.add_argument("--workers", type=int, default=None, help="with --scheduler local")
    args = p.parse_args(argv)
    models, fws = _names(args.model), _names(args.fw)
    try:
        backends = {load_firmware(f)["backend"] for f in fws}
    except QpartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.scheduler in ("serial", "local"):  # the workers are this machine: look here
        missing = [f"{TOOLS[b]} ({b} HLS)" for b in sorted(backends) if not shutil.which(TOOLS[b])]
        if missing:
            print(
                f"make synth: {' and '.join(missing)} is not on PATH; run make synth where it is "
                "installed, then make report reads the reports",
                file=sys.stderr,
            )
            return EXIT_NO_TOOL
    try:
        rows = run_many(
            models,
            fws,
            bool(args.vsynth),
            bool(args.cosim),
            args.hls_root,
            args.models_root,
            args.scheduler,
            args.workers,
            bool(args.force),
        )
    except QpartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    failed = [r for r in rows if r["status"] != "done"]
    for r in failed:
        print(f"error: {r['model']} / {r['firmware']}: {r['error']}", file=sys.stderr)
    if len(rows) == 1 and not failed:
        print(json.dumps({k: rows[0].get(k) for k in ("latency", "resources")}, indent=1))
    if failed and all("not on PATH" in r["error"] for r in failed):
        return EXIT_NO_TOOL
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
