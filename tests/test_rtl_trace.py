"""The RTL route's traces (hls/layers/<layer>/rtl.py, hls/rtl/trace.py): every layer's traced
graph, run by alkaid's own interpreter, equals the Keras layer bit for bit, at two sets of
widths (the narrow one with learned per-weight widths); the whole model too; a layer without a
trace stops with its name."""

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from alkaid.trace import trace as alkaid_trace

from hls.layers.rtl_ops import cast, const, dense, inputs
from hls.rtl.trace import UnsupportedLayer, layer_mismatches, trace_model
from model import builder
from model.fixed import Fx, quantize_np

N = 3  # particles: every layer, every table path and the padding, in seconds

NARROW = {
    "weight_bits": 4,
    "bias_bits": 8,
    "bias_integer": 2,
    "input_t": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>",
    "kin_t": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>",
    "act_t": "ap_fixed<9,4,AP_RND_CONV,AP_SAT>",
    "pair_t": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>",
    "logit_t": "ap_fixed<9,4,AP_RND_CONV,AP_SAT>",
    "attn_t": "ap_ufixed<8,1,AP_RND_CONV,AP_SAT>",
    "qkv_t": "ap_fixed<6,3,AP_RND_CONV,AP_SAT>",
    "pair_angle_t": "ap_fixed<10,2,AP_RND_CONV,AP_SAT>",
    "pair_table_t": "ap_ufixed<10,0,AP_RND_CONV,AP_SAT>",
    "pair_ln_t": "ap_fixed<12,5,AP_RND_CONV,AP_SAT>",
    "pair_log_bits": 7,
    "pair_angle_table_size": 64,
    "pair_softplus_table_size": 128,
    "exp_table_size": 64,
    "inv_table_size": 64,
    "norm_table_size": 64,
}


def _model(quant=None, seed=0):
    cfg = builder.load_config("part_tiny")
    cfg["data"]["n_particles"] = N
    cfg["quantization"].update(quant or {})
    tf.keras.utils.set_random_seed(seed)
    return builder.build_model(cfg, quantized=True)


def _jets(model, n=64, seed=1):
    """Random inputs: features of order one and beyond (saturation), a random number of
    real particles per jet (the rest padding)."""
    rng = np.random.default_rng(seed)
    out = []
    for t in model.inputs:
        shape = tuple(int(d) for d in t.shape[1:])
        if t.name.startswith("mask"):
            k = rng.integers(1, N + 1, n)
            out.append((np.arange(N)[None] < k[:, None]).astype(np.float32))
        else:
            out.append(rng.normal(0, 1.5, (n,) + shape).astype(np.float32))
    return out


# NARROW with learned per-weight widths (model.learned), spread over 0 (pruned) to 4 bits
LEARNED = dict(
    NARROW,
    learned_widths={
        "granularity": "weight",
        "beta": 1e-6,
        "warmup_epochs": 1,
        "init_fractional_bits": 2.0,
        "max_bits": 4,
        "lr_scale": 1.0,
    },
)


# NARROW's uniform weights: test_whole_model_bit_exact_and_not_trivial
@pytest.mark.parametrize("quant", [None, LEARNED], ids=["part_tiny", "narrow-learned"])
def test_every_layer_bit_exact(quant):
    model = _model(quant)
    if quant is LEARNED:  # every weight its own width: fractional bits -1 (pruned) .. 3
        rng = np.random.default_rng(2)
        fbits = [w for w in model.weights if "fbits" in w.name]
        assert fbits
        for w in fbits:
            w.assign(rng.uniform(-1.5, 3.4, w.shape))
        dense = model.get_layer("embed_0")
        (_, _, f), *_ = dense.learned_kernels()
        assert len(np.unique(np.round(f))) >= 4
    result = layer_mismatches(model, _jets(model))
    inputs_ = {t.name.split(":")[0] for t in model.inputs}
    casts = {  # the input casts are the wires' types: no hardware, nothing to trace
        layer.name
        for layer in model.layers
        if type(layer).__name__ == "FxQuant" and layer.input.name.split(":")[0] in inputs_
    }
    assert len(casts) == 2 and len(result) > 15
    assert set(result) == {layer.name for layer in model.layers} - inputs_ - casts
    assert {k: v["differ"] for k, v in result.items()} == {k: 0 for k in result}
    assert all(v["words"] > 0 for v in result.values())


def test_whole_model_bit_exact_and_not_trivial():
    model = _model(NARROW, seed=3)
    jets = _jets(model, seed=4)
    traced = trace_model(model)
    ref = model.predict(jets, verbose=0)
    got = traced.interpret(jets)
    assert got.shape == ref.shape
    assert np.array_equal(got, ref)
    assert len(np.unique(ref)) > 10  # the jets do not all give one output
    assert traced.comb.cost > 0


def test_constant_cast_rounds_half_to_even():
    """alkaid folds a constant's cast by truncation: the traced cast must round as Keras."""
    t = Fx(6, 2, True, "AP_RND_CONV", "AP_SAT")
    values = np.array([0.0390625, 0.1171875, -0.0390625, 1.9, -3.0, 7.5])  # halves, saturation
    like = inputs((1,), t)
    got = [v.low for v in np.asarray(cast(const(values, like), t))]
    assert got == list(quantize_np(values, t))


def test_dense_of_signed_single_bits_is_exact():
    """A signed 1-bit input (values -1 and 0: an activation a trained range narrowed to its
    sign) through a dense layer: alkaid 0.8.2's 1-bit table lowering stops on it, so dense
    builds the adder graph instead, exact against numpy."""
    t = Fx(1, 1, True, "AP_TRN", "AP_SAT")  # one signed bit: -1 or 0
    x = inputs((8,), t)
    kernel = np.array([[1.0, -2.0], [0.5, 3.0]] * 4)
    out = dense(x, kernel, np.array([0.25, -1.0]))
    comb = alkaid_trace(np.asarray(x).ravel(), np.asarray(out).ravel())
    values = np.random.default_rng(0).integers(-1, 1, (64, 8)).astype(np.float64)
    assert (values == -1).any() and (values == 0).any()
    np.testing.assert_array_equal(comb.predict(values), values @ kernel + [0.25, -1.0])


def test_unknown_layer_named():
    x = tf.keras.Input((4,), name="particles")
    y = tf.keras.layers.Dense(3, name="plain_dense")(x)
    with pytest.raises(UnsupportedLayer, match="plain_dense"):
        trace_model(tf.keras.Model(x, y))


def test_no_norm_and_sum_pooling_bit_exact():
    """model.attn_norm false (the other norms off too: part_trigger_rtl_nonorm) and
    model.pooling sum (FxSumPool in place of the class token and its attention:
    part_trigger_rtl_pool): the attentions project the residual stream itself, the head reads
    the particles summed; every layer and the whole model bit-exact. (The depth each saves is
    measured in docs/rtl.md; the HLS route: tests/test_hls_layers.py's *_bare and sum_pool.)"""
    cfg = builder.load_config("part_tiny")
    cfg["data"]["n_particles"] = N
    cfg["quantization"].update(NARROW)
    cfg["model"].update(
        attn_norm=False, ffn_norm=False, head_norm=False, pooling="sum", num_cls_blocks=0
    )
    tf.keras.utils.set_random_seed(5)
    model = builder.build_model(cfg, quantized=True)
    names = [x.name for x in model.layers]
    assert "pool" in names and not [n for n in names if n.startswith("cls")]
    assert model.get_layer("head").input.node.layer.name == "pool"
    attn = model.get_layer("block0_attn")
    assert attn.norm is None and not [w.name for w in model.weights if "norm" in w.name]
    jets = _jets(model, seed=6)
    result = layer_mismatches(model, jets)
    assert {"block0_attn", "pool"} <= set(result) and result["pool"]["words"] > 0
    assert {k: v["differ"] for k, v in result.items()} == {k: 0 for k in result}
    traced = trace_model(model)
    ref = model.predict(jets, verbose=0)
    assert np.array_equal(traced.interpret(jets), ref) and len(np.unique(ref)) > 10


def test_dense_of_a_constant_row_among_variable_rows_is_exact():
    """A class attention's keys are the (constant) class token's row over the particles'
    (variable) rows. On part_trigger_rtl_nonorm's trained cls0_attn (its token, wv and bv:
    tests/fixtures/class_token_value_projection.npz), alkaid 0.8.2 computed the token's row
    at too few fractional bits (truncated; random weights did not show it), and 18 of 200
    held-out jets came out an LSB off. rtl_ops.dense computes constant rows itself: every row
    equals numpy's."""
    case = np.load(Path(__file__).parent / "fixtures" / "class_token_value_projection.npz")
    token, kernel, bias = case["token"], case["kernel"], case["bias"]
    fx = Fx.parse("ap_fixed<8,4,AP_RND_CONV,AP_SAT>")  # act_t: the particles' rows
    x = inputs((3, token.shape[1]), fx)
    rows = np.concatenate([const(token, x), x], axis=0)
    comb = alkaid_trace(np.asarray(x).ravel(), np.asarray(dense(rows, kernel, bias)).ravel())
    vals = quantize_np(np.random.default_rng(11).normal(0, 3, (50, 3, token.shape[1])), fx)
    got = comb.predict(vals.reshape(50, -1)).reshape(50, 4, -1)
    want = np.concatenate([np.broadcast_to(token[None], (50, *token.shape)), vals], axis=1)
    assert np.array_equal(got, want @ kernel + bias)
