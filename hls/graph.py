"""The qpart Keras graph as the firmware sees it, computed once per model (no hls4ml).

Both hls/convert.py (the hls4ml config) and the estimate read it: which arrays each layer reads
(`inputs`), the result type of every layer and model input (`types`: a model input takes the
type of the FxQuant that reads it, or the 1-bit mask type; Flatten/Reshape keep their input's),
the input casts that hls4ml folds into the input type (`folded`: hls/layers/quant/extension.py's
pass) and the clone plan (`clones`: the arrays read by more than one layer, copied once per
reader by hls/layers/clone/extension.py's pass; hls/layers/clone/hardware.py holds
MAX_COPIES for both).

`analyse(model)` caches the result per model object: autofold estimates one model many times.
"""

from __future__ import annotations

import json
import math
import weakref
from dataclasses import dataclass

from hls.fxtypes import QpartHLSError
from hls.layers.clone import hardware as clone_hw

MASK_TYPE = "ap_uint<1>"
ATTENTION = ("ParticleAttention", "ClassAttention")
# layers whose last input is the particle mask, read as it is (uint<1>)
MASK_READERS = ("PairFeatures", "FxSumPool", *ATTENTION)
RESHAPES = ("Flatten", "Reshape")
RESERVED_NAMES = ("perm", "input")  # hls4ml attribute / variable names


@dataclass(frozen=True)
class Clone:
    """One array read by several layers: `n_clones` QpartClones, `copies` copies of `bits`."""

    name: str
    readers: int
    n_clones: int
    copies: int
    bits: int


@dataclass(frozen=True)
class Graph:
    inputs: dict  # {layer name: [names of the layers (or inputs) it reads]}
    types: dict  # {layer or input name: result type string}
    folded: dict  # {FxQuant name: the model input it casts (no hardware: the input's type)}
    clones: list  # [Clone], in the order of the arrays' first reader

    def in_t(self, layer_name: str, i: int = 0):
        """The Fx type of input `i` of a layer."""
        from model.fixed import Fx

        return Fx.parse(self.types[self.inputs[layer_name][i]])


def width(type_name: str) -> int:
    """Bits of one element of a type (the mask: 1)."""
    from model.fixed import Fx

    return 1 if type_name == MASK_TYPE else Fx.parse(type_name).width


def _arch(keras_model):
    layers = json.loads(keras_model.to_json())["config"]["layers"]
    for layer in layers:
        nodes = layer.get("inbound_nodes") or [[]]
        if len(layer.get("inbound_nodes") or []) > 1:
            raise QpartHLSError(
                f"{layer['config']['name']}: shared layers (called more than "
                "once) are not supported"
            )
        layer["inputs"] = [n[0] for n in nodes[0]]
    return layers


def _result_types(layers) -> dict:
    types = {}
    for layer in layers:
        name, cls, cfg = layer["config"]["name"], layer["class_name"], layer["config"]
        if name in RESERVED_NAMES:
            raise QpartHLSError(
                f"layer name '{name}' clashes with an hls4ml attribute; rename " "the layer"
            )
        if cls == "InputLayer":
            continue
        if cfg.get("quantized") is False:
            raise QpartHLSError(
                f"{name} ({cls}): quantized=False is the float twin; only "
                "fixed-point layers have firmware"
            )
        if cls in RESHAPES:
            types[name] = types[layer["inputs"][0]]
        elif "result_t" in cfg:
            if cfg["result_t"] is None:
                raise QpartHLSError(
                    f"{name} ({cls}): result_t is not set; the firmware needs " "every cast type"
                )
            types[name] = cfg["result_t"]
        else:
            raise QpartHLSError(
                f"{name}: {cls} is not a qpart layer; the qpart firmware supports "
                "model.layers' fixed-point layers plus Flatten/Reshape"
            )
    for layer in layers:
        if layer["class_name"] != "InputLayer":
            continue
        name = layer["config"]["name"]
        wanted = set()
        for other in layers:
            for slot, src in enumerate(other["inputs"]):
                if src != name:
                    continue
                cls = other["class_name"]
                if cls == "FxQuant":
                    wanted.add(other["config"]["result_t"])
                elif cls in MASK_READERS and slot == len(other["inputs"]) - 1:
                    wanted.add(MASK_TYPE)
                else:
                    raise QpartHLSError(
                        f"input {name} feeds {other['config']['name']} ({cls}) directly; cast it "
                        "with an FxQuant layer first (masks may go straight to the layers that "
                        "read them)"
                    )
        if len(wanted) != 1:
            raise QpartHLSError(
                f"input {name} is read with types {sorted(wanted) or 'none'}; "
                "it needs exactly one"
            )
        types[name] = wanted.pop()
    return types


def _clones(keras_model, inputs, types, folded) -> list:
    """The arrays of more than one reader once the input casts are folded (a folded cast's
    readers read the model input), model outputs counting as readers."""
    readers = {}
    for name, sources in inputs.items():
        if name in folded:
            continue
        for src in sources:
            src = folded.get(src, src)
            readers[src] = readers.get(src, 0) + 1
    for name in keras_model.output_names:
        readers[name] = readers.get(name, 0) + 1
    shapes = {layer.name: layer.output_shape for layer in keras_model.layers}
    out = []
    for name, n in readers.items():
        if n < 2:
            continue
        shape = shapes[name][0] if isinstance(shapes[name], list) else shapes[name]
        n_clones, copies = clone_hw.plan(n)
        out.append(Clone(name, n, n_clones, copies, int(math.prod(shape[1:])) * width(types[name])))
    return out


def _analyse(keras_model, with_types: bool) -> Graph:
    layers = _arch(keras_model)
    inputs = {layer["config"]["name"]: layer["inputs"] for layer in layers}
    if not with_types:
        return Graph(inputs, {}, {}, [])
    types = _result_types(layers)
    model_inputs = set(keras_model.input_names)
    folded = {
        layer["config"]["name"]: layer["inputs"][0]
        for layer in layers
        if layer["class_name"] == "FxQuant" and layer["inputs"][0] in model_inputs
    }
    return Graph(inputs, types, folded, _clones(keras_model, inputs, types, folded))


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def analyse(keras_model) -> Graph:
    """The graph of a qpart model (cached per model object: it is not rebuilt in place; a
    firmware config that changes the arithmetic makes a new model)."""
    try:
        return _CACHE[keras_model]
    except (KeyError, TypeError):
        pass
    graph = _analyse(keras_model, True)
    try:
        _CACHE[keras_model] = graph
    except TypeError:
        pass
    return graph


def layer_inputs(keras_model) -> dict:
    """{layer name: [names of the layers (or inputs) it reads]} (any Keras model)."""
    return _analyse(keras_model, False).inputs


def keras_result_types(keras_model) -> dict:
    """{layer name: result type string} for every layer of a qpart Keras model."""
    return dict(analyse(keras_model).types)
