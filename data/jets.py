"""Jet clustering and the JetClass per-particle / per-jet features, of generator-level particles
or of a detector's particle-flow candidates (data/detector.py, which then supplies d0/dz).

Jets: anti-kt R = 0.8 (FastJet, E-scheme) on visible final-state particles (neutrinos dropped) or
their detector candidates,
pT > 500 GeV, |eta| < 2.  Soft-drop mass: constituents reclustered with C/A into one jet, then
soft drop beta = 0, z_cut = 0.1 (mMDT).  N-subjettiness tau_1..tau_4: normalized measure,
beta = 1, R0 = 0.8, exclusive-kt axes (fastjet-contrib Nsubjettiness, ``KT_Axes``).

Impact parameters at generator level (make data DETECTOR=none; the detector smears these same
values): d0/dz come from the true production vertex (Pythia
xProd, yProd, zProd in mm) and the momentum, extrapolated along a straight line (no magnetic
field) to the point of closest approach to the beam line (x = y = 0):

    d0 = (x * py - y * px) / pT                 (signed; sign convention as Delphes)
    dz = z - (x * px + y * py) / pT * pz / pT

Prompt tracks therefore have d0 = dz = 0 (up to ~1e-13 mm); b/c-hadron and K0S/Lambda-daughter
tracks are displaced.  The quoted uncertainties follow a simple tracker-like resolution model,

    sigma_d0 = sqrt(A_D0**2 + (B_D0 / pT)**2),   sigma_dz = sqrt(A_DZ**2 + (B_DZ / pT)**2)

(pT in GeV, sigma in mm), a constant term from the hit resolution and a multiple-scattering term;
the constants below are of the size of the CMS tracker's.  The values are not smeared.
Neutral particles get 0 for d0val, dzval, d0err and dzerr, as in JetClass.
"""

import os
import sys
import warnings

import awkward as ak
import fastjet
import numpy as np

from data.schema import JET_BRANCHES, PARTICLE_BRANCHES

JET_R = 0.8
JET_PT_MIN = 500.0  # GeV
JET_ABS_ETA_MAX = 2.0
SD_BETA, SD_ZCUT, SD_R0 = 0.0, 0.1, 0.8
TAU_BETA, TAU_R0 = 1.0, 0.8
N_TAUS = 4

# Impact-parameter resolution model (see module docstring):
# (constant mm, multiple-scattering mm*GeV).
A_D0, B_D0 = 0.010, 0.030
A_DZ, B_DZ = 0.020, 0.060

_ANTIKT = fastjet.JetDefinition(fastjet.antikt_algorithm, JET_R)
# Reclustering a jet's constituents into exactly one jet: R large enough that nothing is left out.
_CA_ALL = fastjet.JetDefinition(fastjet.cambridge_algorithm, fastjet.JetDefinition.max_allowable_R)


def silence_fastjet_banner():
    """FastJet prints its banner to stdout on first use; print it once into /dev/null instead."""
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        fastjet._swig.ClusterSequence.print_banner()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _p4(px, py, pz, e):
    return ak.zip({"px": px, "py": py, "pz": pz, "E": e})


def pt_eta_phi(px, py, pz):
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0, np.arcsinh(pz / pt), np.sign(pz) * np.inf)
    return pt, eta, np.arctan2(py, px)


def wrap_phi(x):
    """Angle wrapped to (-pi, pi]."""
    return np.pi - np.mod(np.pi - x, 2 * np.pi)


def cluster(px, py, pz, e, counts):
    """Anti-kt jets with pT > JET_PT_MIN in each event.

    Returns flat numpy arrays over all jets of the batch: jet (px, py, pz, E), the number of jets
    per event, the number of constituents per jet, and the constituents' indices within their
    event's particle list.
    """
    parts = ak.unflatten(_p4(px, py, pz, e), counts)
    cs = fastjet.ClusterSequence(parts, _ANTIKT)
    jets = cs.inclusive_jets(min_pt=JET_PT_MIN)
    index = cs.constituent_index(min_pt=JET_PT_MIN)
    flat = ak.flatten(jets)
    p4 = tuple(ak.to_numpy(flat[f]).astype(np.float64) for f in ("px", "py", "pz", "E"))
    return (
        p4,
        ak.to_numpy(ak.num(jets)),
        ak.to_numpy(ak.flatten(ak.num(index, axis=2))),
        ak.to_numpy(ak.flatten(index, axis=None)).astype(np.int64),
    )


def impact_parameters(px, py, pz, x, y, z):
    """Straight-line transverse (d0) and longitudinal (dz) impact parameters w.r.t. the beam
    line."""
    pt = np.hypot(px, py)
    d0 = (x * py - y * px) / pt
    dz = z - (x * px + y * py) / pt * pz / pt
    return d0, dz


def ip_errors(pt):
    return np.hypot(A_D0, B_D0 / pt), np.hypot(A_DZ, B_DZ / pt)


def _groomed_and_taus(px, py, pz, e, counts):
    """Soft-drop mass and tau_1..tau_4 of each jet (each jet's constituents form one 'event')."""
    jets = ak.unflatten(_p4(px, py, pz, e), counts)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="dcut and exclusive jets")
        cs = fastjet.ClusterSequence(jets, _CA_ALL)
        sd = cs.exclusive_jets_softdrop_grooming(
            njets=1, beta=SD_BETA, symmetry_cut=SD_ZCUT, R0=SD_R0
        )
        sdmass = np.nan_to_num(ak.to_numpy(sd.msoftdrop).astype(np.float64))
        taus = np.zeros((len(counts), N_TAUS))
        full = counts >= N_TAUS
        if full.any():
            sub = fastjet.ClusterSequence(jets[full], _CA_ALL)
            taus[full] = np.asarray(
                sub.njettiness(
                    measure_definition="NormalizedMeasure",
                    axes_definition="KT_Axes",
                    njets=list(range(1, N_TAUS + 1)),
                    beta=TAU_BETA,
                    R0=TAU_R0,
                )
            )
        for j in np.nonzero(~full)[0]:  # fewer particles than axes: tau_N = 0 for N >= n
            n = int(counts[j])
            if n > 1:
                one = fastjet.ClusterSequence(jets[j : j + 1], _CA_ALL)
                taus[j, : n - 1] = np.asarray(
                    one.njettiness(
                        measure_definition="NormalizedMeasure",
                        axes_definition="KT_Axes",
                        njets=list(range(1, n)),
                        beta=TAU_BETA,
                        R0=TAU_R0,
                    )
                )[0]
    return sdmass, taus


def jet_features(parts, counts):
    """JetClass features for jets given their constituents.

    parts: dict of flat numpy arrays over all constituents, jet after jet: px, py, pz, e (GeV),
        pid, charge, and either x, y, z (production vertex, mm: generator-level impact
        parameters) or d0, dz, d0err, dzerr (mm, as a detector measured them).
    counts: number of constituents of each jet.
    Returns {"part": jagged record array (fields = PARTICLE_BRANCHES without "part_", float32,
    sorted by pT descending), "jet_...": float32 arrays}.
    """
    counts = np.asarray(counts, dtype=np.int64)
    jet_of = np.repeat(np.arange(len(counts)), counts)
    pt = np.hypot(parts["px"], parts["py"])
    order = np.lexsort((-pt, jet_of))  # by jet, then pT descending
    p = {k: np.asarray(v)[order] for k, v in parts.items()}
    pt, eta, phi = pt_eta_phi(p["px"], p["py"], p["pz"])

    jsum = {
        k: np.bincount(jet_of, weights=p[k], minlength=len(counts)) for k in ("px", "py", "pz", "e")
    }
    jpt, jeta, jphi = pt_eta_phi(jsum["px"], jsum["py"], jsum["pz"])

    charge = p["charge"]
    charged = charge != 0
    apid = np.abs(p["pid"])
    is_e, is_mu, is_photon = apid == 11, apid == 13, p["pid"] == 22
    if "d0" in p:  # measured by a detector (data/detector.py)
        d0, dz, d0err, dzerr = p["d0"], p["dz"], p["d0err"], p["dzerr"]
    else:
        d0, dz = impact_parameters(p["px"], p["py"], p["pz"], p["x"], p["y"], p["z"])
        d0err, dzerr = ip_errors(pt)
    zero = np.zeros_like(pt)

    part = {
        "px": p["px"],
        "py": p["py"],
        "pz": p["pz"],
        "energy": p["e"],
        # JetClass's sign: Delta eta towards the forward direction of the jet's own hemisphere
        # (jet-universe/jetclass_generation@ae722ea, makeNtuples.C: (jet eta > 0 ? 1 : -1) * ...)
        "deta": np.where(jeta[jet_of] > 0, 1.0, -1.0) * (eta - jeta[jet_of]),
        "dphi": wrap_phi(phi - jphi[jet_of]),
        "d0val": np.where(charged, d0, zero),
        "d0err": np.where(charged, d0err, zero),
        "dzval": np.where(charged, dz, zero),
        "dzerr": np.where(charged, dzerr, zero),
        "charge": charge,
        "isChargedHadron": charged & ~is_e & ~is_mu,
        "isNeutralHadron": ~charged & ~is_photon,
        "isPhoton": is_photon,
        "isElectron": is_e,
        "isMuon": is_mu,
    }
    names = [b[len("part_") :] for b in PARTICLE_BRANCHES]
    assert set(names) == set(part), "particle features out of sync with schema"
    record = ak.unflatten(ak.zip({n: part[n].astype(np.float32) for n in names}), counts)

    sdmass, taus = _groomed_and_taus(p["px"], p["py"], p["pz"], p["e"], counts)
    jet = {
        "jet_pt": jpt,
        "jet_eta": jeta,
        "jet_phi": jphi,
        "jet_energy": jsum["e"],
        "jet_nparticles": counts,
        "jet_sdmass": sdmass,
    }
    jet.update({f"jet_tau{n}": taus[:, n - 1] for n in range(1, N_TAUS + 1)})
    assert set(jet) == set(JET_BRANCHES), "jet features out of sync with schema"
    out = {"part": record}
    out.update({b: np.asarray(jet[b], dtype=np.float32) for b in JET_BRANCHES})
    return out
