"""tf.data pipelines: the streaming path serves every jet exactly once per pass, in a seeded
shuffled order; the in-memory path reshuffles each epoch; pair features match data.features."""

import numpy as np
from jetfiles import class_files

from data import features as F
from data import pipeline, reader


def _labels(ds):
    return np.concatenate([y.numpy() for _, y in ds])


def test_streaming_serves_every_jet_once_per_pass(tmp_path):
    files = class_files(tmp_path, [37, 25, 41])
    scheme = reader.load_label_scheme()
    ds = pipeline.streaming(
        files, "kin", 8, scheme, batch_size=10, shuffle_buffer=30, seed=3, step_size=16
    )
    first, second = _labels(ds), _labels(ds)
    for labels in (first, second):
        assert np.bincount(labels, minlength=3)[:3].tolist() == [37, 25, 41]
    assert not np.array_equal(first, second)  # a new order each pass
    assert not np.array_equal(first, np.sort(first))  # classes are mixed, not file by file
    again = pipeline.streaming(
        files, "kin", 8, scheme, batch_size=10, shuffle_buffer=30, seed=3, step_size=16
    )
    np.testing.assert_array_equal(_labels(again), first)  # seeded


def test_in_memory_batches_and_pairs(tmp_path):
    files = class_files(tmp_path, [20, 13])
    arrays = reader.load_arrays(files, "kinpid", 8, reader.load_label_scheme())
    ds = pipeline.in_memory(arrays, batch_size=8, shuffle=True, seed=1)
    epochs = [_labels(ds) for _ in range(2)]
    assert sorted(epochs[0].tolist()) == sorted(arrays["labels"].tolist())
    assert not np.array_equal(epochs[0], epochs[1])
    (x, pairs, mask), y = next(iter(pipeline.in_memory(arrays, 33, shuffle=False)))
    assert x.shape == (33, 8, 13) and pairs.shape == (33, 8, 8, 4) and mask.shape == (33, 8)
    np.testing.assert_array_equal(pairs.numpy(), F.pair_inputs(arrays["vectors"], arrays["mask"]))
    np.testing.assert_array_equal(y.numpy(), arrays["labels"])


def test_onchip_batches_carry_the_particle_kinematics(tmp_path):
    files = class_files(tmp_path, [9, 7])
    arrays = pipeline.with_kinematics(
        reader.load_arrays(files, "kin", 8, reader.load_label_scheme()), "kin"
    )
    (x, kin, mask), _ = next(pipeline.batches(arrays, 16, shuffle=False, pairs="onchip"))
    assert kin.shape == (16, 8, len(F.KINEMATICS)) and kin.dtype == np.float32
    names = F.feature_names("kin")
    real = mask > 0
    pt = np.hypot(arrays["vectors"][..., 0], arrays["vectors"][..., 1]).astype(np.float64)
    np.testing.assert_allclose(kin[..., 0][real], np.log(pt[real]), rtol=1e-6)
    np.testing.assert_array_equal(kin[..., 1][real], x[..., names.index("part_deta")][real])
    np.testing.assert_array_equal(kin[..., 2][real], x[..., names.index("part_dphi")][real])
    assert not kin[~real].any()


def test_pipeline_benchmark_measures_root_and_shards(jet_sample, tmp_path):
    """make bench's pipeline benchmark on the sample: every row serves the whole training split
    (a rate, not a stand-in), from the ROOT files and from the shards it converted."""
    import json

    from bench import pipeline_bench

    out = tmp_path / "pipeline.json"
    sh = str(tmp_path / "sh")
    args = ["--data-dir", str(jet_sample), "--out", str(out), "--shards-dir", sh]
    pipeline_bench.main(args + ["--readers", "1,2", "--passes", "1"])
    result = json.loads(out.read_text())
    n_train = len(
        reader.load_arrays(_train(jet_sample), "kin", 4, reader.load_label_scheme())["mask"]
    )
    rows = result["streaming"]
    assert {r["source"] for r in rows} == {"root", "shards (none)", "shards (gzip)"}
    assert len(rows) == 6 + 8
    assert all(r["jets"] == n_train and r["jets_per_second"] > 0 for r in rows)
    assert {(c["n_particles"], c["pairs"], c["compression"]) for c in result["conversion"]} == {
        (32, "onchip", "none"),
        (32, "host", "none"),
        (128, "onchip", "none"),
        (128, "onchip", "gzip"),
    }
    for c in result["conversion"]:
        assert c["jets"] == n_train and c["bytes_per_jet"] > 0
    gzip = {
        c["compression"]: c["bytes_per_jet"]
        for c in result["conversion"]
        if c["n_particles"] == 128
    }
    assert gzip["gzip"] < gzip["none"]  # the stored rows compress


def _train(data_dir):
    from model.train import split_files

    return split_files(data_dir, "train")
