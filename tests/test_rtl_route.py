"""The RTL route end to end on a tiny part_tiny-shaped model (two particles, pair features on
chip): Verilog through Verilator, one jet per clock, bit-exact against Keras; the refusals
(the other route's keys, a missing tool, a directory of another design, no design yet)."""

import json
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf
import yaml
from conftest import need_tool

from hls import cli
from hls.common import fmt
from hls.design import DesignError, design
from hls.firmware import load_firmware
from hls.rtl import runner, sim, verilog
from hls.rtl.trace import UnsupportedLayer, trace_model
from infra.yamlconfig import ConfigError
from model import builder

TINY = {
    "weight_bits": 4,
    "bias_bits": 6,
    "bias_integer": 2,
    "input_t": "ap_fixed<6,3,AP_RND_CONV,AP_SAT>",
    "kin_t": "ap_fixed<8,4,AP_RND_CONV,AP_SAT>",
    "act_t": "ap_fixed<7,3,AP_RND_CONV,AP_SAT>",
    "pair_t": "ap_fixed<6,3,AP_RND_CONV,AP_SAT>",
    "logit_t": "ap_fixed<7,3,AP_RND_CONV,AP_SAT>",
    "attn_t": "ap_ufixed<6,1,AP_RND_CONV,AP_SAT>",
    "exp_table_size": 16,
    "exp_t": "ap_ufixed<8,1,AP_RND_CONV,AP_SAT>",
    "inv_table_size": 16,
    "inv_t": "ap_ufixed<8,1,AP_RND_CONV,AP_SAT>",
    "norm_table_size": 16,
    "rsqrt_t": "ap_ufixed<8,3,AP_RND_CONV,AP_SAT>",
}


def _tiny_model(n=2):
    cfg = builder.load_config("part_tiny")
    cfg["data"]["n_particles"] = n
    cfg["model"].update(embed_dims=[4], pair_embed_dims=[2], num_heads=1, ffn_dim=4)
    cfg["quantization"].update(TINY)
    tf.keras.utils.set_random_seed(5)
    return builder.build_model(cfg, quantized=True)


def _jets(model, n_jets, seed=6):
    rng = np.random.default_rng(seed)
    out = []
    for t in model.inputs:
        shape = tuple(int(d) for d in t.shape[1:])
        if t.name.startswith("mask"):
            k = rng.integers(1, shape[0] + 1, n_jets)
            out.append((np.arange(shape[0])[None] < k[:, None]).astype(np.float32))
        else:
            out.append(rng.normal(0, 1.5, (n_jets,) + shape).astype(np.float32))
    return out


def _tiny_cfg(n=2):
    cfg = builder.load_config("part_tiny")
    cfg["data"]["n_particles"] = n
    cfg["model"].update(embed_dims=[4], pair_embed_dims=[2], num_heads=1, ffn_dim=4)
    cfg["quantization"].update(TINY)
    return cfg


def test_rtl_then_rtl_sim_bit_exact_on_held_out_jets(tmp_path, jet_sample):
    """make rtl then make rtl-sim (hls/rtl/runner.py) on a 2-particle model: the held-out jets
    stream through Verilator one per clock, every logits word equal to Keras'."""
    need_tool("verilator", how="make rtl-tools (apt-get install verilator)")
    tf.keras.utils.set_random_seed(5)
    root = str(tmp_path / "rtl")
    d, report = runner.make_rtl(_tiny_cfg(), "vu13p_rtl", "untrained", rtl_root=root)
    rd = verilog.load(d.prj)
    assert report["latency"]["best_cycles"] == rd.latency_cycles >= 2 and rd.stages >= 2
    assert report["latency"]["best_ns"] == rd.latency_cycles * 5.0
    assert report["source"] == "da4ml cost" and report["resources"]["LUT"]["used"] > 0
    sources = report["resource_sources"]  # every figure names where it comes from
    assert sources["LUT"] == "da4ml cost" and sources["FF"].startswith("register bits")
    assert (d.prj / "build_vivado_prj.tcl").exists()
    sim_report = runner.rtl_sim(
        _tiny_cfg(), "vu13p_rtl", str(jet_sample), 100, "untrained", rtl_root=root
    )
    p = sim_report["predict"]
    assert p["n_jets"] >= 50 and p["bit_exact_fraction"] == 1 and p["first_mismatch"] is None
    assert sim_report["interpreter"]["bit_exact_fraction"] == 1
    assert json.loads((d.prj / runner.SIM_REPORT).read_text())["predict"] == p
    # the logits are read at the design's latency: one clock early they belong to other jets
    exe = d.prj / "sim_verilator" / "obj_dir" / "tb"
    early = verilog.RtlDesign(**dict(vars(rd), latency_cycles=rd.latency_cycles - 1))
    ports = json.loads((d.prj / "ports.json").read_text())
    assert [p_[0] for p_ in ports] == ["particles", "kinematics", "mask"]
    lines = (d.prj / "sim_verilator" / "inputs.hex").read_text().split()
    on_time = (d.prj / "sim_verilator" / "outputs.hex").read_text().split()
    values = verilog.unpack(lines, rd.inp)
    out_early, _ = sim.run_testbench(exe, early, values)
    assert len(on_time) == len(out_early) and not np.array_equal(
        out_early, verilog.unpack(on_time, rd.out)
    )
    # per layer, each layer traced alone: every traced layer of the model, its own cost
    layers = report["layers"]["rows"]
    assert report["layers"]["source"].startswith("da4ml cost, the layer traced alone")
    traced = [x.name for x in d.model.layers if type(x).__name__ not in ("InputLayer", "FxQuant")]
    assert [x["name"] for x in layers] == [n for n in traced if n in {x["name"] for x in layers}]
    assert {"embed_0", "block0_attn", "head"} <= {x["name"] for x in layers}
    assert all(x["da4ml_cost_lut"] >= 0 for x in layers)
    assert sum(x["da4ml_cost_lut"] for x in layers) > 0
    # the dashboard places the design beside the HLS route's, every figure labelled
    from hls.report.build import build_dashboard
    from hls.runner import make_estimate

    fw = {k: v for k, v in yaml.safe_load(open(load_firmware("vu13p")["path"])).items()}
    fw.pop("layers")  # its per-layer folding is part_l1's (528 pairs), not 3 pairs'
    (tmp_path / "vu13p.yml").write_text(yaml.safe_dump(fw))
    hls_root = str(tmp_path / "hls")
    _, est, _ = make_estimate(_tiny_cfg(), str(tmp_path / "vu13p.yml"), True, hls_root=hls_root)
    summary = build_dashboard(str(tmp_path), str(tmp_path / "reports"))
    (found,) = summary["found"]["rtl_designs"]
    assert found["name"] == d.prj.name and found["source"] == "da4ml cost"
    (row,) = [r for r in summary["overview"]["rows"] if r["route"] == "rtl"]
    assert row["kind"] == "rtl" and row["source"] == "da4ml cost"
    assert row["latency_cycles"] == rd.latency_cycles and row["ii_cycles"] == 1
    assert row["accuracy"] == p["csim_accuracy"] and row["accuracy_kind"] == "Verilator"
    lut = report["resources"]["LUT"]
    assert row["lut_pct"] == pytest.approx(100 * lut["used"] / lut["available"], abs=1e-3)
    page = (tmp_path / "reports" / "index.html").read_text()
    assert "RTL route designs" in page and f"bit-exact on {p['n_jets']} jets" in page
    assert (tmp_path / "reports" / "routes.png").stat().st_size > 0
    # a design folder holding another design's report is refused, naming the file
    from hls.report.discover import DashboardError

    shutil.copytree(d.prj, tmp_path / "rtl" / "part_l1-vu13p_rtl")
    with pytest.raises(DashboardError, match=r"part_l1-vu13p_rtl/rtl_report.json: written for"):
        build_dashboard(str(tmp_path), str(tmp_path / "reports2"))
    (side,) = [t for t in page.split("<details") if "RTL route per layer" in t]
    for x in layers:  # each layer's own cost beside the HLS estimate of the same layer
        e = next(r for r in est["layers"] if r["name"] == x["name"])
        assert re.search(
            rf"<td>{x['name']}</td><td>{x['class']}</td><td[^>]*>{fmt(x['da4ml_cost_lut'])}</td>"
            rf"<td[^>]*>{re.escape(fmt(e['resources']['LUT']))}</td>",
            side,
        ), x["name"]


def _rtl_fw(tmp_path, **extra):
    text = yaml.safe_load(open(load_firmware("vu13p_rtl")["path"]).read())
    text.update(extra)
    path = tmp_path / "mine_rtl.yml"
    path.write_text(yaml.safe_dump(text))
    return path


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"reuse_factor": 4}, "reuse_factor: key(s) of the HLS route"),
        ({"layers": {"embed_0": {"parallel": 2}}}, "layers.embed_0.parallel"),
        ({"backend": "Vitis"}, "backend"),
        ({"route": "asic"}, "route must be one of hls, rtl"),
        ({"rtl": {"max_bits": 60}}, "rtl.max_bits must be 1..53"),
        (
            {"rtl": {"synth_mapper": "abc10"}},
            "rtl.synth_mapper must be one of abc9, abc, got 'abc10'",
        ),
    ],
)
def test_rtl_config_refuses_hls_keys(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_firmware(_rtl_fw(tmp_path, **extra))


def test_hls_config_refuses_rtl_section(tmp_path):
    text = yaml.safe_load(open(load_firmware("vu13p")["path"]).read())
    text["rtl"] = {"latency_cutoff": 3.0}
    path = tmp_path / "mine.yml"
    path.write_text(yaml.safe_dump(text))
    with pytest.raises(ConfigError, match="rtl: a key of the RTL route"):
        load_firmware(path)


def test_each_route_refuses_the_other_config():
    with pytest.raises(DesignError, match="RTL route.*make rtl"):
        design("part_tiny", "vu13p_rtl", "untrained")
    with pytest.raises(DesignError, match="HLS route.*make estimate"):
        design("part_tiny", "vu13p", "untrained", route="rtl")


def test_missing_tool_is_one_line_exit_3(monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert cli.main(["rtl-sim", "--model", "part_tiny"]) == sim.EXIT_NO_TOOL == 3
    assert cli.main(["rtl-synth", "--model", "part_tiny"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "make rtl-sim: verilator is not on PATH: apt-get install verilator (Debian/Ubuntu)",
        "make rtl-synth: yosys is not on PATH: apt-get install yosys (Debian/Ubuntu)",
    ]


def test_output_dir_of_another_design_refused_and_no_design_yet(tmp_path):
    prj = tmp_path / "part_tiny-vu13p_rtl"
    prj.mkdir()
    (prj / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="not a qpart project"):
        runner.make_rtl("part_tiny", "vu13p_rtl", "untrained", rtl_root=str(tmp_path))
    assert (prj / "notes.txt").read_text() == "mine"
    with pytest.raises(runner.RtlError, match="run make rtl"):
        runner.rtl_synth("part_tiny", "vu13p_rtl", "untrained", rtl_root=str(tmp_path / "none"))


def test_a_wire_wider_than_max_bits_stops_make_rtl_naming_the_layer(tmp_path):
    """Each layer alone first: the widest layer is named, nothing is written."""
    root = str(tmp_path / "rtl")
    _, report = runner.make_rtl(_tiny_cfg(), "vu13p_rtl", "untrained", rtl_root=root)
    widths = {x["name"]: x["widest_bits"] for x in report["layers"]["rows"]}
    top = max(widths.values())
    assert 8 < top <= 53 and sorted(widths.values())[-2] < top  # one widest layer
    (name,) = [n for n, w in widths.items() if w == top]
    fw = _rtl_fw(tmp_path, rtl={"max_bits": top - 1})
    with pytest.raises(UnsupportedLayer, match=rf"layer {name} \(\w+\): a {top}-bit wire, above"):
        runner.make_rtl(_tiny_cfg(), str(fw), "untrained", rtl_root=root)
    assert not (tmp_path / "rtl" / "part_tiny-mine_rtl" / "rtl_report.json").exists()


def test_yosys_stage_and_timeout(tmp_path, monkeypatch):
    need_tool("yosys", how="make rtl-tools (apt-get install yosys)")
    from hls.rtl import synth

    model = _tiny_model()
    comb = trace_model(model).comb
    rd = verilog.write(comb, tmp_path, "qpart", 5.0, 5.0, "xcvu13p", part_cost=300)
    monkeypatch.chdir(tmp_path.parent)  # the sources by a relative path, as make rtl-synth has
    stages = synth.stages(f"{tmp_path.name}/src")
    assert len(stages) == rd.stages and not stages[1].is_absolute()
    yosys = shutil.which("yosys")
    row = synth.synth_stage(stages[1], "xcup", 300, yosys)
    assert row["status"] == "done" and row["LUT"] > 0 and row["DSP"] == 0  # -nodsp
    assert row["LUT"] == sum(row["cells"].get(k, 0) for k in synth.LUTS)
    again = synth.synth_stage(stages[1], "xcup", 0.01, yosys)  # kept: no yosys run
    assert again == {**row, "reused": True}
    late = synth.synth_stage(stages[1], "xcup", 0.01, yosys, reuse=False)
    assert late == {"stage": stages[1].stem, "status": "did not finish in 0.01 s"}
    edited = tmp_path / "src" / "logic1_edited.v"  # another module's text: not reused
    edited.write_text(stages[1].read_text() + "// edited\n")
    (tmp_path / "src" / "logic1_edited.abc9.yosys.json").write_text(
        (tmp_path / "src" / "logic1.abc9.yosys.json").read_text()
    )
    assert synth.synth_stage(edited, "xcup", 0.01, yosys)["status"].startswith("did not finish")
    edited.unlink()
    # the other LUT mapper is another script: its own run, never the abc9 result reused, and
    # its own kept result beside the abc9 one
    by_abc = synth.synth_stage(stages[1], "xcup", 0.01, yosys, mapper="abc")
    assert by_abc == {"stage": stages[1].stem, "status": "did not finish in 0.01 s"}
    assert synth.synth_stage(stages[1], "xcup", 0.01, yosys) == {**row, "reused": True}
    # every stage has its own da4ml cost; the finished stages' yosys LUT is set against theirs
    assert set(rd.stage_cost_lut) == {p.stem for p in stages}
    assert 0 < sum(rd.stage_cost_lut.values()) <= 1.001 * rd.cost_lut
    two = tmp_path / "two"
    shutil.copytree(tmp_path / "src" / "static", two / "static")
    for p in list(tmp_path.joinpath("src").glob("*_tables.v")) + [stages[1], stages[2]]:
        shutil.copy(tmp_path / "src" / p.name, two)
    ys = synth.synth(two, "xcup", 300, 1, rd.stage_cost_lut, whole=True)
    assert ys["unfinished"] == [] and len(ys["stages"]) == 2
    assert ys["stages"][0]["LUT"] == row["LUT"] and "parts" not in ys["stages"][0]
    costs = [rd.stage_cost_lut[r["stage"]] for r in ys["stages"]]
    assert [r["da4ml_cost_lut"] for r in ys["stages"]] == costs
    vs = ys["lut_vs_da4ml_cost"]
    assert vs["yosys_lut"] == sum(r["LUT"] for r in ys["stages"]) == ys["total"]["LUT"]
    assert vs["ratio"] == round(vs["yosys_lut"] / sum(costs), 3) and vs["stages"] == 2
    part = synth.synth(two, "xcup", 0.01, 1, rd.stage_cost_lut, whole=True, reuse=False)
    assert len(part["unfinished"]) == 2 and part["lut_vs_da4ml_cost"] is None
    # stage 1 in the parts make rtl cut it into (hls/rtl/parts.py), summed: the gates of the
    # stage whole up to the logic yosys shares across parts (parts share no traced op)
    index = json.loads((tmp_path / "src" / "parts" / "parts.json").read_text())
    n = len(index[stages[1].stem])
    assert n > 1, index
    one = tmp_path / "one"
    shutil.copytree(two, one, ignore=shutil.ignore_patterns(stages[2].name))
    shutil.copytree(tmp_path / "src" / "parts", one / "parts")
    by_part = synth.synth(one, "xcup", 300, 2, rd.stage_cost_lut)
    (r,) = by_part["stages"]
    assert by_part["unfinished"] == [] and by_part["flags"].endswith(f"({n} parts)")
    assert r["parts"] == n and r["LUT"] == pytest.approx(row["LUT"], rel=0.3)
    late = synth.synth(one, "xcup", 0.01, 2, reuse=False)
    assert late["stages"][0]["status"].startswith(f"{n} of {n} parts unfinished")
    spent = synth.synth(one, "xcup", 300, 2, budget_s=0)  # the run's time spent: none starts
    assert spent["unfinished"] == [stages[1].stem] and spent["reused_modules"] == 0
    assert spent["stages"][0]["status"].endswith("not started: the run's 0 s were spent")


def test_a_design_over_its_budget_exits_1_naming_the_resources(capsys):
    """make rtl / rtl-synth as make estimate: the design is written, but one that does not fit
    its budget is a negative result (exit 1), said with its source and resources."""
    report = {
        "source": "da4ml cost",
        "part": "xcvu13p-flga2577-2-e",
        "fit": {"fits": False, "budget": 0.8, "over": ["LUT", "FF"]},
    }
    assert cli._fit_code(report, "rtl") == 1
    err = capsys.readouterr().err
    assert "make rtl: does not fit (da4ml cost): LUT, FF over 80% of xcvu13p" in err
    report["fit"] = {"fits": True, "budget": 0.8, "over": []}
    assert cli._fit_code(report, "rtl") == 0


def test_parts_of_a_stage_share_no_logic_and_compute_the_stage(tmp_path):
    """hls/rtl/parts.py: each stage cut into parts of cones joined only through inputs and
    constants: together they compute every output of the stage once, their costs add up to
    the stage's (no gate counted twice), each within the bound unless a single cone is above it,
    and make rtl writes each part as a module listed in parts.json."""
    from alkaid.codegen import RTLModel

    from hls.rtl import parts

    comb = trace_model(_tiny_model()).comb
    fsm = RTLModel(comb, tmp_path / "m", "qpart", latency_cutoff=5.0, print_latency=False).fsm
    rng = np.random.default_rng(3)
    cut_somewhere = False
    for name, stage in fsm.logic.items():
        cone = parts.cones(stage)
        cone_cost = {}
        for i, op in enumerate(stage.ops):
            cone_cost[cone[i]] = cone_cost.get(cone[i], 0.0) + op.cost
        assert cone_cost.get(-1, 0.0) == 0  # inputs and constants: the only thing parts share
        split = parts.split(stage, max_cost=60)
        cut_somewhere |= len(split) > 1
        outs = np.concatenate([o for o, _ in split])
        assert sorted(outs) == list(range(len(stage.out_idxs)))
        assert sum(p.cost for _, p in split) == pytest.approx(stage.cost)
        biggest = max(cone_cost.values())
        assert all(p.cost <= max(60, biggest) + 1e-9 for _, p in split)
        for _ in range(5):
            x = [rng.integers(q.min / q.step, q.max / q.step + 1) * q.step for q in stage.inp_qint]
            got = np.concatenate([p(np.array(x)) for _, p in split])
            assert np.array_equal(got, stage(np.array(x))[outs]), name
        assert len(parts.split(stage, max_cost=1e12)) == 1
    assert cut_somewhere  # a bound this small cuts some stage of the 2-particle model
    rd = verilog.write(comb, tmp_path / "d", "qpart", 5.0, 5.0, "xcvu13p", part_cost=60)
    index = json.loads((tmp_path / "d" / "src" / "parts" / "parts.json").read_text())
    assert set(index) == set(rd.stage_cost_lut)
    for stage, ps in index.items():
        assert sum(ps.values()) == pytest.approx(rd.stage_cost_lut[stage], abs=0.1 * len(ps))
        for p in ps:
            text = (tmp_path / "d" / "src" / "parts" / f"{p}.v").read_text()
            assert f"module {p} (" in text
