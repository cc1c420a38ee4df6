"""`make train`: trains a ParT config on JetClass-format files and writes everything it learned.

Output, in build/models/<name>[-float]/:
  model.keras       best checkpoint (lowest validation loss)
  config.json       the config and its architecture fingerprint (guards against reuse)
  history.csv/json  per-epoch loss and accuracy
  metrics.json      test-set accuracy, macro AUC, rejection at 50% signal efficiency vs QCD
  *.png             loss/accuracy curves, ROC curves, confusion matrix
  backup/           Keras' BackupAndRestore state while training: an interrupted run resumes
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from data import features as F
from data import pipeline, reader
from data.pairmode import DEFAULT, pair_mode
from infra.errors import QpartError, exit_code
from infra.paths import BUILD
from model import builder, metrics, plots, widths

IN_MEMORY_LIMIT = 400_000  # jets; above this the training set is streamed from the files


class TrainError(QpartError, RuntimeError):
    """A training run that cannot start: names the file or key at fault."""


def model_dir(name: str, quantized: bool, root=str(BUILD.models)) -> Path:
    return Path(root) / (name if quantized else f"{name}-float")


def split_files(data_dir, split: str) -> list[str]:
    pattern = Path(data_dir) / split / "*.root"
    try:
        return reader.resolve_files(str(pattern))
    except reader.DataError as err:
        raise TrainError(f"{err} (make data writes {data_dir}/train, val and test)") from None


def check_checkpoint(out: Path, fingerprint: str):
    """Refuse a directory whose checkpoint belongs to another architecture."""
    cfg_file = out / "config.json"
    if not cfg_file.exists():
        return
    try:
        old = json.loads(cfg_file.read_text()).get("architecture")
    except json.JSONDecodeError:
        raise TrainError(f"{cfg_file}: not valid JSON; remove {out} to start afresh") from None
    if old != fingerprint:
        raise TrainError(
            f"{out}/model.keras is a checkpoint of another architecture ({cfg_file}: "
            f"architecture {old}, this config {fingerprint}); remove {out} or use another name"
        )


def check_trained(out: Path, cfg: dict | None = None) -> Path:
    """The trained model file in `out`; with `cfg`, checked to be that config's architecture
    (without loading it)."""
    path = out / "model.keras"
    if not path.exists():
        raise TrainError(f"{path}: no trained model (run make train first)")
    if cfg is not None:
        saved = json.loads((out / "config.json").read_text())
        check_checkpoint(out, builder.architecture_hash(cfg, saved["quantized"]))
    return path


def load_trained(out: Path, cfg: dict | None = None):
    """Load a trained model; with `cfg`, check it is that config's architecture."""
    import tensorflow as tf

    from model.layers import CUSTOM_OBJECTS

    path = check_trained(out, cfg)
    try:
        return tf.keras.models.load_model(path, custom_objects=CUSTOM_OBJECTS, compile=False)
    except Exception as err:
        raise TrainError(f"{path}: cannot be loaded ({type(err).__name__}: {err})") from None


def read_split(files, cfg, scheme, max_per_file):
    arrays = reader.load_arrays(
        files,
        cfg["data"]["features"],
        cfg["data"]["n_particles"],
        scheme,
        max_per_file=max_per_file,
    )
    return pair_mode(cfg).prepare(arrays, cfg["data"]["features"])


def predict(model, arrays, batch_size=1024, pairs=DEFAULT):
    """Logits for arrays in memory (pair features computed per batch, or kinematics)."""
    out = []
    for inputs, _ in pipeline.batches(arrays, batch_size, shuffle=False, pairs=pairs):
        out.append(model.predict_on_batch(list(inputs)))
    return np.concatenate(out)


def train(
    name: str,
    data_dir=str(BUILD.data),
    quantized: bool | None = None,
    epochs=None,
    max_jets_per_file=None,
    root=str(BUILD.models),
    seed=None,
    verbose=2,
    batch_size=None,
    strategy="default",
    devices=None,
    shards=None,
) -> dict:
    """Train a config; `strategy` (model.distribute: default | mirrored | multiworker) spreads
    each batch over devices, `devices` overrides the mirrored strategy's local GPUs; `shards`
    (a make shards directory, data.shards) streams the training split from TFRecord shards
    made from data_dir's train files instead of reading the ROOT files."""
    import tensorflow as tf

    from model.distribute import distribute_options, make_strategy

    cfg = builder.load_config(name)
    dist = make_strategy(strategy, devices)
    quantized = cfg["model"]["quantized"] if quantized is None else bool(quantized)
    tcfg = cfg["training"]
    epochs = tcfg["epochs"] if epochs is None else int(epochs)
    seed = tcfg["seed"] if seed is None else int(seed)
    max_per_file = max_jets_per_file or tcfg["max_jets_per_file"]
    out = model_dir(cfg["name"], quantized, root)
    fingerprint = builder.architecture_hash(cfg, quantized)
    check_checkpoint(out, fingerprint)

    scheme = reader.load_label_scheme(cfg["data"]["label_scheme"])
    files = {s: split_files(data_dir, s) for s in ("train", "val", "test")}
    reader.check_same_detector([f for s in files.values() for f in s])
    n_train = reader.check_files(
        files["train"], F.required_branches(cfg["data"]["features"]) + scheme.label_branches
    )
    tf.keras.utils.set_random_seed(seed)
    t0 = time.time()
    val = read_split(files["val"], cfg, scheme, max_per_file)
    bs = tcfg["batch_size"] if batch_size is None else int(batch_size)
    if shards is not None:
        from data import shards as S

        manifest = S.load_manifest(
            shards,
            cfg["data"]["features"],
            cfg["data"]["n_particles"],
            builder.pair_mode(cfg),
            scheme.names,
            files=files["train"],
        )
        n_train = manifest["splits"]["train"]["jets"]
        train_ds = S.dataset(shards, manifest, bs, seed=seed)
        train_input = f"shards {shards}"
        print(f"[train] streaming {n_train} training jets from the shards in {shards}", flush=True)
    elif max_per_file is None and n_train > IN_MEMORY_LIMIT:
        train_input = "streaming ROOT"
        train_ds = pipeline.streaming(
            files["train"],
            cfg["data"]["features"],
            cfg["data"]["n_particles"],
            scheme,
            bs,
            seed=seed,
            pairs=builder.pair_mode(cfg),
        )
        print(
            f"[train] streaming {n_train} training jets from {len(files['train'])} ROOT files "
            "(make shards converts them once into a faster input: docs/scale.md)",
            flush=True,
        )
    else:
        train_input = "in memory"
        train_arrays = read_split(files["train"], cfg, scheme, max_per_file)
        n_train = len(train_arrays["labels"])
        train_ds = pipeline.in_memory(
            train_arrays, bs, shuffle=True, seed=seed, pairs=builder.pair_mode(cfg)
        )
    val_ds = pipeline.in_memory(val, 1024, shuffle=False, pairs=builder.pair_mode(cfg))
    print(
        f"[train] {cfg['name']} ({'quantized' if quantized else 'float'}): "
        f"{n_train} train / {len(val['labels'])} val jets read in {time.time() - t0:.1f}s",
        flush=True,
    )

    if strategy != "default":
        train_ds, val_ds = distribute_options(train_ds), distribute_options(val_ds)
        print(
            f"[train] strategy {strategy}: {dist.num_replicas_in_sync} replicas, "
            f"{bs // dist.num_replicas_in_sync} jets per replica and step",
            flush=True,
        )
    with dist.scope():
        model = builder.build_model(cfg, quantized)
        decay_steps = max(1, epochs * -(-n_train // bs))
        schedule = tf.keras.optimizers.schedules.CosineDecay(
            tcfg["learning_rate"], decay_steps, alpha=0.01
        )
        optimizer = tf.keras.optimizers.AdamW(schedule, weight_decay=tcfg["weight_decay"])
        # learned fractional bits (model.learned) are not decayed towards zero bits
        optimizer.exclude_from_weight_decay(var_names=["_fbits"])
        model.compile(
            optimizer=optimizer,
            loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    params = model.count_params()
    cost = builder.cost_report(model, cfg)
    print(
        f"[train] {params} parameters, {sum(r['bops'] for r in cost) / 1e6:.1f} MBOPs", flush=True
    )

    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(
        json.dumps(
            {
                "name": cfg["name"],
                "config": cfg,
                "quantized": quantized,
                "architecture": fingerprint,
                "seed": seed,
                "data_dir": str(data_dir),
            },
            indent=1,
        )
    )
    lw = cfg["quantization"]["learned_widths"] if quantized else None
    checkpoint = tf.keras.callbacks.ModelCheckpoint(
        str(out / "model.keras"), monitor="val_loss", save_best_only=True
    )
    schedule = None
    if lw:
        with dist.scope():  # beta, a variable the loss reads on every replica
            schedule = widths.attach(model, cfg, checkpoint)
    callbacks = [schedule] if schedule else []
    callbacks += [
        tf.keras.callbacks.BackupAndRestore(str(out / "backup")),
        checkpoint,
        tf.keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=tcfg["patience"],
            restore_best_weights=True,
            start_from_epoch=lw["warmup_epochs"] if lw else 0,
        ),
        tf.keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        tf.keras.callbacks.TerminateOnNaN(),
    ]
    t1 = time.time()
    # Each epoch iterates the dataset anew (a fresh, reshuffled generator pass).
    hist = model.fit(
        train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks, verbose=verbose
    )
    train_seconds = time.time() - t1
    shutil.rmtree(out / "backup", ignore_errors=True)
    if schedule is not None and schedule.collapsed_epoch is not None:
        (out / "model.keras").unlink(missing_ok=True)  # no all-zero model left to convert
        raise TrainError(
            f"{cfg['path']}: quantization.learned_widths.beta={lw['beta']} pruned every weight "
            f"(all learned widths reached 0 bits) at epoch {schedule.collapsed_epoch}; training "
            f"stopped and its checkpoint removed: lower beta or raise warmup_epochs"
        )
    history = _history(out, hist.history)
    if not np.all(np.isfinite(history["loss"])):
        raise TrainError(
            f"{cfg['name']}: training diverged (loss {history['loss'][-1]} at epoch "
            f"{len(history['loss'])}); lower training.learning_rate in {cfg['path']}"
        )

    best = load_trained(out)
    test = read_split(files["test"], cfg, scheme, max_per_file)
    logits = predict(best, test, pairs=builder.pair_mode(cfg))
    result = metrics.tagging_metrics(test["labels"], logits, scheme.names)
    epochs_run = len(history["loss"])
    result.update(
        {
            "model": cfg["name"],
            "quantized": quantized,
            "parameters": params,
            "bops": int(sum(r["bops"] for r in cost)),
            "cost_per_layer": builder.cost_report(best, cfg),
            "n_train": int(n_train),
            "n_val": int(len(val["labels"])),
            "epochs_run": epochs_run,
            "train_seconds": round(train_seconds, 1),
            "train_jets_per_second": round(n_train * epochs_run / max(train_seconds, 1e-9), 1),
            "train_input": train_input,
            "class_names": list(scheme.names),
            "seed": seed,
            "data_dir": str(data_dir),
        }
    )
    if quantized:
        result["ebops"] = int(sum(r.get("ebops", 0) for r in result["cost_per_layer"]))
    if lw:
        result["learned_widths"] = widths.summary(best, cfg)
    metrics.check_metrics_json(result, out / "metrics.json")
    (out / "metrics.json").write_text(json.dumps(result, indent=1))
    title = f"{cfg['name']} ({'quantized' if quantized else 'float'})"
    plots.history_plot(history, out / "history.png", title)
    plots.roc_plot(test["labels"], logits, scheme.names, out / "roc.png", title)
    plots.confusion_plot(result["confusion"], scheme.names, out / "confusion.png", title)
    print(
        f"[train] {title}: test accuracy {result['accuracy']:.4f}, macro AUC "
        f"{result['macro_auc']:.4f} on {result['n_jets']} jets -> {out}",
        flush=True,
    )
    return result


def _history(out: Path, fit_history: dict) -> dict:
    """The whole history, resumed runs included (CSVLogger appends across restarts)."""
    csv = out / "history.csv"
    history = {k: list(map(float, v)) for k, v in fit_history.items()}
    if csv.exists():
        rows = np.genfromtxt(csv, delimiter=",", names=True)
        rows = np.atleast_1d(rows)
        history = {k: [float(x) for x in rows[k]] for k in rows.dtype.names if k != "epoch"}
    (out / "history.json").write_text(json.dumps(history, indent=1))
    return history


@exit_code
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="part_tiny", help="model config name or YAML path")
    p.add_argument("--data-dir", default=str(BUILD.data))
    p.add_argument(
        "--quant",
        type=int,
        choices=(0, 1),
        default=None,
        help="1: quantized (default for FPGA configs), 0: the float twin",
    )
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--max-jets-per-file", type=int, default=None)
    p.add_argument("--out", default=str(BUILD.models))
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument(
        "--strategy",
        default="default",
        help="default (one device) | mirrored (all local GPUs) | multiworker (TF_CONFIG)",
    )
    p.add_argument(
        "--shards",
        default=None,
        help="stream the training split from these TFRecord shards (make shards)",
    )
    args = p.parse_args(argv)
    quantized = None if args.quant is None else bool(args.quant)
    train(
        args.model,
        args.data_dir,
        quantized,
        args.epochs,
        args.max_jets_per_file,
        args.out,
        args.seed,
        batch_size=args.batch_size,
        strategy=args.strategy,
        shards=args.shards,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
