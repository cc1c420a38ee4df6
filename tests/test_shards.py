"""TFRecord training shards (data/shards.py, make shards): the batches they give are the ROOT
path's, value for value, in every pair-feature mode; every shard mixes the classes; each pass
serves every jet once in a new seeded order; a model trains from them; shards that do not match
the model or the files are refused by name."""

import json
import shutil

import numpy as np
import pytest
from jetfiles import class_files, random_jets, write_file

from data import pipeline, reader, shards
from model import shards as model_shards
from model.train import split_files, train

SCHEME = reader.load_label_scheme()


def _all(ds):
    xs, ys = [], []
    for x, y in ds:
        xs.append([a.numpy() for a in x])
        ys.append(y.numpy())
    return [np.concatenate(c) for c in zip(*xs)], np.concatenate(ys)


def _by_content(inputs, labels):
    """Rows sorted by their bytes: the same jets in any order compare equal."""
    keys = [inputs[0][i].tobytes() + bytes([labels[i]]) for i in range(len(labels))]
    order = np.argsort(np.array(keys, dtype=object))
    return [np.asarray(a)[order] for a in inputs], np.asarray(labels)[order]


@pytest.mark.parametrize("pairs", ["onchip", "host", "none"])
def test_shards_give_the_root_batches(tmp_path, pairs):
    files = class_files(tmp_path, [23, 31, 17], seed=5)
    m = shards.write(files, tmp_path / "sh", "kinpid", 12, pairs, SCHEME, jets_per_shard=20, mix=3)
    assert m["splits"]["train"]["jets"] == 71 and len(m["splits"]["train"]["shards"]) == 4
    got = _all(shards.dataset(tmp_path / "sh", m, 16, shuffle=False))
    arrays = reader.load_arrays(files, "kinpid", 12, SCHEME)
    if pairs == "onchip":
        arrays = pipeline.with_kinematics(arrays, "kinpid")
    want = pipeline._batch(arrays, np.arange(71), pairs)
    assert [a.shape for a in got[0]] == [np.shape(a) for a in want[0]]
    for a, b in zip(*(_by_content(*g)[0] for g in (got, want))):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(_by_content(*got)[1], _by_content(*want)[1])


def test_shards_mix_classes_and_serve_each_jet_once_per_pass(tmp_path):
    files = class_files(tmp_path, [40, 40, 40], seed=5)
    m = shards.write(files, tmp_path / "sh", "kin", 8, "onchip", SCHEME, jets_per_shard=30, mix=3)
    first = _all(shards.dataset(tmp_path / "sh", m, 10, shuffle=False))[1]
    # each shard of 30 jets holds the three classes, not one file after another
    for k in range(0, 120, 30):
        assert len(set(first[k : k + 30].tolist())) == 3
    ds = shards.dataset(tmp_path / "sh", m, 10, shuffle_buffer=25, seed=4)
    one, two = _all(ds)[1], _all(ds)[1]
    for labels in (one, two):
        assert np.bincount(labels).tolist() == [40, 40, 40]
    assert not np.array_equal(one, two)
    again = shards.dataset(tmp_path / "sh", m, 10, shuffle_buffer=25, seed=4)
    np.testing.assert_array_equal(_all(again)[1], one)


def test_shards_that_do_not_match_are_refused(tmp_path):
    files = class_files(tmp_path, [10, 12], seed=5)
    out = tmp_path / "sh"
    shards.write(files, out, "kin", 8, "onchip", SCHEME)
    with pytest.raises(
        shards.ShardError, match=r"manifest.json: n_particles is 8, the model needs 16"
    ):
        shards.load_manifest(out, "kin", 16, "onchip", SCHEME.names)
    with pytest.raises(shards.ShardError, match=r"pairs is 'onchip', the model needs 'host'"):
        shards.load_manifest(out, "kin", 8, "host", SCHEME.names)
    # the training files changed since the conversion: named, and a new conversion asked for
    extra = write_file(str(tmp_path / "class9.root"), random_jets(5, np.random.default_rng(1)))
    with pytest.raises(shards.ShardError, match=r"made from other files .* class9.root"):
        shards.load_manifest(out, "kin", 8, "onchip", SCHEME.names, files=files + [extra])
    with pytest.raises(shards.ShardError, match=r"already holds shards"):
        shards.write(files, out, "kin", 8, "onchip", SCHEME)
    victim = (
        out
        / "train"
        / json.loads((out / "manifest.json").read_text())["splits"]["train"]["shards"][0]["file"]
    )
    victim.unlink()
    with pytest.raises(shards.ShardError, match=rf"{victim.name}: missing shard"):
        shards.load_manifest(out, "kin", 8, "onchip", SCHEME.names)
    with pytest.raises(shards.ShardError, match=r"no shard manifest"):
        shards.load_manifest(tmp_path, "kin", 8, "onchip", SCHEME.names)


def test_part_tiny_trains_from_shards(jet_sample, tmp_path, capsys):
    cfg = {"data": {"features": "kin", "n_particles": 16}, "model": {"pair_features": "host"}}
    out = model_shards.default_dir(cfg, tmp_path / "shards")
    assert out.name == "kin-n16-host"
    assert (
        model_shards.main(
            ["--model", "part_tiny_host", "--data-dir", str(jet_sample), "--out", str(out)]
        )
        == 0
    )
    result = train(
        "part_tiny_host", jet_sample, epochs=1, root=tmp_path / "models", verbose=0, shards=out
    )
    assert result["train_input"] == f"shards {out}"
    assert result["n_train"] == len(split_files(jet_sample, "train")) * 80
    assert "from the shards in" in capsys.readouterr().out
    # a model with other inputs is refused before it trains
    with pytest.raises(shards.ShardError, match=r"features is 'kin', the model needs 'full'"):
        train("part_trigger", jet_sample, epochs=1, root=tmp_path / "models", shards=out)
    shutil.rmtree(out)
