"""Data benchmarks: generator jets/s per core, per class, and reader jets/s (ROOT -> padded
arrays, with and without pair features) -> build/bench/data.json."""

from __future__ import annotations

import argparse
import tempfile
import time

from bench.common import write_json
from data import features as F
from data import reader
from data.generate import generate
from data.schema import CLASS_NAMES
from infra.paths import BUILD


def generator_rates(jets_per_class: int, seed: int) -> dict:
    """One worker per class, so the rate is per core."""
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for cls in CLASS_NAMES:
            summary = generate(tmp, jets_per_class, classes=[cls], seed=seed, workers=1)
            rates[cls] = round(summary["jets_per_second"], 1)
    return rates


def reader_rates(data_dir: str, n_particles: int) -> dict:
    files = reader.resolve_files(f"{data_dir}/train/*.root")
    scheme = reader.load_label_scheme()
    out = {}
    for feature_set in ("kin", "full"):
        t0 = time.perf_counter()
        arrays = reader.load_arrays(files, feature_set, n_particles, scheme)
        seconds = time.perf_counter() - t0
        n = len(arrays["labels"])
        t1 = time.perf_counter()
        F.pair_inputs(arrays["vectors"], arrays["mask"])
        pair_seconds = time.perf_counter() - t1
        out[feature_set] = {
            "jets": n,
            "jets_per_second": round(n / seconds, 1),
            "pair_features_jets_per_second": round(n / pair_seconds, 1),
        }
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(BUILD.bench / "data.json"))
    p.add_argument("--data-dir", default=str(BUILD.data))
    p.add_argument("--jets-per-class", type=int, default=100)
    p.add_argument("--n-particles", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    gen = generator_rates(args.jets_per_class, args.seed)
    read = reader_rates(args.data_dir, args.n_particles)
    write_json(
        args.out,
        {
            "generator_jets_per_second_per_core": gen,
            "generator_jets_per_class": args.jets_per_class,
            "reader": read,
            "reader_n_particles": args.n_particles,
            "data_dir": args.data_dir,
        },
    )


if __name__ == "__main__":
    main()
