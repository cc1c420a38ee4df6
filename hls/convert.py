"""Keras (qpart) model -> hls4ml model, every precision taken from the Keras layers.

    hls_model = convert(keras_model, "build/hls/prj", backend="Vitis")
    hls_model.compile(); y = hls_model.predict([x, pairs, mask])   # float64 in: bit-exact

The qpart layers carry their own types (result, intermediates, tables: hls/layers); this
module sets the rest of the hls4ml config: the model inputs get the type of the FxQuant that
reads them (that FxQuant is then folded into the input cast) or, for attention masks, a 1-bit
type; Flatten/Reshape keep their input's type (hls/graph.py, which the estimate reads too).
Nothing is left to hls4ml's 'auto' inference.
"""

from __future__ import annotations

import copy

from hls.common import PROJECT_NAME
from hls.fxtypes import QpartHLSError
from hls.graph import (  # noqa: F401 (public names)
    ATTENTION,
    MASK_TYPE,
    RESERVED_NAMES,
    RESHAPES,
    keras_result_types,
    layer_inputs,
)
from hls.layers.extension import register

register()  # the qpart layers, templates and passes, once


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
