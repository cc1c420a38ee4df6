"""Tests of the local JetClass generator (data/generate.py) on a small sample.

One sample of every class (100 jets each) is generated once, about 15 s on 2 cores: the suite's
shared ``jet_sample`` fixture when conftest.py provides it, else a module-scoped one here.  The
other tests make tiny samples of their own.
"""

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from data import generate as G
from data import jets as J
from data.schema import (
    CLASS_NAMES,
    FILE_STEMS,
    JET_BRANCHES,
    LABEL_BRANCHES,
    PARTICLE_BRANCHES,
    TREE,
)

N_JETS = 100  # per class: enough for stable soft-drop-mass medians
MIN_SHARED_JETS = 60


@pytest.fixture(scope="module")
def sample(request, tmp_path_factory):
    try:
        out = Path(request.getfixturevalue("jet_sample"))
    except pytest.FixtureLookupError:
        out = tmp_path_factory.mktemp("jetclass")
        G.generate(out, N_JETS, seed=7, workers=2)
    return out


def read(path):
    with uproot.open(path) as f:
        return f[TREE].arrays(library="ak")


def read_class(out, cls):
    return ak.concatenate([read(out / s / f"{FILE_STEMS[cls]}_000.root") for s in G.SPLITS])


def test_layout_and_counts(sample):
    out = sample
    for cls in CLASS_NAMES:
        sizes = [len(read(out / s / f"{FILE_STEMS[cls]}_000.root")) for s in G.SPLITS]
        assert sum(sizes) >= MIN_SHARED_JETS
        assert sizes == list(G.split_sizes(sum(sizes), (0.8, 0.1, 0.1)))
    assert len(list(out.glob("*/*.root"))) == 3 * len(CLASS_NAMES)
    assert not list(out.rglob("*.partial")) and not list(out.rglob(".*"))


def test_branches_and_lengths(sample):
    out = sample
    with uproot.open(out / "train" / f"{FILE_STEMS['Hbb']}_000.root") as f:
        assert TREE in f
        names = set(f[TREE].keys())
    assert set(PARTICLE_BRANCHES + JET_BRANCHES + LABEL_BRANCHES) <= names
    for cls in CLASS_NAMES:
        a = read_class(out, cls)
        n = ak.to_numpy(a["jet_nparticles"])
        for b in PARTICLE_BRANCHES:
            assert a[b].type.content.content.primitive == "float32", b
            assert np.array_equal(ak.to_numpy(ak.num(a[b])), n), b
        for b in JET_BRANCHES:
            assert a[b].type.content.primitive == "float32", b


def test_labels_one_hot(sample):
    out = sample
    for cls in CLASS_NAMES:
        a = read_class(out, cls)
        labels = np.stack([ak.to_numpy(a[b]) for b in LABEL_BRANCHES], axis=1)
        assert labels.dtype == np.bool_
        assert np.all(labels.sum(axis=1) == 1)
        assert np.all(labels[:, LABEL_BRANCHES.index(f"label_{cls}")])


def test_kinematics(sample):
    out = sample
    for cls in CLASS_NAMES:
        a = read_class(out, cls)
        px, py, pz = (a[f"part_{k}"] for k in ("px", "py", "pz"))
        pt = np.hypot(px, py)
        assert ak.all(pt[:, 1:] <= pt[:, :-1]), f"{cls}: constituents not pT-sorted"
        assert np.all(a["jet_pt"] > J.JET_PT_MIN) and np.all(abs(a["jet_eta"]) < J.JET_ABS_ETA_MAX)
        # the jet is the sum of its constituents
        jpt = np.hypot(ak.sum(px, axis=1), ak.sum(py, axis=1))
        np.testing.assert_allclose(ak.to_numpy(jpt), ak.to_numpy(a["jet_pt"]), rtol=1e-4)
        eta = np.arcsinh(pz / pt)
        phi = np.arctan2(py, px)
        deta, dphi = a["part_deta"], a["part_dphi"]
        side = np.where(a["jet_eta"] > 0, 1.0, -1.0)  # JetClass's sign (makeNtuples.C)
        assert ak.max(abs(deta - side * (eta - a["jet_eta"]))) < 1e-4
        assert ak.max(abs(J.wrap_phi(dphi - (phi - a["jet_phi"])))) < 1e-4
        assert ak.all(dphi <= np.pi) and ak.all(dphi > -np.pi)
        # anti-kt R=0.8 works in rapidity (not eta: soft massive hadrons differ a lot)
        e = a["part_energy"]
        y = 0.5 * np.log((e + pz) / (e - pz))
        je, jpz = ak.sum(e, axis=1), ak.sum(pz, axis=1)
        jy = 0.5 * np.log((je + jpz) / (je - jpz))
        assert ak.max(np.hypot(y - jy, dphi)) < 1.5  # ~R; soft clusters can land a bit beyond


def test_particle_id_and_impact_parameters(sample):
    out = sample
    a = ak.concatenate([read_class(out, c) for c in ("Hbb", "Tbl", "QCD")])
    flags = [
        "part_isChargedHadron",
        "part_isNeutralHadron",
        "part_isPhoton",
        "part_isElectron",
        "part_isMuon",
    ]
    f = {
        k: ak.to_numpy(ak.flatten(a[k]))
        for k in flags + ["part_charge", "part_d0val", "part_dzval", "part_d0err", "part_dzerr"]
    }
    assert np.all(sum(f[k] for k in flags) == 1)
    charged = f["part_charge"] != 0
    assert np.array_equal(
        charged, (f["part_isChargedHadron"] + f["part_isElectron"] + f["part_isMuon"]) == 1
    )
    for k in ("part_d0val", "part_dzval", "part_d0err", "part_dzerr"):
        assert np.all(f[k][~charged] == 0), k
    assert np.all(f["part_d0err"][charged] > 0) and np.all(f["part_dzerr"][charged] > 0)
    # b hadrons give displaced tracks; most tracks are prompt
    d0 = np.abs(f["part_d0val"][charged])
    assert 0.01 < np.mean(d0 > 0.05) < 0.5


def test_soft_drop_mass_medians(sample):
    out = sample
    median = {
        c: float(np.median(ak.to_numpy(read_class(out, c)["jet_sdmass"])))
        for c in ("Tbqq", "Wqq", "Hbb", "QCD")
    }
    assert 150 < median["Tbqq"] < 200, median
    assert 65 < median["Wqq"] < 95, median
    assert 110 < median["Hbb"] < 140, median
    assert median["QCD"] < 60, median


def test_leptonic_classes_contain_a_lepton(sample):
    out = sample
    for cls in ("Hqql", "Tbl"):
        a = read_class(out, cls)
        lep = ak.any((a["part_isElectron"] + a["part_isMuon"]) > 0, axis=1)
        assert ak.mean(lep) > 0.7, cls  # the rest are tau -> hadrons


def test_neutrinos_not_clustered(monkeypatch):
    seen = []
    real = J.jet_features

    def spy(parts, counts):
        seen.append(parts["pid"].copy())
        return real(parts, counts)

    monkeypatch.setattr(J, "jet_features", spy)
    J.silence_fastjet_banner()
    data, _ = G.generate_jets("Tbl", 10, G.task_seeds(1, "Tbl", 0, 1))
    assert len(data["jet_pt"]) == 10
    pids = np.abs(np.concatenate(seen))
    assert not np.isin(pids, (12, 14, 16)).any()
    assert np.isin(pids, (11, 13)).any()


def _all_arrays(out, skip=()):
    return {p.relative_to(out): read(p) for p in sorted(out.rglob("*.root")) if p.name not in skip}


def test_deterministic_across_workers(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    (two / "train").mkdir(parents=True)
    (two / "train" / "Unrelated_000.root").write_bytes(b"not ours")
    summary = G.generate(one, 12, classes=["Hbb", "Tbl"], seed=3, workers=1)
    assert summary["jets"] == {"Hbb": 12, "Tbl": 12} and len(summary["files"]) == 6
    G.generate(two, 12, classes="Hbb,Tbl", seed=3, workers=2)
    assert (two / "train" / "Unrelated_000.root").read_bytes() == b"not ours"
    a = _all_arrays(one)
    b = _all_arrays(two, skip=("Unrelated_000.root",))
    assert a.keys() == b.keys() and len(a) == 6
    for k in a:
        assert a[k].fields == b[k].fields
        for field in a[k].fields:
            assert ak.array_equal(a[k][field], b[k][field]), (k, field)
    # another seed gives other jets (and overwrites the file of the same name)
    G.generate(one, 12, classes=["Hbb"], seed=4, workers=1)
    other = read(one / "train" / "HToBB_000.root")["jet_pt"]
    assert not ak.array_equal(other, a[Path("train", "HToBB_000.root")]["jet_pt"])


def test_unknown_class_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="valid: QCD, Hbb"):
        G.generate(tmp_path, 5, classes=["Hbb", "Hxx"])
    with pytest.raises(SystemExit):
        G.main(["--out", str(tmp_path), "--jets-per-class", "5", "--classes", "Hxx"])
    assert not list(tmp_path.rglob("*.root"))


def test_gives_up_clearly_when_the_yield_is_too_low(monkeypatch):
    monkeypatch.setattr(G, "MIN_EVENTS_BEFORE_GIVING_UP", 5)
    monkeypatch.setattr(G, "MAX_EVENTS_PER_JET", 0.001)
    J.silence_fastjet_banner()
    with pytest.raises(RuntimeError, match="Hbb: only .* of 1000 jets after"):
        G.generate_jets("Hbb", 1000, G.task_seeds(1, "Hbb", 0, 1))


def test_jet_features_with_few_constituents():
    rng = np.random.default_rng(0)
    counts = [1, 2, 3, 6]
    n = sum(counts)
    px, py, pz = rng.normal(0, 5, n) + 100, rng.normal(0, 5, n), rng.normal(0, 5, n)
    parts = {
        "px": px,
        "py": py,
        "pz": pz,
        "e": np.sqrt(px**2 + py**2 + pz**2),
        "pid": np.array([211, 22] * (n // 2)),
        "charge": np.array([1.0, 0.0] * (n // 2)),
        "x": np.zeros(n),
        "y": np.zeros(n),
        "z": np.zeros(n),
    }
    out = J.jet_features(parts, counts)
    assert list(out["jet_nparticles"]) == counts
    assert out["jet_tau1"][0] == 0 and out["jet_tau2"][1] == 0 and out["jet_tau4"][2] == 0
    assert out["jet_tau1"][3] > 0
    assert np.all(np.isfinite(out["jet_sdmass"]))
