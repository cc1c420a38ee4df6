"""FxQuant -> QpartQuant: a cast to the firmware's input type.

Right after a model input it is folded away: convert() gives that input the FxQuant's result type,
and the testbench / Python bridge casts the float input to it (ap_fixed's own conversion from
double: exact, with the type's rounding and overflow), which is what FxQuant computes. Anywhere
else it stays a cast.
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.layers import Input
from hls4ml.model.optimizer import OptimizerPass

from hls.fxtypes import fx_of_precision
from hls.layers.extension import (
    Extension,
    QpartConfigTemplate,
    QpartFunctionTemplate,
    QpartLayer,
    parse_base,
)


def parse_fx_quant(keras_layer, input_names, input_shapes, data_reader):
    layer, cfg = parse_base(keras_layer, input_names, "QpartQuant", 1)
    layer["result_fx"] = cfg["result_t"]
    return layer, list(input_shapes[0])


class QpartQuant(QpartLayer):
    def initialize(self):
        self.add_result(self.input_shape())


class FoldInputQuant(OptimizerPass):
    """Remove a QpartQuant whose input is a model input of the same type (set by convert())."""

    def match(self, node):
        if node.class_name != "QpartQuant" or not isinstance(node.get_input_node(), Input):
            return False
        in_fx = fx_of_precision(node.get_input_variable().type.precision)
        return in_fx == node.fx("result_fx")

    def transform(self, model, node):
        model.remove_node(node)
        return True


class QuantConfigTemplate(QpartConfigTemplate):
    layer_cls = QpartQuant

    def config(self, node, p):
        n = int(np.prod(node.get_output_variable().shape))
        return (
            f"struct config{p['index']} : nnet::qpart::quant_config {{\n"
            f"    static const unsigned n_in = {n};\n"
            f"    static const unsigned reuse_factor = {p['reuse']};\n"
            "};\n"
        )


class QuantFunctionTemplate(QpartFunctionTemplate):
    layer_cls = QpartQuant
    headers = ("nnet_qpart_dense.h",)

    def call(self, node, p):
        return "nnet::qpart::quant<{input_t}, {output_t}, {config}>({input}, {output});".format(**p)


EXTENSION = Extension(
    keras_class="FxQuant",
    parser=parse_fx_quant,
    layer_name="QpartQuant",
    layer_cls=QpartQuant,
    templates=[QuantConfigTemplate, QuantFunctionTemplate],
    passes=[("qpart_fold_input_quant", FoldInputQuant, "optimize")],
)
