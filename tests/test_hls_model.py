"""A whole small ParT through hls4ml: C simulation bit-exact with Keras on every jet, per layer
(hls4ml trace) and at the output, and padding never changes the firmware's answer.

The model follows model/builder.py's structure (embedding, pair embedding, a particle block with
its FFN, class token, a class block, head) at a small size, built here so that this test depends
on model/layers.py only. Random weights past the weight range and wide inputs make activations,
logits and tables saturate and round at their boundaries.
"""

import numpy as np
import pytest
import tensorflow as tf
from weights import randomise

from hls.convert import convert, keras_result_types
from model import layers as L

N, F, E, H, CLASSES = 8, 7, 16, 2, 10
ACT = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"
N_JETS = 40


def build_model():
    x = tf.keras.Input((N, F), name="particles")
    p = tf.keras.Input((N, N, 4), name="pairs")
    m = tf.keras.Input((N,), name="mask")
    attn = dict(
        num_heads=H,
        norm_t=ACT,
        qkv_t=ACT,
        logit_t="ap_fixed<16,6,AP_RND_CONV,AP_SAT>",
        attn_t="ap_ufixed<16,1,AP_RND_CONV,AP_SAT>",
        ctx_t=ACT,
        result_t=ACT,
    )
    h = L.FxQuant(result_t="ap_fixed<12,4,AP_RND_CONV,AP_SAT>", name="particles_q")(x)
    h = L.FxDense(E, "relu", result_t=ACT, name="embed_0")(h)
    u = L.FxQuant(result_t="ap_fixed<10,4,AP_RND_CONV,AP_SAT>", name="pairs_q")(p)
    u = L.PairEmbed(
        [8], H, hidden_t=ACT, result_t="ap_fixed<12,4,AP_RND_CONV,AP_SAT>", name="pair_embed"
    )(u)

    def ffn(y, prefix):
        z = L.FxLayerNorm(result_t=ACT, name=f"{prefix}_norm")(y)
        z = L.FxDense(32, "relu", result_t=ACT, name=f"{prefix}_fc1")(z)
        z = L.FxDense(E, result_t=ACT, name=f"{prefix}_fc2")(z)
        return L.FxAdd(result_t=ACT, name=f"{prefix}_add")([y, z])

    a = L.ParticleAttention(name="block0_attn", **attn)([h, u, m])
    h = L.FxAdd(result_t=ACT, name="block0_attn_add")([h, a])
    h = ffn(h, "block0_ffn")
    c = L.ClassToken(result_t=ACT, name="cls_token")(h)
    a = L.ClassAttention(name="cls0_attn", **attn)([c, h, m])
    c = L.FxAdd(result_t=ACT, name="cls0_attn_add")([c, a])
    c = ffn(c, "cls0_ffn")
    c = L.FxLayerNorm(result_t=ACT, name="head_norm")(c)
    o = L.FxDense(CLASSES, result_t=ACT, name="head")(c)
    o = tf.keras.layers.Flatten(name="logits", dtype="float64")(o)
    return tf.keras.Model([x, p, m], o)


def jets(rng, lengths, garbage=False):
    """Particle features, symmetric pair features and masks, as float32 values (the Keras
    inputs are float32). Padded entries are zero, or symmetric garbage with `garbage`."""
    n = len(lengths)
    mask = (np.arange(N)[None] < np.asarray(lengths)[:, None]).astype(np.float32)
    x = rng.normal(0, 3, (n, N, F))
    p = rng.normal(0, 2, (n, N, N, 4))
    p = (p + p.transpose(0, 2, 1, 3)) / 2
    pair_mask = (mask[:, :, None] * mask[:, None, :])[..., None]
    if garbage:
        x = np.where(mask[..., None] > 0, x, rng.normal(0, 20, x.shape))
        junk = rng.normal(0, 20, p.shape)
        junk = (junk + junk.transpose(0, 2, 1, 3)) / 2
        p = np.where(pair_mask > 0, p, junk)
    else:
        x, p = x * mask[..., None], p * pair_mask
    return [np.ascontiguousarray(np.asarray(a, np.float32), np.float64) for a in (x, p, mask)]


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(2024)
    model = build_model()
    randomise(model, rng, spread=2.0)
    lengths = rng.integers(1, N + 1, N_JETS)
    lengths[:3] = [1, N, N // 2]
    inputs = jets(rng, lengths)
    return model, inputs, lengths, model.predict(inputs, verbose=0)


@pytest.fixture(scope="module", params=["Vivado", "Vitis"])
def csim(request, case, tmp_path_factory):
    model, inputs, _, _ = case
    backend = request.param
    names = [n for n in keras_result_types(model) if n not in ("particles", "pairs", "mask")]
    over = {"LayerName": {n: {"Trace": True} for n in names}}
    hls_model = convert(
        model, tmp_path_factory.mktemp(f"hls_model_{backend}"), backend=backend, hls_overrides=over
    )
    hls_model.compile()
    return backend, hls_model


def test_model_bit_exact(case, csim):
    _, inputs, _, keras_out = case
    backend, hls_model = csim
    got = np.asarray(hls_model.predict(inputs)).reshape(keras_out.shape)
    bad = np.flatnonzero(np.any(got != keras_out, axis=1))
    assert len(bad) == 0, (
        f"{backend}: {len(bad)} of {len(got)} jets differ, first {bad[0]}: "
        f"csim {got[bad[0]]} keras {keras_out[bad[0]]}"
    )


def test_padding_never_changes_the_output(case, csim):
    model, inputs, lengths, keras_out = case
    _, hls_model = csim
    rng = np.random.default_rng(7)
    other = jets(rng, lengths, garbage=True)
    mask = inputs[2] > 0
    other[0] = np.where(mask[..., None], inputs[0], other[0])
    pair_mask = (mask[:, :, None] & mask[:, None, :])[..., None]
    other[1] = np.where(pair_mask, inputs[1], other[1])
    assert not np.array_equal(other[0], inputs[0]) and not np.array_equal(other[1], inputs[1])
    got = np.asarray(hls_model.predict(other)).reshape(keras_out.shape)
    np.testing.assert_array_equal(got, keras_out)
    np.testing.assert_array_equal(model.predict(other, verbose=0), keras_out)


def test_every_layer_bit_exact_in_the_trace(case, csim):
    """hls4ml's trace: each layer's C++ output against the Keras layer's, jet by jet."""
    model, inputs, _, _ = case
    _, hls_model = csim
    _, trace = hls_model.trace(inputs)
    names = [n for n in trace if n in {layer.name for layer in model.layers}]
    assert len(names) >= 15, sorted(trace)
    probe = tf.keras.Model(model.inputs, [model.get_layer(n).output for n in names])
    saturated = 0
    for name, want in zip(names, probe.predict(inputs, verbose=0)):
        got = np.asarray(trace[name]).reshape(want.shape)
        np.testing.assert_array_equal(got, want, err_msg=name)
        t = model.get_layer(name).result_t
        saturated += int(np.sum((want == t.max) | (want == t.min)))
    assert saturated > 0  # the data reaches the types' limits
