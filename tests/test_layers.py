"""Each quantized layer against the integer reference in fxref (written independently)."""

import fxref as R
import numpy as np
import pytest
import tensorflow as tf

from model import layers as L
from model import tables
from model.fixed import Fx, quantize_np

ACT = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"
WRAP = "ap_fixed<10,3,AP_TRN,AP_WRAP>"
ATTN = dict(
    norm_t=ACT,
    qkv_t=ACT,
    logit_t="ap_fixed<16,6,AP_RND_CONV,AP_SAT>",
    attn_t="ap_ufixed<16,1,AP_RND_CONV,AP_SAT>",
    ctx_t=ACT,
    result_t=ACT,
    exp_table_size=1024,
    exp_range=3,
    exp_t="ap_ufixed<18,1,AP_RND_CONV,AP_SAT>",
    inv_table_size=512,
    inv_t="ap_ufixed<18,1,AP_RND_CONV,AP_SAT>",
    norm_table_size=1024,
    norm_var_range=4,
    norm_rsqrt_t="ap_ufixed<18,6,AP_RND_CONV,AP_SAT>",
)


def fx(s):
    return Fx.parse(s)


def rand_act(rng, shape, t=ACT, scale=3.0):
    """Random values of type t (wide enough to hit saturation now and then)."""
    return R.cast_float(rng.normal(0, scale, shape), fx(t))


def randomise(layer, rng, scale=0.6):
    layer.set_weights([rng.normal(0, scale, w.shape) for w in layer.get_weights()])


def qw(layer, w):
    return R.quantized_bits_weight(w, layer.weight_bits, layer.weight_integer)


def qb(layer, b):
    return R.quantized_bits_weight(b, layer.bias_bits, layer.bias_integer)


def run(layer, *inputs):
    args = [tf.constant(x, tf.float64) for x in inputs]
    return layer(args if len(args) > 1 else args[0]).numpy()


def ref_dense(x, layer, kernel, bias, result_t, relu):
    y = R.cast(R.matmul(x, qw(layer, kernel), qb(layer, bias)), result_t)
    return R.V(np.maximum(y.num, 0), y.frac) if relu else y


def ref_layernorm(x, layer, gamma, beta, size, var_range, rsqrt_t, result_t):
    n = x.num.shape[-1]
    k = int(np.log2(n))
    s = x.num.sum(-1, keepdims=True)
    d = R.V((x.num << k) - s, x.frac + k)
    var = R.V((d.num**2).sum(-1, keepdims=True), 2 * d.frac + k)
    r = R.table(lambda v: 1 / np.sqrt(v), size, var_range, rsqrt_t).num[
        R.table_index(var, size, var_range)
    ]
    g, b = qb(layer, gamma), qb(layer, beta)
    prod = R.V(d.num * r * g.num, d.frac + rsqrt_t.frac + g.frac)
    return R.cast(R.V(prod.num + b.align(prod.frac), prod.frac), result_t)


def ref_attention(layer, xq, xkv, mask, bias=None):
    """Multi-head attention in integers; xq (B,Q,E), xkv (B,K,E) already normalised."""
    w = {v.name.split("/")[-1].split(":")[0]: v.numpy() for v in layer.weights}
    t = {
        k: fx(ATTN[k])
        for k in ("qkv_t", "logit_t", "attn_t", "ctx_t", "result_t", "exp_t", "inv_t")
    }
    H, E = layer.num_heads, xq.num.shape[-1]
    d = E // H

    def proj(x, c):
        y = R.cast(R.matmul(x, qw(layer, w[f"w{c}"]), qb(layer, w[f"b{c}"])), t["qkv_t"])
        return R.V(y.num.reshape(*y.num.shape[:2], H, d).transpose(0, 2, 1, 3), y.frac)

    q, k, v = proj(xq, "q"), proj(xkv, "k"), proj(xkv, "v")
    shift = int(round(np.log2(np.sqrt(d))))
    logits = R.V(np.einsum("bhqd,bhkd->bhqk", q.num, k.num), q.frac + k.frac + shift)
    if bias is not None:
        f = max(logits.frac, bias.frac)
        logits = R.V(logits.align(f) + bias.align(f), f)
    logits = R.cast(logits, t["logit_t"])
    keep = mask[:, None, None, :] > 0
    lowest = -(1 << (t["logit_t"].width - 1))
    top = np.where(keep, logits.num, lowest).max(-1, keepdims=True)
    exp_tab = R.table(lambda z: np.exp(-z), ATTN["exp_table_size"], ATTN["exp_range"], t["exp_t"])
    idx = R.table_index(
        R.V(top - logits.num, logits.frac), ATTN["exp_table_size"], ATTN["exp_range"]
    )
    e = np.where(keep, exp_tab.num[idx], 0)
    total = R.V(e.sum(-1, keepdims=True), t["exp_t"].frac)
    n_keys = xkv.num.shape[1]
    inv_range = int(np.ceil(np.log2(n_keys + 1)))
    inv_tab = R.table(lambda s: 1 / s, ATTN["inv_table_size"], inv_range, t["inv_t"])
    r = inv_tab.num[R.table_index(total, ATTN["inv_table_size"], inv_range)]
    a = R.cast(R.V(e * r, t["exp_t"].frac + t["inv_t"].frac), t["attn_t"])
    ctx = R.cast(R.V(np.einsum("bhqk,bhkd->bhqd", a.num, v.num), a.frac + v.frac), t["ctx_t"])
    ctx = R.V(ctx.num.transpose(0, 2, 1, 3).reshape(*xq.num.shape[:2], E), ctx.frac)
    return R.cast(R.matmul(ctx, qw(layer, w["wo"]), qb(layer, w["bo"])), t["result_t"])


def padding_mask(batch, n, rng):
    counts = rng.integers(1, n + 1, batch)
    counts[0] = n
    return (np.arange(n)[None] < counts[:, None]).astype(np.float64)


def test_fxquant_matches_float_cast():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 4, (50, 8)).astype(np.float32)
    for t in (ACT, WRAP, "ap_ufixed<8,2,AP_RND,AP_SAT>"):
        y = run(L.FxQuant(result_t=t), x)
        np.testing.assert_array_equal(y, R.cast_float(x, fx(t)).value())


def test_weight_quantizer_is_ap_fixed_rnd_conv_sat():
    w = np.linspace(-1.2, 1.2, 4001)
    np.testing.assert_array_equal(
        quantize_np(w, L.weight_fx(8, 0)), R.quantized_bits_weight(w, 8, 0).value()
    )


@pytest.mark.parametrize("relu,result_t", [(True, ACT), (False, WRAP)])
def test_fxdense(relu, result_t):
    rng = np.random.default_rng(1)
    layer = L.FxDense(12, "relu" if relu else "linear", result_t=result_t)
    x = rand_act(rng, (4, 6, 9))
    layer.build((None, 6, 9))
    randomise(layer, rng)
    kernel, bias = layer.get_weights()
    expect = ref_dense(x, layer, kernel, bias, fx(result_t), relu)
    np.testing.assert_array_equal(run(layer, x.value()), expect.value())


def test_fxadd_saturates_and_wraps():
    rng = np.random.default_rng(2)
    a, b = rand_act(rng, (5, 7), scale=20), rand_act(rng, (5, 7), scale=20)
    for t in (ACT, WRAP):
        expect = R.cast(R.V(a.num + b.num, a.frac), fx(t))
        np.testing.assert_array_equal(
            run(L.FxAdd(result_t=t), a.value(), b.value()), expect.value()
        )


def test_fxlayernorm():
    rng = np.random.default_rng(3)
    layer = L.FxLayerNorm(
        table_size=1024, var_range=4, rsqrt_t="ap_ufixed<18,6,AP_RND_CONV,AP_SAT>", result_t=ACT
    )
    x = rand_act(rng, (6, 5, 16), scale=1.0)
    x.num[0, 0] = 0  # all-equal row: zero variance, first table entry
    layer.build((None, 5, 16))
    randomise(layer, rng, 1.0)
    gamma, beta = layer.get_weights()
    expect = ref_layernorm(
        x, layer, gamma, beta, 1024, 4, fx("ap_ufixed<18,6,AP_RND_CONV,AP_SAT>"), fx(ACT)
    )
    np.testing.assert_array_equal(run(layer, x.value()), expect.value())


def test_pair_embed():
    rng = np.random.default_rng(4)
    layer = L.PairEmbed([8, 6], num_heads=3, hidden_t=ACT, result_t=WRAP)
    x = rand_act(rng, (3, 5, 5, 4), "ap_fixed<10,4,AP_RND_CONV,AP_SAT>")
    x = R.V((x.num + x.num.transpose(0, 2, 1, 3)) // 2, x.frac)  # symmetric, like the data
    layer.build((None, 5, 5, 4))
    randomise(layer, rng)
    w = layer.get_weights()
    h = ref_dense(x, layer, w[0], w[1], fx(ACT), True)
    h = ref_dense(h, layer, w[2], w[3], fx(ACT), True)
    out = ref_dense(h, layer, w[4], w[5], fx(WRAP), False)
    y = run(layer, x.value())
    np.testing.assert_array_equal(y, out.value().transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(y, y.transpose(0, 1, 3, 2))


def _attention_weights(layer, rng):
    randomise(layer, rng, 0.5)
    ws = layer.get_weights()
    names = [v.name.split("/")[-1].split(":")[0] for v in layer.weights]
    return dict(zip(names, ws))


def test_particle_attention_with_bias_and_mask():
    rng = np.random.default_rng(5)
    B, N, E, H = 5, 8, 16, 2
    layer = L.ParticleAttention(num_heads=H, **ATTN)
    layer.build([(None, N, E), (None, H, N, N), (None, N)])
    w = _attention_weights(layer, rng)
    x = rand_act(rng, (B, N, E), scale=1.5)
    bias = rand_act(rng, (B, H, N, N), "ap_fixed<12,4,AP_RND_CONV,AP_SAT>", scale=2.0)
    mask = padding_mask(B, N, rng)
    h = ref_layernorm(
        x, layer, w["norm_gamma"], w["norm_beta"], 1024, 4, fx(ATTN["norm_rsqrt_t"]), fx(ACT)
    )
    expect = ref_attention(layer, h, h, mask, bias)
    y = run(layer, x.value(), bias.value(), mask)
    np.testing.assert_array_equal(y, expect.value())
    # Padded particles never change a real particle's output.
    x2 = x.value().copy()
    x2[mask == 0] = rng.normal(0, 5, (int((mask == 0).sum()), E)).round(3)
    b2 = bias.value().copy()
    b2[:, :, :, :][np.broadcast_to(mask[:, None, None, :] == 0, b2.shape)] = 7.0
    y2 = run(layer, x2, b2, mask)
    np.testing.assert_array_equal(y2[mask > 0], y[mask > 0])


def test_class_attention_and_token():
    rng = np.random.default_rng(6)
    B, N, E, H = 4, 6, 16, 4
    layer = L.ClassAttention(num_heads=H, **ATTN)
    layer.build([(None, 1, E), (None, N, E), (None, N)])
    w = _attention_weights(layer, rng)
    token = L.ClassToken(result_t=ACT)
    token.build((None, N, E))
    token.set_weights([rng.normal(0, 2, (1, 1, E))])
    x = rand_act(rng, (B, N, E), scale=1.5)
    mask = padding_mask(B, N, rng)
    cls = run(token, x.value())
    expect_cls = R.cast_float(np.broadcast_to(token.get_weights()[0], (B, 1, E)), fx(ACT))
    np.testing.assert_array_equal(cls, expect_cls.value())
    norm = dict(size=1024, var_range=4, rsqrt_t=fx(ATTN["norm_rsqrt_t"]), result_t=fx(ACT))
    hc = ref_layernorm(expect_cls, layer, w["norm_gamma"], w["norm_beta"], **norm)
    hx = ref_layernorm(x, layer, w["norm_gamma"], w["norm_beta"], **norm)
    keys = R.V(np.concatenate([hc.num, hx.num], axis=1), hc.frac)
    full_mask = np.concatenate([np.ones((B, 1)), mask], axis=1)
    expect = ref_attention(layer, hc, keys, full_mask)
    y = run(layer, cls, x.value(), mask)
    assert y.shape == (B, 1, E)
    np.testing.assert_array_equal(y, expect.value())


def _table_bound(table, func, derivative_max):
    """Largest error of a truncating, centre-valued table: half a bin times the steepest
    slope, plus half an LSB of the value type."""
    return 0.5 * table.index_t.lsb * derivative_max + 0.5 * table.value_t.lsb


def test_exp_and_inverse_tables_within_bound():
    exp_t, inv_t = fx(ATTN["exp_t"]), fx(ATTN["inv_t"])
    et = tables.ExpTable(1024, 3, exp_t)
    d = np.linspace(0, 7.99, 20001)
    err = np.abs(et.values[et.index(d)] - np.exp(-d))
    assert err.max() <= _table_bound(et, np.exp, 1.0)
    it = tables.InvTable(512, 20, inv_t)
    s = np.linspace(1, 20, 20001)
    err = np.abs(it.values[it.index(s)] - 1 / s)
    # 1/s is steepest at the smallest s the table is used for (s >= 1; the bin holding 1
    # starts up to one bin below it).
    assert err.max() <= _table_bound(it, None, 1 / (1 - it.index_t.lsb) ** 2)


def test_softmax_table_path_within_computed_bound():
    """The attention weights of the table path vs exact softmax of the same logits."""
    rng = np.random.default_rng(7)
    logits = R.cast_float(rng.normal(0, 1.5, (2000, 12)), fx(ATTN["logit_t"])).value()
    layer = L.ParticleAttention(num_heads=2, **ATTN)
    layer.build([(None, 12, 16), (None, 2, 12, 12), (None, 12)])
    keep = tf.ones(logits.shape, bool)
    p = layer._softmax_fx(tf.constant(logits), keep).numpy()
    exact = np.exp(logits - logits.max(1, keepdims=True))
    exact /= exact.sum(1, keepdims=True)
    et, it = layer.exp_table, layer.inv_table
    e_err = _table_bound(et, None, 1.0)  # on each e_j <= 1 (d >= 0)
    s = np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)
    s_err = 12 * e_err  # on the sum of 12 terms
    inv_err = _table_bound(it, None, 1.0) + s_err  # slope of 1/s is <= 1 for s >= 1
    # p = e * r: |dp| <= |de| r + e |dr| + half an LSB of attn_t, with r <= 1/s + inv_err.
    bound = (
        e_err * (1 / s + inv_err)
        + np.exp(logits - logits.max(1, keepdims=True)) * inv_err
        + 0.5 * fx(ATTN["attn_t"]).lsb
    )
    assert np.all(np.abs(p - exact) <= bound + 1e-12)
    assert np.abs(p - exact).max() > 0  # the table path is an approximation, not a copy


def test_layernorm_table_within_bound():
    rng = np.random.default_rng(8)
    layer = L.FxLayerNorm(
        table_size=1024,
        var_range=4,
        rsqrt_t="ap_ufixed<18,6,AP_RND_CONV,AP_SAT>",
        result_t="ap_fixed<24,6,AP_RND_CONV,AP_SAT>",
    )
    x = rand_act(rng, (3000, 16), scale=1.0).value()
    layer.build((None, 16))
    y = run(layer, x)
    d = x - x.mean(1, keepdims=True)
    var = (d**2).mean(1, keepdims=True)
    exact = d / np.sqrt(var)
    tab = layer.norm.table
    lo = np.maximum(var - tab.index_t.lsb, 0.5 * tab.index_t.lsb)  # the bin's lower edge
    slope = 0.5 * lo**-1.5  # |d(1/sqrt v)/dv| there
    r_err = 0.5 * tab.index_t.lsb * slope + 0.5 * tab.value_t.lsb
    bound = np.abs(d) * r_err + 0.5 * 2.0**-18
    assert np.all(np.abs(y - exact) <= bound + 1e-12)


def test_float_mode_is_plain_float():
    rng = np.random.default_rng(9)
    layer = L.FxDense(5, "relu", quantized=False)
    x = rng.normal(size=(3, 4)).astype(np.float32)
    layer.build((None, 4))
    k, b = layer.get_weights()
    np.testing.assert_allclose(layer(x).numpy(), np.maximum(x @ k + b, 0), rtol=1e-6)
    assert layer.dtype == "float32"
