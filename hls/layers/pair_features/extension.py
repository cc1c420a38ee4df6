"""PairFeatures -> QpartPairFeatures: ParT's pair features on chip, (N, 3) + mask -> (N, N, 4).

C++: nnet::qpart::pair_features (hls/nnet_utils/nnet_qpart_pair_features.h), the pair loop of
nnet_qpart_pair_embed.h (pairs i <= j, mirrored; folded by the layer's parallelization and
reuse factors). The tables (F, G, softplus, ln mantissa) are model.tables' values, one copy per
ROM (the copies of hls/layers/pair_features/hardware.py's region); the standardisation constants and
ln 2 are the Keras layer's quantized values. Every intermediate type below is exact
(hls/fxtypes.py) until the Keras layer's named casts.
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.attributes import Attribute, WeightAttribute

from hls.fxtypes import CType, add_type, check_float64, ctype, mul_type, sub_type, typedefs
from hls.layers.extension import (
    Extension,
    QpartConfigTemplate,
    QpartFunctionTemplate,
    QpartHLSError,
    QpartLayer,
    folding_lines,
    keras_twin,
    parse_base,
    weight_type_name,
)
from hls.layers.pair_embed.hardware import n_pair_rows
from hls.layers.pair_features import hardware as hw
from model.fixed import Fx
from model.layers import PairFeatures

CENTER_T = Fx(8, 4, True)  # model.layers.PairFeatures quantizes its constants to these
SCALE_T = Fx(10, 0, False)
_TYPES = PairFeatures._TYPE_ARGS  # the Keras layer's named types (result_t last)
# the constant arrays, in the C++ function's argument order
_WEIGHTS = ("cosh_table", "cos_table", "softplus_table", "log_table", "center", "scale", "ln2")


def parse_pair_features(keras_layer, input_names, input_shapes, data_reader):
    layer, cfg = parse_base(keras_layer, input_names, "QpartPairFeatures", 2)
    shape = list(input_shapes[0])
    if len(shape) != 3 or shape[2] != 3:
        raise QpartHLSError(
            f"{layer['name']}: expected particles of shape (batch, N, 3) "
            f"[ln pT, eta, phi], got {shape}"
        )
    twin = keras_twin(keras_layer)
    layer.update(
        n_particles=int(shape[1]),
        log_bits=twin.log_bits,
        angle_table_size=twin.angle_table_size,
        softplus_table_size=twin.softplus_table_size,
        clip=twin.clip,
        center_data=np.array(twin.center),
        scale_data=np.array(twin.scale),
        **{k.replace("_t", "_fx"): str(getattr(twin, k)) for k in _TYPES},
    )
    return layer, [None, layer["n_particles"], layer["n_particles"], 4]


class QpartPairFeatures(QpartLayer):
    _expected_attributes = [
        Attribute("n_particles"),
        Attribute("log_bits"),
        Attribute("angle_table_size"),
        Attribute("softplus_table_size"),
        Attribute("clip", value_type=float),
        *(Attribute(k.replace("_t", "_fx"), value_type=str) for k in _TYPES[:-1]),
        *(WeightAttribute(w) for w in _WEIGHTS),
    ]

    def twin(self):
        return PairFeatures(
            **{k: self.get_attr(k.replace("_t", "_fx")) for k in _TYPES},
            log_bits=self.get_attr("log_bits"),
            angle_table_size=self.get_attr("angle_table_size"),
            softplus_table_size=self.get_attr("softplus_table_size"),
        )

    def spec(self) -> hw.Spec:
        return hw.Spec(
            n=self.get_attr("n_particles"),
            kin_t=self.input_fx(0),
            angle_t=self.fx("angle_fx"),
            table_t=self.fx("table_fx"),
            ln_t=self.fx("ln_fx"),
            result_t=self.fx("result_fx"),
            angle_table_size=self.get_attr("angle_table_size"),
            softplus_table_size=self.get_attr("softplus_table_size"),
            log_bits=self.get_attr("log_bits"),
        )

    def copies(self) -> dict:
        """The tables' ROM copies: those of the pair loop's region (its hardware.py)."""
        s = self.spec()
        return hw.rom_copies(self.folding(s.rows()), s)

    def initialize(self):
        n = self.get_attr("n_particles")
        self.add_result([n, n, 4])
        twin, copies = self.twin(), self.copies()
        table_t = self.fx("table_fx")
        for name, table, key in (
            ("cosh_table", twin.cosh_table, "angle"),
            ("cos_table", twin.cos_table, "angle"),
            ("softplus_table", twin.softplus_table, "softplus"),
            ("log_table", twin.log_table, "log"),
        ):
            self.add_fx_weight(
                name, np.tile(table.values, copies[key]), table_t, "pair_table{index}_t"
            )
        self.add_fx_weight("center", self.get_attr("center_data"), CENTER_T, "center{index}_t")
        self.add_fx_weight("scale", self.get_attr("scale_data"), SCALE_T, "scale{index}_t")
        self.add_fx_weight("ln2", [twin.log_table.ln2], table_t, "pair_table{index}_t")


def pair_feature_types(node) -> dict:
    """The exact intermediates of PairFeatures (see the C++ header's comment)."""
    f = node.fx
    lpt, ang, tab, ln = (
        ctype(f("lpt_fx")),
        ctype(f("angle_fx")),
        ctype(f("table_fx")),
        ctype(f("ln_fx")),
    )
    diff = sub_type(ang, ang)
    sq = mul_type(diff, diff)
    d2 = add_type(sq, sq)
    prod = mul_type(sq, tab)
    c = add_type(prod, prod)
    lnacc = CType(tab.frac + 9, 9)  # (e - frac) ln2 + ln m, |.| < 2**8 for e, frac < 2**8
    half = CType(ln.width, ln.integer - 1)  # ln d2 / 2: the same bits, one more fraction bit
    kt = add_type(lpt, half)
    dlpt = sub_type(lpt, lpt)
    zsum = add_type(dlpt, tab)
    lnz = CType(zsum.width + 1, zsum.integer + 1)
    lptsum = add_type(lpt, lpt)
    m2 = add_type(add_type(tab, lptsum), ln)
    types = {
        "diff_t": diff,
        "sq_t": sq,
        "d2_t": d2,
        "prod_t": prod,
        "c_t": c,
        "lnacc_t": lnacc,
        "half_t": half,
        "kt_t": kt,
        "dlpt_t": dlpt,
        "zsum_t": zsum,
        "lnz_t": lnz,
        "lptsum_t": lptsum,
        "m2_t": m2,
    }
    for k, feat in enumerate((half, kt, lnz, m2)):
        types[f"std{k}_t"] = mul_type(sub_type(feat, CENTER_T), SCALE_T)
    return types


class PairFeaturesConfigTemplate(QpartConfigTemplate):
    layer_cls = QpartPairFeatures

    def config(self, node, p):
        n = p["n_particles"]
        if n % 2:
            raise QpartHLSError(
                f"{node.name}: the mirrored pair loop needs an even number of "
                f"particles, got {n}"
            )
        fold = node.folding(n_pair_rows(n))
        exact = pair_feature_types(node)
        check_float64(node.name, exact)
        twin, copies = node.twin(), node.copies()
        casts = {
            "lpt_t": node.fx("lpt_fx"),
            "angle_t": node.fx("angle_fx"),
            "ln_t": node.fx("ln_fx"),
            "angle_index_t": twin.cosh_table.index_t,
            "softplus_index_t": twin.softplus_table.index_t,
        }
        return (
            f"struct config{p['index']} : nnet::qpart::pair_features_config {{\n"
            f"    static const unsigned n_particles = {n};\n"
            f"    static const unsigned n_pairs = {fold.rows};\n"
            f"    static const unsigned log_bits = {p['log_bits']};\n"
            f"    static const unsigned angle_table_size = {p['angle_table_size']};\n"
            f"    static const unsigned softplus_table_size = {p['softplus_table_size']};\n"
            + folding_lines(fold)
            + f"    static const unsigned angle_copies = {copies['angle']};\n"
            f"    static const unsigned softplus_copies = {copies['softplus']};\n"
            f"    static const unsigned log_copies = {copies['log']};\n"
            f"    static const int d2_frac = {exact['d2_t'].frac};\n"
            f"    static const int c_frac = {exact['c_t'].frac};\n"
            f"    static constexpr double clip = {p['clip']!r};\n"
            + typedefs(casts)
            + typedefs(exact)
            + typedefs(
                {
                    "table_t": weight_type_name(node, "cosh_table"),
                    "center_t": weight_type_name(node, "center"),
                    "scale_t": weight_type_name(node, "scale"),
                }
            )
            + "};\n"
        )


class PairFeaturesFunctionTemplate(QpartFunctionTemplate):
    layer_cls = QpartPairFeatures
    headers = ("nnet_qpart_pair_features.h",)

    def call(self, node, p):
        (kin, mask), (kin_t, mask_t) = p["inputs"], p["input_ts"]
        w = ", ".join(node.get_weights(k).name for k in _WEIGHTS)
        return (
            f"nnet::qpart::pair_features<{kin_t}, {mask_t}, {p['output_t']}, "
            f"{p['config']}>({kin}, {mask}, {p['output']}, {w});"
        )


EXTENSION = Extension(
    keras_class="PairFeatures",
    parser=parse_pair_features,
    layer_name="QpartPairFeatures",
    layer_cls=QpartPairFeatures,
    templates=[PairFeaturesConfigTemplate, PairFeaturesFunctionTemplate],
)
