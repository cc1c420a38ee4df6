"""The stages of one design, run in order on the value hls.design assembles.

    estimate  resources, II and latency before synthesis (hls/estimate.py) -> estimate.json
    csim      convert, compile with g++, C-simulate against Keras (hls/csim.py) -> csim_report.json
    synth     the HLS tool's synthesis where it is on PATH (hls/synth.py) -> synth_report.json

`make estimate` and `make hls-csim` are selections of these stages (`make synth`, the last
one, is hls.synth.run on the same design value); a point of a scan or a search
(hls/points.py) runs them through `run_point`, which records the stage a point stopped at
instead of raising.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from hls import autofold, csim
from hls.design import Design, design
from hls.estimate import estimate, verdict_line
from hls.firmware import load_firmware
from infra.paths import BUILD

ESTIMATE_FILE = csim.ESTIMATE_FILE


def estimate_design(d: Design) -> dict:
    """The estimate of a design as folded, with the factors `parallel: auto` chose."""
    est = estimate(d.model, d.fw, d.trained)
    est["configs"] = d.configs
    if "auto_parallel" in d.fw:
        est["auto_parallel"] = d.fw["auto_parallel"]
    return est


def write_estimate(d: Design, est: dict) -> Path:
    out = d.prj / ESTIMATE_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(est, indent=1) + "\n")
    return out


def make_estimate(
    model, fw, untrained=False, models_root=str(BUILD.models), hls_root=str(BUILD.hls), force=False
):
    """`make estimate`: (design, estimate, estimate.json) from the trained weights where they
    exist (checked to be this config's architecture), else from the config. The project
    directory of another design (another firmware config under the same name) is refused
    unless forced; an estimate.json that another config wrote is replaced, and said so."""
    weights = "untrained" if untrained else "if-trained"
    kwargs = dict(models_root=models_root, hls_root=hls_root)
    try:
        d = design(model, fw, weights, **kwargs)
        est = estimate_design(d)
    except autofold.BudgetError as err:  # no folding meets the budget: does not fit, like a
        fw = fw if isinstance(fw, dict) else load_firmware(fw)  # fixed folding that does not
        d = design(model, dict(fw, parallel=1), weights, **kwargs)
        est = estimate_design(d)  # the smallest folding (one row per iteration), kept
        est["fit"].update(fits=False, auto_parallel_error=str(err))
    owner = csim.project_owner(d.prj)
    if owner is not None and not csim.same_design(owner, d.identity) and not force:
        raise csim.CsimError(
            f"{d.prj} holds {csim.describe(owner)}; this design is {d.name} from "
            f"{d.identity['firmware_config']}: remove it, or rerun with FORCE=1 to write "
            "this estimate there"
        )
    old = d.prj / ESTIMATE_FILE
    if owner is None and old.exists():
        was = json.loads(old.read_text()).get("configs")
        if was != est["configs"]:
            print(f"[estimate] replacing {old} (written for {was or 'an unrecorded config'})")
    return d, est, write_estimate(d, est)


def hls_csim(
    model,
    fw,
    data_dir=str(BUILD.data),
    n_jets=1000,
    force=False,
    models_root=str(BUILD.models),
    hls_root=str(BUILD.hls),
    testbench=True,
    **overrides,
) -> dict:
    """`make hls-csim`: claim the project directory, estimate (written beside the project),
    C-simulate. `overrides`: hls.design.design's precision / reuse_factor."""
    d = design(model, fw, "trained", models_root=models_root, hls_root=hls_root, **overrides)
    return simulate(d, data_dir, n_jets, force, testbench)[1]


def simulate(d: Design, data_dir, n_jets, force=False, testbench=True) -> tuple[dict, dict]:
    """The estimate and C-simulation stages of an assembled design: (estimate, report)."""
    csim.claim_output_dir(d.prj, d.identity, force)
    est = estimate_design(d)
    write_estimate(d, est)
    print(f"[hls-csim] {verdict_line(est)}", flush=True)
    if not est["fit"]["fits"]:
        print(
            f"[hls-csim] warning: {d.fw['path']} does not fit {d.fw['part']} by the estimate; "
            "the C simulation below checks the arithmetic only",
            flush=True,
        )
    return est, csim.simulate(d, est, data_dir, n_jets, testbench)


def run_point(record: dict, steps) -> dict:
    """Run `steps` [(stage name, fn(record))] in order, each filling its part of `record`;
    a failure of the point itself (bad config, folding, g++, tool) is recorded with the stage
    it happened in and the error, never raised. A step returns False to stop the point early
    (it set the status itself)."""
    record.setdefault("host", socket.gethostname())
    t0 = time.perf_counter()
    try:
        for stage, step in steps:
            record["stage"] = stage
            if step(record) is False:
                return record
        record["status"] = "done"
    except Exception as err:  # the point's own failure: recorded, the others go on
        record["status"] = "error"
        record["error"] = f"{type(err).__name__}: {err}"
    finally:
        record["seconds"] = round(time.perf_counter() - t0, 1)
    return record
