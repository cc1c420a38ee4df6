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

from infra.checks import SchemaError, need, numbers

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
    """Raises infra.checks.SchemaError naming the file and the key."""
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
