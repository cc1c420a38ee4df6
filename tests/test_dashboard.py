"""Tests for hls/report (`make report`) on a fake build/ tree.

The tree holds metrics.json, csim_report.json, scan.json and search.json files made by the
example builders of tests/examples.py (valid by the checks of the modules that own those
schemas: model.metrics, hls.csim_report, hls.points),
synth_report.json files made by hls.synth_report from the real Vivado HLS reports in
tests/fixtures/hls_reports/ (laid out as hls4ml projects, as make synth leaves them),
estimate.json files made by hls.estimate from part_tiny's config, and two bench files.
"""

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import need_tool  # noqa: E402
from examples import example_csim_report as csim_report  # noqa: E402
from examples import (  # noqa: E402
    example_metrics_json,
    example_point,
    example_scan,
    example_scan_point,
    example_search,  # noqa: E402
    example_zu9eg_config,
)
from examples import example_route as route  # noqa: E402

from hls.common import TOOLS  # noqa: E402
from hls.points import summarise  # noqa: E402
from hls.report import browser, discover  # noqa: E402
from hls.report.build import build_dashboard, main  # noqa: E402
from hls.report.discover import DashboardError  # noqa: E402
from hls.report.points import pareto_front  # noqa: E402
from hls.synth_report import write_synth_report  # noqa: E402
from infra.checks import SchemaError  # noqa: E402

FIX = Path(__file__).parent / "fixtures" / "hls_reports"
CLASSES = ["QCD", "Hbb", "Hcc", "Hgg", "H4q", "Hqql", "Zqq", "Wqq", "Tbqq", "Tbl"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXPECTED_PLOTS = {
    "training.png",
    "fidelity.png",
    "resources.png",
    "latency.png",
    "pareto.png",
    "layers_part_l1-u250.png",
    "layers_part_tiny-zcu102.png",
    "bops_part_tiny.png",
    "bops_part_l1.png",
    "search_example.png",
    "scan_part_tiny-vu13p.png",
    "overview.png",
    "routes.png",
}  # BOPs per layer of the quantized models only
SEARCH = "search/example/search.json"


# ----------------------------------------------------------------------------- the fake tree


def write_json(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1))


def metrics(model, quantized, accuracy, macro_auc, bops_scale=1.0):
    return example_metrics_json(model, quantized, accuracy, macro_auc, CLASSES, bops_scale)


def lay_out_reports(prj, folder):
    """A fixture's report files where an hls4ml project keeps them, then synth_report.json
    through hls.synth_report (what make synth does after the build)."""
    rep = prj / "myproject_prj" / "solution1" / "syn" / "report"
    rep.mkdir(parents=True, exist_ok=True)
    src = FIX / folder
    for name in ("myproject_csynth.rpt", "myproject_csynth.xml"):
        if (src / name).is_file():
            shutil.copy(src / name, rep)
    if (src / "myproject_cosim.rpt").is_file():
        sim = prj / "myproject_prj" / "solution1" / "sim" / "report"
        sim.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / "myproject_cosim.rpt", sim)
    if (src / "vivado_synth.rpt").is_file():
        shutil.copy(src / "vivado_synth.rpt", prj)
    return write_synth_report(prj, prj / "synth_report.json")


def marker(prj, model, fw):
    write_json(
        prj / "qpart_project.json", {"model": model, "firmware": fw, "architecture": "0123abcd"}
    )


def real_estimate(fw):
    """estimate.json as make estimate writes it (the configs' paths included), for part_tiny
    (untrained) on the firmware config `fw` (a name or a path)."""
    from hls.design import design
    from hls.runner import estimate_design

    return estimate_design(design("part_tiny", fw, "untrained"))


def search_points() -> list[dict]:
    """Both ParT modes and the plain transformer: fronts, a point over the latency target, a
    mode with no point within it, a point over budget and one whose config was rejected."""
    pts = [
        example_point("p_on_fast", 0.700, 800, 100_000, 1_000),
        example_point("p_on_slow", 0.740, 1_500, 150_000, 1_500),  # over the latency target
        example_point("p_on_worse", 0.650, 900, 200_000, 2_000),  # dominated by p_on_fast
        example_point("p_none_a", 0.660, 500, 50_000, 500, "none"),
        example_point("p_none_b", 0.680, 700, 80_000, 700, "none"),
        example_point("p_host", 0.710, 2_000, 90_000, 900, "host", ii_ns=300.0),
    ]
    big = example_point("p_on_big", 0.0, 3_000, 2_000_000, 9_000)
    for key in ("accuracy", "macro_auc", "csim"):
        del big[key]
    big["estimate"]["fit"] = {"fits": False, "over_budget": ["LUT"]}
    big.update(status="over_budget", stage="estimate", error="estimate: LUT over budget " * 12)
    bad = {k: v for k, v in example_point("p_bad", 0.0, 1, 1, 1).items() if k in BAD_KEYS}
    bad.update(status="error", stage="config", error="ConfigError: num_heads must divide")
    for p in pts:
        p["label"] = f"{p['id'][2:]} pair_features={p['pair_features']}"
    return pts + [big, bad]


BAD_KEYS = ("id", "label", "overrides", "config", "firmware_config")
RTL_REPORT = {
    "source": "yosys 0.38",
    "resources": {"LUT": {"used": 150_000}, "FF": {"used": 90_000}, "DSP": {"used": 1_500}},
    "latency": {"worst_cycles": 250, "worst_ns": 1250.0, "interval_max": 40},
}


def write_search(build: Path) -> Path:
    pts = search_points()
    search = example_search(pts)
    best = next(p for p in pts if p["id"] == search["modes"]["onchip"]["best"])
    search["float_reference"] = {"onchip": {"id": best["id"], "accuracy": 0.72, "macro_auc": 0.9}}
    search["part_full_reference"] = {"accuracy": 0.81, "macro_auc": 0.97, "path": "x"}
    path = build / SEARCH
    write_json(path, search)
    for p in pts:
        for key in ("config", "firmware_config"):
            (path.parent / p[key]).parent.mkdir(parents=True, exist_ok=True)
            (path.parent / p[key]).write_text(f"# {p['id']} {key}\nname: {p['id']}\n")
    return path


def make_build(root: Path, synth=True, scan=True, bench=True, search=True) -> Path:
    build = root / "build"
    models = build / "models"
    write_json(models / "part_tiny" / "metrics.json", metrics("part_tiny", True, 0.652, 0.941))
    write_json(
        models / "part_tiny-float" / "metrics.json", metrics("part_tiny", False, 0.671, 0.948)
    )
    write_json(models / "part_l1" / "metrics.json", metrics("part_l1", True, 0.689, 0.951, 2.5))
    # a training plot as make train leaves it, copied into the report
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([1, 2, 3], [1.2, 0.9, 0.8])
    fig.savefig(models / "part_tiny" / "history.png")
    plt.close(fig)

    hls = build / "hls"
    # 1. ZU9EG / Vivado, from a user's config outside firmware_configs/ (the real ZU9EG
    #    reports): bit-exact both routes, synthesised (csynth .rpt + Vivado logic synth)
    zcu102 = example_zu9eg_config(root / "configs")
    prj = hls / "part_tiny-zcu102"
    marker(prj, "part_tiny", "zcu102")
    write_json(
        prj / "csim_report.json",
        csim_report(
            "part_tiny",
            "zcu102",
            "Vivado",
            "xczu9eg-ffvb1156-2-e",
            route(1000),
            route(1000, tb=True),
        ),
    )
    if synth:
        lay_out_reports(prj, "dnd_hls4ml")
    est = real_estimate(zcu102)
    est["band"] = {  # an error band as issue 18 adds it: per resource, counts, and its source
        r: {
            "low": int(est["resources"][r]["used"] * 0.6),
            "high": int(est["resources"][r]["used"] * 1.7),
        }
        for r in ("LUT", "FF", "DSP")
    }
    est["band"]["source"] = "holdout, Vivado 2019-2020"
    write_json(prj / "estimate.json", est)
    # 2. VU13P / Vitis: C-simulated and estimated, never synthesised
    prj = hls / "part_tiny-vu13p"
    marker(prj, "part_tiny", "vu13p")
    write_json(
        prj / "csim_report.json",
        csim_report(
            "part_tiny", "vu13p", "Vitis", "xcvu13p-flga2577-2-e", route(1000), route(1000, tb=True)
        ),
    )
    write_json(prj / "estimate.json", real_estimate("vu13p"))
    write_json(prj / "rtl_report.json", RTL_REPORT)  # as the RTL route leaves it
    # 2b. VU13P, every row in one iteration: estimated only, over the budget and over an SLR
    prj = hls / "part_tiny-vu13p_parallel"
    marker(prj, "part_tiny", "vu13p_parallel")
    write_json(prj / "estimate.json", real_estimate("vu13p_parallel"))
    # 3. a U250 firmware config that is not in firmware_configs/: a mismatch, no testbench,
    #    synthesised from the transformer reports (per-module rows, a failed co-simulation)
    prj = hls / "part_l1-u250"
    marker(prj, "part_l1", "u250")
    write_json(
        prj / "csim_report.json",
        csim_report(
            "part_l1",
            "u250",
            "Vivado",
            "xcu250-figd2104-2L-e",
            route(500, exact=0.994, maxdiff=2.0, agree=0.998, keras=0.689, csim=0.687),
            None,
            {"layer": "block1_attn", "jets_differing": 3, "max_abs_diff": 0.0039},
        ),
    )
    if synth:
        lay_out_reports(prj, "Transformer_Neural_Network_HLS")

    if scan:
        l1 = lay_out_reports(root / "scanprj" / "a", "L1JetTagger")
        dnd = lay_out_reports(root / "scanprj" / "b", "dnd_hls4ml")
        pts = [
            example_scan_point(
                "w8a8",
                {"weight_bits": 8, "act_t": "fixed<8,3>"},
                1,
                0.652,
                {"latency": l1["latency"], "resources": l1["resources"]},
            ),
            example_scan_point(
                "w6a8",
                {"weight_bits": 6, "act_t": "fixed<8,3>"},
                1,
                0.648,
                {"latency": dnd["latency"], "resources": dnd["resources"]},
            ),
            example_scan_point("w4a8", {"weight_bits": 4, "act_t": "fixed<8,3>"}, 1, 0.601),
            example_scan_point("w8a6-rf4", {"weight_bits": 8, "act_t": "fixed<6,2>"}, 4, 0.633),
        ]
        path = build / "scan" / "part_tiny-vu13p" / "scan.json"
        write_json(path, example_scan(pts))
        for p in pts:
            (path.parent / p["firmware_config"]).parent.mkdir(parents=True, exist_ok=True)
            (path.parent / p["firmware_config"]).write_text(f"# {p['id']}\n")
    if search:
        write_search(build)
    if bench:
        write_json(
            build / "bench" / "data.json",
            {
                "machine": {"cpu_count": 2, "machine": "x86_64", "python": "3.11.2"},
                "generator_jets_per_second_per_core": {c: 12.5 + i for i, c in enumerate(CLASSES)},
                "reader": {"kin": {"jets": 8000, "jets_per_second": 51234.5}},
            },
        )
        write_json(
            build / "bench" / "train.json",
            {
                "results": [
                    {"model": "part_l1", "quantized": True, "accuracy": 0.689},
                    {"model": "part_l1", "quantized": False, "accuracy": 0.702},
                ],
                "quantization_cost_accuracy": 0.013,
            },
        )
    return build


def _without_hls_tools(mp):
    real = shutil.which
    mp.setattr(
        discover.shutil,
        "which",
        lambda name, *a, **k: None if name in TOOLS.values() else real(name, *a, **k),
    )


@pytest.fixture
def no_hls_tools(monkeypatch):
    """As on a machine without Vivado/Vitis: the HLS tools are not on PATH."""
    _without_hls_tools(monkeypatch)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The dashboard of the full fake tree, made once for the tests that only read it."""
    root = tmp_path_factory.mktemp("dashboard")
    build = make_build(root)
    out = root / "reports"
    with pytest.MonkeyPatch.context() as mp:
        _without_hls_tools(mp)
        assert main(["--build", str(build), "--out", str(out)]) == 0
    return build, out, json.loads((out / "dashboard.json").read_text())


# ----------------------------------------------------------------------------- helpers


class Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        self.refs += [(tag, k, v) for k, v in attrs if k in ("src", "href")]


def refs(html_text):
    p = Refs()
    p.feed(html_text)
    return p.refs


def check_png(path):
    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG"
    img = plt.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    return img


def table_rows(html_text, section):
    """<tr> rows of one <section id=...> of the page."""
    body = re.search(rf'<section id="{section}">(.*?)</section>', html_text, re.S)[1]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


# ----------------------------------------------------------------------------- tests


def test_every_plot_is_written_and_a_valid_png(report):
    _, out, summary = report
    files = {p["file"] for p in summary["plots"]}
    assert files == EXPECTED_PLOTS
    for f in files:
        check_png(out / f)
    assert summary["plots_not_written"] == []
    assert [c for c in summary["copied"] if c.startswith("models/")] == [
        "models/part_tiny/history.png"
    ]


def test_html_references_only_existing_files(report):
    _, out, summary = report
    page = (out / "index.html").read_text()
    found = refs(page)
    targets = {v for _, _, v in found if not v.startswith("#")}
    assert targets, "no links at all"
    for v in targets:
        assert "://" not in v and not v.startswith("/"), f"not a relative link: {v}"
        assert (out / v).is_file(), f"index.html references {v}, which does not exist"
    assert {p["file"] for p in summary["plots"]} <= targets  # every plot is on the page
    anchors = {v[1:] for _, _, v in found if v.startswith("#")}
    assert all(f'id="{a}"' in page for a in anchors)


def test_estimates_are_labelled_and_beside_synthesis(report):
    build, out, summary = report
    page = (out / "index.html").read_text()
    rows = table_rows(page, "estimate")
    est = json.loads((build / "hls" / "part_tiny-zcu102" / "estimate.json").read_text())
    synth = json.loads((build / "hls" / "part_tiny-zcu102" / "synth_report.json").read_text())
    row = next(r for r in rows if "part_tiny-zcu102" in r and "estimate (pre-synthesis)" in r)
    lut = est["resources"]["LUT"]
    assert f"{lut['used']:,}<br><span class='sub'>/ {lut['available']:,} · " in row
    verdict = "fits" if est["fit"]["fits"] else "does not fit"  # at the band's upper end
    assert html.escape(f"{verdict} at the band's upper end") in row
    assert html.escape(f"band: {est['band']['source']}") in row
    assert f"up to {lut['utilization_high_pct']:.2f}% (band)" in row
    row = next(r for r in rows if "part_tiny-zcu102" in r and "ratio synthesised / estimate" in r)
    ratio = synth["resources"]["LUT"]["used"] / lut["used"]
    assert f"{ratio:.3f}" in row
    # a design without synthesis: its estimate, and no synthesised or ratio row
    assert any("part_tiny-vu13p" in r and "estimate (pre-synthesis)" in r for r in rows)
    assert not any("part_tiny-vu13p" in r and "synthesised" in r for r in rows)
    # a design without an estimate says so
    row = next(r for r in rows if "part_l1-u250" in r)
    assert "estimate: not run (make estimate)" in row
    # estimated figures never enter the synthesis table
    row = next(r for r in table_rows(page, "synthesis") if "part_tiny-vu13p" in r)
    assert "%" not in row
    # the accuracy plot puts the unsynthesised design on estimated LUT / DSP, labelled so
    vu13p = json.loads((build / "hls" / "part_tiny-vu13p" / "estimate.json").read_text())
    point = next(p for p in summary["points"] if p["label"] == "part_tiny-vu13p")
    assert point["util_max"] is None and point["est_util"] == pytest.approx(
        max(vu13p["resources"][r]["utilization_pct"] for r in ("LUT", "DSP"))
    )


def test_design_without_synthesis_shows_not_run(report):
    _, out, summary = report
    page = (out / "index.html").read_text()
    designs = {d["name"]: d for d in summary["found"]["designs"]}
    assert designs["part_tiny-vu13p"]["synthesis"] == "not run (vitis-run not on PATH)"
    assert designs["part_tiny-vu13p"]["synth_report"] is None
    assert designs["part_tiny-zcu102"]["synthesis"] == "ok"
    assert designs["part_l1-u250"]["cosim"] == "fail"
    row = next(r for r in table_rows(page, "synthesis") if "part_tiny-vu13p" in r)
    assert "synthesis: not run (vitis-run not on PATH)" in row
    assert "%" not in row and not re.search(r">\s*\d", row), "a figure for an unsynthesised design"
    assert "part_tiny-vu13p: synthesis not run (vitis-run not on PATH)" in summary["not_run"]
    # the route that did not run is marked too
    row = next(r for r in table_rows(page, "fidelity") if "part_l1-u250" in r and "testbench" in r)
    assert "not run" in row


def test_figures_come_from_the_reports(report):
    build, out, summary = report
    page = (out / "index.html").read_text()
    synth = json.loads((build / "hls" / "part_l1-u250" / "synth_report.json").read_text())
    rows = table_rows(page, "synthesis")
    row = next(r for r in rows if "part_l1-u250" in r and "HLS estimate" in r)
    dsp = synth["resources"]["DSP"]
    assert f"{dsp['used']:,}<br><span class='sub'>/ {dsp['available']:,} · " in row
    assert f"{dsp['utilization_pct']:.2f}%" in row
    # ZU9EG has no URAM: shown as such, not as 0 %
    row = next(r for r in rows if "part_tiny-zcu102" in r and "HLS estimate" in r)
    assert "n/a (part has none)" in row
    row = next(r for r in rows if "part_tiny-zcu102" in r and "logic synthesis" in r)
    zcu = json.loads((build / "hls" / "part_tiny-zcu102" / "synth_report.json").read_text())
    lut = zcu["vivado_synth"]["LUT"]
    assert f"{lut['used']:,}<br><span class='sub'>/ {lut['available']:,} · " in row
    row = next(r for r in rows if "part_l1-u250" in r and "logic synthesis" in r)
    assert "Vivado logic synthesis: not run" in row
    row = next(r for r in rows if "part_l1-u250" in r and "clock" not in r and "2,094" in r)
    assert "fail" in row  # the failed co-simulation of the transformer reports
    # Pareto front: of the synthesised points, the L1 design (best accuracy) and the cheap ones
    front = {(p["source"], p["label"]) for p in summary["pareto_front"]}
    assert ("scan part_tiny-vu13p", "w8a8") in front
    assert ("designs (build/hls)", "part_l1-u250") in front
    assert ("designs (build/hls)", "part_tiny-vu13p") in front  # alone: estimated resources


def test_rerun_removes_only_its_own_stale_files(tmp_path, no_hls_tools):
    build = make_build(tmp_path, scan=False, bench=False)
    out = tmp_path / "reports"
    build_dashboard(build, out)
    (out / "mine.txt").write_text("not the dashboard's")
    shutil.rmtree(build / "hls" / "part_l1-u250")
    summary = build_dashboard(build, out)
    assert not (out / "layers_part_l1-u250.png").exists()
    assert (out / "mine.txt").exists()
    assert all((out / p["file"]).is_file() for p in summary["plots"])


def test_without_synthesis_uses_bops_and_says_so(tmp_path, no_hls_tools):
    build = make_build(tmp_path, synth=False, scan=False, bench=False, search=False)
    out = tmp_path / "reports"
    summary = build_dashboard(build, out)
    files = {p["file"] for p in summary["plots"]}
    assert {"resources.png", "latency.png"}.isdisjoint(files)
    assert {s["plot"] for s in summary["plots_not_written"]} == {"resources.png", "latency.png"}
    assert "pareto.png" in files and "fidelity.png" in files
    check_png(out / "pareto.png")
    page = (out / "index.html").read_text()
    assert "resources.png: not written (no synth_report.json in any design (make synth))" in page
    assert "Scan: not run (no build/scan/*/scan.json; make scan)" in page
    assert "Design-space search: not run" in page
    assert "Benchmarks: not run" in page
    assert all(d["synthesis"].startswith("not run") for d in summary["found"]["designs"])


def test_empty_build_dir(tmp_path):
    (tmp_path / "build").mkdir()
    summary = build_dashboard(tmp_path / "build", tmp_path / "reports")
    assert summary["plots"] == []
    page = (tmp_path / "reports" / "index.html").read_text()
    assert "No trained model found: not run (make train)" in page
    with pytest.raises(DashboardError, match=r"nowhere: no such build directory"):
        build_dashboard(tmp_path / "nowhere", tmp_path / "reports")


@pytest.mark.parametrize(
    "rel",
    [
        "models/part_tiny/metrics.json",
        "hls/part_tiny-vu13p/csim_report.json",
        "hls/part_tiny-zcu102/synth_report.json",
        "scan/part_tiny-vu13p/scan.json",
        SEARCH,
        "bench/train.json",
    ],
)
def test_malformed_json_names_the_file(tmp_path, capsys, rel):
    build = make_build(tmp_path)
    path = build / rel
    path.write_text(path.read_text()[:-20])  # truncated
    assert main(["--build", str(build), "--out", str(tmp_path / "reports")]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}: not valid JSON (line" in err


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda m: m.pop("accuracy"), "missing key 'accuracy'"),
        (lambda m: m.update(macro_auc="high"), "'macro_auc' is not a number: 'high'"),
    ],
)
def test_bad_metrics_figure_names_the_file(tmp_path, edit, message):
    build = make_build(tmp_path, synth=False, scan=False, bench=False)
    path = build / "models" / "part_l1" / "metrics.json"
    m = json.loads(path.read_text())
    edit(m)
    path.write_text(json.dumps(m))
    with pytest.raises(SchemaError, match=re.escape(f"{path}: {message}")):
        build_dashboard(build, tmp_path / "reports")


def test_synth_report_of_another_part_names_both_files(tmp_path):
    build = make_build(tmp_path, scan=False, bench=False)
    prj = build / "hls" / "part_tiny-vu13p"
    lay_out_reports(prj, "dnd_hls4ml")  # a ZU9EG report in the VU13P project
    with pytest.raises(DashboardError) as err:
        build_dashboard(build, tmp_path / "reports")
    msg = str(err.value)
    assert msg.startswith(f"{prj / 'synth_report.json'}: part 'xczu9eg-ffvb1156-2-e'")
    assert f"{prj / 'csim_report.json'}: part 'xcvu13p-flga2577-2-e'" in msg


@pytest.mark.parametrize(
    "key,value,message,other",
    [
        (
            "top_module",
            "other_top",
            "top module 'other_top' is not this project's 'myproject'",
            "csim_report.json",
        ),
        (
            "top_module",
            "other_top",
            "top module 'other_top' is not this project's 'myproject'",
            "hls4ml_config.yml",
        ),
        (
            "clock",
            {"target_ns": 3.0, "estimated_ns": 2.9, "uncertainty_ns": 0.4},
            "clock target 3.0 ns does not match",
            "csim_report.json",
        ),
    ],
)
def test_synth_report_of_another_design_names_both_files(tmp_path, key, value, message, other):
    build = make_build(tmp_path, scan=False, bench=False)
    prj = build / "hls" / "part_tiny-zcu102"
    if other == "hls4ml_config.yml":  # as hls4ml writes it into the project
        (prj / other).write_text("Backend: Vivado\nProjectName: myproject\nPart: xczu9eg\n")
    path = prj / "synth_report.json"
    s = json.loads(path.read_text())
    s[key] = value
    path.write_text(json.dumps(s))
    with pytest.raises(DashboardError) as err:
        build_dashboard(build, tmp_path / "reports")
    msg = str(err.value)
    assert msg.startswith(f"{path}: {message}")
    assert str(prj / other) in msg


def test_csim_report_in_the_wrong_project_dir(tmp_path):
    build = make_build(tmp_path, synth=False, scan=False, bench=False)
    src = build / "hls" / "part_tiny-vu13p"
    shutil.copytree(src, build / "hls" / "part_tiny-other")
    with pytest.raises(
        DashboardError,
        match=r"part_tiny-other/csim_report.json: written for "
        r"model 'part_tiny' / firmware 'vu13p'",
    ):
        build_dashboard(build, tmp_path / "reports")


def test_search_section(report):
    build, out, summary = report
    page = (out / "index.html").read_text()
    search = json.loads((build / SEARCH).read_text())
    check_png(out / "search_example.png")
    assert '<section id="search"><h2>Scans and design-space searches</h2>' in page
    body = page.split("<h3>Search example")[1].split("</section>")[0]  # after the scan: one section
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", body, re.S) if "<td" in r]
    assert len(rows) == len(search["points"])
    for p in search["points"]:  # one row each, linked to the copies of its two configs
        row = next(r for r in rows if f"configs/{p['id']}.yml" in r)
        for key in ("config", "firmware_config"):
            rel = f"search/example/{p[key]}"
            assert f'href="{rel}"' in row and rel in summary["copied"]
            assert (out / rel).read_text() == (build / SEARCH).parent.joinpath(p[key]).read_text()
    row = next(r for r in rows if "p_on_slow.yml" in r)  # on the front, over the target
    assert "<td class='ok'>yes</td><td></td><td class='ok wrap'>done" in row  # Pareto, not target
    row = next(r for r in rows if "p_on_big.yml" in r)  # its whole error, wrapped in its cell
    assert "over_budget (estimate)" in row and "estimate: LUT over budget " * 12 in row
    assert "ConfigError: num_heads must divide" in next(r for r in rows if "p_bad.yml" in r)
    # the best point of each mode is the one hls.search.summarise picks
    modes = summarise(search["points"], search["target"])
    assert summary["found"]["searches"][0]["best"] == {m: v["best"] for m, v in modes.items()}
    labels = {p["id"]: p["label"] for p in search["points"]}
    for mode, m in modes.items():
        line = re.search(rf"<li><b>{mode}</b>(.*?)</li>", body)[1]
        if m["best"] is None:
            assert "no point meets the target" in line
        else:
            assert f"best point <a href=\"search/example/configs/{m['best']}.yml\">" in line
            assert f">{labels[m['best']]}</a>" in line
    assert modes["host"]["best"] is None and modes["onchip"]["best"] == "p_on_fast"
    # estimates are labelled as such
    head = re.search(r'<section id="search">.*?<thead>(.*?)</thead>', page, re.S)[1]
    assert "est. latency ns" in head and "est. LUT" in head and "not synthesis results" in page


def test_broken_search_json_names_the_file(tmp_path):
    build = make_build(tmp_path, synth=False, scan=False, bench=False)
    path = build / SEARCH
    search = json.loads(path.read_text())
    i = next(i for i, p in enumerate(search["points"]) if p["status"] == "done")
    del search["points"][i]["estimate"]
    path.write_text(json.dumps(search))
    with pytest.raises(SchemaError, match=re.escape(f"{path}: missing key points[{i}].")):
        build_dashboard(build, tmp_path / "reports")


def test_a_scan_json_of_the_old_schema_says_to_rerun(tmp_path):
    build = make_build(tmp_path, synth=False, search=False, bench=False)
    path = build / "scan" / "part_tiny-vu13p" / "scan.json"
    path.write_text(json.dumps(json.loads(path.read_text())["points"]))  # a bare list, as before
    with pytest.raises(SchemaError, match=re.escape(f"{path}: written by an older qpart")):
        build_dashboard(build, tmp_path / "reports")


def test_pareto_front():
    pts = [
        {"x": 1, "accuracy": 0.5},
        {"x": 2, "accuracy": 0.7},
        {"x": 3, "accuracy": 0.6},
        {"x": 3, "accuracy": 0.8},
        {"x": 0.5, "accuracy": 0.5},
        {"x": None, "accuracy": 0.9},
    ]
    assert [(p["x"], p["accuracy"]) for p in pareto_front(pts, "x")] == [
        (0.5, 0.5),
        (2, 0.7),
        (3, 0.8),
    ]


def test_screenshot_without_chromium_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(browser, "find_chromium", lambda: None)
    page = tmp_path / "index.html"
    page.write_text("<html></html>")
    with pytest.raises(DashboardError, match=r"no Chromium on PATH .* apt-get install chromium"):
        browser.screenshot(page, tmp_path / "shot.png")


def test_page_renders_in_headless_chromium(report, tmp_path):
    need_tool(*browser.CHROMIUM, how="make browser (apt-get install chromium)")
    _, out, _ = report
    shot = browser.screenshot(out / "index.html", tmp_path / "page.png")
    img = check_png(shot)[..., :3]
    assert img.shape[:2] == (3000, 1400)
    # not blank: the header band, the tables and the plots give many distinct colours
    assert img.std() > 0.1
    assert len(np.unique((img[::7, ::7] * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50
    # the header (dark blue band) is at the top: the CSS was applied
    top = img[5:40, 5:400].mean(axis=(0, 1))
    assert top[2] > top[0] and top.mean() < 0.5


# ------------------------------------------------- read by a trigger engineer (issue 21, 9-13)


def section(page, sid):
    return re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)[1]


def test_the_page_opens_with_the_designs(report):
    """Item 9: the first section after the summary is every design's latency against its LUT
    and DSP share, per source (the estimate with its band, the RTL route, the HLS tool, Vivado),
    the budget drawn and the verdict beside each."""
    build, out, summary = report
    page = (out / "index.html").read_text()
    assert re.findall(r'<section id="(\w+)">', page)[:2] == ["summary", "overview"]
    ov = section(page, "overview")
    assert 'src="overview.png"' in ov
    check_png(out / "overview.png")
    rows = summary["overview"]["rows"]
    kinds = {(r["design"], r["kind"]) for r in rows}
    assert {
        ("part_tiny-zcu102", "estimate"),
        ("part_tiny-zcu102", "hls"),
        ("part_tiny-zcu102", "vivado"),
        ("part_tiny-vu13p", "estimate"),
        ("part_tiny-vu13p", "rtl"),
        ("part_tiny-vu13p_parallel", "estimate"),
        ("part_l1-u250", "hls"),
    } <= kinds
    # each row's figures are its report's: the estimate's LUT share, the RTL route's latency
    est = json.loads((build / "hls" / "part_tiny-vu13p" / "estimate.json").read_text())
    row = next(r for r in rows if (r["design"], r["kind"]) == ("part_tiny-vu13p", "estimate"))
    assert row["lut_pct"] == pytest.approx(est["resources"]["LUT"]["utilization_pct"])
    assert row["latency_ns"] == est["latency"]["worst_ns"]
    rtl = next(r for r in rows if r["kind"] == "rtl")
    assert rtl["source"] == RTL_REPORT["source"] and rtl["latency_ns"] == 1250.0
    assert rtl["lut_pct"] == pytest.approx(100 * 150_000 / est["resources"]["LUT"]["available"])
    # the estimate's band, as error bars and in the table
    zcu = json.loads((build / "hls" / "part_tiny-zcu102" / "estimate.json").read_text())
    row = next(r for r in rows if (r["design"], r["kind"]) == ("part_tiny-zcu102", "estimate"))
    lut = zcu["resources"]["LUT"]
    low, high = (100 * zcu["band"]["LUT"][k] / lut["available"] for k in ("low", "high"))
    assert row["band"]["LUT"] == pytest.approx([low, high])
    assert f"band {low:.1f}–{high:.1f}%" in ov
    # the budget the plot draws, and each source's row with its verdict and budget
    assert summary["overview"]["budgets"] == [{"resources": 0.8, "latency_ns": None}]
    trs = [r for r in re.findall(r"<tr>(.*?)</tr>", ov, re.S) if "<td" in r]
    assert len(trs) == len(rows)
    yosys = next(r for r in trs if "yosys 0.38" in r)
    assert "within the budget" in yosys and "every resource ≤ 80% of xcvu13p" in yosys
    vivado = next(r for r in trs if "Vivado 2020.1 logic synthesis" in r)
    assert "part_tiny-zcu102" in vivado and "within the budget" in vivado


def test_overview_draws_latency_budgets_and_checks_against_them():
    """Item 9: a latency budget is a line to draw and a labelled reason when it is missed."""
    from hls.report.overview import estimate_verdict, overview

    est = real_estimate("vu13p")
    budget = {"resources": 0.8, "latency_ns": 100.0, "ii_ns": None}
    d = {
        "name": "d",
        "estimate": est,
        "estimate_util": discover.utilization(est["resources"], None),
        "budget": budget,
        "clock_ns": 5.0,
        "part": est["part"],
    }
    ov = overview([d])
    assert ov["budgets"] == [{"resources": 0.8, "latency_ns": 100.0}]
    v = estimate_verdict(est, budget)
    assert v["ok"] is False
    assert (
        v["head"] == "does not fit at the band's upper end" and v["band"] == est["band"]["source"]
    )
    assert ("latency", f"{est['latency']['worst_ns']:,.0f} ns > 100 ns") in v["reasons"]
    assert "latency ≤ 100 ns" in v["budget"]


def test_a_design_gets_the_budget_of_its_own_config(tmp_path, no_hls_tools):
    """A design's budget is its own firmware config's, the file its reports record: here a
    user's copy outside firmware_configs/, under a shipped config's name, with a budget of its
    own (a latency budget, which only the config carries)."""
    from hls.firmware import config_path

    build = make_build(tmp_path, synth=False, scan=False, bench=False, search=False)
    mine = tmp_path / "mine" / "vu9p.yml"
    mine.parent.mkdir()
    text = config_path("vu9p").read_text()
    assert "  resources: 0.8\n" in text
    mine.write_text(text.replace("  resources: 0.8\n", "  resources: 0.6\n  latency_cycles: 300\n"))
    est = real_estimate(mine)
    assert est["configs"]["firmware"]["path"] == str(mine.resolve())
    prj = build / "hls" / "part_tiny-vu9p"
    marker(prj, "part_tiny", "vu9p")
    write_json(prj / "estimate.json", est)
    summary = build_dashboard(build, tmp_path / "reports")
    page = (tmp_path / "reports" / "index.html").read_text()
    budget = "budget: every resource ≤ 60% of xcvu9p-flga2104-2-e, latency ≤ 1,500 ns"  # 300 x 5
    for sid in ("estimate", "overview"):
        row = next(r for r in table_rows(page, sid) if "part_tiny-vu9p" in r and "budget" in r)
        assert budget in row
        assert f"<b>latency</b>: {est['latency']['worst_ns']:,.0f} ns &gt; 1,500 ns" in row
    assert {"resources": 0.6, "latency_ns": 1500.0} in summary["overview"]["budgets"]


def test_a_verdict_shows_its_budget_and_labelled_reasons(report):
    """Item 10: not 'does not fit: LUT, DSP, LUT, DSP' but the budget and each reason under its
    label, with the figures of the estimate's fit."""
    build, out, _ = report
    page = (out / "index.html").read_text()
    assert "LUT, DSP, LUT, DSP" not in page
    est = json.loads((build / "hls" / "part_tiny-vu13p_parallel" / "estimate.json").read_text())
    fit = est["fit"]
    assert fit["over_budget"] == ["LUT", "DSP"] and fit["over_slr"] == ["LUT", "DSP"]
    for sid in ("estimate", "overview"):
        row = next(
            r
            for r in table_rows(page, sid)
            if "part_tiny-vu13p_parallel" in r and "does not fit" in r
        )
        assert "budget: every resource ≤ 80% of xcvu13p-flga2577-2-e" in row
        over = ", ".join(  # the estimate's share, and up to the band's upper end
            f"{r} {100 * fit['resources'][r]['fraction']:.1f}% "
            f"(up to {100 * fit['resources'][r]['fraction_high']:.1f}%) of the part"
            for r in ("LUT", "DSP")
        )
        assert f"<li><b>over the 80% budget</b>: {over}</li>" in row
        slr = ", ".join(
            f"{r} {100 * fit['resources'][r]['largest_layer_slr_fraction']:.1f}% of an SLR"
            for r in ("LUT", "DSP")
        )
        assert f"<li><b>a layer over one SLR</b>: {slr}</li>" in row
        region = est["largest_region"]
        assert (
            f"<b>region too large</b>: {region['layer']} unrolls {region['unrolled_mults']:,} "
            f"multiplications in one region (limit {region['limit']:,})" in row
        )
    row = next(r for r in table_rows(page, "estimate") if "part_tiny-vu13p" in r and "fits" in r)
    assert "budget: every resource ≤ 80% of xcvu13p" in row


def test_the_estimate_per_layer_is_on_the_page(report):
    """Item 11: each layer's estimated resources, latency and largest region, and the error
    band where estimate.json has one (said when it has none)."""
    build, out, _ = report
    page = (out / "index.html").read_text()
    layers = section(page, "layers")
    est = json.loads((build / "hls" / "part_tiny-vu13p" / "estimate.json").read_text())
    block = layers.split("part_tiny-vu13p: estimate per layer")[1].split("</details>")[0]
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", block, re.S) if "<td" in r]
    assert len(rows) == len(est["layers"])
    for layer, row in zip(est["layers"], rows):
        assert row.startswith(f"<td>{layer['name']}")
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        assert cells[4] == f"{layer['latency_cycles']:,}"
        assert cells[6] == f"{layer['resources']['LUT']:,}"
        assert cells[-1] == f"{layer['largest_region_mults']:,}"
    assert f"{est['largest_region']['layer']} <span class='bad'>(largest region)</span>" in block
    band = est["band"]["LUT"]
    assert f"LUT {band['low']:,}–{band['high']:,}" in block  # this design's own band
    from hls.report.render import _band_words

    assert "no error band in this estimate.json" in _band_words({})  # an older estimate.json
    zcu = json.loads((build / "hls" / "part_tiny-zcu102" / "estimate.json").read_text())
    lut = zcu["band"]["LUT"]
    words = f"error band (holdout, Vivado 2019-2020): LUT {lut['low']:,}–{lut['high']:,}"
    assert words in layers and words in section(page, "estimate")


def test_interrupted_and_all_failed_runs_are_flagged(tmp_path, no_hls_tools):
    """Item 12: a search stopped before its search.json is shown from its points/ and flagged;
    one whose every point failed is not counted as a result."""
    build = make_build(tmp_path, synth=False, scan=False, bench=False)
    stopped = build / "search" / "stopped"
    for p in search_points()[:3]:
        write_json(stopped / "points" / f"{p['id']}.json", p)
        (stopped / p["config"]).parent.mkdir(parents=True, exist_ok=True)
        for key in ("config", "firmware_config"):
            (stopped / p[key]).write_text(f"name: {p['id']}\n")
    failed = [p for p in search_points() if p["status"] != "done"]
    path = build / "search" / "failed" / "search.json"
    write_json(path, dict(example_search(failed), name="failed"))
    for p in failed:
        for key in ("config", "firmware_config"):
            (path.parent / p[key]).parent.mkdir(parents=True, exist_ok=True)
            (path.parent / p[key]).write_text(f"name: {p['id']}\n")
    summary = build_dashboard(build, tmp_path / "reports")
    page = (tmp_path / "reports" / "index.html").read_text()
    found = {s["name"]: s for s in summary["found"]["searches"]}
    assert found["stopped"]["interrupted"] and found["stopped"]["points"] == 3
    assert found["failed"]["done"] == 0 and not found["failed"]["interrupted"]
    counts = re.search(r'<div class="counts">(.*?)</div>', page, re.S)[1]
    assert (
        '<span class="bad">3 design-space search(es) (example: 6 of 8 points done; failed: all '
        "2 points failed; stopped: interrupted, 3 of 3 points done)</span>" in counts
    )
    body = section(page, "search")
    assert "interrupted: 3 point(s) kept, no search.json (rerun the same command" in body
    assert "all 2 points failed: no result" in body
    assert "search stopped: interrupted (3 point(s) kept, no search.json)" in page  # warning


def test_every_table_fits_1400_px(report):
    """Item 13: at 1400 px no table scrolls sideways, so the verdict and error columns at the
    right of the widest tables are in sight (measured in headless Chromium)."""
    need_tool(*browser.CHROMIUM, how="make browser (apt-get install chromium)")
    _, out, _ = report
    layout = browser.table_widths(out / "index.html", width=1400)
    assert layout["window"] == 1400 and layout["page"] <= 1400
    assert len(layout["tables"]) >= 10
    wide = [t for t in layout["tables"] if t["scroll"] > t["client"] + 1]
    assert wide == [], [(t["section"], t["headers"][-1], t["scroll"]) for t in wide]
    heads = [t["headers"][-1] for t in layout["tables"]]
    assert "verdict" in heads and "status (stage), error" in heads


def test_no_dash_where_the_plot_has_a_value(report):
    """Item 13: a design placed on its estimated LUT / DSP in the accuracy plot shows those
    figures in the table beside it, labelled estimated, not '—'."""
    _, out, summary = report
    page = (out / "index.html").read_text()
    point = next(p for p in summary["points"] if p["label"] == "part_tiny-vu13p")
    assert point["util_max"] is None and point["est_util"] is not None  # on the estimate
    row = next(r for r in table_rows(page, "pareto") if "<td>part_tiny-vu13p</td>" in r)
    assert "—" not in row and "<td>estimate</td>" in row
    assert f"{point['est_util']:.2f}% ({point['est_binding']}, est.)" in row


def test_rejection_cap_is_noted(report):
    """Item 13: the QCD rejection bars stop at the number of QCD test jets: said on the page."""
    build, out, _ = report
    page = (out / "index.html").read_text()
    m = json.loads((build / "models" / "part_tiny" / "metrics.json").read_text())
    qcd = sum(m["confusion"][m["class_names"].index("QCD")])
    note = re.search(r"<p>QCD rejection at 50% signal efficiency is at most(.*?)</p>", page, re.S)
    assert note and f"part_tiny (quantized) {qcd:,}" in note[1]


def test_no_single_value_bar_charts(tmp_path, no_hls_tools):
    """Item 13: when every design is bit-exact (fraction 1, max difference 0), a sentence says
    so and no chart of equal bars is drawn; the figures that differ are still drawn."""
    build = make_build(tmp_path, synth=False, scan=False, bench=False, search=False)
    shutil.rmtree(build / "hls" / "part_l1-u250")  # the one mismatching design
    summary = build_dashboard(build, tmp_path / "reports")
    page = (tmp_path / "reports" / "index.html").read_text()
    assert "fidelity.png" not in {p["file"] for p in summary["plots"]}
    assert (
        "On every route that ran, in all 2 C-simulated design(s): bit-exact fraction 1, "
        "argmax agreement 1, max |C-sim − Keras| (LSB) 0." in section(page, "fidelity")
    )
    assert "nothing below is filled in" not in page


def test_fidelity_plot_keeps_the_figures_that_differ(report):
    _, out, _ = report
    page = (out / "index.html").read_text()
    assert "fidelity.png" in page and "On every route that ran" not in page
