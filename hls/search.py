"""`make scan SPACE=<space>`: a design-space search driven by the estimate.

A search space (firmware_configs/search/<name>.yml) changes keys of one model config and one
firmware config; its grid is the product of its axes:

    model: part_tiny                  # the base model config
    firmware: vu13p_trigger           # the base firmware config (its budget drives the folding)
    target: {resources: 0.5, latency_ns: 1000, ii_ns: 150}
    n_jets: 1000                      # held-out jets C-simulated per point
    training: {epochs: 20}            # for every point (keys of the model's training section)
    axes:
      data.n_particles: [16, 24]
      model.num_blocks: [1, 2]
      quantization.weight_bits: [8, 4]
      model.pair_features: [onchip, none]     # with and without ParT's pair bias
      firmware.budget.ii_cycles: [30]

Every point goes through the same steps, each one cheap before the next expensive one:
  1. fold and estimate the untrained design (`parallel: auto` within the firmware budget);
     a point that no folding brings within the budget is recorded with the binding term and
     is not trained;
  2. train it quantization-aware (model.train) on the search's data;
  3. C-simulate it against Keras (hls.csim: folded again and estimated with the trained weights,
     converted, compiled, predicted on `n_jets` held-out jets).
A failing point (a config the builder rejects, a folding that does not divide, a diverging
training, a C simulation that is not bit-exact) is recorded with its error and stage; the
search goes on. A rerun skips the points whose configs and data are unchanged. The points
that meet the target
(every resource within `target.resources` of the part, latency and interval within their
budgets, bit-exact) compete for `best`; the Pareto front (accuracy against estimated latency,
LUT and DSP) is marked per pair-feature mode, and the best point of each mode gets a float twin
trained as its reference.

    build/search/<space>/search.json    every point, the fronts, the best points, references
    build/search/<space>/configs/       <id>.yml model config and <id>_fw.yml firmware config
    build/search/<space>/points/        <id>.json, one point's result (what a rerun skips)
    build/search/<space>/models/, hls/  the trained models and the C-simulated projects
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import time
from pathlib import Path

import yaml

from infra.checks import SchemaError, need
from infra.errors import QpartError
from infra.paths import BUILD
from infra.yamlconfig import REQUIRED, ConfigError, find_config, read_yaml, validate

SPACE_DIR = Path(__file__).resolve().parent.parent / "firmware_configs" / "search"
SECTIONS = ("data", "model", "quantization", "training", "firmware")
SCHEMA = {
    "description": (str, ""),
    "model": (str, REQUIRED),
    "firmware": (str, REQUIRED),
    "target": (
        {
            "resources": (float, 0.5),
            "latency_ns": ((int, float, type(None)), None),
            "ii_ns": ((int, float, type(None)), None),
        },
        {},
    ),
    "n_jets": (int, 1000),
    "training": (dict, {}),
    "float_reference": (bool, True),
    "axes": (dict, REQUIRED),
}
SCHEMA_VERSION = 1
OBJECTIVES = ("latency_ns", "LUT", "DSP")  # minimised, with accuracy maximised
CHANCE_AUC = 0.52  # a trained point below this macro AUC is a failure, not a result


# ------------------------------------------------------------------ the space and its points


def load_space(name_or_path) -> dict:
    """Read and validate a search space; an unknown section or key names the file and axis."""
    from hls.firmware import SCHEMA as FW_SCHEMA
    from hls.firmware import check_value, load_firmware
    from model import builder

    path = find_config(name_or_path, SPACE_DIR, "search space")
    space = validate(read_yaml(path), SCHEMA, str(path))
    space["target"] = validate(space["target"], SCHEMA["target"][0], f"{path}: target")
    where = f"{path}: axes"
    if not space["axes"]:
        raise ConfigError(f"{where}: no axes (a search needs at least one)")
    for key, values in space["axes"].items():
        section, _, rest = str(key).partition(".")
        if section not in SECTIONS or not rest:
            raise ConfigError(
                f"{where}.{key}: an axis is <section>.<key>, section one of {', '.join(SECTIONS)}"
            )
        top = rest.split(".")[0]
        known = FW_SCHEMA if section == "firmware" else builder.SCHEMA[section][0]
        if top not in known:
            raise ConfigError(
                f"{where}.{key}: unknown key {top!r} of {section} (known: {', '.join(known)})"
            )
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}.{key} must be a non-empty list of values")
        last = rest.split(".")[-1]
        if last.endswith("_t"):  # a type: checked now, not once per point at its config
            for i, value in enumerate(values):
                check_value(str(path), f"axes.{key}[{i}]", last, value)
    unknown = sorted(set(space["training"]) - set(builder.SCHEMA["training"][0]))
    if unknown:
        raise ConfigError(f"{path}: training: unknown key(s) {', '.join(unknown)}")
    builder.load_config(space["model"])  # the base configs load, or the search stops here
    load_firmware(space["firmware"])
    space["name"], space["path"] = path.stem, str(path)
    return space


def points(space: dict) -> list[dict]:
    """The grid: one {axis: value} mapping per point, in the product's order."""
    axes = [[(k, v) for v in values] for k, values in space["axes"].items()]
    return [dict(combo) for combo in itertools.product(*axes)]


def point_id(overrides: dict) -> str:
    """A stable name of a point: the same overrides give the same id, whatever the grid."""
    text = json.dumps(overrides, sort_keys=True, default=str)
    return "p" + hashlib.sha256(text.encode()).hexdigest()[:10]


def label(overrides: dict) -> str:
    """'n_particles=16 num_blocks=2 weight_bits=4 pair_features=none'."""

    def value(v):
        if isinstance(v, str) and "<" in v:  # a type as written, without its modes
            return v.split(",")[0] + "," + v.split(",")[1].rstrip(">") + ">"
        return json.dumps(v) if isinstance(v, (list, dict)) else str(v)

    return " ".join(f"{k.rsplit('.', 1)[-1]}={value(v)}" for k, v in overrides.items())


def _set(tree: dict, dotted: str, value):
    keys = dotted.split(".")
    for k in keys[:-1]:
        tree = tree.setdefault(k, {})
    tree[keys[-1]] = copy.deepcopy(value)


def write_configs(space: dict, overrides: dict, out: Path) -> tuple[Path, Path]:
    """The point's model and firmware configs as YAML files (configs/<id>.yml, <id>_fw.yml):
    what the builder and the firmware loader validate, and what the dashboard links to."""
    from hls.firmware import config_path as fw_path
    from model import builder

    pid = point_id(overrides)
    model_cfg = read_yaml(builder.config_path(space["model"]))
    fw_cfg = read_yaml(fw_path(space["firmware"]))
    for key, value in space["training"].items():
        _set(model_cfg, f"training.{key}", value)
    for key, value in overrides.items():
        section, _, rest = key.partition(".")
        _set(
            fw_cfg if section == "firmware" else model_cfg,
            key if section != "firmware" else rest,
            value,
        )
    configs = out / "configs"
    configs.mkdir(parents=True, exist_ok=True)
    head = f"# search {space['name']}, point {pid}: {label(overrides)}\n"
    model_file, fw_file = configs / f"{pid}.yml", configs / f"{pid}_fw.yml"
    model_file.write_text(head + f"# base: {space['model']}\n" + yaml.safe_dump(model_cfg))
    fw_file.write_text(head + f"# base: {space['firmware']}\n" + yaml.safe_dump(fw_cfg))
    return model_file, fw_file


# ------------------------------------------------------------------ one point


def spec(files, data_dir) -> str:
    """What a point's result depends on: its two config files and the data."""
    text = "".join(Path(f).read_text() for f in files) + str(data_dir)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def new_record(overrides: dict, stage: str, error: str | None = None) -> dict:
    """A point's record before it is done: its id, label and config files (write_configs)."""
    pid = point_id(overrides)
    return {
        "id": pid,
        "label": label(overrides),
        "overrides": overrides,
        "status": "error",
        "stage": stage,
        "error": error,
        "config": f"configs/{pid}.yml",
        "firmware_config": f"configs/{pid}_fw.yml",
    }


def run_point(space: dict, overrides: dict, files, out: Path, data_dir) -> dict:
    """Estimate, train and C-simulate one point from its config `files` (write_configs), each
    stage on the design value (hls.design) through hls.runner; returns its record (never
    raises for a failure of the point itself: the error is recorded with its stage)."""
    from hls import autofold, runner
    from hls.design import design
    from hls.estimate import summary, verdict_line
    from hls.firmware import load_firmware
    from model import builder
    from model.train import model_dir, train

    record = new_record(overrides, "config")
    model_file, fw_file = files
    models = out / "models"
    cfg = fw = None

    def configs(record):
        nonlocal cfg, fw
        cfg = builder.load_config(model_file)
        fw = load_firmware(fw_file)
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
        metrics = train(str(model_file), data_dir, quantized=True, root=models, verbose=0)
        record.update({k: metrics[k] for k in ("accuracy", "macro_auc", "rejection_at_50pct")})
        record.update(
            {
                k: metrics[k]
                for k in ("parameters", "bops", "n_train", "epochs_run", "train_seconds")
            }
        )
        if metrics["macro_auc"] < CHANCE_AUC:  # a constant output: nothing was learnt
            record["error"] = (
                f"trained to chance: accuracy {metrics['accuracy']:.3f}, macro AUC "
                f"{metrics['macro_auc']:.3f} (its types or training learn nothing)"
            )
            return False

    def simulated(record):
        d = design(cfg, fw, "trained", models_root=models, hls_root=out / "hls")
        trained_est, report = runner.simulate(
            d, data_dir, space["n_jets"], force=True, testbench=False
        )
        record["estimate"] = summary(trained_est)
        record["parallel"] = {k: v["parallel"] for k, v in report["folding"].items()}
        record["csim"] = {
            k: report["predict"][k]
            for k in ("n_jets", "bit_exact_fraction", "max_abs_diff_lsb", "keras_accuracy")
        }
        record["model_dir"] = str(model_dir(cfg["name"], True, models).relative_to(out))
        if report["predict"]["bit_exact_fraction"] < 1:
            record["error"] = (
                f"C simulation not bit-exact: {report['predict']['bit_exact_fraction']:.4f} of "
                f"{report['predict']['n_jets']} jets (first divergent layer: "
                f"{report['first_divergent_layer']})"
            )
            return False

    def announced(stage, step):
        def run(record):
            print(f"[search] {record['id']} {stage} ...", flush=True)
            return step(record)

        return stage, run

    return runner.run_point(
        record,
        [("config", configs)]
        + [
            announced(*s)
            for s in (("estimate", estimated), ("train", trained), ("csim", simulated))
        ],
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


def meets_target(record: dict, target: dict) -> bool:
    """Done (so bit-exact), every resource within target.resources of the part, latency and
    interval within their budgets."""
    f = figures(record)
    if f is None:
        return False
    res = record["estimate"]["resources"]
    ok = all(
        v["available"] == 0
        and v["used"] == 0
        or v["available"]
        and v["used"] <= target["resources"] * v["available"]
        for v in res.values()
    )
    if target["latency_ns"] is not None:
        ok = ok and f["latency_ns"] <= target["latency_ns"]
    if target["ii_ns"] is not None:
        ok = ok and f["ii_ns"] <= target["ii_ns"]
    return ok


def summarise(records: list[dict], target: dict) -> dict:
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


# ------------------------------------------------------------------ the search


def _float_reference(record: dict, out: Path, data_dir) -> dict:
    """The float twin of a point (same size, same data): the accuracy quantization costs.
    Trained once: a rerun reads its metrics.json."""
    from model.train import model_dir, train

    saved = model_dir(record["id"], False, out / "models") / "metrics.json"
    if saved.exists():
        metrics = json.loads(saved.read_text())
    else:
        print(f"[search] float twin of {record['id']} ...", flush=True)
        metrics = train(
            str(out / record["config"]), data_dir, quantized=False, root=out / "models", verbose=0
        )
    return {
        "id": record["id"],
        "accuracy": metrics["accuracy"],
        "macro_auc": metrics["macro_auc"],
    }


def run(
    space_name,
    data_dir=str(BUILD.data),
    search_root=str(BUILD.search),
    models_root=str(BUILD.models),
    scheduler="serial",
    workers=None,
):
    """Every point of a space (each one task on `scheduler`: hls.cluster), then the fronts,
    the best points and their float twins -> <search_root>/<space>/search.json."""
    from hls import cluster

    space = load_space(space_name)
    out = Path(search_root) / space["name"]
    (out / "points").mkdir(parents=True, exist_ok=True)
    grid = points(space)
    print(
        f"[search] {space['name']}: {len(grid)} points "
        f"({' x '.join(str(len(v)) for v in space['axes'].values())}), "
        f"base {space['model']} on {space['firmware']}, data {data_dir}, scheduler "
        f"{scheduler} -> {out}",
        flush=True,
    )
    jobs = []
    # absolute paths: a worker on another host (shared file system) has another working dir
    where = (out.resolve(), str(Path(data_dir).resolve()))
    for overrides in grid:
        files = write_configs(space, overrides, out)
        args = (space, overrides, [Path(f).resolve() for f in files], *where)
        jobs.append((point_id(overrides), spec(files, data_dir), args))
    t0 = time.perf_counter()
    records = cluster.run_kept(
        run_point,
        jobs,
        out / "points",
        scheduler,
        workers,
        "search",
        lambda k, err: new_record(grid[k], "worker", cluster.lost_error(err)),
        _line,
        extra={"data_dir": str(data_dir)},
    )
    modes = summarise(records, space["target"])
    references = {}
    if space["float_reference"]:
        for mode, m in modes.items():
            if m["best"] is None:
                continue
            best = next(r for r in records if r["id"] == m["best"])
            try:
                references[mode] = _float_reference(best, out, data_dir)
            except QpartError as err:
                references[mode] = {"id": best["id"], "error": str(err)}
    full = Path(models_root) / "part_full-float" / "metrics.json"
    part_full = None
    if full.exists():
        m = json.loads(full.read_text())
        if m.get("data_dir") == str(data_dir):
            part_full = {"accuracy": m["accuracy"], "macro_auc": m["macro_auc"], "path": str(full)}
    result = {
        "schema_version": SCHEMA_VERSION,
        "space": space["name"],
        "space_path": space["path"],
        "description": space["description"],
        "model": space["model"],
        "firmware": space["firmware"],
        "data_dir": str(data_dir),
        "target": space["target"],
        "axes": space["axes"],
        "seconds": round(time.perf_counter() - t0, 1),
        "modes": modes,
        "float_reference": references,
        "part_full_reference": part_full,
        "points": records,
    }
    check_search(result, out / "search.json")
    (out / "search.json").write_text(json.dumps(result, indent=1))
    print(table(result), flush=True)
    print(f"[search] -> {out}/search.json", flush=True)
    return result


def _line(record: dict) -> str:
    if record["status"] == "done":
        f = figures(record)
        return (
            f"accuracy {f['accuracy']:.4f}, latency {f['latency_ns']:.0f} ns, II "
            f"{f['ii_ns']:.0f} ns, LUT {f['LUT']}, DSP {f['DSP']} ({record['seconds']:.0f} s)"
        )
    return f"{record['status']} at {record['stage']}: {record['error']}"


def table(result: dict) -> str:
    """The points as a Markdown table, best first per mode (the closing note's table)."""
    rows = [
        "| pair features | point | accuracy | macro AUC | latency (ns) | II (ns) | LUT | DSP "
        "| BRAM_18K | Pareto | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    done = [r for r in result["points"] if figures(r)]
    for r in sorted(done, key=lambda r: (r["pair_features"], -r["accuracy"])):
        f = figures(r)
        rows.append(
            f"| {r['pair_features']} | {r['label']} | {f['accuracy']:.4f} | {r['macro_auc']:.4f} "
            f"| {f['latency_ns']:.0f} | {f['ii_ns']:.0f} | {f['LUT']:,} | {f['DSP']:,} "
            f"| {f['BRAM_18K']:,} | {'yes' if r['pareto'] else ''} "
            f"| {'yes' if r['meets_target'] else ''} |"
        )
    others = [r for r in result["points"] if not figures(r)]
    for r in others:
        why = r["error"].split("_fw.yml: ", 1)[-1].splitlines()[0]  # its config file: known
        rows.append(
            f"| {r.get('pair_features', '?')} | {r['label']} | {r['status']}: {why} |||||||||"
        )
    return "\n".join(rows)


# ------------------------------------------------------------------ schema


POINT_STATUSES = ("done", "over_budget", "error")


def check_search(data, path) -> dict:
    """search.json: the space, the target, per-mode fronts and every point with its status;
    a done point has its accuracy, estimate (hls.estimate.summary) and C simulation."""
    from hls.estimate import check_estimate

    need(data, "space", path)
    need(need(data, "target", path, kind=dict), "resources", path, "target.", (int, float))
    points_ = need(data, "points", path, kind=list)
    ids = {need(p, "id", path, f"points[{i}].") for i, p in enumerate(points_)}
    for mode, m in need(data, "modes", path, kind=dict).items():
        best = need(m, "best", path, f"modes.{mode}.")
        if best is not None and best not in ids:
            raise SchemaError(f"{path}: modes.{mode}.best {best!r} is not a point's id")
    for i, p in enumerate(points_):
        where = f"points[{i}]."
        for key in ("label", "status", "config", "firmware_config"):
            need(p, key, path, where)
        if p["status"] not in POINT_STATUSES:
            raise SchemaError(f"{path}: {where}status must be one of {POINT_STATUSES}")
        if p.get("estimate") is not None:
            check_estimate(dict(p["estimate"], layers=[]), f"{path}: {where}estimate")
        if p["status"] == "done":
            need(p, "pair_features", path, where, str)  # what fronts and best are grouped by
            for key in ("accuracy", "macro_auc"):
                if not isinstance(need(p, key, path, where), (int, float)) or not math.isfinite(
                    p[key]
                ):
                    raise SchemaError(f"{path}: {where}{key} must be a finite number")
            need(p, "estimate", path, where, dict)
            if need(p, "csim", path, where, dict).get("bit_exact_fraction") != 1:
                raise SchemaError(f"{path}: {where}a done point is bit-exact")
        elif not p.get("error"):
            raise SchemaError(f"{path}: {where}a point that is not done says why (error)")
    return data
