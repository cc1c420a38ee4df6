"""Keras (qpart) model -> hls4ml model, every precision taken from the Keras layers.

    hls_model = convert(keras_model, "build/hls/prj", backend="Vitis")
    hls_model.compile(); y = hls_model.predict([x, pairs, mask])   # float64 in: bit-exact

The qpart layers carry their own types (result, intermediates, tables: hls/extensions); this
module sets the rest of the hls4ml config: the model inputs get the type of the FxQuant that
reads them (that FxQuant is then folded into the input cast) or, for attention masks, a 1-bit
type; Flatten/Reshape keep their input's type. Nothing is left to hls4ml's 'auto' inference.
"""

from __future__ import annotations

import copy
import json

from hls.common import PROJECT_NAME
from hls.extensions import register
from hls.fxtypes import QpartHLSError

register()  # the qpart layers, templates and passes, once

MASK_TYPE = "ap_uint<1>"
ATTENTION = ("ParticleAttention", "ClassAttention")
RESHAPES = ("Flatten", "Reshape")
RESERVED_NAMES = ("perm", "input")  # hls4ml attribute / variable names


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


def layer_inputs(keras_model) -> dict:
    """{layer name: [names of the layers (or inputs) it reads]}."""
    return {layer["config"]["name"]: layer["inputs"] for layer in _arch(keras_model)}


def keras_result_types(keras_model) -> dict:
    """{layer name: result type string} for every layer of a qpart Keras model."""
    layers = _arch(keras_model)
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
                elif cls in ("PairFeatures", *ATTENTION) and slot == len(other["inputs"]) - 1:
                    wanted.add(MASK_TYPE)
                else:
                    raise QpartHLSError(
                        f"input {name} feeds {other['config']['name']} ({cls}) directly; cast it "
                        "with an FxQuant layer first (masks may go straight to attention)"
                    )
        if len(wanted) != 1:
            raise QpartHLSError(
                f"input {name} is read with types {sorted(wanted) or 'none'}; "
                "it needs exactly one"
            )
        types[name] = wanted.pop()
    return types


def _merge(base: dict, over: dict) -> dict:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def hls_config(
    keras_model, backend="Vivado", reuse_factor=1, hls_overrides=None, parallel=1
) -> dict:
    """The hls4ml config ('name' granularity), precisions from the Keras model. Every layer's
    row loop is folded by `parallel` (rows per iteration, an int or 'all') and `reuse_factor`
    (II) unless an override says otherwise; the top function is a DATAFLOW region (each layer
    a process), so that the folded layers keep their own pipelines."""
    import hls4ml

    types = keras_result_types(keras_model)
    over = hls_overrides or {}
    reuse_factor = over.get("Model", {}).get("ReuseFactor", reuse_factor)
    parallel = over.get("Model", {}).get("ParallelizationFactor", parallel)
    cfg = hls4ml.utils.config_from_keras_model(
        keras_model, granularity="name", backend=backend, default_reuse_factor=reuse_factor
    )
    cfg["Model"].update(
        Strategy="Latency",
        ReuseFactor=reuse_factor,
        BramFactor=1_000_000_000,
        TraceOutput=False,
        PipelineStyle="dataflow",
    )
    for name, layer_cfg in cfg["LayerName"].items():
        if name in types:
            layer_cfg["Precision"] = {"result": types[name]}
        layer_cfg["ReuseFactor"] = reuse_factor
        layer_cfg["ParallelizationFactor"] = parallel
    for name, layer_cfg in over.get("LayerName", {}).items():
        if "Precision" in layer_cfg:
            raise QpartHLSError(
                f"hls_overrides: LayerName.{name}.Precision: precisions come from "
                "the Keras layers (change them there)"
            )
    return _merge(cfg, over)


def convert(
    keras_model,
    output_dir,
    backend="Vivado",
    part=None,
    clock_period=5,
    io_type="io_parallel",
    reuse_factor=1,
    project_name=PROJECT_NAME,
    hls_overrides=None,
    parallel=1,
):
    """Keras qpart model -> hls4ml ModelGraph (written by compile()/write(), not compiled).

    hls_overrides: merged into the hls4ml config, e.g. {"Model": {"ReuseFactor": 2}} or
    {"LayerName": {"pair_embed": {"Symmetric": True, "ReuseFactor": 4,
    "ParallelizationFactor": 8}}}; not precisions.
    """
    import hls4ml

    if backend not in ("Vivado", "Vitis"):
        raise QpartHLSError(f"backend must be 'Vivado' or 'Vitis', got {backend!r}")
    if io_type != "io_parallel":
        raise QpartHLSError(f"io_type {io_type!r}: the qpart layers implement io_parallel only")
    config = hls_config(keras_model, backend, reuse_factor, hls_overrides, parallel)
    kwargs = {"part": part} if part else {}
    return hls4ml.converters.convert_from_keras_model(
        keras_model,
        output_dir=str(output_dir),
        project_name=project_name,
        backend=backend,
        io_type=io_type,
        clock_period=clock_period,
        hls_config=config,
        **kwargs,
    )
