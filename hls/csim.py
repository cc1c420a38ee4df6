"""`make hls-csim`: convert a trained model, C-simulate it twice, compare with Keras bit for bit.

    build/hls/<model>-<fw>/          the hls4ml project (firmware/, tb_data/, myproject_test.cpp)
    build/hls/<model>-<fw>/csim_report.json

Route 1, `predict`: hls4ml's compile() (g++ shared library) + predict().
Route 2, `testbench`: the generated myproject_test.cpp built standalone with g++ against the
shipped ap_types, reading tb_data/ (held-out jets), its csim_results.log parsed.
Both are compared with the Keras model that the firmware computes (hls.firmware), in LSBs of
the output type. On any mismatch, hls4ml's trace names the first layer that diverges.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from data import pipeline, reader
from hls.common import PROJECT_NAME
from hls.csim_report import write_csim_report
from infra.errors import QpartError
from model.fixed import as_fx
from model.train import read_split

MARKER = "qpart_project.json"
ESTIMATE_FILE = "estimate.json"


class CsimError(QpartError, RuntimeError):
    """A C-simulation run that cannot go on; the message says what and where."""


COMPARED = ("model", "firmware", "architecture", "firmware_sha256")  # what makes a design


def _marker(marker: Path) -> dict | None:
    if not marker.exists():
        return None
    try:
        return json.loads(marker.read_text())
    except json.JSONDecodeError:
        return {"unreadable": str(marker)}


def describe(owner: dict | None) -> str:
    if not owner or "model" not in owner:
        return "files that are not a qpart project"
    cfg = owner.get("firmware_config")
    return (
        f"project of {owner['model']} / {owner['firmware']} (architecture "
        f"{owner.get('architecture')}"
        + (f", firmware config {cfg} sha256 {owner.get('firmware_sha256')}" if cfg else "")
        + ")"
    )


def project_owner(out: Path) -> dict | None:
    """The identity recorded in a project directory's marker, or None."""
    return _marker(out / MARKER)


def same_design(owner: dict, identity: dict) -> bool:
    return all(owner.get(k) == identity.get(k) for k in COMPARED)


def claim_output_dir(out: Path, identity: dict, force: bool, tag="hls-csim"):
    """Take `out` for the design `identity` (hls.design.Design.identity), saying what is
    replaced. Refused unless forced: a directory that holds another design (another firmware
    config under the same name included), anything that is not a qpart project, or files
    that qpart did not write there (a user's notes in the project of the same design)."""
    marker = out / MARKER
    entries = sorted(p.name for p in out.iterdir()) if out.exists() else []
    # a folder holding only `make estimate`'s output is this model/firmware's, not another's
    if set(entries) - {ESTIMATE_FILE}:
        owner = _marker(marker)
        same = owner is not None and same_design(owner, identity)
        known = set(owner.get("entries", entries)) if owner else set()
        foreign = sorted(set(entries) - known - {MARKER})
        if not force and not same:
            this = identity.get("firmware_config", identity["firmware"])
            raise CsimError(
                f"{out} already holds {describe(owner)}; this design is {identity['model']} / "
                f"{identity['firmware']} from {this}: remove it, or rerun with FORCE=1 to "
                "replace it"
            )
        if not force and foreign:
            raise CsimError(
                f"{out} holds files that qpart did not write: {', '.join(foreign)}; move them, "
                "or rerun with FORCE=1 to delete them with the project"
            )
        print(
            f"[{tag}] replacing {out}: {describe(owner)}, {len(entries)} entries"
            + (f", among them files qpart did not write: {', '.join(foreign)}" if foreign else ""),
            flush=True,
        )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(identity, indent=1))


def record_entries(out: Path):
    """Note in the project's marker what is in it now (what qpart and hls4ml wrote), so that a
    later claim can tell a user's file from the project's."""
    marker = out / MARKER
    owner = _marker(marker) or {}
    owner["entries"] = sorted(p.name for p in out.iterdir())
    marker.write_text(json.dumps(owner, indent=1))


def test_jets(data_dir, cfg, n_jets: int) -> dict:
    """About n_jets held-out jets, the same number from each test file (one class per file),
    read as training reads a split (model.train.read_split)."""
    files = reader.resolve_files(str(Path(data_dir) / "test" / "*.root"))
    scheme = reader.load_label_scheme(cfg["data"]["label_scheme"])
    arrays = read_split(files, cfg, scheme, math.ceil(n_jets / len(files)))
    return {k: v[:n_jets] for k, v in arrays.items()}


def model_inputs(arrays, pairs="host") -> list[np.ndarray]:
    """The model's inputs (data.pairmode.PairMode.input_names) as float32 arrays (what the
    testbench files hold exactly); `pairs`: data.pipeline's mode, builder.pair_mode(cfg)."""
    inputs, _ = next(pipeline.batches(arrays, len(arrays["labels"]), shuffle=False, pairs=pairs))
    return [np.ascontiguousarray(a, np.float32) for a in inputs]


def compare(keras_out, csim_out, lsb, labels) -> dict:
    diff = np.abs(np.asarray(csim_out, np.float64) - np.asarray(keras_out, np.float64)) / lsb
    exact = np.all(diff == 0, axis=1)
    return {
        "n_jets": int(len(keras_out)),
        "bit_exact_fraction": float(exact.mean()),
        "max_abs_diff_lsb": float(diff.max()),
        "argmax_agreement": float(np.mean(keras_out.argmax(1) == csim_out.argmax(1))),
        "keras_accuracy": float(np.mean(keras_out.argmax(1) == labels)),
        "csim_accuracy": float(np.mean(csim_out.argmax(1) == labels)),
        "first_mismatch": None if exact.all() else int(np.flatnonzero(~exact)[0]),
    }


# ------------------------------------------------------------------ the standalone testbench


def _tb_line(row) -> str:
    return " ".join(repr(float(v)) for v in row)


def write_tb_data(prj: Path, inputs, keras_out):
    """tb_input_features.dat (all inputs of a jet on one line, in the model's input order)
    and tb_output_predictions.dat, with float32 values printed exactly."""
    tb = prj / "tb_data"
    tb.mkdir(exist_ok=True)
    flat = np.concatenate([a.reshape(len(a), -1) for a in inputs], axis=1)
    with open(tb / "tb_input_features.dat", "w") as f:
        f.writelines(_tb_line(row) + "\n" for row in flat)
    with open(tb / "tb_output_predictions.dat", "w") as f:
        f.writelines(_tb_line(row) + "\n" for row in keras_out)


def first_compiler_error(stderr: str, context: int = 6) -> str:
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if re.search(r"\berror\b", line):
            return "\n".join(lines[max(0, i - 1) : i + context])
    return "\n".join(lines[-context:])


def build_testbench(prj: Path, project_name=PROJECT_NAME) -> tuple[Path, float]:
    """g++ the generated testbench against the shipped ap_types; returns (binary, seconds)."""
    exe = prj / f"{project_name}_csim_tb"
    cmd = [
        "g++",
        "-O2",
        "-std=c++14",
        "-fno-gnu-unique",
        f"{project_name}_test.cpp",
        f"firmware/{project_name}.cpp",
        "-Ifirmware",
        "-Ifirmware/ap_types",
        "-Ifirmware/nnet_utils",
        '-DWEIGHTS_DIR="firmware/weights"',
        "-o",
        exe.name,
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=prj, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CsimError(
            f"g++ failed building the testbench in {prj} (first error):\n"
            f"{first_compiler_error(proc.stderr)}"
        )
    return exe, time.perf_counter() - t0


def run_testbench(prj: Path, exe: Path, n_outputs: int) -> np.ndarray:
    proc = subprocess.run([f"./{exe.name}"], cwd=prj, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CsimError(f"{exe} exited with {proc.returncode}: {proc.stderr[-2000:]}")
    log = prj / "tb_data" / "csim_results.log"
    rows = [list(map(float, line.split())) for line in log.read_text().splitlines() if line.strip()]
    out = np.asarray(rows, np.float64)
    if out.ndim != 2 or out.shape[1] != n_outputs:
        raise CsimError(f"{log}: expected {n_outputs} values per line, got shape {out.shape}")
    return out


def snap_to_lsb(values: np.ndarray, lsb: float, where: str) -> np.ndarray:
    """The testbench prints 6 significant digits (ap_fixed's operator<<); the exact value is
    the nearest multiple of the output LSB, provided the print was closer than half an LSB."""
    snapped = np.round(values / lsb) * lsb
    if np.abs(snapped - values).max() >= 0.5 * lsb:
        raise CsimError(
            f"{where}: printed values are not within half an LSB of the output type; "
            "the comparison would not be exact"
        )
    return snapped


# ------------------------------------------------------------------------------- the trace


def first_divergent_layer(keras_model, convert_kwargs, inputs, prj: Path) -> dict | None:
    """Convert again with tracing on, and name the first layer whose outputs differ."""
    import tensorflow as tf

    from hls.convert import convert, keras_result_types

    names = [
        n
        for n in keras_result_types(keras_model)
        if n
        in {layer.name for layer in keras_model.layers if layer.__class__.__name__ != "InputLayer"}
    ]
    over = dict(convert_kwargs.get("hls_overrides") or {})
    over["LayerName"] = {
        **over.get("LayerName", {}),
        **{n: {**over.get("LayerName", {}).get(n, {}), "Trace": True} for n in names},
    }
    kwargs = dict(convert_kwargs, hls_overrides=over)
    traced = convert(keras_model, prj / "trace", **kwargs)
    traced.compile()
    _, trace = traced.trace([np.ascontiguousarray(a, np.float64) for a in inputs])
    probe = tf.keras.Model(keras_model.inputs, [keras_model.get_layer(n).output for n in names])
    keras_outs = probe.predict(inputs, verbose=0)
    for name, ref in zip(names, keras_outs):
        if name not in trace:
            continue
        got = np.asarray(trace[name]).reshape(len(ref), -1)
        ref = np.asarray(ref).reshape(len(ref), -1)
        if got.shape == ref.shape and not np.array_equal(got, ref):
            bad = np.flatnonzero(np.any(got != ref, axis=1))
            return {
                "layer": name,
                "jets_differing": int(len(bad)),
                "max_abs_diff": float(np.abs(got - ref).max()),
            }
    return None


# ------------------------------------------------------------------------------- the stage


def simulate(d, est: dict, data_dir, n_jets: int, testbench=True) -> dict:
    """C-simulate design `d` (hls.design; `est` its estimate) on about `n_jets` held-out jets
    from `data_dir`, by both routes, against its Keras model; writes and returns
    csim_report.json. The project directory must have been claimed (claim_output_dir)."""
    from hls.convert import convert, keras_result_types

    cfg, fw, keras_model, prj = d.cfg, d.fw, d.model, d.prj
    arrays = test_jets(data_dir, cfg, n_jets)
    inputs = model_inputs(arrays, d.pairs)
    labels = arrays["labels"]
    print(
        f"[hls-csim] {cfg['name']} on {fw['name']} ({fw['backend']}, {fw['part']}): "
        f"{len(labels)} test jets",
        flush=True,
    )
    keras_out = keras_model.predict(inputs, batch_size=1024, verbose=0).astype(np.float64)
    out_type = keras_result_types(keras_model)[keras_model.layers[-1].name]
    lsb = as_fx(out_type).lsb

    convert_kwargs = d.convert_kwargs()
    hls_model = convert(keras_model, prj, **convert_kwargs)
    t0 = time.perf_counter()
    print(
        "[hls-csim] writing the project and compiling it with g++ (hls4ml compile) ...", flush=True
    )
    try:
        hls_model.compile()
    except Exception as err:  # hls4ml raises on a failed build_lib.sh
        raise CsimError(f"hls4ml compile of {prj} failed: {err}") from None
    compile_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    csim_out = np.asarray(
        hls_model.predict([np.ascontiguousarray(a, np.float64) for a in inputs]), np.float64
    )
    csim_out = csim_out.reshape(keras_out.shape)
    predict_seconds = time.perf_counter() - t0
    report = {
        "model": cfg["name"],
        "firmware": fw["name"],
        "backend": fw["backend"],
        "part": fw["part"],
        "clock_period_ns": fw["clock_period"],
        "project_dir": str(prj),
        "output_type": out_type,
        "output_lsb": lsb,
        "data_dir": str(data_dir),
        "folding": folding_of(est),
        "predict": {
            **compare(keras_out, csim_out, lsb, labels),
            "compile_seconds": round(compile_seconds, 2),
            "jets_per_second": round(len(labels) / predict_seconds, 1),
        },
        "testbench": None,
        "first_divergent_layer": None,
    }
    if testbench:
        write_tb_data(prj, inputs, keras_out)
        print("[hls-csim] building the standalone testbench (g++) ...", flush=True)
        exe, tb_compile = build_testbench(prj)
        t0 = time.perf_counter()
        tb_raw = run_testbench(prj, exe, keras_out.shape[1])
        tb_seconds = time.perf_counter() - t0
        tb_out = snap_to_lsb(tb_raw, lsb, str(prj / "tb_data" / "csim_results.log"))
        report["testbench"] = {
            **compare(keras_out, tb_out, lsb, labels),
            "compile_seconds": round(tb_compile, 2),
            "jets_per_second": round(len(labels) / tb_seconds, 1),
            "equals_predict": bool(np.array_equal(tb_out, csim_out)),
        }
    if not bit_exact(report):
        print(
            "[hls-csim] mismatch: tracing every layer to find the first that diverges ...",
            flush=True,
        )
        report["first_divergent_layer"] = first_divergent_layer(
            keras_model, convert_kwargs, inputs, prj
        )
    report["configs"] = d.configs
    write_csim_report(report, prj / "csim_report.json")
    record_entries(prj)
    _summary(report)
    return report


def folding_of(est: dict) -> dict:
    """{layer: {parallel, reuse_factor}} of every layer an estimate counts, as folded."""
    return {
        layer["name"]: {"parallel": layer["parallel"], "reuse_factor": layer["reuse_factor"]}
        for layer in est["layers"]
    }


def bit_exact(report: dict) -> bool:
    """Both routes (the testbench where it ran) equal Keras on every jet."""
    tb = report["testbench"]
    return report["predict"]["bit_exact_fraction"] == 1 and (
        tb is None or tb["bit_exact_fraction"] == 1
    )


def _summary(report):
    for route in ("predict", "testbench"):
        r = report[route]
        if r is None:
            continue
        print(
            f"[hls-csim] {route:9s}: {r['n_jets']} jets, bit-exact {r['bit_exact_fraction']:.4f}, "
            f"max |diff| {r['max_abs_diff_lsb']:g} LSB, argmax agreement "
            f"{r['argmax_agreement']:.4f}, accuracy keras {r['keras_accuracy']:.4f} / csim "
            f"{r['csim_accuracy']:.4f}",
            flush=True,
        )
    if report["first_divergent_layer"]:
        print(f"[hls-csim] first divergent layer: {report['first_divergent_layer']}", flush=True)
    print(f"[hls-csim] -> {report['project_dir']}/csim_report.json", flush=True)
