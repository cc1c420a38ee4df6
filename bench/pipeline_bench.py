"""Input-pipeline benchmark: jets/s of the streaming tf.data pipeline alone (no model), one
file reader against several in parallel, the host's pair features against the on-chip
kinematics -> build/bench/pipeline.json.

Why: a GPU consumes thousands of jets per second (see the figures quoted in docs/model.md); the
pipeline must not be what limits training on the real JetClass."""

from __future__ import annotations

import argparse
import time

from bench.common import write_json


def streaming_rate(data_dir, feature_set, n_particles, pairs, readers, batch_size=256) -> dict:
    """One pass over the training split through data.pipeline.streaming."""
    from data import pipeline, reader
    from model.train import split_files

    files = split_files(data_dir, "train")
    ds = pipeline.streaming(
        files,
        feature_set,
        n_particles,
        reader.load_label_scheme("jetclass"),
        batch_size,
        shuffle_buffer=20_000,
        pairs=pairs,
        readers=readers,
    )
    t0 = time.perf_counter()
    n = sum(int(y.shape[0]) for _, y in ds)
    seconds = time.perf_counter() - t0
    return {
        "features": feature_set,
        "n_particles": n_particles,
        "pairs": pairs,
        "readers": readers,
        "files": len(files),
        "jets": n,
        "seconds": round(seconds, 2),
        "jets_per_second": round(n / seconds, 1),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="build/data")
    p.add_argument("--out", default="build/bench/pipeline.json")
    args = p.parse_args(argv)
    rows = [
        streaming_rate(args.data_dir, "full", n, pairs, readers)
        for n, pairs in ((32, "onchip"), (32, "host"), (128, "onchip"))
        for readers in (1, 4)
    ]
    for r in rows:
        print(
            f"[pipeline] N={r['n_particles']} {r['pairs']:6s} readers={r['readers']}: "
            f"{r['jets_per_second']:.0f} jets/s",
            flush=True,
        )
    write_json(args.out, {"data_dir": args.data_dir, "streaming": rows})


if __name__ == "__main__":
    main()
