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

import hashlib
import json
import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hls.rtl.sim import require

_CELL = re.compile(r"^\s+(\S+)\s+(\d+)\s*$")
LUTS = ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6")
KINDS = ("LUT", "CARRY", "MUXF", "FF", "DSP")
PARTS = "parts"  # src/parts/: the stages cut into parts that share no logic (hls/rtl/parts.py)


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


# synth_xilinx's LUT mapping (firmware key rtl.synth_mapper): abc9 (its -abc9, timing-driven,
# carry chains as boxes) or abc (yosys 0.23's default). On variable products and tables abc maps
# wide multiplexers that abc9 does not (docs/rtl.md: yosys / Vivado on public designs, each way).
_MAP_FLAG = {"abc9": " -abc9", "abc": ""}


def synth_stage(
    stage: Path, family: str, timeout_s: int, yosys: str, reuse=True, mapper="abc9"
) -> dict:
    """One module (a stage, src/logic<k>.v, or a part of one, src/parts/logic<k>_p<j>.v) with
    the design's primitives and tables. A finished run is kept beside the module
    (<module>.<mapper>.yosys.json, keyed by the module's hash and the script): a design's hours
    of yosys can be stopped and resumed, and a rerun redoes only what changed or did not
    finish."""
    stage = Path(stage).resolve()  # yosys runs in the sources' folder: no path relative to ours
    src = stage.parent.parent if stage.parent.name == PARTS else stage.parent
    files = sorted(str(p) for p in (src / "static").glob("*.v")) + sorted(
        str(p) for p in src.glob("*_tables.v")
    )
    script = (
        f"read_verilog -defer {' '.join(files)} {stage}; hierarchy -top {stage.stem}; "
        f"synth_xilinx -family {family} -nodsp -flatten -noiopad{_MAP_FLAG[mapper]}; stat"
    )
    cache, log_file = (stage.parent / f"{stage.stem}.{mapper}.yosys.{x}" for x in ("json", "log"))
    key = {"module_sha256": hashlib.sha256(stage.read_bytes()).hexdigest(), "script": script}
    if reuse and cache.exists():  # an earlier run's result for this very module and script
        kept = json.loads(cache.read_text())
        if kept.get("key") == key:
            return {**kept["row"], "reused": True}
    t0 = time.time()
    try:
        proc = subprocess.run(
            [yosys, "-q", "-p", script, "-l", str(log_file)],
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
    log = log_file.read_text()
    cells = parse_stat(log)
    row = {"stage": stage.stem, "status": "done", "seconds": seconds, "cells": cells}
    row.update(summarize(cells))
    cache.write_text(json.dumps({"key": key, "row": row}))
    return row


def _sum_cells(rows: list[dict]) -> dict:
    cells = {}
    for r in rows:
        for k, v in r["cells"].items():
            cells[k] = cells.get(k, 0) + v
    return cells


def _merge(stage: str, rows: list[dict]) -> dict:
    """A stage's row from its parts' rows: done when every part is, with the sums of their
    cells and seconds; an unfinished part is named in the stage's status."""
    if len(rows) == 1 and rows[0]["stage"] == stage:
        return rows[0]
    late = [r for r in rows if r["status"] != "done"]
    row = {"stage": stage, "parts": len(rows), "seconds": sum(r.get("seconds", 0) for r in rows)}
    if late:
        names = ", ".join(r["stage"] for r in late)
        row["status"] = f"{len(late)} of {len(rows)} parts unfinished ({names}): "
        row["status"] += late[0]["status"]
        return row
    cells = _sum_cells(rows)
    return {**row, "status": "done", "cells": cells, **summarize(cells)}


def jobs_of(src: Path, whole: bool = False) -> dict:
    """{stage: [module files yosys runs for it]}: its parts where make rtl cut it into parts
    (src/parts/parts.json) and `whole` is not asked for, else the stage itself."""
    index = Path(src) / PARTS / "parts.json"
    cut = {} if whole or not index.exists() else json.loads(index.read_text())
    return {
        st.stem: [Path(src) / PARTS / f"{p}.v" for p in cut[st.stem]] if st.stem in cut else [st]
        for st in stages(Path(src))
    }


def synth(
    src,
    family="xcup",
    timeout_s=600,
    jobs=2,
    stage_cost=None,
    whole=False,
    reuse=True,
    budget_s=None,
    mapper="abc9",
) -> dict:
    """Every stage of the design in src/ (each part of it where the stages were cut into parts,
    unless `whole`), `jobs` at a time (a module an earlier run finished is reused unless
    `reuse` is off; none is started after `budget_s` seconds of the run, stage after stage so
    that the stages finished by then are whole): per stage and summed over the stages that
    finished; `unfinished` names the others. With `stage_cost` ({stage: da4ml cost},
    RtlDesign.stage_cost_lut) each row carries its stage's da4ml cost, and the finished stages'
    yosys LUT is set against theirs (never against the unfinished ones')."""
    stage_cost = stage_cost or {}
    yosys = require("yosys")
    todo = jobs_of(Path(src), whole)
    modules = [(st, m) for st, ms in todo.items() for m in ms]
    if budget_s is None:  # the largest first: the long runs start while the short ones fill in
        modules.sort(key=lambda sm: -sm[1].stat().st_size)
    if len(modules) > len(todo):
        print(f"[rtl-synth] {len(todo)} stages in {len(modules)} parts", flush=True)
    t0 = time.time()
    finished, by_stage = [], {st: [] for st in todo}
    stage_done = []
    lock = threading.Lock()  # the threads' shared progress

    def one(job):
        st, module = job
        if budget_s is not None and time.time() - t0 > budget_s:
            r = {"stage": module.stem, "status": f"not started: the run's {budget_s} s were spent"}
        else:
            r = synth_stage(module, family, timeout_s, yosys, reuse, mapper)
        with lock:
            finished.append(r)
            by_stage[st].append(r)
            if len(by_stage[st]) < len(todo[st]):  # a part: its own line, the stage's later
                if r["status"].startswith("not started"):
                    return
                what = f"{r['LUT']} LUT" if r["status"] == "done" else r["status"]
                print(
                    f"[rtl-synth] {len(finished)}/{len(modules)} modules: {r['stage']} {what} "
                    f"({r.get('seconds', timeout_s):.1f} s, {time.time() - t0:.0f} s)",
                    flush=True,
                )
                return
            row = _merge(st, by_stage[st])
            if st in stage_cost:
                row["da4ml_cost_lut"] = stage_cost[st]
            by_stage[st] = [row]
            if "not started" in row["status"]:  # the budget's rest: named once, at the end
                return
            stage_done.append(st)  # the stages yosys ran (the count on the lines)
            n_done = len(stage_done)
        what = f"{row['LUT']} LUT" if row["status"] == "done" else row["status"]
        if "da4ml_cost_lut" in row:
            what += f", da4ml cost {row['da4ml_cost_lut']:.0f}"
        n = f" in {row['parts']} parts" if "parts" in row else ""
        print(
            f"[rtl-synth] {n_done}/{len(todo)} {st}{n}: {what} "
            f"({row.get('seconds', timeout_s):.1f} s; {len(finished)}/{len(modules)} modules, "
            f"{time.time() - t0:.0f} s)",
            flush=True,
        )

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        list(pool.map(one, modules))
    rows = [by_stage[st][0] for st in todo]
    done = [r for r in rows if r["status"] == "done"]
    total = {k: sum(r[k] for r in done) for k in KINDS}
    cells = _sum_cells(done)
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
    cut = len(modules) > len(todo)
    return {
        "family": family,
        "flags": f"synth_xilinx -nodsp -flatten -noiopad{_MAP_FLAG[mapper]}, "
        + (f"per part of a stage ({len(modules)} parts)" if cut else "per stage"),
        # the finished stages' yosys LUT against their own da4ml cost (None: no stage costs)
        "lut_vs_da4ml_cost": vs_cost,
        "stages": rows,
        "total": total,
        "cells": cells,
        "unfinished": [r["stage"] for r in rows if r["status"] != "done"],
        "reused_modules": sum(bool(r.get("reused")) for r in finished),
        "seconds": round(time.time() - t0, 1),
    }
