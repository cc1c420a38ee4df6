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

The point record, its runner, the fronts and the result file are hls/points.py's, shared with
`make scan` (a generator of points over a trained model).

    build/search/<space>/search.json    every point, the fronts, the best points, references
    build/search/<space>/configs/       <id>.yml model config and <id>_fw.yml firmware config
    build/search/<space>/points/        <id>.json, one point's result (what a rerun skips)
    build/search/<space>/models/, hls/  the trained models and the C-simulated projects
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

from hls import points as points_
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


# ------------------------------------------------------------------ the search


def write_configs(space: dict, overrides: dict, out: Path) -> tuple[Path, Path]:
    """The point's model and firmware configs (configs/<id>.yml, <id>_fw.yml): what the
    builder and the firmware loader validate, and what the dashboard links to."""
    return points_.write_configs(
        out,
        overrides,
        space["model"],
        space["firmware"],
        f"search {space['name']}",
        training=space["training"],
    )


def point_job(space: dict, overrides: dict, files, out: Path, data_dir) -> dict:
    """A search point's task (hls.points.job): estimated untrained and pruned over the
    budget, trained, then C-simulated."""
    return points_.job(overrides, files, out, data_dir, space["n_jets"], train=True, prune=True)


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
    """Every point of a space (each one task on `scheduler`: hls.points, hls.cluster), then
    the fronts, the best points and their float twins -> <search_root>/<space>/search.json."""
    space = load_space(space_name)
    out = Path(search_root) / space["name"]
    grid = points(space)
    print(
        f"[search] {space['name']}: {len(grid)} points "
        f"({' x '.join(str(len(v)) for v in space['axes'].values())}), "
        f"base {space['model']} on {space['firmware']}, data {data_dir}, scheduler "
        f"{scheduler} -> {out}",
        flush=True,
    )
    jobs = []
    for overrides in grid:
        files = write_configs(space, overrides, out)
        jobs.append(
            (
                point_job(space, overrides, files, out, data_dir),
                points_.depends_on(files, data_dir, space["n_jets"]),
            )
        )
    t0 = time.perf_counter()
    records = points_.run_points(
        "search", jobs, out, scheduler, workers, extra={"data_dir": str(data_dir)}
    )
    meta = {
        "name": space["name"],
        "space": space["name"],
        "space_path": space["path"],
        "description": space["description"],
        "model": space["model"],
        "firmware": space["firmware"],
        "data_dir": str(data_dir),
        "axes": space["axes"],
    }
    result = points_.result("search", meta, records, space["target"], t0)
    references = {}
    if space["float_reference"]:
        for mode, m in result["modes"].items():
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
    result.update(float_reference=references, part_full_reference=part_full)
    points_.write_result(result, out / "search.json")
    print(points_.table(result), flush=True)
    print(f"[search] -> {out}/search.json", flush=True)
    return result
