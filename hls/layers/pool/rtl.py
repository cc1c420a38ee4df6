"""FxSumPool's fixed-point forward pass on alkaid's symbolic arrays (the RTL route, hls/rtl),
written from model/layers.py line by line: the same casts in the same order. One jet, no batch
axis."""

from __future__ import annotations

import numpy as np

from hls.layers.rtl_ops import cast, where, wrap


def sum_pool(layer, x, mask):
    """(N, E), (N,) -> (1, E): the real particles' rows summed (an adder tree per feature),
    times 2**-shift, cast."""
    keep = wrap(np.broadcast_to(np.asarray(mask)[:, None], x.shape), x)
    kept = where(keep, x, 0.0)
    total = np.sum(kept, axis=0, keepdims=True)
    return cast(total * (2.0**-layer.shift), layer.result_t)


TRACES = {"FxSumPool": sum_pool}
