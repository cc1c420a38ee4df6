"""FxDense -> QpartDense: dense over the last axis of any rank, relu(cast) optional.

C++: nnet::qpart::dense (hls/nnet_utils/nnet_qpart_dense.h): a row loop folded by the layer's
parallelization and reuse factors, each row an exact dense_row, then ReLU on the cast value.
Its hardware (regions, multiplier limit): hls/layers/dense/hardware.py.
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.attributes import Attribute, WeightAttribute

from hls.fxtypes import check_float64
from hls.layers.dense import hardware as hw
from hls.layers.extension import (
    Extension,
    QpartConfigTemplate,
    QpartFunctionTemplate,
    QpartLayer,
    folding_lines,
    keras_twin,
    parse_base,
    quantized,
    read_weight,
    row_config,
    weight_type_name,
)


def parse_fx_dense(keras_layer, input_names, input_shapes, data_reader):
    layer, cfg = parse_base(keras_layer, input_names, "QpartDense", 1)
    twin = keras_twin(keras_layer)
    shape = list(input_shapes[0])
    layer.update(
        n_rows=int(np.prod(shape[1:-1], dtype=np.int64)),
        n_in=int(shape[-1]),
        n_out=int(cfg["units"]),
        relu=cfg["activation"] == "relu",
        result_fx=cfg["result_t"],
        weight_fx=str(twin.weight_t),
        bias_fx=str(twin.bias_t),
        weight_data=quantized(twin, read_weight(data_reader, layer["name"], "kernel"), "weight"),
        bias_data=quantized(twin, read_weight(data_reader, layer["name"], "bias"), "bias"),
    )
    return layer, shape[:-1] + [layer["n_out"]]


class QpartDense(QpartLayer):
    _expected_attributes = [
        Attribute("n_rows"),
        Attribute("n_in"),
        Attribute("n_out"),
        Attribute("relu", value_type=bool),
        Attribute("weight_fx", value_type=str),
        Attribute("bias_fx", value_type=str),
        WeightAttribute("weight"),
        WeightAttribute("bias"),
    ]

    def initialize(self):
        shape = self.input_shape()
        self.add_result(shape[:-1] + [self.get_attr("n_out")])
        self.add_fx_weight(
            "weight", self.get_attr("weight_data"), self.fx("weight_fx"), "weight{index}_t"
        )
        self.add_fx_weight("bias", self.get_attr("bias_data"), self.fx("bias_fx"), "bias{index}_t")


class DenseConfigTemplate(QpartConfigTemplate):
    layer_cls = QpartDense

    def config(self, node, p):
        fold = node.folding(p["n_rows"])
        (row_loop,) = hw.regions(
            fold,
            p["n_in"],
            p["n_out"],
            node.input_fx(),
            node.fx("result_fx"),
            node.fx("weight_fx").width,
            node.get_attr("relu"),
        )
        extra = (
            f"    static const unsigned n_rows = {p['n_rows']};\n"
            f"    static const bool relu = {'true' if node.get_attr('relu') else 'false'};\n"
            + folding_lines(fold, row_loop.multiplier_limit)
        )
        text, accum = row_config(
            f"config{p['index']}",
            p["n_in"],
            p["n_out"],
            node.input_fx(),
            node.fx("weight_fx"),
            node.fx("bias_fx"),
            weight_type_name(node, "weight"),
            weight_type_name(node, "bias"),
            extra,
            indent="",
            base="nnet::qpart::dense_config",
        )
        check_float64(node.name, {"accum_t": accum})
        return text


class DenseFunctionTemplate(QpartFunctionTemplate):
    layer_cls = QpartDense
    headers = ("nnet_qpart_dense.h",)

    def call(self, node, p):
        call = "nnet::qpart::dense<{input_t}, {output_t}, {config}>({input}, {output}, {w}, {b});"
        return call.format(
            **{**p, "w": node.get_weights("weight").name, "b": node.get_weights("bias").name}
        )


EXTENSION = Extension(
    keras_class="FxDense",
    parser=parse_fx_dense,
    layer_name="QpartDense",
    layer_cls=QpartDense,
    templates=[DenseConfigTemplate, DenseFunctionTemplate],
)
