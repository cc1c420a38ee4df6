"""Learned per-weight widths through hls4ml: a small model trained a few steps with the EBOPs
term, some weights pruned to width 0, is bit-exact in C simulation, and the firmware weight
types are the narrowest that hold the learned values."""

import numpy as np
import pytest
import tensorflow as tf

from hls.convert import convert
from model import layers as L
from model.fixed import quantize_np

N, F, E, H = 8, 5, 16, 2
ACT = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"
LENGTHS = [3, 8, 5, 1, 6, 8, 2, 7]


def learned_widths(granularity, input_bits):
    return dict(
        granularity=granularity,
        init_fractional_bits=5.0,
        max_bits=8,
        input_bits=input_bits,
        lr_scale=20.0,
    )


def build_model():
    x = tf.keras.Input((N, F), name="x")
    p = tf.keras.Input((N, N, 4), name="p")
    m = tf.keras.Input((N,), name="m")
    h = L.FxQuant(result_t="ap_fixed<12,4,AP_RND_CONV,AP_SAT>", name="x_q")(x)
    h = L.FxDense(
        E, "relu", result_t=ACT, name="embed", learned_widths=learned_widths("weight", 12)
    )(h)
    u = L.FxQuant(result_t="ap_fixed<10,4,AP_RND_CONV,AP_SAT>", name="p_q")(p)
    u = L.PairEmbed(
        [8],
        H,
        hidden_t=ACT,
        result_t="ap_fixed<12,4,AP_RND_CONV,AP_SAT>",
        name="pair_embed",
        learned_widths=learned_widths("channel", 10),
    )(u)
    a = L.ParticleAttention(
        num_heads=H,
        norm_t=ACT,
        qkv_t=ACT,
        logit_t=ACT,
        attn_t="ap_ufixed<16,1,AP_RND_CONV,AP_SAT>",
        ctx_t=ACT,
        result_t=ACT,
        name="attn",
        learned_widths=learned_widths("weight", 16),
    )([h, u, m])
    h = L.FxAdd(result_t=ACT, name="add")([h, a])
    o = L.FxDense(3, result_t=ACT, name="head", learned_widths=learned_widths("weight", 16))(h)
    o = tf.keras.layers.Flatten(name="out", dtype="float64")(o)
    return tf.keras.Model([x, p, m], o)


def jets(rng, n):
    lengths = np.resize(LENGTHS, n)
    mask = (np.arange(N)[None] < lengths[:, None]).astype(np.float32)
    x = rng.normal(0, 2, (n, N, F)) * mask[..., None]
    p = rng.normal(0, 1.5, (n, N, N, 4))
    p = (p + p.transpose(0, 2, 1, 3)) / 2 * (mask[:, :, None] * mask[:, None, :])[..., None]
    return [np.ascontiguousarray(np.asarray(a, np.float32), np.float64) for a in (x, p, mask)]


LEARNED = ("embed", "pair_embed", "attn", "head")


@pytest.fixture(scope="module")
def case():
    tf.keras.utils.set_random_seed(11)
    rng = np.random.default_rng(11)
    model = build_model()
    layers = [model.get_layer(n) for n in LEARNED]
    model.add_loss(lambda: 2e-6 * tf.add_n([layer.ebops() for layer in layers]))
    model.compile(tf.keras.optimizers.Adam(0.02), loss="mse")
    before = [[f.numpy().copy() for _, f, _ in layer._fbits] for layer in layers]
    inputs = jets(rng, 64)
    model.fit(inputs, rng.normal(0, 1, (64, N * 3)), epochs=3, batch_size=16, verbose=0)
    moved = any(
        not np.array_equal(b, f.numpy())
        for layer, bs in zip(layers, before)
        for b, (_, f, _) in zip(bs, layer._fbits)
    )
    # prune a third of every learned kernel (width 0: f at its lowest)
    for layer in layers:
        for _, f, _ in layer._fbits:
            v = f.numpy()
            v[rng.random(v.shape) < 1 / 3] = -1.0 / layer.learned.lr_scale
            f.assign(v)
    # a kernel within +-0.12: its type has a negative number of integer bits (ap_fixed<W,-1>)
    head = model.get_layer("head")
    head.kernel.assign(np.clip(head.kernel.numpy(), -0.12, 0.12))
    test = jets(np.random.default_rng(12), 24)
    return model, layers, moved, test, model.predict(test, verbose=0)


def test_training_moves_the_widths_and_prunes(case):
    _, layers, moved, _, _ = case
    assert moved
    for layer in layers:
        kernels = [q for _, q in layer.quantized_kernels()]
        zero = np.mean(np.concatenate([k.ravel() for k in kernels]) == 0)
        assert 0.1 < zero < 0.9, (layer.name, zero)  # some pruned, not all
        widths = {int(w) for w in np.unique(np.round(layer._fbits[0][1].numpy() * 20))}
        assert len(widths) > 1, layer.name  # not one uniform width


@pytest.fixture(scope="module")
def csim(case, tmp_path_factory):
    model, *_ = case
    hls_model = convert(model, tmp_path_factory.mktemp("hls_learned"), backend="Vivado")
    hls_model.compile()
    return hls_model


def test_learned_widths_bit_exact(case, csim):
    _, _, _, test, keras_out = case
    got = np.asarray(csim.predict(test)).reshape(keras_out.shape)
    bad = np.flatnonzero(np.any(got != keras_out, axis=1))
    assert len(bad) == 0, f"{len(bad)} of {len(got)} jets differ, first {bad[0]}"
    assert np.std(keras_out) > 0


def test_firmware_weights_are_the_learned_values(case, csim):
    """Each layer's weight type is the narrowest holding its learned values (narrower than
    max_bits), and the firmware constants are those values, zeros included."""
    _, layers, _, _, _ = case
    for layer in layers:
        node = csim.graph[layer.name]
        t = layer.weight_t
        assert node.get_attr("weight_fx") == str(t), layer.name
        want = np.concatenate([q.ravel() for _, q in layer.quantized_kernels()])
        names = ["wq", "wk", "wv", "wo"] if layer.name == "attn" else ["weight"]
        got = np.concatenate([np.asarray(node.get_weights(n).data).ravel() for n in names])
        np.testing.assert_array_equal(got, want, err_msg=layer.name)
        assert np.array_equal(quantize_np(want, t), want)
        assert t.width <= layer.learned.max_bits and np.sum(want == 0) > 0
        assert 0 < layer.product_bits < t.width + 1
    assert layers[-1].weight_t.integer < 0
