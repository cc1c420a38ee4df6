"""PairEmbed -> QpartPairEmbed: (N, N, F) pair features -> (H, N, N) attention biases.

C++: nnet::qpart::pair_embed (hls/nnet_utils/nnet_qpart_pair_embed.h), one dense chain per pair
(exact dense_rows), the pairs being the rows that the layer's parallelization and reuse factors
fold. By default only the pairs i <= j are computed and mirrored: half the logic, and
bit-identical because ParT's pair features (ln Delta, ln kT, ln z, ln m^2) are symmetric. For
inputs that are not, set `Symmetric: false` in the layer's hls4ml config (convert's
hls_overrides): every pair is then computed (the estimate always counts the mirrored loop).
The pair loop's regions and multiplier limit: hls/layers/pair_embed/hardware.py.
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.attributes import Attribute, ConfigurableAttribute, WeightAttribute

from hls.fxtypes import check_float64
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
    row_config,
    weight_type_name,
)
from hls.layers.pair_embed import hardware as hw
from hls.layers.pair_embed.hardware import n_pair_rows


def parse_pair_embed(keras_layer, input_names, input_shapes, data_reader):
    layer, cfg = parse_base(keras_layer, input_names, "QpartPairEmbed", 1)
    twin = keras_twin(keras_layer)
    shape = list(input_shapes[0])
    if len(shape) != 4 or shape[1] != shape[2]:
        raise QpartHLSError(
            f"{layer['name']}: expected pairs of shape (batch, N, N, F), got " f"{shape}"
        )
    n, n_feat, heads = int(shape[1]), int(shape[3]), int(cfg["num_heads"])
    dims = [n_feat] + [int(d) for d in cfg["dims"]] + [heads]
    kernels, biases = [], []
    for i in range(len(dims) - 1):
        kernels.append(
            quantized(
                twin, read_weight(data_reader, layer["name"], f"kernel_{i}"), "weight"
            ).reshape(-1)
        )
        biases.append(
            quantized(twin, read_weight(data_reader, layer["name"], f"bias_{i}"), "bias").reshape(
                -1
            )
        )
    layer.update(
        n_particles=n,
        n_features=n_feat,
        n_heads=heads,
        dims=dims,
        result_fx=cfg["result_t"],
        hidden_fx=cfg["hidden_t"],
        weight_fx=str(twin.weight_t),
        bias_fx=str(twin.bias_t),
        weight_data=np.concatenate(kernels),
        bias_data=np.concatenate(biases),
    )
    return layer, [None, heads, n, n]


class QpartPairEmbed(QpartLayer):
    _expected_attributes = [
        Attribute("n_particles"),
        Attribute("n_features"),
        Attribute("n_heads"),
        Attribute("dims", value_type=list),
        Attribute("hidden_fx", value_type=str),
        Attribute("weight_fx", value_type=str),
        Attribute("bias_fx", value_type=str),
        ConfigurableAttribute("symmetric", value_type=bool, default=True),
        WeightAttribute("weight"),
        WeightAttribute("bias"),
    ]

    def initialize(self):
        n = self.get_attr("n_particles")
        self.add_result([self.get_attr("n_heads"), n, n])
        self.add_fx_weight(
            "weight", self.get_attr("weight_data"), self.fx("weight_fx"), "weight{index}_t"
        )
        self.add_fx_weight("bias", self.get_attr("bias_data"), self.fx("bias_fx"), "bias{index}_t")


class PairEmbedConfigTemplate(QpartConfigTemplate):
    layer_cls = QpartPairEmbed

    def config(self, node, p):
        dims = node.get_attr("dims")
        w_fx, b_fx = node.fx("weight_fx"), node.fx("bias_fx")
        w_t, b_t = weight_type_name(node, "weight"), weight_type_name(node, "bias")
        n_layers = len(dims) - 1
        offsets, w_off, b_off = [], 0, 0
        for i in range(n_layers):
            offsets.append((w_off, b_off))
            w_off += dims[i] * dims[i + 1]
            b_off += dims[i + 1]
        layers, accums = "", {}
        # the chain is written last layer first: each layer names the next one
        for i in reversed(range(n_layers)):
            last = i == n_layers - 1
            in_fx = node.input_fx() if i == 0 else node.fx("hidden_fx")
            out_fx = node.fx("result_fx") if last else node.fx("hidden_fx")
            extra = (
                f"        static const unsigned w_offset = {offsets[i][0]};\n"
                f"        static const unsigned b_offset = {offsets[i][1]};\n"
                f"        typedef {out_fx} out_t;\n"
                f"        typedef {'nnet::qpart::mlp_end' if last else f'layer{i + 1}_config'}"
                " next;\n"
            )
            text, accums[f"layer{i}_config::accum_t"] = row_config(
                f"layer{i}_config", dims[i], dims[i + 1], in_fx, w_fx, b_fx, w_t, b_t, extra
            )
            layers += text
        check_float64(node.name, accums)
        n, symmetric = p["n_particles"], node.get_attr("symmetric")
        if symmetric and n % 2:
            raise QpartHLSError(
                f"{node.name}: the mirrored pair loop needs an even number of "
                f"particles, got {n}; set Symmetric: false"
            )
        fold = node.folding(n_pair_rows(n, symmetric))
        (pair_loop,) = hw.regions(
            fold,
            p["n_features"],
            node.input_fx(),
            dims,
            node.fx("hidden_fx"),
            node.fx("result_fx"),
            w_fx.width,
        )
        return (
            f"struct config{p['index']} : nnet::qpart::pair_embed_config {{\n"
            f"    static const unsigned n_particles = {n};\n"
            f"    static const unsigned n_features = {p['n_features']};\n"
            f"    static const unsigned n_heads = {p['n_heads']};\n"
            f"    static const bool symmetric = "
            f"{'true' if symmetric else 'false'};\n"
            f"    static const unsigned n_pairs = {fold.rows};\n"
            f"    static const unsigned n_weights = {w_off};\n"
            f"    static const unsigned n_biases = {b_off};\n"
            + folding_lines(fold, pair_loop.multiplier_limit)
            + f"    typedef {w_t} weight_t;\n"
            f"    typedef {b_t} bias_t;\n" + layers + "    typedef layer0_config first_layer;\n"
            "};\n"
        )


class PairEmbedFunctionTemplate(QpartFunctionTemplate):
    layer_cls = QpartPairEmbed
    headers = ("nnet_qpart_pair_embed.h",)

    def call(self, node, p):
        return (
            "nnet::qpart::pair_embed<{input_t}, {output_t}, {config}>({input}, {output}, {w}, "
            "{b});".format(
                **{**p, "w": node.get_weights("weight").name, "b": node.get_weights("bias").name}
            )
        )


EXTENSION = Extension(
    keras_class="PairEmbed",
    parser=parse_pair_embed,
    layer_name="QpartPairEmbed",
    layer_cls=QpartPairEmbed,
    templates=[PairEmbedConfigTemplate, PairEmbedFunctionTemplate],
)
