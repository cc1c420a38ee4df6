"""Training benchmark: part_l1 quantized vs its float twin vs part_full on the same data (and
part_tiny, for the C-simulation benchmark), training throughput -> build/bench/train.json.

part_full (the paper's ParT, 2.1M parameters, N=128) trains at a few tens of jets/s on a
2-core CPU, so it gets an explicit budget (--full-epochs, --full-max-jets-per-file); the JSON
records exactly what each model was trained on, so the comparison is never silently unfair.
"""

from __future__ import annotations

import argparse

from bench.common import write_json
from model.train import train

FIELDS = ("accuracy", "macro_auc", "rejection_at_50pct", "parameters", "bops", "n_train",
          "n_jets", "epochs_run", "train_seconds", "train_jets_per_second")


def run(name, data_dir, root, quantized=None, epochs=None, max_jets_per_file=None):
    result = train(name, data_dir, quantized=quantized, epochs=epochs,
                   max_jets_per_file=max_jets_per_file, root=root)
    row = {k: result[k] for k in FIELDS}
    row.update(model=name, quantized=result["quantized"], max_jets_per_file=max_jets_per_file)
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="build/data")
    p.add_argument("--out", default="build/bench/train.json")
    p.add_argument("--models-root", default="build/bench/models")
    p.add_argument("--epochs", type=int, default=None, help="for part_l1 (default: config)")
    p.add_argument("--full-epochs", type=int, default=2)
    p.add_argument("--full-max-jets-per-file", type=int, default=None)
    p.add_argument("--skip-full", action="store_true")
    args = p.parse_args(argv)
    rows = [run("part_l1", args.data_dir, args.models_root, True, args.epochs),
            run("part_l1", args.data_dir, args.models_root, False, args.epochs),
            run("part_tiny", args.data_dir, args.models_root, True)]
    if not args.skip_full:
        rows.append(run("part_full", args.data_dir, args.models_root, None, args.full_epochs,
                        args.full_max_jets_per_file))
    write_json(args.out, {"data_dir": args.data_dir, "results": rows,
                          "quantization_cost_accuracy": rows[1]["accuracy"] - rows[0]["accuracy"]})


if __name__ == "__main__":
    main()
