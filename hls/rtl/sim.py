"""The Verilator testbench of an RTL design: the jets stream through the pipeline one per
clock, each logits word is read `latency` clocks later and compared by the caller with Keras.

The C++ is written here (not alkaid's binder): Debian's Verilator 5.006 builds it with
`--exe --build` as it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from hls.rtl.verilog import RtlDesign, pack, unpack
from infra.errors import QpartError

EXIT_NO_TOOL = 3
INSTALL = {
    "verilator": "apt-get install verilator (Debian/Ubuntu)",
    "yosys": "apt-get install yosys (Debian/Ubuntu)",
}


class RtlToolMissing(QpartError, RuntimeError):
    """Verilator or yosys is not on PATH."""


class RtlSimError(QpartError, RuntimeError):
    """The testbench did not build or run."""


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RtlToolMissing(f"{tool} is not on PATH: {INSTALL[tool]}")
    return path


_TB = r"""// qpart RTL testbench: one jet per clock in, one logits word per clock out.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "V@TOP@.h"
#include "verilated.h"

static std::vector<uint32_t> from_hex(const std::string &s, size_t n_words) {
    std::vector<uint32_t> w(n_words, 0);
    size_t k = 0;
    for (size_t end = s.size(); end > 0 && k < n_words; k++) {
        size_t begin = end >= 8 ? end - 8 : 0;
        w[k] = (uint32_t)std::stoul(s.substr(begin, end - begin), nullptr, 16);
        end = begin;
    }
    return w;
}

static std::string to_hex(const std::vector<uint32_t> &w) {
    std::string s;
    char buf[9];
    bool lead = true;
    for (size_t i = w.size(); i-- > 0;) {
        std::snprintf(buf, sizeof buf, lead ? "%x" : "%08x", w[i]);
        if (lead && w[i] == 0) continue;
        s += buf;
        lead = false;
    }
    return s.empty() ? "0" : s;
}

template <typename T> static void put(T &port, const std::vector<uint32_t> &w) {
    uint64_t v = w.size() > 1 ? ((uint64_t)w[1] << 32) | w[0] : w[0];
    port = (T)v;
}
template <std::size_t N> static void put(VlWide<N> &port, const std::vector<uint32_t> &w) {
    for (size_t i = 0; i < N; i++) port[i] = w[i];
}
template <typename T> static std::vector<uint32_t> get(const T &port, size_t n_words) {
    std::vector<uint32_t> w(n_words, 0);
    uint64_t v = (uint64_t)port;
    w[0] = (uint32_t)v;
    if (n_words > 1) w[1] = (uint32_t)(v >> 32);
    return w;
}
template <std::size_t N> static std::vector<uint32_t> get(const VlWide<N> &port, size_t) {
    std::vector<uint32_t> w(N);
    for (size_t i = 0; i < N; i++) w[i] = port[i];
    return w;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        std::cerr << "usage: tb inputs.hex latency outputs.hex\n";
        return 2;
    }
    const size_t in_words = (@IN_BITS@ + 31) / 32, out_words = (@OUT_BITS@ + 31) / 32;
    std::ifstream fin(argv[1]);
    std::vector<std::vector<uint32_t>> jets;
    for (std::string line; std::getline(fin, line);)
        if (!line.empty()) jets.push_back(from_hex(line, in_words));
    const long latency = std::stol(argv[2]);
    std::ofstream fout(argv[3]);
    VerilatedContext ctx;
    V@TOP@ dut(&ctx);
    const std::vector<uint32_t> idle(in_words, 0);
    dut.clk = 0;
    dut.eval();
    for (long t = 0; t < (long)jets.size() + latency; t++) {
        put(dut.@INP@, t < (long)jets.size() ? jets[t] : idle);
        dut.clk = 0;
        dut.eval();
        dut.clk = 1;
        dut.eval();
        if (t >= latency) fout << to_hex(get(dut.@OUT@, out_words)) << "\n";
    }
    dut.final();
    return 0;
}
"""


def build_testbench(design: RtlDesign, work: Path, jobs: int | None = None) -> tuple[Path, float]:
    """Verilate the design with the testbench into work/obj_dir/tb; (executable, seconds)."""
    verilator = require("verilator")
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    tb = work / "tb.cpp"
    text = (
        _TB.replace("@TOP@", design.top)
        .replace("@INP@", design.inp.name)
        .replace("@OUT@", design.out.name)
        .replace("@IN_BITS@", str(design.inp.bits))
        .replace("@OUT_BITS@", str(design.out.bits))
    )
    src = Path(design.src).resolve()
    sources = sorted(str(p) for p in (src / "static").glob("*.v")) + sorted(
        str(p) for p in src.glob("*.v")
    )
    exe = work / "obj_dir" / "tb"
    if (
        exe.exists()
        and tb.exists()
        and tb.read_text() == text
        and exe.stat().st_mtime > max(Path(p).stat().st_mtime for p in sources)
    ):  # built from these sources already (a large design verilates for tens of minutes)
        return exe, 0.0
    tb.write_text(text)
    cmd = [
        verilator,
        "--cc",
        "--exe",
        "--build",
        "-j",
        str(jobs or os.cpu_count() or 1),
        "-Wno-fatal",
        "-Wno-lint",
        "-Wno-style",
        "--top-module",
        design.top,
        "--prefix",
        f"V{design.top}",
        "-Mdir",
        str(work / "obj_dir"),
        "-o",
        "tb",
        "-CFLAGS",
        "-O0 -std=c++17",  # the C++ of a large design compiles for minutes; a run is short
        f"-I{src}",
        f"-I{src / 'static'}",
        str(tb),
        *sources,
    ]
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if "rror" in ln]
        raise RtlSimError(f"verilator failed on {src}: {(lines or ['(no error line)'])[0]}")
    return work / "obj_dir" / "tb", time.time() - t0


def _big_stack():
    """A large design's model (every register and wire of one clock) lives on the testbench's
    stack: part_tiny's overflows the default 8 MB (a segfault). Raise it to the hard limit."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_STACK)
    resource.setrlimit(resource.RLIMIT_STACK, (hard, hard))


def run_testbench(exe: Path, design: RtlDesign, flat_inputs: np.ndarray) -> tuple:
    """Stream the rows of flat_inputs (exact values of the input port) through the design:
    ((n, outputs) values, seconds)."""
    exe = Path(exe).resolve()
    work = exe.parent.parent
    (work / "inputs.hex").write_text("\n".join(pack(flat_inputs, design.inp)) + "\n")
    t0 = time.time()
    proc = subprocess.run(
        [str(exe), "inputs.hex", str(design.latency_cycles), "outputs.hex"],
        cwd=work,
        capture_output=True,
        text=True,
        preexec_fn=_big_stack,
    )
    if proc.returncode != 0:
        raise RtlSimError(f"testbench {exe} exited {proc.returncode}: {proc.stderr.strip()[:200]}")
    lines = [ln for ln in (work / "outputs.hex").read_text().splitlines() if ln]
    if len(lines) != len(flat_inputs):
        raise RtlSimError(f"testbench wrote {len(lines)} outputs for {len(flat_inputs)} jets")
    return unpack(lines, design.out), time.time() - t0
