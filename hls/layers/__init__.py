"""Each qpart layer's hardware, in one folder per layer: hls/layers/<layer>/.

    hardware.py   what the layer costs and how it is folded (no hls4ml, no TensorFlow): its row
                  count(s) and folding (hls/folding.py), its regions (the unrolled body of each
                  pipelined loop, priced by hls/cost.py's Rules), the template parameters derived
                  from those same regions (multiplier limits, ROM copies:
                  `Region.multiplier_limit`, `Region.rom_copies`) and the bits it stores
    extension.py  its hls4ml extension: parser, hls4ml layer, C++ templates (the config struct
                  is written from hardware.py's regions, so the estimate and the generated C++
                  cannot disagree by construction); built on hls/layers/extension.py
    rtl.py        its fixed-point forward pass traced for the RTL route (hls/rtl): `TRACES`
                  maps each of its Keras classes to a trace (layer, *traced inputs) -> traced
                  output, on the shared operations of hls/layers/rtl_ops.py; `rtl_trace()`
                  finds it through the same registry

The C++ the templates call is in hls/nnet_utils/ (one header may serve several layers: dense,
add, cast and clone share nnet_qpart_dense.h). The estimate (hls/estimate.py) and the graph
analysis (hls/graph.py) import hardware modules only, so they run without hls4ml.

Each hardware module names the Keras classes it describes (`KERAS_CLASSES`) and has
`estimate(layer, ctx) -> (Folding, [Region], stored bits) | None` (None: no hardware of its
own, e.g. an input cast folded into the input type). `registry()` finds the layer folders of
this package, so a new layer adds its Keras class (model/layers.py), its folder and its header.
Layers with no hardware at all are listed in WIRING; any other class is an error.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache

from hls import folding
from hls.fxtypes import QpartHLSError

# Keras classes that only rewire arrays: no hardware, no cost (hls4ml keeps their input's type)
WIRING = frozenset({"InputLayer", "Flatten", "Reshape"})


class ModelWideFoldingError(folding.FoldingError):
    """A model-wide `parallel` that some layer's rows do not divide (hls.estimate replaces
    the per-layer hint by the values that work for every layer)."""


class UnknownLayerError(QpartHLSError):
    """A Keras class with no hardware module: the estimate would price it as free."""


@cache
def registry() -> dict:
    """{Keras class name: hardware module} of every layer folder in this package."""
    out = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg:
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}.hardware")
        for cls in getattr(mod, "KERAS_CLASSES", ()):
            if cls in out:
                raise QpartHLSError(f"{cls} has two hardware modules: {out[cls].__name__}, {mod}")
            out[cls] = mod
    return out


def module_for(keras_class: str, layer_name: str):
    """The hardware module of a Keras class; None for a wiring layer."""
    if keras_class in WIRING:
        return None
    try:
        return registry()[keras_class]
    except KeyError:
        raise UnknownLayerError(
            f"{layer_name}: Keras class {keras_class} has no hardware module "
            "(hls/layers/<layer>/hardware.py); "
            "the qpart firmware supports model.layers' fixed-point layers plus "
            f"{', '.join(sorted(WIRING))}"
        ) from None


class NoRtlTrace(UnknownLayerError):
    """A layer whose folder has no RTL trace for its class (the RTL route cannot build it)."""


def rtl_trace(keras_class: str, layer_name: str):
    """The RTL trace of a Keras class (its folder's rtl.py); None for a wiring layer."""
    hw = module_for(keras_class, layer_name)
    if hw is None:
        return None
    pkg = hw.__name__.rsplit(".", 1)[0]
    try:
        mod = importlib.import_module(f"{pkg}.rtl")
    except ModuleNotFoundError as err:
        if err.name != f"{pkg}.rtl":
            raise
        mod = None
    fn = getattr(mod, "TRACES", {}).get(keras_class)
    if fn is None:
        raise NoRtlTrace(
            f"{layer_name}: Keras class {keras_class} has no RTL trace "
            f"({pkg.replace('.', '/')}/rtl.py)"
        )
    return fn


def sbits(t) -> int:
    """Width of a type as a signed operand (unsigned types need one more bit)."""
    return int(t.width) + (0 if t.signed else 1)


@dataclass
class Context:
    """What the Keras side of a hardware module reads besides the layer: the graph analysis
    (hls/graph.py), the firmware config's folding and whether the weights are trained."""

    graph: object
    fw: dict
    trained: bool
    rows: dict = field(default_factory=dict)  # {layer: rows of its row loop}, as folded

    def in_t(self, layer, i=0):
        return self.graph.in_t(layer.name, i)

    def fold(self, layer, rows) -> folding.Folding:
        """The layer's folding as the firmware config says; a value that does not fit names
        the config file and key (a model-wide `parallel`: ModelWideFoldingError)."""
        over = self.fw["layers"].get(layer.name, {})
        self.rows[layer.name] = rows
        try:
            return folding.resolve(
                layer.name,
                rows,
                over.get("parallel", self.fw["parallel"]),
                over.get("reuse_factor", self.fw["reuse_factor"]),
            )
        except folding.FoldingError as err:
            where = self.fw.get("path", "the firmware config")
            if "parallel" not in over and f"parallel={self.fw['parallel']!r}" in str(err):
                raise ModelWideFoldingError(
                    f"{where}: model-wide parallel={self.fw['parallel']} does not divide the "
                    f"{rows} rows of {layer.name}"
                ) from None
            raise folding.FoldingError(f"{where}: layers.{layer.name}: {err}") from None

    def nonzero(self, layer, weights) -> int:
        """Products of a kernel the hardware keeps: all untrained, the non-zero quantized
        weights trained (the HLS tool drops a product by a constant zero)."""
        import numpy as np

        if not self.trained:
            return int(np.prod(weights.shape))
        return int(np.count_nonzero(np.asarray(layer.qw(weights))))
