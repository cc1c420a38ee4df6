"""PairFeatures (on-chip ParT pair features): bit-exact against an integer reference, the edge
cases (coincident and padded particles, one-particle and empty jets, saturated inputs), and
what its approximations cost against weaver-core's float64 features on generated jets."""

import numpy as np
import pytest
import tensorflow as tf
from fxref import V, cast, cast_float

from model import layers as L
from model.fixed import Fx

PAIR_T = "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"
N = 8


# the internals narrowed as part_trigger_rtl narrows them (quantization.pair_* keys), the
# tables shorter still
NARROW = dict(
    angle_t="ap_fixed<10,2,AP_RND_CONV,AP_SAT>",
    table_t="ap_ufixed<10,0,AP_RND_CONV,AP_SAT>",
    ln_t="ap_fixed<12,5,AP_RND_CONV,AP_SAT>",
    log_bits=7,
    angle_table_size=64,
    softplus_table_size=128,
)


def layer(quantized=True, **internals):
    return L.PairFeatures(result_t=PAIR_T if quantized else None, quantized=quantized, **internals)


# ------------------------------------------------------------------------ integer reference


def _ln(r, frac, lay):
    """Leading-one ln of raw integers r (value r * 2**-frac), in table_t's fraction bits."""
    t = lay.log_table
    tf_ = lay.table_t.frac
    r = np.maximum(r, 1).astype(np.int64)
    e = np.zeros_like(r)
    for k in range(1, 62):
        e += (r >= (np.int64(1) << k)).astype(np.int64)
    idx = np.where(e >= t.bits, r >> np.maximum(e - t.bits, 0), r << np.maximum(t.bits - e, 0))
    idx = idx - t.size
    ln2 = int(round(t.ln2 * 2**tf_))
    table = np.round(t.values * 2**tf_).astype(np.int64)
    return V((e - frac) * ln2 + table[idx], tf_)


def _lookup(x: V, table, size, range_bits):
    """Uniform table: index = floor(x / lsb) clipped, lsb = 2**(range_bits - log2 size)."""
    lsb_frac = int(np.log2(size)) - range_bits
    idx = np.clip(x.num >> (x.frac - lsb_frac), 0, size - 1)
    return table[idx]


def reference(kin, mask, lay):
    lpt = cast_float(kin[..., 0], lay.lpt_t)
    eta = cast_float(kin[..., 1], lay.angle_t)
    phi = cast_float(kin[..., 2], lay.angle_t)
    af, lf, tf_ = lay.angle_t.frac, lay.lpt_t.frac, lay.table_t.frac
    da = eta.num[:, :, None] - eta.num[:, None, :]
    db = phi.num[:, :, None] - phi.num[:, None, :]
    a2, b2 = da * da, db * db  # fraction 2 af
    lnmin = -(1 << (lay.ln_t.width - 1))
    d2 = a2 + b2
    ln_d2 = cast(_ln(d2, 2 * af, lay), lay.ln_t)
    ln_d2 = V(np.where(d2 > 0, ln_d2.num, lnmin), ln_d2.frac)
    ftab = np.round(lay.cosh_table.values * 2**tf_).astype(np.int64)
    gtab = np.round(lay.cos_table.values * 2**tf_).astype(np.int64)
    size, rb = lay.angle_table_size, lay.angle_t.integer
    f = _lookup(V(np.abs(da), af), ftab, size, rb)
    g = _lookup(V(np.abs(db), af), gtab, size, rb)
    c = a2 * f + b2 * g
    ln_c = cast(_ln(c, 2 * af + tf_, lay), lay.ln_t)
    ln_c = V(np.where(c > 0, ln_c.num, lnmin), ln_c.frac)
    lo = np.minimum(lpt.num[:, :, None], lpt.num[:, None, :])
    hi = np.maximum(lpt.num[:, :, None], lpt.num[:, None, :])
    d = hi - lo
    sp = np.round(lay.softplus_table.values * 2**tf_).astype(np.int64)
    s = _lookup(V(d, lf), sp, lay.softplus_table_size, lay.lpt_t.integer)
    lnf = lay.ln_t.frac
    feats = [
        V(ln_d2.num, lnf + 1),  # ln Delta = ln Delta^2 / 2
        V((lo << (lnf + 1 - lf)) + ln_d2.num, lnf + 1),
        V(-((d << (tf_ - lf)) + s), tf_),
        V(
            int(round(lay.log_table.ln2 * 2**tf_))
            + ((lpt.num[:, :, None] + lpt.num[:, None, :]) << (tf_ - lf))
            + (ln_c.num << (tf_ - lnf)),
            tf_,
        ),
    ]
    out = []
    result_t = Fx.parse(PAIR_T)
    for fv, c, sc in zip(feats, lay.center, lay.scale):
        cn, sn = int(round(c * 2**4)), int(round(sc * 2**10))
        frac = max(fv.frac, 4)
        diff = (fv.num << (frac - fv.frac)) - (cn << (frac - 4))
        y = diff * sn  # fraction frac + 10
        lim = int(lay.clip) << (frac + 10)
        y = np.clip(y, -lim, lim)
        out.append(cast(V(y, frac + 10), result_t).value())
    pm = (mask[:, :, None] * mask[:, None, :])[..., None]
    return np.stack(out, -1) * pm


# ------------------------------------------------------------------------------------ data


def jets(rng, lengths):
    n = len(lengths)
    mask = (np.arange(N)[None] < np.asarray(lengths)[:, None]).astype(np.float64)
    lpt = rng.uniform(-2.5, 7.0, (n, N))
    eta = rng.normal(0, 0.3, (n, N))
    phi = rng.normal(0, 0.3, (n, N))
    kin = np.stack([lpt, eta, phi], -1)
    # edges: coincident particles, a particle past the angle range, a huge pT hierarchy
    kin[0, 1] = kin[0, 0]
    kin[1, 2, 1:] = [2.5, -3.0]
    kin[1, 3, 0], kin[1, 4, 0] = 7.99, -7.99
    kin = np.ascontiguousarray(np.asarray(kin * mask[..., None], np.float32), np.float64)
    return kin, mask


def _case(**internals):
    rng = np.random.default_rng(11)
    lengths = [N, N, 1, 0, 5, 3, N, 2]
    kin, mask = jets(rng, lengths)
    lay = layer(**internals)
    out = lay([tf.constant(kin), tf.constant(mask)]).numpy()
    return lay, kin, mask, out


@pytest.fixture(scope="module")
def case():
    return _case()


@pytest.mark.parametrize("internals", [{}, NARROW], ids=["default", "narrow"])
def test_bit_exact_against_the_integer_reference(internals):
    lay, kin, mask, out = _case(**internals)
    assert lay.table_t.width == (10 if internals else 18)
    want = reference(kin, mask, lay)
    bad = np.argwhere(out != want)
    assert len(bad) == 0, (
        f"{len(bad)} differ, first {bad[0]}: {out[tuple(bad[0])]} vs " f"{want[tuple(bad[0])]}"
    )


def test_edges_are_defined(case):
    lay, kin, mask, out = case
    assert np.all(np.isfinite(out))
    assert np.array_equal(out, out.transpose(0, 2, 1, 3))  # symmetric
    assert not out[3].any() and not out[2][1:].any()  # empty jet; padding of a 1-particle jet
    # coincident particles (Delta = 0): ln Delta and ln m^2 at the bottom of the clip, as
    # weaver-core's eps clamp gives
    assert out[0, 0, 1, 0] == out[0, 0, 1, 3] == -5.0
    assert out[0, 0, 0, 0] == out[0, 0, 1, 0]  # the diagonal too
    # the 1-particle jet's only pair is its diagonal, defined and non-zero in ln z (ln 1/2)
    assert out[2, 0, 0, 2] != 0
    # values stay inside the clip
    assert np.abs(out).max() <= 5.0


def test_float_mode_follows_the_formulas(case):
    _, kin, mask, out = case
    flt = layer(False)([tf.constant(kin), tf.constant(mask)]).numpy()
    ok = (mask[:, :, None] * mask[:, None, :]) > 0
    # fixed point against its own float formulas: within a few LSBs of the output type
    diff = np.abs(flt - out)[ok]
    assert np.median(diff) < 2 * Fx.parse(PAIR_T).lsb


def test_cost_of_the_approximations_on_generated_jets(jet_sample):
    """Massless particles, pseudorapidity, relative angles and fixed point against weaver-core's
    features from the 4-vectors (standardised units, real pairs only)."""
    from data import features as F
    from data import reader

    files = reader.resolve_files(str(jet_sample / "test" / "*.root"))
    scheme = reader.load_label_scheme("jetclass")
    arrays = reader.load_arrays(files, "kin", 16, scheme, max_per_file=20)
    names = F.feature_names("kin")
    x, mask, vec = arrays["features"], arrays["mask"], arrays["vectors"]
    pt = np.hypot(vec[..., 0], vec[..., 1])
    kin = (
        np.stack(
            [
                np.log(np.maximum(pt, 1e-8)),
                x[..., names.index("part_deta")],
                x[..., names.index("part_dphi")],
            ],
            -1,
        )
        * mask[..., None]
    )
    want = F.pair_inputs(vec, mask)
    got = layer()([tf.constant(kin), tf.constant(mask.astype(np.float64))]).numpy()
    ok = (mask[:, :, None] * mask[:, None, :]) > 0
    off = np.triu(np.ones(ok.shape[1:], bool), 1)[None] & ok
    err = {
        k: float(np.median(np.abs(got[..., i] - want[..., i])[off]))
        for i, k in enumerate(F.PAIR_FEATURES)
    }
    # measured: see docs/model.md; the bound is a tenth of a standardised unit
    assert all(e < 0.1 for e in err.values()), err


# ------------------------------------------------------------------------------ firmware

FOLDINGS = {"parallel": ("all", 1), "partial": (4, 2), "row": (1, 3)}
# every backend and folding at the default internals; the narrow ones once (the tables' sizes
# and types reach the generated code as the layer's, no new path)
HLS_CASES = [(b, f, "default") for b in ("Vivado", "Vitis") for f in FOLDINGS]
HLS_CASES.append(("Vivado", "partial", "narrow"))


@pytest.mark.parametrize("backend,fold,internals", HLS_CASES, ids=["-".join(c) for c in HLS_CASES])
def test_firmware_bit_exact_in_every_folding(tmp_path, backend, fold, internals):
    from hls.convert import convert

    internals = NARROW if internals == "narrow" else {}
    _, kin, mask, _ = _case(**internals)
    x = tf.keras.Input((N, 3), name="kin")
    m = tf.keras.Input((N,), name="m")
    q = L.FxQuant(result_t="ap_fixed<16,6,AP_RND_CONV,AP_SAT>", name="kin_q")(x)
    pf = L.PairFeatures(result_t=PAIR_T, name="pf", **internals)
    model = tf.keras.Model([x, m], pf([q, m]))
    want = model.predict([kin, mask], verbose=0)
    parallel, reuse = FOLDINGS[fold]
    hls_model = convert(
        model, tmp_path / "prj", backend=backend, parallel=parallel, reuse_factor=reuse
    )
    hls_model.compile()
    got = np.asarray(hls_model.predict([kin, mask])).reshape(want.shape)
    bad = np.argwhere(got != want)
    assert len(bad) == 0, (
        f"{len(bad)} differ, first {bad[0]}: {got[tuple(bad[0])]} vs " f"{want[tuple(bad[0])]}"
    )
    assert np.abs(want).max() == 5.0  # the clip is reached
    if internals:  # the narrow tables are the ones in the generated code
        src = "".join(p.read_text() for p in (tmp_path / "prj" / "firmware").rglob("*.h"))
        assert "softplus_table_size = 128;" in src and "log_bits = 7;" in src


def test_whole_onchip_model_takes_the_particle_list(tmp_path):
    """part_tiny (random weights; its pair features are on chip) through hls4ml with the shipped
    vu13p folding: the top function reads particles, kinematics and the mask, no N x N array,
    and is bit-exact."""
    from weights import randomise

    from hls import firmware
    from hls.convert import convert
    from model import builder

    cfg = builder.load_config("part_tiny")
    model = builder.build_model(cfg)
    rng = np.random.default_rng(5)
    randomise(model, rng, spread=1.0)
    n, nf = cfg["data"]["n_particles"], model.inputs[0].shape[-1]
    lengths = np.array([n, 1, 0, 7, n // 2, 3])
    mask = (np.arange(n)[None] < lengths[:, None]).astype(np.float64)
    x = rng.normal(0, 2, (len(lengths), n, nf)) * mask[..., None]
    kin = (
        np.stack(
            [
                rng.uniform(-1, 6, (len(lengths), n)),
                rng.normal(0, 0.3, (len(lengths), n)),
                rng.normal(0, 0.3, (len(lengths), n)),
            ],
            -1,
        )
        * mask[..., None]
    )
    inputs = [np.ascontiguousarray(np.asarray(a, np.float32), np.float64) for a in (x, kin, mask)]
    want = model.predict(inputs, verbose=0)
    hls_model = convert(
        model, tmp_path / "prj", **firmware.convert_kwargs(firmware.load_firmware("vu13p"))
    )
    hls_model.compile()
    got = np.asarray(hls_model.predict(inputs)).reshape(want.shape)
    np.testing.assert_array_equal(got, want)
    top = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    signature = top[top.index("void myproject(") : top.index(")", top.index("void myproject("))]
    assert "kinematics[" in signature and "pairs" not in signature
    assert f"[{n * n * 4}]" not in signature.replace(" ", "")
