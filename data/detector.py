"""A parametric detector between Pythia and the jet clustering: tracks, calorimeter towers and a
particle-flow merge into massless candidates, as in JetClass's Delphes simulation.

Why: JetClass jets are Delphes particle-flow candidates (CMS-like card), not generator particles;
a model trained on generator particles meets fewer, harder, massless, tower-shaped constituents
with smeared impact parameters when it is scored on real files. The card
(data/detector_cards/<name>.yml) holds every number; this module only the algorithm:

1. Charged particles produced inside the tracker are tracked with an (|eta|, pT) efficiency;
   a track's pT is smeared (log-normal, relative resolution sqrt(a^2 + (b pT)^2)); d0 and dz
   (straight line from the production vertex) are smeared with Gaussian resolutions from
   (|eta|, pT) tables, and those resolutions are the quoted errors.
2. Every particle reaches the calorimeters, charged ones along their helix in the solenoid's
   field (barrel or endcap face), neutral ones straight; it leaves its energy in one ECAL and
   one HCAL tower in the card's [ECAL, HCAL] fractions (muons and neutrinos leave none).
3. Each tower's energy is smeared (log-normal, sigma(E) from the card) and zeroed below the
   energy and significance thresholds. Particle flow (Delphes' SimpleCalorimeter): the tracks
   pointing at a tower are subtracted; a significant excess becomes one neutral candidate (a
   photon from the ECAL, a neutral hadron from the HCAL) at the tower's centre; otherwise the
   tracks are rescaled to the combined track and tower estimate (with JetClass's card, where
   the tracks' resolution is reset to 0 and so weighs nothing, to the tower's energy: a soft
   hadron whose tower falls below threshold loses its track).
4. Candidates: tracks (keeping their particle's id, charged hadron, electron or muon, and, as
   in Delphes and the real JetClass files, its mass unless the card says massless_tracks) and
   the neutral towers (massless). Jets are clustered on them (data/generate.py).

Pile-up is not simulated. Random numbers come from one numpy Generator per generation task, so
the same seed gives the same files.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from infra.yamlconfig import REQUIRED, ConfigError, find_config, read_yaml, validate

CARD_DIR = Path(__file__).parent / "detector_cards"
DEFAULT = "cms"
NONE = "none"  # generator-level particles, no detector
C_LIGHT = 0.299792458  # GeV / (T m): pT = C_LIGHT * B * radius
PHOTON_PID, NEUTRAL_HADRON_PID = 22, 0

_TABLE = {
    "abs_eta_edges": (list, REQUIRED),
    "pt_edges": (list, REQUIRED),
    "values": (list, REQUIRED),
}
_RESOLUTION = {"abs_eta_edges": (list, REQUIRED), "a": (list, REQUIRED), "b": (list, REQUIRED)}
_KINDS = ("hadron", "electron", "muon")
_SCHEMA = {
    "name": (str, REQUIRED),
    "tracker": (
        {
            "radius_m": (float, REQUIRED),
            "half_length_m": (float, REQUIRED),
            "bz_tesla": (float, REQUIRED),
            "massless_tracks": (bool, False),
            "efficiency": ({k: (_TABLE, REQUIRED) for k in _KINDS}, REQUIRED),
            "momentum_resolution": ({k: (_RESOLUTION, REQUIRED) for k in _KINDS}, REQUIRED),
            "impact_parameter": ({"d0": (_TABLE, REQUIRED), "dz": (_TABLE, REQUIRED)}, REQUIRED),
        },
        REQUIRED,
    ),
    "calorimeters": (
        {
            "smear_tower_center": (bool, False),
            "tracks_weigh_in_merge": (bool, True),
            "energy_fractions": (dict, REQUIRED),
            **{
                c: (
                    {
                        "energy_min": (float, REQUIRED),
                        "significance_min": (float, REQUIRED),
                        "granularity": (list, REQUIRED),
                        "resolution": (list, REQUIRED),
                    },
                    REQUIRED,
                )
                for c in ("ecal", "hcal")
            },
        },
        REQUIRED,
    ),
}
_REGION = {
    "abs_eta_max": (float, REQUIRED),
    "deta": (float, None),
    "abs_eta_edges": (list, None),
    "nphi": (int, REQUIRED),
}
_RES_REGION = {
    "abs_eta_max": (float, REQUIRED),
    "constant": (float, REQUIRED),
    "stochastic": (float, REQUIRED),
    "noise": (float, REQUIRED),
    "shape": (list, [1.0, 0.0, 0.0]),
}


# ----------------------------------------------------------------------------- the card


def _numbers(where, values, n=None, lo=0.0, hi=math.inf, allow_inf=False):
    """A list of n numbers in [lo, hi] (inf allowed where it means 'and above')."""
    if not isinstance(values, list) or any(
        isinstance(v, bool) or not isinstance(v, (int, float)) for v in values
    ):
        raise ConfigError(f"{where} must be a list of numbers, got {values!r}")
    if n is not None and len(values) != n:
        raise ConfigError(f"{where} must have {n} entries, got {len(values)}")
    for v in values:
        if math.isnan(v) or (math.isinf(v) and not allow_inf) or not lo <= v <= hi:
            raise ConfigError(f"{where} has {v!r}, outside [{lo}, {hi}]")
    return np.asarray(values, dtype=np.float64)


def _edges(where, values):
    e = _numbers(where, values, lo=0.0, allow_inf=True)
    if len(e) < 2 or np.any(np.diff(e) <= 0):
        raise ConfigError(f"{where} must be at least two increasing edges, got {values!r}")
    return e


@dataclass(frozen=True)
class Table:
    """A value per (|eta| bin, pT bin); 0 outside the table."""

    eta: np.ndarray
    pt: np.ndarray
    values: np.ndarray

    @classmethod
    def parse(cls, where, t, lo=0.0, hi=math.inf):
        eta = _edges(f"{where}.abs_eta_edges", t["abs_eta_edges"])
        pt = _edges(f"{where}.pt_edges", t["pt_edges"])
        rows = t["values"]
        if not isinstance(rows, list) or len(rows) != len(eta) - 1:
            raise ConfigError(f"{where}.values must have {len(eta) - 1} rows (one per |eta| bin)")
        values = np.stack(
            [_numbers(f"{where}.values[{i}]", r, len(pt) - 1, lo, hi) for i, r in enumerate(rows)]
        )
        return cls(eta, pt, values)

    def __call__(self, abs_eta, pt):
        i = np.searchsorted(self.eta, abs_eta, side="right") - 1
        j = np.searchsorted(self.pt, pt, side="right") - 1
        inside = (i >= 0) & (i < len(self.eta) - 1) & (j >= 0) & (j < len(self.pt) - 1)
        ic = np.clip(i, 0, len(self.eta) - 2)
        jc = np.clip(j, 0, len(self.pt) - 2)
        return np.where(inside, self.values[ic, jc], 0.0)


@dataclass(frozen=True)
class Resolution:
    """Relative track pT resolution sqrt(a^2 + (b pT)^2) per |eta| bin; 0 outside."""

    eta: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @classmethod
    def parse(cls, where, r):
        eta = _edges(f"{where}.abs_eta_edges", r["abs_eta_edges"])
        n = len(eta) - 1
        return cls(eta, _numbers(f"{where}.a", r["a"], n), _numbers(f"{where}.b", r["b"], n))

    def __call__(self, abs_eta, pt):
        i = np.searchsorted(self.eta, abs_eta, side="right") - 1
        inside = (i >= 0) & (i < len(self.a))
        i = np.clip(i, 0, len(self.a) - 1)
        return np.where(inside, np.hypot(self.a[i], self.b[i] * pt), 0.0)


@dataclass(frozen=True)
class Calorimeter:
    """Towers (|eta| edges from 0, phi bins per |eta| bin, mirrored to negative eta), energy
    resolution regions and thresholds."""

    edges: np.ndarray  # |eta| edges, from 0
    nphi: np.ndarray  # phi bins of each |eta| bin
    offset: np.ndarray  # first tower id of each signed eta bin (negative side first)
    n_towers: int
    res_max: np.ndarray
    res: np.ndarray  # (regions, 6): constant, stochastic, noise, p0, p2, eta0
    energy_min: float
    significance_min: float

    @classmethod
    def parse(cls, where, c):
        edges, nphi, low = [0.0], [], 0.0
        if not isinstance(c["granularity"], list) or not c["granularity"]:
            raise ConfigError(f"{where}.granularity must be a non-empty list of |eta| regions")
        for k, region in enumerate(c["granularity"]):
            w = f"{where}.granularity[{k}]"
            r = validate(region, _REGION, w)
            high = r["abs_eta_max"]
            if not high > low:
                raise ConfigError(f"{w}: abs_eta_max {high} must exceed the previous {low}")
            if r["nphi"] < 1:
                raise ConfigError(f"{w}: nphi must be >= 1, got {r['nphi']}")
            if (r["deta"] is None) == (r["abs_eta_edges"] is None):
                raise ConfigError(f"{w}: give exactly one of deta and abs_eta_edges")
            if r["deta"] is not None:
                steps = (high - low) / r["deta"] if r["deta"] > 0 else -1.0
                if r["deta"] <= 0 or steps < 0.5 or abs(steps - round(steps)) > 1e-6 * steps:
                    raise ConfigError(
                        f"{w}: deta {r['deta']} does not tile |eta| {low:g} to {high:g} "
                        f"({steps:.4g} steps)"
                    )
                new = list(low + (high - low) * np.arange(1, round(steps) + 1) / round(steps))
            else:
                new = list(_numbers(f"{w}.abs_eta_edges", r["abs_eta_edges"]))
                if new[0] <= low or np.any(np.diff(new) <= 0) or abs(new[-1] - high) > 1e-9:
                    raise ConfigError(
                        f"{w}: abs_eta_edges do not tile |eta| {low:g} to {high:g}: they must "
                        "increase from above the previous region's end up to abs_eta_max"
                    )
            edges += new
            nphi += [r["nphi"]] * len(new)
            low = high
        regions, maxima = [], []
        if not isinstance(c["resolution"], list) or not c["resolution"]:
            raise ConfigError(f"{where}.resolution must be a non-empty list of |eta| regions")
        last = 0.0
        for k, region in enumerate(c["resolution"]):
            w = f"{where}.resolution[{k}]"
            r = validate(region, _RES_REGION, w)
            if not r["abs_eta_max"] > last:
                raise ConfigError(f"{w}: abs_eta_max {r['abs_eta_max']} must exceed {last}")
            last = r["abs_eta_max"]
            for key in ("constant", "stochastic", "noise"):
                _numbers(f"{w}.{key}", [r[key]])
            p0, p2, eta0 = _numbers(f"{w}.shape", r["shape"], 3, lo=-math.inf)
            if p0 < 0 or p2 < 0:
                raise ConfigError(
                    f"{w}.shape: p0 and p2 must be >= 0 (a resolution), got {r['shape']}"
                )
            regions.append([r["constant"], r["stochastic"], r["noise"], p0, p2, eta0])
            maxima.append(r["abs_eta_max"])
        for key in ("energy_min", "significance_min"):
            _numbers(f"{where}.{key}", [c[key]])
        nphi = np.asarray(nphi, dtype=np.int64)
        signed = np.concatenate([nphi[::-1], nphi])
        offset = np.r_[0, np.cumsum(signed)[:-1]]
        return cls(
            np.asarray(edges),
            nphi,
            offset,
            int(signed.sum()),
            np.asarray(maxima, dtype=np.float64),
            np.asarray(regions, dtype=np.float64),
            float(c["energy_min"]),
            float(c["significance_min"]),
        )

    def tower(self, eta, phi):
        """Tower id (-1 outside the calorimeter) and the tower's centre and edges."""
        a = np.abs(eta)
        phi = np.where(np.isfinite(phi), phi, 0.0)  # a particle that never arrives: a = nan
        nb = len(self.nphi)
        b = np.searchsorted(self.edges, a, side="right") - 1
        inside = np.isfinite(a) & (b >= 0) & (b < nb)
        b = np.clip(b, 0, nb - 1)
        signed = np.where(eta < 0, nb - 1 - b, nb + b)
        n = self.nphi[b]
        width = 2 * np.pi / n
        k = np.clip(np.floor((phi + np.pi) / width).astype(np.int64), 0, n - 1)
        tid = np.where(inside, self.offset[signed] + k, -1)
        return tid

    def geometry(self, tid):
        """(eta_lo, eta_hi, phi_lo, phi_hi) of towers by id."""
        signed = np.searchsorted(self.offset, tid, side="right") - 1
        nb = len(self.nphi)
        b = np.where(signed >= nb, signed - nb, nb - 1 - signed)
        n = self.nphi[b]
        k = tid - self.offset[signed]
        lo, hi = self.edges[b], self.edges[b + 1]
        neg = signed < nb
        eta_lo, eta_hi = np.where(neg, -hi, lo), np.where(neg, -lo, hi)
        phi_lo = -np.pi + k * 2 * np.pi / n
        return eta_lo, eta_hi, phi_lo, phi_lo + 2 * np.pi / n

    def sigma(self, abs_eta, energy):
        """Absolute energy resolution (GeV) at a tower's |eta|; 0 beyond the last region."""
        i = np.searchsorted(self.res_max, abs_eta, side="left")
        inside = i < len(self.res_max)
        c, s, n, p0, p2, eta0 = self.res[np.clip(i, 0, len(self.res_max) - 1)].T
        shape = p0 + p2 * (abs_eta - eta0) ** 2
        e = np.maximum(energy, 0.0)
        return np.where(inside, shape * np.sqrt((c * e) ** 2 + s**2 * e + n**2), 0.0)


@dataclass(frozen=True)
class Card:
    """A validated detector card and its record: name and hash of the file's bytes."""

    name: str
    path: str
    digest: str
    radius_m: float
    half_length_m: float
    bz_tesla: float
    massless_tracks: bool
    efficiency: dict
    momentum_resolution: dict
    d0: Table
    dz: Table
    fractions: dict  # |pid| -> (ecal, hcal); key None = default
    smear_tower_center: bool
    tracks_weigh_in_merge: bool
    ecal: Calorimeter
    hcal: Calorimeter

    @property
    def record(self) -> str:
        return f"{self.name} sha256:{self.digest[:16]}"


def load_card(name_or_path=DEFAULT):
    """A card by name (data/detector_cards/<name>.yml) or path; None for 'none'. Any unknown key
    or impossible value is a ConfigError naming the file and the key."""
    if str(name_or_path) == NONE:
        return None
    path = find_config(name_or_path, CARD_DIR, "detector")
    raw = read_yaml(path)
    cfg = validate(raw, _SCHEMA, str(path))
    t, c = cfg["tracker"], cfg["calorimeters"]
    where = f"{path}: tracker"
    for key in ("radius_m", "half_length_m", "bz_tesla"):
        if not t[key] > 0:
            raise ConfigError(f"{where}.{key} must be > 0, got {t[key]}")
    eff = {k: Table.parse(f"{where}.efficiency.{k}", t["efficiency"][k], hi=1.0) for k in _KINDS}
    mres = {
        k: Resolution.parse(f"{where}.momentum_resolution.{k}", t["momentum_resolution"][k])
        for k in _KINDS
    }
    ip = {
        k: Table.parse(f"{where}.impact_parameter.{k}", t["impact_parameter"][k])
        for k in ("d0", "dz")
    }
    fw = f"{path}: calorimeters.energy_fractions"
    if "default" not in c["energy_fractions"]:
        raise ConfigError(f"{fw}: missing required key 'default'")
    fractions = {}
    for key, value in c["energy_fractions"].items():
        if key != "default" and not str(key).lstrip("-").isdigit():
            raise ConfigError(f"{fw}: key {key!r} must be a PDG id or 'default'")
        f = _numbers(f"{fw}.{key}", value, 2, hi=1.0)
        if f.sum() > 1.0 + 1e-9:
            raise ConfigError(f"{fw}.{key}: fractions {value} add up to more than 1")
        fractions[None if key == "default" else abs(int(key))] = (float(f[0]), float(f[1]))
    cal = {k: Calorimeter.parse(f"{path}: calorimeters.{k}", c[k]) for k in ("ecal", "hcal")}
    return Card(
        cfg["name"],
        str(path),
        hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        t["radius_m"],
        t["half_length_m"],
        t["bz_tesla"],
        t["massless_tracks"],
        eff,
        mres,
        ip["d0"],
        ip["dz"],
        fractions,
        c["smear_tower_center"],
        c["tracks_weigh_in_merge"],
        cal["ecal"],
        cal["hcal"],
    )


def record_of(card) -> str:
    """What a file records about its detector: 'none' or '<name> sha256:<16 hex>'."""
    return NONE if card is None else card.record


# ----------------------------------------------------------------------------- the response


def _lognormal(rng, mean, sigma):
    """Delphes' LogNormal: positive, with this mean and standard deviation; 0 for mean <= 0."""
    mean = np.asarray(mean, dtype=np.float64)
    ok = mean > 0
    m = np.where(ok, mean, 1.0)
    b = np.sqrt(np.log1p((np.asarray(sigma) / m) ** 2))
    a = np.log(m) - 0.5 * b * b
    return np.where(ok, np.exp(a + b * rng.standard_normal(mean.shape)), 0.0)


def _kind(pid):
    apid = np.abs(pid)
    return np.where(apid == 11, 1, np.where(apid == 13, 2, 0))


def _calo_direction(card, pt, eta, phi, pz, charge):
    """(eta, phi) where a particle from the origin meets the calorimeter: charged ones bend in
    the solenoid (uniform Bz) and hit the barrel (radius R) or an endcap (|z| = L)."""
    from data.jets import wrap_phi

    charged = charge != 0
    R, L = card.radius_m, card.half_length_m
    with np.errstate(divide="ignore", invalid="ignore"):
        r = pt / (C_LIGHT * card.bz_tesla)  # helix radius, m
        s_end = np.where(pz != 0, L * pt / np.abs(pz), np.inf)  # transverse path to an endcap
        s_bar = np.where(2 * r > R, 2 * r * np.arcsin(np.minimum(R / (2 * r), 1.0)), np.inf)
        barrel = s_bar <= s_end
        s = np.where(barrel, s_bar, s_end)
        rho = np.where(barrel, R, 2 * r * np.abs(np.sin(s / (2 * r))))
        z = np.where(barrel, pz / pt * s_bar, np.sign(pz) * L)
        c_eta = np.where(rho > 0, np.arcsinh(z / rho), np.sign(z) * np.inf)
        c_phi = phi - np.sign(charge) * s / (2 * r)
    c_phi = wrap_phi(c_phi)
    reached = ~charged | np.isfinite(s)
    return np.where(charged, c_eta, eta), np.where(charged, c_phi, phi), reached


def _fractions(card, pid):
    apid = np.abs(pid)
    default = card.fractions[None]
    out = np.tile(np.asarray(default, dtype=np.float64), (len(pid), 1))
    for p, f in card.fractions.items():
        if p is not None:
            out[apid == p] = f
    return out


def _calorimeter(cal, rng, smear_center, weigh_tracks, ev_tower, dep, trk_tower, trk):
    """One calorimeter's towers and particle flow.

    ev_tower/dep: (event * n_towers + tower) and energy of each particle deposit; trk_tower and
    trk = (full energy, deposited energy, relative resolution): the same for the tracks that
    deposit here. weigh_tracks False: the tracks' resolution counts as 0, which Delphes' merge
    reads as no weight (as with JetClass's card, data/detector_cards/cms.yml). Returns the
    neutral candidates (key, energy, eta, phi) and the
    rescale factor of each track.
    """
    keys, inv = np.unique(ev_tower, return_inverse=True)
    e_true = np.bincount(inv, weights=dep, minlength=len(keys)).astype(float)
    tid = keys % cal.n_towers
    eta_lo, eta_hi, phi_lo, phi_hi = cal.geometry(tid)
    eta_c, phi_c = 0.5 * (eta_lo + eta_hi), 0.5 * (phi_lo + phi_hi)
    energy = _lognormal(rng, e_true, cal.sigma(np.abs(eta_c), e_true))
    sigma = cal.sigma(np.abs(eta_c), energy)
    energy = np.where(
        (energy < cal.energy_min) | (energy < cal.significance_min * sigma), 0.0, energy
    )

    tpos = np.searchsorted(keys, trk_tower)
    tpos = np.clip(tpos, 0, max(len(keys) - 1, 0))
    has = (len(keys) > 0) & (keys[tpos] == trk_tower) if len(keys) else np.zeros(0, bool)
    full_e, frac_e, res = trk
    calo_rel = np.divide(
        cal.sigma(np.abs(eta_c[tpos]), full_e), full_e, out=np.zeros_like(full_e), where=full_e > 0
    )
    guess = np.where(calo_rel < res, frac_e, full_e)
    t_energy = np.bincount(tpos[has], weights=frac_e[has], minlength=len(keys)).astype(float)
    t_var = np.bincount(tpos[has], weights=(res * guess)[has] ** 2, minlength=len(keys))
    t_sigma = np.sqrt(t_var.astype(float)) if weigh_tracks else np.zeros(len(keys))
    neutral = np.maximum(energy - t_energy, 0.0)
    total = np.hypot(t_sigma, sigma)
    significance = np.divide(neutral, total, out=np.full_like(neutral, np.inf), where=total > 0)
    make = (neutral > cal.energy_min) & (significance > cal.significance_min)
    w_trk = np.divide(1.0, t_sigma**2, out=np.zeros_like(t_sigma), where=t_sigma > 0)
    w_cal = np.divide(1.0, sigma**2, out=np.zeros_like(sigma), where=sigma > 0)
    best = np.divide(
        w_trk * t_energy + w_cal * energy,
        w_trk + w_cal,
        out=t_energy.copy(),
        where=(w_trk + w_cal) > 0,
    )
    scale_tower = np.where(
        ~make & (t_energy > 0),
        np.divide(best, t_energy, out=np.ones_like(best), where=t_energy > 0),
        1.0,
    )
    scale = np.where(has, scale_tower[tpos], 1.0)
    if smear_center:
        eta_n = rng.uniform(eta_lo, eta_hi)
        phi_n = rng.uniform(phi_lo, phi_hi)
    else:
        eta_n, phi_n = eta_c, phi_c
    return (keys[make], neutral[make], eta_n[make], phi_n[make]), scale


def respond(card, rng, parts, counts):
    """Particle-flow candidates of a batch of events.

    parts: flat arrays over the visible final-state particles, event after event: px, py, pz,
    e (GeV), pid, charge, x, y, z (production vertex, mm); counts: particles per event.
    Returns (candidates, candidates per event): px, py, pz, e (massless), pid (the particle's id
    for tracks, 22 for ECAL and 0 for HCAL neutrals), charge, d0, dz, d0err, dzerr (mm).
    """
    from data.jets import impact_parameters, pt_eta_phi

    counts = np.asarray(counts, dtype=np.int64)
    ev = np.repeat(np.arange(len(counts)), counts)
    px, py, pz, e = (np.asarray(parts[k], np.float64) for k in ("px", "py", "pz", "e"))
    pid, charge = np.asarray(parts["pid"]), np.asarray(parts["charge"], np.float64)
    pt, eta, phi = pt_eta_phi(px, py, pz)
    inside = (np.hypot(parts["x"], parts["y"]) < 1000 * card.radius_m) & (
        np.abs(parts["z"]) < 1000 * card.half_length_m
    )
    keep = inside & (pt > 0)
    kind = _kind(pid)

    # tracks
    eff = np.zeros_like(pt)
    res = np.zeros_like(pt)
    for k, name in enumerate(_KINDS):
        sel = kind == k
        eff[sel] = card.efficiency[name](np.abs(eta[sel]), pt[sel])
        res[sel] = card.momentum_resolution[name](np.abs(eta[sel]), pt[sel])
    # where each particle meets the calorimeters; as in Delphes, a track enters the particle
    # flow only through a calorimeter tower (its own), so a track whose helix ends outside the
    # towers (a looper reaching the endcap near the beam) is lost
    c_eta, c_phi, reached = _calo_direction(card, pt, eta, phi, pz, charge)
    towers = [cal.tower(c_eta, c_phi) for cal in (card.ecal, card.hcal)]
    in_towers = reached & (towers[0] >= 0) & (towers[1] >= 0)
    tracked = keep & (charge != 0) & (rng.random(len(pt)) < eff) & in_towers
    t = np.flatnonzero(tracked)
    t_pt = _lognormal(rng, pt[t], res[t] * pt[t])
    # Delphes keeps a track's mass (real JetClass tracks carry the pion, kaon, proton mass)
    mass = np.sqrt(np.maximum(e[t] ** 2 - px[t] ** 2 - py[t] ** 2 - pz[t] ** 2, 0.0))
    t_mass = np.zeros_like(mass) if card.massless_tracks else mass
    t_e = np.hypot(t_pt * np.cosh(eta[t]), t_mass)
    d0, dz = impact_parameters(px[t], py[t], pz[t], parts["x"][t], parts["y"][t], parts["z"][t])
    d0err = card.d0(np.abs(eta[t]), pt[t])
    dzerr = card.dz(np.abs(eta[t]), pt[t])
    d0 = d0 + d0err * rng.standard_normal(len(t))
    dz = dz + dzerr * rng.standard_normal(len(t))

    # calorimeters: every particle deposits where it meets them; tracks point at the same tower
    frac = _fractions(card, pid)
    t_frac = frac[t]
    scale = np.ones(len(t))
    neutrals = []
    for ci, (cal, nid) in enumerate(((card.ecal, PHOTON_PID), (card.hcal, NEUTRAL_HADRON_PID))):
        tower = towers[ci]
        dep = keep & reached & (tower >= 0) & (frac[:, ci] > 0)
        key = ev * cal.n_towers + tower
        with_frac = t_frac[:, ci] > 0
        tsel = with_frac & dep[t]
        (nkey, ne, neta, nphi), s = _calorimeter(
            cal,
            rng,
            card.smear_tower_center,
            card.tracks_weigh_in_merge,
            key[dep],
            (e * frac[:, ci])[dep],
            key[t][tsel],
            (t_e[tsel], (t_e * t_frac[:, ci])[tsel], res[t][tsel]),
        )
        scale[tsel] *= s
        neutrals.append((nkey // cal.n_towers, ne, neta, nphi, nid))
    t_pt = t_pt * scale
    # a track rescaled to nothing (its tower's energy fell below threshold) is no candidate
    alive = t_pt > 0
    t, t_pt, t_mass = t[alive], t_pt[alive], t_mass[alive]
    d0, dz, d0err, dzerr = d0[alive], dz[alive], d0err[alive], dzerr[alive]
    t_e = np.hypot(t_pt * np.cosh(eta[t]), t_mass)

    # candidates, event after event
    n_ev = [ev[t]] + [n[0] for n in neutrals]
    c_pt = [t_pt] + [n[1] / np.cosh(n[2]) for n in neutrals]
    c_e = [t_e] + [n[1] for n in neutrals]
    c_eta = [eta[t]] + [n[2] for n in neutrals]
    c_phi = [phi[t]] + [n[3] for n in neutrals]
    c_pid = [pid[t]] + [np.full(len(n[0]), n[4], dtype=pid.dtype) for n in neutrals]
    c_charge = [charge[t]] + [np.zeros(len(n[0])) for n in neutrals]
    zeros = [np.zeros(len(n[0])) for n in neutrals]
    ip = [[d0] + zeros, [dz] + zeros, [d0err] + zeros, [dzerr] + zeros]
    evs = np.concatenate(n_ev)
    order = np.argsort(evs, kind="stable")
    cpt, ceta, cphi = (np.concatenate(x)[order] for x in (c_pt, c_eta, c_phi))
    out = {
        "px": cpt * np.cos(cphi),
        "py": cpt * np.sin(cphi),
        "pz": cpt * np.sinh(ceta),
        "e": np.concatenate(c_e)[order],
        "pid": np.concatenate(c_pid)[order],
        "charge": np.concatenate(c_charge)[order],
    }
    for name, x in zip(("d0", "dz", "d0err", "dzerr"), ip):
        out[name] = np.concatenate(x)[order]
    return out, np.bincount(evs, minlength=len(counts))
