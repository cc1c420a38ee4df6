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

from hls import autofold, calibration, cli, cost, estimate, firmware, folding
from hls.convert import convert
from hls.synth_report import parse_csynth_xml
from infra.errors import QpartError
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
    from hls.layers.extension import NNET_UTILS

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
    """At the upper end of the error band: part_tiny fits the VU13P (Vitis) and the VU9P
    (Vivado); part_l1 on the VU13P does not, and no folding makes it (its constant-product
    LUTs, which folding does not share, exceed the part at the upper end: docs/hls.md)."""
    tiny = builder.build_model(builder.load_config("part_tiny"))
    for fw_name in ("vu13p", "vu9p"):
        est = estimate.estimate(tiny, firmware.load_firmware(fw_name), False)
        assert est["fit"]["fits"], estimate.verdict_line(est)
        for k, v in est["resources"].items():
            assert v["used_high"] <= 0.8 * v["available"] or v["available"] == 0, (fw_name, k)
        assert est["largest_region"]["unrolled_mults"] <= estimate.UNROLL_LIMIT
    model = builder.build_model(builder.load_config("part_l1"))
    fw = firmware.load_firmware("vu13p")
    est = estimate.estimate(model, fw, False)
    assert not est["fit"]["fits"] and "LUT" in est["fit"]["over_budget"]
    # one row per iteration everywhere: the LUT still exceeds the whole part
    folded = estimate.estimate(model, dict(fw, parallel=1, layers={}), False)
    assert folded["resources"]["LUT"]["used_high"] > folded["resources"]["LUT"]["available"]
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
    `parallel: auto`, within 50% of every VU13P resource at the upper end of the band, 1 us
    and a new jet every 150 ns."""
    cfg = builder.load_config("part_trigger")
    assert cfg["model"]["pair_features"] == "onchip"
    model = builder.build_model(cfg)
    assert model.input_names == ["particles", "kinematics", "mask"]
    fw = firmware.load_firmware("vu13p_trigger")
    est = estimate.estimate(model, autofold.resolve(model, fw, False), False)
    assert est["fit"]["fits"], estimate.verdict_line(est)
    for k, v in est["resources"].items():
        assert v["used_high"] <= 0.5 * v["available"] or v["available"] == 0, k
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
        cli.main(
            [
                "estimate",
                "--model",
                "part_tiny",
                "--fw",
                "vu13p",
                "--untrained",
                "--out-root",
                str(out),
            ]
        )
        == 0
    )
    est = json.loads((out / "part_tiny-vu13p" / "estimate.json").read_text())
    assert est["source"] == "estimate" and est["fit"]["fits"]
    assert est["weights"].startswith("untrained")
    assert est["band"]["source"].startswith("holdout") and est["fit"]["at"].startswith("upper")
    assert "estimate fits xcvu13p-flga2577-2-e at the upper end of the band (holdout" in (
        capsys.readouterr().out
    )
    assert (
        cli.main(
            [
                "estimate",
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
        firmware.config_path("vu9p")
        .read_text()
        .replace("layers: {}", "layers: {embed_0: {parallel: 5}}")
    )
    assert (
        cli.main(
            [
                "estimate",
                "--model",
                "part_tiny",
                "--fw",
                str(bad),
                "--untrained",
                "--out-root",
                str(out),
            ]
        )
        == 2
    )
    assert (
        "embed_0: parallel=5 does not divide its 16 rows; nearest valid value: 4"
        in capsys.readouterr().err
    )


# ------------------------------------------------------------------------------ calibration

# docs/hls.md, "the error on designs it has never seen": each used design estimated by the
# rules fitted without its repository (leave one repository out), per tool family:
# figure -> (n, median, worst, bias = median estimate / report, estimate > 0 where report = 0)
DOCUMENTED_HOLDOUT_BY_FAMILY = {
    "Vivado HLS 2019-2020": {
        "LUT": (11, 0.357, 0.695, 1.073, 0),
        "FF": (11, 0.728, 7.859, 1.724, 0),
        "DSP": (10, 0.113, 1.237, 1.019, 0),
        "BRAM_18K": (11, 0.0, 0.987, 1.0, 0),
        "latency": (11, 0.25, 0.538, 1.0, 0),
    },
    "Vitis HLS 2021-2022": {
        "LUT": (30, 0.201, 0.453, 1.118, 0),
        "FF": (30, 0.174, 0.62, 1.081, 0),
        "DSP": (16, 0.917, 0.994, 0.083, 0),
        "BRAM_18K": (30, 0.167, 0.333, 1.167, 0),
        "latency": (30, 0.403, 1.15, 0.966, 0),
    },
    "Vitis HLS 2023-2024": {
        "LUT": (3, 0.102, 0.113, 0.937, 0),
        "FF": (3, 0.759, 1.639, 1.074, 0),
        "DSP": (3, 0.086, 0.116, 0.918, 0),
        "BRAM_18K": (3, 0.333, 0.759, 0.75, 0),
        "latency": (3, 0.071, 0.094, 0.987, 0),
    },
    "all families": {
        "LUT": (44, 0.211, 0.695, 1.102, 0),
        "FF": (44, 0.264, 7.859, 1.124, 0),
        "DSP": (29, 0.783, 1.237, 0.516, 0),
        "BRAM_18K": (44, 0.167, 0.987, 1.1, 0),
        "latency": (44, 0.37, 1.15, 0.986, 0),
    },
}
ROLES = {"used", "excluded", "attention"}


def _pinned(table):
    keys = ("n", "median", "worst", "bias", "zero_report_overestimated")
    return {
        fam: {k: tuple(row[k][s] for s in keys) for k in calibration.COMPARED}
        for fam, row in table.items()
    }


def test_calibration_set_is_real_and_pinned():
    designs = calibration.load()
    used = calibration.used(designs)
    assert len(used) >= 40 and len({d["repo"] for d in used}) >= 8
    for d in designs:
        assert re.fullmatch(r"[0-9a-f]{40}", d["commit"]) and d["report_paths"], d["name"]
        assert d["role"] in ROLES and d["config_paths"], d["name"]
        assert d["role"] == "used" or d["excluded_because"], d["name"]
    assert len({d["name"] for d in designs}) == len(designs)
    # the corpus: >= 40 designs with reports, >= 8 repositories, >= 4 tool versions
    assert len(designs) >= 40 and len({d["repo"] for d in designs}) >= 8
    versions = {re.match(r"(\w+ HLS \d{4}\.\d)", d["tool"]).group(1) for d in designs}
    assert len(versions) >= 4 and {v.split()[0] for v in versions} == {"Vivado", "Vitis"}
    # the config_op designs are data: priced with their directive, not excluded for it
    assert sum(1 for d in used if calibration.mul_impl(d)) == 29
    # a priced design has no layer the estimate does not know (an unknown kind is an error)
    with pytest.raises(ValueError, match="conv_2d_cl"):
        calibration.layer_region({"name": "c", "kind": "conv_2d_cl"})
    # the shipped rules are what the fit on every used design gives (refit here)
    assert calibration.fit(designs) == cost.FAMILY_RULES
    rows, fits = calibration.holdout()
    assert len(rows) == len(used) and set(fits) == {d["repo"] for d in used}
    assert _pinned(calibration.family_table(rows)) == DOCUMENTED_HOLDOUT_BY_FAMILY


def test_holdout_never_sees_the_repository_it_estimates():
    """Split by repository: a design's holdout estimate does not move when every report of
    its own repository changes (those reports never enter the rules that estimate it), and
    does when another repository's do."""
    designs = calibration.load()
    rows, _ = calibration.leave_one_repository_out(designs)
    est = {r["design"]: r["pairs"] for r in rows}

    def scaled(repo):
        out = []
        for d in designs:
            if d["repo"] == repo:
                d = dict(d, totals={k: v * 3 for k, v in d["totals"].items()})
                d["modules"] = [dict(m, LUT=m["LUT"] * 3) for m in d.get("modules", [])]
            out.append(d)
        return out

    repo = "pominiq/DNNonSilicon"
    again = {r["design"]: r["pairs"] for r in calibration.leave_one_repository_out(scaled(repo))[0]}
    mine = [r["design"] for r in rows if r["repo"] == repo]
    assert len(mine) == 5
    for name in mine:  # estimates unchanged (the reports, tripled, are not the estimate)
        assert [e for e, _ in again[name].values()] == [e for e, _ in est[name].values()]
    others = [r["design"] for r in rows if r["repo"] != repo]
    assert any(again[n]["LUT"][0] != est[n]["LUT"][0] for n in others)


def test_every_estimate_carries_its_band_and_fits_at_its_upper_end(model):
    """estimate.json's band: per resource and latency, low and high from the holdout of the
    config's tool family (or the pooled one where the family has < 5 designs, said so); the
    verdict is taken at the upper end, and the verdict line names the band."""
    fw = dict(fw_config(), backend="Vivado", tool_version="2019.2")
    est = estimate.estimate(model, fw, True)
    band = est["band"]
    assert band["family"] == "Vivado HLS 2019-2020" and not band["pooled"]
    assert band["source"] == "holdout Vivado HLS 2019-2020 (11 designs)"
    rows = [r for r in calibration.holdout()[0] if r["family"] == band["family"]]
    ff = [rep / e for e, rep in (r["pairs"]["FF"] for r in rows)]
    assert band["FF"]["high"] == math.ceil(est["resources"]["FF"]["used"] * np.percentile(ff, 95))
    # DSP: a scale from the designs with 20 or more, an offset from the others; the wider
    dsp = [r["pairs"]["DSP"] for r in rows if not r["mul_impl"]]
    scale = [rep / e for e, rep in dsp if min(e, rep) >= 20]
    small = [rep - e for e, rep in dsp if min(e, rep) < 20]
    used = est["resources"]["DSP"]["used"]
    assert (
        scale
        and small
        and band["DSP"]["high"]
        == max(
            used,
            math.ceil(used * np.percentile(scale, 95)),
            used + math.ceil(np.percentile(small, 95)),
        )
    )
    for k in ("LUT", "FF", "DSP", "BRAM_18K"):
        used, high = est["resources"][k]["used"], band[k]["high"]
        assert band[k]["low"] <= used <= high and est["resources"][k]["used_high"] == high
        assert band[k]["n"] >= 5 and band[k]["worst_err"] >= band[k]["median_err"]
    assert band["latency"]["low"] <= est["latency"]["worst_cycles"] <= band["latency"]["high"]
    assert band["URAM"]["high"] == est["resources"]["URAM"]["used"]  # no holdout data
    assert any(n.startswith("URAM: no holdout data") for n in band["notes"])
    # the verdict at the upper end: a budget between the point and the upper end fails it
    k = est["fit"]["binding"]
    mid = (est["resources"][k]["used"] + band[k]["high"]) / 2 / est["resources"][k]["available"]
    tight = estimate.estimate(model, fw, True, budget=mid)
    assert tight["resources"][k]["used"] <= mid * tight["resources"][k]["available"]
    assert not tight["fit"]["fits"] and k in tight["fit"]["over_budget"]
    line = estimate.verdict_line(tight)
    assert "DOES NOT FIT" in line and "at the upper end of the band (holdout Vivado" in line
    # Vitis without a version: the newest family, pooled (3 holdout designs), said so
    vitis = estimate.estimate(model, fw_config(), True)["band"]
    assert vitis["family"] == "Vitis HLS 2023-2024" and vitis["pooled"]
    assert "all families pooled (44 designs): Vitis HLS 2023-2024 has 3 (< 5)" in vitis["source"]
    assert "no tool_version" in vitis["notes"][0] and vitis["LUT"]["from"] == "pooled"
    # a version outside every family: the nearest, named
    late = estimate.estimate(model, dict(fw_config(), tool_version="2026.1"), True)["band"]
    assert late["family"] == "Vitis HLS 2023-2024"
    assert (
        "Vitis HLS 2026.1 is outside every family: counted in Vitis HLS 2023-2024"
        in (late["notes"][0])
    )


def test_tool_version_and_part_are_checked(tmp_path):
    """The firmware config's tool_version picks the family and is checked; a part whose
    generation the rules do not know stops with its name."""
    text = firmware.config_path("vu9p").read_text()
    good = tmp_path / "good.yml"
    good.write_text(text.replace("backend: Vivado", "backend: Vivado\ntool_version: 2020.1"))
    assert firmware.load_firmware(good)["tool_version"] == "2020.1"
    bad = tmp_path / "bad.yml"
    bad.write_text(text.replace("backend: Vivado", "backend: Vivado\ntool_version: v2020"))
    with pytest.raises(firmware.ConfigError, match=r"bad.yml: tool_version must be .* 'v2020'"):
        firmware.load_firmware(bad)
    assert cost.device_generation("xc7z020-clg400-1") == "7-series"
    assert cost.device_generation("xcvu13p-flga2577-2-e") == "UltraScale"
    fw = dict(fw_config(), part="lfe5u-85f")
    with pytest.raises(firmware.ConfigError, match=r"test.yml: part 'lfe5u-85f'"):
        estimate.design_rules(fw)


def test_calibration_family_of_a_tool():
    assert calibration.family("Vivado HLS 2019.2.1 (Build 2724168)") == (
        "Vivado HLS 2019-2020",
        None,
    )
    assert calibration.family("Vitis HLS 2022.2 (Build 3670227)") == ("Vitis HLS 2021-2022", None)
    fam, note = calibration.family("Vivado HLS 2018.3")
    assert fam == "Vivado HLS 2019-2020" and "nearest" in note
    with pytest.raises(ValueError, match="Catapult"):
        calibration.family("Catapult 2023")


def test_calibration_figures_are_the_reports():
    """The L1JetTagger totals in calibration.yml are its real report's (the fixture copy)."""
    from pathlib import Path

    xml = Path(__file__).parent / "fixtures/hls_reports/L1JetTagger/myproject_csynth.xml"
    rep = parse_csynth_xml(xml)
    design = next(d for d in calibration.load() if d["name"] == "l1jettagger_pointwise_conv1d")
    for k in ("LUT", "FF", "DSP", "BRAM_18K"):
        assert design["totals"][k] == rep["resources"][k]["used"], k
    assert design["totals"]["latency_max"] == rep["latency"]["worst_cycles"]


def test_make_estimate_refuses_a_checkpoint_of_another_architecture(tmp_path, capsys):
    """The trained weights are the design's (hls.design), checked as hls-csim checks them: a
    checkpoint of an edited config is refused, never estimated as if it were the config."""
    saved = tmp_path / "models" / "part_tiny"
    saved.mkdir(parents=True)
    (saved / "model.keras").write_bytes(b"not read: the architecture check comes first")
    (saved / "config.json").write_text(json.dumps({"quantized": True, "architecture": "0" * 16}))
    args = ["estimate", "--model", "part_tiny", "--fw", "vu13p"]
    roots = ["--models-root", str(tmp_path / "models"), "--out-root", str(tmp_path / "hls")]
    assert cli.main(args + roots) == 2
    err = capsys.readouterr().err
    assert "checkpoint of another architecture" in err and str(saved) in err
    assert not (tmp_path / "hls").exists()
    assert cli.main(args + roots + ["--untrained"]) == 0  # the config alone is still counted


def test_every_qpart_layer_has_one_hardware_module():
    """Each Keras class of model.layers has a hardware module (regions, folding, template
    parameters), an hls4ml extension and an RTL trace in its folder, and counts its MACs;
    wiring is listed; any other class is an error naming it."""
    from hls import layers as hardware

    for name, cls in L.CUSTOM_OBJECTS.items():
        hw = hardware.module_for(name, "some_layer")
        assert hw is not None and callable(hw.estimate) and name in hw.KERAS_CLASSES, name
        assert cls.macs is not L._FxLayer.macs, name  # builder.cost_report's BOPs
    assert set(hardware.registry()) == set(L.CUSTOM_OBJECTS)
    # ... and an hls4ml extension (parser, layer, templates), found without a list to edit
    from hls.layers.extension import extensions

    assert {e.keras_class for e in extensions()} - {None} == set(L.CUSTOM_OBJECTS)
    # ... and an RTL trace in the same folder (hls/layers/<layer>/rtl.py)
    for name in L.CUSTOM_OBJECTS:
        assert callable(hardware.rtl_trace(name, "some_layer")), name
    for name in ("InputLayer", "Flatten", "Reshape"):
        assert hardware.module_for(name, "wire") is None
    with pytest.raises(hardware.UnknownLayerError, match=r"my_dense: Keras class Dense has no"):
        hardware.module_for("Dense", "my_dense")
    assert issubclass(hardware.UnknownLayerError, QpartError)


def test_attention_template_and_estimate_read_the_same_regions(model, tmp_path):
    """The attention config's multiplier limits and ROM copies are read off the regions that
    the estimate prices: the hls4ml node and the Keras layer describe the same hardware."""
    import dataclasses

    from hls import graph
    from hls import layers as hardware
    from hls.layers.attention import hardware as hw
    from hls.layers.attention.extension import attention_folding, attention_spec

    fw = fw_config(layers={"attn": {"parallel": 2, "reuse_factor": 3}})
    hls_model = convert(model, tmp_path / "prj", **firmware.convert_kwargs(fw))
    node = next(n for n in hls_model.get_layers() if n.name == "attn")
    ctx = hardware.Context(graph.analyse(model), fw, trained=False)
    keras_spec, node_spec = hw.spec(model.get_layer("attn"), ctx), attention_spec(node)
    tables = [
        (s.norm_table.size, s.norm_table.value_t, s.norm_table.index_t)
        for s in (keras_spec, node_spec)
    ]
    assert tables[0] == tables[1]
    plain = [dataclasses.replace(s, norm_table=None) for s in (keras_spec, node_spec)]
    assert plain[0] == plain[1]
    params = attention_folding(node)
    tokens, queries = by_name(estimate.estimate(model, fw, trained=False))["attn"]["regions"]
    assert params["token_multiplier_limit"] == math.ceil(tokens["unrolled_mults"] / 3)
    assert params["query_multiplier_limit"] == math.ceil(queries["unrolled_mults"] / 3)
    assert params["exp_copies"] + params["inv_copies"] == queries["rom_copies"]
    assert params["norm_copies"] == tokens["rom_copies"]


def test_a_model_wide_parallel_hint_is_a_value_that_works():
    """parallel: 7 once said 'nearest valid value: 8', which failed on the next layer; the
    hint for a model-wide value now holds for every layer it applies to, or says there is
    none and what to do instead (issue 21, item 5)."""
    from hls.layers import ModelWideFoldingError

    cfg = builder.load_config("part_tiny")
    tiny = builder.build_model(cfg, quantized=True)
    with pytest.raises(
        ModelWideFoldingError,
        match=r"test.yml: model-wide parallel=7 does not divide the \d+ rows of \w+; "
        r"no model-wide value above 1 divides every layer's rows .*parallel: auto",
    ) as err:
        estimate.estimate(tiny, fw_config(parallel=7), False)
    assert "nearest valid value" not in str(err.value)
    rows = {
        lay["name"]: lay["rows"] for lay in estimate.estimate(tiny, fw_config(), False)["layers"]
    }
    pinned = {name: {"parallel": 1} for name, r in rows.items() if r < 16}
    with pytest.raises(ModelWideFoldingError, match=r"every layer's rows: \[2, 4, 8\]") as err:
        estimate.estimate(tiny, fw_config(parallel=7, layers=pinned), False)
    for p in map(int, re.search(r"rows: \[([\d, ]+)\]", str(err.value)).group(1).split(", ")):
        est = estimate.estimate(tiny, fw_config(parallel=p, layers=pinned), False)
        assert {lay["parallel"] for lay in est["layers"] if lay["name"] not in pinned} == {p}


def test_an_impossible_auto_budget_is_does_not_fit_not_an_error(tmp_path, capsys):
    """parallel: auto whose budget no folding meets is a design that does not fit: exit 1
    with an estimate.json (the smallest folding, the reason recorded), as a fixed folding
    that does not fit is; exit 2 stays for bad input (issue 21, item 6)."""
    args = ["estimate", "--model", "part_l1", "--fw", "vu13p_trigger", "--untrained"]
    assert cli.main(args + ["--out-root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "DOES NOT FIT" in out and "parallel: auto: " in out
    est = json.loads((tmp_path / "part_l1-vu13p_trigger" / "estimate.json").read_text())
    assert est["fit"]["fits"] is False and "budget" in est["fit"]["auto_parallel_error"]
    assert {lay["parallel"] for lay in est["layers"]} == {1}
