"""Reader: round trip on JetClass-format files, label schemes, and every bad input."""

import awkward as ak
import numpy as np
import pytest
import uproot
from jetfiles import random_jets, write_file

from data import reader
from data.schema import LABEL_BRANCHES
from infra.yamlconfig import ConfigError


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("jets")
    rng = np.random.default_rng(5)
    a = write_file(str(d / "HToBB_000.root"), random_jets(30, rng, class_index=1))
    b = write_file(str(d / "TTBar_000.root"), random_jets(25, rng, class_index=8))
    return d, a, b


def test_round_trip(two_files):
    d, a, b = two_files
    files = reader.resolve_files(str(d / "*.root"))
    assert files == sorted([a, b])
    out = reader.load_arrays(
        files, "kinpid", 20, reader.load_label_scheme("jetclass"), extra_branches=["jet_pt"]
    )
    assert out["features"].shape == (55, 20, 13)
    # File order is sorted: HToBB first (class 1) then TTBar (class 8).
    np.testing.assert_array_equal(out["labels"], [1] * 30 + [8] * 25)
    raw = uproot.open(a)["tree"].arrays(["part_px", "part_energy", "jet_pt"])
    counts = ak.to_numpy(ak.num(raw["part_px"]))
    np.testing.assert_array_equal(out["mask"][:30].sum(1), np.minimum(counts, 20))
    np.testing.assert_array_equal(out["jet_pt"][:30], ak.to_numpy(raw["jet_pt"]))
    # The leading energy read back equals the file's highest-pT particle energy.
    pt = np.hypot(raw["part_px"], uproot.open(a)["tree"]["part_py"].array())
    lead = ak.to_numpy(raw["part_energy"][ak.argmax(pt, axis=1, keepdims=True)][:, 0])
    np.testing.assert_allclose(out["vectors"][:30, 0, 3], lead, rtol=1e-6)


def test_max_per_file_samples_every_file(two_files):
    d, *_ = two_files
    out = reader.load_arrays(
        reader.resolve_files(str(d / "*.root")),
        "kin",
        8,
        reader.load_label_scheme(),
        max_per_file=5,
    )
    np.testing.assert_array_equal(out["labels"], [1] * 5 + [8] * 5)


def test_chunks_are_bounded(two_files):
    d, a, _ = two_files
    sizes = [len(c["mask"]) for c in reader.iterate([a], "kin", 8, None, step_size=7)]
    assert sizes == [7, 7, 7, 7, 2]


def test_no_labels_for_inference(tmp_path):
    jets = random_jets(10, np.random.default_rng(0))
    for b in LABEL_BRANCHES:
        del jets[b]
    path = write_file(str(tmp_path / "unlabelled.root"), jets)
    out = reader.load_arrays([path], "full", 8, labels=None)
    assert "labels" not in out and out["features"].shape == (10, 8, 17)
    with pytest.raises(reader.DataError, match=r"unlabelled.root.*missing branch.*label_QCD"):
        reader.load_arrays([path], "full", 8, reader.load_label_scheme())


def test_index_label_scheme(tmp_path):
    jets = random_jets(6, np.random.default_rng(0))
    for b in LABEL_BRANCHES:
        del jets[b]
    jets["jet_label"] = np.array([0, 3, 9, 2, 2, 1], np.int32)
    path = write_file(str(tmp_path / "indexed.root"), jets)
    out = reader.load_arrays([path], "kin", 8, reader.load_label_scheme("jet_label"))
    np.testing.assert_array_equal(out["labels"], [0, 3, 9, 2, 2, 1])
    jets["jet_label"] = np.array([0, 3, 10, 2, 2, 1], np.int32)
    bad = write_file(str(tmp_path / "bad_index.root"), jets)
    with pytest.raises(reader.DataError, match=r"bad_index.root.*jet_label.*10"):
        reader.load_arrays([bad], "kin", 8, reader.load_label_scheme("jet_label"))


def test_missing_branch(tmp_path):
    jets = random_jets(5, np.random.default_rng(0))
    del jets["part_dzerr"]
    path = write_file(str(tmp_path / "nodz.root"), jets)
    reader.load_arrays([path], "kin", 8, reader.load_label_scheme())  # kin does not need it
    with pytest.raises(reader.DataError, match=r"nodz.root.*missing branch\(es\) part_dzerr"):
        reader.load_arrays([path], "full", 8, reader.load_label_scheme())


def test_truncated_and_non_root_files(two_files, tmp_path):
    _, a, _ = two_files
    data = open(a, "rb").read()
    trunc = tmp_path / "truncated.root"
    trunc.write_bytes(data[: len(data) // 3])
    with pytest.raises(reader.DataError, match=r"truncated.root"):
        reader.load_arrays([str(trunc)], "kin", 8, reader.load_label_scheme())
    # Cut inside the last baskets: the header still opens, the data read fails.
    tail = tmp_path / "tail_cut.root"
    tail.write_bytes(data[: len(data) - 600])
    with pytest.raises(reader.DataError, match=r"tail_cut.root"):
        reader.load_arrays([str(tail)], "full", 8, reader.load_label_scheme())
    text = tmp_path / "notes.root"
    text.write_text("this is not a ROOT file\n" * 20)
    with pytest.raises(reader.DataError, match=r"notes.root: not a readable ROOT file"):
        reader.check_files([str(text)], ["part_px"])


def test_empty_tree_and_wrong_tree_name(tmp_path):
    jets = random_jets(3, np.random.default_rng(0))
    empty = {k: v[:0] for k, v in jets.items()}
    path = write_file(str(tmp_path / "empty.root"), empty)
    with pytest.raises(reader.DataError, match=r"empty.root: tree 'tree' is empty"):
        reader.check_files([path], ["part_px"])
    other = tmp_path / "other.root"
    with uproot.recreate(other) as f:
        f.mktree("events", {"x": np.float32})
        f["events"].extend({"x": np.zeros(2, np.float32)})
    with pytest.raises(reader.DataError, match=r"other.root: no TTree named 'tree'"):
        reader.check_files([str(other)], ["part_px"])


def test_labels_not_one_hot(tmp_path):
    jets = random_jets(4, np.random.default_rng(0), class_index=2)
    jets["label_QCD"] = np.array([False, True, False, False])  # entry 1 has two labels set
    path = write_file(str(tmp_path / "twohot.root"), jets)
    with pytest.raises(reader.DataError, match=r"twohot.root: labels .* not one-hot \(entry 1"):
        reader.load_arrays([path], "kin", 8, reader.load_label_scheme())


def test_no_files_and_bad_scheme(tmp_path):
    with pytest.raises(reader.DataError, match=r"no ROOT files match .*nothing_here"):
        reader.resolve_files(str(tmp_path / "nothing_here" / "*.root"))
    bad = tmp_path / "scheme.yml"
    bad.write_text("type: one_hot\nnames: [a, b]\nbranches: [x]\ncolour: red\n")
    with pytest.raises(ConfigError, match=r"scheme.yml: unknown key\(s\) 'colour'"):
        reader.load_label_scheme(str(bad))
    with pytest.raises(ConfigError, match=r"no_such_scheme.yml: no such config file"):
        reader.load_label_scheme("no_such_scheme")
