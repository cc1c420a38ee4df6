"""csim_report.json: what make hls-csim writes (hls/csim.py), its validator and an example.

    {model, firmware, backend, part, clock_period_ns, project_dir, output_type, output_lsb,
     data_dir, folding: {layer: {parallel, reuse_factor}},
     predict:   {n_jets, bit_exact_fraction, max_abs_diff_lsb, argmax_agreement,
                 keras_accuracy, csim_accuracy, first_mismatch, compile_seconds, jets_per_second},
     testbench: the same + equals_predict, or null,
     first_divergent_layer: null or {layer, jets_differing, max_abs_diff}}

Pure stdlib (the dashboard imports it).
"""

from __future__ import annotations

import json
from pathlib import Path

from data.checks import SchemaError, need, numbers

ROUTE_NUMBERS = (
    "n_jets",
    "bit_exact_fraction",
    "max_abs_diff_lsb",
    "argmax_agreement",
    "keras_accuracy",
    "csim_accuracy",
    "compile_seconds",
    "jets_per_second",
)


def check_csim_report(c, path) -> dict:
    """Raises data.checks.SchemaError naming the file and the key."""
    for key in ("model", "firmware", "part"):
        need(c, key, path, kind=str)
    numbers(c, ("clock_period_ns", "output_lsb"), path)
    numbers(need(c, "predict", path, kind=dict), ROUTE_NUMBERS, path, "predict.")
    tb = c.get("testbench")
    if tb is not None:
        if not isinstance(tb, dict):
            raise SchemaError(f"{path}: 'testbench' must be an object or null")
        numbers(tb, ROUTE_NUMBERS, path, "testbench.")
    return c


def write_csim_report(report: dict, path) -> None:
    check_csim_report(report, path)
    Path(path).write_text(json.dumps(report, indent=1))


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
