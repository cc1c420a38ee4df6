"""yosys `synth_xilinx` of an RTL design, stage by stage in parallel, summed.

The stages (src/logic<k>.v, the combinational logic between two register ranks) are
independent, so each is synthesized alone with the primitives and the tables it reads; a stage
past the timeout is stopped and named, never filled in. `-nodsp` keeps the variable products
in LUTs, as the da4ml cost counts them; `-noiopad`: a stage is synthesized out of context, its
ports are wires inside the design, not pins (their IO buffers took two thirds of a stage's
time). The registers between stages are the design's own
(RtlDesign.reg_bits: one flip-flop per bit), not synthesized per stage.
"""

from __future__ import annotations

import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hls.rtl.sim import require

_CELL = re.compile(r"^\s+(\S+)\s+(\d+)\s*$")
LUTS = ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6")


def stages(src: Path) -> list[Path]:
    return sorted(Path(src).glob("logic*.v"), key=lambda p: int(p.stem[5:]))


def parse_stat(text: str) -> dict:
    """The cell counts of yosys' last `stat` (its 'Number of cells' table)."""
    block = text.rsplit("Number of cells:", 1)[-1] if "Number of cells:" in text else ""
    cells = {}
    for line in block.splitlines()[1:]:
        m = _CELL.match(line)
        if not m:
            if cells:
                break
            continue
        cells[m.group(1)] = int(m.group(2))
    return cells


def summarize(cells: dict) -> dict:
    return {
        "LUT": sum(cells.get(k, 0) for k in LUTS),
        "CARRY": sum(v for k, v in cells.items() if k.startswith("CARRY")),
        "MUXF": sum(v for k, v in cells.items() if k.startswith("MUXF")),
        "FF": sum(v for k, v in cells.items() if k.startswith("FD")),
        "DSP": sum(v for k, v in cells.items() if k.startswith("DSP")),
    }


def synth_stage(stage: Path, family: str, timeout_s: int, yosys: str) -> dict:
    stage = Path(stage).resolve()  # yosys runs in the sources' folder: no path relative to ours
    src = stage.parent
    files = sorted(str(p) for p in (src / "static").glob("*.v")) + sorted(
        str(p) for p in src.glob("*_tables.v")
    )
    script = (
        f"read_verilog -defer {' '.join(files)} {stage}; hierarchy -top {stage.stem}; "
        f"synth_xilinx -family {family} -nodsp -flatten -noiopad; stat"
    )
    t0 = time.time()
    try:
        proc = subprocess.run(
            [yosys, "-q", "-p", script, "-l", str(src / f"{stage.stem}.yosys.log")],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            cwd=src,
        )
    except subprocess.TimeoutExpired:
        return {"stage": stage.stem, "status": f"did not finish in {timeout_s} s"}
    seconds = round(time.time() - t0, 1)
    if proc.returncode != 0:
        err = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        return {"stage": stage.stem, "status": f"failed: {err}", "seconds": seconds}
    log = (src / f"{stage.stem}.yosys.log").read_text()
    cells = parse_stat(log)
    return {
        "stage": stage.stem,
        "status": "done",
        "seconds": seconds,
        "cells": cells,
        **summarize(cells),
    }


def synth(src, family="xcup", timeout_s=600, jobs=2, stage_cost=None) -> dict:
    """Every stage of the design in src/, `jobs` at a time: per stage and summed over those
    that finished; `unfinished` names the others. With `stage_cost` ({stage: da4ml cost},
    RtlDesign.stage_cost_lut) each row carries its stage's da4ml cost, and the finished stages'
    yosys LUT is set against theirs (never against the unfinished ones')."""
    stage_cost = stage_cost or {}
    yosys = require("yosys")
    todo = stages(Path(src))
    t0 = time.time()
    finished = []

    def one(stage):
        r = synth_stage(stage, family, timeout_s, yosys)
        if stage.stem in stage_cost:
            r["da4ml_cost_lut"] = stage_cost[stage.stem]
        finished.append(r)  # list.append is atomic: the count is the threads' shared progress
        what = f"{r['LUT']} LUT" if r["status"] == "done" else r["status"]
        if "da4ml_cost_lut" in r:
            what += f", da4ml cost {r['da4ml_cost_lut']:.0f}"
        print(
            f"[rtl-synth] {len(finished)}/{len(todo)} {r['stage']}: {what} "
            f"({r.get('seconds', timeout_s)} s)",
            flush=True,
        )
        return r

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        rows = list(pool.map(one, todo))
    done = [r for r in rows if r["status"] == "done"]
    total = {k: sum(r[k] for r in done) for k in ("LUT", "CARRY", "MUXF", "FF", "DSP")}
    cells = {}
    for r in done:
        for k, v in r["cells"].items():
            cells[k] = cells.get(k, 0) + v
    costed = [r for r in done if "da4ml_cost_lut" in r]
    vs_cost = None
    if costed and len(costed) == len(done):
        cost = sum(r["da4ml_cost_lut"] for r in costed)
        vs_cost = {
            "stages": len(costed),
            "yosys_lut": total["LUT"],
            "da4ml_cost_lut": round(cost),
            "ratio": round(total["LUT"] / cost, 3) if cost else None,
        }
    return {
        "family": family,
        "flags": "synth_xilinx -nodsp -flatten -noiopad, per stage",
        # the finished stages' yosys LUT against their own da4ml cost (None: no stage costs)
        "lut_vs_da4ml_cost": vs_cost,
        "stages": rows,
        "total": total,
        "cells": cells,
        "unfinished": [r["stage"] for r in rows if r["status"] != "done"],
        "seconds": round(time.time() - t0, 1),
    }
