"""Writes small JetClass-format ROOT files with random but physical jets, for reader tests."""

import awkward as ak
import numpy as np
import uproot

from data.schema import JET_BRANCHES, LABEL_BRANCHES, PARTICLE_BRANCHES, TREE


def random_jets(n_jets, rng, class_index=0, max_particles=40):
    """Random massless constituents around a jet axis, with consistent jet and particle branches."""
    counts = rng.integers(3, max_particles, size=n_jets)
    total = counts.sum()
    pt = rng.exponential(20.0, total) + 0.5
    jet_eta = np.repeat(rng.uniform(-1.5, 1.5, n_jets), counts)
    jet_phi = np.repeat(rng.uniform(-np.pi, np.pi, n_jets), counts)
    deta = rng.normal(0, 0.2, total)
    dphi = rng.normal(0, 0.2, total)
    eta, phi = jet_eta + deta, jet_phi + dphi
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = pt * np.cosh(eta)

    def jag(v):
        return ak.unflatten(v.astype(np.float32), counts)

    jets = {}
    for name, values in (
        ("part_px", px),
        ("part_py", py),
        ("part_pz", pz),
        ("part_energy", e),
        ("part_deta", deta),
        ("part_dphi", dphi),
    ):
        jets[name] = jag(values)
    charge = rng.choice([-1.0, 0.0, 1.0], total)
    jets["part_charge"] = jag(charge)
    jets["part_isChargedHadron"] = jag(charge != 0)
    hadron = rng.random(total) < 0.5
    jets["part_isNeutralHadron"] = jag((charge == 0) & hadron)
    jets["part_isPhoton"] = jag((charge == 0) & ~hadron)
    jets["part_isElectron"] = jag(np.zeros(total))
    jets["part_isMuon"] = jag(np.zeros(total))
    for name in ("part_d0val", "part_dzval"):
        jets[name] = jag(rng.normal(0, 0.05, total) * (charge != 0))
    for name in ("part_d0err", "part_dzerr"):
        jets[name] = jag(np.full(total, 0.02) * (charge != 0))
    sums = {k: ak.sum(jets[k], axis=1) for k in ("part_px", "part_py", "part_pz", "part_energy")}
    jpt = np.hypot(sums["part_px"], sums["part_py"])
    jets["jet_pt"] = ak.to_numpy(jpt).astype(np.float32)
    jets["jet_eta"] = ak.to_numpy(np.arcsinh(sums["part_pz"] / jpt)).astype(np.float32)
    jets["jet_phi"] = ak.to_numpy(np.arctan2(sums["part_py"], sums["part_px"])).astype(np.float32)
    jets["jet_energy"] = ak.to_numpy(sums["part_energy"]).astype(np.float32)
    jets["jet_nparticles"] = counts.astype(np.float32)
    for name in ("jet_sdmass", "jet_tau1", "jet_tau2", "jet_tau3", "jet_tau4"):
        jets[name] = rng.random(n_jets).astype(np.float32)
    for i, name in enumerate(LABEL_BRANCHES):
        jets[name] = np.full(n_jets, i == class_index)
    assert set(jets) == set(PARTICLE_BRANCHES) | set(JET_BRANCHES) | set(LABEL_BRANCHES)
    return jets


def write_file(path, branches):
    """Write a dict of (jagged or flat) arrays as a TTree named like JetClass's."""
    branches = {
        k: (v if isinstance(v, ak.Array) and v.ndim > 1 else np.asarray(v))
        for k, v in branches.items()
    }
    with uproot.recreate(path) as f:
        types = {
            k: ("var * float32" if isinstance(v, ak.Array) else v.dtype)
            for k, v in branches.items()
        }
        f.mktree(TREE, types)
        f[TREE].extend(branches)
    return path


def class_files(folder, sizes, seed=11):
    """One file per class, `sizes[i]` random jets of class i each: JetClass's layout in small."""
    rng = np.random.default_rng(seed)
    return [
        write_file(str(folder / f"class{i}.root"), random_jets(n, rng, class_index=i))
        for i, n in enumerate(sizes)
    ]
