"""Each qpart layer through hls4ml (Vivado and Vitis): C simulation bit-exact with Keras.

One small Keras model per backend holds every layer, each fed by its own FxQuant'd inputs and
each a model output, so one g++ build checks them all. Weights and inputs are large enough
that weights, activations, logits and tables saturate and round at their boundaries; masks
include padding, a fully padded jet and a full one.
"""

import numpy as np
import pytest
import tensorflow as tf
from weights import randomise

import hls
from hls import fxtypes as T
from hls.convert import convert, hls_config, keras_result_types
from hls.layers.extension import QpartHLSError
from model import layers as L
from model.fixed import Fx, accum_type, quantize_np

N, F, E, H = 8, 5, 16, 2
ACT = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"
ATTN = dict(
    num_heads=H,
    norm_t=ACT,
    qkv_t=ACT,
    logit_t="ap_fixed<16,6,AP_RND_CONV,AP_SAT>",
    attn_t="ap_ufixed<16,1,AP_RND_CONV,AP_SAT>",
    ctx_t=ACT,
    result_t=ACT,
    inv_table_size=512,
)
N_JETS = 6
LENGTHS = [3, 8, 5, 0, 1, 6]  # real particles per jet (0: everything padded)

# Keras layer name -> what it exercises
LAYERS = {
    "dense_relu": "FxDense rank 2 + ReLU",
    "dense_rank3": "FxDense on (N, N, 4), AP_TRN/AP_WRAP result",
    "requant": "FxQuant inside the network (a real cast)",
    "add": "FxAdd of two types, AP_RND_CONV/AP_SAT",
    "norm": "FxLayerNorm",
    "pair_embed": "PairEmbed, every pair (Symmetric: false)",
    "pair_embed_sym": "PairEmbed, i <= j mirrored (default), symmetric input",
    "particle_attn": "ParticleAttention with bias and mask",
    "class_attn": "ClassAttention, token and particles of different types, q/k/v narrower "
    "than the activations (qkv_t)",
    "particle_attn_bare": "ParticleAttention without its pre-norm (model.attn_norm: false)",
    "class_attn_bare": "ClassAttention without its pre-norm: token and particles of two types",
    "cls_token": "ClassToken",
    "sum_pool": "FxSumPool over the real particles, saturating",
}


def build_model():
    inp = {
        name: tf.keras.Input(shape, name=name)
        for name, shape in [
            ("x", (N, F)),
            ("e", (N, E)),
            ("e2", (N, E)),
            ("p", (N, N, 4)),
            ("ps", (N, N, 4)),
            ("b", (H, N, N)),
            ("c", (1, E)),
            ("m", (N,)),
        ]
    }
    q = {
        k: L.FxQuant(result_t=t, name=f"q_{k}")(inp[k])
        for k, t in [
            ("x", "ap_fixed<12,4,AP_RND_CONV,AP_SAT>"),
            ("e", ACT),
            ("e2", "ap_fixed<10,3,AP_RND,AP_WRAP>"),
            ("p", "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"),
            ("ps", "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"),
            ("b", "ap_fixed<12,4,AP_RND_CONV,AP_SAT>"),
            ("c", "ap_fixed<14,5,AP_RND_CONV,AP_SAT>"),
        ]
    }
    out = {}
    out["dense_relu"] = L.FxDense(E, "relu", result_t=ACT, name="dense_relu")(q["x"])
    out["dense_rank3"] = L.FxDense(3, result_t="ap_fixed<10,3,AP_TRN,AP_WRAP>", name="dense_rank3")(
        q["p"]
    )
    out["requant"] = L.FxQuant(result_t="ap_fixed<8,3,AP_RND,AP_SAT>", name="requant")(
        out["dense_relu"]
    )
    out["add"] = L.FxAdd(result_t="ap_fixed<12,5,AP_RND_CONV,AP_SAT>", name="add")(
        [q["e"], q["e2"]]
    )
    out["norm"] = L.FxLayerNorm(result_t=ACT, name="norm")(q["e"])
    pe = dict(hidden_t=ACT, result_t="ap_fixed<12,4,AP_RND_CONV,AP_SAT>")
    out["pair_embed"] = L.PairEmbed([8, 6], H, name="pair_embed", **pe)(q["p"])
    out["pair_embed_sym"] = L.PairEmbed([8], H, name="pair_embed_sym", **pe)(q["ps"])
    out["particle_attn"] = L.ParticleAttention(name="particle_attn", **ATTN)(
        [q["e"], q["b"], inp["m"]]
    )
    narrow_qkv = dict(ATTN, qkv_t="ap_fixed<10,6,AP_RND_CONV,AP_SAT>")
    out["class_attn"] = L.ClassAttention(name="class_attn", **narrow_qkv)(
        [q["c"], q["e"], inp["m"]]
    )
    bare = dict(ATTN, norm=False, qkv_t="ap_fixed<10,6,AP_RND_CONV,AP_SAT>")
    out["particle_attn_bare"] = L.ParticleAttention(name="particle_attn_bare", **bare)(
        [q["e2"], q["b"], inp["m"]]
    )
    out["class_attn_bare"] = L.ClassAttention(name="class_attn_bare", **bare)(
        [q["c"], q["e2"], inp["m"]]
    )
    out["cls_token"] = L.ClassToken(result_t=ACT, name="cls_token")(q["e"])
    out["sum_pool"] = L.FxSumPool(result_t="ap_fixed<9,2,AP_RND_CONV,AP_SAT>", name="sum_pool")(
        [q["e"], inp["m"]]
    )
    assert list(out) == list(LAYERS)
    return tf.keras.Model(list(inp.values()), list(out.values()))


def make_inputs(rng):
    x = rng.normal(0, 3, (N_JETS, N, F))
    e = rng.normal(0, 4, (N_JETS, N, E))
    e2 = rng.normal(0, 3, (N_JETS, N, E))
    p = rng.normal(0, 2, (N_JETS, N, N, 4))
    ps = rng.normal(0, 2, (N_JETS, N, N, 4))
    ps = (ps + ps.transpose(0, 2, 1, 3)) / 2
    b = rng.normal(0, 6, (N_JETS, H, N, N))
    c = rng.normal(0, 4, (N_JETS, 1, E))
    m = (np.arange(N)[None] < np.array(LENGTHS)[:, None]).astype(np.float64)
    # float32 values: the Keras inputs are float32 (predict would round float64 first), the
    # C simulation gets them as doubles, exactly
    return [
        np.ascontiguousarray(np.asarray(a, np.float32), np.float64)
        for a in (x, e, e2, p, ps, b, c, m)
    ]


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(1234)
    model = build_model()
    randomise(model, rng)
    inputs = make_inputs(rng)
    outputs = model.predict(inputs, verbose=0)
    return model, inputs, dict(zip(LAYERS, outputs))


# Foldings (rows per iteration, II): every row at once; 4 rows per iteration, each over 2 cycles;
# one row per iteration over 3 cycles. The row loops, lane indices and ROM-copy indices differ;
# the arithmetic must not.
FOLDINGS = {"parallel": ("all", 1), "partial": (4, 2), "row": (1, 3)}
CASES = [(b, f) for b in ("Vivado", "Vitis") for f in FOLDINGS]


@pytest.fixture(scope="module", params=CASES, ids=[f"{b}-{f}" for b, f in CASES])
def csim(request, case, tmp_path_factory):
    model, inputs, _ = case
    backend, fold = request.param
    parallel, reuse = FOLDINGS[fold]
    hls_model = convert(
        model,
        tmp_path_factory.mktemp(f"hls_layers_{backend}_{fold}"),
        backend=backend,
        reuse_factor=reuse,
        parallel=parallel,
        hls_overrides={"LayerName": {"pair_embed": {"Symmetric": False}}},
    )
    hls_model.compile()
    outputs = hls_model.predict(inputs)
    return f"{backend} {fold}", hls_model, dict(zip(LAYERS, outputs))


@pytest.mark.parametrize("layer", list(LAYERS))
def test_layer_bit_exact(case, csim, layer):
    _, _, keras_out = case
    backend, _, hls_out = csim
    want = keras_out[layer]
    got = np.asarray(hls_out[layer]).reshape(want.shape)
    bad = np.argwhere(got != want)
    assert len(bad) == 0, (
        f"{backend} {layer} ({LAYERS[layer]}): {len(bad)} of {want.size} "
        f"values differ, first at {bad[0].tolist()}: csim "
        f"{got[tuple(bad[0])]} keras {want[tuple(bad[0])]}"
    )


def test_inputs_exercise_the_edges(case):
    """The test data reaches saturation and masked rows (else bit-exactness proves little)."""
    model, _, out = case
    for name in ("requant", "pair_embed", "particle_attn", "class_attn", "sum_pool"):
        t = model.get_layer(name).result_t
        assert np.isclose(np.abs(out[name]).max(), max(-t.min, t.max), atol=t.lsb), name
    assert np.all(out["pair_embed_sym"] == out["pair_embed_sym"].transpose(0, 1, 3, 2))


def test_hls_graph_types(csim, case):
    """Every output type is the Keras result type; input FxQuants are folded into the inputs;
    no layer type is left for hls4ml to infer."""
    from hls4ml.model.types import UnspecifiedPrecisionType

    model, _, _ = case
    _, hls_model, _ = csim
    want = keras_result_types(model)
    for node in hls_model.get_layers():
        for t in node.types.values():
            assert not isinstance(t.precision, UnspecifiedPrecisionType), (node.name, t.name)
        if node.name in want and want[node.name].startswith("ap_fixed"):
            got = T.fx_of_precision(node.get_output_variable().type.precision)
            assert got == Fx.parse(want[node.name]), node.name
    names = {node.name for node in hls_model.get_layers()}
    assert not names & {f"q_{k}" for k in "x e e2 p ps b c".split()}  # folded
    assert "requant" in names  # a cast inside the network stays
    assert str(hls_model.graph["m"].get_output_variable().type.precision) == "uint<1>"


def test_exact_types():
    """The accumulator bound is model.fixed.accum_type's; the exact types hold their extremes."""
    a, b = Fx.parse("ap_fixed<16,6>"), Fx.parse("ap_fixed<8,1>")
    bias = Fx.parse("ap_fixed<12,4>")
    for n in (1, 3, 16, 17):
        got = T.dot_accum(a, b, n, bias)
        want = accum_type(a, b, n, bias)
        assert (got.width, got.integer, got.signed) == (want.width, want.integer, want.signed)
    u = Fx.parse("ap_ufixed<10,2>")
    for x, y in [(a, b), (a, u), (u, u), (b, bias)]:
        for op, f in ((T.add_type, np.add), (T.sub_type, np.subtract), (T.mul_type, np.multiply)):
            t = op(x, y)
            ext = np.array([f(p, q) for p in (x.min, x.max) for q in (y.min, y.max)])
            fx = Fx(min(t.width, 64), t.integer, t.signed)
            assert np.array_equal(quantize_np(ext, fx), ext), (op.__name__, x, y, t)


def test_errors_are_explicit():
    x = tf.keras.Input((4,), name="x")
    float_model = tf.keras.Model(
        x, L.FxDense(3, quantized=False, name="d")(L.FxQuant(result_t=ACT, name="qx")(x))
    )
    with pytest.raises(QpartHLSError, match=r"d \(FxDense\): quantized=False"):
        hls_config(float_model)
    raw = tf.keras.Model(x, L.FxDense(3, result_t=ACT, name="d")(x))
    with pytest.raises(QpartHLSError, match=r"input x feeds d \(FxDense\) directly"):
        keras_result_types(raw)
    ok = tf.keras.Model(
        x, L.FxDense(3, result_t=ACT, name="d")(L.FxQuant(result_t=ACT, name="qx")(x))
    )
    with pytest.raises(QpartHLSError, match=r"LayerName.d.Precision"):
        hls_config(ok, hls_overrides={"LayerName": {"d": {"Precision": "ap_fixed<8,3>"}}})
    with pytest.raises(QpartHLSError, match=r"io_parallel only"):
        convert(ok, "unused", io_type="io_stream")


def test_registration_is_idempotent():
    import hls4ml

    hls.layers.extension.register()
    hls.layers.extension._registered = False
    hls.layers.extension.register()
    handlers = hls4ml.converters.get_supported_keras_layers()
    for cls in L.CUSTOM_OBJECTS:
        assert cls in handlers
    sources = hls4ml.backends.get_backend("Vitis").get_custom_source()
    assert "nnet_utils/nnet_qpart_attention.h" in sources


def test_reloaded_model_converts_the_same(case, tmp_path):
    """A model loaded from a .keras file (weight names without the layer prefix) gives the same
    firmware constants."""
    model, _, _ = case
    model.save(tmp_path / "m.keras")
    again = tf.keras.models.load_model(tmp_path / "m.keras", custom_objects=L.CUSTOM_OBJECTS)
    a = convert(model, tmp_path / "a").get_weight_variables()
    b = convert(again, tmp_path / "b").get_weight_variables()
    assert len(a) == len(b) > 20
    for wa, wb in zip(a, b):
        assert wa.name == wb.name and np.array_equal(wa.data, wb.data), wa.name
