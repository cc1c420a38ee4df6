"""The design-space search (hls/search.py, `make scan SPACE=...`): the space file's checks, the
grid and its stable point ids, the configs a point writes, the Pareto front and the target by
hand, and a real three-point search on generated jets: one point trained and C-simulated
bit-exact, one pruned by the estimate before training, one a config error; a rerun redoes
nothing."""

import json

import examples
import pytest
import yaml

from hls import points, search
from hls.firmware import load_firmware
from infra.checks import SchemaError
from infra.yamlconfig import ConfigError
from model import builder


def space_file(tmp_path, axes, name="space", **extra):
    body = {"model": "part_tiny", "firmware": "vu13p_trigger", "axes": axes, **extra}
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def test_space_errors_name_the_file_and_axis(tmp_path):
    bad = {
        "firmware_x.clock_period": r"section one of data, model",
        "model.num_blockz": r"unknown key 'num_blockz' of model",
        "quantization.act": r"unknown key 'act' of quantization",
    }
    for axis, message in bad.items():
        path = space_file(tmp_path, {axis: [1]})
        with pytest.raises(ConfigError, match=rf"{path}: axes.{axis}.*{message}"):
            search.load_space(path)
    with pytest.raises(ConfigError, match=r"axes.model.num_blocks must be a non-empty list"):
        search.load_space(space_file(tmp_path, {"model.num_blocks": []}))
    with pytest.raises(ConfigError, match=r"training: unknown key\(s\) epoch"):
        search.load_space(space_file(tmp_path, {"model.num_blocks": [1]}, training={"epoch": 1}))
    with pytest.raises(ConfigError, match=r"space.yml: unknown key\(s\) 'colour'"):
        search.load_space(space_file(tmp_path, {"model.num_blocks": [1]}, colour="red"))
    # axis values are checked when the space loads: a misspelt or degenerate type stops it
    typo = space_file(tmp_path, {"quantization.act_t": ["ap_fixd<8,3>"]})
    with pytest.raises(
        ConfigError, match=rf"{typo}: axes.quantization.act_t\[0\]: not a fixed-point type"
    ):
        search.load_space(typo)
    coarse = space_file(tmp_path, {"quantization.act_t": ["ap_fixed<4,9>"]})
    with pytest.raises(ConfigError, match=r"act_t\[0\]: .*no fractional bit .*a step of 32"):
        search.load_space(coarse)
    shipped = search.load_space("trigger")
    assert shipped["path"].endswith("firmware_configs/search/trigger.yml")
    assert len(search.points(shipped)) == 32
    assert len(search.points(search.load_space("trigger_large"))) == 288


def test_grid_ids_and_configs(tmp_path):
    axes = {
        "model.num_blocks": [1, 2],
        "quantization.weight_bits": [8, 6, 4],
        "firmware.budget.ii_cycles": [30],
    }
    space = search.load_space(space_file(tmp_path, axes, training={"epochs": 3}))
    grid = search.points(space)
    assert len(grid) == 6 and grid[0] == {
        "model.num_blocks": 1,
        "quantization.weight_bits": 8,
        "firmware.budget.ii_cycles": 30,
    }
    ids = [points.point_id(p) for p in grid]
    assert len(set(ids)) == 6
    # the id depends on the point only, not on its place in the grid or the key order
    assert points.point_id(dict(reversed(list(grid[3].items())))) == ids[3]
    model_file, fw_file = search.write_configs(space, grid[5], tmp_path / "out")
    cfg, fw = builder.load_config(model_file), load_firmware(fw_file)
    assert model_file.name == f"{ids[5]}.yml" and cfg["name"] == ids[5]
    assert cfg["model"]["num_blocks"] == 2 and cfg["quantization"]["weight_bits"] == 4
    assert cfg["training"]["epochs"] == 3 and cfg["model"]["pair_features"] == "onchip"
    assert fw["budget"]["ii_cycles"] == 30 and fw["budget"]["resources"] == 0.5
    assert fw["parallel"] == "auto" and fw["part"] == "xcvu13p-flga2577-2-e"


def test_pareto_and_target_by_hand():
    p = examples.example_point
    pts = [
        p("a", 0.70, 900, 200_000, 3000),
        p("b", 0.68, 600, 150_000, 2000),  # less accurate but cheaper and faster: on the front
        p("c", 0.65, 950, 250_000, 3500),  # worse than a in everything: off
        p("d", 0.75, 1200, 300_000, 4000),  # the most accurate, too slow for the target
        p("e", 0.75, 1300, 300_000, 4000),  # ties d in accuracy, slower: off
        p("f", 0.72, 800, 900_000, 1000),  # over 50% of the VU13P's 1.73M LUT? no: 52%
        p("g", 0.60, 500, 100_000, 900, pair_features="none"),
    ]
    assert points.pareto(pts) == {"a", "b", "d", "f", "g"}
    target = {"resources": 0.5, "latency_ns": 1000, "ii_ns": 150}
    meets = {r["id"] for r in pts if points.meets_target(r, target)}
    assert meets == {"a", "b", "c", "g"}  # d, e too slow; f over 50% of the LUTs
    assert not points.meets_target(dict(pts[0], status="error"), target)
    slow_ii = p("h", 0.9, 500, 1000, 10, ii_ns=160)
    assert not points.meets_target(slow_ii, target)
    modes = points.summarise(pts, target)
    assert modes["onchip"]["best"] == "a" and modes["none"]["best"] == "g"
    assert modes["onchip"]["pareto"] == ["a", "b", "d", "f"]  # within the mode
    data = examples.example_search(pts)
    points.check_result(data, "x.json")
    broken = dict(pts[0], csim={"bit_exact_fraction": 0.99})
    with pytest.raises(SchemaError, match=r"x.json: points\[0\].a done point is bit-exact"):
        points.check_result(dict(data, points=[broken], modes={}), "x.json")
    with pytest.raises(SchemaError, match=r"points\[0\].a point that is not done says why"):
        points.check_result(dict(data, points=[dict(pts[0], status="error")], modes={}), "x.json")


def test_search_on_generated_jets(jet_sample, tmp_path, capsys):
    axes = {
        "model.embed_dims": [[16], [32]],  # 32 cannot meet the interval: never trained
        "model.pair_features": ["none"],
        # 3 heads divide neither 16 nor 32: a config error of the point (a malformed type is
        # refused when the space loads: test_space_errors_name_the_file_and_axis)
        "model.num_heads": [2, 3],
        "firmware.parallel": ["auto", 3],  # 3 divides no layer's 16 rows: a folding error
    }
    path = space_file(tmp_path, axes, n_jets=100, training={"epochs": 2, "batch_size": 64})
    root = tmp_path / "search"
    result = search.run(path, jet_sample, search_root=root)
    out = root / "space"
    by = {
        r["overrides"]["model.embed_dims"][0]: r
        for r in result["points"]
        if r["stage"] != "config" and r["overrides"]["firmware.parallel"] == "auto"
    }
    assert len(result["points"]) == 8 and set(by) == {16, 32}
    done, pruned = by[16], by[32]
    assert done["status"] == "done" and done["csim"]["bit_exact_fraction"] == 1.0
    assert done["csim"]["n_jets"] == 100 and 0 <= done["accuracy"] <= 1
    assert done["estimate"]["weights"] == "trained"
    assert done["estimate"]["latency"]["interval_ns"] <= 150
    assert (out / done["config"]).is_file() and (out / done["model_dir"] / "model.keras").is_file()
    assert pruned["status"] == "over_budget" and "budget.ii_cycles=30" in pruned["error"]
    assert not (out / "models" / pruned["id"]).exists()
    errors = [r for r in result["points"] if r["status"] == "error"]
    assert len(errors) == 6
    config_errors = [r for r in errors if r["stage"] == "config"]
    assert len(config_errors) == 4
    assert all("not divisible by model.num_heads=3" in r["error"] for r in config_errors)
    folding = [r for r in errors if r["stage"] == "estimate"]
    assert len(folding) == 2 and all("parallel=3 does not divide" in r["error"] for r in folding)
    assert all(r["overrides"]["firmware.parallel"] == 3 for r in folding)
    assert result["modes"]["none"]["best"] == done["id"] and done["meets_target"]
    assert result["float_reference"]["none"]["id"] == done["id"]
    saved = json.loads((out / "search.json").read_text())
    points.check_result(saved, out / "search.json")
    assert "| none | embed_dims=[16]" in capsys.readouterr().out
    # a rerun finds every point done and trains nothing
    stamp = (out / done["model_dir"] / "model.keras").stat().st_mtime_ns
    again = search.run(path, jet_sample, search_root=root)
    assert [r["id"] for r in again["points"]] == [r["id"] for r in result["points"]]
    assert (out / done["model_dir"] / "model.keras").stat().st_mtime_ns == stamp
    assert capsys.readouterr().out.count("done before") == 8


def test_a_point_trained_to_chance_is_a_failure(tmp_path, monkeypatch):
    """A point whose training learnt nothing (a constant output: macro AUC 0.5) is recorded
    as failed at its training, never C-simulated and offered as a result (issue 21, item 4)."""
    import model.train

    space = search.load_space(space_file(tmp_path, {"model.num_blocks": [1]}))
    overrides = search.points(space)[0]
    files = search.write_configs(space, overrides, tmp_path / "out")
    chance = {"accuracy": 0.1, "macro_auc": 0.5, "rejection_at_50pct": {}, "parameters": 1}
    chance.update(bops=1, n_train=8, epochs_run=1, train_seconds=0.1)
    monkeypatch.setattr(model.train, "train", lambda *a, **k: chance)
    job = search.point_job(space, overrides, files, tmp_path / "out", tmp_path / "nodata")
    record = points.run_point(job)
    assert (record["status"], record["stage"]) == ("error", "train")
    assert "trained to chance: accuracy 0.100, macro AUC 0.500" in record["error"]
    assert record["csim"] is None  # never C-simulated


def test_ctrl_c_in_a_search_is_one_line_and_says_how_to_resume(monkeypatch, capsys):
    """Ctrl-C once printed a 240-line traceback; now one line, exit 130 (issue 21, item 7)."""
    from hls import cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(search, "run", interrupted)
    assert cli.main(["scan", "--space", "trigger", "--scheduler", "serial"]) == 130
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("interrupted: the points finished so far")
    assert "build/search/<space>/points/" in err[0] and "run the same command again" in err[0]


def test_labels_and_the_table_keep_what_was_written():
    """A type in a label keeps its ap_ prefix; a failed point's error is not cut mid-word in
    the closing table (issue 21, item 3)."""
    assert points.label({"quantization.act_t": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"}) == (
        "act_t=ap_fixed<8,3>"
    )
    assert points.label({"quantization.attn_t": "ap_ufixed<8,0>"}) == "attn_t=ap_ufixed<8,0>"
    error = "ConfigError: x.yml: act_t: " + "a long reason " * 20 + "(expected e.g. 'ap_fixed')"
    failed = dict(points.new_record({"model.num_blocks": 1}, "config", error), pair_features="x")
    row = points.table({"points": [failed]}).splitlines()[-1]
    assert "(expected e.g. 'ap_fixed')" in row
