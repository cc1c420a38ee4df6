"""make rtl / rtl-sim / rtl-synth: one design (hls.design, route rtl) in build/rtl/<model>-<fw>/.

    rtl        trace the model (hls/rtl/trace.py), write pipelined Verilog, the Vivado project
               script and rtl_report.json (latency counted in registers, LUT by da4ml cost)
    rtl-sim    stream held-out jets through the Verilog in Verilator, one per clock, every
               logits word against Keras: rtlsim_report.json (csim_report.json's schema)
    rtl-synth  yosys per stage in parallel: rtl_report.json's resources by yosys

The project directory is claimed as the HLS route's is (hls.csim.claim_output_dir): a
directory holding another design is refused unless forced.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from hls.csim import (
    claim_output_dir,
    compare,
    model_inputs,
    project_owner,
    record_entries,
    same_design,
    test_jets,
)
from hls.csim_report import write_csim_report
from hls.design import design
from hls.rtl import REPORT, SIM_REPORT, sim, synth, verilog
from hls.rtl.trace import ALONE, Port, check_widths, flat_inputs, layer_costs, trace_model
from infra.errors import QpartError
from infra.paths import BUILD
from model.fixed import Fx, as_fx

RESOURCES = ("LUT", "FF", "DSP", "BRAM_18K", "URAM")


class RtlError(QpartError, RuntimeError):
    """An RTL stage that cannot go on (no design written yet, a Verilator mismatch)."""


def _design(model, fw, weights, models_root, rtl_root):
    """The design; untrained weights are drawn from the config's training seed, so that make
    rtl and make rtl-sim (two processes) build the same ones."""
    import tensorflow as tf

    from model import builder

    cfg = model if isinstance(model, dict) else builder.load_config(model)
    tf.keras.utils.set_random_seed(cfg["training"]["seed"])
    return design(cfg, fw, weights, models_root=models_root, hls_root=rtl_root, route="rtl")


def _resources(used: dict, part: dict) -> dict:
    out = {}
    for k in RESOURCES:
        avail = part.get(k)
        u = used.get(k)
        out[k] = {
            "used": u,
            "available": avail,
            "utilization_pct": None if u is None or not avail else round(100 * u / avail, 3),
        }
    return out


REG_BITS = "register bits counted in the Verilog"  # FF on either source: no tool counts them


def _sources(logic: str) -> dict:
    """Where each resource figure of rtl_report.json comes from: `logic` (da4ml cost, yosys)
    for the logic, the Verilog's own register count for FF."""
    return {k: REG_BITS if k == "FF" else logic for k in RESOURCES}


def _fit(resources: dict, budget: float) -> dict:
    over = [
        k
        for k, r in resources.items()
        if r["utilization_pct"] is not None and r["utilization_pct"] > 100 * budget
    ]
    return {"fits": not over, "budget": budget, "over": over}


def make_rtl(
    model="part_tiny",
    fw="vu13p_rtl",
    weights="if-trained",
    force=False,
    models_root=str(BUILD.models),
    rtl_root=str(BUILD.rtl),
) -> tuple:
    """Trace and write the design: (Design, rtl_report)."""
    d = _design(model, fw, weights, models_root, rtl_root)
    claim_output_dir(d.prj, d.identity, force, tag="rtl")
    t0 = time.time()
    print(f"[rtl] each layer of {d.cfg['name']} alone: its cost and widest wire ...", flush=True)
    layers = layer_costs(d.model)  # first: a layer too wide stops here, before the long trace
    check_widths(layers, d.fw["rtl"]["max_bits"], d.fw["path"])
    print(f"[rtl] tracing {d.cfg['name']} ({'trained' if d.trained else 'untrained'}) ...")
    traced = trace_model(d.model)
    trace_s = time.time() - t0
    rd = verilog.write(
        traced.comb,
        d.prj,
        "qpart",
        d.fw["clock_period"],
        d.fw["rtl"]["latency_cutoff"],
        d.fw["part"],
        d.fw["rtl"]["synth_part_cost"],
    )
    traced.comb.save(d.prj / "model" / "comb.json.gz")
    (d.prj / "ports.json").write_text(
        json.dumps([[p.name, list(p.shape), str(p.fx)] for p in traced.ports])
    )
    cost = {"LUT": round(rd.cost_lut), "FF": rd.reg_bits, "DSP": 0, "BRAM_18K": 0, "URAM": 0}
    res = _resources(cost, d.fw["resources"])
    report = {
        "schema_version": 1,
        "route": "rtl",
        "model": d.cfg["name"],
        "firmware": d.fw["name"],
        "part": d.fw["part"],
        "trained": d.trained,
        "project_dir": str(d.prj),
        "tool": "alkaid 0.8.2",
        "clock": {
            "target_ns": d.fw["clock_period"],
            "latency_cutoff": d.fw["rtl"]["latency_cutoff"],
        },
        "latency": {
            "best_cycles": rd.latency_cycles,
            "worst_cycles": rd.latency_cycles,
            "best_ns": round(rd.latency_cycles * d.fw["clock_period"], 6),
            "worst_ns": round(rd.latency_cycles * d.fw["clock_period"], 6),
            "interval_min": 1,
            "interval_max": 1,
            "pipeline_type": "rtl pipeline",
        },
        "stages": rd.stages,
        "source": "da4ml cost",
        "resources": res,
        "resource_sources": _sources("da4ml cost"),
        "fit": _fit(res, d.fw["budget"]["resources"]),
        "da4ml_cost": {
            "LUT": round(rd.cost_lut),
            "FF": rd.reg_bits,
            "note": "LUT: alkaid's cost of the logic; FF: the pipeline's register bits",
        },
        "yosys": None,
        "layers": {"source": ALONE, "rows": layers},
        "trace_seconds": round(trace_s, 1),
        "configs": d.configs,
    }
    _write_report(d.prj, report)
    record_entries(d.prj)
    print(
        f"[rtl] {d.prj}: {rd.latency_cycles} cycles ({report['latency']['best_ns']} ns) at "
        f"{d.fw['clock_period']} ns, II 1, da4ml cost {cost['LUT']} LUT, {rd.reg_bits} FF "
        f"(layers alone: {sum(r['da4ml_cost_lut'] for r in layers)} LUT)"
    )
    return d, report


def _write_report(prj: Path, report: dict) -> None:
    (Path(prj) / REPORT).write_text(json.dumps(report, indent=1))


def _load(d) -> tuple:
    """The written design of `d` (make rtl first), refusing a directory of another design."""
    owner = project_owner(d.prj)
    if owner is None or not same_design(owner, d.identity) or not (d.prj / REPORT).exists():
        raise RtlError(
            f"{d.prj}: no RTL design of {d.cfg['name']} / {d.fw['name']} there: run make rtl"
        )
    return verilog.load(d.prj), json.loads((d.prj / REPORT).read_text())


def rtl_sim(
    model="part_tiny",
    fw="vu13p_rtl",
    data_dir=str(BUILD.data),
    n_jets=1000,
    weights="if-trained",
    models_root=str(BUILD.models),
    rtl_root=str(BUILD.rtl),
) -> dict:
    """Verilator against Keras on about n_jets held-out jets: rtlsim_report.json."""
    d = _design(model, fw, weights, models_root, rtl_root)
    rd, report = _load(d)
    arrays = test_jets(data_dir, d.cfg, n_jets)
    inputs = model_inputs(arrays, d.pairs)
    labels = arrays["labels"]
    keras_out = d.model.predict(inputs, batch_size=1024, verbose=0).astype(np.float64)
    lsb = as_fx(d.model.layers[-2].result_t).lsb
    ports = [
        Port(n, tuple(s), Fx.parse(t)) for n, s, t in json.loads((d.prj / "ports.json").read_text())
    ]
    flat = flat_inputs(ports, inputs)
    from alkaid.types import CombLogic

    t0 = time.time()
    interp = CombLogic.load(d.prj / "model" / "comb.json.gz").predict(flat)
    interpreter = {
        **compare(keras_out, interp, lsb, labels),
        "compile_seconds": 0.0,
        "jets_per_second": round(len(labels) / max(time.time() - t0, 1e-9), 1),
    }
    print(
        f"[rtl-sim] the traced graph's interpreter: bit-exact "
        f"{interpreter['bit_exact_fraction']:.4f} on {len(labels)} jets",
        flush=True,
    )
    print(f"[rtl-sim] verilating {rd.top} ({rd.stages} stages) ...", flush=True)
    exe, build_s = sim.build_testbench(rd, d.prj / "sim_verilator")
    out, run_s = sim.run_testbench(exe, rd, flat)
    predict = {
        **compare(keras_out, out, lsb, labels),
        "compile_seconds": round(build_s, 2),
        "jets_per_second": round(len(labels) / max(run_s, 1e-9), 1),
    }
    if predict["first_mismatch"] is not None:
        j = predict["first_mismatch"]
        k = int(np.flatnonzero(out[j] != keras_out[j])[0])
        predict["first_mismatch_detail"] = {
            "jet": j,
            "output": k,
            "verilator": float(out[j, k]),
            "keras": float(keras_out[j, k]),
        }
    sim_report = {
        "model": d.cfg["name"],
        "firmware": d.fw["name"],
        "route": "rtl",
        "part": d.fw["part"],
        "clock_period_ns": d.fw["clock_period"],
        "project_dir": str(d.prj),
        "output_type": str(d.model.layers[-2].result_t),
        "output_lsb": lsb,
        "data_dir": str(data_dir),
        "latency_cycles": rd.latency_cycles,
        "predict": predict,
        "testbench": None,
        "interpreter": interpreter,  # the traced graph in software (alkaid's interpreter)
        "first_divergent_layer": None,
        "configs": d.configs,
    }
    write_csim_report(sim_report, d.prj / SIM_REPORT)
    record_entries(d.prj)
    p = predict
    print(
        f"[rtl-sim] {p['n_jets']} jets, bit-exact {p['bit_exact_fraction']:.4f}, max diff "
        f"{p['max_abs_diff_lsb']:g} LSB, Keras accuracy {p['keras_accuracy']:.4f}"
    )
    if "first_mismatch_detail" in p:
        m = p["first_mismatch_detail"]
        print(
            f"[rtl-sim] first mismatch: jet {m['jet']} output {m['output']}: Verilator "
            f"{m['verilator']} vs Keras {m['keras']}"
        )
    return sim_report


def rtl_synth(
    model="part_tiny",
    fw="vu13p_rtl",
    weights="if-trained",
    timeout_s=None,
    jobs=None,
    models_root=str(BUILD.models),
    rtl_root=str(BUILD.rtl),
    whole_stages=False,
    budget_s=None,
) -> dict:
    """yosys per stage (per part of a stage where make rtl cut them): rtl_report.json's
    resources by yosys (FF: the register bits)."""
    d = _design(model, fw, weights, models_root, rtl_root)
    rd, report = _load(d)
    cfg = d.fw["rtl"]
    t0 = time.time()
    print(
        f"[rtl-synth] yosys synth_xilinx ({cfg['synth_mapper']}) on {rd.stages} stages ...",
        flush=True,
    )
    ys = synth.synth(
        rd.src,
        cfg["synth_family"],
        timeout_s or cfg["synth_timeout_s"],
        jobs or cfg["synth_jobs"],
        rd.stage_cost_lut,
        whole_stages,
        budget_s=budget_s,
        mapper=cfg["synth_mapper"],
    )
    report["yosys"] = ys
    if not ys["unfinished"]:
        used = {"LUT": ys["total"]["LUT"], "FF": rd.reg_bits, "DSP": ys["total"]["DSP"]}
        used.update(BRAM_18K=0, URAM=0)
        report["resources"] = _resources(used, d.fw["resources"])
        report["fit"] = _fit(report["resources"], d.fw["budget"]["resources"])
        report["source"] = "yosys"
        report["resource_sources"] = _sources("yosys")
    _write_report(d.prj, report)
    record_entries(d.prj)
    t = ys["total"]
    print(
        f"[rtl-synth] {len(ys['stages']) - len(ys['unfinished'])}/{len(ys['stages'])} stages in "
        f"{time.time() - t0:.0f} s: LUT {t['LUT']} CARRY {t['CARRY']} DSP {t['DSP']} "
        f"(stage FFs {t['FF']}; pipeline registers {rd.reg_bits})"
    )
    vs = ys["lut_vs_da4ml_cost"]
    if vs:
        print(
            f"[rtl-synth] yosys LUT / da4ml cost over the {vs['stages']} finished stages: "
            f"{vs['yosys_lut']} / {vs['da4ml_cost_lut']} = {vs['ratio']}"
        )
    if ys["reused_modules"]:
        print(f"[rtl-synth] {ys['reused_modules']} modules as an earlier run finished them")
    if ys["unfinished"]:
        print(f"[rtl-synth] not finished: {', '.join(ys['unfinished'])}")
    return report
