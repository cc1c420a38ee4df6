"""Input-pipeline benchmark: jets/s of the training input pipeline alone (no model) ->
build/bench/pipeline.json. Two sources of the same training split:

- ROOT files streamed (data.pipeline.streaming): uproot decoding and padding in Python;
- TFRecord shards made once (data.shards, `make shards`): decoded and padded in C++. Their
  conversion is timed too (jets/s, bytes per jet).

each with one file reader and several in parallel, and with the host's pair features against
the on-chip kinematics (and N = 128, the real JetClass's particle count).

Why: a GPU consumes thousands of jets per second (docs/scale.md); the pipeline must not be
what limits training on the real JetClass."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from bench.common import write_json
from infra.paths import BUILD

# (particles, pair mode, shard compressions measured)
CASES = ((32, "onchip", ("none",)), (32, "host", ("none",)), (128, "onchip", ("none", "gzip")))


def _rate(ds, passes=2, **row) -> dict:
    """The last of `passes` passes (the first warms tf.data's autotuning and the file cache)."""
    for _ in range(passes):
        t0 = time.perf_counter()
        n = sum(int(y.shape[0]) for _, y in ds)
        seconds = time.perf_counter() - t0
    return dict(row, jets=n, seconds=round(seconds, 2), jets_per_second=round(n / seconds, 1))


def streaming_rate(
    files, scheme, feature_set, n_particles, pairs, readers, batch_size, passes=2
) -> dict:
    """One pass over the ROOT files through data.pipeline.streaming."""
    from data import pipeline

    ds = pipeline.streaming(
        files,
        feature_set,
        n_particles,
        scheme,
        batch_size,
        shuffle_buffer=20_000,
        pairs=pairs,
        readers=readers,
    )
    return _rate(
        ds,
        passes,
        source="root",
        features=feature_set,
        n_particles=n_particles,
        pairs=pairs,
        readers=readers,
        files=len(files),
    )


def shard_rates(
    files, scheme, feature_set, n_particles, pairs, out, batch_size, compression, readers, passes
):
    """Convert the files into shards (timed), then one pass per reader count."""
    from data import shards

    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    manifest = shards.write(
        files, out, feature_set, n_particles, pairs, scheme, compression=compression
    )
    seconds = time.perf_counter() - t0
    entry = manifest["splits"]["train"]
    size = sum(p.stat().st_size for p in Path(out).glob("train/*.tfrecord"))
    conversion = {
        "features": feature_set,
        "n_particles": n_particles,
        "pairs": pairs,
        "compression": compression,
        "jets": entry["jets"],
        "shards": len(entry["shards"]),
        "seconds": round(seconds, 2),
        "jets_per_second": round(entry["jets"] / seconds, 1),
        "bytes_per_jet": round(size / entry["jets"], 1),
    }
    reads = [
        _rate(
            shards.dataset(out, manifest, batch_size, shuffle_buffer=20_000, readers=r),
            passes,
            source=f"shards ({compression})",
            features=feature_set,
            n_particles=n_particles,
            pairs=pairs,
            readers=r,
            files=len(entry["shards"]),
        )
        for r in readers
    ]
    return conversion, reads


def main(argv=None):
    from data import reader
    from model.train import split_files

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(BUILD.data))
    p.add_argument("--out", default=str(BUILD.bench / "pipeline.json"))
    p.add_argument("--shards-dir", default=str(BUILD.bench / "shards"))
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--readers", default="1,4", help="parallel file readers to measure")
    p.add_argument("--passes", type=int, default=2, help="passes per row; the last is timed")
    args = p.parse_args(argv)
    readers = [int(r) for r in args.readers.split(",")]
    files = split_files(args.data_dir, "train")
    scheme = reader.load_label_scheme("jetclass")
    rows, conversions = [], []
    for n, pairs, compressions in CASES:
        for r in readers:
            rows.append(
                streaming_rate(files, scheme, "full", n, pairs, r, args.batch_size, args.passes)
            )
        for compression in compressions:
            out = Path(args.shards_dir) / f"full-n{n}-{pairs}-{compression}"
            conv, reads = shard_rates(
                files,
                scheme,
                "full",
                n,
                pairs,
                out,
                args.batch_size,
                compression,
                readers,
                args.passes,
            )
            conversions.append(conv)
            rows += reads
    for r in rows:
        print(
            f"[pipeline] {r['source']:14s} N={r['n_particles']:<3d} {r['pairs']:6s} "
            f"readers={r['readers']}: {r['jets_per_second']:.0f} jets/s",
            flush=True,
        )
    for c in conversions:
        print(
            f"[pipeline] make shards N={c['n_particles']} {c['pairs']} {c['compression']}: "
            f"{c['jets_per_second']:.0f} jets/s, {c['bytes_per_jet']:.0f} bytes/jet",
            flush=True,
        )
    write_json(
        args.out,
        {
            "data_dir": args.data_dir,
            "batch_size": args.batch_size,
            "passes": args.passes,
            "streaming": rows,
            "conversion": conversions,
        },
    )


if __name__ == "__main__":
    main()
