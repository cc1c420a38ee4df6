"""FxAdd -> QpartAdd: the residual sum a + b (exact), cast to the result type.

C++: nnet::qpart::add (hls/nnet_utils/nnet_qpart_dense.h): `res = a + b` with ap_fixed's exact
sum, converted to res_T with its rounding and overflow modes, which is what FxAdd computes;
a row loop (rows: all axes but the last) folded like every qpart layer.
"""

from __future__ import annotations

from hls.layers.add import hardware as hw
from hls.layers.extension import (
    Extension,
    QpartConfigTemplate,
    QpartFunctionTemplate,
    QpartHLSError,
    QpartLayer,
    folding_lines,
    parse_base,
)


def parse_fx_add(keras_layer, input_names, input_shapes, data_reader):
    layer, cfg = parse_base(keras_layer, input_names, "QpartAdd", 2)
    a, b = (list(s[1:]) for s in input_shapes)
    if a != b:
        raise QpartHLSError(f"{layer['name']}: FxAdd of different shapes {a} and {b}")
    layer["result_fx"] = cfg["result_t"]
    return layer, list(input_shapes[0])


class QpartAdd(QpartLayer):
    def initialize(self):
        self.add_result(self.input_shape())


class AddConfigTemplate(QpartConfigTemplate):
    layer_cls = QpartAdd

    def config(self, node, p):
        shape = node.get_output_variable().shape
        n_cols = int(shape[-1])
        fold = node.folding(hw.rows(shape))
        return (
            f"struct config{p['index']} : nnet::qpart::add_config {{\n"
            f"    static const unsigned n_rows = {fold.rows};\n"
            f"    static const unsigned n_cols = {n_cols};\n" + folding_lines(fold) + "};\n"
        )


class AddFunctionTemplate(QpartFunctionTemplate):
    layer_cls = QpartAdd
    headers = ("nnet_qpart_dense.h",)

    def call(self, node, p):
        (a, b), (ta, tb) = p["inputs"], p["input_ts"]
        return (
            f"nnet::qpart::add<{ta}, {tb}, {p['output_t']}, {p['config']}>({a}, {b}, "
            f"{p['output']});"
        )


EXTENSION = Extension(
    keras_class="FxAdd",
    parser=parse_fx_add,
    layer_name="QpartAdd",
    layer_cls=QpartAdd,
    templates=[AddConfigTemplate, AddFunctionTemplate],
)
