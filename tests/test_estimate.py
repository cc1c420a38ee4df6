"""make estimate: operation counts by hand, the generated code against the estimate, the
shipped configs' fit, folding and budget errors, `parallel: auto`, and the calibration on
real HLS reports (its error table pinned, so it cannot drift silently)."""

import json
import math
import re

import numpy as np
import pytest
import tensorflow as tf
from weights import randomise

from hls import autofold, calibration, cost, estimate, firmware, folding
from hls.convert import convert
from hls.synth_report import parse_csynth_xml
from model import builder
from model import layers as L
from model.fixed import Fx, quantize_np

N, F, E, H = 8, 5, 16, 2
ACT = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"
ATTN = dict(
    num_heads=H,
    norm_t=ACT,
    qkv_t=ACT,
    logit_t=ACT,
    attn_t="ap_ufixed<16,1,AP_RND_CONV,AP_SAT>",
    ctx_t=ACT,
    result_t=ACT,
)


def fw_config(parallel=1, reuse=1, layers=None, part="xcvu13p-flga2577-2-e"):
    return {
        "name": "test",
        "path": "test.yml",
        "backend": "Vitis",
        "part": part,
        "clock_period": 5.0,
        "io_type": "io_parallel",
        "parallel": parallel,
        "reuse_factor": reuse,
        "layers": layers or {},
        "budget": {"resources": 0.8, "ii_cycles": None},
        "resources": dict(firmware.PARTS[part]),
        "slrs": firmware.PARTS[part]["SLR"],
    }


def small_model(rng):
    x = tf.keras.Input((N, F), name="x")
    e = tf.keras.Input((N, E), name="e")
    b = tf.keras.Input((H, N, N), name="b")
    m = tf.keras.Input((N,), name="m")
    qx = L.FxQuant(result_t="ap_fixed<12,4,AP_RND_CONV,AP_SAT>", name="q_x")(x)
    qe = L.FxQuant(result_t=ACT, name="q_e")(e)
    qb = L.FxQuant(result_t="ap_fixed<12,4,AP_RND_CONV,AP_SAT>", name="q_b")(b)
    d = L.FxDense(E, "relu", result_t=ACT, name="dense")(qx)
    n = L.FxLayerNorm(result_t=ACT, name="norm")(d)
    a = L.ParticleAttention(name="attn", **ATTN)([qe, qb, m])
    s = L.FxAdd(result_t=ACT, name="add")([n, a])
    model = tf.keras.Model([x, e, b, m], s)
    randomise(model, rng)
    dense = model.get_layer("dense")
    kernel = dense.kernel.numpy()
    kernel[::3] = 0.0  # whole input rows of zero weights: they cost nothing
    dense.kernel.assign(kernel)
    return model


@pytest.fixture(scope="module")
def model():
    return small_model(np.random.default_rng(5))


def by_name(est):
    return {layer["name"]: layer for layer in est["layers"]}


def test_dense_and_layernorm_counts_by_hand(model):
    est = estimate.estimate(model, fw_config(parallel=2, reuse=1), trained=True)
    layers = by_name(est)
    dense = layers["dense"]
    # independent count: the quantized kernel's non-zero entries (ap_fixed<8,1>)
    kernel = model.get_layer("dense").kernel.numpy()
    nnz = int(np.count_nonzero(quantize_np(kernel, Fx(8, 1, True, "AP_RND_CONV", "AP_SAT"))))
    assert 0 < nnz < F * E
    (region,) = dense["regions"]
    assert (region["trips"], region["ii"]) == (N // 2, 1)
    assert region["const_mults"] == [[2 * nnz, 8, 12]]  # 2 rows x nnz, 8-bit weight, 12-bit x
    assert region["var_mults"] == [] and region["unrolled_mults"] == 2 * nnz
    norm = layers["norm"]["regions"][0]
    # per row: d*d and d*(1/sqrt) variable products, gamma constant products, one table read
    assert [m[0] for m in norm["var_mults"]] == [2 * E, 2 * E]
    assert norm["const_mults"][0][0] == 2 * E
    assert norm["table_reads"] == 2 and norm["rom_copies"] == 1  # 2 reads, one dual-port ROM
    assert layers["add"]["regions"][0]["unrolled_mults"] == 0
    # the model-wide latency and interval follow from the layers (DATAFLOW)
    assert est["latency"]["interval_max"] == max(v["interval_cycles"] for v in layers.values())
    assert est["latency"]["worst_cycles"] == sum(v["latency_cycles"] for v in layers.values())
    assert est["latency"]["worst_ns"] == est["latency"]["worst_cycles"] * 5.0
    assert est["source"] == "estimate" and set(est["resources"]) == set(cost.RESOURCES)


def test_attention_counts_by_hand(model):
    est = estimate.estimate(
        model, fw_config(layers={"attn": {"parallel": 2, "reuse_factor": 3}}), True
    )
    tokens, queries = by_name(est)["attn"]["regions"]
    assert (tokens["trips"], tokens["ii"], queries["trips"]) == (N // 2, 3, N // 2)
    hd = E // H
    # two queries an iteration: q.k (H x N keys x hd), e * 1/sum (H x N), attn * v (N x E)
    assert [m[0] for m in queries["var_mults"]] == [2 * H * N * hd, 2 * H * N, 2 * N * E]
    assert queries["const_mults"][0][0] == 2 * E * E  # the output projection
    assert tokens["const_mults"][-1][0] == 2 * 3 * E * E  # q, k, v projections
    # 2 x H x N exp reads + 2 x H inverse reads, dual-port ROMs read over II = 3 cycles
    assert queries["table_reads"] == 2 * H * N + 2 * H
    assert queries["rom_copies"] == math.ceil(2 * H * N / 6) + math.ceil(2 * H / 6)


def _configs(prj):
    """{config index: {constant: value}} of the qpart structs in firmware/parameters.h (the
    first occurrence of each name: the struct's own, not a nested config's)."""
    text = (prj / "firmware" / "parameters.h").read_text()
    out = {}
    for idx, body in re.findall(r"struct config(\d+) : nnet::qpart::\w+ \{(.*?)\n\};", text, re.S):
        consts = {}
        for name, value in re.findall(r"static const unsigned (\w+) = (\d+);", body):
            consts.setdefault(name, int(value))
        out[int(idx)] = consts
    return out


@pytest.mark.parametrize("parallel,reuse", [(1, 1), (4, 2), ("all", 1)])
def test_generated_code_folds_as_estimated(model, tmp_path, parallel, reuse):
    """The generated config structs carry the estimate's folding, multiplier limits and ROM
    copies; the weights hold one table per copy; the top is a DATAFLOW region."""
    fw = fw_config(parallel, reuse)
    # untrained: every product the code writes (the HLS tool then drops the zero weights')
    est = by_name(estimate.estimate(model, fw, trained=False))
    hls_model = convert(model, tmp_path / "prj", **firmware.convert_kwargs(fw))
    hls_model.write()
    configs = _configs(tmp_path / "prj")
    for node in hls_model.get_layers():
        if node.name not in est:
            continue
        c, e = configs[node.index], est[node.name]
        assert c["parallel"] == e["parallel"] and c["reuse_factor"] == e["reuse_factor"], node.name
        last = e["regions"][-1]
        limit = c.get("multiplier_limit", c.get("query_multiplier_limit"))
        if last["unrolled_mults"]:
            assert limit == math.ceil(last["unrolled_mults"] / reuse), node.name
    attn = next(n for n in hls_model.get_layers() if n.name == "attn")
    c, queries = configs[attn.index], est["attn"]["regions"][-1]
    assert c["exp_copies"] + c["inv_copies"] == queries["rom_copies"]
    exp = attn.get_weights("exp_table").data.reshape(-1)
    assert exp.size == c["exp_copies"] * c["exp_table_size"]
    assert np.array_equal(
        exp.reshape(c["exp_copies"], -1), np.tile(exp[: c["exp_table_size"]], (c["exp_copies"], 1))
    )
    top = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    assert "#pragma HLS DATAFLOW" in top and "#pragma HLS PIPELINE" not in top


def test_dataflow_arrays_have_one_reader_and_the_clones_are_estimated(tmp_path):
    """Every array of the DATAFLOW region is written once and read once (clones copy the
    residual branches and the mask), and the estimate counts the same clones."""
    cfg = builder.load_config("part_tiny_host")
    model = builder.build_model(cfg)
    fw = firmware.load_firmware("vu13p")
    hls_model = convert(model, tmp_path / "prj", **firmware.convert_kwargs(fw))
    hls_model.write()
    top = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    calls = [line for line in top.splitlines() if "nnet::" in line and "(" in line]
    uses = {}
    for line in calls:
        for name in re.findall(r"\b(layer\d+_(?:out|cpy\d+)|particles|pairs|mask)\b", line):
            uses[name] = uses.get(name, 0) + 1
    inputs = {"particles", "pairs", "mask"}
    assert all(n == 1 for k, n in uses.items() if k in inputs), uses
    assert all(n <= 2 for k, n in uses.items() if k not in inputs), uses
    cloned = set(re.findall(r"// clone_(\w+)", top))
    est = estimate.estimate(model, fw, trained=False)
    assert cloned == {
        e["name"][len("clone_") :] for e in est["layers"] if e["class"] == "QpartClone"
    }
    assert {"mask", "cls_token"} <= cloned


def test_headers_pipeline_every_row_loop():
    """Every qpart row loop is pipelined at the layer's II with `parallel` unrolled lanes; tables
    are bound to ROMs (text of the headers: what the HLS tool reads)."""
    from hls.extensions import NNET_UTILS

    loops = 0
    for header in NNET_UTILS.glob("nnet_qpart_*.h"):
        text = header.read_text()
        for m in re.finditer(
            r"for \(unsigned \w+ = 0; \w+ < CONFIG_T::(\w+); \w+ \+= "
            r"CONFIG_T::(\w+)\) \{\n\s*#pragma HLS PIPELINE II = "
            r"CONFIG_T::reuse_factor",
            text,
        ):
            loops += 1
            assert m.group(2) in ("parallel", "q_parallel"), (header.name, m.group(0))
    # dense, add, layernorm, pair_embed, pair_features, token_rows, query_rows
    assert loops == 7
    common = (NNET_UTILS / "nnet_qpart_common.h").read_text()
    assert "BIND_STORAGE variable = var type = rom_2p impl = bram" in common
    assert "RESOURCE variable = var core = ROM_2P_BRAM" in common


def test_shipped_configs_fit():
    for model_name, fw_name in (
        ("part_l1", "vu13p"),
        ("part_tiny", "zcu102"),
        ("part_tiny", "vu13p"),
    ):
        cfg = builder.load_config(model_name)
        est = estimate.estimate(builder.build_model(cfg), firmware.load_firmware(fw_name), False)
        fit = est["fit"]
        assert fit["fits"], (model_name, fw_name, estimate.verdict_line(est))
        for k, v in est["resources"].items():
            assert v["used"] <= 0.8 * v["available"] or v["available"] == 0, (model_name, k)
        assert est["largest_region"]["unrolled_mults"] <= estimate.UNROLL_LIMIT
    cfg = builder.load_config("part_l1_host")  # the N x N input port
    est = estimate.estimate(
        builder.build_model(cfg), firmware.load_firmware("vu13p_parallel"), False
    )
    assert not est["fit"]["fits"] and est["largest_region"]["layer"] == "pair_embed"
    assert {"LUT", "DSP"} <= set(est["fit"]["over_budget"])
    assert "DOES NOT FIT" in estimate.verdict_line(est)
    assert est["ports_bits_per_jet"]["inputs"]["pairs"] == 32 * 32 * 4 * 10


def test_part_trigger_meets_the_trigger_budget():
    """The shipped trigger design: with pair features on chip (no N x N input), folded by
    `parallel: auto`, within 50% of every VU13P resource, 1 us and a new jet every 150 ns."""
    cfg = builder.load_config("part_trigger")
    assert cfg["model"]["pair_features"] == "onchip"
    model = builder.build_model(cfg)
    assert model.input_names == ["particles", "kinematics", "mask"]
    fw = firmware.load_firmware("vu13p_trigger")
    est = estimate.estimate(model, autofold.resolve(model, fw, False), False)
    assert est["fit"]["fits"], estimate.verdict_line(est)
    for k, v in est["resources"].items():
        assert v["used"] <= 0.5 * v["available"] or v["available"] == 0, k
    assert est["latency"]["worst_ns"] <= 1000 and est["latency"]["interval_ns"] <= 150
    assert est["largest_region"]["unrolled_mults"] <= estimate.UNROLL_LIMIT


def test_folding_errors_name_layer_key_and_nearest_value(model):
    with pytest.raises(
        folding.FoldingError,
        match=r"dense: parallel=3 does not divide its 8 " r"rows; nearest valid value: 2",
    ):
        estimate.estimate(model, fw_config(layers={"dense": {"parallel": 3}}), True)
    with pytest.raises(
        folding.FoldingError,
        match=r"attn: reuse_factor=0 must be an int >= 1; " r"nearest valid value: 1",
    ):
        estimate.estimate(model, fw_config(layers={"attn": {"reuse_factor": 0}}), True)
    with pytest.raises(
        folding.FoldingError,
        match=r"norm: parallel=7 does not divide its 8 rows;" r" nearest valid value: 8",
    ):
        convert(
            model, "unused", **firmware.convert_kwargs(fw_config(layers={"norm": {"parallel": 7}}))
        )


def test_auto_folding_and_budget_errors(model):
    fw = fw_config(parallel="auto")
    folded = autofold.auto_fold(model, fw, True)
    base = estimate.estimate(model, fw_config(), True)
    auto = estimate.estimate(model, folded, True)
    assert auto["fit"]["fits"]
    assert auto["latency"]["interval_max"] < base["latency"]["interval_max"]
    assert folded["auto_parallel"]["attn"] > 1
    tight = dict(fw, budget={"resources": 0.001, "ii_cycles": None})
    with pytest.raises(
        autofold.BudgetError,
        match=r"even one row per iteration does not fit.*" r"binding: (LUT|DSP)",
    ):
        autofold.auto_fold(model, tight, True)
    fast = dict(fw, budget={"resources": 0.8, "ii_cycles": 1})
    with pytest.raises(autofold.BudgetError, match=r"budget.ii_cycles=1: .* bound by \w+"):
        autofold.auto_fold(model, fast, True)


def test_auto_folding_meets_a_latency_budget(model):
    """With the interval met at once, budget.latency_cycles alone makes auto fold further; an
    impossible latency names the layers that make it up."""
    loose = dict(fw_config(parallel="auto"), budget={"resources": 0.8, "ii_cycles": 10**6})
    base = estimate.estimate(model, autofold.auto_fold(model, loose, True), True)
    assert set(autofold.auto_fold(model, loose, True)["auto_parallel"].values()) == {1}
    want = base["latency"]["worst_cycles"] - 1
    budget = dict(loose["budget"], latency_cycles=want)
    folded = autofold.auto_fold(model, dict(loose, budget=budget), True)
    got = estimate.estimate(model, folded, True)
    assert got["fit"]["fits"] and got["latency"]["worst_cycles"] <= want
    assert max(folded["auto_parallel"].values()) > 1
    budget = dict(loose["budget"], latency_cycles=1)
    with pytest.raises(
        autofold.BudgetError, match=r"budget.latency_cycles=1: .* latency of \d+ cycles; .*attn"
    ):
        autofold.auto_fold(model, dict(loose, budget=budget), True)


def test_make_estimate_cli(tmp_path, capsys):
    out = tmp_path / "hls"
    assert (
        estimate.main(
            ["--model", "part_tiny", "--fw", "zcu102", "--untrained", "--out-root", str(out)]
        )
        == 0
    )
    est = json.loads((out / "part_tiny-zcu102" / "estimate.json").read_text())
    assert est["source"] == "estimate" and est["fit"]["fits"]
    assert est["weights"].startswith("untrained")
    assert "estimate fits xczu9eg" in capsys.readouterr().out
    assert (
        estimate.main(
            [
                "--model",
                "part_tiny",
                "--fw",
                "vu13p_parallel",
                "--untrained",
                "--out-root",
                str(out),
            ]
        )
        == 1
    )
    assert "DOES NOT FIT" in capsys.readouterr().out
    bad = tmp_path / "bad.yml"
    bad.write_text(
        firmware.config_path("zcu102")
        .read_text()
        .replace("layers: {}", "layers: {embed_0: {parallel: 5}}")
    )
    assert (
        estimate.main(
            ["--model", "part_tiny", "--fw", str(bad), "--untrained", "--out-root", str(out)]
        )
        == 2
    )
    assert (
        "embed_0: parallel=5 does not divide its 16 rows; nearest valid value: 4"
        in capsys.readouterr().err
    )


# ------------------------------------------------------------------------------ calibration

# The holdout error table of docs/hls.md (median, worst |estimate - report| / report).
DOCUMENTED_HOLDOUT = {
    "LUT": (0.242, 0.377),
    "FF": (0.483, 0.776),
    "DSP": (0.444, 0.602),
    "BRAM_18K": (0.0, 0.862),
    "latency": (0.133, 0.75),
}


def test_calibration_set_is_real_and_pinned():
    designs = calibration.load()
    used = [d for d in designs if d["role"] in ("fit", "holdout")]
    assert len(used) >= 6 and len({d["repo"] for d in used}) >= 4
    for d in designs:
        assert re.fullmatch(r"[0-9a-f]{40}", d["commit"]) and d["report_paths"], d["name"]
    # the shipped constants are what the fit gives (refit here)
    assert calibration.fit(designs) == cost.DEFAULT_RULES
    table = calibration.errors(designs, cost.DEFAULT_RULES)
    got = {k: (v["median"], v["worst"]) for k, v in table.items()}
    assert got == DOCUMENTED_HOLDOUT
    assert len(table["LUT"]["designs"]) == 5


def test_calibration_figures_are_the_reports():
    """The L1JetTagger totals in calibration.yml are its real report's (the fixture copy)."""
    from pathlib import Path

    xml = Path(__file__).parent / "fixtures/hls_reports/L1JetTagger/myproject_csynth.xml"
    rep = parse_csynth_xml(xml)
    design = next(d for d in calibration.load() if d["name"] == "l1jettagger_pointwise_conv1d")
    for k in ("LUT", "FF", "DSP", "BRAM_18K"):
        assert design["totals"][k] == rep["resources"][k]["used"], k
    assert design["totals"]["latency_max"] == rep["latency"]["worst_cycles"]
