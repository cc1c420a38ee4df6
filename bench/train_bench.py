"""Training benchmark: part_l1 quantized vs its float twin vs part_full on the same data (and
part_tiny, for the C-simulation benchmark), part_l1 with its pair features computed on chip
(the default) against the host's weaver-core features (part_l1_host, quantized and float), training
throughput and the input pipeline alone (jets/s, no model) -> build/bench/train.json.

part_full (the paper's ParT, 2.1M parameters, N=128) trains at a few tens of jets/s on a
2-core CPU, so it gets an explicit budget (--full-epochs, --full-max-jets-per-file); the JSON
records exactly what each model was trained on, so the comparison is never silently unfair.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.common import write_json
from infra.paths import BUILD
from model.train import train

FIELDS = (
    "accuracy",
    "macro_auc",
    "rejection_at_50pct",
    "parameters",
    "bops",
    "n_train",
    "n_jets",
    "epochs_run",
    "train_seconds",
    "train_jets_per_second",
)


def run(name, data_dir, root, quantized=None, epochs=None, max_jets_per_file=None):
    result = train(
        name,
        data_dir,
        quantized=quantized,
        epochs=epochs,
        max_jets_per_file=max_jets_per_file,
        root=root,
    )
    row = {k: result[k] for k in FIELDS}
    row.update(model=name, quantized=result["quantized"], max_jets_per_file=max_jets_per_file)
    return row


def pipeline_rate(name, data_dir, batch_size=256) -> dict:
    """The input pipeline alone: jets/s of one pass over the training split (read once, then
    batched: the pair features per batch for `host`, the kinematics for `onchip`)."""
    from data import pipeline, reader
    from model import builder
    from model.train import read_split, split_files

    cfg = builder.load_config(name)
    scheme = reader.load_label_scheme(cfg["data"]["label_scheme"])
    arrays = read_split(split_files(data_dir, "train"), cfg, scheme, None)
    mode = builder.pair_mode(cfg)
    t0 = time.perf_counter()
    n = sum(len(y) for _, y in pipeline.batches(arrays, batch_size, pairs=mode))
    return {
        "model": name,
        "pairs": mode,
        "jets": n,
        "jets_per_second": round(n / (time.perf_counter() - t0), 1),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(BUILD.data))
    p.add_argument("--out", default=str(BUILD.bench / "train.json"))
    p.add_argument("--models-root", default=str(BUILD.bench / "models"))
    p.add_argument("--epochs", type=int, default=None, help="for part_l1 (default: config)")
    p.add_argument("--full-epochs", type=int, default=2)
    p.add_argument("--full-max-jets-per-file", type=int, default=None)
    p.add_argument("--skip-full", action="store_true")
    p.add_argument(
        "--full-model",
        default="part_full",
        help="the ParT-size row: part_full, or part_full_onchip, which computes the pair "
        "features in the model: the one to time on a GPU (part_full's host pair features "
        "bind at N=128)",
    )
    p.add_argument(
        "--only-full",
        action="store_true",
        help="train only part_full and part_l1 on its budget (appends to --out)",
    )
    args = p.parse_args(argv)
    if args.only_full:
        rows = json.loads(Path(args.out).read_text())["results"] if Path(args.out).exists() else []
    else:
        rows = [
            run("part_l1", args.data_dir, args.models_root, True, args.epochs),
            run("part_l1", args.data_dir, args.models_root, False, args.epochs),
            run("part_l1_host", args.data_dir, args.models_root, True, args.epochs),
            run("part_l1_host", args.data_dir, args.models_root, False, args.epochs),
            run("part_tiny", args.data_dir, args.models_root, True),
        ]
    if not args.skip_full:
        rows.append(
            run(
                args.full_model,
                args.data_dir,
                args.models_root,
                None,
                args.full_epochs,
                args.full_max_jets_per_file,
            )
        )
        # part_l1 on exactly part_full's budget (jets and epochs): the like-for-like row.
        rows.append(
            run(
                "part_l1",
                args.data_dir,
                f"{args.models_root}/full_budget",
                True,
                args.full_epochs,
                args.full_max_jets_per_file,
            )
        )
    quant, flt = (
        next(
            (
                r
                for r in rows
                if r["model"] == "part_l1"
                and r["quantized"] is q
                and r["max_jets_per_file"] is None
            ),
            None,
        )
        for q in (True, False)
    )

    def acc(model, q):
        return next(
            (
                r["accuracy"]
                for r in rows
                if r["model"] == model and r["quantized"] is q and r["max_jets_per_file"] is None
            ),
            None,
        )

    onchip_cost = {
        kind: acc("part_l1_host", q) - acc("part_l1", q)
        for kind, q in (("quantized", True), ("float", False))
        if acc("part_l1_host", q) is not None and acc("part_l1", q) is not None
    }
    write_json(
        args.out,
        {
            "data_dir": args.data_dir,
            "results": rows,
            "input_pipeline": [
                pipeline_rate(m, args.data_dir) for m in ("part_l1_host", "part_l1")
            ],
            "onchip_pair_features_cost_accuracy": onchip_cost or None,
            "quantization_cost_accuracy": (flt["accuracy"] - quant["accuracy"])
            if quant and flt
            else None,
        },
    )


if __name__ == "__main__":
    main()
