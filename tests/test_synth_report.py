"""Tests for hls/synth_report.py on real Vivado HLS / Vivado reports of hls4ml projects.

Expected figures are read from the fixture files by this test's own regexes and ElementTree
lookups (never through the parser's helpers), so a parsing slip shows up as a mismatch.
"""

import json
import math
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hls.synth_report import (
    RESOURCES,
    ReportError,
    parse_cosim_rpt,
    parse_csynth_rpt,
    parse_csynth_xml,
    parse_vivado_synth_rpt,
    read_project_reports,
    write_synth_report,
)

FIX = Path(__file__).parent / "fixtures" / "hls_reports"
# name -> (folder, has csynth.xml, has cosim.rpt, has vivado_synth.rpt); all have csynth.rpt
FIXTURES = {
    "transformer": ("Transformer_Neural_Network_HLS", True, True, False),
    "transformer_13_prev": (
        "Transformer_Neural_Network_HLS/13_prev_with_smaller_ap_fixed",
        False,
        False,
        False,
    ),
    "l1jettagger": ("L1JetTagger", True, False, False),
    "dnd_hls4ml": ("dnd_hls4ml", False, False, True),
}
WITH_XML = [k for k, v in FIXTURES.items() if v[1]]
TEST_NAME = {
    "DSP48E": "DSP",
    "DSP": "DSP",
    "BRAM_18K": "BRAM_18K",
    "FF": "FF",
    "LUT": "LUT",
    "URAM": "URAM",
}


def _dir(name):
    return FIX / FIXTURES[name][0]


# ----------------------------------------------------------------- independent readers


def xml_expected(path):
    """Figures of a csynth.xml by direct ElementTree lookups."""
    root = ET.parse(path).getroot()
    t = root.findtext

    def res(tag):
        return {TEST_NAME[c.tag]: int(c.text) for c in root.find(f"AreaEstimates/{tag}")}

    return {
        "version": t("ReportVersion/Version"),
        "part": t("UserAssignments/Part"),
        "top": t("UserAssignments/TopModelName"),
        "target": float(t("UserAssignments/TargetClockPeriod")),
        "estimated": float(t("PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod")),
        "uncertainty": float(t("UserAssignments/ClockUncertainty")),
        "best": int(t("PerformanceEstimates/SummaryOfOverallLatency/Best-caseLatency")),
        "worst": int(t("PerformanceEstimates/SummaryOfOverallLatency/Worst-caseLatency")),
        "imin": int(t("PerformanceEstimates/SummaryOfOverallLatency/Interval-min")),
        "imax": int(t("PerformanceEstimates/SummaryOfOverallLatency/Interval-max")),
        "ptype": t("PerformanceEstimates/PipelineType"),
        "used": res("Resources"),
        "avail": res("AvailableResources"),
        "slr": {},
    }


def rpt_expected(path):
    """Figures of a csynth .rpt by regexes over its text."""
    text = Path(path).read_text()
    tool, top = re.search(r"^== (Vivado HLS|Vitis HLS) Report for '(\w+)'", text, re.M).groups()
    clk = re.search(
        r"^\s+\|ap_clk\s*\|\s*([\d.]+) ns\s*\|\s*([\d.]+) ns\s*\|\s*([\d.]+) ns", text, re.M
    )
    lat = re.search(
        r"^\s+\|\s+(\d+)\|\s+(\d+)\|[^|]+\|[^|]+\|\s+(\d+)\|\s+(\d+)\|\s+(\w+)\s*\|$", text, re.M
    )
    names = [
        TEST_NAME[c.strip()] for c in re.search(r"^\|\s+Name\s+\|(.+)\|$", text, re.M)[1].split("|")
    ]

    def row(label, conv=int):
        m = re.search(rf"^\|{label}\s+\|(.+)\|$", text, re.M)
        return {} if m is None else dict(zip(names, (conv(c.strip()) for c in m[1].split("|"))))

    # per-instance tables: latency detail (Performance section), resource detail (Utilization)
    perf, util = text.split("== Utilization Estimates")
    lat_rows = re.findall(
        r"^\s+\|(\w+)\s*\|(\w+)\s*\|\s*(\d+)\|\s*(\d+)\|[^|]+\|[^|]+\|"
        r"\s*(\d+)\|\s*(\d+)\|\s*(\w+)\s*\|$",
        perf,
        re.M,
    )
    inst_block = util.split("* Instance:")[1].split("* DSP48E:")[0]
    inst_cols = [
        TEST_NAME[c.strip()]
        for c in re.search(r"\|\s+Instance\s+\|\s+Module\s+\|(.+)\|", inst_block)[1].split("|")
    ]
    res_rows = re.findall(r"^\s+\|(\w+)\s*\|(\w+)\s*\|((?:\s*\d+\|)+)$", inst_block, re.M)
    modules = {
        i: {
            "name": m,
            "latency_best_cycles": int(a),
            "latency_worst_cycles": int(b),
            "interval_min": int(c),
            "interval_max": int(d),
            "pipeline_type": p,
        }
        for i, m, a, b, c, d, p in lat_rows
    }
    for inst, mod, cells in res_rows:
        vals = [int(x) for x in cells.strip().strip("|").split("|")]
        modules.setdefault(inst, {"name": mod}).update(dict(zip(inst_cols, vals)))
    return {
        "tool": tool,
        "top": top,
        "version": re.search(r"^\* Version:\s+([\d.]+)", text, re.M)[1],
        "part": re.search(r"^\* Target device:\s+(\S+)", text, re.M)[1],
        "target": float(clk[1]),
        "estimated": float(clk[2]),
        "uncertainty": float(clk[3]),
        "best": int(lat[1]),
        "worst": int(lat[2]),
        "imin": int(lat[3]),
        "imax": int(lat[4]),
        "ptype": lat[5],
        "used": row("Total"),
        "avail": row("Available"),
        "slr": row("Available SLR"),
        "util_pct_text": row("Utilization \\(%\\)", str),
        "modules": modules,
    }


def check_csynth(got, exp):
    """Every csynth figure of the parsed dict against the independently read ones."""
    assert got["tool_version"] == exp["version"]
    assert got["part"] == exp["part"]
    assert got["top_module"] == exp["top"]
    assert got["clock"] == {
        "target_ns": exp["target"],
        "estimated_ns": exp["estimated"],
        "uncertainty_ns": exp["uncertainty"],
    }
    lat = got["latency"]
    assert (lat["best_cycles"], lat["worst_cycles"]) == (exp["best"], exp["worst"])
    assert (lat["interval_min"], lat["interval_max"]) == (exp["imin"], exp["imax"])
    assert lat["pipeline_type"] == exp["ptype"].lower()
    assert lat["best_ns"] == pytest.approx(exp["best"] * exp["target"])
    assert lat["worst_ns"] == pytest.approx(exp["worst"] * exp["target"])
    assert set(got["resources"]) == set(RESOURCES)
    for r in RESOURCES:
        entry, used, avail = got["resources"][r], exp["used"].get(r), exp["avail"].get(r)
        assert (entry["used"], entry["available"]) == (used, avail), r
        assert entry["utilization_pct"] == (pytest.approx(used / avail * 100) if avail else None)
        if "slr" in exp:
            slr = exp["slr"].get(r)
            assert entry["available_slr"] == slr, r
            assert entry["utilization_slr_pct"] == (
                pytest.approx(used / slr * 100) if slr else None
            )


def check_modules(got_modules, exp_modules):
    got = {m["instance"]: m for m in got_modules}
    assert set(got) == set(exp_modules)
    for inst, exp in exp_modules.items():
        row = got[inst]
        for key, value in exp.items():
            assert row[key] == (value.lower() if key == "pipeline_type" else value), (inst, key)


# ----------------------------------------------------------------- parsers on real files


@pytest.mark.parametrize("name", WITH_XML)
def test_csynth_xml_figures(name):
    path = _dir(name) / "myproject_csynth.xml"
    got = parse_csynth_xml(path)
    exp = xml_expected(path)
    del exp["slr"]  # the .xml has no SLR figures
    check_csynth(got, exp)
    assert got["tool"] == "Vivado HLS"  # both are 2019.2
    assert got["modules"] == []  # Vivado HLS csynth.xml has no per-module block
    for r in RESOURCES:
        assert got["resources"][r]["available_slr"] is None


@pytest.mark.parametrize("name", list(FIXTURES))
def test_csynth_rpt_figures(name):
    path = _dir(name) / "myproject_csynth.rpt"
    got, exp = parse_csynth_rpt(path), rpt_expected(path)
    check_csynth(got, exp)
    assert got["tool"] == exp["tool"]
    assert len(got["modules"]) == len(exp["modules"]) > 0
    check_modules(got["modules"], exp["modules"])


@pytest.mark.parametrize("name", list(FIXTURES))
def test_rpt_percentages_agree_with_report_rounding(name):
    """Our exact percentages truncate to the report's integers ("~0" = between 0 and 1)."""
    path = _dir(name) / "myproject_csynth.rpt"
    got, exp = parse_csynth_rpt(path), rpt_expected(path)
    for r, text in exp["util_pct_text"].items():
        pct = got["resources"][r]["utilization_pct"]
        if pct is None:  # dnd_hls4ml: 0 URAM on a part without URAM
            assert exp["avail"][r] == 0 and text == "0"
        elif text == "~0":
            assert 0 < pct < 1
        else:
            assert math.floor(pct) == int(text), r


def test_xml_and_rpt_of_one_run_agree_except_interval():
    """The .xml and .rpt of a run give the same figures, but for Transformer the .xml says
    interval = latency + 1 where the .rpt says interval = latency (non-pipelined top)."""
    for name in WITH_XML:
        x, t = (
            parse_csynth_xml(_dir(name) / "myproject_csynth.xml"),
            parse_csynth_rpt(_dir(name) / "myproject_csynth.rpt"),
        )
        assert x["clock"] == t["clock"]
        assert {r: v["used"] for r, v in x["resources"].items()} == {
            r: v["used"] for r, v in t["resources"].items()
        }
    x = xml_expected(_dir("transformer") / "myproject_csynth.xml")
    t = rpt_expected(_dir("transformer") / "myproject_csynth.rpt")
    assert (x["best"], x["imin"], t["best"], t["imin"]) == (2094, 2095, 2094, 2094)


def test_vivado_synth_rpt_figures():
    path = _dir("dnd_hls4ml") / "vivado_synth.rpt"
    text = path.read_text()

    def row(site):
        m = re.search(
            rf"^\|\s*{site}\s*\|\s*([\d.]+)\s*\|\s*\d+\s*\|\s*(\d+)\s*\|\s*([\d.]+)\s*\|",
            text,
            re.M,
        )
        return float(m[1]), int(m[2]), float(m[3])

    got = parse_vivado_synth_rpt(path)
    assert got["tool_version"] == re.search(r"Vivado v\.([\d.]+)", text)[1]
    assert got["device"] == re.search(r"\| Device\s+:\s+(\S+)", text)[1]
    for res, site, scale in (
        ("LUT", r"CLB LUTs\*", 1),
        ("FF", "CLB Registers", 1),
        ("DSP", "DSPs", 1),
        ("BRAM_18K", "Block RAM Tile", 2),
    ):
        used, avail, util = row(site)
        entry = got[res]
        assert entry["used"] == used * scale and entry["available"] == avail * scale, res
        assert entry["utilization_pct"] == pytest.approx(used / avail * 100)
        assert abs(entry["utilization_pct"] - util) <= 0.005 + 1e-9, res  # report rounds to 0.01
    assert got["BRAM_18K"]["used"] == 1  # 0.5 tile = one RAMB18, as the RAMB18 row says
    assert not re.search(r"^\|\s*URAM", text, re.M)
    assert got["URAM"] == {"used": None, "available": None, "utilization_pct": None}


def test_cosim_rpt_figures():
    path = _dir("transformer") / "myproject_cosim.rpt"
    verilog = re.search(r"^\|\s*Verilog\|\s*(\w+)\|((?:\s*\w+\|){6})", path.read_text(), re.M)
    got = parse_cosim_rpt(path)
    assert got["status"] == verilog[1].lower() == "fail"
    assert got["rtl"] == "Verilog"
    cells = [c.strip() for c in verilog[2].strip("|").split("|")]
    assert cells == ["NA"] * 6
    assert all(
        got[k] is None
        for k in (
            "latency_min",
            "latency_avg",
            "latency_max",
            "interval_min",
            "interval_avg",
            "interval_max",
        )
    )


# ----------------------------------------------------------------- whole project


def make_project(tmp_path, name):
    """Lay a fixture's files out as an hls4ml project: <prj>/myproject_prj/solution1/..."""
    folder, has_xml, has_cosim, has_synth = FIXTURES[name]
    prj = tmp_path / name
    rep = prj / "myproject_prj" / "solution1" / "syn" / "report"
    rep.mkdir(parents=True)
    shutil.copy(FIX / folder / "myproject_csynth.rpt", rep)
    if has_xml:
        shutil.copy(FIX / folder / "myproject_csynth.xml", rep)
    if has_cosim:
        sim = prj / "myproject_prj" / "solution1" / "sim" / "report"
        sim.mkdir(parents=True)
        shutil.copy(FIX / folder / "myproject_cosim.rpt", sim)
    if has_synth:
        shutil.copy(FIX / folder / "vivado_synth.rpt", prj)
    return prj


@pytest.mark.parametrize("name", list(FIXTURES))
def test_read_project_reports(tmp_path, name):
    folder, has_xml, has_cosim, has_synth = FIXTURES[name]
    prj = make_project(tmp_path, name)
    got = read_project_reports(prj)
    assert list(got) == [
        "schema_version",
        "tool",
        "tool_version",
        "part",
        "top_module",
        "clock",
        "latency",
        "resources",
        "modules",
        "vivado_synth",
        "cosim",
        "sources",
    ]
    assert got["schema_version"] == 1
    rpt = rpt_expected(FIX / folder / "myproject_csynth.rpt")
    exp = xml_expected(FIX / folder / "myproject_csynth.xml") if has_xml else rpt
    exp["slr"] = rpt["slr"]  # the SLR budget comes from the .rpt either way
    check_csynth(got, exp)
    check_modules(got["modules"], rpt["modules"])
    report = "myproject_prj/solution1/syn/report/"
    assert got["sources"] == {
        "csynth": ([report + "myproject_csynth.xml"] if has_xml else [])
        + [report + "myproject_csynth.rpt"],
        "modules": [report + "myproject_csynth.rpt"],
        "vivado_synth": "vivado_synth.rpt" if has_synth else None,
        "cosim": "myproject_prj/solution1/sim/report/myproject_cosim.rpt" if has_cosim else None,
    }
    if has_synth:
        assert got["vivado_synth"] == parse_vivado_synth_rpt(FIX / folder / "vivado_synth.rpt")
    else:
        assert got["vivado_synth"] is None
    if has_cosim:
        assert got["cosim"]["status"] == "fail"
    else:
        assert got["cosim"] is None


def test_write_synth_report_writes_valid_json(tmp_path):
    prj = make_project(tmp_path, "transformer")
    out = tmp_path / "out" / "synth.json"
    returned = write_synth_report(prj, out)
    loaded = json.loads(out.read_text())
    assert (
        loaded
        == json.loads(json.dumps(read_project_reports(prj)))
        == json.loads(json.dumps(returned))
    )
    assert loaded["resources"]["DSP"]["used"] == 5042
    assert loaded["resources"]["DSP"]["utilization_slr_pct"] > 100  # over one SLR's DSPs


def test_modules_from_per_module_xml(tmp_path):
    """Vivado HLS with only .xml files: modules come from <module>_csynth.xml."""
    rep = tmp_path / "prj" / "myproject_prj" / "solution1" / "syn" / "report"
    rep.mkdir(parents=True)
    shutil.copy(_dir("transformer") / "myproject_csynth.xml", rep)
    mod = (
        (_dir("l1jettagger") / "myproject_csynth.xml")
        .read_text()
        .replace(
            "<TopModelName>myproject</TopModelName>", "<TopModelName>conv_layer</TopModelName>"
        )
    )
    (rep / "conv_layer_csynth.xml").write_text(mod)
    got = read_project_reports(tmp_path / "prj")
    exp = xml_expected(rep / "conv_layer_csynth.xml")
    assert got["modules"] == [
        {
            "name": "conv_layer",
            "instance": None,
            "latency_best_cycles": exp["best"],
            "latency_worst_cycles": exp["worst"],
            "interval_min": exp["imin"],
            "interval_max": exp["imax"],
            "pipeline_type": exp["ptype"],
            **exp["used"],
        }
    ]
    assert got["sources"]["modules"] == ["myproject_prj/solution1/syn/report/conv_layer_csynth.xml"]


# ----------------------------------------------------------------- Vitis HLS layout
# No Vitis HLS fixture exists, so this XML is synthetic.  It mimics the Vitis HLS 2020.2+
# csynth.xml naming as seen in public Vitis reports: <DSP> instead of <DSP48E>, a
# <ModuleInformation> block whose modules carry PipelineInitiationInterval and AVAIL_*/UTIL_*
# resource children, and "undef" for data-dependent latency.
VITIS_XML = """<profile>
<ReportVersion><Version>2022.2</Version></ReportVersion>
<UserAssignments><unit>ns</unit><Part>xcvu13p-flga2577-2-e</Part>
<TopModelName>myproject</TopModelName><TargetClockPeriod>4.00</TargetClockPeriod>
<ClockUncertainty>1.08</ClockUncertainty><FlowTarget>vivado</FlowTarget></UserAssignments>
<PerformanceEstimates><PipelineType>yes</PipelineType>
<SummaryOfTimingAnalysis><unit>ns</unit><EstimatedClockPeriod>3.301</EstimatedClockPeriod>
</SummaryOfTimingAnalysis>
<SummaryOfOverallLatency><unit>clock cycles</unit><Best-caseLatency>7</Best-caseLatency>
<Average-caseLatency>7</Average-caseLatency><Worst-caseLatency>9</Worst-caseLatency>
<Interval-min>1</Interval-min><Interval-max>1</Interval-max></SummaryOfOverallLatency>
</PerformanceEstimates>
<AreaEstimates>
<Resources><BRAM_18K>4</BRAM_18K><DSP>120</DSP><FF>3035</FF><LUT>8730</LUT><URAM>0</URAM></Resources>
<AvailableResources><BRAM_18K>5376</BRAM_18K><DSP>12288</DSP><FF>3456000</FF><LUT>1728000</LUT>
<URAM>1280</URAM></AvailableResources>
</AreaEstimates>
<ModuleInformation>
<Module><Name>myproject</Name><PerformanceEstimates><SummaryOfOverallLatency>
<Best-caseLatency>7</Best-caseLatency><Worst-caseLatency>9</Worst-caseLatency>
<PipelineInitiationInterval>1</PipelineInitiationInterval><PipelineType>yes</PipelineType>
</SummaryOfOverallLatency></PerformanceEstimates>
<AreaEstimates><Resources><LUT>8730</LUT></Resources></AreaEstimates></Module>
<Module><Name>dense_latency_config2_s</Name><PerformanceEstimates><SummaryOfOverallLatency>
<Best-caseLatency>2</Best-caseLatency><Worst-caseLatency>2</Worst-caseLatency>
<PipelineInitiationInterval>1</PipelineInitiationInterval><PipelineType>yes</PipelineType>
</SummaryOfOverallLatency></PerformanceEstimates>
<AreaEstimates><Resources><BRAM_18K>0</BRAM_18K><AVAIL_BRAM>5376</AVAIL_BRAM>
<UTIL_BRAM>0</UTIL_BRAM><DSP>112</DSP><AVAIL_DSP>12288</AVAIL_DSP><UTIL_DSP>~0</UTIL_DSP>
<FF>1801</FF><LUT>4102</LUT><URAM>0</URAM></Resources></AreaEstimates></Module>
<Module><Name>stream_reader</Name><PerformanceEstimates><SummaryOfOverallLatency>
<Best-caseLatency>undef</Best-caseLatency><Worst-caseLatency>undef</Worst-caseLatency>
<PipelineInitiationInterval>undef</PipelineInitiationInterval><PipelineType>none</PipelineType>
</SummaryOfOverallLatency></PerformanceEstimates>
<AreaEstimates><Resources><BRAM_18K>4</BRAM_18K><DSP>0</DSP><FF>12</FF><LUT>40</LUT>
<URAM>0</URAM></Resources></AreaEstimates></Module>
</ModuleInformation>
</profile>
"""


def test_vitis_xml_layout(tmp_path):
    rep = tmp_path / "prj" / "myproject_prj" / "solution1" / "syn" / "report"
    rep.mkdir(parents=True)
    (rep / "myproject_csynth.xml").write_text(VITIS_XML)
    got = read_project_reports(tmp_path / "prj")
    assert (got["tool"], got["tool_version"], got["part"]) == (
        "Vitis HLS",
        "2022.2",
        "xcvu13p-flga2577-2-e",
    )
    assert got["clock"] == {"target_ns": 4.0, "estimated_ns": 3.301, "uncertainty_ns": 1.08}
    assert got["latency"] == {
        "best_cycles": 7,
        "worst_cycles": 9,
        "best_ns": 28.0,
        "worst_ns": 36.0,
        "interval_min": 1,
        "interval_max": 1,
        "pipeline_type": "yes",
    }
    assert got["resources"]["DSP"] == {
        "used": 120,
        "available": 12288,
        "utilization_pct": pytest.approx(120 / 12288 * 100),
        "available_slr": None,
        "utilization_slr_pct": None,
    }
    assert got["modules"] == [
        {
            "name": "dense_latency_config2_s",
            "instance": None,
            "latency_best_cycles": 2,
            "latency_worst_cycles": 2,
            "interval_min": 1,
            "interval_max": 1,
            "pipeline_type": "yes",
            "LUT": 4102,
            "FF": 1801,
            "DSP": 112,
            "BRAM_18K": 0,
            "URAM": 0,
        },
        {
            "name": "stream_reader",
            "instance": None,
            "latency_best_cycles": None,
            "latency_worst_cycles": None,
            "interval_min": None,
            "interval_max": None,
            "pipeline_type": "none",
            "LUT": 40,
            "FF": 12,
            "DSP": 0,
            "BRAM_18K": 4,
            "URAM": 0,
        },
    ]
    assert got["sources"]["modules"] == ["myproject_prj/solution1/syn/report/myproject_csynth.xml"]


def test_vitis_rpt_names_and_old_xml_without_uram(tmp_path):
    """Vitis .rpt says 'Vitis HLS' and DSP (synthetic: a real .rpt with those names swapped);
    a pre-UltraScale+ csynth.xml has no URAM, which must read as null, not 0."""
    text = (_dir("dnd_hls4ml") / "myproject_csynth.rpt").read_text()
    vitis = tmp_path / "vitis_csynth.rpt"
    sigmoid = "|        2|        2| 10.000 ns | 10.000 ns |    1|    1|"
    assert text.count(sigmoid) == 1
    vitis.write_text(
        text.replace("Vivado HLS Report", "Vitis HLS Report")
        .replace("DSP48E", "DSP")
        .replace("2020.1 (Build", "2021.1 (Build")
        # min != max, which no real fixture row has, so swapped columns would show
        .replace(sigmoid, "|        2|        3| 10.000 ns | 15.000 ns |    1|    2|")
    )
    got, orig = (
        parse_csynth_rpt(vitis),
        parse_csynth_rpt(_dir("dnd_hls4ml") / "myproject_csynth.rpt"),
    )
    assert (got["tool"], got["tool_version"]) == ("Vitis HLS", "2021.1")
    assert got["resources"] == orig["resources"]
    for row, orig_row in zip(got["modules"], orig["modules"]):
        if row["name"].startswith("sigmoid"):
            orig_row = {**orig_row, "latency_worst_cycles": 3, "interval_max": 2}
        assert row == orig_row

    old = re.sub(
        r"<URAM>\d+</URAM>\n", "", (_dir("transformer") / "myproject_csynth.xml").read_text()
    ).replace("2019.2", "2018.2")
    (tmp_path / "old.xml").write_text(old)
    uram = parse_csynth_xml(tmp_path / "old.xml")["resources"]["URAM"]
    assert uram == {
        "used": None,
        "available": None,
        "utilization_pct": None,
        "available_slr": None,
        "utilization_slr_pct": None,
    }


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "parser", [parse_csynth_xml, parse_csynth_rpt, parse_vivado_synth_rpt, parse_cosim_rpt]
)
def test_missing_file_names_it(tmp_path, parser):
    path = tmp_path / "nowhere" / "report.rpt"
    with pytest.raises(ReportError, match=re.escape(str(path)) + ".*not found"):
        parser(path)


def _broken(tmp_path, source, old, new, name="myproject_csynth.xml"):
    text = source.read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return path


def test_bad_xml_errors_name_file_and_field(tmp_path):
    src = _dir("transformer") / "myproject_csynth.xml"
    path = _broken(tmp_path, src, "</profile>", "")
    with pytest.raises(ReportError, match=re.escape(str(path)) + ": malformed XML"):
        parse_csynth_xml(path)
    path = _broken(tmp_path, src, "<LUT>175142</LUT>", "<LUT>17x142</LUT>")
    with pytest.raises(ReportError, match=re.escape(str(path)) + r".*Resources/LUT.*'17x142'"):
        parse_csynth_xml(path)
    path = _broken(tmp_path, src, "<Worst-caseLatency>2094</Worst-caseLatency>", "")
    with pytest.raises(ReportError, match=re.escape(str(path)) + ": missing.*Worst-caseLatency"):
        parse_csynth_xml(path)
    path = _broken(tmp_path, src, "<DSP48E>12288</DSP48E>", "")
    with pytest.raises(ReportError, match=re.escape(str(path)) + ".*AvailableResources.*DSP"):
        parse_csynth_xml(path)


def test_bad_rpt_errors_name_file_and_field(tmp_path):
    src = _dir("transformer") / "myproject_csynth.rpt"
    path = _broken(
        tmp_path,
        src,
        "|Total                |       37|   5042|   108688|   175142|",
        "|Total                |       37|   5042|   108688|   17x142|",
        "myproject_csynth.rpt",
    )
    with pytest.raises(ReportError, match=re.escape(str(path)) + ".*Total LUT.*'17x142'"):
        parse_csynth_rpt(path)
    path = _broken(
        tmp_path, src, "== Utilization Estimates", "== Something Else", "myproject_csynth.rpt"
    )
    with pytest.raises(ReportError, match=re.escape(str(path)) + ".*Utilization Estimates"):
        parse_csynth_rpt(path)
    path = _broken(tmp_path, src, "+ Timing:", "+ Timings were here:", "myproject_csynth.rpt")
    with pytest.raises(ReportError, match=re.escape(str(path)) + ": missing timing summary"):
        parse_csynth_rpt(path)
    path = _broken(
        tmp_path, src, "|Available            |", "|Avail                |", "myproject_csynth.rpt"
    )
    with pytest.raises(ReportError, match=re.escape(str(path)) + ".*no 'Available' row"):
        parse_csynth_rpt(path)
    path = _broken(
        tmp_path, src, "Vivado HLS Report for", "Some Report for", "myproject_csynth.rpt"
    )
    with pytest.raises(ReportError, match=re.escape(str(path)) + ".*not a csynth report"):
        parse_csynth_rpt(path)


def test_bad_vivado_and_cosim_errors_name_file(tmp_path):
    src = _dir("dnd_hls4ml") / "vivado_synth.rpt"
    path = _broken(tmp_path, src, "| DSPs      |", "| Widgets   |", "vivado_synth.rpt")
    with pytest.raises(ReportError, match=re.escape(str(path)) + ": no DSPs row"):
        parse_vivado_synth_rpt(path)
    path = _broken(
        tmp_path,
        src,
        "| CLB Registers           |  4555 |",
        "| CLB Registers           |  45x5 |",
        "vivado_synth.rpt",
    )
    with pytest.raises(ReportError, match=re.escape(str(path)) + ".*CLB Registers Used.*45x5"):
        parse_vivado_synth_rpt(path)
    path = _broken(
        tmp_path,
        _dir("transformer") / "myproject_cosim.rpt",
        "|   Verilog|",
        "|   Spice  |",
        "myproject_cosim.rpt",
    )
    path.write_text(path.read_text().replace("|      VHDL|", "|      Spic|"))
    with pytest.raises(ReportError, match=re.escape(str(path)) + ": no VHDL/Verilog"):
        parse_cosim_rpt(path)


def test_project_without_reports_is_an_error(tmp_path):
    with pytest.raises(ReportError, match="project directory not found"):
        read_project_reports(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match=r"no C-synthesis report.*myproject_csynth\.xml"):
        read_project_reports(tmp_path / "empty")
