"""ParticleAttention -> QpartParticleAttention, ClassAttention -> QpartClassAttention.

C++: nnet::qpart::particle_attention / class_attention (hls/nnet_utils/nnet_qpart_attention.h):
pre-norm (or none: model.attn_norm false, nnet::qpart::no_norm), q/k/v projections (exact
dense_rows), logits scaled by 2**-shift (a rewiring) plus the pair bias (particle attention
of a model with pair features; without them, (x, mask) only), masked softmax through the exp
and 1/x tables of model.tables (constant arrays, one copy per ROM), context, output
projection. Two row loops (tokens, queries), each folded by the layer's parallelization and
reuse factors; their regions, multiplier limits and ROM copies are
hls/layers/attention/hardware.py's.
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.attributes import Attribute, WeightAttribute

from hls.fxtypes import (
    add_type,
    check_float64,
    dot_accum,
    mul_type,
    shift_type,
    sub_type,
    sum_type,
    typedefs,
)
from hls.layers.attention import hardware as hw
from hls.layers.extension import (
    Extension,
    QpartConfigTemplate,
    QpartFunctionTemplate,
    QpartHLSError,
    QpartLayer,
    keras_twin,
    parse_base,
    quantized,
    quantized_kernels,
    read_weight,
    row_config,
    weight_type_name,
)
from hls.layers.layernorm.extension import layernorm_config
from model import tables
from model.fixed import Fx
from model.layers import _Attention

_TYPES = _Attention._TYPE_ARGS  # the Keras layer's named casts
_WEIGHTS = ("wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo")


def _parse_attention(
    keras_layer, input_names, input_shapes, data_reader, class_name, x_index, n_keys_extra
):
    from model.layers import attention_shift

    # particle attention without the pair bias (model.pair_features: none) has (x, mask)
    n_inputs = 2 if class_name == "QpartParticleAttention" and len(input_names or ()) == 2 else 3
    layer, cfg = parse_base(keras_layer, input_names, class_name, n_inputs)
    twin = keras_twin(keras_layer)
    name = layer["name"]
    x_shape = list(input_shapes[x_index])
    if len(x_shape) != 3:
        raise QpartHLSError(f"{name}: expected x of shape (batch, N, E), got {x_shape}")
    n_tokens, dim, heads = int(x_shape[1]), int(x_shape[2]), int(cfg["num_heads"])
    if dim % heads:
        raise QpartHLSError(f"{name}: dimension {dim} is not divisible by {heads} heads")
    mask_shape = list(input_shapes[-1])
    if mask_shape[1:] != [n_tokens]:
        raise QpartHLSError(f"{name}: mask shape {mask_shape} does not match x {x_shape}")
    kernel_names = [w for w in _WEIGHTS if w[0] == "w"]
    kernels, weight_t = quantized_kernels(twin, data_reader, name, kernel_names)
    layer.update(
        n_tokens=n_tokens,
        dim=dim,
        n_heads=heads,
        head_dim=dim // heads,
        shift=attention_shift(dim // heads),
        n_keys=n_tokens + n_keys_extra,
        pair_bias=n_inputs == 3 and class_name == "QpartParticleAttention",
        norm=bool(cfg.get("norm", True)),
        norm_table_size=int(cfg["norm_table_size"]),
        norm_var_range=int(cfg["norm_var_range"]),
        exp_table_size=int(cfg["exp_table_size"]),
        exp_range=int(cfg["exp_range"]),
        inv_table_size=int(cfg["inv_table_size"]),
        weight_fx=str(weight_t),
        bias_fx=str(twin.bias_t),
        **{k.replace("_t", "_fx"): cfg[k] for k in _TYPES},
    )
    if layer["norm"]:  # the pre-norm's gamma takes the bias quantizer (model.layers.LayerNormFx)
        for w in ("norm_gamma", "norm_beta"):
            layer[f"{w}_data"] = quantized(twin, read_weight(data_reader, name, w), "bias")
    layer.update({f"{w}_data": k for w, k in zip(kernel_names, kernels)})
    for w in _WEIGHTS:
        if w[0] != "w":
            layer[f"{w}_data"] = quantized(twin, read_weight(data_reader, name, w), "bias")
    return layer


def parse_particle_attention(keras_layer, input_names, input_shapes, data_reader):
    layer = _parse_attention(
        keras_layer, input_names, input_shapes, data_reader, "QpartParticleAttention", 0, 0
    )
    n, h = layer["n_tokens"], layer["n_heads"]
    if layer["pair_bias"] and list(input_shapes[1][1:]) != [h, n, n]:
        raise QpartHLSError(
            f"{layer['name']}: bias shape {input_shapes[1]} is not " f"(batch, {h}, {n}, {n})"
        )
    return layer, list(input_shapes[0])


def parse_class_attention(keras_layer, input_names, input_shapes, data_reader):
    layer = _parse_attention(
        keras_layer, input_names, input_shapes, data_reader, "QpartClassAttention", 1, 1
    )
    if list(input_shapes[0][1:]) != [1, layer["dim"]]:
        raise QpartHLSError(
            f"{layer['name']}: class token shape {input_shapes[0]} is not "
            f"(batch, 1, {layer['dim']})"
        )
    return layer, [None, 1, layer["dim"]]


def attention_spec(node) -> hw.Spec:
    """The layer's shape and types, as hls/layers/attention/hardware.py describes its hardware."""
    f = node.fx
    particle = isinstance(node, QpartParticleAttention)
    norm_table, _, _ = node.tables()
    return hw.Spec(
        particle=particle,
        n=node.get_attr("n_tokens"),
        dim=node.get_attr("dim"),
        heads=node.get_attr("n_heads"),
        n_kv=node.get_attr("n_keys"),
        x_t=node.input_fx(0 if particle else 1),
        cls_t=None if particle else node.input_fx(0),
        bias_in_t=node.input_fx(1) if node.get_attr("pair_bias") else None,
        norm_table=norm_table,
        bias_t=f("bias_fx"),
        weight_bits=f("weight_fx").width,
        norm_t=norm_t(node),
        qkv_t=f("qkv_fx"),
        logit_t=f("logit_fx"),
        exp_t=f("exp_fx"),
        inv_t=f("inv_fx"),
        attn_t=f("attn_fx"),
        ctx_t=f("ctx_fx"),
        result_t=f("result_fx"),
        shift=node.get_attr("shift"),
        exp_table_size=node.get_attr("exp_table_size"),
        inv_table_size=node.get_attr("inv_table_size"),
        norm=node.get_attr("norm"),
    )


def norm_t(node):
    """The type the q/k/v projections read: the pre-norm's result, or without it the input's."""
    if node.get_attr("norm"):
        return node.fx("norm_fx")
    particle = isinstance(node, QpartParticleAttention)
    return hw.norm_input(particle, node.input_fx(0 if particle else 1), node.input_fx(0))


def attention_folding(node) -> dict:
    """The two row loops of an attention layer, their multiplier limits and ROM copies: read
    off the regions that the estimate prices (hls/layers/attention/hardware.py)."""
    return hw.template_params(attention_spec(node), node.folding(node.get_attr("n_tokens")))


class _QpartAttention(QpartLayer):
    _expected_attributes = [
        Attribute("n_tokens"),
        Attribute("dim"),
        Attribute("n_heads"),
        Attribute("head_dim"),
        Attribute("shift"),
        Attribute("n_keys"),
        Attribute("pair_bias", value_type=bool),
        Attribute("norm", value_type=bool),
        Attribute("norm_table_size"),
        Attribute("norm_var_range"),
        Attribute("exp_table_size"),
        Attribute("exp_range"),
        Attribute("inv_table_size"),
        Attribute("weight_fx", value_type=str),
        Attribute("bias_fx", value_type=str),
        *(Attribute(k.replace("_t", "_fx"), value_type=str) for k in _TYPES),
        *(
            WeightAttribute(w)
            for w in ("norm_gamma", "norm_beta", "norm_table", "exp_table", "inv_table") + _WEIGHTS
        ),
    ]
    n_queries = None  # rows of the output

    def tables(self):
        f = self.fx
        return (
            tables.RsqrtTable(
                self.get_attr("norm_table_size"),
                self.get_attr("norm_var_range"),
                f("norm_rsqrt_fx"),
            ),
            tables.ExpTable(
                self.get_attr("exp_table_size"), self.get_attr("exp_range"), f("exp_fx")
            ),
            tables.InvTable(self.get_attr("inv_table_size"), self.get_attr("n_keys"), f("inv_fx")),
        )

    def initialize(self):
        dim = self.get_attr("dim")
        self.add_result([self.n_queries or self.get_attr("n_tokens"), dim])
        norm_table, exp_table, inv_table = self.tables()
        fold = attention_folding(self)
        w_fx, b_fx = self.fx("weight_fx"), self.fx("bias_fx")
        if self.get_attr("norm"):
            for w in ("norm_gamma", "norm_beta"):
                self.add_fx_weight(w, self.get_attr(f"{w}_data"), b_fx, "bias{index}_t")
            self.add_fx_weight(
                "norm_table",
                np.tile(norm_table.values, fold["norm_copies"]),
                norm_table.value_t,
                "rsqrt_table{index}_t",
            )
        else:  # the C++ signature's norm arrays, one bit each, never read (nnet::qpart::no_norm)
            bit = Fx.parse("ap_ufixed<1,1>")
            for w, size in (("norm_gamma", dim), ("norm_beta", dim), ("norm_table", 1)):
                self.add_fx_weight(w, np.zeros(size), bit, "no_norm{index}_t")
        for w in _WEIGHTS:
            kernel = w[0] == "w"
            self.add_fx_weight(
                w,
                self.get_attr(f"{w}_data"),
                w_fx if kernel else b_fx,
                "weight{index}_t" if kernel else "bias{index}_t",
            )
        self.add_fx_weight(
            "exp_table",
            np.tile(exp_table.values, fold["exp_copies"]),
            exp_table.value_t,
            "exp_table{index}_t",
        )
        self.add_fx_weight(
            "inv_table",
            np.tile(inv_table.values, fold["inv_copies"]),
            inv_table.value_t,
            "inv_table{index}_t",
        )


class QpartParticleAttention(_QpartAttention):
    pass


class QpartClassAttention(_QpartAttention):
    n_queries = 1


def attention_types(node) -> tuple[dict, dict]:
    """(exact intermediates, named casts) of one attention layer, from its input types."""
    f = node.fx
    n_keys, hd = node.get_attr("n_keys"), node.get_attr("head_dim")
    qkv, logit, exp_fx, inv_fx, attn = (
        f("qkv_fx"),
        f("logit_fx"),
        f("exp_fx"),
        f("inv_fx"),
        f("attn_fx"),
    )
    _, exp_table, inv_table = node.tables()
    dot = dot_accum(qkv, qkv, hd)
    scaled = shift_type(dot, node.get_attr("shift"))
    exact = {"dot_t": dot, "scaled_t": scaled}
    if node.get_attr("pair_bias"):
        exact["biased_t"] = add_type(scaled, node.input_fx(1))
    esum = sum_type(exp_fx, n_keys)
    exact.update(
        ldiff_t=sub_type(logit, logit),
        esum_t=esum,
        prob_t=mul_type(exp_fx, inv_fx),
        ctx_acc_t=dot_accum(attn, qkv, n_keys),
    )
    casts = {
        "norm_t": norm_t(node),
        "qkv_t": qkv,
        "logit_t": logit,
        "attn_t": attn,
        "ctx_t": f("ctx_fx"),
        # table indices (model/tables.py): ap_ufixed<log2 size, range, AP_TRN, AP_SAT>
        "exp_index_t": exp_table.index_t,
        "inv_index_t": inv_table.index_t,
    }
    return exact, casts


class AttentionConfigTemplate(QpartConfigTemplate):
    layer_cls = (QpartParticleAttention, QpartClassAttention)

    def config(self, node, p):
        particle = isinstance(node, QpartParticleAttention)
        n, dim, heads = p["n_tokens"], p["dim"], p["n_heads"]
        fold = attention_folding(node)
        n_q, n_kv = (n, n) if particle else (1, n + 1)
        norm_table, _, _ = node.tables()
        w_fx, b_fx = node.fx("weight_fx"), node.fx("bias_fx")
        w_t, b_t = weight_type_name(node, "wq"), weight_type_name(node, "bq")
        # x (and the class token) are normalised with one config: a type holding both exactly
        norm_in = hw.norm_input(particle, node.input_fx(0 if particle else 1), node.input_fx(0))
        exact, casts = attention_types(node)
        check_float64(node.name, exact)
        if node.get_attr("norm"):
            nested = layernorm_config(
                "norm_config",
                "nnet::qpart::layernorm_config",
                n,
                dim,
                norm_in,
                norm_table,
                b_fx,
                b_fx,
                b_t,
                b_t,
                weight_type_name(node, "norm_table"),
                None,
                node.name,
                "    ",
            )
        else:
            bit_t = weight_type_name(node, "norm_gamma")
            nested = (
                "    struct norm_config : nnet::qpart::no_norm {\n"
                f"        static const unsigned dim = {dim};\n"
                + typedefs({"gamma_t": bit_t, "beta_t": bit_t, "table_t": bit_t}, "        ")
                + "    };\n"
            )
        accums = {}
        for c, in_fx in (
            ("q", casts["norm_t"]),
            ("k", casts["norm_t"]),
            ("v", casts["norm_t"]),
            ("o", casts["ctx_t"]),
        ):
            text, accums[c] = row_config(f"{c}_config", dim, dim, in_fx, w_fx, b_fx, w_t, b_t)
            nested += text
        check_float64(node.name, {f"{c}_config::accum_t": a for c, a in accums.items()})
        return (
            f"struct config{p['index']} : nnet::qpart::attention_config {{\n"
            f"    static const unsigned n_tokens = {n};\n"
            f"    static const unsigned n_q = {n_q};\n"
            f"    static const unsigned n_kv = {n_kv};\n"
            f"    static const unsigned dim = {dim};\n"
            f"    static const unsigned n_heads = {heads};\n"
            f"    static const unsigned head_dim = {p['head_dim']};\n"
            f"    static const unsigned shift = {p['shift']}; // logits * 2**-shift\n"
            f"    static const unsigned exp_table_size = {p['exp_table_size']};\n"
            f"    static const unsigned inv_table_size = {p['inv_table_size']};\n"
            f"    static const bool logit_signed = "
            f"{'true' if casts['logit_t'].signed else 'false'};\n"
            f"    static const unsigned parallel = {fold['tokens'].parallel}; // of {n} tokens\n"
            f"    static const unsigned q_parallel = {fold['queries'].parallel};\n"
            f"    static const unsigned reuse_factor = {fold['tokens'].reuse_factor};\n"
            + "".join(
                f"    static const unsigned {k} = {fold[k]};\n"
                for k in (
                    "token_multiplier_limit",
                    "query_multiplier_limit",
                    "norm_copies",
                    "exp_copies",
                    "inv_copies",
                )
            )
            + "    // casts: the Keras layer's types, and the table indices\n"
            + typedefs(casts)
            + "    // exact intermediates (hls/fxtypes.py)\n"
            + typedefs(exact)
            + "    // constant arrays\n"
            + typedefs(
                {
                    "weight_t": w_t,
                    "bias_t": b_t,
                    "exp_table_t": weight_type_name(node, "exp_table"),
                    "inv_table_t": weight_type_name(node, "inv_table"),
                }
            )
            + nested
            + "};\n"
        )


class AttentionFunctionTemplate(QpartFunctionTemplate):
    layer_cls = (QpartParticleAttention, QpartClassAttention)
    headers = ("nnet_qpart_attention.h",)

    def call(self, node, p):
        func = (
            "particle_attention" if isinstance(node, QpartParticleAttention) else "class_attention"
        )
        weights = ", ".join(
            node.get_weights(w).name
            for w in ("norm_gamma", "norm_beta", "norm_table", *_WEIGHTS, "exp_table", "inv_table")
        )
        types = ", ".join(p["input_ts"] + [p["output_t"], p["config"]])
        args = ", ".join(p["inputs"] + [p["output"]])
        return f"nnet::qpart::{func}<{types}>({args}, {weights});"


_TEMPLATES = [AttentionConfigTemplate, AttentionFunctionTemplate]

EXTENSIONS = [
    Extension(
        keras_class="ParticleAttention",
        parser=parse_particle_attention,
        layer_name="QpartParticleAttention",
        layer_cls=QpartParticleAttention,
        templates=_TEMPLATES,
    ),
    Extension(
        keras_class="ClassAttention",
        parser=parse_class_attention,
        layer_name="QpartClassAttention",
        layer_cls=QpartClassAttention,
        templates=[],
    ),
]
