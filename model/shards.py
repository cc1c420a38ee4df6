"""`make shards`: convert a data directory's training split into the TFRecord shards that a
model config reads (data.shards: its features, particle count and pair-feature mode), so that
`make train SHARDS=<dir>` streams them in C++ instead of decoding ROOT in Python.

Default output: build/shards/<features>-n<N>-<pairs>/ (one conversion serves every config that
reads the same inputs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from data import reader
from data import shards as S
from infra.errors import exit_code
from infra.paths import BUILD
from model import builder
from model.train import split_files


def default_dir(cfg: dict, root=str(BUILD.shards)) -> Path:
    d = cfg["data"]
    return Path(root) / f"{d['features']}-n{d['n_particles']}-{builder.pair_mode(cfg)}"


@exit_code
def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="part_tiny", help="model config name or YAML path")
    p.add_argument("--data-dir", default=str(BUILD.data))
    p.add_argument("--out", default=None, help="default: build/shards/<features>-n<N>-<pairs>")
    p.add_argument("--jets-per-shard", type=int, default=100_000)
    p.add_argument("--mix", type=int, default=10, help="files read in turn into each shard group")
    p.add_argument("--workers", type=int, default=1, help="processes, one shard group each")
    p.add_argument("--compression", choices=("none", "gzip"), default="none")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    cfg = builder.load_config(args.model)
    out = Path(args.out) if args.out else default_dir(cfg)
    S.write(
        split_files(args.data_dir, "train"),
        out,
        cfg["data"]["features"],
        cfg["data"]["n_particles"],
        builder.pair_mode(cfg),
        reader.load_label_scheme(cfg["data"]["label_scheme"]),
        jets_per_shard=args.jets_per_shard,
        mix=args.mix,
        seed=args.seed,
        workers=args.workers,
        compression=args.compression,
    )
    print(f"make train MODEL={args.model} DATA_DIR={args.data_dir} SHARDS={out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
