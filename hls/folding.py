"""How each qpart layer is folded in time: rows per cycle and cycles per row group.

Every qpart layer is a loop over rows (particles, pairs, queries) that the HLS tool pipelines:

    for (r = 0; r < n_rows; r += parallel)      // PIPELINE II = reuse_factor
        for (p = 0; p < parallel; p++)          // UNROLL: `parallel` rows side by side
            row(r + p)                          // unrolled, its multipliers shared over II cycles

so a layer occupies its loop for n_rows / parallel * reuse_factor cycles, and one iteration
unrolls parallel x (operations of one row) with at most ceil(that / reuse_factor) multipliers
(`ALLOCATION ... mul` in the loop's own function). `parallel` must divide the rows; it is the
firmware config's `parallel` (an int, or `all` for every row at once) and `reuse_factor`, per
layer under `layers:`. The hardware modules (hls/layers/<layer>/hardware.py) take a layer's
folding from here and derive its multiplier limits and ROM copies with the functions below; the
templates and the estimate both read those, so the generated code and the estimate cannot
disagree.

No hls4ml, no TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass

from hls.fxtypes import QpartHLSError


class FoldingError(QpartHLSError):
    """A folding the layer cannot honour; the message names the layer, the key and the nearest
    valid value."""


ALL = "all"


@dataclass(frozen=True)
class Folding:
    rows: int
    parallel: int
    reuse_factor: int

    @property
    def trips(self) -> int:
        """Pipelined iterations of the row loop."""
        return self.rows // self.parallel


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def nearest_divisor(n: int, want: int) -> int:
    """The divisor of n closest to want (the smaller one on a tie)."""
    return min(divisors(n), key=lambda d: (abs(d - want), d))


def resolve(layer: str, rows: int, parallel, reuse_factor) -> Folding:
    """The folding of one row loop, validated: `parallel` an int dividing `rows` or 'all',
    `reuse_factor` an int >= 1."""
    rows = int(rows)
    if parallel == ALL or parallel is None:
        parallel = rows
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        raise FoldingError(
            f"{layer}: parallel={parallel!r} must be a positive int or 'all' "
            f"(its loop has {rows} rows)"
        )
    if rows % parallel:
        raise FoldingError(
            f"{layer}: parallel={parallel} does not divide its {rows} rows; "
            f"nearest valid value: {nearest_divisor(rows, parallel)}"
        )
    if isinstance(reuse_factor, bool) or not isinstance(reuse_factor, int) or reuse_factor < 1:
        raise FoldingError(
            f"{layer}: reuse_factor={reuse_factor!r} must be an int >= 1; " "nearest valid value: 1"
        )
    return Folding(rows, int(parallel), int(reuse_factor))


def per_cycle(count: int, cycles: int) -> int:
    """ceil(count / cycles), at least 1: the units that do `count` operations in `cycles`
    cycles (multipliers of a loop at II = cycles, ROM copies, clones of a wide fan-out)."""
    return max(1, -(-int(count) // int(cycles)))


def multiplier_limit(products_per_iteration: int, reuse_factor: int) -> int:
    """The ALLOCATION limit of a row loop: its products shared over the II cycles."""
    return per_cycle(products_per_iteration, reuse_factor)


def rom_copies(lookups_per_iteration: int, reuse_factor: int, ports: int = 2) -> int:
    """ROM copies for `lookups_per_iteration` reads in a loop of II = reuse_factor: each copy
    serves `ports` reads a cycle (a dual-port BRAM), so ports x II reads an iteration."""
    return per_cycle(lookups_per_iteration, ports * int(reuse_factor))


def symmetric_pairs(n: int) -> int:
    return n * (n + 1) // 2
