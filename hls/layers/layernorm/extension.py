"""FxLayerNorm -> QpartLayerNorm; also the layer-norm config used inside the attention layers.

C++: nnet::qpart::layernorm (hls/nnet_utils/nnet_qpart_layernorm.h), a row loop folded by the
layer's parallelization and reuse factors. The 1/sqrt table is model.tables.RsqrtTable's
`values`, written as a constant array holding one copy per ROM. The row loop's regions, its
multiplier limit and ROM copies: hls/layers/layernorm/hardware.py.
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.attributes import Attribute, WeightAttribute

from hls.fxtypes import check_float64, typedefs
from hls.layers.extension import (
    Extension,
    QpartConfigTemplate,
    QpartFunctionTemplate,
    QpartHLSError,
    QpartLayer,
    folding_lines,
    keras_twin,
    parse_base,
    quantized,
    read_weight,
    weight_type_name,
)
from hls.layers.layernorm import hardware as hw
from hls.layers.layernorm.hardware import (
    layernorm_types,  # noqa: F401 (the attention's nested config)
)
from model import tables


def layernorm_config(
    struct_name,
    base,
    n_rows,
    dim,
    in_t,
    table,
    gamma_fx,
    beta_fx,
    gamma_t,
    beta_t,
    table_t,
    fold,
    layer_name,
    indent="",
):
    """The C++ config struct of nnet::qpart::layernorm (text); `fold` None for the row config
    nested in an attention layer (which folds its own loops)."""
    if dim & (dim - 1):
        raise QpartHLSError(f"{layer_name}: layer norm needs a power-of-two dimension, got {dim}")
    types = layernorm_types(in_t, dim, table, gamma_fx, beta_fx)
    check_float64(layer_name, types)
    i = indent
    if fold is not None:
        (row_loop,) = hw.regions(fold, dim, in_t, table, gamma_fx)
    return (
        f"{i}struct {struct_name} : {base} {{\n"
        f"{i}    static const unsigned n_rows = {n_rows};\n"
        f"{i}    static const unsigned dim = {dim};\n"
        f"{i}    static const unsigned table_size = {table.size};\n"
        + (
            ""
            if fold is None
            else f"{i}    static const unsigned table_copies = "
            f"{row_loop.rom_copies()[0]};\n"
            + folding_lines(fold, row_loop.multiplier_limit, i + "    ")
        )
        + typedefs(types, i + "    ")
        + typedefs({"gamma_t": gamma_t, "beta_t": beta_t, "table_t": table_t}, i + "    ")
        + f"{i}}};\n"
    )


def parse_fx_layer_norm(keras_layer, input_names, input_shapes, data_reader):
    layer, cfg = parse_base(keras_layer, input_names, "QpartLayerNorm", 1)
    twin = keras_twin(keras_layer)
    shape = list(input_shapes[0])
    name = layer["name"]
    table = tables.RsqrtTable(twin.table_size, twin.var_range, twin.rsqrt_t)
    n_rows = 1
    for d in shape[1:-1]:
        n_rows *= int(d)
    layer.update(
        n_rows=n_rows,
        dim=int(shape[-1]),
        table_size=table.size,
        var_range=twin.var_range,
        result_fx=cfg["result_t"],
        rsqrt_fx=str(twin.rsqrt_t),
        bias_fx=str(twin.bias_t),
        # gamma takes the bias quantizer (model.layers.LayerNormFx: it sits near 1)
        gamma_data=quantized(twin, read_weight(data_reader, name, "norm_gamma"), "bias"),
        beta_data=quantized(twin, read_weight(data_reader, name, "norm_beta"), "bias"),
        table_data=table.values,
    )
    return layer, shape


class QpartLayerNorm(QpartLayer):
    _expected_attributes = [
        Attribute("n_rows"),
        Attribute("dim"),
        Attribute("table_size"),
        Attribute("var_range"),
        Attribute("rsqrt_fx", value_type=str),
        Attribute("bias_fx", value_type=str),
        WeightAttribute("gamma"),
        WeightAttribute("beta"),
        WeightAttribute("table"),
    ]

    def initialize(self):
        self.add_result(self.input_shape())
        self.add_fx_weight(
            "gamma", self.get_attr("gamma_data"), self.fx("bias_fx"), "gamma{index}_t"
        )
        self.add_fx_weight("beta", self.get_attr("beta_data"), self.fx("bias_fx"), "beta{index}_t")
        fold = self.folding(self.get_attr("n_rows"))
        (row_loop,) = hw.regions(
            fold, self.get_attr("dim"), self.input_fx(), self.table(), self.fx("bias_fx")
        )
        (copies,) = row_loop.rom_copies()
        self.add_fx_weight(
            "table",
            np.tile(self.get_attr("table_data"), copies),
            self.fx("rsqrt_fx"),
            "rsqrt_table{index}_t",
        )

    def table(self):
        return tables.RsqrtTable(
            self.get_attr("table_size"), self.get_attr("var_range"), self.fx("rsqrt_fx")
        )


class LayerNormConfigTemplate(QpartConfigTemplate):
    layer_cls = QpartLayerNorm

    def config(self, node, p):
        return layernorm_config(
            f"config{p['index']}",
            "nnet::qpart::layernorm_config",
            p["n_rows"],
            p["dim"],
            node.input_fx(),
            node.table(),
            node.fx("bias_fx"),
            node.fx("bias_fx"),
            weight_type_name(node, "gamma"),
            weight_type_name(node, "beta"),
            weight_type_name(node, "table"),
            node.folding(p["n_rows"]),
            node.name,
        )


class LayerNormFunctionTemplate(QpartFunctionTemplate):
    layer_cls = QpartLayerNorm
    headers = ("nnet_qpart_layernorm.h",)

    def call(self, node, p):
        w = {k: node.get_weights(k).name for k in ("gamma", "beta", "table")}
        return (
            "nnet::qpart::layernorm<{input_t}, {output_t}, {config}>({input}, {output}, "
            "{gamma}, {beta}, {table});".format(**{**p, **w})
        )


EXTENSION = Extension(
    keras_class="FxLayerNorm",
    parser=parse_fx_layer_norm,
    layer_name="QpartLayerNorm",
    layer_cls=QpartLayerNorm,
    templates=[LayerNormConfigTemplate, LayerNormFunctionTemplate],
)
