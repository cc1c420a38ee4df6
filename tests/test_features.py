"""Particle and pair features against direct, independent formulas."""

import math

import awkward as ak
import numpy as np
import pytest
from jetfiles import random_jets

from data import features as F


def _pair_direct(a, b, eps=1e-8):
    """ln Delta, ln kT, ln z, ln m^2 of one pair, written out with math (no numpy broadcasting)."""

    def kin(v):
        px, py, pz, e = (float(t) for t in v)
        return (
            math.hypot(px, py),
            0.5 * math.log(1 + 2 * pz / max(e - pz, 1e-20)),
            math.atan2(py, px),
        )

    pti, yi, phii = kin(a)
    ptj, yj, phij = kin(b)
    dphi = (phii - phij + math.pi) % (2 * math.pi) - math.pi
    delta = math.sqrt((yi - yj) ** 2 + dphi**2)
    ptmin = min(pti, ptj)
    s = [float(x) + float(y) for x, y in zip(a, b)]
    m2 = s[3] ** 2 - s[0] ** 2 - s[1] ** 2 - s[2] ** 2
    return [
        math.log(max(delta, eps)),
        math.log(max(ptmin * delta, eps)),
        math.log(max(ptmin / max(pti + ptj, eps), eps)),
        math.log(max(m2, eps)),
    ]


def test_pair_features_match_direct_formula():
    rng = np.random.default_rng(1)
    pt = rng.exponential(10, (3, 6)) + 0.1
    eta, phi = rng.normal(0, 0.5, (3, 6)), rng.uniform(-np.pi, np.pi, (3, 6))
    mass = rng.uniform(0, 0.5, (3, 6))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    v = np.stack([px, py, pz, e], -1)
    raw = F.pair_features_raw(v)
    assert raw.shape == (3, 6, 6, 4)
    np.testing.assert_array_equal(raw, raw.transpose(0, 2, 1, 3))  # exactly, for the firmware
    for j in range(3):
        for a in range(6):
            for b in range(6):
                np.testing.assert_allclose(
                    raw[j, a, b], _pair_direct(v[j, a], v[j, b]), rtol=1e-9, atol=1e-9
                )


def test_pair_features_phi_wraparound():
    # Two particles either side of phi = pi are close, not 2 pi apart.
    v = np.array(
        [
            [
                [10 * np.cos(3.1), 10 * np.sin(3.1), 0, 10],
                [10 * np.cos(-3.1), 10 * np.sin(-3.1), 0, 10],
            ]
        ]
    )
    delta = np.exp(F.pair_features_raw(v)[0, 0, 1, 0])
    assert delta == pytest.approx(2 * np.pi - 6.2, abs=1e-9)


def test_pair_inputs_zero_on_padding_and_standardised():
    rng = np.random.default_rng(2)
    v = rng.normal(0, 5, (2, 5, 4))
    v[..., 3] = np.linalg.norm(v[..., :3], axis=-1) + 1
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], np.float32)
    out = F.pair_inputs(v, mask)
    assert out.shape == (2, 5, 5, 4) and out.dtype == np.float32
    assert np.all(out[0, 3:, :, :] == 0) and np.all(out[0, :, 3:, :] == 0)
    center = np.array([F.PAIR_STD[k][0] for k in F.PAIR_FEATURES])
    scale = np.array([F.PAIR_STD[k][1] for k in F.PAIR_FEATURES])
    expect = np.clip((F.pair_features_raw(v)[1] - center) * scale, -F.CLIP, F.CLIP)
    np.testing.assert_allclose(out[1], expect, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("feature_set,n_features", [("kin", 7), ("kinpid", 13), ("full", 17)])
def test_particle_inputs_shapes_order_and_mask(feature_set, n_features):
    rng = np.random.default_rng(3)
    jets = ak.Array(random_jets(20, rng, max_particles=30))
    n = 16
    x, mask, vec = F.particle_inputs(jets, feature_set, n)
    assert x.shape == (20, n, n_features) and mask.shape == (20, n) and vec.shape == (20, n, 4)
    counts = ak.to_numpy(ak.num(jets["part_px"]))
    np.testing.assert_array_equal(mask.sum(1), np.minimum(counts, n))
    assert np.all(x[mask == 0] == 0) and np.all(vec[mask == 0] == 0)
    pt = np.hypot(vec[..., 0], vec[..., 1])
    for j in range(20):
        k = int(mask[j].sum())
        assert np.all(np.diff(pt[j, :k]) <= 1e-4), "particles must be sorted by pT"
        # The leading particle is the highest-pT one of the whole jet, truncation keeps the top n.
        full_pt = np.hypot(ak.to_numpy(jets["part_px"][j]), ak.to_numpy(jets["part_py"][j]))
        np.testing.assert_allclose(pt[j, :k], np.sort(full_pt)[::-1][:k], rtol=1e-5)
    names = F.feature_names(feature_set)
    i = names.index("part_pt_log")
    lead = x[:, 0, i]
    np.testing.assert_allclose(
        lead, np.clip((np.log(pt[:, 0]) - 1.7) * 0.7, -5, 5), rtol=1e-4, atol=1e-4
    )
    j = names.index("part_deta")
    assert np.abs(x[..., j]).max() < 2.0  # raw, not standardised


def test_unknown_feature_set():
    with pytest.raises(F.FeatureError, match="unknown feature set 'kinn'"):
        F.feature_names("kinn")
