"""Learned per-weight widths (model.learned, HGQ's method): the quantizer's values, its
gradients, pruning, the firmware weight type, the config keys and the refusals."""

import math

import numpy as np
import pytest
import tensorflow as tf
from fxref import quantized_bits_weight

from infra.yamlconfig import ConfigError
from model import builder, learned
from model import layers as L
from model.fixed import narrowest_fx

LW = learned.LearnedWidths(max_bits=4, input_bits=12)  # I = 0: f in [-1, 3]


def test_forward_values_are_the_firmware_cast():
    """Round half to even, saturate at the per-weight width, zero at width 0, f rounded and
    clipped; by hand (ap_fixed<1+f, 1, AP_RND_CONV, AP_SAT>)."""
    w = [0.3, -0.3, 0.0625, 0.1875, 0.3125, 0.4375, 0.9, 0.97, -1.2, 0.5, 0.3, 0.3, 0.3]
    f = [2, 2, 3, 3, 3, 3, 3, 3, 3, -1, 2.4, 2.5, 10]
    want = [0.25, -0.25, 0.0, 0.25, 0.25, 0.5, 0.875, 0.875, -1.0, 0.0, 0.25, 0.25, 0.25]
    got_np = learned.quantize_np(w, f, 0, LW)
    got_tf = learned.quantize(tf.constant(w, tf.float64), tf.constant(f, tf.float64), 0, LW)
    np.testing.assert_array_equal(got_np, want)
    np.testing.assert_array_equal(got_tf.numpy(), want)
    assert learned.widths_np(got_np, f, 0, LW).tolist() == [3, 3, 0, 4, 4, 4, 4, 4, 4, 0, 3, 3, 4]


def test_forward_matches_the_integer_reference():
    """Random weights and widths, integer weight bits 2: every element equals QKeras-style
    quantized_bits(b, I) computed on integers (tests/fxref.py)."""
    rng = np.random.default_rng(5)
    lw = learned.LearnedWidths(max_bits=9, lr_scale=4.0)  # stored f = f / 4
    integer = 2
    w = rng.uniform(-6, 6, 400)
    f = rng.uniform(-4, 8, 400)
    stored = f / lw.lr_scale
    q = learned.quantize(tf.constant(w), tf.constant(stored), integer, lw).numpy()
    np.testing.assert_array_equal(q, learned.quantize_np(w, stored, integer, lw))
    fi = np.clip(np.round(f), -3, 6)
    for i in range(len(w)):
        b = int(integer + 1 + fi[i])
        want = 0.0 if b == 0 else quantized_bits_weight(w[i], b, integer).value()
        assert q[i] == want, (w[i], f[i], q[i], want)
    assert np.sum(q == 0) > 20 and np.sum(np.abs(q) == 4 - 2.0**-fi) > 0  # pruned, saturated


def test_gradients_reach_the_fractional_bits():
    """d(w_q)/df = -ln2 (w_q - w) (HGQ's surrogate), times lr_scale for the stored variable;
    the weights' gradient is straight through; EBOPs grow with f on kept weights only."""
    lw = learned.LearnedWidths(max_bits=8, lr_scale=3.0)
    w = tf.Variable(np.array([0.3, -0.71, 0.05, 0.9]))
    stored = tf.Variable(np.array([2.0, 3.0, -0.34, 4.0]) / 3.0)  # f = 2, 3, -0.34 (0: pruned), 4
    g = tf.constant([1.0, 2.0, 3.0, -1.0], tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        q = learned.quantize(w, stored, 0, lw)
        loss = tf.reduce_sum(q * g)
        bits = learned.ebops_bits(q, stored, 0, lw)
        cost = tf.reduce_sum(bits)
    qv = np.array([0.25, -0.75, 0.0, 0.875])
    np.testing.assert_array_equal(q.numpy(), qv)
    df = tape.gradient(loss, stored).numpy()
    np.testing.assert_allclose(df, -math.log(2) * (qv - w.numpy()) * g.numpy() * 3.0, rtol=1e-12)
    np.testing.assert_array_equal(tape.gradient(loss, w).numpy(), g.numpy())
    # bits: floor(log2|q|) + 1 + f: 0.25 -> -1 + 2 = 1; 0.75 -> 0 + 3 = 3; 0 -> 0; 0.875 -> 4
    np.testing.assert_array_equal(bits.numpy(), [1, 3, 0, 4])
    np.testing.assert_array_equal(tape.gradient(cost, stored).numpy(), [3.0, 3.0, 0.0, 3.0])


def _dense(granularity="weight", init=3.0, units=6, n_in=5):
    x = tf.keras.Input((n_in,))
    q = L.FxQuant(result_t="ap_fixed<12,4,AP_RND_CONV,AP_SAT>")(x)
    lw = dict(granularity=granularity, init_fractional_bits=init, max_bits=6, input_bits=12)
    layer = L.FxDense(units, result_t="ap_fixed<20,8,AP_RND_CONV,AP_SAT>", learned_widths=lw)
    return tf.keras.Model(x, layer(q)), layer


def test_pruned_weights_are_exact_zeros_and_cost_nothing():
    model, layer = _dense()
    rng = np.random.default_rng(3)
    layer.kernel.assign(rng.uniform(-1, 1, (5, 6)))
    layer.bias.assign(rng.normal(0, 1, 6))
    ((_, f, _),) = layer._fbits
    f.assign(np.full((5, 6), -1.0))  # width 0 everywhere
    assert not np.any(layer.quantized_kernels()[0][1])
    x = rng.normal(0, 2, (4, 5))
    bias = layer.qb(layer.bias).numpy()
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.broadcast_to(bias, (4, 6)))
    assert layer.ebops_value() == 0.0 and float(layer.ebops()) == 0.0
    assert layer.product_bits == 0.0 and str(layer.weight_t).startswith("ap_fixed<1,1,")


def test_channel_granularity_and_firmware_type():
    """One f per output channel; the firmware type is the narrowest holding every value."""
    model, layer = _dense("channel")
    ((_, f, _),) = layer._fbits
    assert tuple(f.shape) == (1, 6)
    rng = np.random.default_rng(4)
    layer.kernel.assign(rng.uniform(-0.35, 0.35, (5, 6)))
    f.assign([[2.0, 2.0, 3.0, 4.0, 5.0, 5.0]])
    q = layer.quantized_kernels()[0][1]
    for c, fc in enumerate([2, 2, 3, 4, 5, 5]):
        assert np.all(q[:, c] * 2.0**fc == np.round(q[:, c] * 2.0**fc))
    t = layer.weight_t
    assert t == narrowest_fx(q) and t.frac == 5 and t.integer <= 0  # |q| < 0.5: no integer bit
    assert layer.kernel_uses(12) == {"kernel": (1, 12)}


def test_ebops_of_uniform_and_learned_layers():
    """EBOPs = sum over kept weights of HGQ bits x input bits x uses; a uniform layer with the
    same widths counts the same."""
    model, layer = _dense(init=3.0)
    layer.kernel.assign(np.full((5, 6), 0.5))
    # 0.5 at f = 3: floor(log2 0.5) + 1 + 3 = 3 bits, 30 weights, 12-bit inputs
    assert layer.ebops_value() == 30 * 3 * 12
    assert float(layer.ebops()) == 30 * 3 * 12
    x = tf.keras.Input((5,))
    uni = L.FxDense(6, result_t="ap_fixed<20,8,AP_RND_CONV,AP_SAT>", weight_bits=4)
    uni(L.FxQuant(result_t="ap_fixed<12,4,AP_RND_CONV,AP_SAT>")(x))
    uni.kernel.assign(np.full((5, 6), 0.5))
    assert uni.ebops_value(12) == 30 * 3 * 12


def test_float64_overflow_is_refused_naming_the_layer():
    x = tf.keras.Input((64,))
    lw = dict(max_bits=32, input_bits=24)
    with pytest.raises(learned.LearnedWidthError, match=r"wide_dense: .*float64"):
        L.FxDense(4, result_t="ap_fixed<16,6>", learned_widths=lw, name="wide_dense")(x)
    with pytest.raises(learned.LearnedWidthError, match=r"bad: learned_widths: granularity"):
        L.FxDense(4, learned_widths={"granularity": "row"}, name="bad")


def _config(tmp_path, small=False, **learned_widths):
    """part_tiny with learned widths; `small`: no particle block and no pair features (a
    quicker training)."""
    text = open(builder.config_path("part_tiny")).read()
    if small:
        text = text.replace("num_blocks: 1", "num_blocks: 0")
        text = text.replace("pair_features: onchip", "pair_features: none")
    lines = "".join(f"    {k}: {v}\n" for k, v in learned_widths.items())
    text = text.replace("training:", "  learned_widths:\n" + lines + "training:")
    path = tmp_path / "lw.yml"
    path.write_text(text)
    return path


def test_config_keys(tmp_path):
    base = builder.load_config("part_tiny")
    assert base["quantization"]["learned_widths"] is None
    cfg = builder.load_config(_config(tmp_path, granularity="channel", beta="2.0e-7"))
    lw = cfg["quantization"]["learned_widths"]
    assert lw["granularity"] == "channel" and lw["beta"] == 2e-7 and lw["max_bits"] == 8
    assert builder.architecture_hash(cfg, True) != builder.architecture_hash(base, True)
    model = builder.build_model(cfg)
    fbits = [w.name for w in model.weights if w.name.endswith("_fbits:0")]
    # embed_0, pair_embed (2), block0_attn (4), its ffn (2), cls0_attn (4), its ffn (2), head
    assert len(fbits) == 1 + 2 + 4 + 2 + 4 + 2 + 1
    assert builder.layer_learned_widths(cfg, "input_t")["input_bits"] == 12
    rows = {r["layer"]: r for r in builder.cost_report(model, cfg)}
    assert rows["embed_0"]["ebops"] > 0 and rows["embed_0"]["ebops"] < rows["embed_0"]["bops"]


@pytest.mark.parametrize(
    "keys, match",
    [
        ({"granularity": "row"}, r"learned_widths.granularity must be one of"),
        ({"beta": -1.0}, r"learned_widths.beta must be >= 0"),
        ({"max_bits": 1}, r"learned_widths.max_bits must be 2..32"),
        ({"max_bits": 40}, r"learned_widths.max_bits must be 2..32"),
        ({"init_fractional_bits": 9}, r"learned_widths.init_fractional_bits must be in \[-1, 7\]"),
        ({"lr_scale": 0}, r"learned_widths.lr_scale must be > 0"),
        ({"warmup": 2}, r"learned_widths: unknown key\(s\) 'warmup'"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, keys, match):
    path = _config(tmp_path, **keys)
    with pytest.raises(ConfigError, match=rf"{path}: .*{match}"):
        builder.load_config(path)


def test_training_writes_the_width_summary(jet_sample, tmp_path):
    """A few epochs with learned widths: metrics.json says where the bits went, per layer."""
    import json

    from model import train

    path = _config(tmp_path, True, beta="1.0e-7", warmup_epochs=1, lr_scale=60.0)
    result = train.train(
        str(path),
        jet_sample,
        epochs=2,
        max_jets_per_file=8,
        root=tmp_path,
        verbose=0,
        batch_size=16,
    )
    saved = json.loads((tmp_path / "lw" / "metrics.json").read_text())
    s = saved["learned_widths"]
    assert s == result["learned_widths"] and s["granularity"] == "weight"
    names = [r["layer"] for r in s["layers"]]
    assert names == ["embed_0", "cls0_attn", "cls0_ffn_fc1", "cls0_ffn_fc2", "head"]
    for r in s["layers"]:
        assert sum(r["histogram"].values()) == r["weights"]
        assert all(0 <= int(b) <= 8 for b in r["histogram"])
        assert 0 <= r["pruned_fraction"] < 1 and r["histogram"].get("0", 0) == round(
            r["pruned_fraction"] * r["weights"]
        )
        assert 0 < r["mean_bits"] <= 8
    assert s["weights"] == sum(r["weights"] for r in s["layers"])
    assert 0 < saved["ebops"] < saved["bops"]
    assert len({b for r in s["layers"] for b in r["histogram"] if b != "0"}) > 1  # widths moved

    # the dashboard shows it: one row per layer and one for all, the summary's own figures
    import shutil

    from hls.report.build import build_dashboard

    shutil.copytree(tmp_path / "lw", tmp_path / "build" / "models" / "lw")
    build_dashboard(tmp_path / "build", tmp_path / "reports")
    page = (tmp_path / "reports" / "index.html").read_text()
    assert "Where the bits went" in page and "no model trained with them" not in page
    for r in s["layers"]:
        widths = sorted(r["histogram"].items(), key=lambda x: int(x[0]))
        hist = " ".join(f"{b}b×{n:,}" for b, n in widths)
        row = f"<td>lw</td><td>{r['layer']}</td>"
        assert row in page and hist in page, (row, hist)
    assert "<td>lw</td><td>all layers</td>" in page
    saved_by_dashboard = json.loads((tmp_path / "reports" / "dashboard.json").read_text())
    assert [m["learned_widths"] for m in saved_by_dashboard["found"]["models"]] == [s]


def test_a_beta_that_prunes_everything_stops_training(jet_sample, tmp_path):
    from model import train

    path = _config(
        tmp_path, True, beta="10.0", warmup_epochs=0, init_fractional_bits="0.0", lr_scale=100.0
    )
    with pytest.raises(train.TrainError, match=r"learned_widths.beta=10.0 pruned every weight"):
        train.train(
            str(path),
            jet_sample,
            epochs=3,
            max_jets_per_file=8,
            root=tmp_path,
            verbose=0,
            batch_size=16,
        )
    assert not (tmp_path / "lw" / "model.keras").exists()


def test_the_estimate_sees_the_learned_widths(tmp_path):
    """Narrower learned widths and pruned weights cost fewer LUTs in hls.estimate; at one
    width everywhere the constant products are priced at that width."""
    from hls import estimate, firmware

    cfg = builder.load_config(_config(tmp_path, max_bits=8))
    model = builder.build_model(cfg)
    layers = [layer for layer in model.layers if getattr(layer, "_fbits", None)]
    rng = np.random.default_rng(2)
    for layer in layers:
        for k, _, _ in layer._fbits:
            k.assign(rng.uniform(-0.99, 0.99, k.shape))

    def lut(frac, prune=0.0):
        for layer in layers:
            for _, f, _ in layer._fbits:
                v = np.full(f.shape, float(frac))
                v[rng.random(f.shape) < prune] = -1.0  # width 0
                f.assign(v)
        fw = firmware.load_firmware("vu13p")
        return estimate.estimate(model, fw, trained=True)["resources"]["LUT"]["used"]

    wide = lut(7)
    assert {layer.product_bits for layer in layers} == {8.0}
    narrow = lut(2)
    assert {layer.product_bits for layer in layers} == {3.0}
    pruned = lut(2, prune=0.5)
    assert pruned < narrow < wide
