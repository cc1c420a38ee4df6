"""Firmware configs and the hls-csim driver's guards: every bad input gets a clear error."""

import json

import numpy as np
import pytest

from hls import csim, firmware
from infra.yamlconfig import ConfigError
from model import builder
from model.train import TrainError, load_trained

GOOD = """\
backend: Vitis
part: xcvu13p-flga2577-2-e
clock_period: 5
io_type: io_parallel
strategy: Latency
parallel: 1
reuse_factor: 1
budget: {resources: 0.8}
precision: {}
layers: {}
"""


def write(tmp_path, text, name="fw.yml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_shipped_configs_load():
    for name in ("vu13p", "vu9p", "vu13p_parallel", "vu13p_trigger"):
        fw = firmware.load_firmware(name)
        assert fw["resources"]["DSP"] > 0 and fw["backend"] in ("Vivado", "Vitis")
    vu13p = firmware.load_firmware("vu13p")
    assert vu13p["part"] == "xcvu13p-flga2577-2-e" and vu13p["slrs"] == 4
    vu9p = firmware.load_firmware("vu9p")
    assert vu9p["part"] == "xcvu9p-flga2104-2-e" and vu9p["slrs"] == 3


@pytest.mark.parametrize(
    "edit,message",
    [
        (("backend: Vitis", "backend: Quartus"), r"fw.yml: backend must be 'Vivado' or 'Vitis'"),
        (("part: xcvu13p-flga2577-2-e", "part: xc7z999"), r"fw.yml: unknown part 'xc7z999'"),
        (("reuse_factor: 1", "reuse_factor: 1\nreuse: 2"), r"fw.yml: unknown key\(s\) 'reuse'"),
        (("clock_period: 5", "clock_period: fast"), r"fw.yml: key 'clock_period' must be float"),
        (("io_type: io_parallel", "io_type: io_stream"), r"fw.yml: io_type 'io_stream'"),
        (
            ("precision: {}", "precision: {act_t: fixed<8>}"),
            r"fw.yml: precision.act_t: not a fixed",
        ),
        (
            ("precision: {}", "precision: {act_t: 'ap_fixed<4,9>'}"),
            r"fw.yml: precision.act_t: ap_fixed<4,9,.*no fractional bit .*a step of 32",
        ),
        (
            ("precision: {}", "precision: {act_width: 8}"),
            r"fw.yml: precision: unknown key\(s\) " r"'act_width'",
        ),
        (
            ("layers: {}", "layers: {head: {reuse_factor: two}}"),
            r"fw.yml: layers.head.reuse_factor " r"must be an int",
        ),
        (
            ("parallel: 1", "parallel: 0"),
            r"fw.yml: parallel must be an int >= 1 or 'all' or 'auto'",
        ),
        (("parallel: 1", "parallel: many"), r"fw.yml: parallel must be an int >= 1"),
        (
            ("layers: {}", "layers: {head: {parallel: auto}}"),
            r"fw.yml: layers.head.parallel must be " r"an int >= 1 or 'all', got 'auto'",
        ),
        (
            ("budget: {resources: 0.8}", "budget: {resources: 80}"),
            r"fw.yml: budget.resources must " r"be a fraction",
        ),
        (
            ("budget: {resources: 0.8}", "budget: {luts: 0.8}"),
            r"fw.yml: budget: unknown key\(s\) " r"'luts'",
        ),
    ],
)
def test_bad_firmware_configs(tmp_path, edit, message):
    old, new = edit
    assert old in GOOD
    with pytest.raises(ConfigError, match=message):
        firmware.load_firmware(write(tmp_path, GOOD.replace(old, new)))


def test_custom_part_needs_resources(tmp_path):
    text = GOOD.replace(
        "part: xcvu13p-flga2577-2-e",
        "part: xcmy-part\npart_resources: " "{LUT: 100, FF: 200, DSP: 3, BRAM_18K: 4, URAM: 0}",
    )
    fw = firmware.load_firmware(write(tmp_path, text))
    assert fw["resources"]["DSP"] == 3
    with pytest.raises(ConfigError, match=r"no such firmware config"):
        firmware.load_firmware("no_such_board")


def test_layer_overrides_rebuild_the_arithmetic(tmp_path):
    cfg = builder.load_config("part_tiny")
    model = builder.build_model(cfg)
    text = GOOD.replace(
        "layers: {}",
        "layers: {head: {result_t: 'ap_fixed<12,5,AP_RND_CONV,AP_SAT>'," " reuse_factor: 2}}",
    ).replace("precision: {}", "precision: {exp_table_size: 256}")
    fw = firmware.load_firmware(write(tmp_path, text))
    variant = firmware.firmware_model(model, cfg, fw)
    assert variant.get_layer("head").result_t.width == 12
    assert variant.get_layer("block0_attn").exp_table_size == 256
    for a, b in zip(model.get_weights(), variant.get_weights()):
        np.testing.assert_array_equal(a, b)
    over = firmware.folding_overrides(fw)
    assert over["LayerName"] == {"head": {"ReuseFactor": 2}}
    assert over["Model"] == {"ReuseFactor": 1, "ParallelizationFactor": 1}
    bad = firmware.load_firmware(
        write(
            tmp_path,
            GOOD.replace("layers: {}", "layers: {block7_attn: {reuse_factor: 2}}"),
            "bad.yml",
        )
    )
    with pytest.raises(ConfigError, match=r"bad.yml: layers: block7_attn not in model"):
        firmware.firmware_model(model, cfg, bad)
    worse = firmware.load_firmware(
        write(
            tmp_path,
            GOOD.replace("layers: {}", "layers: {head: {logit_t: 'ap_fixed<8,3>'}}"),
            "worse.yml",
        )
    )
    with pytest.raises(
        ConfigError, match=r"worse.yml: layers.head.logit_t: FxDense has no " r"argument 'logit_t'"
    ):
        firmware.firmware_model(model, cfg, worse)


def test_output_directory_of_another_project_is_refused(tmp_path, capsys):
    out = tmp_path / "prj"
    me = {
        "model": "part_tiny",
        "firmware": "vu13p",
        "architecture": "a",
        "firmware_sha256": "1" * 16,
        "firmware_config": "firmware_configs/vu13p.yml",
    }
    csim.claim_output_dir(out, me, force=False)
    (out / "firmware").mkdir()
    csim.record_entries(out)
    csim.claim_output_dir(out, me, force=False)  # the same project: rebuilt in place, said so
    assert not (out / "firmware").exists()
    assert f"replacing {out}: project of part_tiny / vu13p" in capsys.readouterr().out
    other = dict(me, firmware="vu9p")
    with pytest.raises(
        csim.CsimError, match=r"prj already holds project of part_tiny / vu13p.*" r"FORCE=1"
    ):
        csim.claim_output_dir(out, other, force=False)
    csim.claim_output_dir(out, other, force=True)
    assert json.loads((out / csim.MARKER).read_text()) == other
    stranger = tmp_path / "mine"
    stranger.mkdir()
    (stranger / "thesis.tex").write_text("precious")
    with pytest.raises(csim.CsimError, match=r"mine already holds files that are not a qpart"):
        csim.claim_output_dir(stranger, me, force=False)
    assert (stranger / "thesis.tex").read_text() == "precious"


def test_a_copy_of_a_shipped_config_does_not_take_its_project(tmp_path, capsys):
    """FW=<dir>/vu13p.yml with other content is another design: it does not replace the
    shipped vu13p project without FORCE; a user's file in a project is named, never lost
    silently; every replacement is said."""
    out = tmp_path / "prj"
    shipped = {
        "model": "part_tiny",
        "firmware": "vu13p",
        "architecture": "a",
        "firmware_sha256": "1" * 16,
        "firmware_config": "/q/firmware_configs/vu13p.yml",
    }
    copy = dict(shipped, firmware_sha256="2" * 16, firmware_config="/tmp/mine/vu13p.yml")
    csim.claim_output_dir(out, shipped, force=False)
    (out / "firmware").mkdir()
    csim.record_entries(out)
    with pytest.raises(csim.CsimError) as err:
        csim.claim_output_dir(out, copy, force=False)
    msg = str(err.value)
    assert "/q/firmware_configs/vu13p.yml sha256 1111" in msg and "/tmp/mine/vu13p.yml" in msg
    assert (out / "firmware").exists()
    # the same design, but a user's notes in its folder: named, kept unless forced
    (out / "notes.txt").write_text("mine")
    with pytest.raises(csim.CsimError, match=r"files that qpart did not write: notes.txt"):
        csim.claim_output_dir(out, shipped, force=False)
    assert (out / "notes.txt").read_text() == "mine"
    capsys.readouterr()
    csim.claim_output_dir(out, copy, force=True)
    said = capsys.readouterr().out
    assert f"replacing {out}" in said and "files qpart did not write: notes.txt" in said
    assert json.loads((out / csim.MARKER).read_text()) == copy


def test_make_estimate_keeps_to_its_own_project(tmp_path, capsys):
    """make estimate writes no estimate into the project of another firmware config of the
    same name, and every estimate.json carries the configs' paths and hashes."""
    from hls import cli

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "vu9p.yml").write_text(
        firmware.config_path("vu9p").read_text().replace("reuse_factor: 1", "reuse_factor: 2")
    )
    args = ["estimate", "--model", "part_tiny", "--untrained", "--out-root", str(tmp_path)]
    assert cli.main(args + ["--fw", "vu9p"]) == 0  # part_tiny fits the VU9P
    est = json.loads((tmp_path / "part_tiny-vu9p" / "estimate.json").read_text())
    assert est["configs"]["firmware"]["path"] == str(firmware.config_path("vu9p").resolve())
    assert len(est["configs"]["firmware"]["sha256"]) == 16
    prj = tmp_path / "part_tiny-vu9p"
    marker = {"model": "part_tiny", "firmware": "vu9p", "architecture": "x"}
    (prj / csim.MARKER).write_text(json.dumps(dict(marker, firmware_sha256="0" * 16)))
    assert cli.main(args + ["--fw", str(mine / "vu9p.yml")]) == 2
    assert "holds project of part_tiny / vu9p" in capsys.readouterr().err
    assert cli.main(args + ["--fw", str(mine / "vu9p.yml"), "--force", "1"]) == 0


def test_compiler_failure_shows_the_first_error(tmp_path):
    (tmp_path / "firmware").mkdir()
    (tmp_path / "firmware" / "myproject.cpp").write_text("int f() { return 0; }\n")
    (tmp_path / "myproject_test.cpp").write_text(
        "#include <cstdio>\nint main() {\n  undeclared_thing(3);\n  also_missing();\n}\n"
    )
    with pytest.raises(csim.CsimError) as err:
        csim.build_testbench(tmp_path)
    text = str(err.value)
    assert "g++ failed" in text and "undeclared_thing" in text
    assert len(text.splitlines()) < 12


def test_model_file_that_does_not_load(tmp_path):
    out = tmp_path / "part_tiny"
    out.mkdir()
    (out / "model.keras").write_bytes(b"not a zip archive")
    with pytest.raises(TrainError, match=r"part_tiny/model.keras: cannot be loaded"):
        load_trained(out)
    with pytest.raises(TrainError, match=r"no_model/model.keras: no trained model"):
        load_trained(tmp_path / "no_model")


def test_snap_to_lsb_refuses_lossy_prints():
    lsb = 2.0**-10
    exact = np.array([[1.5 + 3 * lsb, -2.0]])
    np.testing.assert_array_equal(csim.snap_to_lsb(exact + 1e-6, lsb, "x"), exact)
    with pytest.raises(csim.CsimError, match="half an LSB"):
        csim.snap_to_lsb(exact + 0.5 * lsb, lsb, "x")
