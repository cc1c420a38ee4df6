"""The pipeline end to end on the trained part_tiny: hls-csim (both routes bit-exact), a scan,
and the dashboard over the resulting build tree plus a real synthesis report."""

import json
import re
import shutil
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from hls import points as points_
from hls import runner, scan
from hls.report import build as report
from hls.synth_report import write_synth_report

FIXTURES = Path(__file__).parent / "fixtures" / "hls_reports"


@pytest.fixture(scope="module")
def csim_report(trained_tiny, jet_sample):
    build, _ = trained_tiny
    return runner.hls_csim(
        "part_tiny",
        "vu13p",
        jet_sample,
        n_jets=200,
        models_root=build / "models",
        hls_root=build / "hls",
    )


def test_csim_bit_exact_both_routes(csim_report, trained_tiny):
    build, metrics = trained_tiny
    for route in ("predict", "testbench"):
        r = csim_report[route]
        assert r["n_jets"] == 100  # the sample's whole test split: 10 jets x 10 classes
        assert r["bit_exact_fraction"] == 1.0 and r["max_abs_diff_lsb"] == 0.0
        assert r["argmax_agreement"] == 1.0 and r["csim_accuracy"] == r["keras_accuracy"]
    assert csim_report["testbench"]["equals_predict"] is True
    assert csim_report["first_divergent_layer"] is None
    # The Keras accuracy on these jets is the trained model's test accuracy.
    assert csim_report["predict"]["keras_accuracy"] == pytest.approx(metrics["accuracy"])
    prj = build / "hls" / "part_tiny-vu13p"
    saved = json.loads((prj / "csim_report.json").read_text())
    assert saved["predict"]["bit_exact_fraction"] == 1.0
    assert (prj / "tb_data" / "csim_results.log").exists()
    assert (prj / "firmware" / "nnet_utils" / "nnet_qpart_attention.h").exists()


def test_scan_on_two_dask_workers(trained_tiny, jet_sample, tmp_path, capsys):
    """`make scan` on a local two-worker Dask cluster: every row bit-exact on its own project;
    a rerun skips the rows done, and a row redone in one process gives the same figures."""
    build, _ = trained_tiny
    text = (Path(scan.__file__).parent.parent / "firmware_configs" / "vu13p.yml").read_text()
    fw = tmp_path / "scanfw.yml"
    fw.write_text(
        text.split("scan:")[0] + "scan:\n  precision:\n    act_t: "
        "['ap_fixed<16,6,AP_RND_CONV,AP_SAT>', 'ap_fixed<10,4,AP_RND_CONV,AP_SAT>']\n"
        "  reuse_factor: [1, 2]\n  n_jets: 100\n"
    )
    kwargs = dict(models_root=build / "models", scan_root=build / "scan")
    result = scan.run("part_tiny", str(fw), jet_sample, scheduler="local", workers=2, **kwargs)
    out = capsys.readouterr().out
    assert "scheduler local" in out and out.count("finished (") == 4
    points = result["points"]
    types = ("ap_fixed<16,6,AP_RND_CONV,AP_SAT>", "ap_fixed<10,4,AP_RND_CONV,AP_SAT>")
    ids = [
        points_.point_id({"firmware.precision.act_t": t, "firmware.reuse_factor": rf})
        for t in types
        for rf in (1, 2)
    ]
    assert [(p["id"], p["status"]) for p in points] == [(i, "done") for i in ids]
    assert all(
        p["csim"]["bit_exact_fraction"] == 1.0 and p["csim"]["n_jets"] == 100 for p in points
    )
    assert all(p["synth"] is None for p in points) and "not run" in result["synthesis"]
    assert result["kind"] == "scan" and all("train" not in p["stage"] for p in points)
    wide, narrow = points[0], points[2]
    assert narrow["bops"] < wide["bops"]
    # the reuse factor changes the schedule, not the arithmetic: same outputs, another project
    assert points[1]["csim"]["keras_accuracy"] == wide["csim"]["keras_accuracy"]
    assert points[1]["csim"]["csim_accuracy"] == wide["csim"]["csim_accuracy"]
    assert points[1]["accuracy"] == wide["csim"]["keras_accuracy"]
    # every point carries its estimate: narrower activations cost fewer LUTs; a longer II
    # (reuse 2) shares the variable products: fewer DSPs, a longer interval
    assert all(p["estimate"]["source"] == "estimate" for p in points)
    lut = [p["estimate"]["resources"]["LUT"]["used"] for p in points]
    assert lut[2] < lut[0]
    rf1, rf2 = points[0]["estimate"], points[1]["estimate"]
    assert rf2["resources"]["DSP"]["used"] < rf1["resources"]["DSP"]["used"]
    assert rf2["latency"]["interval_max"] > rf1["latency"]["interval_max"]
    scan_dir = build / "scan" / "part_tiny-scanfw"
    assert (scan_dir / "scan.json").exists()
    assert {p.name for p in scan_dir.glob("p*") if (p / "csim_report.json").is_file()} == set(ids)
    # each point's firmware config: the base with its precision and reuse factor set
    fw3 = (scan_dir / "configs" / f"{ids[3]}_fw.yml").read_text()
    assert "reuse_factor: 2" in fw3 and types[1] in fw3 and "scan:" not in fw3
    # rerun in one process with one point's record gone: three skipped, that point redone
    (scan_dir / "points" / f"{ids[3]}.json").unlink()
    again = scan.run("part_tiny", str(fw), jet_sample, scheduler="serial", **kwargs)
    out = capsys.readouterr().out
    assert out.count("done before") == 3 and out.count("finished (") == 1
    same = ("accuracy", "csim", "bops", "estimate")
    for a, b in zip(points, again["points"]):
        assert {k: a[k] for k in same} == {k: b[k] for k in same}


def test_scan_grid_errors(tmp_path):
    text = (Path(scan.__file__).parent.parent / "firmware_configs" / "vu13p.yml").read_text()
    from hls.firmware import load_firmware
    from infra.yamlconfig import ConfigError

    bad = tmp_path / "badscan.yml"
    bad.write_text(text.replace("- ap_fixed<12,5,AP_RND_CONV,AP_SAT>", "- ap_fixd<12,5>"))
    with pytest.raises(
        ConfigError, match=r"badscan.yml: scan.precision.act_t\[1\]: not a " r"fixed-point type"
    ):
        scan.scan_grid(load_firmware(str(bad)))
    unquoted = "    act_t: [ap_fixed<16,6,AP_RND_CONV,AP_SAT>, ap_fixed<12,5,AP_RND_CONV,AP_SAT>]\n"
    bad.write_text(re.sub(r"    act_t:.*\n(      - .*\n)+", unquoted, text))
    with pytest.raises(ConfigError, match=r"act_t\[0\]: .*must be quoted"):
        scan.scan_grid(load_firmware(str(bad)))
    bad.write_text(text.replace("reuse_factor: [1, 4]", "reuse_factor: [1, 0]"))
    with pytest.raises(ConfigError, match=r"badscan.yml: scan.reuse_factor\[1\] must be an int"):
        scan.scan_grid(load_firmware(str(bad)))
    bad.write_text(text.replace("weight_bits: [8, 6]", "weight_bitz: [8, 6]"))
    with pytest.raises(
        ConfigError, match=r"badscan.yml: scan.precision: unknown key " r"'weight_bitz'"
    ):
        scan.scan_grid(load_firmware(str(bad)))


def test_report_on_the_build_tree(csim_report, trained_tiny, tmp_path):
    build, _ = trained_tiny
    tree = tmp_path / "build"
    shutil.copytree(build, tree)
    # A second design with a real synthesis report (Vivado HLS, from the fixtures), laid out as
    # an hls4ml project whose csim_report names the same part and clock.
    prj = tree / "hls" / "part_tiny-zcu102"
    report_dir = prj / "myproject_prj" / "solution1" / "syn" / "report"
    report_dir.mkdir(parents=True)
    for name in ("myproject_csynth.rpt", "myproject_csynth.xml"):
        src = FIXTURES / "L1JetTagger" / name
        shutil.copy(src, report_dir / name)
    synth = write_synth_report(prj, prj / "synth_report.json")
    design = json.loads((tree / "hls" / "part_tiny-vu13p" / "csim_report.json").read_text())
    design.update(
        firmware="zcu102",
        backend="Vivado",
        part=synth["part"],
        clock_period_ns=synth["clock"]["target_ns"],
        project_dir=str(prj),
    )
    (prj / "csim_report.json").write_text(json.dumps(design))
    out = tmp_path / "reports"
    summary = report.main(["--build", str(tree), "--out", str(out)])
    assert summary in (0, None)
    pngs = sorted(out.rglob("*.png"))
    assert len(pngs) >= 5
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert mpimg.imread(png).size > 0
    page = (out / "index.html").read_text()
    for ref in re.findall(r'(?:src|href)="([^"#]+)"', page):
        if not ref.startswith(("http:", "https:", "data:", "mailto:")):
            assert (out / ref).exists(), ref
    assert "not run" in page  # synthesis of part_tiny-vu13p
