"""What the detector changes downstream: part_trigger, its plain-transformer twin and part_l1
trained on the same events at generator level and at detector level -> build/bench/
detector_train.json.

The two samples come from one seed (data.generate seeds Pythia per class and chunk, the
detector from its own stream), so they hold the same events and differ only by the detector.
Each model is also scored on the other sample's test split: a model trained at generator level
and read out on detector-level jets is what qpart's README figures were until the detector
existed, and the working points that do not carry over show there.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.common import write_json
from infra.paths import BUILD

MODELS = ("part_trigger", "part_trigger_plain", "part_l1")
SAMPLES = {"none": "generator level", "cms": "detector level (cms card)"}
FIELDS = ("accuracy", "macro_auc", "auc", "rejection_at_50pct", "rejection_at_50pct_lower_bound")


def ensure_sample(data_dir: Path, detector: str, jets_per_class: int, seed: int, workers):
    """Generate the sample unless data_dir holds exactly this request already (its manifest)."""
    from data.generate import already_generated, generate

    if already_generated(data_dir, jets_per_class, seed=seed, detector=detector):
        print(f"[bench] {data_dir}: already generated")
        return
    generate(data_dir, jets_per_class, seed=seed, workers=workers, detector=detector)


def score(model_dir: Path, name: str, data_dir: Path) -> dict:
    """A trained model's metrics on another sample's test split."""
    from data import reader
    from model import builder, metrics
    from model.train import load_trained, predict, read_split, split_files

    cfg = builder.load_config(name)
    scheme = reader.load_label_scheme(cfg["data"]["label_scheme"])
    model = load_trained(model_dir, cfg)
    test = read_split(split_files(data_dir, "test"), cfg, scheme, None)
    logits = predict(model, test, pairs=builder.pair_mode(cfg))
    m = metrics.tagging_metrics(test["labels"], logits, scheme.names)
    return {k: m[k] for k in (*FIELDS, "n_jets")}


def _rejections(m: dict, classes) -> str:
    """Rejections of QCD at 50% signal efficiency, '>N' where no QCD jet passed."""
    rej, bound = m["rejection_at_50pct"], m.get("rejection_at_50pct_lower_bound") or {}
    return " / ".join(
        f">{bound[c]}" if rej.get(c) is None and c in bound else f"{rej.get(c, float('nan')):.0f}"
        for c in classes
    )


def markdown(rows: list[dict], classes=("Hbb", "Hcc", "Hgg", "H4q", "Zqq", "Wqq", "Tbqq")) -> str:
    """The README's table: each model, trained on each sample, scored on both."""
    head = (
        "| model | trained on | tested on | accuracy | macro AUC | rejection of QCD at 50% "
        f"signal efficiency: {' / '.join(classes)} |\n|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        for det in (r["trained_on"], *(d for d in r["test"] if d != r["trained_on"])):
            m = r["test"][det]
            lines.append(
                f"| {r['model']} | {SAMPLES[r['trained_on']]} | {SAMPLES[det]} | "
                f"{m['accuracy']:.3f} | {m['macro_auc']:.3f} | {_rejections(m, classes)} |"
            )
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", default=str(BUILD.root), help="holds data-bench-<detector>/")
    p.add_argument("--jets-per-class", type=int, default=4000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--models", nargs="+", default=list(MODELS))
    p.add_argument("--models-root", default=str(BUILD.bench / "detector-models"))
    p.add_argument("--out", default=str(BUILD.bench / "detector_train.json"))
    args = p.parse_args(argv)

    from model.train import model_dir, train

    dirs = {det: Path(args.data_root) / f"data-bench-{det}" for det in SAMPLES}
    for det, d in dirs.items():
        ensure_sample(d, det, args.jets_per_class, args.seed, args.workers)
    rows = []
    for name in args.models:
        for det, d in dirs.items():
            root = Path(args.models_root) / det
            print(f"[bench] training {name} on {d} ({SAMPLES[det]}) ...", flush=True)
            r = train(name, str(d), epochs=args.epochs, root=str(root))
            own = {k: r[k] for k in FIELDS}
            other = next(o for o in dirs if o != det)
            cross = score(model_dir(name, r["quantized"], str(root)), name, dirs[other])
            rows.append(
                {
                    "model": name,
                    "quantized": r["quantized"],
                    "trained_on": det,
                    "n_train": r["n_train"],
                    "epochs_run": r["epochs_run"],
                    "train_seconds": r["train_seconds"],
                    "test": {det: {**own, "n_jets": r["n_jets"]}, other: cross},
                }
            )
            print(
                f"[bench] {name} trained on {det}: accuracy {own['accuracy']:.3f} "
                f"AUC {own['macro_auc']:.3f} on {det}; {cross['accuracy']:.3f} / "
                f"{cross['macro_auc']:.3f} on {other}",
                flush=True,
            )
    write_json(
        args.out,
        {
            "samples": {det: {"dir": str(d), "what": SAMPLES[det]} for det, d in dirs.items()},
            "jets_per_class": args.jets_per_class,
            "seed": args.seed,
            "epochs": args.epochs,
            "results": rows,
        },
    )
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
