"""Shared bits of the benchmarks: machine description and JSON output."""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path


def machine() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _strict(value):
    """Infinite or NaN floats -> null: the benchmark files stay strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return value


def write_json(path, payload: dict):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(_strict({"machine": machine(), **payload}), indent=1, allow_nan=False)
    )
    print(f"[bench] wrote {path}")
