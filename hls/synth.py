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

import json
import shutil
import socket
import time
from pathlib import Path

from hls.common import TOOLS
from hls.csim import MARKER, record_entries
from hls.design import design, project_dir
from hls.firmware import load_firmware
from infra.errors import QpartError
from infra.paths import BUILD

EXIT_NO_TOOL = 3


class SynthError(QpartError, RuntimeError):
    """A synthesis run that cannot start or whose reports cannot be read."""


def synthesize(d, vsynth=False, cosim=False) -> dict:
    """The synthesis stage of design `d` (hls.design): hls4ml's build of its project, then
    synth_report.json. The tool must be on PATH (tool_missing)."""
    from hls.convert import convert
    from hls.synth_report import write_synth_report

    prj = d.prj
    hls_model = convert(d.model, prj, **d.convert_kwargs())
    hls_model.write()
    print(
        f"[synth] {TOOLS[d.fw['backend']]}: C synthesis of {prj}"
        + (" + Vivado synthesis" if vsynth else "")
        + (" + co-simulation" if cosim else ""),
        flush=True,
    )
    hls_model.build(csim=False, synth=True, vsynth=vsynth, cosim=cosim)
    report = write_synth_report(prj, prj / "synth_report.json", extra={"configs": d.configs})
    record_entries(prj)
    print(f"[synth] -> {prj}/synth_report.json", flush=True)
    return report


def run(
    model, fw, vsynth=False, cosim=False, hls_root=str(BUILD.hls), models_root=str(BUILD.models)
):
    """`make synth` of one design: the project `make hls-csim` wrote, synthesized."""
    d = design(model, fw, "trained", models_root=models_root, hls_root=hls_root)
    if not (d.prj / MARKER).exists():
        raise SynthError(
            f"{d.prj}: no hls-csim project (run make hls-csim MODEL={d.cfg['name']} "
            f"FW={d.fw['name']} first)"
        )
    return synthesize(d, vsynth, cosim)


def tool_missing(backend: str) -> str | None:
    """'<tool> (<backend> HLS)' when the backend's HLS tool is not on this machine's PATH."""
    tool = TOOLS[backend]
    return None if shutil.which(tool) else f"{tool} ({backend} HLS)"


def synth_design(model_name, fw_path, vsynth, cosim, hls_root, models_root) -> dict:
    """One design (one Dask task): its synthesis report's figures, or the error that stopped
    it (the HLS tool missing on this worker included)."""
    t0 = time.perf_counter()
    row = {"model": model_name, "firmware": Path(fw_path).stem, "host": socket.gethostname()}
    try:
        fw = load_firmware(fw_path)
        row["firmware"] = fw["name"]
        missing = tool_missing(fw["backend"])
        if missing:
            raise SynthError(f"{missing} is not on PATH on {row['host']}")
        report = run(model_name, fw, vsynth, cosim, hls_root, models_root)
        row.update(status="done", latency=report.get("latency"), resources=report.get("resources"))
    except Exception as err:  # the design's own failure: reported, the others go on
        row.update(status="error", error=f"{type(err).__name__}: {err}")
    row["seconds"] = round(time.perf_counter() - t0, 1)
    return row


def up_to_date(model_name, fw_name, hls_root, models_root) -> bool:
    """synth_report.json is newer than the project's marker and the trained weights."""
    from model import builder
    from model.train import model_dir

    prj = project_dir(builder.load_config(model_name)["name"], fw_name, hls_root)
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
    hls_root=str(BUILD.hls),
    models_root=str(BUILD.models),
    scheduler="serial",
    workers=None,
    force=False,
) -> list[dict]:
    """Every model on every firmware, one task each on `scheduler`; the rows in that order."""
    from hls import cluster
    from model import builder

    fw_cfgs = [load_firmware(f) for f in fws]
    designs = [(m, fw) for m in models for fw in fw_cfgs]
    rows: list[dict | None] = [None] * len(designs)
    todo = []
    for i, (m, fw) in enumerate(designs):
        if not force and up_to_date(m, fw["name"], hls_root, models_root):
            print(f"[synth] {m} / {fw['name']}: synth_report.json up to date, skipped", flush=True)
            prj = project_dir(builder.load_config(m)["name"], fw["name"], hls_root)
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
