"""Cut each pipeline stage into parts that share no logic, for yosys.

yosys takes about 4 ms of CPU per unit of alkaid's cost (67 s and 1.2 GB for a 17k part), so a
140k stage whole runs for tens of minutes in one job; but a wide stage is mostly independent
cones: a q.k product per particle pair, a projection per particle, a pair's features. Ops
joined through any operand other than an input or a constant belong to one cone (union-find
over the stage's graph); the cones are packed into parts of at most `max_cost` of alkaid's LUT
cost, and each part is written as its own module (alkaid's combinational Verilog writer, the
stage's own tables). Parts share only their inputs and constants, never a traced operation, so
the parts' sum counts every operation of the stage once; yosys, which merges some decoding of
shared inputs inside a module only, reads it 7-29% above the stage whole (docs/rtl.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

_INPUT, _CONST = -1, 5  # opcodes of an input copy and a constant: free, copied into every part


def cones(comb) -> np.ndarray:
    """The cone (a representative op index) of each op: ops joined through logic, not through
    inputs or constants. Inputs and constants get -1."""
    parent = np.arange(len(comb.ops))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, op in enumerate(comb.ops):
        if op.opcode in (_INPUT, _CONST):
            continue
        for a in op.addr:
            if comb.ops[a].opcode in (_INPUT, _CONST):
                continue
            ra, ri = root(a), root(i)
            if ra != ri:
                parent[ra] = ri
    out = np.array([root(i) for i in range(len(comb.ops))])
    out[[op.opcode in (_INPUT, _CONST) for op in comb.ops]] = -1
    return out


def split(comb, max_cost: float) -> list[tuple[list[int], object]]:
    """The stage's outputs grouped into parts whose cones together cost at most max_cost (a
    single cone above it is a part alone): [(the stage's output indices, CombLogic of the
    part with its dead code removed)]."""
    from alkaid.trace.passes.dce import dead_code_elimin
    from alkaid.types import CombLogic

    cone = cones(comb)
    # each cone's cost, and the first input it reads: cones that read the same inputs go side by
    # side (yosys shares their decoding, e.g. two tables of one address, only inside a module)
    cost, first_inp = {}, {}
    for i, op in enumerate(comb.ops):
        c = int(cone[i])
        if c < 0:
            continue
        cost[c] = cost.get(c, 0.0) + float(op.cost)
        for a in op.addr:
            if comb.ops[a].opcode == _INPUT:
                first_inp[c] = min(first_inp.get(c, comb.shape[0]), comb.ops[a].data[0])
    # each output joins its cone; outputs read straight from an input or a constant join a part
    # of their own kind (key -1): they cost nothing
    outs_of = {}
    for k, idx in enumerate(comb.out_idxs):
        key = int(cone[idx]) if idx >= 0 else -1
        outs_of.setdefault(key, []).append(k)
    groups, current, current_cost = [], [], 0.0
    for key in sorted(outs_of, key=lambda c: (first_inp.get(c, -1), min(outs_of[c]))):
        c = cost.get(key, 0.0)
        if current and current_cost + c > max_cost:
            groups.append(current)
            current, current_cost = [], 0.0
        current += outs_of[key]
        current_cost += c
    if current:
        groups.append(current)
    parts = []
    for outs in groups:
        sub = CombLogic(
            (comb.shape[0], len(outs)),
            comb.inp_shifts,
            [comb.out_idxs[k] for k in outs],
            [comb.out_shifts[k] for k in outs],
            [comb.out_negs[k] for k in outs],
            comb.ops,
            comb.carry_size,
            comb.adder_size,
            comb.lookup_tables,
        )
        parts.append((outs, dead_code_elimin(sub)))
    return parts


def write(logic: dict, src, max_cost: float) -> dict:
    """src/parts/<stage>_p<k>.v for every stage of `logic` ({stage module: CombLogic}, the
    pipeline's stages as written) and src/parts/parts.json: {stage: {part: alkaid cost}}."""
    from alkaid.codegen.rtl.verilog.comb import comb_logic_gen

    out = Path(src) / "parts"
    out.mkdir(parents=True, exist_ok=True)
    index = {}
    for stage, comb in logic.items():
        index[stage] = {}
        for k, (_, part) in enumerate(split(comb, max_cost)):
            name = f"{stage}_p{k}"
            (out / f"{name}.v").write_text(comb_logic_gen(part, name))
            index[stage][name] = round(part.cost, 1)
    (out / "parts.json").write_text(json.dumps(index, indent=1))
    return index
