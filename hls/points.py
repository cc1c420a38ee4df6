"""The points of a scan and of a design-space search: one record schema, one id, one point
runner, one result file, and the fronts they are ranked by.

Both are generators of points (hls/scan.py: a trained model under a grid of precisions and
reuse factors; hls/search.py: a design-space search that trains every point). A point is a
set of overrides of a base model config and firmware config (`model.num_blocks`,
`firmware.precision.act_t`, `firmware.reuse_factor`, ...), written as its own config files,
and one task (hls/cluster.py). Its stages are a selection of

    config    the point's model and firmware configs load
    estimate  the untrained design, folded and estimated; over the budget: pruned (a search)
    train     quantization-aware training of the point's model (a search)
    csim      the trained design estimated, converted, compiled, C-simulated against Keras
    synth     the HLS tool's synthesis where it is on the worker's PATH (a scan)

Its record (`new_record`, `check_point`): id, label, overrides, config files, status (done,
over_budget, error) and the stage it stopped at, the error, and one section per stage:
`estimate` (hls.estimate.summary), the training's figures (`accuracy`, `macro_auc`, ...),
`csim` (jets, bit-exact fraction, accuracies), `synth` (a synth_report's latency and
resources, or null). A point is kept as it finishes (points/<id>.json with what it depends
on); a rerun skips the points whose configs, weights and data are unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from pathlib import Path

import yaml

from hls.common import TOOLS
from infra.checks import SchemaError, is_number, need, numbers
from infra.yamlconfig import read_yaml

SCHEMA_VERSION = 2  # 2: scans and searches share this file's point records
KINDS = ("scan", "search")
STATUSES = ("done", "over_budget", "error")
OBJECTIVES = ("latency_ns", "LUT", "DSP")  # minimised, with accuracy maximised
CHANCE_AUC = 0.52  # a trained point below this macro AUC is a failure, not a result
CSIM_KEYS = ("n_jets", "bit_exact_fraction", "max_abs_diff_lsb", "keras_accuracy", "csim_accuracy")
TRAIN_KEYS = (
    "accuracy",
    "macro_auc",
    "rejection_at_50pct",
    "parameters",
    "bops",
    "n_train",
    "epochs_run",
    "train_seconds",
)


# ------------------------------------------------------------------ a point's name and files


def point_id(overrides: dict) -> str:
    """A stable name of a point: the same overrides give the same id, whatever the grid."""
    text = json.dumps(overrides, sort_keys=True, default=str)
    return "p" + hashlib.sha256(text.encode()).hexdigest()[:10]


def label(overrides: dict) -> str:
    """'num_blocks=2 weight_bits=4 act_t=ap_fixed<8,3> reuse_factor=4' (a type's modes left
    out, its ap_ prefix kept)."""

    def value(v):
        if isinstance(v, str) and "<" in v:  # a type as written, without its modes
            return v.split(",")[0] + "," + v.split(",")[1].rstrip(">") + ">"
        return json.dumps(v) if isinstance(v, (list, dict)) else str(v)

    return " ".join(f"{k.rsplit('.', 1)[-1]}={value(v)}" for k, v in overrides.items()) or (
        "as configured"
    )


def _set(tree: dict, dotted: str, value):
    keys = dotted.split(".")
    for k in keys[:-1]:
        tree = tree.setdefault(k, {})
    tree[keys[-1]] = copy.deepcopy(value)


def write_configs(
    out: Path, overrides: dict, model, firmware, head: str, training=None, own_model=True
) -> tuple[Path, Path]:
    """The point's model and firmware configs as YAML (configs/<id>.yml, <id>_fw.yml): the
    base configs with the overrides set (`firmware.<key>` in the firmware config, the other
    sections in the model config). `own_model=False` (a scan: the trained model as it is)
    writes the firmware config only and returns the base model config's path."""
    from hls.firmware import config_path as fw_path
    from model import builder

    pid = point_id(overrides)
    model_cfg = read_yaml(builder.config_path(model))
    fw_cfg = read_yaml(fw_path(firmware))
    fw_cfg.pop("scan", None)  # a point is one design, not a grid
    for key, value in (training or {}).items():
        _set(model_cfg, f"training.{key}", value)
    for key, value in overrides.items():
        section, _, rest = key.partition(".")
        if section == "firmware":
            _set(fw_cfg, rest, value)
        elif own_model:
            _set(model_cfg, key, value)
        else:
            raise ValueError(f"{key}: a point of a trained model overrides firmware keys only")
    configs = out / "configs"
    configs.mkdir(parents=True, exist_ok=True)
    head = f"# {head}, point {pid}: {label(overrides)}\n"
    model_file, fw_file = configs / f"{pid}.yml", configs / f"{pid}_fw.yml"
    fw_file.write_text(head + f"# base: {firmware}\n" + yaml.safe_dump(fw_cfg))
    if not own_model:
        return builder.config_path(model), fw_file
    model_file.write_text(head + f"# base: {model}\n" + yaml.safe_dump(model_cfg))
    return model_file, fw_file


def depends_on(files, *more) -> str:
    """What a point's result depends on: its files' contents (configs, trained weights) and
    anything else named (the data directory, the jet count): a rerun skips it when unchanged."""
    h = hashlib.sha256()
    for f in files:
        h.update(Path(f).read_bytes())
    h.update(json.dumps([str(m) for m in more]).encode())
    return h.hexdigest()[:16]


def new_record(overrides: dict, stage: str, error: str | None = None, out=None) -> dict:
    """A point's record before it is done: failed at `stage` until it gets further. `out`:
    the folder its config files are under (write_configs), linked from the dashboard."""
    pid = point_id(overrides)
    record = {
        "id": pid,
        "label": label(overrides),
        "overrides": overrides,
        "status": "error",
        "stage": stage,
        "error": error,
        "config": None,
        "firmware_config": f"configs/{pid}_fw.yml",
        "estimate": None,
        "csim": None,
        "synth": None,
    }
    if out is not None and (Path(out) / "configs" / f"{pid}.yml").is_file():
        record["config"] = f"configs/{pid}.yml"
    return record


# ------------------------------------------------------------------ one point


def job(overrides, files, out, data_dir, n_jets, **how) -> dict:
    """What one task needs (absolute paths: a worker on another host, on a shared file
    system, has another working directory). `how`: train (a search), prune (stop a point
    over the budget before training), synth (run the HLS tool where it is), models_root and
    prj (a scan: the trained model's folder, the point's own project directory)."""
    out = Path(out).resolve()
    spec = {
        "overrides": overrides,
        "model_file": str(Path(files[0]).resolve()),
        "fw_file": str(Path(files[1]).resolve()),
        "out": str(out),
        "data_dir": str(Path(data_dir).resolve()),
        "n_jets": n_jets,
        "train": False,
        "prune": False,
        "synth": False,
        "models_root": str(out / "models"),
        "prj": None,
    }
    unknown = set(how) - set(spec)
    if unknown:
        raise TypeError(f"unknown point options {sorted(unknown)}")
    spec.update(
        {
            k: (str(Path(v).resolve()) if k in ("models_root", "prj") and v else v)
            for k, v in how.items()
        }
    )
    return spec


def run_point(p: dict) -> dict:
    """Run one point (a `job`) through its stages, each on the design value (hls.design)
    through hls.runner; returns its record (never raises for a failure of the point itself:
    the error is recorded with its stage)."""
    from hls import autofold, runner, synth
    from hls.design import design
    from hls.estimate import summary, verdict_line
    from hls.firmware import load_firmware
    from model import builder
    from model.train import model_dir, train

    out = Path(p["out"])
    record = new_record(p["overrides"], "config", out=out)
    cfg = fw = d = None

    def configs(record):
        nonlocal cfg, fw
        cfg = builder.load_config(p["model_file"])
        fw = load_firmware(p["fw_file"])
        record["pair_features"] = builder.pair_mode(cfg)

    def estimated(record):
        try:
            d = design(cfg, fw, "untrained")
        except autofold.BudgetError as err:
            record.update(status="over_budget", error=str(err))
            return False
        est = runner.estimate_design(d)
        record["estimate"] = summary(est)
        if not est["fit"]["fits"]:
            record.update(status="over_budget", error=verdict_line(est))
            return False

    def trained(record):
        metrics = train(
            p["model_file"], p["data_dir"], quantized=True, root=p["models_root"], verbose=0
        )
        record.update({k: metrics[k] for k in TRAIN_KEYS}, accuracy_from="training's test split")
        if metrics["macro_auc"] < CHANCE_AUC:  # a constant output: nothing was learnt
            record["error"] = (
                f"trained to chance: accuracy {metrics['accuracy']:.3f}, macro AUC "
                f"{metrics['macro_auc']:.3f} (its types or training learn nothing)"
            )
            return False

    def simulated(record):
        nonlocal d
        where = dict(prj=p["prj"]) if p["prj"] else dict(hls_root=out / "hls")
        d = design(cfg, fw, "trained", models_root=p["models_root"], **where)
        est, report = runner.simulate(d, p["data_dir"], p["n_jets"], force=True, testbench=False)
        record["estimate"] = summary(est)
        record["parallel"] = {k: v["parallel"] for k, v in report["folding"].items()}
        record["csim"] = {k: report["predict"][k] for k in CSIM_KEYS}
        if "accuracy" not in record:  # no training here: the Keras accuracy on these jets
            record["accuracy"] = report["predict"]["keras_accuracy"]
            record["accuracy_from"] = f"Keras on the {report['predict']['n_jets']} C-sim jets"
            point_cfg = dict(d.cfg, quantization={**d.cfg["quantization"], **d.fw["precision"]})
            record["bops"] = int(sum(r["bops"] for r in builder.cost_report(d.model, point_cfg)))
        record["model_dir"] = _relative(model_dir(cfg["name"], True, p["models_root"]), out)
        exact = report["predict"]["bit_exact_fraction"]
        if exact < 1:
            record["error"] = (
                f"C simulation not bit-exact: {exact:.4f} of {report['predict']['n_jets']} "
                f"jets (first divergent layer: {report['first_divergent_layer']})"
            )
            return False

    def synthesized(record):
        missing = synth.tool_missing(d.fw["backend"])
        if missing:
            record["synthesis"] = (
                f"not run ({TOOLS[d.fw['backend']]} not on PATH on {record['host']})"
            )
        else:
            record["synth"] = synth.synthesize(d)
            record["synthesis"] = "run"

    def announced(stage, step):
        def run(record):
            print(f"[{'search' if p['train'] else 'scan'}] {record['id']} {stage} ...", flush=True)
            return step(record)

        return stage, run

    steps = [("estimate", estimated)] if p["prune"] else []
    steps += [("train", trained)] if p["train"] else []
    steps += [("csim", simulated)] + ([("synth", synthesized)] if p["synth"] else [])
    return runner.run_point(record, [("config", configs)] + [announced(*s) for s in steps])


def _relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:  # a scan's trained model lives outside its folder
        return str(path)


def run_points(tag, jobs, out: Path, scheduler, workers, extra=None) -> list[dict]:
    """Every point (a list of `job`s with what each depends on: [(job, depends_on)]), one task
    each on `scheduler` (hls.cluster), kept as it finishes under out/points/; a rerun skips
    the points already done."""
    from hls import cluster

    (out / "points").mkdir(parents=True, exist_ok=True)
    kept = [(point_id(j["overrides"]), dep, (j,)) for j, dep in jobs]

    def lost(k, err):
        return new_record(jobs[k][0]["overrides"], "worker", cluster.lost_error(err), out)

    return cluster.run_kept(
        run_point, kept, out / "points", scheduler, workers, tag, lost, line, extra
    )


def line(record: dict) -> str:
    """The progress line of a finished point."""
    if record["status"] != "done":
        return f"{record['status']} at {record['stage']}: {record['error']}"
    f = figures(record)
    return (
        f"accuracy {f['accuracy']:.4f}, bit-exact {record['csim']['bit_exact_fraction']:.4f}, "
        f"latency {f['latency_ns']:.0f} ns, II {f['ii_ns']:.0f} ns, LUT {f['LUT']}, "
        f"DSP {f['DSP']} ({record['seconds']:.0f} s)"
    )


# ------------------------------------------------------------------ fronts and the target


def figures(record: dict) -> dict | None:
    """(accuracy, estimated latency in ns, interval in ns, LUT, DSP, BRAM) of a done point."""
    if record.get("status") != "done":
        return None
    est = record["estimate"]
    res = est["resources"]
    return {
        "accuracy": record["accuracy"],
        "latency_ns": est["latency"]["worst_ns"],
        "ii_ns": est["latency"]["interval_ns"],
        **{k: res[k]["used"] for k in ("LUT", "DSP", "BRAM_18K")},
    }


def pareto(records: list[dict]) -> set[str]:
    """Ids of the done points no other done point beats: at least as accurate, and no more
    latency, LUT or DSP, one of them strictly better."""
    done = [(r["id"], figures(r)) for r in records if figures(r)]
    front = set()
    for pid, f in done:
        dominated = any(
            g["accuracy"] >= f["accuracy"]
            and all(g[k] <= f[k] for k in OBJECTIVES)
            and (g["accuracy"] > f["accuracy"] or any(g[k] < f[k] for k in OBJECTIVES))
            for other, g in done
            if other != pid
        )
        if not dominated:
            front.add(pid)
    return front


def meets_target(record: dict, target: dict | None) -> bool:
    """Done (so bit-exact), every resource within target.resources of the part, latency and
    interval within their budgets (no target: nothing meets it)."""
    f = figures(record)
    if f is None or not target:
        return False
    res = record["estimate"]["resources"]
    ok = all(
        v["available"] == 0
        and v["used"] == 0
        or v["available"]
        and v["used"] <= target["resources"] * v["available"]
        for v in res.values()
    )
    if target.get("latency_ns") is not None:
        ok = ok and f["latency_ns"] <= target["latency_ns"]
    if target.get("ii_ns") is not None:
        ok = ok and f["ii_ns"] <= target["ii_ns"]
    return ok


def summarise(records: list[dict], target: dict | None) -> dict:
    """Per pair-feature mode: its Pareto front and its best point within the target."""
    modes = sorted({r["pair_features"] for r in records if r.get("pair_features")})
    out = {}
    for mode in modes:
        group = [r for r in records if r.get("pair_features") == mode]
        front = pareto(group)
        ok = [r for r in group if meets_target(r, target)]
        best = max(ok, key=lambda r: (r["accuracy"], -figures(r)["latency_ns"]), default=None)
        for r in group:
            r["pareto"] = r["id"] in front
            r["meets_target"] = meets_target(r, target)
        out[mode] = {
            "points": len(group),
            "done": sum(r["status"] == "done" for r in group),
            "pareto": sorted(front),
            "best": best["id"] if best else None,
        }
    return out


def budget_target(fw: dict) -> dict:
    """A firmware config's budget as a target (a scan's: the points that fit it)."""
    b, clock = fw["budget"], fw["clock_period"]
    return {
        "resources": b["resources"],
        "latency_ns": None if b["latency_cycles"] is None else b["latency_cycles"] * clock,
        "ii_ns": None if b["ii_cycles"] is None else b["ii_cycles"] * clock,
    }


# ------------------------------------------------------------------ the result file


def result(kind: str, meta: dict, records: list[dict], target, t0: float) -> dict:
    """The result file's content: what was run (`meta`), the target, per-mode fronts and best
    points, every point."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        **meta,
        "target": target,
        "seconds": round(time.perf_counter() - t0, 1),
        "modes": summarise(records, target),
        "points": records,
    }


def write_result(data: dict, path: Path):
    check_result(data, path)
    path.write_text(json.dumps(data, indent=1))


def table(data: dict) -> str:
    """The points as a Markdown table, best first per mode (the closing note's table)."""
    rows = [
        "| pair features | point | accuracy | latency (ns) | II (ns) | LUT | DSP | BRAM_18K "
        "| Pareto | target |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    done = [r for r in data["points"] if figures(r)]
    for r in sorted(done, key=lambda r: (r["pair_features"], -r["accuracy"])):
        f = figures(r)
        rows.append(
            f"| {r['pair_features']} | {r['label']} | {f['accuracy']:.4f} "
            f"| {f['latency_ns']:.0f} | {f['ii_ns']:.0f} | {f['LUT']:,} | {f['DSP']:,} "
            f"| {f['BRAM_18K']:,} | {'yes' if r.get('pareto') else ''} "
            f"| {'yes' if r.get('meets_target') else ''} |"
        )
    for r in data["points"]:
        if not figures(r):
            why = (r["error"] or "").split("_fw.yml: ", 1)[-1].splitlines()[0]  # its file: known
            rows.append(
                f"| {r.get('pair_features', '?')} | {r['label']} | {r['status']}: {why} ||||||||"
            )
    return "\n".join(rows)


def check_point(p, path, where) -> dict:
    """One point record: id, label, status and stage; a done point has its accuracy, its
    estimate and a bit-exact C simulation; a point that is not done says why."""
    from hls.estimate import check_estimate
    from hls.synth_report import check_synth_report

    for key in ("id", "label", "status", "stage", "firmware_config"):
        need(p, key, path, where)
    if p["status"] not in STATUSES:
        raise SchemaError(f"{path}: {where}status must be one of {STATUSES}")
    if not isinstance(p.get("overrides", {}), dict):
        raise SchemaError(f"{path}: {where}overrides must be an object")
    numbers(p, ("accuracy", "macro_auc", "bops"), path, where)
    if p.get("estimate") is not None:
        check_estimate(dict(p["estimate"], layers=[]), f"{path}: {where}estimate")
    if p.get("synth") is not None:
        if not isinstance(p["synth"], dict):
            raise SchemaError(f"{path}: {where}synth must be an object or null")
        check_synth_report(p["synth"], f"{path}: {where}synth")
    if p.get("csim") is not None:
        numbers(need(p, "csim", path, where, dict), CSIM_KEYS, path, f"{where}csim.")
    if p["status"] == "done":
        need(p, "pair_features", path, where, str)  # what fronts and best are grouped by
        acc = need(p, "accuracy", path, where)
        if not is_number(acc) or not math.isfinite(acc):
            raise SchemaError(f"{path}: {where}accuracy must be a finite number")
        need(p, "estimate", path, where, dict)
        if need(p, "csim", path, where, dict).get("bit_exact_fraction") != 1:
            raise SchemaError(f"{path}: {where}a done point is bit-exact")
    elif not p.get("error"):
        raise SchemaError(f"{path}: {where}a point that is not done says why (error)")
    return p


def check_result(data, path) -> dict:
    """scan.json / search.json: the kind, the target (or null), per-mode fronts and every point
    (check_point)."""
    if isinstance(data, list) or (isinstance(data, dict) and "kind" not in data):
        raise SchemaError(
            f"{path}: written by an older qpart (no 'kind': before scans and searches shared "
            "one schema); rerun the make scan that wrote it"
        )
    if need(data, "kind", path) not in KINDS:
        raise SchemaError(f"{path}: kind must be one of {KINDS}, got {data['kind']!r}")
    target = need(data, "target", path)
    if target is not None:
        need(need(data, "target", path, kind=dict), "resources", path, "target.", (int, float))
    points_ = need(data, "points", path, kind=list)
    ids = set()
    for i, p in enumerate(points_):
        ids.add(check_point(p, path, f"points[{i}].")["id"])
    for mode, m in need(data, "modes", path, kind=dict).items():
        best = need(m, "best", path, f"modes.{mode}.")
        if best is not None and best not in ids:
            raise SchemaError(f"{path}: modes.{mode}.best {best!r} is not a point's id")
    return data
