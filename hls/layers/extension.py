"""The hls4ml side of the qpart layers: what every layer's extension module
(hls/layers/<layer>/extension.py) builds on, and `register()`, which wires them all into hls4ml.

Shared plumbing: parsing helpers, the base hls4ml layer (with its folding: hls/folding.py), the
nested row config of nnet::qpart::dense_row, and the Extension record. `register()` finds the
extension module of every layer folder (no list to edit) and registers, once, for the Vivado and
Vitis backends: the Keras-v2 parser, the hls4ml layer, the config and function-call templates,
the C++ headers (hls/nnet_utils/) and the optimizer passes. hls/convert.py calls it.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.attributes import Attribute, ConfigurableAttribute
from hls4ml.model.layers import Layer

from hls import folding
from hls.fxtypes import QpartHLSError, dot_accum, fx_of_precision, precision_of  # noqa: F401
from model.fixed import Fx, quantize_np

# ---------------------------------------------------------------------------------------------
# Keras side (parsers)


def parse_base(keras_layer, input_names, class_name, n_inputs):
    """The layer dict every qpart parser starts from; rejects float (unquantized) layers."""
    cfg = keras_layer["config"]
    name = cfg["name"]
    if not cfg.get("quantized", True):
        raise QpartHLSError(
            f"{name} ({keras_layer['class_name']}): quantized=False is the float "
            "twin; only fixed-point layers have firmware"
        )
    if input_names is None or len(input_names) != n_inputs:
        raise QpartHLSError(
            f"{name} ({keras_layer['class_name']}): expected {n_inputs} "
            f"input(s), got {input_names}"
        )
    for key in cfg:
        if key.endswith("_t") and cfg[key] is None:
            raise QpartHLSError(
                f"{name} ({keras_layer['class_name']}): {key} is not set; the "
                "firmware needs every cast type"
            )
    return {"name": name, "class_name": class_name, "inputs": list(input_names)}, cfg


def keras_twin(keras_layer):
    """An unbuilt copy of the Keras layer (same config): its weight quantizers and types."""
    from model.layers import CUSTOM_OBJECTS

    return CUSTOM_OBJECTS[keras_layer["class_name"]].from_config(keras_layer["config"])


def read_weight(reader, layer_name, var):
    """The float weight `var` of a Keras layer, matched by its exact name: 'var:0' or
    '<layer>/var:0' (a model loaded from a .keras file drops the layer prefix)."""
    data = None
    if hasattr(reader, "model"):  # KerasModelReader
        for w in reader.model.get_layer(layer_name).weights:
            if w.name.rsplit("/", 1)[-1].split(":")[0] == var:
                data = w.numpy()
    else:  # file readers: substring match; no qpart weight name ends with another one
        data = reader.get_weights_data(layer_name, f"{var}:")
    if data is None:
        raise QpartHLSError(f"{layer_name}: weight '{var}' not found")
    return np.asarray(data, np.float64)


def quantized(twin, data, kind: str) -> np.ndarray:
    """The weight values the Keras forward pass uses (the layer's own QKeras quantizer), checked
    to be exactly representable in the layer's weight / bias type."""
    import tensorflow as tf

    fn, t = (twin.qw, twin.weight_t) if kind == "weight" else (twin.qb, twin.bias_t)
    q = np.asarray(fn(tf.constant(data, tf.float64)).numpy(), np.float64)
    if not np.array_equal(quantize_np(q, t), q):
        raise QpartHLSError(f"{twin.name}: quantized {kind}s are not representable in {t}")
    return q


# ---------------------------------------------------------------------------------------------
# hls4ml side (layers)


class QpartLayer(Layer):
    """Base of the qpart hls4ml layers: the output precision is the Keras result type (stored as
    the string attribute `result_fx`), never a config or inferred precision. `ReuseFactor` and
    `ParallelizationFactor` (an int or 'all') fold the layer's row loop (hls/folding.py)."""

    _expected_attributes = [
        Attribute("result_fx", value_type=str),
        ConfigurableAttribute("reuse_factor", default=1),
        ConfigurableAttribute("parallelization_factor", value_type=None, default=1),
    ]

    def folding(self, rows: int) -> folding.Folding:
        """This layer's row loop of `rows` rows, folded as its config says (validated)."""
        return folding.resolve(
            self.name,
            rows,
            self.get_attr("parallelization_factor", 1),
            int(self.get_attr("reuse_factor", 1)),
        )

    def fx(self, key) -> Fx:
        return Fx.parse(self.get_attr(key))

    def input_fx(self, i=0) -> Fx:
        return fx_of_precision(self.get_input_variable(self.inputs[i]).type.precision)

    def input_shape(self, i=0):
        return list(self.get_input_variable(self.inputs[i]).shape)

    def add_result(self, shape):
        self.add_output_variable(shape, precision=precision_of(self.fx("result_fx")))

    def add_fx_weight(self, name, data, fx, type_name):
        """A constant array of type `fx` (weights, tables); `type_name` may be shared."""
        self.add_weights_variable(
            name=name,
            var_name=name + "{index}",
            type_name=type_name,
            precision=precision_of(fx),
            data=np.asarray(data, np.float64),
        )


# ---------------------------------------------------------------------------------------------
# templates


class QpartConfigTemplate(LayerConfigTemplate):
    """format(node) -> the config struct; subclasses implement `config(node, params)`."""

    layer_cls = None

    def __init__(self):
        super().__init__(self.layer_cls)

    def format(self, node):
        params = self._default_config_params(node)
        params["reuse"] = int(node.get_attr("reuse_factor", 1))
        return self.config(node, params)

    def config(self, node, params):
        raise NotImplementedError


class QpartFunctionTemplate(FunctionCallTemplate):
    layer_cls = None
    headers = ()

    def __init__(self):
        super().__init__(self.layer_cls, include_header=[f"nnet_utils/{h}" for h in self.headers])

    def format(self, node):
        params = self._default_function_params(node)
        params["inputs"] = [node.get_input_variable(i).name for i in node.inputs]
        params["input_ts"] = [node.get_input_variable(i).type.name for i in node.inputs]
        return self.call(node, params)

    def call(self, node, params):
        raise NotImplementedError


def weight_type_name(node, name):
    return node.get_weights(name).type.name


def row_config(
    struct_name,
    n_in,
    n_out,
    in_fx,
    weight_fx,
    bias_fx,
    weight_t,
    bias_t,
    extra="",
    indent="    ",
    base="nnet::qpart::row_config",
):
    """A nested config of nnet::qpart::dense_row (one row, n_in -> n_out) with an exact
    accumulator. Returns (C++ text, accum CType)."""
    accum = dot_accum(in_fx, weight_fx, n_in, bias_fx)
    i = indent
    text = (
        f"{i}struct {struct_name} : {base} {{\n"
        f"{i}    static const unsigned n_in = {n_in};\n"
        f"{i}    static const unsigned n_out = {n_out};\n"
        f"{i}    typedef {accum} accum_t; // exact: x . W + b never rounds or wraps\n"
        f"{i}    typedef {weight_t} weight_t;\n"
        f"{i}    typedef {bias_t} bias_t;\n"
        f"{extra}"
        f"{i}}};\n"
    )
    return text, accum


def folding_lines(fold: folding.Folding, multiplier_limit: int | None = None, indent="    ") -> str:
    """The folding constants of a config struct (parallel, reuse_factor, multiplier_limit)."""
    i = indent
    text = (
        f"{i}static const unsigned parallel = {fold.parallel}; // of {fold.rows} rows\n"
        f"{i}static const unsigned reuse_factor = {fold.reuse_factor};\n"
    )
    if multiplier_limit is not None:
        text += f"{i}static const unsigned multiplier_limit = {multiplier_limit};\n"
    return text


# ---------------------------------------------------------------------------------------------
# registration record


@dataclass
class Extension:
    """Everything hls4ml needs for one Keras layer class."""

    keras_class: str
    parser: object
    layer_name: str
    layer_cls: type
    templates: list
    headers: list = field(default_factory=list)
    passes: list = field(default_factory=list)  # (name, OptimizerPass class, flow)


# ---------------------------------------------------------------------------------------------
# registration

NNET_UTILS = Path(__file__).resolve().parent.parent / "nnet_utils"
BACKENDS = ("Vivado", "Vitis")

_registered = False


def extensions() -> list[Extension]:
    """The extensions of every layer folder's extension module (each an EXTENSION or
    EXTENSIONS), found by name: a new layer's folder is picked up without a list to edit.
    Modules run in PASS_ORDER (default 0), then by name: the clone pass (1) runs after the
    input-cast fold."""
    import hls.layers as pkg

    mods = [
        importlib.import_module(f"{pkg.__name__}.{info.name}.extension")
        for info in pkgutil.iter_modules(pkg.__path__)
        if info.ispkg
    ]
    mods.sort(key=lambda m: (getattr(m, "PASS_ORDER", 0), m.__name__))
    return [e for m in mods for e in getattr(m, "EXTENSIONS", [getattr(m, "EXTENSION", None)]) if e]


def register():
    """Idempotent: registers what is not registered yet."""
    global _registered
    if _registered:
        return
    import hls4ml
    from hls4ml.converters.keras_v2_to_hls import get_layer_handlers
    from hls4ml.model.flow import get_flow
    from hls4ml.model.optimizer import get_available_passes

    exts = extensions()
    for ext in exts:
        if ext.keras_class is not None and ext.keras_class not in get_layer_handlers():
            hls4ml.converters.register_keras_v2_layer_handler(ext.keras_class, ext.parser)
        hls4ml.model.layers.register_layer(ext.layer_name, ext.layer_cls)

    available = set(get_available_passes())
    for backend_name in BACKENDS:
        backend = hls4ml.backends.get_backend(backend_name)
        prefix = backend_name.lower() + ":"
        for ext in exts:
            for template in ext.templates:
                if prefix + template().get_name() not in available:
                    backend.register_template(template)
        for header in sorted(NNET_UTILS.glob("*.h")):
            backend.register_source(header)
    # Passes once, on Vivado's optimize flow: the Vitis flow runs it too.
    vivado = hls4ml.backends.get_backend("Vivado")
    for ext in exts:
        for name, cls, flow in ext.passes:
            if "vivado:" + name not in available:
                vivado.register_pass(name, cls, flow=get_flow("vivado:" + flow).name)
    _registered = True
