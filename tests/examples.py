"""Example records of every JSON schema qpart writes, valid by their owners' checks: what the
dashboard and search tests build fake build/ trees from (the schemas themselves live with
their writers: model.metrics, hls.csim_report, hls.points)."""

import numpy as np

from hls.firmware import PARTS
from hls.points import SCHEMA_VERSION, point_id, summarise


def example_route(
    n=1000, exact=1.0, maxdiff=0.0, agree=1.0, keras=0.652, csim=0.652, tb=False
) -> dict:
    r = {
        "n_jets": n,
        "bit_exact_fraction": exact,
        "max_abs_diff_lsb": maxdiff,
        "argmax_agreement": agree,
        "keras_accuracy": keras,
        "csim_accuracy": csim,
        "first_mismatch": None if exact == 1 else 3,
        "compile_seconds": 41.7,
        "jets_per_second": 812.3,
    }
    if tb:
        r["equals_predict"] = exact == 1
    return r


def example_csim_report(
    model, fw, backend, part, predict, testbench, divergent=None, clock=5.0
) -> dict:
    """A valid csim_report.json (for tests and examples)."""
    return {
        "model": model,
        "firmware": fw,
        "backend": backend,
        "part": part,
        "clock_period_ns": clock,
        "project_dir": f"build/hls/{model}-{fw}",
        "output_type": "fixed<16,6,RND_CONV,SAT>",
        "output_lsb": 2**-10,
        "data_dir": "build/data",
        "folding": {},
        "predict": predict,
        "testbench": testbench,
        "first_divergent_layer": divergent,
    }


def example_metrics_json(
    model="part_tiny",
    quantized=True,
    accuracy=0.65,
    macro_auc=0.94,
    class_names=("QCD", "Hbb", "Hcc", "Hgg", "H4q", "Hqql", "Zqq", "Wqq", "Tbqq", "Tbl"),
    bops_scale=1.0,
    seed=0,
) -> dict:
    """A valid metrics.json (for tests and examples): the keys make train writes."""
    rng = np.random.default_rng(seed + len(model) + quantized)
    layers = [
        ("particles", "InputLayer", 0, 0),
        ("embed", "FxDense", 1184, 36864),
        ("pair_embed", "PairEmbed", 340, 67584),
        ("block0_attn", "ParticleAttention", 4224, 98304),
        ("cls0_attn", "ClassAttention", 4224, 33792),
        ("head", "FxDense", 330, 320),
    ]
    bits = 8 * 8 if quantized else 32 * 32
    cost = [
        {"layer": n, "type": t, "params": p, "macs": m, "bops": int(m * bits * bops_scale)}
        for n, t, p, m in layers
    ]
    n = len(class_names)
    conf = (rng.integers(0, 8, (n, n)) + np.eye(n, dtype=int) * 70).tolist()
    return {
        "n_jets": 1000,
        "accuracy": accuracy,
        "macro_auc": macro_auc,
        "auc": {c: round(0.9 + 0.009 * i, 4) for i, c in enumerate(class_names)},
        "rejection_at_50pct": {
            c: (None if i == n - 2 else round(30 + 40 * i, 1))
            for i, c in enumerate(class_names[1:])
        },
        "rejection_at_50pct_lower_bound": {class_names[-1]: 100},
        "confusion": conf,
        "model": model,
        "quantized": quantized,
        "parameters": sum(r["params"] for r in cost),
        "bops": sum(r["bops"] for r in cost),
        "cost_per_layer": cost,
        "n_train": 8000,
        "n_val": 1000,
        "epochs_run": 12,
        "train_seconds": 341.2,
        "train_jets_per_second": 281.4,
        "class_names": list(class_names),
        "seed": 42,
        "data_dir": "build/data",
    }


def example_scan_point(label, precision, reuse_factor, accuracy, synth=None, lut=100_000):
    """A valid done scan point (for tests and examples): the trained model at `precision`
    and `reuse_factor`, estimated, C-simulated bit-exact, synthesised when `synth` is given."""
    overrides = {f"firmware.precision.{k}": v for k, v in precision.items()}
    overrides["firmware.reuse_factor"] = reuse_factor
    p = example_point(point_id(overrides), accuracy, 800 * reuse_factor, lut, lut // 100)
    p.update(label=label, overrides=overrides, config=None, synth=synth, bops=lut * 64)
    p["csim"].update(keras_accuracy=accuracy, csim_accuracy=accuracy)
    p.pop("macro_auc")
    return p


def example_scan(points_: list[dict], target=None) -> dict:
    """A valid scan.json around the given point records (for tests and examples)."""
    target = target or {"resources": 0.8, "latency_ns": None, "ii_ns": None}
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "scan",
        "name": "part_tiny-vu13p",
        "description": "part_tiny (trained) under the scan: grid of vu13p.yml",
        "model": "part_tiny",
        "firmware": "vu13p",
        "backend": "Vitis",
        "part": "xcvu13p-flga2577-2-e",
        "data_dir": "build/data",
        "target": target,
        "modes": summarise(points_, target),
        "points": points_,
    }


def example_search(points_: list[dict], target=None) -> dict:
    """A valid search.json around the given point records (for tests and examples)."""
    target = target or {"resources": 0.5, "latency_ns": 1000, "ii_ns": 150}
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "search",
        "name": "example",
        "space": "example",
        "space_path": "firmware_configs/search/example.yml",
        "description": "an example search",
        "data_dir": "build/data",
        "model": "part_tiny",
        "firmware": "vu13p_trigger",
        "target": target,
        "modes": summarise(points_, target),
        "float_reference": {},
        "part_full_reference": None,
        "points": points_,
    }


def example_point(pid, accuracy, latency_ns, lut, dsp, pair_features="onchip", ii_ns=100.0):
    """A valid done point on a VU13P at 200 MHz (for tests and examples)."""
    cap = PARTS["xcvu13p-flga2577-2-e"]
    used = {"LUT": lut, "FF": 2 * lut, "DSP": dsp, "BRAM_18K": 0, "URAM": 0}
    return {
        "id": pid,
        "label": pid,
        "overrides": {},
        "pair_features": pair_features,
        "status": "done",
        "stage": "csim",
        "error": None,
        "config": f"configs/{pid}.yml",
        "firmware_config": f"configs/{pid}_fw.yml",
        "accuracy": accuracy,
        "macro_auc": accuracy,
        "estimate": {
            "source": "estimate",
            "part": "xcvu13p-flga2577-2-e",
            "latency": {
                "worst_cycles": int(latency_ns / 5),
                "worst_ns": float(latency_ns),
                "interval_max": int(ii_ns / 5),
                "interval_ns": float(ii_ns),
            },
            "resources": {
                k: {
                    "used": int(v),
                    "available": cap[k],
                    "utilization_pct": round(100 * v / cap[k], 2),
                }
                for k, v in used.items()
            },
            "fit": {"fits": True},
        },
        "csim": {"n_jets": 10, "bit_exact_fraction": 1.0, "max_abs_diff_lsb": 0.0},
    }
