"""yosys `synth_xilinx` of an RTL design, stage by stage in parallel, summed.

The stages (src/logic<k>.v, the combinational logic between two register ranks) are
independent, so each is synthesized alone with the primitives and the tables it reads; a stage
past the timeout is stopped and named, never filled in. `-nodsp` keeps the variable products
in LUTs, as the da4ml cost counts them. The registers between stages are the design's own
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
        f"synth_xilinx -family {family} -nodsp -flatten; stat"
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


def synth(src, family="xcup", timeout_s=600, jobs=2) -> dict:
    """Every stage of the design in src/, `jobs` at a time: per stage and summed over those
    that finished; `unfinished` names the others."""
    yosys = require("yosys")
    todo = stages(Path(src))
    t0 = time.time()
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        rows = list(pool.map(lambda s: synth_stage(s, family, timeout_s, yosys), todo))
    done = [r for r in rows if r["status"] == "done"]
    total = {k: sum(r[k] for r in done) for k in ("LUT", "CARRY", "MUXF", "FF", "DSP")}
    cells = {}
    for r in done:
        for k, v in r["cells"].items():
            cells[k] = cells.get(k, 0) + v
    return {
        "family": family,
        "flags": "synth_xilinx -nodsp -flatten, per stage",
        "stages": rows,
        "total": total,
        "cells": cells,
        "unfinished": [r["stage"] for r in rows if r["status"] != "done"],
        "seconds": round(time.time() - t0, 1),
    }
