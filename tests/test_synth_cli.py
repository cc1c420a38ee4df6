"""make synth without an HLS tool: one line naming the tool, non-zero exit, nothing written."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _env_without_tools():
    env = dict(os.environ)
    # Keep python and make reachable, drop anything that could hold an HLS tool.
    env["PATH"] = os.pathsep.join(p for p in ("/usr/bin", "/bin") if os.path.isdir(p))
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


@pytest.mark.parametrize("fw,tool", [("vu13p", "vitis-run"), ("vu9p", "vivado_hls")])
def test_synth_without_tool(tmp_path, fw, tool):
    env = _env_without_tools()
    for t in ("vitis-run", "vivado_hls"):
        assert shutil.which(t, path=env["PATH"]) is None
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hls.cli",
            "synth",
            "--model",
            "part_tiny",
            "--fw",
            fw,
            "--hls-root",
            str(tmp_path / "hls"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 3
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert tool in lines[0] and "not on PATH" in lines[0] and "make report" in lines[0]
    assert proc.stdout == ""
    assert not (tmp_path / "hls").exists()


def test_make_synth_without_tool_exits_nonzero():
    env = _env_without_tools()
    before = sorted(p.name for p in (ROOT / "build").glob("*")) if (ROOT / "build").exists() else []
    proc = subprocess.run(
        ["make", "-s", "synth", "MODEL=part_tiny", "FW=vu13p"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "vitis-run (Vitis HLS) is not on PATH" in proc.stderr
    after = sorted(p.name for p in (ROOT / "build").glob("*")) if (ROOT / "build").exists() else []
    assert before == after


def test_synth_on_a_dask_cluster_looks_for_the_tool_on_each_worker(tmp_path, capsys):
    """Several designs on a running scheduler (tcp://): each is a task on a worker without the
    tool, and fails naming the tool and the worker's host; a design whose report is newer than
    its project is skipped, not resubmitted."""
    import json
    import socket

    from distributed import LocalCluster

    from hls import synth
    from hls.csim import MARKER
    from hls.synth_report import write_synth_report

    hls_root = tmp_path / "hls"
    done = hls_root / "part_trigger-vu9p"  # synthesized before: a real Vivado HLS report
    (done / "myproject_prj" / "solution1" / "syn" / "report").mkdir(parents=True)
    (done / MARKER).write_text("{}")
    for name in ("myproject_csynth.rpt", "myproject_csynth.xml"):
        src = ROOT / "tests" / "fixtures" / "hls_reports" / "L1JetTagger" / name
        shutil.copy(src, done / "myproject_prj" / "solution1" / "syn" / "report" / name)
    expected = write_synth_report(done, done / "synth_report.json")
    old = (done / "synth_report.json").stat().st_mtime - 60
    os.utime(done / MARKER, (old, old))  # the project was written before its report
    env = {"PATH": os.pathsep.join(p for p in ("/usr/bin", "/bin") if os.path.isdir(p))}
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, env=env) as c:
        rows = synth.run_many(
            ["part_tiny", "part_trigger"],
            ["vu13p", "vu9p"],
            hls_root=hls_root,
            models_root=tmp_path / "models",
            scheduler=c.scheduler_address,
        )
    out = capsys.readouterr().out
    assert "3 design(s)" in out and out.count("finished (") == 3
    assert [(r["model"], r["firmware"], r["status"]) for r in rows] == [
        ("part_tiny", "vu13p", "error"),
        ("part_tiny", "vu9p", "error"),
        ("part_trigger", "vu13p", "error"),
        ("part_trigger", "vu9p", "done"),
    ]
    host = socket.gethostname()
    assert rows[0]["error"] == f"SynthError: vitis-run (Vitis HLS) is not on PATH on {host}"
    assert rows[1]["error"] == f"SynthError: vivado_hls (Vivado HLS) is not on PATH on {host}"
    assert rows[3]["skipped"] and rows[3]["latency"] == expected["latency"]
    assert sorted(p.name for p in hls_root.iterdir()) == ["part_trigger-vu9p"]
    assert json.loads((done / "synth_report.json").read_text()) == expected
