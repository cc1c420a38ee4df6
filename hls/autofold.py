"""`parallel: auto`: per-layer parallelization factors picked from the estimate.

The rule: start with every layer at one row per iteration (the smallest design); then, while
the design's interval is above the target (`budget.ii_cycles`, or as low as it gets) or its
latency above `budget.latency_cycles`, give the slowest layer its next larger divisor of rows
per iteration, provided the estimate still fits at the upper end of its error band (every
resource within `budget.resources` of the part, every layer within one SLR, no region over 4,096
unrolled multiplications: hls/estimate.py's verdict). A layer's
interval is its latency (hls/estimate.py), so the slowest layer is the one that sets the
interval and the largest term of the latency at once. Stop when the targets are met or no
layer can grow. The result is an ordinary firmware config with explicit per-layer `parallel` values
(printed, and written into estimate.json), so every later step (conversion, C simulation,
synthesis) sees the same numbers.
"""

from __future__ import annotations

import copy

from hls import folding
from hls.estimate import estimate
from hls.fxtypes import QpartHLSError


class BudgetError(QpartHLSError):
    """No folding meets the budget; the message says which resource or term binds."""


def _over(fit) -> str:
    """What a verdict exceeds: the budget, one SLR, or the region limit."""
    parts = []
    if fit["over_budget"]:
        parts.append(f"over {', '.join(fit['over_budget'])}")
    if fit["over_slr"]:
        parts.append(f"a layer over one SLR in {', '.join(fit['over_slr'])}")
    return "; ".join(parts) or "over the region limit"


def _with_parallel(fw, choice):
    out = copy.deepcopy(fw)
    out["parallel"] = 1
    for name, p in choice.items():
        out["layers"].setdefault(name, {})["parallel"] = p
    return out


def auto_fold(model, fw: dict, trained: bool) -> dict:
    """A copy of `fw` with `parallel: auto` replaced by per-layer parallelization factors."""
    target = fw["budget"].get("ii_cycles")
    latency_target = fw["budget"].get("latency_cycles")
    choice: dict[str, int] = {}
    est = estimate(model, _with_parallel(fw, choice), trained)
    if not est["fit"]["fits"]:
        raise BudgetError(
            f"{fw['path']}: parallel: auto: even one row per iteration does not fit the budget "
            f"({est['fit']['budget_fraction']:.0%} of {fw['part']}) at the upper end of the "
            f"estimate's error band: {_over(est['fit'])}; binding: {est['fit']['binding']} at "
            f"{est['resources'][est['fit']['binding']]['utilization_high_pct']}% "
            f"(point estimate {est['resources'][est['fit']['binding']]['utilization_pct']}%)"
        )

    def slow_latency(e):
        return latency_target is not None and e["latency"]["worst_cycles"] > latency_target

    maxed: set[str] = set()
    while target is None or est["latency"]["interval_max"] > target or slow_latency(est):
        open_layers = [lay for lay in est["layers"] if lay["name"] not in maxed]
        if not open_layers:
            break
        slow = max(open_layers, key=lambda lay: lay["interval_cycles"])
        if slow["interval_cycles"] < est["latency"]["interval_max"] and not slow_latency(est):
            break  # the slowest layer is maxed: nothing else lowers the interval
        bigger = [d for d in folding.divisors(slow["rows"]) if d > slow["parallel"]]
        if not bigger:
            maxed.add(slow["name"])
            continue
        trial = dict(choice, **{slow["name"]: bigger[0]})
        trial_est = estimate(model, _with_parallel(fw, trial), trained)
        if trial_est["fit"]["fits"]:
            choice, est = trial, trial_est
        else:
            maxed.add(slow["name"])
    if target is not None and est["latency"]["interval_max"] > target:
        slow = max(est["layers"], key=lambda lay: lay["interval_cycles"])
        raise BudgetError(
            f"{fw['path']}: budget.ii_cycles={target}: the best folding within "
            f"{fw['budget']['resources']:.0%} of {fw['part']} has an interval of "
            f"{est['latency']['interval_max']} cycles, bound by {slow['name']} "
            f"({slow['rows']} rows at {slow['parallel']} per iteration)"
        )
    if slow_latency(est):
        top = sorted(est["layers"], key=lambda lay: -lay["latency_cycles"])[:3]
        raise BudgetError(
            f"{fw['path']}: budget.latency_cycles={latency_target}: the best folding within "
            f"{fw['budget']['resources']:.0%} of {fw['part']} has a latency of "
            f"{est['latency']['worst_cycles']} cycles; its largest terms: "
            + ", ".join(
                f"{lay['name']} {lay['latency_cycles']} ({lay['rows']} rows at "
                f"{lay['parallel']} per iteration)"
                for lay in top
            )
        )
    out = _with_parallel(fw, choice)
    out["auto_parallel"] = {lay["name"]: lay["parallel"] for lay in est["layers"]}
    return out


def resolve(model, fw: dict, trained: bool = True) -> dict:
    """`fw` itself, or with `parallel: auto` resolved for `model`."""
    return auto_fold(model, fw, trained) if fw["parallel"] == "auto" else fw
