"""Builds ParT from a model config (model/configs/<name>.yml) and reports its cost.

The same builder makes the full-size float reference and the FPGA-sized quantized models:
    particles -> FxQuant -> particle embedding (FxDense + ReLU)*
    pairs     -> FxQuant -> PairEmbed -> one attention bias per head   (none without pair features)
    num_blocks x [ h += ParticleAttention(h, bias, mask); h += FFN(LayerNorm(h)) ]
    cls = ClassToken
    num_cls_blocks x [ cls += ClassAttention(cls, h, mask); cls += FFN(LayerNorm(cls)) ]
        (model.pooling: sum: cls = FxSumPool(h, mask) instead, no class blocks)
    logits = FxDense(LayerNorm(cls))
as weaver-core's ParticleTransformer, with ReLU for GELU, pre-norm blocks, a power-of-two
attention scale and no dropout (firmware-friendly choices; see docs/model.md).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from data import features as F
from data import pairmode
from data.reader import load_label_scheme
from infra import yamlconfig
from infra.yamlconfig import REQUIRED, ConfigError, read_yaml, validate
from model import learned
from model.fixed import Fx, FxError, as_fx

CONFIG_DIR = Path(__file__).parent / "configs"

POOLINGS = ("class_token", "sum")

SCHEMA = {
    "data": (
        {
            "features": (str, REQUIRED),
            "n_particles": (int, REQUIRED),
            "label_scheme": (str, "jetclass"),
        },
        REQUIRED,
    ),
    "model": (
        {
            "embed_dims": (list, REQUIRED),
            "pair_embed_dims": (list, REQUIRED),
            "num_heads": (int, REQUIRED),
            "num_blocks": (int, REQUIRED),
            "num_cls_blocks": (int, REQUIRED),
            "ffn_dim": (int, REQUIRED),
            "quantized": (bool, True),
            # host | onchip | none: what the model reads beside the particles and whether it
            # has a pair bias (data.pairmode)
            "pair_features": (str, pairmode.DEFAULT),
            # the layer norms outside the attentions (each FFN's pre-norm, the head's): each is
            # about 27 of alkaid's delay units in series on the RTL route; false drops them
            "ffn_norm": (bool, True),
            "head_norm": (bool, True),
            # the pre-norm inside each attention (ParticleAttention, ClassAttention)
            "attn_norm": (bool, True),
            # what the head reads: class_token (ParT's: a class token and num_cls_blocks class
            # attentions) or sum (FxSumPool: the particles summed, num_cls_blocks 0)
            "pooling": (str, "class_token"),
        },
        REQUIRED,
    ),
    "quantization": (
        {
            "weight_bits": (int, 8),
            "weight_integer": (int, 0),
            "bias_bits": (int, 12),
            "bias_integer": (int, 3),
            "input_t": (str, "ap_fixed<12,4,AP_RND_CONV,AP_SAT>"),
            "pair_input_t": (str, "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"),
            "kin_t": (str, "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"),  # on-chip pair features' input
            # the on-chip pair features' internal types (model.layers.PairFeatures): angle
            # differences, the cosh/cos/softplus/log table values, the logarithms
            "pair_angle_t": (str, "ap_fixed<12,2,AP_RND_CONV,AP_SAT>"),
            "pair_table_t": (str, "ap_ufixed<18,0,AP_RND_CONV,AP_SAT>"),
            "pair_ln_t": (str, "ap_fixed<18,6,AP_RND_CONV,AP_SAT>"),
            "pair_log_bits": (int, 10),  # the log table's index bits
            "pair_angle_table_size": (int, 256),  # the cosh and cos tables' entries
            "pair_softplus_table_size": (int, 1024),
            "act_t": (str, "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"),
            "pair_t": (str, "ap_fixed<12,4,AP_RND_CONV,AP_SAT>"),
            "logit_t": (str, "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"),
            "attn_t": (str, "ap_ufixed<16,1,AP_RND_CONV,AP_SAT>"),
            # the attention's q, k and v (the operands of its variable products); None: act_t
            "qkv_t": ((str, type(None)), None),
            "exp_table_size": (int, 1024),
            "exp_range": (int, 3),
            "exp_t": (str, "ap_ufixed<18,1,AP_RND_CONV,AP_SAT>"),
            "inv_table_size": (int, 1024),
            "inv_t": (str, "ap_ufixed<18,1,AP_RND_CONV,AP_SAT>"),
            "norm_table_size": (int, 1024),
            "norm_var_range": (int, 4),
            "rsqrt_t": (str, "ap_ufixed<18,6,AP_RND_CONV,AP_SAT>"),
            # learned per-weight widths (model.learned, HGQ); absent: uniform weight_bits
            "learned_widths": ((dict, type(None)), None),
        },
        {},
    ),
    "training": (
        {
            "epochs": (int, 20),
            "batch_size": (int, 256),
            "learning_rate": (float, 3e-3),
            "weight_decay": (float, 1e-4),
            "patience": (int, 4),
            "max_jets_per_file": ((int, type(None)), None),
            "seed": (int, 42),
        },
        {},
    ),
}

_TYPE_KEYS = [k for k in SCHEMA["quantization"][0] if k.endswith("_t")]
# keys added after models were trained: at these values they stay out of architecture_hash
_HASH_SILENT = {
    k: SCHEMA["quantization"][0][k][1]
    for k in (
        "pair_angle_t",
        "pair_table_t",
        "pair_ln_t",
        "pair_log_bits",
        "pair_angle_table_size",
        "pair_softplus_table_size",
        "qkv_t",
    )
}

LEARNED_SCHEMA = {
    "granularity": (str, "weight"),  # weight | channel (one width per output channel)
    "beta": (float, 1e-6),  # weight of the EBOPs term in the loss
    "warmup_epochs": (int, 1),  # epochs trained before beta applies
    "init_fractional_bits": (float, 6.0),
    "max_bits": (int, 8),  # widest weight (sign and integer bits included)
    "lr_scale": (float, 1.0),  # the fractional bits learn this many times faster than weights
}


def _check_learned(cfg: dict, where: str):
    """Validate quantization.learned_widths in place (defaults filled); None stays None."""
    q = cfg["quantization"]
    if q["learned_widths"] is None:
        return
    key = "quantization.learned_widths"
    lw = validate(q["learned_widths"], LEARNED_SCHEMA, f"{where}: {key}")
    if lw["granularity"] not in learned.GRANULARITIES:
        raise ConfigError(
            f"{where}: {key}.granularity must be one of {learned.GRANULARITIES}, "
            f"got {lw['granularity']!r}"
        )
    if not lw["beta"] >= 0:
        raise ConfigError(f"{where}: {key}.beta must be >= 0, got {lw['beta']}")
    if not lw["lr_scale"] > 0:
        raise ConfigError(f"{where}: {key}.lr_scale must be > 0, got {lw['lr_scale']}")
    if lw["warmup_epochs"] < 0:
        raise ConfigError(f"{where}: {key}.warmup_epochs must be >= 0, got {lw['warmup_epochs']}")
    integer = q["weight_integer"]
    if not integer + 2 <= lw["max_bits"] <= 32:
        raise ConfigError(
            f"{where}: {key}.max_bits must be {integer + 2}..32 (sign, "
            f"quantization.weight_integer={integer} integer bits and at least one fractional "
            f"bit), got {lw['max_bits']}"
        )
    lo, hi = -(integer + 1), lw["max_bits"] - integer - 1
    if not lo <= lw["init_fractional_bits"] <= hi:
        raise ConfigError(
            f"{where}: {key}.init_fractional_bits must be in [{lo}, {hi}] (width 0 .. max_bits), "
            f"got {lw['init_fractional_bits']}"
        )
    q["learned_widths"] = lw


def layer_learned_widths(cfg: dict, input_key: str = "act_t") -> dict | None:
    """The `learned_widths` argument of a layer whose input has type quantization.<input_key>
    (model.learned.LearnedWidths' fields); None when the config has none."""
    lw = cfg["quantization"]["learned_widths"]
    if lw is None:
        return None
    return {
        "granularity": lw["granularity"],
        "init_fractional_bits": lw["init_fractional_bits"],
        "max_bits": lw["max_bits"],
        "lr_scale": lw["lr_scale"],
        "input_bits": Fx.parse(cfg["quantization"][input_key]).width,
    }


def input_type_key(layer_name: str) -> str:
    """The quantization key of the type a weight layer of build_model reads."""
    if layer_name == "embed_0":
        return "input_t"
    if layer_name == "pair_embed":
        return "pair_input_t"
    return "act_t"


def config_path(name_or_path) -> Path:
    """A model name (model/configs/<name>.yml) or a path to a YAML file."""
    return yamlconfig.config_path(name_or_path, CONFIG_DIR)


def load_config(name_or_path) -> dict:
    """Read and validate a model config; every error names the file and the key."""
    path = yamlconfig.find_config(name_or_path, CONFIG_DIR, "model")
    cfg = validate(read_yaml(path), SCHEMA, str(path))
    where = str(path)
    if cfg["data"]["features"] not in F.FEATURE_SETS:
        raise ConfigError(
            f"{where}: data.features must be one of {sorted(F.FEATURE_SETS)}, "
            f"got {cfg['data']['features']!r}"
        )
    for key in ("embed_dims", "pair_embed_dims"):
        dims = cfg["model"][key]
        if not dims or not all(isinstance(d, int) and d > 0 for d in dims):
            raise ConfigError(f"{where}: model.{key} must be a non-empty list of positive ints")
    m = cfg["model"]
    try:
        pairmode.pair_mode(cfg)
    except pairmode.PairModeError as err:
        raise ConfigError(f"{where}: {err}") from None
    if m["pooling"] not in POOLINGS:
        raise ConfigError(
            f"{where}: model.pooling must be one of {', '.join(POOLINGS)}, got {m['pooling']!r}"
        )
    if m["pooling"] == "sum" and m["num_cls_blocks"]:
        raise ConfigError(
            f"{where}: model.pooling: sum has no class token for model.num_cls_blocks="
            f"{m['num_cls_blocks']} class attentions to read (give 0)"
        )
    if m["embed_dims"][-1] % m["num_heads"]:
        raise ConfigError(
            f"{where}: model.embed_dims[-1]={m['embed_dims'][-1]} is not divisible "
            f"by model.num_heads={m['num_heads']}"
        )
    for key in _TYPE_KEYS:
        if cfg["quantization"][key] is None:  # qkv_t: act_t's
            continue
        try:
            Fx.parse(cfg["quantization"][key]).check_useful()
        except FxError as err:
            raise ConfigError(f"{where}: quantization.{key}: {err}") from None
    _check_learned(cfg, where)
    cfg["name"] = path.stem
    cfg["path"] = str(path)
    return cfg


def architecture_hash(cfg: dict, quantized: bool) -> str:
    """A fingerprint of everything that shapes the weights and the arithmetic: a checkpoint is
    only ever reused by a model with the same fingerprint. The on-chip pair-feature keys enter
    it only when they are used, so that models trained before they existed keep theirs."""
    key = {k: dict(cfg[k]) for k in ("data", "model")}
    mode = pairmode.pair_mode(key["model"].pop("pair_features", pairmode.DEFAULT))
    # at the only architecture before the keys, the hash of before
    for k in ("ffn_norm", "head_norm", "attn_norm"):
        if key["model"].get(k, True):
            key["model"].pop(k, None)
    if key["model"].get("pooling", "class_token") == "class_token":
        key["model"].pop("pooling", None)
    if mode.hash_name:
        key["model"]["pair_features"] = mode.name
    key["quantized"] = bool(quantized)
    if quantized:
        key["quantization"] = dict(cfg["quantization"])
        if key["quantization"].get("learned_widths") is None:  # off: the hash of before
            key["quantization"].pop("learned_widths", None)
        for k, default in _HASH_SILENT.items():
            if key["quantization"].get(k) == default:
                key["quantization"].pop(k, None)
        for k in mode.hash_drops:
            key["quantization"].pop(k, None)
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


PAIR_MODES = tuple(pairmode.MODES)  # model.pair_features
PAIR_MODE_LAYERS = pairmode.MODE_LAYERS  # layers that exist in some pair-feature modes only


def pair_mode(cfg: dict) -> str:
    """The name of what the model reads beside the particle features (data.pipeline's
    `pairs`); data.pairmode.pair_mode(cfg) gives its spec."""
    return pairmode.pair_mode(cfg).name


def num_classes(cfg: dict) -> int:
    return len(load_label_scheme(cfg["data"]["label_scheme"]).names)


def build_model(cfg: dict, quantized: bool | None = None):
    """The Keras model of a config; `quantized=False` builds its float twin."""
    import tensorflow as tf

    from model import layers as L

    quantized = cfg["model"]["quantized"] if quantized is None else quantized
    m, q = cfg["model"], cfg["quantization"]
    n, nf = cfg["data"]["n_particles"], len(F.feature_names(cfg["data"]["features"]))

    def t(key):
        return q[key] if quantized else None

    def lw(name):  # learned widths of the weight layer `name` (quantized models only)
        if not quantized:
            return {}
        return {"learned_widths": layer_learned_widths(cfg, input_type_key(name))}

    common = dict(
        quantized=quantized,
        weight_bits=q["weight_bits"],
        weight_integer=q["weight_integer"],
        bias_bits=q["bias_bits"],
        bias_integer=q["bias_integer"],
    )
    attn = dict(
        common,
        num_heads=m["num_heads"],
        norm=m["attn_norm"],
        norm_table_size=q["norm_table_size"],
        norm_var_range=q["norm_var_range"],
        norm_rsqrt_t=t("rsqrt_t"),
        norm_t=t("act_t"),
        qkv_t=t("qkv_t") or t("act_t"),
        logit_t=t("logit_t"),
        exp_table_size=q["exp_table_size"],
        exp_range=q["exp_range"],
        exp_t=t("exp_t"),
        inv_table_size=q["inv_table_size"],
        inv_t=t("inv_t"),
        attn_t=t("attn_t"),
        ctx_t=t("act_t"),
        result_t=t("act_t"),
    )
    norm = dict(
        common,
        table_size=q["norm_table_size"],
        var_range=q["norm_var_range"],
        rsqrt_t=t("rsqrt_t"),
        result_t=t("act_t"),
    )
    act = t("act_t")

    particles = tf.keras.Input((n, nf), name="particles")
    mask = tf.keras.Input((n,), name="mask")
    mode = pairmode.pair_mode(cfg)
    pairs = None
    if mode.input_name:
        pairs = tf.keras.Input(mode.input_shape(n), name=mode.input_name)
        u = L.FxQuant(result_t=t(mode.cast_type), name=mode.cast_layer, **common)(pairs)
        if mode.pair_features_layer:
            u = L.PairFeatures(
                result_t=t("pair_input_t"),
                name="pair_features",
                **(
                    {}
                    if not quantized
                    else dict(
                        angle_t=q["pair_angle_t"],
                        table_t=q["pair_table_t"],
                        ln_t=q["pair_ln_t"],
                        log_bits=q["pair_log_bits"],
                        angle_table_size=q["pair_angle_table_size"],
                        softplus_table_size=q["pair_softplus_table_size"],
                    )
                ),
                **common,
            )([u, mask])

    h = L.FxQuant(result_t=t("input_t"), name="particles_q", **common)(particles)
    for i, dim in enumerate(m["embed_dims"]):
        h = L.FxDense(dim, "relu", result_t=act, name=f"embed_{i}", **common, **lw(f"embed_{i}"))(h)
    if mode.pair_bias:
        u = L.PairEmbed(
            m["pair_embed_dims"],
            m["num_heads"],
            hidden_t=act,
            result_t=t("pair_t"),
            name="pair_embed",
            **common,
            **lw("pair_embed"),
        )(u)

    def ffn(x, prefix):
        y = L.FxLayerNorm(name=f"{prefix}_norm", **norm)(x) if m["ffn_norm"] else x
        y = L.FxDense(
            m["ffn_dim"], "relu", result_t=act, name=f"{prefix}_fc1", **common, **lw("fc")
        )(y)
        y = L.FxDense(x.shape[-1], result_t=act, name=f"{prefix}_fc2", **common, **lw("fc"))(y)
        return L.FxAdd(result_t=act, name=f"{prefix}_add", **common)([x, y])

    for b in range(m["num_blocks"]):
        a = L.ParticleAttention(name=f"block{b}_attn", **attn, **lw("attn"))(
            [h, u, mask] if mode.pair_bias else [h, mask]
        )
        h = L.FxAdd(result_t=act, name=f"block{b}_attn_add", **common)([h, a])
        h = ffn(h, f"block{b}_ffn")

    if m["pooling"] == "sum":
        cls = L.FxSumPool(result_t=act, name="pool", **common)([h, mask])
    else:
        cls = L.ClassToken(result_t=act, name="cls_token", **common)(h)
    for b in range(m["num_cls_blocks"]):
        a = L.ClassAttention(name=f"cls{b}_attn", **attn, **lw("attn"))([cls, h, mask])
        cls = L.FxAdd(result_t=act, name=f"cls{b}_attn_add", **common)([cls, a])
        cls = ffn(cls, f"cls{b}_ffn")

    if m["head_norm"]:
        cls = L.FxLayerNorm(name="head_norm", **norm)(cls)
    logits = L.FxDense(num_classes(cfg), result_t=act, name="head", **common, **lw("head"))(cls)
    logits = tf.keras.layers.Flatten(name="logits", dtype=L.DTYPE if quantized else L.FLOAT_DTYPE)(
        logits
    )
    suffix = "" if quantized else "-float"
    inputs = [particles, mask] if pairs is None else [particles, pairs, mask]
    return tf.keras.Model(inputs, logits, name=f"{cfg['name']}{suffix}")


def cost_report(model, cfg: dict) -> list[dict]:
    """Parameters, multiply-accumulates and bit operations per layer.

    BOPs = MACs x (weight bits x activation bits) for products with weights, and
    (activation bits)^2 for activation x activation products (q.k and a.v), as in the QKeras
    / HGQ literature. Float layers count 32 bits. Each layer counts its own MACs
    (model.layers: `macs()`); a layer with weights and no count is an error, never 0.
    EBOPs (quantized layers, HGQ's effective BOPs): each weight product counts the bits of that
    weight's value (0 when it is zero) times the width of the type it multiplies, and the
    activation x activation products as in BOPs; with uniform widths too, for comparison.
    """
    from model import layers as L

    q = cfg["quantization"]
    rows = []
    for layer in model.layers:
        quant = getattr(layer, "quantized", False)
        bw = q["weight_bits"] if quant else 32
        ba = as_fx(q["act_t"]).width if quant else 32
        if isinstance(layer, L._FxLayer):
            macs_w, macs_a = layer.macs()
        elif layer.weights:
            raise ConfigError(
                f"{layer.name}: {type(layer).__name__} has weights but no MAC count "
                "(a qpart layer's macs())"
            )
        else:  # InputLayer, Flatten, Reshape
            macs_w = macs_a = 0
        row = {
            "layer": layer.name,
            "type": type(layer).__name__,
            "params": int(layer.count_params()),
            "macs": int(macs_w + macs_a),
            "bops": int(macs_w * bw * ba + macs_a * ba * ba),
        }
        if quant and isinstance(layer, L._FxLayer):
            in_bits = Fx.parse(q[input_type_key(layer.name)]).width
            row["ebops"] = int(round(layer.ebops_value(in_bits) + macs_a * ba * ba))
        rows.append(row)
    return rows
