"""ClassToken -> QpartClassToken: the learned class token, (N, E) -> (1, E).

The token is quantized to the result type here (as the Keras layer does) and written as a
constant array; the C++ (nnet::qpart::class_token in nnet_qpart_dense.h) copies it out.
"""

from __future__ import annotations

from hls4ml.model.attributes import Attribute, WeightAttribute

from hls.layers.extension import (
    Extension,
    QpartConfigTemplate,
    QpartFunctionTemplate,
    QpartLayer,
    parse_base,
    read_weight,
)
from model.fixed import Fx, quantize_np


def parse_class_token(keras_layer, input_names, input_shapes, data_reader):
    layer, cfg = parse_base(keras_layer, input_names, "QpartClassToken", 1)
    dim = int(input_shapes[0][-1])
    token = read_weight(data_reader, layer["name"], "token").reshape(dim)
    layer.update(
        dim=dim, result_fx=cfg["result_t"], token_data=quantize_np(token, Fx.parse(cfg["result_t"]))
    )
    return layer, [None, 1, dim]


class QpartClassToken(QpartLayer):
    _expected_attributes = [Attribute("dim"), WeightAttribute("token")]

    def initialize(self):
        self.add_result([1, self.get_attr("dim")])
        self.add_fx_weight(
            "token", self.get_attr("token_data"), self.fx("result_fx"), "token{index}_t"
        )


class ClassTokenConfigTemplate(QpartConfigTemplate):
    layer_cls = QpartClassToken

    def config(self, node, p):
        n_in = 1
        for d in node.input_shape():
            n_in *= d
        return (
            f"struct config{p['index']} : nnet::qpart::class_token_config {{\n"
            f"    static const unsigned n_in = {n_in};\n"
            f"    static const unsigned dim = {p['dim']};\n"
            f"    static const unsigned reuse_factor = {p['reuse']};\n"
            f"    typedef {node.get_weights('token').type.name} token_t;\n"
            "};\n"
        )


class ClassTokenFunctionTemplate(QpartFunctionTemplate):
    layer_cls = QpartClassToken
    headers = ("nnet_qpart_dense.h",)

    def call(self, node, p):
        call = "nnet::qpart::class_token<{input_t}, {output_t}, {config}>({input}, {output}, {t});"
        return call.format(**{**p, "t": node.get_weights("token").name})


EXTENSION = Extension(
    keras_class="ClassToken",
    parser=parse_class_token,
    layer_name="QpartClassToken",
    layer_cls=QpartClassToken,
    templates=[ClassTokenConfigTemplate, ClassTokenFunctionTemplate],
)
