"""`make scan`: one trained model under a grid of precisions and reuse factors (or, with
`SPACE=<space>`, a design-space search that trains every point: hls/search.py).

The grid is the `scan:` section of a firmware config:

    scan:
      precision:                 # model quantization keys -> values; the grid is their product
        act_t: [ap_fixed<16,6,AP_RND_CONV,AP_SAT>, ap_fixed<12,5,AP_RND_CONV,AP_SAT>]
        weight_bits: [8, 6]
      reuse_factor: [1, 4]
      n_jets: 500

Each precision point rebuilds the Keras model around the same trained weights (hls.firmware),
measures its accuracy, converts it and runs the C simulation (compile + predict) for the
fidelity figures. The reuse factor changes only the schedule, not the arithmetic, so it
multiplies the points for the estimate (hls/estimate.py, every point) and synthesis (where the
HLS tool exists) alone. Output: build/scan/<model>-<fw>/scan.json, read by the dashboard.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
from pathlib import Path

from data.checks import SchemaError, need, numbers
from data.errors import QpartError
from data.yamlconfig import REQUIRED, ConfigError, validate
from hls.common import TOOLS

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


def run(
    model_name: str,
    fw_name: str,
    data_dir="build/data",
    models_root="build/models",
    scan_root="build/scan",
) -> dict:
    import numpy as np

    from hls import autofold, csim
    from hls.convert import convert, keras_result_types
    from hls.estimate import estimate, summary
    from hls.firmware import convert_kwargs, firmware_model, load_firmware
    from model import builder
    from model.fixed import as_fx
    from model.train import load_trained, model_dir

    cfg = builder.load_config(model_name)
    fw = load_firmware(fw_name)
    points, reuse_factors, n_jets = scan_grid(fw)
    trained = load_trained(model_dir(cfg["name"], True, models_root), cfg)
    out = Path(scan_root) / f"{cfg['name']}-{fw['name']}"
    out.mkdir(parents=True, exist_ok=True)
    arrays = csim.test_jets(data_dir, cfg, n_jets)
    inputs = csim.model_inputs(arrays, builder.pair_mode(cfg))
    labels = arrays["labels"]
    tool = shutil.which(TOOLS[fw["backend"]])
    rows = []
    for i, precision in enumerate(points):
        label = _label(precision)
        print(f"[scan] point {i + 1}/{len(points)}: {label}", flush=True)
        point_fw = dict(fw, precision={**fw["precision"], **precision})
        variant = firmware_model(trained, cfg, point_fw)
        point_fw = autofold.resolve(variant, point_fw)
        keras_out = variant.predict(inputs, batch_size=1024, verbose=0).astype(np.float64)
        lsb = as_fx(keras_result_types(variant)[variant.layers[-1].name]).lsb
        prj = out / f"point{i}"
        hls_model = convert(variant, prj, **convert_kwargs(point_fw))
        hls_model.compile()
        csim_out = np.asarray(
            hls_model.predict([np.ascontiguousarray(a, np.float64) for a in inputs]), np.float64
        )
        fidelity = csim.compare(keras_out, csim_out.reshape(keras_out.shape), lsb, labels)
        point_cfg = dict(cfg, quantization={**cfg["quantization"], **point_fw["precision"]})
        bops = int(sum(r["bops"] for r in builder.cost_report(variant, point_cfg)))
        for rf in reuse_factors:
            synth = None
            if tool:
                from hls.synth_report import write_synth_report

                rf_prj = out / f"point{i}_rf{rf}"
                convert(variant, rf_prj, **convert_kwargs(point_fw, rf)).build(
                    csim=False, synth=True
                )
                synth = write_synth_report(rf_prj, rf_prj / "synth_report.json")
            rows.append(
                {
                    "label": f"{label} RF={rf}",
                    "precision": precision,
                    "reuse_factor": rf,
                    "keras_accuracy": fidelity["keras_accuracy"],
                    "csim_accuracy": fidelity["csim_accuracy"],
                    "bit_exact_fraction": fidelity["bit_exact_fraction"],
                    "max_abs_diff_lsb": fidelity["max_abs_diff_lsb"],
                    "bops": bops,
                    "n_jets": fidelity["n_jets"],
                    "synth": synth,
                    "estimate": summary(estimate(variant, dict(point_fw, reuse_factor=rf), True)),
                }
            )
    result = {
        "model": cfg["name"],
        "firmware": fw["name"],
        "backend": fw["backend"],
        "part": fw["part"],
        "synthesis": "run" if tool else "not run (HLS tool not on PATH)",
        "points": rows,
    }
    check_scan(result, out / "scan.json")
    (out / "scan.json").write_text(json.dumps(result, indent=1))
    print(f"[scan] {len(rows)} points -> {out}/scan.json", flush=True)
    return result


POINT_NUMBERS = ("reuse_factor", "keras_accuracy", "csim_accuracy", "bit_exact_fraction", "bops")


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
        if p.get("precision") is not None and not isinstance(p["precision"], dict):
            raise SchemaError(f"{path}: {where}precision must be an object")
        if p.get("synth") is not None:
            if not isinstance(p["synth"], dict):
                raise SchemaError(f"{path}: {where}synth must be an object or null")
            check_synth_report(p["synth"], f"{path}: {where}synth")
        if p.get("estimate") is not None:
            check_estimate(dict(p["estimate"], layers=[]), f"{path}: {where}estimate")
    return points


def example_scan_point(label, precision, reuse_factor, accuracy, synth=None, estimate=None):
    """A valid scan point (for tests and examples)."""
    return {
        "label": label,
        "precision": precision,
        "reuse_factor": reuse_factor,
        "keras_accuracy": accuracy,
        "csim_accuracy": accuracy,
        "bit_exact_fraction": 1.0,
        "synth": synth,
        "estimate": estimate,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="part_tiny")
    p.add_argument("--fw", default="vu13p")
    p.add_argument("--data-dir", default="build/data")
    p.add_argument(
        "--space",
        default=None,
        help="a search space (firmware_configs/search/<name>.yml or a path): train and "
        "C-simulate every point of its grid (hls/search.py) instead of a trained model's scan",
    )
    p.add_argument(
        "--scheduler",
        default="serial",
        help="with --space: where the points run (hls/cluster.py): serial, local (a Dask "
        "cluster on this machine), tcp://host:port, or a dask-jobqueue file",
    )
    p.add_argument("--workers", type=int, default=None, help="with --scheduler local")
    args = p.parse_args(argv)
    try:
        if args.space:
            from hls import search

            search.run(args.space, args.data_dir, scheduler=args.scheduler, workers=args.workers)
        else:
            run(args.model, args.fw, args.data_dir)
    except QpartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
