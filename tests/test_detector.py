"""The parametric detector (data/detector.py): its card's checks, the response to single
particles, and distributions of small detector-level samples beside generator-level ones made
with the same seed (Tbqq and QCD, 25 jets each: a few seconds)."""

import re
import shutil

import awkward as ak
import numpy as np
import pytest
import uproot
import yaml
from jetfiles import random_jets, write_file

from data import detector as D
from data import generate as G
from data import reader
from data.schema import DETECTOR_KEY, FILE_STEMS, TREE
from infra.yamlconfig import ConfigError

CARD = D.CARD_DIR / "cms.yml"
CLASSES = ("Tbqq", "QCD")
N = 25


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    root = tmp_path_factory.mktemp("detector")
    for det in ("cms", "none"):
        G.generate(root / det, N, classes=list(CLASSES), seed=11, workers=1, detector=det)
    return root


def _read(d, cls):
    return ak.concatenate(
        [uproot.open(d / s / f"{FILE_STEMS[cls]}_000.root")[TREE].arrays() for s in G.SPLITS]
    )


def _flat(a, name):
    return ak.to_numpy(ak.flatten(a[name])).astype(np.float64)


# ----------------------------------------------------------------------------- the card


def _bad_card(tmp_path, edit):
    cfg = yaml.safe_load(CARD.read_text())
    edit(cfg)
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda c: c["tracker"].update(typo=1), "typo"),
        (
            lambda c: c["tracker"]["momentum_resolution"]["hadron"].update(a=[0.06, -0.1, 0.25]),
            "tracker.momentum_resolution.hadron.a",
        ),
        (
            lambda c: c["calorimeters"]["ecal"]["resolution"][0].update(stochastic=-0.11),
            "calorimeters.ecal.resolution[0].stochastic",
        ),
        (
            lambda c: c["calorimeters"]["ecal"]["granularity"][0].update(deta=0.05),
            "calorimeters.ecal.granularity[0]: deta 0.05 does not tile",
        ),
        (
            lambda c: c["calorimeters"]["hcal"]["granularity"][1].update(
                abs_eta_edges=[1.74, 1.6, 3.125]
            ),
            "calorimeters.hcal.granularity[1]: abs_eta_edges do not tile",
        ),
        (
            lambda c: c["tracker"]["efficiency"]["muon"].update(values=[[0.75, 1.2], [0.7, 0.98]]),
            "tracker.efficiency.muon.values[0]",
        ),
    ],
)
def test_a_bad_card_is_one_line_naming_file_and_key(tmp_path, edit, key):
    path = _bad_card(tmp_path, edit)
    with pytest.raises(ConfigError) as err:
        D.load_card(str(path))
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(str(path)) and key in msg, msg


def test_card_loads_and_its_record_follows_its_bytes(tmp_path):
    card = D.load_card("cms")
    assert card.name == "cms" and re.fullmatch(r"cms sha256:[0-9a-f]{16}", card.record)
    assert D.load_card("none") is None and D.record_of(None) == "none"
    # the ECAL tiles |eta| < 2.958 in 170 steps of 0.0174 x 360 phi bins, then 11 forward
    # rings of 36 up to |eta| = 5, both signs
    assert card.ecal.n_towers == 2 * (170 * 360 + 11 * 36)
    copy = tmp_path / "cms.yml"
    copy.write_text(CARD.read_text() + "\n# edited\n")
    assert D.load_card(str(copy)).record != card.record
    with pytest.raises(ConfigError, match="no such detector config"):
        D.load_card("atlas")


# ----------------------------------------------------------------------------- single particles


def _one_particle_events(n, pid, charge, energy, eta, phi=0.4, mass=0.0):
    pt = np.sqrt(energy**2 - mass**2) / np.cosh(eta)
    z = np.zeros(n)
    parts = {
        "px": np.full(n, pt * np.cos(phi)),
        "py": np.full(n, pt * np.sin(phi)),
        "pz": np.full(n, pt * np.sinh(eta)),
        "e": np.full(n, energy),
        "pid": np.full(n, pid),
        "charge": np.full(n, float(charge)),
        "x": z,
        "y": z,
        "z": z,
    }
    return parts, np.ones(n, dtype=np.int64)


def test_a_photon_becomes_one_massless_ecal_candidate_with_the_card_resolution():
    card = D.load_card("cms")
    parts, counts = _one_particle_events(400, 22, 0, 100.0, 0.3)
    out, per_event = D.respond(card, np.random.default_rng(1), parts, counts)
    assert np.all(per_event == 1) and np.all(out["pid"] == 22) and np.all(out["charge"] == 0)
    assert np.allclose(out["e"] ** 2, out["px"] ** 2 + out["py"] ** 2 + out["pz"] ** 2)
    # the card's barrel ECAL: (1 + 0.64 eta^2) sqrt((0.008 E)^2 + 0.11^2 E + 0.40^2) at the
    # tower centre (eta 0.3 lies in the tower 0.2958..0.3132)
    eta_c = 0.3045
    sigma = (1 + 0.64 * eta_c**2) * np.sqrt((0.008 * 100) ** 2 + 0.11**2 * 100 + 0.40**2)
    assert abs(out["e"].mean() - 100.0) < 3 * sigma / np.sqrt(400)
    assert 0.85 < out["e"].std() / sigma < 1.15
    # the card smears the direction over the tower: 17 * 0.0174 .. 18 * 0.0174 in eta, 1 degree
    pt = np.hypot(out["px"], out["py"])
    eta = np.arcsinh(out["pz"] / pt)
    phi = np.arctan2(out["py"], out["px"])
    assert np.all((eta > 17 * 0.0174) & (eta < 18 * 0.0174)) and eta.std() > 0.003
    assert np.all((phi > np.radians(22)) & (phi < np.radians(23)))


def test_charged_pions_are_tracked_with_the_card_efficiency_and_smeared_ip():
    card = D.load_card("cms")
    parts, counts = _one_particle_events(2000, 211, 1, 20.0, 0.2, mass=0.13957)
    out, _ = D.respond(card, np.random.default_rng(2), parts, counts)
    tracks = out["charge"] != 0
    # efficiency 0.95 at |eta| < 1.5, pT > 1 GeV: binomial spread on 2000 is 0.005
    assert abs(tracks.sum() / 2000 - 0.95) < 0.02
    # a prompt track's d0 is pure smearing: pull d0/d0err ~ N(0, 1), err from the card's table
    pull = out["d0"][tracks] / out["d0err"][tracks]
    assert abs(pull.std() - 1) < 0.08 and abs(pull.mean()) < 0.08
    # trackResolutionCMS.tcl: |eta| 0-0.9, pT 18.2024-22.2360 GeV: 0.0143 mm
    assert np.allclose(out["d0err"][tracks], 0.0143)
    # tracks keep the pion mass; what is not tracked comes back as HCAL neutral hadrons
    m2 = out["e"] ** 2 - out["px"] ** 2 - out["py"] ** 2 - out["pz"] ** 2
    assert np.allclose(np.sqrt(m2[tracks]), 0.13957, atol=1e-3)
    assert set(out["pid"][~tracks]) <= {D.NEUTRAL_HADRON_PID}


def test_towers_merge_neutrals_at_the_card_granularity(tmp_path):
    """Two photons 0.005 apart in eta fall in one ECAL tower (0.0174 x 1 degree) and come out as
    one photon; a photon and a K0L in one direction give an ECAL and an HCAL candidate, which
    share one direction when tower centres are not smeared and do not when they are."""
    base = yaml.safe_load(CARD.read_text())
    for smear in (False, True):
        base["calorimeters"]["smear_tower_center"] = smear
        path = tmp_path / f"smear_{smear}.yml"
        path.write_text(yaml.safe_dump(base))
        card = D.load_card(str(path))
        a, _ = _one_particle_events(1, 22, 0, 50.0, 0.3005)
        b, _ = _one_particle_events(1, 22, 0, 30.0, 0.3055)
        out, n = D.respond(card, np.random.default_rng(3), _concat(a, b), np.array([2]))
        assert list(n) == [1] and list(out["pid"]) == [22]
        a, _ = _one_particle_events(1, 22, 0, 50.0, 0.31)
        b, _ = _one_particle_events(1, 130, 0, 50.0, 0.31)
        out, n = D.respond(card, np.random.default_rng(4), _concat(a, b), np.array([2]))
        assert list(n) == [2] and sorted(out["pid"]) == [D.NEUTRAL_HADRON_PID, 22]
        pt = np.hypot(out["px"], out["py"])
        direction = np.stack([np.arcsinh(out["pz"] / pt), np.arctan2(out["py"], out["px"])], 1)
        same = np.allclose(direction[0], direction[1], atol=1e-9)
        assert same == (not smear), smear


def _concat(a, b):
    return {k: np.concatenate([a[k], b[k]]) for k in a}


# ----------------------------------------------------------------------------- small samples


def test_files_record_their_detector(samples):
    card = D.load_card("cms")
    for det, want in (("cms", card.record), ("none", "none")):
        for f in sorted((samples / det).rglob("*.root")):
            with uproot.open(f) as r:
                assert str(r[DETECTOR_KEY]) == want, f
    assert G.already_generated(samples / "cms", N, list(CLASSES), 11, detector="cms")
    assert not G.already_generated(samples / "cms", N, list(CLASSES), 11, detector="none")


def test_candidates_look_like_detector_objects(samples):
    for cls in CLASSES:
        a = _read(samples / "cms", cls)
        q = _flat(a, "part_charge")
        e, px, py, pz = (_flat(a, f"part_{k}") for k in ("energy", "px", "py", "pz"))
        m2 = e**2 - px**2 - py**2 - pz**2
        neutral = q == 0
        assert np.all(np.abs(m2[neutral]) <= 1e-5 * e[neutral] ** 2), cls  # towers: massless
        # neutral candidates pass the towers' energy thresholds (ECAL 0.5, HCAL 1.0 GeV)
        photon, nh = _flat(a, "part_isPhoton") > 0, _flat(a, "part_isNeutralHadron") > 0
        assert e[photon].min() > 0.5 and e[nh].min() > 1.0, cls
        # tracking starts at 0.1 GeV; only the pT smearing and the calorimeter's rescaling
        # move a few tracks below
        assert np.mean(np.hypot(px, py)[~neutral] < 0.1) < 0.01, cls
        # every track has a measured (non-zero) d0 and dz, and the quoted errors describe the
        # smearing: in QCD jets, where prompt tracks dominate, the pulls' robust width is about
        # 1; b decays in top jets widen it
        for v, err in (("part_d0val", "part_d0err"), ("part_dzval", "part_dzerr")):
            val, sig = _flat(a, v)[~neutral], _flat(a, err)[~neutral]
            assert np.all(val != 0) and np.all(sig > 0), (cls, v)
            width = np.median(np.abs(val / sig)) / 0.6745
            if cls == "QCD":
                assert 0.85 < width < 1.2, (cls, v, width)
            else:
                assert width > 1.0, (cls, v, width)


def test_detector_jets_differ_from_generator_jets_where_a_detector_acts(samples):
    for cls in CLASSES:
        det, gen = _read(samples / "cms", cls), _read(samples / "none", cls)
        n_det = np.median(ak.to_numpy(det["jet_nparticles"]))
        n_gen = np.median(ak.to_numpy(gen["jet_nparticles"]))
        assert n_det < 0.9 * n_gen, (cls, n_det, n_gen)
        soft = {
            k: np.mean(np.hypot(_flat(a, "part_px"), _flat(a, "part_py")) < 0.5)
            for k, a in (("det", det), ("gen", gen))
        }
        assert soft["det"] < 0.5 * soft["gen"], (cls, soft)
        # generator-level prompt tracks have d0 = 0 exactly; measured ones never
        q = _flat(gen, "part_charge") != 0
        assert np.mean(np.abs(_flat(gen, "part_d0val")[q]) < 1e-9) > 0.5, cls


def test_training_refuses_files_of_two_detectors_and_reads_files_without_a_record(
    samples, tmp_path
):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    a = shutil.copy(samples / "cms" / "train" / "TTBar_000.root", mixed / "TTBar_000.root")
    b = shutil.copy(
        samples / "none" / "train" / "ZJetsToNuNu_000.root", mixed / "ZJetsToNuNu_000.root"
    )
    with pytest.raises(reader.DataError) as err:
        reader.check_files(sorted([a, b]), ["part_px"])
    msg = str(err.value)
    assert "\n" not in msg and str(a) in msg and str(b) in msg and "'none'" in msg, msg
    # a file without a record (the real release, older samples) is read beside either
    plain = write_file(str(tmp_path / "HToBB_000.root"), random_jets(10, np.random.default_rng(0)))
    with uproot.open(plain) as f:
        assert DETECTOR_KEY not in f
    assert reader.check_files([a, plain], ["part_px"]) == 10 + uproot.open(a)[TREE].num_entries


def test_train_refuses_a_data_directory_of_two_detectors(samples, tmp_path):
    from model.train import train

    data = tmp_path / "data"
    for split, det in (("train", "cms"), ("val", "none"), ("test", "cms")):
        (data / split).mkdir(parents=True)
        shutil.copy(samples / det / split / "TTBar_000.root", data / split / "TTBar_000.root")
    with pytest.raises(reader.DataError, match="made with detector 'cms sha256:.*' but .* 'none'"):
        train("part_tiny", data, epochs=1, root=tmp_path / "models", verbose=0)
    assert not (tmp_path / "models").exists() or not list((tmp_path / "models").rglob("*.keras"))


def test_the_merge_weighs_tracks_only_when_the_card_says_so(tmp_path):
    """With JetClass's card a track has no weight in its tower's merge: without a significant
    neutral excess the tracks take the HCAL's energy (about 34% resolution at 20 GeV, against
    the tracker's 6.5%), and a soft pion whose tower falls below threshold loses its track."""
    base = yaml.safe_load(CARD.read_text())
    spread, kept = {}, {}
    for weigh in (True, False):
        base["calorimeters"]["tracks_weigh_in_merge"] = weigh
        path = tmp_path / f"weigh_{weigh}.yml"
        path.write_text(yaml.safe_dump(base))
        card = D.load_card(str(path))
        parts, counts = _one_particle_events(2000, 211, 1, 20.0, 0.2, mass=0.13957)
        out, _ = D.respond(card, np.random.default_rng(5), parts, counts)
        tracks = out["charge"] != 0
        spread[weigh] = np.hypot(out["px"], out["py"])[tracks].std() / (20.0 / np.cosh(0.2))
        parts, counts = _one_particle_events(2000, 211, 1, 0.8, 0.2, mass=0.13957)
        out, _ = D.respond(card, np.random.default_rng(6), parts, counts)
        kept[weigh] = np.sum(out["charge"] != 0) / 2000
    assert spread[True] < 0.09 and spread[False] > 0.15, spread
    # 0.8 GeV at |eta| 0.2: efficiency 0.70; the HCAL's 1 GeV threshold takes most of them
    assert abs(kept[True] - 0.70) < 0.04 and kept[False] < 0.35, kept
