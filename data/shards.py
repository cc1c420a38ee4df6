"""Training shards: the ROOT files of a split converted once into TFRecord files that tf.data
reads, decodes and pads in C++ (no Python, no GIL), so that the input pipeline can feed a GPU.

Why: reading ROOT is uproot decoding plus awkward padding in Python, a few thousand jets/s per
process (bench/pipeline_bench.py); the shards are read at the rate of the disk.

    <out>/manifest.json          what the shards hold and where they came from (checked on read)
    <out>/<split>/shard-<group>-<k>.tfrecord

One record per jet: `x`, its real particles only (n x W float32, little-endian; W = the
feature set's features, then the vectors (host pair features: 4) or the kinematics (on-chip:
3) or nothing (none)), `n` and the class index `y`. Reading pads x to N particles with zeros and
rebuilds the mask from n: the batches are equal, value for value, to those read from ROOT
(data.pipeline). Files are converted in groups of `mix` (one class per file in JetClass): each
group's files are read chunk by chunk in turn and each round is shuffled (seeded), so every
shard mixes the classes; groups are independent, one process each.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import time
from pathlib import Path

import numpy as np

from data import features as F
from data import reader
from data.pairmode import MODES, pair_mode
from infra.errors import QpartError

FORMAT = "qpart-tfrecord-1"
MANIFEST = "manifest.json"


class ShardError(QpartError, ValueError):
    """Shards that do not match the model, the data or their own manifest."""


def _source(path) -> dict:
    p = Path(path)
    return {"file": p.name, "bytes": p.stat().st_size}


def _sources_digest(sources) -> str:
    return hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()[:16]


def _rows(chunk, feature_set, pairs):
    """A chunk -> (J, N, W) float32 rows, n per jet, labels."""
    mode = pair_mode(pairs)
    chunk = mode.prepare(chunk, feature_set)
    parts = [chunk["features"]] + ([chunk[mode.side]] if mode.side else [])
    rows = np.concatenate(parts, axis=-1).astype("<f4")
    n = chunk["mask"].sum(axis=1).astype(np.int64)
    if not np.array_equal(chunk["mask"], np.arange(chunk["mask"].shape[1]) < n[:, None]):
        raise ShardError("the mask is not a prefix of the particles: cannot store jets jagged")
    return rows, n, chunk["labels"].astype(np.int64)


def _example(row, n, y) -> bytes:
    import tensorflow as tf

    feat = tf.train.Feature
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "x": feat(bytes_list=tf.train.BytesList(value=[row[:n].tobytes()])),
                "n": feat(int64_list=tf.train.Int64List(value=[n])),
                "y": feat(int64_list=tf.train.Int64List(value=[y])),
            }
        )
    ).SerializeToString()


def _write_group(job) -> list[dict]:
    """Convert one group of files into shards; returns [{file, jets}] of the shards written."""
    import tensorflow as tf

    group, files, out_dir, feature_set, n_particles, scheme, jets_per_shard, seed, options = job
    rng = np.random.default_rng([seed, group])
    streams = [
        reader.iterate([f], feature_set, n_particles, scheme, step_size=options["step_size"])
        for f in files
    ]
    written, writer, count = [], None, 0
    compression = {"none": None, "gzip": "GZIP"}[options["compression"]]

    def roll():
        nonlocal writer, count
        if writer is not None:
            writer.close()
            written[-1]["jets"] = count
        name = f"shard-{group:04d}-{len(written):03d}.tfrecord"
        writer = tf.io.TFRecordWriter(str(out_dir / name), options=compression)
        written.append({"file": name, "jets": 0})
        count = 0

    roll()
    for round_ in itertools.zip_longest(*streams):
        chunks = [c for c in round_ if c is not None]
        rows, n, y = zip(*(_rows(c, feature_set, options["pairs"]) for c in chunks))
        rows, n, y = np.concatenate(rows), np.concatenate(n), np.concatenate(y)
        for j in rng.permutation(len(y)):
            if count == jets_per_shard:
                roll()
            writer.write(_example(rows[j], int(n[j]), int(y[j])))
            count += 1
    writer.close()
    written[-1]["jets"] = count
    return [w for w in written if w["jets"]]


def write(
    files,
    out,
    feature_set: str,
    n_particles: int,
    pairs: str,
    scheme: reader.LabelScheme,
    split="train",
    jets_per_shard=100_000,
    mix=10,
    seed=0,
    workers=1,
    compression="none",
    step_size=20_000,
) -> dict:
    """Convert `files` (one split) into shards under out/<split>/; returns the manifest.
    With workers > 1 the groups go to spawned processes: a script that calls this needs the
    usual `if __name__ == "__main__":` guard."""
    if pairs not in MODES:
        raise ShardError(f"pairs must be one of {', '.join(MODES)}, got {pairs!r}")
    if compression not in ("none", "gzip"):
        raise ShardError(f"compression must be none or gzip, got {compression!r}")
    out = Path(out)
    split_dir = out / split
    if split_dir.exists() and any(split_dir.iterdir()):
        raise ShardError(f"{split_dir} already holds shards; remove it to convert again")
    split_dir.mkdir(parents=True, exist_ok=True)
    files = [str(f) for f in files]
    n_jets = reader.check_files(files, F.required_branches(feature_set) + scheme.label_branches)
    order = np.random.default_rng(seed).permutation(len(files))
    groups = [[files[i] for i in order[k : k + mix]] for k in range(0, len(files), max(1, mix))]
    options = {"pairs": pairs, "compression": compression, "step_size": step_size}
    jobs = [
        (g, group, split_dir, feature_set, n_particles, scheme, jets_per_shard, seed, options)
        for g, group in enumerate(groups)
    ]
    workers = max(1, min(workers, len(jobs)))
    print(
        f"[shards] {len(files)} {split} files ({n_jets} jets) in {len(groups)} group(s) of up "
        f"to {mix}, {workers} process(es) -> {split_dir}",
        flush=True,
    )
    t0, shards = time.perf_counter(), []
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) if workers > 1 else _Inline() as pool:
        for k, written in enumerate(pool.imap(_write_group, jobs), 1):
            shards += written
            done = sum(s["jets"] for s in shards)
            rate = done / max(time.perf_counter() - t0, 1e-9)
            print(
                f"[shards] group {k}/{len(jobs)}: {done}/{n_jets} jets, {rate:.0f} jets/s",
                flush=True,
            )
    width = MODES[pairs].side_width
    manifest = {
        "format": FORMAT,
        "features": feature_set,
        "feature_names": F.feature_names(feature_set),
        "n_particles": n_particles,
        "pairs": pairs,
        "width": len(F.feature_names(feature_set)) + width,
        "class_names": list(scheme.names),
        "compression": compression,
        "seed": seed,
        "splits": {},
    }
    path = out / MANIFEST
    if path.exists():
        old = json.loads(path.read_text())
        if {k: old.get(k) for k in manifest if k != "splits"} != {
            k: v for k, v in manifest.items() if k != "splits"
        }:
            raise ShardError(f"{path}: these shards hold another format or feature set")
        manifest["splits"] = old["splits"]
    sources = [_source(f) for f in files]
    manifest["splits"][split] = {
        "jets": sum(s["jets"] for s in shards),
        "sources": sources,
        "sources_digest": _sources_digest(sources),
        "source_dir": str(Path(files[0]).parent.resolve()),
        "shards": shards,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    path.write_text(json.dumps(manifest, indent=1))
    print(f"[shards] {manifest['splits'][split]['jets']} jets -> {path}", flush=True)
    return manifest


class _Inline:
    """multiprocessing.Pool's imap in this process (one worker: no spawn, no TF reimport)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap(self, fn, jobs):
        return map(fn, jobs)


def load_manifest(
    shard_dir, feature_set, n_particles, pairs, class_names, split="train", files=None
):
    """The manifest of shard_dir, checked against what the model reads (and, with `files`, the
    ROOT files the split must come from); names the key that differs."""
    path = Path(shard_dir) / MANIFEST
    if not path.exists():
        raise ShardError(f"{path}: no shard manifest (make shards writes it)")
    try:
        m = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ShardError(f"{path}: not valid JSON ({err})") from None
    want = {
        "format": FORMAT,
        "features": feature_set,
        "n_particles": n_particles,
        "pairs": pairs,
        "class_names": list(class_names),
    }
    for key, value in want.items():
        if m.get(key) != value:
            raise ShardError(
                f"{path}: {key} is {m.get(key)!r}, the model needs {value!r}; rerun make shards "
                "for this model"
            )
    if split not in m.get("splits", {}):
        raise ShardError(f"{path}: no {split!r} split (has {', '.join(m.get('splits', {}))})")
    entry = m["splits"][split]
    if files is not None and entry["sources_digest"] != _sources_digest(
        [_source(f) for f in files]
    ):
        have = {s["file"] for s in entry["sources"]}
        now = {Path(f).name for f in files}
        diff = sorted(have ^ now) or ["(same names, other sizes)"]
        raise ShardError(
            f"{path}: the {split} shards were made from other files than {len(files)} in "
            f"{Path(files[0]).parent} (differ: {', '.join(diff[:3])}); rerun make shards"
        )
    for s in entry["shards"]:
        if not (Path(shard_dir) / split / s["file"]).exists():
            raise ShardError(f"{Path(shard_dir) / split / s['file']}: missing shard")
    return m


def dataset(
    shard_dir,
    manifest,
    batch_size,
    shuffle_buffer=100_000,
    seed=0,
    readers=4,
    split="train",
    shuffle=True,
):
    """A tf.data.Dataset of batches ((features, [vectors -> pair features | kinematics], mask),
    labels) from shards: files in a seeded order each pass, `readers` read in parallel,
    shuffled per jet, batched, then decoded and padded per batch in C++."""
    import tensorflow as tf

    entry = manifest["splits"][split]
    paths = [str(Path(shard_dir) / split / s["file"]) for s in entry["shards"]]
    n_part, width = manifest["n_particles"], manifest["width"]
    n_feat = len(manifest["feature_names"])
    mode = pair_mode(manifest["pairs"])
    compression = {"none": "", "gzip": "GZIP"}[manifest["compression"]]
    spec = {
        "x": tf.io.FixedLenFeature([], tf.string),
        "n": tf.io.FixedLenFeature([], tf.int64),
        "y": tf.io.FixedLenFeature([], tf.int64),
    }

    def decode(serialized):
        p = tf.io.parse_example(serialized, spec)
        x = tf.io.decode_raw(p["x"], tf.float32, fixed_length=4 * n_part * width)
        x = tf.reshape(x, (-1, n_part, width))
        mask = tf.sequence_mask(p["n"], n_part, tf.float32)
        side = [mode.tf_pair_input(x[..., n_feat:], mask, n_part)] if mode.side else []
        return (x[..., :n_feat], *side, mask), tf.cast(p["y"], tf.int32)

    ds = tf.data.Dataset.from_tensor_slices(paths)
    if shuffle:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    lanes = max(1, min(readers, len(paths)))
    ds = ds.interleave(
        lambda f: tf.data.TFRecordDataset(f, compression),
        cycle_length=lanes,
        num_parallel_calls=lanes,
        deterministic=True,
    )
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
