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


@pytest.mark.parametrize("fw,tool", [("vu13p", "vitis-run"), ("zcu102", "vivado_hls")])
def test_synth_without_tool(tmp_path, fw, tool):
    env = _env_without_tools()
    for t in ("vitis-run", "vivado_hls"):
        assert shutil.which(t, path=env["PATH"]) is None
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hls.synth",
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
