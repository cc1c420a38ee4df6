"""ParT's layers as Keras layers whose forward pass is the firmware's fixed-point arithmetic.

Every layer has a float mode (`quantized=False`: the float twin, and the full-size reference)
and a fixed-point mode. In fixed-point mode:
- weights and biases go through QKeras `quantized_bits(bits, integer, alpha=1)`, which is
  ap_fixed<bits, integer+1, AP_RND_CONV, AP_SAT>;
- every sum of products is exact (float64 holds it), and each named intermediate is cast to
  its `Fx` type with that type's rounding and overflow, exactly as the C++ in hls/nnet_utils;
- softmax and layer normalisation use lookup tables built once, here (model.tables), and
  written into the firmware unchanged;
- gradients are straight-through: casts pass the gradient, table lookups take the gradient of
  the float operation they approximate.

Tensors are float64 inside (the layers' dtype): the values are fixed-point numbers, held exactly.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from qkeras import quantized_bits

from model import learned, tables
from model.fixed import Fx, as_fx, narrowest_fx, quantize

DTYPE = "float64"  # fixed-point values held exactly
FLOAT_DTYPE = "float32"  # the float twin and the full-size reference: speed over exactness
NEG_INF = -1e9


def weight_fx(bits: int, integer: int) -> Fx:
    """The ap_fixed type of QKeras quantized_bits(bits, integer, alpha=1)."""
    return Fx(bits, integer + 1, True, "AP_RND_CONV", "AP_SAT")


def _qbits(bits, integer):
    return quantized_bits(bits, integer, keep_negative=True, alpha=1)


def _fx_str(t):
    return None if t is None else str(t)


def attention_shift(key_dim: int) -> int:
    """Logits are scaled by 2**-shift, the power of two nearest 1/sqrt(key_dim): a shift in
    hardware, and the same scale in the float twin."""
    return int(round(math.log2(math.sqrt(key_dim))))


class _FxLayer(tf.keras.layers.Layer):
    """Shared plumbing: float64 dtype, weight quantizers, config round trip of types."""

    _TYPE_ARGS: tuple = ()

    def __init__(
        self,
        quantized=True,
        weight_bits=8,
        weight_integer=0,
        bias_bits=12,
        bias_integer=3,
        learned_widths=None,
        **kwargs,
    ):
        kwargs.setdefault("dtype", DTYPE if quantized else FLOAT_DTYPE)
        super().__init__(**kwargs)
        self.quantized = bool(quantized)
        self.weight_bits, self.weight_integer = int(weight_bits), int(weight_integer)
        self.bias_bits, self.bias_integer = int(bias_bits), int(bias_integer)
        self._wq = _qbits(self.weight_bits, self.weight_integer)
        self._bq = _qbits(self.bias_bits, self.bias_integer)
        # learned per-weight widths (model.learned; quantized layers only): kernel -> its
        # trainable fractional bits, in creation order
        try:
            self.learned = learned.LearnedWidths.of(learned_widths) if quantized else None
        except (TypeError, learned.LearnedWidthError) as err:
            raise learned.LearnedWidthError(f"{self.name}: learned_widths: {err}") from None
        self._fbits = []  # [(kernel variable, fbits variable, name)]

    def add_kernel(self, name, shape, n_in=None, input_bits=None):
        """A kernel (n_in, n_out); with learned widths also its fractional bits `<name>_fbits`,
        one per weight or per output channel. `input_bits`: width of what it multiplies."""
        w = self.add_weight(name, shape, initializer="glorot_uniform")
        lw = self.learned
        if lw is not None:
            learned.check_float64(
                self.name, lw.max_bits, input_bits or lw.input_bits, n_in or int(shape[0])
            )
            lo, hi = lw.frac_range(self.weight_integer)
            fshape = shape if lw.granularity == "weight" else (1,) * (len(shape) - 1) + shape[-1:]
            f = self.add_weight(
                f"{name}_fbits",
                fshape,
                initializer=tf.keras.initializers.Constant(lw.init_fractional_bits / lw.lr_scale),
                constraint=lambda v: tf.clip_by_value(v, lo / lw.lr_scale, hi / lw.lr_scale),
            )
            self._fbits.append((w, f, name))
        return w

    def _fbits_of(self, w):
        for k, f, _ in self._fbits:
            if k is w:
                return f
        raise learned.LearnedWidthError(
            f"{self.name}: learned widths quantize the layer's own kernels only "
            "(model.learned.quantize_np with their _fbits for a copy)"
        )

    def learned_kernels(self) -> list:
        """[(name, float kernel, stored fractional bits)] as numpy arrays (learned widths only;
        model.learned's functions take the stored value)."""
        return [(n, k.numpy(), f.numpy()) for k, f, n in self._fbits]

    def quantized_kernels(self) -> list:
        """[(name, quantized kernel)] as the forward pass uses them (numpy)."""
        if self.learned is not None:
            return [
                (n, learned.quantize_np(k, f, self.weight_integer, self.learned))
                for n, k, f in self.learned_kernels()
            ]
        return [(n, np.asarray(self.qw(k).numpy())) for n, k in self.kernels()]

    def kernels(self) -> list:
        """[(name, kernel variable)] of the weights that go through the weight quantizer."""
        return [(n, getattr(self, n)) for n in self._kernel_names()]

    def _kernel_names(self) -> list:
        return []

    def kernel_uses(self, input_bits: int) -> dict:
        """{kernel name: (products per weight and jet, width of the activation it multiplies)}
        with `input_bits` the width of the layer's input: the EBOPs' weights."""
        return {}

    def _input_bits(self, input_bits):
        if input_bits is None:
            if self.learned is None:
                raise ValueError(f"{self.name}: EBOPs need the width of the layer's input")
            return self.learned.input_bits
        return int(input_bits)

    @property
    def weight_t(self) -> Fx:
        """The firmware's weight type. Learned widths: the narrowest type holding every learned
        value of the built layer (before it is built: the widest possible, max_bits)."""
        if self.learned is not None:
            if self._fbits and self.built:
                return narrowest_fx(
                    np.concatenate([q.ravel() for _, q in self.quantized_kernels()])
                )
            return weight_fx(self.learned.max_bits, self.weight_integer)
        return weight_fx(self.weight_bits, self.weight_integer)

    @property
    def product_bits(self) -> float:
        """The width the estimate prices a constant product at: the weight width, or with
        learned widths the mean over the kept (non-zero) weights of each weight's width within
        the firmware type ap_fixed<W, I>: I + its fractional bits, at most W."""
        if self.learned is None or not self._fbits:
            return self.weight_bits
        t = self.weight_t
        widths = [
            np.minimum(
                t.integer
                + np.broadcast_to(learned.frac_np(f, self.weight_integer, self.learned), q.shape),
                t.width,
            )[q != 0]
            for (_, q), (_, _, f) in zip(self.quantized_kernels(), self.learned_kernels())
        ]
        kept = np.concatenate(widths)
        return float(kept.mean()) if kept.size else 0.0

    def ebops(self, input_bits=None):
        """Differentiable EBOPs of the learned kernels (HGQ): sum over weights of bits x the
        width of the activation multiplied x uses per jet. 0.0 without learned widths."""
        if self.learned is None or not self._fbits:
            return tf.constant(0.0, tf.float64)
        uses = self.kernel_uses(self._input_bits(input_bits))
        total = []
        for k, f, name in self._fbits:
            n, bits_in = uses[name]
            q = learned.quantize(k, f, self.weight_integer, self.learned)
            deg = 1 if self.learned.granularity == "weight" else int(k.shape[0])
            b = learned.ebops_bits(q, f, self.weight_integer, self.learned, deg)
            total.append(float(n * bits_in) * tf.reduce_sum(b))
        return tf.add_n(total)

    def ebops_value(self, input_bits=None) -> float:
        """EBOPs of the weight products as they are (numpy): learned or uniform widths alike
        (uniform: every weight's fractional bits are weight_bits - weight_integer - 1)."""
        if not self._kernel_names():
            return 0.0
        uses = self.kernel_uses(self._input_bits(input_bits))
        total = 0.0
        if self.learned is not None:
            for (n, k, f), (_, q) in zip(self.learned_kernels(), self.quantized_kernels()):
                frac = learned.frac_np(f, self.weight_integer, self.learned)
                total += uses[n][0] * uses[n][1] * float(learned.ebops_bits_np(q, frac).sum())
            return total
        frac = self.weight_bits - self.weight_integer - 1
        for n, q in self.quantized_kernels():
            total += uses[n][0] * uses[n][1] * float(learned.ebops_bits_np(q, frac).sum())
        return total

    @property
    def bias_t(self) -> Fx:
        return weight_fx(self.bias_bits, self.bias_integer)

    def macs(self) -> tuple[int, int]:
        """(weight x activation, activation x activation) multiply-accumulates of one jet, as
        builder.cost_report counts them for BOPs. Every qpart layer says its own: a new layer
        without this method is an error there, not a free layer."""
        raise NotImplementedError(f"{type(self).__name__} ({self.name}) does not count its MACs")

    def qw(self, w):
        """Quantized kernel (straight-through inside QKeras; learned widths: model.learned)."""
        if not self.quantized:
            return w
        if self.learned is not None:
            return learned.quantize(w, self._fbits_of(w), self.weight_integer, self.learned)
        return tf.cast(self._wq(w), self.dtype)

    def qb(self, b):
        return tf.cast(self._bq(b), self.dtype) if self.quantized else b

    def q(self, x, t):
        return quantize(x, t) if self.quantized else x

    def get_config(self):
        cfg = super().get_config()
        cfg.update(
            quantized=self.quantized,
            weight_bits=self.weight_bits,
            weight_integer=self.weight_integer,
            bias_bits=self.bias_bits,
            bias_integer=self.bias_integer,
        )
        if self.learned is not None:
            cfg["learned_widths"] = self.learned.as_dict()
        for name in self._TYPE_ARGS:
            cfg[name] = _fx_str(getattr(self, name))
        return cfg


class FxQuant(_FxLayer):
    """Casts an input to the firmware's input type (the C++ testbench does the same cast)."""

    _TYPE_ARGS = ("result_t",)

    def __init__(self, result_t=None, **kwargs):
        super().__init__(**kwargs)
        self.result_t = as_fx(result_t)

    def macs(self) -> tuple[int, int]:
        """A cast: no products."""
        return 0, 0

    def call(self, x):
        return self.q(tf.cast(x, self.dtype), self.result_t)


class FxDense(_FxLayer):
    """Dense over the last axis of any-rank input (per particle / per pair), optional ReLU.

    y = relu?(cast_result(x . W + b)); the sum is exact.
    """

    _TYPE_ARGS = ("result_t",)

    def __init__(self, units, activation="linear", result_t=None, **kwargs):
        super().__init__(**kwargs)
        if activation not in ("linear", "relu"):
            raise ValueError(f"{self.name}: activation must be 'linear' or 'relu'")
        self.units, self.activation = int(units), activation
        self.result_t = as_fx(result_t)

    def build(self, input_shape):
        self.kernel = self.add_kernel("kernel", (int(input_shape[-1]), self.units))
        self.bias = self.add_weight("bias", (self.units,), initializer="zeros")
        super().build(input_shape)

    def _kernel_names(self):
        return ["kernel"]

    def kernel_uses(self, input_bits):
        return {"kernel": (math.prod(int(d) for d in self.input_shape[1:-1]), input_bits)}

    def macs(self) -> tuple[int, int]:
        """Every row (all axes but the last) times the kernel."""
        rows = math.prod(int(d) for d in self.input_shape[1:-1])
        return rows * int(self.kernel.shape[0]) * int(self.kernel.shape[1]), 0

    def call(self, x):
        y = tf.tensordot(x, self.qw(self.kernel), axes=[[-1], [0]]) + self.qb(self.bias)
        y = self.q(y, self.result_t)
        return tf.nn.relu(y) if self.activation == "relu" else y

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation}


class FxAdd(_FxLayer):
    """Residual sum a + b, cast to `result_t`."""

    _TYPE_ARGS = ("result_t",)

    def __init__(self, result_t=None, **kwargs):
        super().__init__(**kwargs)
        self.result_t = as_fx(result_t)

    def macs(self) -> tuple[int, int]:
        """A sum: no products."""
        return 0, 0

    def call(self, inputs):
        a, b = inputs
        return self.q(a + b, self.result_t)


class LayerNormFx:
    """Layer normalisation over the last axis, the firmware's way.

    mean and variance are exact (the dimension is a power of two, so /dim is a shift); the
    variance indexes a 1/sqrt table (truncation to `table_size` bins over [0, 2**var_range));
    y = cast_result((x - mean) * rsqrt * gamma + beta). A plain helper rather than a layer, so
    the attention layers can own their pre-norm's weights.
    """

    def __init__(
        self,
        owner: _FxLayer,
        dim,
        table_size,
        var_range,
        rsqrt_t,
        result_t,
        prefix="norm",
        eps=1e-5,
    ):
        self.owner, self.dim = owner, int(dim)
        if owner.quantized and (self.dim & (self.dim - 1)):
            raise ValueError(
                f"{owner.name}: fixed-point layer norm needs a power-of-two "
                f"dimension, got {self.dim}"
            )
        self.table = (
            tables.RsqrtTable(int(table_size), int(var_range), as_fx(rsqrt_t))
            if owner.quantized
            else None
        )
        self.result_t = as_fx(result_t)
        self.eps = eps
        self.gamma = owner.add_weight(f"{prefix}_gamma", (self.dim,), initializer="ones")
        self.beta = owner.add_weight(f"{prefix}_beta", (self.dim,), initializer="zeros")

    def __call__(self, x):
        o = self.owner
        # gamma takes the bias quantizer: it sits near 1, which an ap_fixed<8,1> cannot hold.
        gamma, beta = o.qb(self.gamma), o.qb(self.beta)
        mean = tf.reduce_mean(x, axis=-1, keepdims=True)
        d = x - mean
        var = tf.reduce_mean(tf.square(d), axis=-1, keepdims=True)
        y_float = d * tf.math.rsqrt(var + self.eps) * gamma + beta
        if not o.quantized:
            return y_float
        rsqrt = self.table.lookup(var)
        y = quantize(d * rsqrt * gamma + beta, self.result_t, ste=False)
        # exactly y forward (y_float + (y - y_float) can be off by an ulp), y_float's gradient
        return tf.stop_gradient(y) + (y_float - tf.stop_gradient(y_float))


class FxLayerNorm(_FxLayer):
    """Layer normalisation as a layer (before the feed-forward network and the classifier)."""

    _TYPE_ARGS = ("rsqrt_t", "result_t")

    def __init__(
        self,
        table_size=1024,
        var_range=4,
        rsqrt_t="ap_ufixed<18,6,AP_RND_CONV,AP_SAT>",
        result_t=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.table_size, self.var_range = int(table_size), int(var_range)
        self.rsqrt_t, self.result_t = as_fx(rsqrt_t), as_fx(result_t)

    def build(self, input_shape):
        self.norm = LayerNormFx(
            self, input_shape[-1], self.table_size, self.var_range, self.rsqrt_t, self.result_t
        )
        super().build(input_shape)

    def macs(self) -> tuple[int, int]:
        """Not counted: BOPs count the products with weights and the attention's q.k and a.v."""
        return 0, 0

    def call(self, x):
        return self.norm(x)

    def get_config(self):
        return {**super().get_config(), "table_size": self.table_size, "var_range": self.var_range}


class PairEmbed(_FxLayer):
    """Pointwise dense stack over the pair features -> one attention bias per head.

    (B, N, N, 4) -> (B, H, N, N). Hidden layers use ReLU; the last is linear. Pair features
    are symmetric, so is the output (the firmware computes only i <= j).
    """

    _TYPE_ARGS = ("hidden_t", "result_t")

    def __init__(self, dims=(8,), num_heads=2, hidden_t=None, result_t=None, **kwargs):
        super().__init__(**kwargs)
        self.dims, self.num_heads = [int(d) for d in dims], int(num_heads)
        self.hidden_t, self.result_t = as_fx(hidden_t), as_fx(result_t)

    def build(self, input_shape):
        # Separate attributes, not lists: Keras' saving tracks list members twice.
        n_in = int(input_shape[-1])
        for i, n_out in enumerate(self.dims + [self.num_heads]):
            setattr(
                self,
                f"kernel_{i}",
                self.add_kernel(
                    f"kernel_{i}",
                    (n_in, n_out),
                    input_bits=None if i == 0 or self.hidden_t is None else self.hidden_t.width,
                ),
            )
            setattr(self, f"bias_{i}", self.add_weight(f"bias_{i}", (n_out,), initializer="zeros"))
            n_in = n_out
        super().build(input_shape)

    def _kernel_names(self):
        return [f"kernel_{i}" for i in range(len(self.dims) + 1)]

    def kernel_uses(self, input_bits):
        """Per distinct pair (N(N+1)/2); the hidden layers multiply hidden_t."""
        n = int(self.input_shape[1])
        pairs = n * (n + 1) // 2
        hidden = self.hidden_t.width if self.hidden_t is not None else input_bits
        return {
            k: (pairs, input_bits if i == 0 else hidden) for i, k in enumerate(self._kernel_names())
        }

    @property
    def stack(self):
        """[(kernel, bias), ...] from the pair features to the heads."""
        return [
            (getattr(self, f"kernel_{i}"), getattr(self, f"bias_{i}"))
            for i in range(len(self.dims) + 1)
        ]

    def macs(self) -> tuple[int, int]:
        """The N(N+1)/2 distinct pairs the firmware computes (the features are symmetric)."""
        n = int(self.input_shape[1])
        return n * (n + 1) // 2 * sum(int(k.shape[0] * k.shape[1]) for k, _ in self.stack), 0

    def call(self, x):
        last = len(self.dims)
        for i, (w, b) in enumerate(self.stack):
            x = tf.tensordot(x, self.qw(w), axes=[[-1], [0]]) + self.qb(b)
            if i < last:
                x = tf.nn.relu(self.q(x, self.hidden_t))
            else:
                x = self.q(x, self.result_t)
        return tf.transpose(x, (0, 3, 1, 2))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims, "num_heads": self.num_heads}


class _Attention(_FxLayer):
    """Multi-head attention with an optional additive bias per head and a key padding mask.

    Fixed-point path per head and query (h = the pre-norm's output, or x itself with
    `norm=False`: a layer norm is about 27 of alkaid's delay units in series on the RTL route):
      q, k, v  = cast_qkv(h . W + b)
      logit_j  = cast_logit(q . k_j * 2**-shift + bias_j)
      e_j      = exp_table[trunc(max_unmasked(logit) - logit_j)]   (0 for a masked key)
      a_j      = cast_attn(e_j * inv_table[trunc(sum_j e_j)])
      ctx      = cast_ctx(sum_j a_j v_j);   out = cast_result(concat_heads(ctx) . Wo + bo)
    """

    _TYPE_ARGS = (
        "norm_rsqrt_t",
        "norm_t",
        "qkv_t",
        "logit_t",
        "exp_t",
        "inv_t",
        "attn_t",
        "ctx_t",
        "result_t",
    )

    def __init__(
        self,
        num_heads=2,
        norm=True,
        norm_table_size=1024,
        norm_var_range=4,
        norm_rsqrt_t="ap_ufixed<18,6,AP_RND_CONV,AP_SAT>",
        norm_t=None,
        qkv_t=None,
        logit_t=None,
        exp_table_size=1024,
        exp_range=3,
        exp_t="ap_ufixed<18,1,AP_RND_CONV,AP_SAT>",
        inv_table_size=1024,
        inv_t="ap_ufixed<18,1,AP_RND_CONV,AP_SAT>",
        attn_t=None,
        ctx_t=None,
        result_t=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.use_norm = bool(norm)
        self.norm_table_size, self.norm_var_range = int(norm_table_size), int(norm_var_range)
        self.exp_table_size, self.exp_range = int(exp_table_size), int(exp_range)
        self.inv_table_size = int(inv_table_size)
        for name in self._TYPE_ARGS:
            setattr(self, name, as_fx(locals()[name]))

    def _build_common(self, dim, n_keys):
        if dim % self.num_heads:
            raise ValueError(
                f"{self.name}: dimension {dim} is not divisible by " f"{self.num_heads} heads"
            )
        self.dim, self.key_dim = dim, dim // self.num_heads
        self.shift = attention_shift(self.key_dim)
        self.n_keys = n_keys
        self.norm = (
            LayerNormFx(
                self, dim, self.norm_table_size, self.norm_var_range, self.norm_rsqrt_t, self.norm_t
            )
            if self.use_norm
            else None
        )
        bits = {
            c: (t.width if t is not None else None)
            for c, t in (("n", self.norm_t if self.use_norm else None), ("c", self.ctx_t))
        }
        self.wq, self.wk, self.wv, self.wo = (
            self.add_kernel(f"w{c}", (dim, dim), input_bits=bits["c" if c == "o" else "n"])
            for c in "qkvo"
        )
        self.bq, self.bk, self.bv, self.bo = (
            self.add_weight(f"b{c}", (dim,), initializer="zeros") for c in "qkvo"
        )
        if self.quantized:
            self.exp_table = tables.ExpTable(self.exp_table_size, self.exp_range, self.exp_t)
            self.inv_table = tables.InvTable(self.inv_table_size, n_keys, self.inv_t)

    def _kernel_names(self):
        return ["wq", "wk", "wv", "wo"]

    def kernel_uses(self, input_bits):
        """q and o per query, k and v per key; they multiply norm_t and ctx_t."""
        nk = self.n_keys
        nq = nk if isinstance(self, ParticleAttention) else 1
        bn = self.norm_t.width if self.use_norm and self.norm_t is not None else input_bits
        bc = self.ctx_t.width if self.ctx_t is not None else input_bits
        return {"wq": (nq, bn), "wk": (nk, bn), "wv": (nk, bn), "wo": (nq, bc)}

    def macs(self) -> tuple[int, int]:
        """q and output projections per query, k and v per key; q.k and a.v over all heads."""
        e, nk = self.dim, self.n_keys
        nq = nk if isinstance(self, ParticleAttention) else 1
        return (nq + nk) * e * e * 2, 2 * nq * nk * e

    def _heads(self, x, w, b):
        """(B, T, E) -> cast (B, H, T, d)."""
        y = self.q(tf.tensordot(x, self.qw(w), axes=[[-1], [0]]) + self.qb(b), self.qkv_t)
        shape = tf.shape(y)
        y = tf.reshape(y, (shape[0], shape[1], self.num_heads, self.key_dim))
        return tf.transpose(y, (0, 2, 1, 3))

    def _attend(self, xq, xkv, mask, bias=None):
        q, k, v = (
            self._heads(xq, self.wq, self.bq),
            self._heads(xkv, self.wk, self.bk),
            self._heads(xkv, self.wv, self.bv),
        )
        logits = tf.einsum("bhqd,bhkd->bhqk", q, k) * (2.0**-self.shift)
        if bias is not None:
            logits = logits + bias
        logits = self.q(logits, self.logit_t)
        keep = mask[:, None, None, :] > 0
        p_float = tf.nn.softmax(tf.where(keep, logits, NEG_INF), axis=-1)
        p_float = tf.where(keep, p_float, 0.0)
        if self.quantized:
            p = self._softmax_fx(logits, keep)
            p = tf.stop_gradient(p) + (p_float - tf.stop_gradient(p_float))  # exactly p
        else:
            p = p_float
        ctx = self.q(tf.einsum("bhqk,bhkd->bhqd", p, v), self.ctx_t)
        shape = tf.shape(ctx)
        ctx = tf.reshape(tf.transpose(ctx, (0, 2, 1, 3)), (shape[0], shape[2], self.dim))
        out = tf.tensordot(ctx, self.qw(self.wo), axes=[[-1], [0]]) + self.qb(self.bo)
        return self.q(out, self.result_t)

    def _pre_norm(self, x):
        return self.norm(x) if self.norm is not None else x

    def _softmax_fx(self, logits, keep):
        lowest = tf.constant(self.logit_t.min, self.dtype)
        top = tf.reduce_max(tf.where(keep, logits, lowest), axis=-1, keepdims=True)
        e = tf.where(keep, self.exp_table.lookup(top - logits), 0.0)
        total = tf.reduce_sum(e, axis=-1, keepdims=True)
        return quantize(e * self.inv_table.lookup(total), self.attn_t, ste=False)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "norm": self.use_norm,
            "norm_table_size": self.norm_table_size,
            "norm_var_range": self.norm_var_range,
            "exp_table_size": self.exp_table_size,
            "exp_range": self.exp_range,
            "inv_table_size": self.inv_table_size,
        }


class ParticleAttention(_Attention):
    """(Pre-norm) particle self-attention with the pair-interaction bias: (x, bias, mask) -> out,
    or without it (the plain transformer): (x, mask) -> out.

    x (B, N, E), bias (B, H, N, N), mask (B, N). Padded particles are masked as keys; their own
    rows are computed but never read by a real particle or the class token.
    """

    def build(self, input_shape):
        x_shape = input_shape[0]
        self.pair_bias = len(input_shape) == 3
        self._build_common(int(x_shape[-1]), int(x_shape[1]))
        super().build(input_shape)

    def call(self, inputs):
        x, mask = inputs[0], inputs[-1]
        bias = inputs[1] if len(inputs) == 3 else None
        h = self._pre_norm(x)
        return self._attend(h, h, tf.cast(mask, self.dtype), bias)


class ClassAttention(_Attention):
    """Class-token attention (CaiT / ParT): (cls, x, mask) -> out for the token, (B, 1, E).

    Query: the (normalised) class token; keys and values: the token followed by the
    particles, normalised alike, padded particles masked.
    """

    def build(self, input_shape):
        x_shape = input_shape[1]
        self._build_common(int(x_shape[-1]), int(x_shape[1]) + 1)
        super().build(input_shape)

    def call(self, inputs):
        cls, x, mask = inputs
        hc, hx = self._pre_norm(cls), self._pre_norm(x)
        mask = tf.cast(mask, self.dtype)
        keys = tf.concat([hc, hx], axis=1)
        mask = tf.concat([tf.ones_like(mask[:, :1]), mask], axis=1)
        return self._attend(hc, keys, mask)


class PairFeatures(_FxLayer):
    """ParT's four pair features from the particle list, as the firmware computes them on chip.

    (B, N, 3) per-particle [ln pT, eta, phi] (eta, phi relative to the jet axis: JetClass's
    part_deta, part_dphi) and the (B, N) mask -> (B, N, N, 4) standardised, clipped
    [ln Delta, ln kT, ln z, ln m^2], zero where either particle is padding; symmetric by
    construction. Approximations (massless particles, pseudorapidity for rapidity) and the
    fixed-point path, every step exact until a named cast:

      da, db   = eta_i - eta_j, phi_i - phi_j;  a2, b2 = da^2, db^2
      ln d2    = cast_ln(log_table(a2 + b2))    leading-one ln (tables.LogTable); ln 0 = ln_t.min
      c        = a2 F(|da|) + b2 G(|db|)      = cosh da - cos db without cancellation
      ln Delta = ln d2 / 2;   ln kT = min(ln pT) + ln Delta
      ln z     = -(d + softplus_table(d)),  d = |ln pT_i - ln pT_j|
      ln m^2   = ln 2 + ln pT_i + ln pT_j + cast_ln(log_table(c))
      out      = cast_result(clip((f - center) * scale, -CLIP, CLIP))   (PAIR_STD, quantized)

    The float mode computes the same formulas with exact functions (the float twin).
    """

    _TYPE_ARGS = ("lpt_t", "angle_t", "table_t", "ln_t", "result_t")

    def __init__(
        self,
        lpt_t="ap_fixed<12,4,AP_RND_CONV,AP_SAT>",
        angle_t="ap_fixed<12,2,AP_RND_CONV,AP_SAT>",
        table_t="ap_ufixed<18,0,AP_RND_CONV,AP_SAT>",
        ln_t="ap_fixed<18,6,AP_RND_CONV,AP_SAT>",
        result_t=None,
        log_bits=10,
        angle_table_size=256,
        softplus_table_size=1024,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.lpt_t, self.angle_t, self.table_t = as_fx(lpt_t), as_fx(angle_t), as_fx(table_t)
        self.ln_t, self.result_t = as_fx(ln_t), as_fx(result_t)
        self.log_bits = int(log_bits)
        self.angle_table_size, self.softplus_table_size = (
            int(angle_table_size),
            int(softplus_table_size),
        )
        from data.features import CLIP, PAIR_FEATURES, PAIR_STD

        self.clip = float(CLIP)
        self.center = [PAIR_STD[k][0] for k in PAIR_FEATURES]
        self.scale = [PAIR_STD[k][1] for k in PAIR_FEATURES]
        if self.quantized:
            at = self.angle_t
            # |eta_i - eta_j| < 2 * 2**(integer - 1): the angle tables span [0, 2**at.integer)
            self.cosh_table = tables.CoshTable(self.angle_table_size, at.integer, self.table_t)
            self.cos_table = tables.CosTable(self.angle_table_size, at.integer, self.table_t)
            self.softplus_table = tables.SoftplusTable(
                self.softplus_table_size, self.lpt_t.integer, self.table_t
            )
            self.log_table = tables.LogTable(self.log_bits, self.table_t, self.table_t)
            self.center = quantize_np_list(self.center, Fx(8, 4, True))
            self.scale = quantize_np_list(self.scale, Fx(10, 0, False))

    def macs(self) -> tuple[int, int]:
        """Not counted: table reads and a few products per pair, no weights."""
        return 0, 0

    def call(self, inputs):
        kin, mask = inputs
        kin = tf.cast(kin, self.dtype)
        mask = tf.cast(mask, self.dtype)
        lpt, eta, phi = (kin[..., 0], kin[..., 1], kin[..., 2])
        if self.quantized:
            lpt, eta, phi = (
                quantize(lpt, self.lpt_t),
                quantize(eta, self.angle_t),
                quantize(phi, self.angle_t),
            )
        da = eta[:, :, None] - eta[:, None, :]
        db = phi[:, :, None] - phi[:, None, :]
        a2, b2 = da * da, db * db
        lo = tf.minimum(lpt[:, :, None], lpt[:, None, :])
        hi = tf.maximum(lpt[:, :, None], lpt[:, None, :])
        d = hi - lo
        if self.quantized:
            feats = self._fixed(
                a2, b2, tf.abs(da), tf.abs(db), lo, d, lpt[:, :, None] + lpt[:, None, :]
            )
        else:
            eps = 1e-8
            ln_delta = 0.5 * tf.math.log(tf.maximum(a2 + b2, eps))
            c = tf.math.cosh(da) - tf.math.cos(db)
            feats = [
                ln_delta,
                lo + ln_delta,
                -(d + tf.math.log1p(tf.exp(-d))),
                math.log(2.0) + lpt[:, :, None] + lpt[:, None, :] + tf.math.log(tf.maximum(c, eps)),
            ]
        out = []
        for f, c, s in zip(feats, self.center, self.scale):
            y = tf.clip_by_value((f - c) * s, -self.clip, self.clip)
            out.append(self.q(y, self.result_t))
        pair_mask = mask[:, :, None] * mask[:, None, :]
        return tf.stack(out, axis=-1) * pair_mask[..., None]

    def _fixed(self, a2, b2, abs_da, abs_db, lo, d, lpt_sum):
        af, tf_ = self.angle_t.frac, self.table_t.frac
        d2_bits = 2 * self.angle_t.width + 1  # a2 + b2 < 2**(2 * (width - 1) + 1) raw units
        d2 = (a2 + b2) * 2.0 ** (2 * af)
        c = a2 * self.cosh_table.lookup(abs_da) + b2 * self.cos_table.lookup(abs_db)
        c = c * 2.0 ** (2 * af + tf_)
        # ln of 0 (coincident particles): the ln type's minimum, as weaver-core's eps clamp
        ln_d2, ln_c = (
            tf.where(
                raw > 0, quantize(self.log_table.lookup(raw, frac, bits), self.ln_t), self.ln_t.min
            )
            for raw, frac, bits in ((d2, 2 * af, d2_bits), (c, 2 * af + tf_, d2_bits + tf_))
        )
        ln_delta = ln_d2 / 2.0
        return [
            ln_delta,
            lo + ln_delta,
            -(d + self.softplus_table.lookup(d)),
            self.log_table.ln2 + lpt_sum + ln_c,
        ]

    def get_config(self):
        return {
            **super().get_config(),
            "log_bits": self.log_bits,
            "angle_table_size": self.angle_table_size,
            "softplus_table_size": self.softplus_table_size,
        }


def quantize_np_list(values, t: Fx) -> list[float]:
    from model.fixed import quantize_np

    return [float(v) for v in quantize_np(values, t)]


class ClassToken(_FxLayer):
    """The learned class token, (B, N, E) -> (B, 1, E); the input only sets the batch size."""

    _TYPE_ARGS = ("result_t",)

    def __init__(self, result_t=None, **kwargs):
        super().__init__(**kwargs)
        self.result_t = as_fx(result_t)

    def build(self, input_shape):
        self.token = self.add_weight(
            "token",
            (1, 1, int(input_shape[-1])),
            initializer=tf.keras.initializers.TruncatedNormal(0.0, 0.02),
        )
        super().build(input_shape)

    def macs(self) -> tuple[int, int]:
        """A constant: no products."""
        return 0, 0

    def call(self, x):
        token = self.q(self.token, self.result_t)
        return tf.tile(token, (tf.shape(x)[0], 1, 1))


class FxSumPool(_FxLayer):
    """Pooling over the particles: (x (B, N, E), mask (B, N)) -> (B, 1, E) for the head, in
    place of the class token and its attention blocks (model.pooling: sum).

      y = cast_result(sum_{real j} x_j * 2**-shift),   shift = ceil(log2 N)

    the sum exact, the scale a rewiring (a mean over the N slots, not over the real particles,
    which would need a division). One adder tree per feature: log2(N) adders deep, where a
    class attention is a softmax and two projections deep.
    """

    _TYPE_ARGS = ("result_t",)

    def __init__(self, result_t=None, **kwargs):
        super().__init__(**kwargs)
        self.result_t = as_fx(result_t)

    def build(self, input_shape):
        self.shift = pool_shift(int(input_shape[0][1]))
        super().build(input_shape)

    def macs(self) -> tuple[int, int]:
        """A masked sum: no products."""
        return 0, 0

    def call(self, inputs):
        x, mask = inputs
        keep = tf.cast(mask, self.dtype)[:, :, None] > 0
        total = tf.reduce_sum(tf.where(keep, x, 0.0), axis=1, keepdims=True)
        return self.q(total * (2.0**-self.shift), self.result_t)


def pool_shift(n: int) -> int:
    """FxSumPool's sum is scaled by 2**-shift, the power of two at or above the N slots."""
    return max(0, math.ceil(math.log2(n)))


CUSTOM_OBJECTS = {
    cls.__name__: cls
    for cls in (
        FxQuant,
        FxDense,
        FxAdd,
        FxLayerNorm,
        PairEmbed,
        PairFeatures,
        ParticleAttention,
        ClassAttention,
        ClassToken,
        FxSumPool,
    )
}
