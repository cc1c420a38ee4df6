"""Particle and pair features of ParT, computed from JetClass branches.

Particle features follow the ParT JetClass data configs (`kin`, `kinpid`, `full`): the same
derived variables, the same manual standardisation `(x - center) * scale` clipped to [-5, 5],
raw (unclipped) where the config says `null`. Particles are sorted by pT, truncated or
zero-padded to N, and a mask marks the real ones. Padding is constant zero (ParT's configs wrap
the jet around for training; zero padding with a mask is what the firmware sees).

Pair features follow weaver-core's `pairwise_lv_fts` (ln Delta, ln kT, ln z, ln m^2 with the
same eps clamps, rapidity/phi from the 4-vectors), then a fixed standardisation of our own so
that an 8-bit input quantiser sees values of order one. They are zero where either particle is
padding.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from infra.errors import QpartError

CLIP = 5.0

# name -> (center, scale, clip_min, clip_max); center None = raw, no clip.
_STD = {
    "part_pt_log": (1.7, 0.7, -CLIP, CLIP),
    "part_e_log": (2.0, 0.7, -CLIP, CLIP),
    "part_logptrel": (-4.7, 0.7, -CLIP, CLIP),
    "part_logerel": (-4.7, 0.7, -CLIP, CLIP),
    "part_deltaR": (0.2, 4.0, -CLIP, CLIP),
    "part_d0err": (0.0, 1.0, 0.0, 1.0),
    "part_dzerr": (0.0, 1.0, 0.0, 1.0),
}

_KIN = ["part_pt_log", "part_e_log", "part_logptrel", "part_logerel", "part_deltaR"]
_PID = [
    "part_charge",
    "part_isChargedHadron",
    "part_isNeutralHadron",
    "part_isPhoton",
    "part_isElectron",
    "part_isMuon",
]
_IP = ["part_d0", "part_d0err", "part_dz", "part_dzerr"]
_ANGLES = ["part_deta", "part_dphi"]

FEATURE_SETS = {
    "kin": _KIN + _ANGLES,
    "kinpid": _KIN + _PID + _ANGLES,
    "full": _KIN + _PID + _IP + _ANGLES,
}

PAIR_FEATURES = ("ln_delta", "ln_kt", "ln_z", "ln_m2")
# (center, scale) per pair feature: the medians and 1-99% ranges measured on generated jets
# (1000 per class) put the bulk in about [-2, 2];
# then clipped to [-CLIP, CLIP] like the particle features.
PAIR_STD = {
    "ln_delta": (-1.5, 0.6),
    "ln_kt": (0.0, 0.6),
    "ln_z": (-1.5, 0.6),
    "ln_m2": (1.0, 0.4),
}

VECTOR_BRANCHES = ("part_px", "part_py", "part_pz", "part_energy")


class FeatureError(QpartError, ValueError):
    """A feature set or input that cannot be turned into model inputs."""


def feature_names(feature_set: str) -> list[str]:
    if feature_set not in FEATURE_SETS:
        raise FeatureError(
            f"unknown feature set {feature_set!r}; choose one of {sorted(FEATURE_SETS)}"
        )
    return list(FEATURE_SETS[feature_set])


def required_branches(feature_set: str) -> list[str]:
    """The ROOT branches a feature set reads (for the reader's up-front check)."""
    names = feature_names(feature_set)
    branches = list(VECTOR_BRANCHES) + ["part_deta", "part_dphi", "jet_pt", "jet_energy"]
    for name in names:
        if name in ("part_d0", "part_dz"):
            branches.append(name + "val")
        elif name not in _KIN:
            branches.append(name)
    return list(dict.fromkeys(branches))


def _derived(p, jet, name):
    """One feature from dense padded particle columns `p` and per-jet columns `jet`."""
    pt = np.hypot(p["part_px"], p["part_py"])
    if name == "part_pt_log":
        return np.log(pt)
    if name == "part_e_log":
        return np.log(p["part_energy"])
    if name == "part_logptrel":
        return np.log(pt / jet["jet_pt"][:, None])
    if name == "part_logerel":
        return np.log(p["part_energy"] / jet["jet_energy"][:, None])
    if name == "part_deltaR":
        return np.hypot(p["part_deta"], p["part_dphi"])
    if name in ("part_d0", "part_dz"):
        return np.tanh(p[name + "val"])
    return p[name]


def _pad(jagged, n):
    """Jagged (jets, var) -> dense float64 (jets, n), zero padded / truncated."""
    padded = ak.fill_none(ak.pad_none(jagged, n, axis=1, clip=True), 0.0)
    return ak.to_numpy(padded).astype(np.float64)


def particle_inputs(arrays, feature_set: str, n_particles: int):
    """Jets' branches (awkward record array) -> (features (J,N,F), mask (J,N), vectors (J,N,4)).

    Particles are ordered by pT, highest first; the mask is 1.0 for real particles and every
    feature of a padded slot is 0.
    """
    names = feature_names(feature_set)
    order = ak.argsort(np.hypot(arrays["part_px"], arrays["part_py"]), axis=1, ascending=False)
    particle_branches = [b for b in required_branches(feature_set) if b.startswith("part_")]
    p = {b: _pad(arrays[b][order], n_particles) for b in particle_branches}
    jet = {b: ak.to_numpy(arrays[b]).astype(np.float64) for b in ("jet_pt", "jet_energy")}
    mask = _pad(ak.ones_like(arrays["part_energy"]), n_particles)
    real = mask > 0
    # Padded slots hold zero momenta: give them a harmless value so that the logs stay finite.
    for b in ("part_px", "part_energy"):
        p[b] = np.where(real, p[b], 1.0)
    cols = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in names:
            values = _derived(p, jet, name)
            if name in _STD:
                center, scale, lo, hi = _STD[name]
                values = np.clip((values - center) * scale, lo, hi)
            cols.append(np.where(real, values, 0.0))
    features = np.stack(cols, axis=-1).astype(np.float32)
    vectors = np.stack([np.where(real, p[b], 0.0) for b in VECTOR_BRANCHES], -1).astype(np.float32)
    return features, mask.astype(np.float32), vectors


# per-particle kinematics from which the firmware computes the pair features on chip
# (model.layers.PairFeatures): ln pT (GeV) and eta, phi relative to the jet axis
KINEMATICS = ("ln_pt", "deta", "dphi")


def particle_kinematics(features, feature_set: str, vectors, mask) -> np.ndarray:
    """(J,N,F) features of `feature_set`, (J,N,4) vectors, (J,N) mask -> (J,N,3) float32
    [ln pT, part_deta, part_dphi], zero for padding. The angles are the release's own
    branches (every feature set carries them raw); pT comes from part_px, part_py."""
    names = feature_names(feature_set)
    pt = np.hypot(vectors[..., 0].astype(np.float64), vectors[..., 1].astype(np.float64))
    with np.errstate(divide="ignore"):
        lpt = np.log(np.where(mask > 0, np.maximum(pt, 1e-8), 1.0))
    kin = np.stack(
        [lpt, features[..., names.index("part_deta")], features[..., names.index("part_dphi")]], -1
    )
    return (kin * mask[..., None]).astype(np.float32)


def pair_features_raw(vectors: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """(J,N,4) px,py,pz,E -> (J,N,N,4) ln Delta, ln kT, ln z, ln m^2, as weaver-core computes them.

    Evaluated in float64 and for every pair, the diagonal included (weaver-core keeps self
    pairs by default); exactly symmetric in (i, j); padding is not masked here.
    """
    v = vectors.astype(np.float64)
    px, py, pz, e = v[..., 0], v[..., 1], v[..., 2], v[..., 3]
    pt = np.hypot(px, py)
    rap = 0.5 * np.log1p(2.0 * pz / np.maximum(e - pz, 1e-20))
    phi = np.arctan2(py, px)
    drap = rap[:, :, None] - rap[:, None, :]
    dphi = np.mod(phi[:, :, None] - phi[:, None, :] + np.pi, 2 * np.pi) - np.pi
    delta = np.sqrt(drap**2 + dphi**2)
    ptmin = np.minimum(pt[:, :, None], pt[:, None, :])
    lndelta = np.log(np.maximum(delta, eps))
    lnkt = np.log(np.maximum(ptmin * delta, eps))
    lnz = np.log(np.maximum(ptmin / np.maximum(pt[:, :, None] + pt[:, None, :], eps), eps))
    s = v[:, :, None, :] + v[:, None, :, :]
    m2 = s[..., 3] ** 2 - s[..., 0] ** 2 - s[..., 1] ** 2 - s[..., 2] ** 2
    lnm2 = np.log(np.maximum(m2, eps))
    out = np.stack([lndelta, lnkt, lnz, lnm2], axis=-1)
    # Symmetric by construction (the firmware computes i <= j only and mirrors): copy the upper
    # triangle onto the lower one, which the mod in dphi could otherwise differ from by an ulp.
    lower = np.tril(np.ones(out.shape[1:3], bool), k=-1)[None, :, :, None]
    return np.where(lower, out.transpose(0, 2, 1, 3), out)


def pair_inputs(vectors: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(J,N,4) vectors and (J,N) mask -> standardised, clipped, masked (J,N,N,4) float32."""
    raw = pair_features_raw(vectors)
    center = np.array([PAIR_STD[k][0] for k in PAIR_FEATURES])
    scale = np.array([PAIR_STD[k][1] for k in PAIR_FEATURES])
    out = np.clip((raw - center) * scale, -CLIP, CLIP)
    pair_mask = (mask[:, :, None] * mask[:, None, :])[..., None]
    return (out * pair_mask).astype(np.float32)
