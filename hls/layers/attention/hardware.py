"""ParticleAttention, ClassAttention: a token loop ((pre-norm,) q/k/v projections of each
particle) and a query loop (per query: logits against every key, masked table softmax,
context, output projection). Class attention adds the class token's own row (its q, k, v)
and has one query. C++: nnet::qpart::particle_attention / class_attention."""

from __future__ import annotations

from dataclasses import dataclass

from hls.cost import Region
from hls.folding import Folding
from hls.fxtypes import add_type, dot_accum, shift_type, sub_type, sum_type, union_type
from hls.layers import sbits
from hls.layers.layernorm.hardware import layernorm_row
from model import tables

KERAS_CLASSES = ("ParticleAttention", "ClassAttention")


@dataclass(frozen=True)
class Spec:
    """An attention layer's shape and types, from the Keras layer or the hls4ml node."""

    particle: bool
    n: int  # particles
    dim: int
    heads: int
    n_kv: int  # keys: the particles (and the class token)
    x_t: object  # the particles' input type
    cls_t: object  # class attention: the class token's input type
    bias_in_t: object  # particle attention with pair bias: the bias input type, else None
    norm_table: tables.RsqrtTable
    bias_t: object
    weight_bits: int
    norm_t: object
    qkv_t: object
    logit_t: object
    exp_t: object
    inv_t: object
    attn_t: object
    ctx_t: object
    result_t: object
    shift: int
    exp_table_size: int
    inv_table_size: int
    norm: bool = True  # the pre-norm (model.attn_norm); without it norm_t is the input's type


def foldings(s: Spec, tokens: Folding) -> tuple[Folding, Folding]:
    """(token loop, query loop): the token loop folds the particles; the query loop the same
    over the particle queries, or one iteration for the class token (the only query)."""
    return tokens, tokens if s.particle else Folding(1, 1, tokens.reuse_factor)


def regions(s: Spec, tokens: Folding) -> dict:
    """{"class_token_row" (class attention only), "token_rows", "query_rows": Region}."""
    tok, qry = foldings(s, tokens)
    dim, heads, n_kv, hd = s.dim, s.heads, s.n_kv, s.dim // s.heads
    norm_in = norm_input(s.particle, s.x_t, s.cls_t)
    qkv, w = s.qkv_t, s.weight_bits

    def token_region(name, trips, lanes, with_q, in_t):
        r = Region(name, trips, tok.reuse_factor)
        if s.norm:
            layernorm_row(r, norm_in, dim, s.norm_table, s.bias_t, lanes)
        r.const_macs.append((lanes * (3 if with_q else 2) * dim * dim, w, sbits(s.norm_t)))
        r.adds.append((lanes * (3 if with_q else 2) * dim, qkv.width))
        r.muxes.append((lanes * dim * in_t.width, trips))
        return r

    out = {}
    if not s.particle:
        out["class_token_row"] = token_region("class_token_row", 1, 1, True, s.cls_t)
    out["token_rows"] = token_region("token_rows", tok.trips, tok.parallel, s.particle, s.x_t)
    p = qry.parallel
    q = Region("query_rows", qry.trips, qry.reuse_factor)
    dot = dot_accum(qkv, qkv, hd)
    logit, ldiff = s.logit_t, sub_type(s.logit_t, s.logit_t)
    q.var_mults += [
        (p * heads * n_kv * hd, sbits(qkv), sbits(qkv)),
        (p * heads * n_kv, sbits(s.exp_t), sbits(s.inv_t)),
        (p * n_kv * dim, sbits(s.attn_t), sbits(qkv)),
    ]
    q.const_macs.append((p * dim * dim, w, sbits(s.ctx_t)))
    hk = p * heads * n_kv
    if s.bias_in_t is not None:
        biased = add_type(shift_type(dot, s.shift), s.bias_in_t)
        q.adds.append((hk, biased.width))
        q.muxes.append((hk * s.bias_in_t.width, qry.trips))
    q.adds += [
        (hk, logit.width),
        (hk, logit.width),
        (hk, ldiff.width),
        (hk, sum_type(s.exp_t, n_kv).width),
        (hk, s.attn_t.width),
        (p * dim, s.ctx_t.width),
        (p * dim, s.result_t.width),
    ]
    q.selects.append((hk, s.exp_t.width))
    q.tables += [
        (hk, s.exp_table_size, s.exp_t.width),
        (p * heads, s.inv_table_size, s.inv_t.width),
    ]
    q.muxes.append((p * dim * qkv.width, qry.trips))
    q.mac_terms = max(n_kv, dim)
    out["query_rows"] = q
    return out


def template_params(s: Spec, tokens: Folding) -> dict:
    """The config struct's folding constants, read off the regions the estimate prices."""
    tok, qry = foldings(s, tokens)
    regs = regions(s, tokens)
    # the 1/sqrt table's copies (the one-entry placeholder without the pre-norm: 1)
    norm_copies = regs["token_rows"].rom_copies()[0] if s.norm else 1
    exp_copies, inv_copies = regs["query_rows"].rom_copies()
    return dict(
        tokens=tok,
        queries=qry,
        token_multiplier_limit=regs["token_rows"].multiplier_limit,
        query_multiplier_limit=regs["query_rows"].multiplier_limit,
        norm_copies=norm_copies,
        exp_copies=exp_copies,
        inv_copies=inv_copies,
    )


def norm_input(particle: bool, x_t, cls_t):
    """What the pre-norm reads, or the projections without it: x, and for the class attention
    the class token too (one type holding both exactly)."""
    return x_t if particle else union_type(x_t, cls_t)


def spec(layer, ctx) -> Spec:
    particle = type(layer).__name__ == "ParticleAttention"
    x_i = 0 if particle else 1
    cls_t = None if particle else ctx.in_t(layer, 0)
    return Spec(
        particle=particle,
        n=int(layer.input_shape[x_i][1]),
        dim=layer.dim,
        heads=layer.num_heads,
        n_kv=layer.n_keys,
        x_t=ctx.in_t(layer, x_i),
        cls_t=cls_t,
        bias_in_t=ctx.in_t(layer, 1) if particle and layer.pair_bias else None,
        norm_table=tables.RsqrtTable(
            layer.norm_table_size, layer.norm_var_range, layer.norm_rsqrt_t
        ),
        bias_t=layer.bias_t,
        weight_bits=layer.product_bits,
        norm_t=layer.norm_t
        if layer.use_norm
        else norm_input(particle, ctx.in_t(layer, x_i), cls_t),
        qkv_t=layer.qkv_t,
        logit_t=layer.logit_t,
        exp_t=layer.exp_t,
        inv_t=layer.inv_t,
        attn_t=layer.attn_t,
        ctx_t=layer.ctx_t,
        result_t=layer.result_t,
        shift=layer.shift,
        exp_table_size=layer.exp_table_size,
        inv_table_size=layer.inv_table_size,
        norm=layer.use_norm,
    )


def estimate(layer, ctx):
    s = spec(layer, ctx)
    tok = ctx.fold(layer, s.n)
    regs = list(regions(s, tok).values())
    n_q = s.n if s.particle else 1
    stored = (n_q + 2 * s.n_kv) * s.dim * s.qkv_t.width + n_q * s.dim * s.result_t.width
    return tok, regs, stored
