"""Read the synthesis reports of an hls4ml project into one flat, documented JSON schema.

Why our own reader: hls4ml's ``parse_vivado_report`` needs ``project.tcl`` and the solution list
in ``<name>_prj/hls.app``, returns strings under tool-specific names (DSP48E vs DSP, "~0"
percentages), and prints instead of failing.  The dashboard needs numbers under one naming for
Vivado HLS and Vitis HLS, from the report files alone (e.g. reports copied off a build machine),
and a loud error when a report is broken.  Pure stdlib, so importing it stays fast.

Files read, relative to the hls4ml project dir ``<prj>`` (``<name>`` = project name):

  <name>_prj/<solution>/syn/report/<name>_csynth.xml   C-synthesis summary, preferred
  <name>_prj/<solution>/syn/report/<name>_csynth.rpt   the same as text, used when there is no
                                                       .xml; also gives the per-instance tables
                                                       and the per-SLR budget
  <name>_prj/<solution>/syn/report/<module>_csynth.xml per-module summaries (modules, last resort)
  <name>_prj/<solution>/sim/report/<name>_cosim.rpt    C/RTL co-simulation
  vivado_synth.rpt                                     Vivado logic synthesis (report_utilization)

``<solution>`` is ``solution1`` when it exists (hls4ml's choice), else the first by name.

Schema (``schema_version`` 1).  Every key below is always present; what the reports do not give
is null (never 0):

  schema_version  1
  tool            "Vivado HLS" | "Vitis HLS" (.rpt: its title; .xml: version >= 2020.2 is Vitis)
  tool_version    e.g. "2019.2"
  part            FPGA part as the HLS report writes it
  top_module      top function
  clock           {target_ns, estimated_ns, uncertainty_ns}
  latency         {best_cycles, worst_cycles, best_ns, worst_ns, interval_min, interval_max,
                   pipeline_type}
                  *_ns = cycles * clock.target_ns, rounded to 1e-6 ns: the target period, as
                  hls4ml and the reports' own "absolute" columns use (the design is clocked at
                  the target; estimated_ns only says whether it closes).  pipeline_type is the
                  report's word, lower case ("none", "function", "dataflow", "yes", ...).
  resources       {LUT, FF, DSP, BRAM_18K, URAM}, each {used, available, utilization_pct,
                   available_slr, utilization_slr_pct}.  Names normalised: DSP48E -> DSP,
                  BRAM -> BRAM_18K.  utilization_pct = used / available * 100 computed here (the
                  reports round to integers and write "~0"); null when available is 0 or unknown.
                  URAM is all null when the report has no URAM.  *_slr: the per-SLR budget
                  ("Available SLR" row) that only the .rpt of multi-SLR parts gives.
  modules         [{name, instance, latency_best_cycles, latency_worst_cycles, interval_min,
                    interval_max, pipeline_type, LUT, FF, DSP, BRAM_18K, URAM}]
                  Vitis HLS: every module of the csynth.xml <ModuleInformation> but the top
                  (instance null).  Vivado HLS: the top's direct instances from the .rpt detail
                  tables (instance = RTL instance name), else per-module <module>_csynth.xml.
  vivado_synth    null, or {tool_version, device, LUT, FF, DSP, BRAM_18K, URAM}, each resource
                  {used, available, utilization_pct}.  BRAM_18K = 2 x "Block RAM Tile" (a tile
                  is 36 Kb, two 18K blocks) so it compares with the HLS BRAM_18K figure.
  cosim           null, or {status, rtl, latency_min, latency_avg, latency_max, interval_min,
                  interval_avg, interval_max}: the first RTL row that ran; status lower case
                  ("pass", "fail"), null with everything else when no RTL ran.
  sources         {csynth: [paths], modules: [paths], vivado_synth: path, cosim: path}:
                  the files read, relative to <prj>, null/[] for what was not there.

Tool sentinels for "unknown" ("undef", "?", "NA", "N/A", "-") read as null.  A missing file,
malformed XML, a missing section or any other non-numeric figure raises ``ReportError`` whose
message starts with the file's path and names what is wrong.
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from hls.common import PROJECT_NAME, RESOURCES
from infra.checks import SchemaError, need, numbers
from infra.errors import QpartError

SCHEMA_VERSION = 1
_ALIASES = {"DSP48E": "DSP", "DSP48": "DSP", "BRAM": "BRAM_18K"}
_UNKNOWN = {"-", "undef", "?", "na", "n/a"}


class ReportError(QpartError):
    """A report is missing, unreadable, or lacks a figure; the message names the file and what."""


# ----------------------------------------------------------------------------- shared helpers


def _number(text, path, what, unit=None):
    """int or float from a report cell; None for tool sentinels; ReportError for anything else."""
    if text is None:
        raise ReportError(f"{path}: {what} is empty")
    s = text.strip()
    if unit and s.endswith(unit):
        s = s[: -len(unit)].strip()
    if s.lower() in _UNKNOWN:
        return None
    if re.fullmatch(r"[-+]?\d+", s):
        return int(s)
    if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s):
        return float(s)
    raise ReportError(f"{path}: {what} is not a number: {text!r}")


def _pct(used, available):
    """Utilisation from the numbers themselves; None where it is undefined."""
    return None if used is None or not available else used / available * 100


def _csynth_resource(used, available, available_slr=None):
    return {
        "used": used,
        "available": available,
        "utilization_pct": _pct(used, available),
        "available_slr": available_slr,
        "utilization_slr_pct": _pct(used, available_slr),
    }


def _latency(best, worst, imin, imax, ptype, target_ns):
    def ns(cycles):
        return None if cycles is None or target_ns is None else round(cycles * target_ns, 6)

    return {
        "best_cycles": best,
        "worst_cycles": worst,
        "best_ns": ns(best),
        "worst_ns": ns(worst),
        "interval_min": imin,
        "interval_max": imax,
        "pipeline_type": ptype.strip().lower() if ptype else None,
    }


def _module_row(name, instance, best, worst, imin, imax, ptype, res):
    return {
        "name": name,
        "instance": instance,
        "latency_best_cycles": best,
        "latency_worst_cycles": worst,
        "interval_min": imin,
        "interval_max": imax,
        "pipeline_type": ptype.strip().lower() if ptype else None,
        **{r: res.get(r) for r in RESOURCES},
    }


def _read_text(path):
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"{path}: file not found")
    return path.read_text(errors="replace")


# ----------------------------------------------------------------------------- csynth .xml


def _load_xml(path):
    if not Path(path).is_file():
        raise ReportError(f"{path}: file not found")
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ReportError(f"{path}: malformed XML ({err})") from None


def _xnum(node, xpath, path, required=True, where=""):
    """Number at ``xpath`` under ``node``; a missing element is an error only if required."""
    el = node.find(xpath)
    if el is None:
        if required:
            raise ReportError(f"{path}: missing <{where}{xpath}>")
        return None
    return _number(el.text, path, f"<{where}{xpath}>")


def _xml_resources(node, path, where, required=True):
    """{normalised resource: number} from a <Resources>/<AvailableResources> element.

    Vitis per-module blocks also hold AVAIL_*/UTIL_* children; those are not resource names and
    are skipped (we compute utilisation ourselves)."""
    if node is None:
        if required:
            raise ReportError(f"{path}: missing <{where}>")
        return {}
    out = {}
    for child in node:
        name = _ALIASES.get(child.tag, child.tag)
        if name in RESOURCES:
            out[name] = _number(child.text, path, f"<{where}/{child.tag}>")
    missing = [r for r in RESOURCES if r != "URAM" and r not in out]
    if required and missing:
        raise ReportError(f"{path}: <{where}> lacks {', '.join(missing)}")
    return out


def _tool_from_xml(root):
    """Vivado HLS ended at 2020.1; from 2020.2 the same files come from Vitis HLS."""
    m = re.match(r"(\d{4})\.(\d+)", root.findtext("ReportVersion/Version") or "")
    if m:
        return "Vitis HLS" if (int(m[1]), int(m[2])) >= (2020, 2) else "Vivado HLS"
    return "Vitis HLS" if root.find("AreaEstimates/Resources/DSP") is not None else "Vivado HLS"


def _xml_modules(root, path, top):
    """Per-module rows from Vitis's <ModuleInformation> (absent in Vivado HLS csynth.xml)."""
    rows = []
    for mod in root.findall("ModuleInformation/Module"):
        name = mod.findtext("Name")
        if name is None or name.strip() == top:
            continue
        where = f"ModuleInformation/Module[{name}]/"
        lat = "PerformanceEstimates/SummaryOfOverallLatency/"
        if mod.find(lat + "Interval-min") is not None:
            imin = _xnum(mod, lat + "Interval-min", path, where=where)
            imax = _xnum(mod, lat + "Interval-max", path, False, where)
        else:  # Vitis 2020.2+ module blocks give one PipelineInitiationInterval
            imin = imax = _xnum(mod, lat + "PipelineInitiationInterval", path, False, where)
        ptype = mod.findtext(lat + "PipelineType") or mod.findtext(
            "PerformanceEstimates/PipelineType"
        )
        res = _xml_resources(
            mod.find("AreaEstimates/Resources"),
            path,
            where + "AreaEstimates/Resources",
            required=False,
        )
        rows.append(
            _module_row(
                name.strip(),
                None,
                _xnum(mod, lat + "Best-caseLatency", path, False, where),
                _xnum(mod, lat + "Worst-caseLatency", path, False, where),
                imin,
                imax,
                ptype,
                res,
            )
        )
    return rows


def parse_csynth_xml(path):
    """Parse ``<top>_csynth.xml`` (Vivado HLS or Vitis HLS) into the csynth part of the schema:
    tool, tool_version, part, top_module, clock, latency, resources, modules."""
    root = _load_xml(path)
    ua, lat = "UserAssignments/", "PerformanceEstimates/SummaryOfOverallLatency/"
    target = _xnum(root, ua + "TargetClockPeriod", path)
    top = (root.findtext(ua + "TopModelName") or "").strip() or None
    used = _xml_resources(root.find("AreaEstimates/Resources"), path, "AreaEstimates/Resources")
    avail = _xml_resources(
        root.find("AreaEstimates/AvailableResources"), path, "AreaEstimates/AvailableResources"
    )
    return {
        "tool": _tool_from_xml(root),
        "tool_version": (root.findtext("ReportVersion/Version") or "").strip() or None,
        "part": (root.findtext(ua + "Part") or "").strip() or None,
        "top_module": top,
        "clock": {
            "target_ns": target,
            "estimated_ns": _xnum(
                root, "PerformanceEstimates/SummaryOfTimingAnalysis/" "EstimatedClockPeriod", path
            ),
            "uncertainty_ns": _xnum(root, ua + "ClockUncertainty", path, required=False),
        },
        "latency": _latency(
            _xnum(root, lat + "Best-caseLatency", path),
            _xnum(root, lat + "Worst-caseLatency", path),
            _xnum(root, lat + "Interval-min", path),
            _xnum(root, lat + "Interval-max", path),
            root.findtext("PerformanceEstimates/PipelineType"),
            target,
        ),
        "resources": {r: _csynth_resource(used.get(r), avail.get(r)) for r in RESOURCES},
        "modules": _xml_modules(root, path, top),
    }


# ----------------------------------------------------------------------------- csynth .rpt


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _sections(lines):
    """{title: lines} for the '== Title' blocks of a .rpt."""
    out, title = {}, None
    for line in lines:
        m = re.match(r"^== (.*\S)\s*$", line)
        if m:
            title = m[1]
            out[title] = []
        elif title is not None:
            out[title].append(line)
    return out


def _table(lines, markers, path, what):
    """(header rows, data rows) of the +---+ table right after the marker lines, found in order.

    Header rows are the |...| lines between the first two +--- rules, data rows those after.
    None when a marker is absent or it is followed by text ("N/A") rather than a table."""
    i = 0
    for marker in markers:
        while i < len(lines) and not lines[i].strip().startswith(marker):
            i += 1
        if i == len(lines):
            return None
        i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines) or not lines[i].strip().startswith("+-"):
        return None
    header, data, rules = [], [], 0
    for line in lines[i:]:
        s = line.strip()
        if s.startswith("+"):
            rules += 1
        elif s.startswith("|"):
            (header if rules < 2 else data).append(_cells(s))
        else:
            break
    if not data:
        raise ReportError(f"{path}: {what} table has no rows")
    return header, data


def _need(table, path, what):
    if table is None:
        raise ReportError(f"{path}: missing {what} table")
    return table


def _rpt_modules(perf, util, path):
    """Rows for the top's direct instances, joining the latency and utilisation detail tables."""
    rows = {}
    lat = _table(perf, ("+ Latency:", "+ Detail:", "* Instance:"), path, "latency instance")
    for c in lat[1] if lat else []:
        if len(c) < 9:
            raise ReportError(f"{path}: latency instance row {c[0]!r} has {len(c)} cells, need 9")
        w = f"latency of instance {c[0]}"
        rows[c[0]] = {
            "module": c[1],
            "lat": [_number(x, path, w) for x in (c[2], c[3], c[6], c[7])],
            "ptype": c[8],
            "res": {},
        }
    res = _table(util, ("+ Detail:", "* Instance:"), path, "utilization instance")
    if res:
        names = [_ALIASES.get(h, h) for h in res[0][0]]
        for c in res[1]:
            if c[0] == "Total":
                continue
            row = rows.setdefault(c[0], {"module": c[1], "lat": [None] * 4, "ptype": None})
            row["res"] = {
                n: _number(x, path, f"{n} of instance {c[0]}")
                for n, x in zip(names[2:], c[2:])
                if n in RESOURCES
            }
    return [
        _module_row(r["module"], inst, *r["lat"], r["ptype"], r["res"]) for inst, r in rows.items()
    ]


def parse_csynth_rpt(path):
    """Parse the text ``<top>_csynth.rpt`` into the same shape as :func:`parse_csynth_xml`;
    used when only the .rpt exists, and for what only the .rpt has (instances, SLR budget)."""
    lines = _read_text(path).splitlines()
    text = "\n".join(lines[:40])
    title = re.search(r"^== (Vivado HLS|Vitis HLS) Report for '([^']+)'", text, re.M)
    if not title:
        raise ReportError(f"{path}: no '== Vivado/Vitis HLS Report for' title; not a csynth report")
    secs = _sections(lines)
    perf, util = secs.get("Performance Estimates"), secs.get("Utilization Estimates")
    if perf is None or util is None:
        missing = "Performance Estimates" if perf is None else "Utilization Estimates"
        raise ReportError(f"{path}: missing '== {missing}' section")

    head, rows = _need(
        _table(perf, ("+ Timing:", "* Summary:"), path, "timing summary"), path, "timing summary"
    )
    col = {h.lower(): i for i, h in enumerate(head[0])}
    if not {"target", "estimated"} <= col.keys():
        raise ReportError(f"{path}: timing summary lacks Target/Estimated columns: {head[0]}")
    clk = rows[0]
    if len(clk) < len(head[0]):
        raise ReportError(f"{path}: timing summary row has {len(clk)} cells, need {len(head[0])}")
    target = _number(clk[col["target"]], path, "timing summary Target", "ns")
    clock = {
        "target_ns": target,
        "estimated_ns": _number(clk[col["estimated"]], path, "timing summary Estimated", "ns"),
        "uncertainty_ns": _number(clk[col["uncertainty"]], path, "timing summary Uncertainty", "ns")
        if "uncertainty" in col
        else None,
    }

    _, rows = _need(
        _table(perf, ("+ Latency:", "* Summary:"), path, "latency summary"), path, "latency summary"
    )
    c = rows[0]
    if len(c) < 7:
        raise ReportError(f"{path}: latency summary row has {len(c)} cells, need 7: {c}")
    lmin, lmax, imin, imax = (
        _number(x, path, f"latency summary {w}")
        for x, w in zip(
            (c[0], c[1], c[4], c[5]), ("latency min", "latency max", "interval min", "interval max")
        )
    )

    head, rows = _need(
        _table(util, ("* Summary:",), path, "utilization summary"), path, "utilization summary"
    )
    names = [_ALIASES.get(h, h) for h in head[0]]
    by_row = {r[0]: r for r in rows}

    def row_values(label, required):
        if label not in by_row:
            if required:
                raise ReportError(f"{path}: utilization summary has no {label!r} row")
            return {}
        return {
            n: _number(x, path, f"utilization {label} {n}")
            for n, x in zip(names[1:], by_row[label][1:])
            if n in RESOURCES
        }

    used, avail = row_values("Total", True), row_values("Available", True)
    slr = row_values("Available SLR", False)
    for r in ("LUT", "FF", "DSP", "BRAM_18K"):
        if r not in used:
            raise ReportError(f"{path}: utilization summary has no {r} column")

    part = re.search(r"^\* Target device:\s*(\S+)", text, re.M)
    version = re.search(r"^\* Version:\s*(\S+)", text, re.M)
    return {
        "tool": title[1],
        "tool_version": version[1] if version else None,
        "part": part[1] if part else None,
        "top_module": title[2],
        "clock": clock,
        "latency": _latency(lmin, lmax, imin, imax, c[6], target),
        "resources": {
            r: _csynth_resource(used.get(r), avail.get(r), slr.get(r)) for r in RESOURCES
        },
        "modules": _rpt_modules(perf, util, path),
    }


# ----------------------------------------------------------------------------- vivado_synth.rpt

_VIVADO_ROWS = {
    "LUT": ("CLB LUTs", "Slice LUTs"),
    "FF": ("CLB Registers", "Slice Registers"),
    "DSP": ("DSPs",),
    "BRAM_18K": ("Block RAM Tile",),
    "URAM": ("URAM",),
}


def parse_vivado_synth_rpt(path):
    """Parse Vivado's ``report_utilization`` output (hls4ml's ``vivado_synth.rpt``).

    Columns are found by header name because Vivado 2021+ adds a 'Prohibited' column; the
    first row of each site type wins (later tables repeat names, e.g. in Primitives)."""
    text = _read_text(path)
    found, cols = {}, None
    for line in text.splitlines():
        if not line.strip().startswith("|"):
            continue
        c = _cells(line)
        if c[0] == "Site Type":
            cols = (
                (c.index("Used"), c.index("Available")) if {"Used", "Available"} <= set(c) else None
            )
            continue
        site = c[0].rstrip("*").strip()
        res = next((r for r, names in _VIVADO_ROWS.items() if site in names), None)
        if cols and res and res not in found:
            found[res] = [
                _number(c[cols[0]], path, f"{site} Used"),
                _number(c[cols[1]], path, f"{site} Available"),
            ]
    for res in ("LUT", "FF", "DSP", "BRAM_18K"):
        if res not in found:
            raise ReportError(
                f"{path}: no {' / '.join(_VIVADO_ROWS[res])} row in the utilization " "tables"
            )
    # 36 Kb tiles -> 18K blocks, comparable with the HLS estimate (0.5 tile = one RAMB18)
    found["BRAM_18K"] = [
        None if v is None else int(2 * v) if float(2 * v).is_integer() else 2 * v
        for v in found["BRAM_18K"]
    ]
    version = re.search(r"Tool Version\s*:\s*Vivado v\.?(\S+)", text)
    device = re.search(r"^\|\s*Device\s*:\s*(\S+)", text, re.M)
    out = {"tool_version": version[1] if version else None, "device": device[1] if device else None}
    for res in RESOURCES:
        used, avail = found.get(res, (None, None))
        out[res] = {"used": used, "available": avail, "utilization_pct": _pct(used, avail)}
    return out


# ----------------------------------------------------------------------------- cosim .rpt


def parse_cosim_rpt(path):
    """Parse ``<top>_cosim.rpt``: status and latency/interval of the first RTL that ran."""
    rows = [_cells(line) for line in _read_text(path).splitlines() if line.strip().startswith("|")]
    rows = [c for c in rows if c[0] in ("VHDL", "Verilog", "SystemC")]
    if not rows:
        raise ReportError(f"{path}: no VHDL/Verilog result rows; not a cosim report")
    keys = (
        "latency_min",
        "latency_avg",
        "latency_max",
        "interval_min",
        "interval_avg",
        "interval_max",
    )
    for c in rows:
        if len(c) < 8:
            raise ReportError(f"{path}: {c[0]} row has {len(c)} cells, need 8")
        if c[1].lower() not in _UNKNOWN:
            return {
                "status": c[1].lower(),
                "rtl": c[0],
                **{k: _number(x, path, f"{c[0]} {k}") for k, x in zip(keys, c[2:8])},
            }
    return {"status": None, "rtl": None, **{k: None for k in keys}}


# ----------------------------------------------------------------------------- project


def _solution_dir(hls_dir):
    sols = sorted(p.parent.parent for p in hls_dir.glob("*/syn/report") if p.is_dir())
    if hls_dir / "solution1" in sols or not sols:
        return hls_dir / "solution1"
    return sols[0]


def read_project_reports(prj_dir, project_name=PROJECT_NAME):
    """Find the reports of the hls4ml project at ``prj_dir`` and assemble the full schema.

    The csynth .xml is preferred (it is what hls4ml reads); the .rpt fills what the .xml lacks
    (SLR budget, per-instance rows) or stands in for it when there is no .xml."""
    prj = Path(prj_dir)
    if not prj.is_dir():
        raise ReportError(f"{prj}: project directory not found")
    sol = _solution_dir(prj / f"{project_name}_prj")
    report_dir = sol / "syn" / "report"
    xml, rpt = (report_dir / f"{project_name}_csynth.{ext}" for ext in ("xml", "rpt"))
    if not xml.is_file() and not rpt.is_file():
        raise ReportError(f"{prj}: no C-synthesis report: neither {xml} nor {rpt} exists")

    def rel(p):
        return p.relative_to(prj).as_posix()

    sources = {"csynth": [], "modules": [], "vivado_synth": None, "cosim": None}
    out = None
    if xml.is_file():
        out = parse_csynth_xml(xml)
        sources["csynth"].append(rel(xml))
        sources["modules"] = [rel(xml)] if out["modules"] else []
    if rpt.is_file():
        from_rpt = parse_csynth_rpt(rpt)
        sources["csynth"].append(rel(rpt))
        if out is None:
            out = from_rpt
        else:
            for r, entry in out["resources"].items():
                entry["available_slr"] = from_rpt["resources"][r]["available_slr"]
                entry["utilization_slr_pct"] = _pct(entry["used"], entry["available_slr"])
        if from_rpt["modules"] and (out is from_rpt or not out["modules"]):
            out["modules"] = from_rpt["modules"]
            sources["modules"] = [rel(rpt)]
    if not out["modules"]:  # Vivado HLS .xml only: one <module>_csynth.xml per module
        for p in sorted(report_dir.glob("*_csynth.xml")):
            if p == xml:
                continue
            m = parse_csynth_xml(p)
            lat = m["latency"]
            out["modules"].append(
                _module_row(
                    m["top_module"],
                    None,
                    lat["best_cycles"],
                    lat["worst_cycles"],
                    lat["interval_min"],
                    lat["interval_max"],
                    lat["pipeline_type"],
                    {r: v["used"] for r, v in m["resources"].items()},
                )
            )
            sources["modules"].append(rel(p))

    synth, cosim = prj / "vivado_synth.rpt", sol / "sim" / "report" / f"{project_name}_cosim.rpt"
    vivado = parse_vivado_synth_rpt(synth) if synth.is_file() else None
    cos = parse_cosim_rpt(cosim) if cosim.is_file() else None
    sources["vivado_synth"] = rel(synth) if vivado else None
    sources["cosim"] = rel(cosim) if cos else None
    return {
        "schema_version": SCHEMA_VERSION,
        **out,
        "vivado_synth": vivado,
        "cosim": cos,
        "sources": sources,
    }


def check_synth_report(s, path) -> dict:
    """A synth_report.json (this schema), as the dashboard reads it: latency, resources,
    clock, modules and vivado_synth figures are numbers or null. Raises SchemaError."""

    def resources(res, where):
        if not isinstance(res, dict):
            raise SchemaError(f"{path}: {where.rstrip('.')} must be a JSON object")
        for r in RESOURCES:
            entry = res.get(r)
            if entry is None:
                continue
            if not isinstance(entry, dict):
                raise SchemaError(f"{path}: {where}{r} must be an object {{used, available, ...}}")
            numbers(entry, ("used", "available", "utilization_pct"), path, f"{where}{r}.")

    numbers(
        need(s, "latency", path, kind=dict),
        ("best_cycles", "worst_cycles", "best_ns", "worst_ns", "interval_min", "interval_max"),
        path,
        "latency.",
    )
    resources(need(s, "resources", path, kind=dict), "resources.")
    clock = s.get("clock") or {}
    if not isinstance(clock, dict):
        raise SchemaError(f"{path}: 'clock' must be an object")
    numbers(clock, ("target_ns", "estimated_ns", "uncertainty_ns"), path, "clock.")
    mods = s.get("modules") or []
    if not isinstance(mods, list):
        raise SchemaError(f"{path}: 'modules' must be a list")
    for i, m in enumerate(mods):
        need(m, "name", path, f"modules[{i}].")
        numbers(
            m, RESOURCES + ("latency_best_cycles", "latency_worst_cycles"), path, f"modules[{i}]."
        )
    if s.get("vivado_synth") is not None:
        resources(s["vivado_synth"], "vivado_synth.")
    return s


def write_synth_report(prj_dir, out_json, project_name=PROJECT_NAME, extra=None):
    """Write :func:`read_project_reports` (plus the keys of ``extra``, e.g. the design's
    configs) as JSON to ``out_json``; returns the dict."""
    report = {**read_project_reports(prj_dir, project_name), **(extra or {})}
    out = Path(out_json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python -m hls.synth_report PRJ_DIR OUT_JSON [PROJECT_NAME]")
    write_synth_report(*sys.argv[1:])
