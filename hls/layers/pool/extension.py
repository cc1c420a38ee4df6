"""FxSumPool -> QpartSumPool: the real particles' rows summed per feature (exact), times
2**-shift (a rewiring), cast to the result type.

C++: nnet::qpart::sum_pool (hls/nnet_utils/nnet_qpart_dense.h): one pipelined iteration, an
exact accumulator per feature (hls/fxtypes.sum_type), rescale_bits for the shift, the cast
with the result type's rounding and overflow: what FxSumPool computes.
"""

from __future__ import annotations

from hls.fxtypes import shift_type, sum_type, typedefs
from hls.layers.extension import (
    Extension,
    QpartConfigTemplate,
    QpartFunctionTemplate,
    QpartHLSError,
    QpartLayer,
    parse_base,
)
from model.layers import pool_shift


def parse_sum_pool(keras_layer, input_names, input_shapes, data_reader):
    layer, cfg = parse_base(keras_layer, input_names, "QpartSumPool", 2)
    x_shape, mask_shape = list(input_shapes[0]), list(input_shapes[1])
    if len(x_shape) != 3 or mask_shape[1:] != x_shape[1:2]:
        raise QpartHLSError(
            f"{layer['name']}: expected x (batch, N, E) and mask (batch, N), got {x_shape} "
            f"and {mask_shape}"
        )
    n, dim = int(x_shape[1]), int(x_shape[2])
    layer.update(n_tokens=n, dim=dim, shift=pool_shift(n), result_fx=cfg["result_t"])
    return layer, [None, 1, dim]


class QpartSumPool(QpartLayer):
    def initialize(self):
        self.add_result([1, self.get_attr("dim")])


class SumPoolConfigTemplate(QpartConfigTemplate):
    layer_cls = QpartSumPool

    def config(self, node, p):
        accum = sum_type(node.input_fx(0), p["n_tokens"])
        return (
            f"struct config{p['index']} : nnet::qpart::sum_pool_config {{\n"
            f"    static const unsigned n_tokens = {p['n_tokens']};\n"
            f"    static const unsigned dim = {p['dim']};\n"
            f"    static const unsigned reuse_factor = {p['reuse']};\n"
            + typedefs({"accum_t": accum, "scaled_t": shift_type(accum, p["shift"])})
            + "};\n"
        )


class SumPoolFunctionTemplate(QpartFunctionTemplate):
    layer_cls = QpartSumPool
    headers = ("nnet_qpart_dense.h",)

    def call(self, node, p):
        (x, mask), (tx, tm) = p["inputs"], p["input_ts"]
        return (
            f"nnet::qpart::sum_pool<{tx}, {tm}, {p['output_t']}, {p['config']}>({x}, {mask}, "
            f"{p['output']});"
        )


EXTENSION = Extension(
    keras_class="FxSumPool",
    parser=parse_sum_pool,
    layer_name="QpartSumPool",
    layer_cls=QpartSumPool,
    templates=[SumPoolConfigTemplate, SumPoolFunctionTemplate],
)
