"""QpartClone (no Keras class: its extension's pass inserts it): one copy of an array per
reader, so that every array of the DATAFLOW region has one writer and one reader."""

from __future__ import annotations

from hls import folding
from hls.cost import Region

MAX_COPIES = 4  # copies per clone; more readers share the last copy, which is cloned again


def plan(readers: int) -> tuple[int, int]:
    """(clones, copies in all) for an array read `readers` (>= 2) times: each clone adds
    MAX_COPIES - 1 readers."""
    n_clones = folding.per_cycle(readers - 1, MAX_COPIES - 1)
    return n_clones, readers + n_clones - 1


def regions(n_clones: int):
    """A register copy per clone, no arithmetic."""
    return [Region(f"copy{i}", pipelined=False) for i in range(n_clones)]
