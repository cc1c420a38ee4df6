"""Write a traced model as pipelined Verilog (alkaid's RTL writer) with its Vivado project
script, and describe its wires: what the Verilator testbench and the report read.

The Verilog is made readable by Debian's Verilator 5.006 here: that version does not know the
WIDTHTRUNC lint code alkaid's sources switch off, nor a trailing comma after a code.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from infra.errors import QpartError

_PRAGMA_WIDTHTRUNC = re.compile(r"/\*\s*verilator lint_(?:off|on) WIDTHTRUNC\s*\*/")
_PRAGMA_COMMA = re.compile(r"(verilator lint_(?:off|on) [A-Z]+),")
_PORT = re.compile(r"(input|output)\s+wire\s+\[(\d+):0\]\s+(\w+)")


class RtlWriteError(QpartError, RuntimeError):
    """The written Verilog is not what the testbench expects (a port layout it cannot read)."""


@dataclass
class PortLayout:
    """One wrapper port: `size` words of `width` bits each, element e at bits
    [e*width, (e+1)*width), two's complement if signed, scaled by 2**-frac."""

    name: str
    size: int
    width: int
    signed: bool
    frac: int

    @property
    def bits(self) -> int:
        return self.size * self.width


@dataclass
class RtlDesign:
    top: str  # the wrapper module (the design's top)
    src: str  # the Verilog sources' directory
    latency_cycles: int  # from a jet entering the input port to its logits on the output port
    stages: int  # combinational stages between registers
    clock_period_ns: float
    cost_lut: float  # alkaid's own LUT estimate of the logic ("da4ml cost")
    reg_bits: int
    inp: PortLayout
    out: PortLayout
    # alkaid's LUT estimate of each stage's logic (src/<stage>.v) as pipelined, after its
    # adder fusion: what a stage's yosys count is set against. None: written before it existed
    stage_cost_lut: dict | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "RtlDesign":
        d = dict(d)
        d["inp"], d["out"] = PortLayout(**d["inp"]), PortLayout(**d["out"])
        return cls(**d)


def _layout(sig, wrapper_text: str) -> PortLayout:
    k, i, f = (int(x) for x in np.max(np.asarray(sig.precisions, dtype=np.int64), axis=0))
    widths = {m.group(3): int(m.group(2)) + 1 for m in _PORT.finditer(wrapper_text)}
    layout = PortLayout(sig.name, int(sig.size), k + i + f, bool(k), f)
    if widths.get(sig.name) != layout.bits:
        raise RtlWriteError(
            f"port {sig.name}: {widths.get(sig.name)} bits in the wrapper, expected "
            f"{layout.size} words of {layout.width}"
        )
    return layout


def for_verilator_5006(src: Path) -> None:
    for path in list(src.glob("*.v")) + list(src.glob("static/*.v")):
        text = path.read_text()
        fixed = _PRAGMA_COMMA.sub(r"\1", _PRAGMA_WIDTHTRUNC.sub("", text))
        if fixed != text:
            path.write_text(fixed)


def write(
    comb,
    out_dir,
    name: str,
    clock_ns: float,
    latency_cutoff: float,
    part: str,
    part_cost: float = 0.0,
):
    """Pipeline `comb` (stages cut at `latency_cutoff`, alkaid's delay units, roughly ns) and
    write out_dir/src/*.v, out_dir/build_vivado_prj.tcl, out_dir/rtl_design.json; with
    `part_cost` > 0 also each stage cut into parts for yosys (src/parts/, hls/rtl/parts.py)."""
    from alkaid.codegen import RTLModel

    from hls.rtl import parts

    out_dir = Path(out_dir)
    model = RTLModel(
        comb,
        out_dir,
        name,
        latency_cutoff=latency_cutoff,
        clock_period=clock_ns,
        part_name=part,
        print_latency=False,
    )
    model.write()
    src = out_dir / "src"
    for_verilator_5006(src)
    top = f"{name}_wrapper"
    wrapper = (src / f"{top}.v").read_text()
    fsm = model.fsm
    shutil.rmtree(src / "parts", ignore_errors=True)  # an earlier cut is not this design's
    if part_cost > 0:
        parts.write(fsm.logic, src, part_cost)
    (inp,), (out,) = fsm.inp_signals, fsm.out_signals
    design = RtlDesign(
        top=top,
        src=str(src),
        latency_cycles=int(model.latency),
        stages=len(fsm.logic),
        clock_period_ns=float(clock_ns),
        cost_lut=float(comb.cost),
        reg_bits=int(model.reg_bits),
        inp=_layout(inp, wrapper),
        out=_layout(out, wrapper),
        stage_cost_lut=stage_costs(fsm),
    )
    (out_dir / "rtl_design.json").write_text(json.dumps(design.to_json(), indent=1))
    return design


def stage_costs(fsm) -> dict:
    """{stage module name: alkaid's LUT cost of its logic} of a pipeline (alkaid's to_pipeline)."""
    return {name: round(float(comb.cost), 1) for name, comb in fsm.logic.items()}


def load(out_dir) -> RtlDesign:
    return RtlDesign.from_json(json.loads((Path(out_dir) / "rtl_design.json").read_text()))


def pack(values: np.ndarray, port: PortLayout) -> list[str]:
    """(n, size) exact fixed-point values -> one hex word per row (the whole port)."""
    raw = np.round(np.asarray(values, np.float64) * 2.0**port.frac).astype(object)
    mask = (1 << port.width) - 1
    lines = []
    for row in raw:
        word = 0
        for e, v in enumerate(row):
            word |= (int(v) & mask) << (e * port.width)
        lines.append(format(word, "x"))
    return lines


def unpack(lines: list[str], port: PortLayout) -> np.ndarray:
    """One hex word per row -> (n, size) values."""
    mask, top = (1 << port.width) - 1, 1 << (port.width - 1)
    out = np.empty((len(lines), port.size), np.float64)
    for r, line in enumerate(lines):
        word = int(line, 16)
        for e in range(port.size):
            v = (word >> (e * port.width)) & mask
            if port.signed and v & top:
                v -= 1 << port.width
            out[r, e] = v
    return out * 2.0**-port.frac
