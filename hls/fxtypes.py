"""Fixed-point types on the HLS side: the exact types of every intermediate, derived in Python.

The Keras layers (model/layers.py) cast only their named intermediates (`norm_t`, `qkv_t`,
`logit_t`, ...); everything between two casts is exact there (float64). The C++ must compute the
same exact values, so every sum, product, difference and shift in hls/nnet_utils gets a type
derived here that can neither round nor overflow, and is written into the layer's config struct
as a typedef. hls4ml never infers any of these ('auto' types round and wrap).

`CType` is such an exact type: ap_fixed<W, I> / ap_ufixed<W, I> with the C++ defaults AP_TRN,
AP_WRAP (never exercised: the values always fit). It is not limited to 64 bits like `Fx`.
The named casts keep their `Fx` (rounding and overflow modes included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.errors import QpartError
from model.fixed import FLOAT64_BITS, Fx


@dataclass(frozen=True)
class CType:
    width: int
    integer: int
    signed: bool = True

    @property
    def frac(self) -> int:
        return self.width - self.integer

    @property
    def signed_integer(self) -> int:
        """Integer bits this type needs as a signed type."""
        return self.integer if self.signed else self.integer + 1

    def cpp(self) -> str:
        return f"ap_{'' if self.signed else 'u'}fixed<{self.width},{self.integer}>"

    __str__ = cpp


def ctype(t) -> CType:
    """Fx, CType or an hls4ml precision -> CType (the range only: exact types ignore modes)."""
    if isinstance(t, CType):
        return t
    if isinstance(t, Fx):
        return CType(t.width, t.integer, t.signed)
    width, signed = int(t.width), bool(t.signed)
    integer = int(getattr(t, "integer", width))
    return CType(width, integer, signed)


def fx_of_precision(p) -> Fx:
    """hls4ml FixedPrecisionType / IntegerPrecisionType -> Fx (modes included)."""
    rnd = getattr(p, "rounding_mode", None)
    sat = getattr(p, "saturation_mode", None)
    rnd = "AP_" + rnd.name if rnd is not None else "AP_TRN"
    sat = "AP_" + sat.name if sat is not None else "AP_WRAP"
    return Fx(int(p.width), int(getattr(p, "integer", p.width)), bool(p.signed), rnd, sat)


def precision_of(t):
    """Fx or CType -> hls4ml precision type (through the backend's own parser)."""
    from hls4ml.backends import get_backend

    return get_backend("Vivado").convert_precision_string(str(t))


def clog2(n: int) -> int:
    return max(0, math.ceil(math.log2(max(int(n), 1))))


def mul_type(a, b) -> CType:
    """Exact a*b."""
    a, b = ctype(a), ctype(b)
    return CType(a.width + b.width, a.integer + b.integer, a.signed or b.signed)


def sum_type(t, n_terms: int) -> CType:
    """Exact sum of n_terms values of type t."""
    t, c = ctype(t), clog2(n_terms)
    return CType(t.width + c, t.integer + c, t.signed)


def add_type(a, b) -> CType:
    """Exact a+b."""
    a, b = ctype(a), ctype(b)
    frac = max(a.frac, b.frac)
    if a.signed or b.signed:
        integer = max(a.signed_integer, b.signed_integer) + 1
        return CType(integer + frac, integer, True)
    integer = max(a.integer, b.integer) + 1
    return CType(integer + frac, integer, False)


def sub_type(a, b) -> CType:
    """Exact a-b (always signed)."""
    a, b = ctype(a), ctype(b)
    frac = max(a.frac, b.frac)
    integer = max(a.signed_integer, b.signed_integer) + 1
    return CType(integer + frac, integer, True)


def union_type(a, b) -> CType:
    """A type holding every value of a and of b."""
    a, b = ctype(a), ctype(b)
    frac = max(a.frac, b.frac)
    if a.signed or b.signed:
        integer = max(a.signed_integer, b.signed_integer)
        return CType(integer + frac, integer, True)
    integer = max(a.integer, b.integer)
    return CType(integer + frac, integer, False)


def shift_type(t, shift: int) -> CType:
    """The type of t * 2**-shift with the same raw bits (a rewiring, no logic)."""
    t = ctype(t)
    return CType(t.width, t.integer - int(shift), t.signed)


def dot_accum(a, b, n_terms: int, bias=None) -> CType:
    """Exact accumulator of sum_{n_terms} a*b (+ bias): model.fixed.accum_type's bound, without
    its 64-bit limit (same integer bits: product bits + ceil(log2(terms)), at least the bias' bits
    + 1, one more for unsigned products)."""
    p = mul_type(a, b)
    frac = p.frac
    integer = p.integer + clog2(n_terms + (1 if bias is not None else 0))
    if bias is not None:
        bias = ctype(bias)
        frac = max(frac, bias.frac)
        integer = max(integer, bias.signed_integer + 1)
    integer += 0 if p.signed else 1
    return CType(integer + frac, integer, True)


class QpartHLSError(QpartError, ValueError):
    """A Keras model or layer that the qpart firmware cannot implement (the message says why)."""


def check_float64(layer_name: str, types: dict) -> list[str]:
    """The Keras side holds exact intermediates in float64: refuse any wider than 53 bits
    (Keras would round there, the C++ would not, and bit-exactness would be luck)."""
    wide = [
        f"{name} ({t.width} bits)"
        for name, t in types.items()
        if isinstance(t, CType) and t.width > FLOAT64_BITS
    ]
    if wide:
        raise QpartHLSError(
            f"{layer_name}: exact intermediates wider than float64's 53 bits: {', '.join(wide)}; "
            "the Keras forward pass would round them. Narrow the layer's types (e.g. act_t or "
            "rsqrt_t) so that C simulation stays bit-exact"
        )
    return wide


def typedefs(types: dict, indent: str = "    ") -> str:
    """{'accum_t': CType|Fx|str} -> C++ typedef lines."""
    return "".join(f"{indent}typedef {t} {name};\n" for name, t in types.items())
