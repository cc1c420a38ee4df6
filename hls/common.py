"""Names and figures every part of hls/ shares: the resources of an FPGA report, their labels,
the hls4ml project name qpart uses, the HLS tool of each backend, one number formatter."""

from __future__ import annotations

import math

RESOURCES = ("LUT", "FF", "DSP", "BRAM_18K", "URAM")
RESOURCE_LABELS = {"LUT": "LUT", "FF": "FF", "DSP": "DSP", "BRAM_18K": "BRAM 18K", "URAM": "URAM"}
PROJECT_NAME = "myproject"  # the hls4ml project (top function) name of every qpart design
# the command hls4ml 1.3.0's backends run for synthesis
TOOLS = {"Vivado": "vivado_hls", "Vitis": "vitis-run"}


def fmt(v, digits=4) -> str:
    """A figure for a person: thousands separators, `digits` significant digits, '—' for none."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:.{digits}g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)
