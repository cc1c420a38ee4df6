// qpart: PairFeatures, ParT's four pair features computed on chip from the particle list,
// bit-exact with model/layers.py PairFeatures (every exact type generated in Python).
//
// (N, 3) [ln pT, eta, phi] and the (N) mask -> (N, N, 4) standardised [ln Delta, ln kT, ln z,
// ln m^2], zero where either particle is padding. Pairs are the rows, folded as in
// nnet_qpart_pair_embed.h (pairs i <= j, mirrored: the features are symmetric).
//
//   da, db = eta_i - eta_j, phi_i - phi_j;  d2 = da^2 + db^2;  c = da^2 F(|da|) + db^2 G(|db|)
//   ln x   = (e - frac) ln2 + log_table[bits after the leading one]   (x = raw * 2^-frac)
//   f      = [ln d2 / 2, min(ln pT) + ln d2 / 2, -(d + S(d)), ln2 + ln pT_i + ln pT_j + ln c]
//   out    = cast_result(clip((f - center) * scale, -clip, clip))
#ifndef NNET_QPART_PAIR_FEATURES_H_
#define NNET_QPART_PAIR_FEATURES_H_

#include "nnet_common.h"
#include "nnet_qpart_common.h"
#include "nnet_qpart_pair_embed.h"

namespace nnet {
namespace qpart {

struct pair_features_config {
    static const unsigned n_particles = 8;
    static const bool symmetric = true;
    static const unsigned n_pairs = 36;
    static const unsigned log_bits = 10;
    static const unsigned angle_table_size = 256;
    static const unsigned softplus_table_size = 1024;
    static const unsigned parallel = 1;
    static const unsigned reuse_factor = 1;
    static const unsigned angle_copies = 1, softplus_copies = 1, log_copies = 1; // ROM copies
    static const int d2_frac = 20, c_frac = 38;                                  // of d2_t, c_t
    // generated (hls/layers/pair_features/extension.py): lpt_t, angle_t, table_t, ln_t, diff_t, sq_t,
    // d2_t, prod_t, c_t, lnacc_t, angle_index_t, softplus_index_t, half_t, kt_t, dlpt_t, zsum_t,
    // lnz_t, lptsum_t, m2_t, std_t (per feature: std0_t ... std3_t: (f - center) * scale),
    // center_t, scale_t, clip value `clip`
};

// ln of x = raw * 2^-frac (raw > 0) by its leading one; lnacc_t is exact, the caller casts.
template <class x_T, typename CONFIG_T>
typename CONFIG_T::lnacc_t log_by_leading_one(const x_T &x, int frac, const typename CONFIG_T::table_t *table,
                                              typename CONFIG_T::table_t ln2) {
#pragma HLS INLINE
    const unsigned W = x_T::width, B = CONFIG_T::log_bits;
    ap_uint<W> raw = x.range(W - 1, 0);
    int e = 0; // the position of the leading one (a priority encoder)
LeadingOne:
    for (unsigned k = 0; k < W; k++) {
#pragma HLS UNROLL
        if (raw[k]) {
            e = k;
        }
    }
    ap_uint<W + B> wide = raw;
    ap_uint<B> idx = (e >= (int)B) ? ap_uint<B>(raw >> (e - B)) : ap_uint<B>(wide << (B - e));
    typename CONFIG_T::lnacc_t acc = ln2;
    acc *= (e - frac);
    acc += table[idx];
    return acc;
}

// One feature: clip((f - center) * scale, -clip, clip), cast to res_T.
template <class std_T, class res_T, class f_T, typename CONFIG_T>
res_T standardise(const f_T &f, typename CONFIG_T::center_t center, typename CONFIG_T::scale_t scale) {
#pragma HLS INLINE
    std_T y = (f - center) * scale;
    const std_T hi = CONFIG_T::clip, lo = -std_T(CONFIG_T::clip);
    if (y > hi) {
        y = hi;
    } else if (y < lo) {
        y = lo;
    }
    return (res_T)y;
}

template <class kin_T, class mask_T, class res_T, typename CONFIG_T>
void pair_features(kin_T kin[CONFIG_T::n_particles * 3], mask_T mask[CONFIG_T::n_particles],
                   res_T res[CONFIG_T::n_particles * CONFIG_T::n_particles * 4],
                   typename CONFIG_T::table_t cosh_table[CONFIG_T::angle_copies * CONFIG_T::angle_table_size],
                   typename CONFIG_T::table_t cos_table[CONFIG_T::angle_copies * CONFIG_T::angle_table_size],
                   typename CONFIG_T::table_t softplus_table[CONFIG_T::softplus_copies * CONFIG_T::softplus_table_size],
                   typename CONFIG_T::table_t log_table[CONFIG_T::log_copies * (1 << CONFIG_T::log_bits)],
                   typename CONFIG_T::center_t center[4], typename CONFIG_T::scale_t scale[4],
                   typename CONFIG_T::table_t ln2[1]) {
#pragma HLS INLINE off
    QPART_ROM(cosh_table, CONFIG_T::angle_copies)
    QPART_ROM(cos_table, CONFIG_T::angle_copies)
    QPART_ROM(softplus_table, CONFIG_T::softplus_copies)
    QPART_ROM(log_table, CONFIG_T::log_copies)
#pragma HLS ARRAY_PARTITION variable = center complete
#pragma HLS ARRAY_PARTITION variable = scale complete
    const unsigned N = CONFIG_T::n_particles;
    const unsigned AT = CONFIG_T::angle_table_size, ST = CONFIG_T::softplus_table_size;
    const unsigned LT = 1 << CONFIG_T::log_bits;
Pairs:
    for (unsigned s = 0; s < CONFIG_T::n_pairs; s += CONFIG_T::parallel) {
#pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    Lanes:
        for (unsigned p = 0; p < CONFIG_T::parallel; p++) {
#pragma HLS UNROLL
            unsigned i, j;
            pair_of_slot<CONFIG_T>(s + p, i, j);
            const unsigned ac = rom_copy<CONFIG_T::reuse_factor>(p);      // one F, G, S read a lane
            const unsigned lc0 = rom_copy<CONFIG_T::reuse_factor>(2 * p); // two ln reads a lane
            const unsigned lc1 = rom_copy<CONFIG_T::reuse_factor>(2 * p + 1);
            typename CONFIG_T::lpt_t lpt_i = kin[i * 3], lpt_j = kin[j * 3];
            typename CONFIG_T::angle_t eta_i = kin[i * 3 + 1], eta_j = kin[j * 3 + 1];
            typename CONFIG_T::angle_t phi_i = kin[i * 3 + 2], phi_j = kin[j * 3 + 2];
            typename CONFIG_T::diff_t da = eta_i - eta_j, db = phi_i - phi_j;
            typename CONFIG_T::diff_t abs_da = da < 0 ? typename CONFIG_T::diff_t(-da) : da;
            typename CONFIG_T::diff_t abs_db = db < 0 ? typename CONFIG_T::diff_t(-db) : db;
            typename CONFIG_T::sq_t a2 = da * da, b2 = db * db;
            typename CONFIG_T::d2_t d2 = a2 + b2;
            typename CONFIG_T::table_t f =
                table_lookup<typename CONFIG_T::angle_index_t, typename CONFIG_T::table_t, CONFIG_T::angle_table_size>(
                    &cosh_table[ac * AT], abs_da);
            typename CONFIG_T::table_t g =
                table_lookup<typename CONFIG_T::angle_index_t, typename CONFIG_T::table_t, CONFIG_T::angle_table_size>(
                    &cos_table[ac * AT], abs_db);
            typename CONFIG_T::prod_t fa = a2 * f, gb = b2 * g;
            typename CONFIG_T::c_t c = fa + gb;
            // ln of 0 (coincident particles): the ln type's minimum, as weaver-core's eps clamp
            typename CONFIG_T::ln_t ln_d2 = lowest<typename CONFIG_T::ln_t>(true);
            if (d2 != 0) {
                ln_d2 = (typename CONFIG_T::ln_t)log_by_leading_one<typename CONFIG_T::d2_t, CONFIG_T>(
                    d2, CONFIG_T::d2_frac, &log_table[lc0 * LT], ln2[0]);
            }
            typename CONFIG_T::ln_t ln_c = lowest<typename CONFIG_T::ln_t>(true);
            if (c != 0) {
                ln_c = (typename CONFIG_T::ln_t)log_by_leading_one<typename CONFIG_T::c_t, CONFIG_T>(
                    c, CONFIG_T::c_frac, &log_table[lc1 * LT], ln2[0]);
            }
            typename CONFIG_T::half_t ln_delta = rescale_bits<typename CONFIG_T::half_t>(ln_d2); // / 2
            typename CONFIG_T::lpt_t lo = lpt_i < lpt_j ? lpt_i : lpt_j;
            typename CONFIG_T::lpt_t hi = lpt_i < lpt_j ? lpt_j : lpt_i;
            typename CONFIG_T::kt_t ln_kt = lo + ln_delta;
            typename CONFIG_T::dlpt_t d = hi - lo;
            typename CONFIG_T::table_t sp =
                table_lookup<typename CONFIG_T::softplus_index_t, typename CONFIG_T::table_t, CONFIG_T::softplus_table_size>(
                    &softplus_table[ac * ST], d);
            typename CONFIG_T::zsum_t zsum = d + sp;
            typename CONFIG_T::lnz_t ln_z = -zsum;
            typename CONFIG_T::lptsum_t lpt_sum = lpt_i + lpt_j;
            typename CONFIG_T::m2_t ln_m2 = ln2[0] + lpt_sum + ln_c;
            const bool keep = mask[i] > 0 && mask[j] > 0;
            res_T y[4];
#pragma HLS ARRAY_PARTITION variable = y complete
            y[0] = standardise<typename CONFIG_T::std0_t, res_T, typename CONFIG_T::half_t, CONFIG_T>(ln_delta, center[0],
                                                                                                      scale[0]);
            y[1] =
                standardise<typename CONFIG_T::std1_t, res_T, typename CONFIG_T::kt_t, CONFIG_T>(ln_kt, center[1], scale[1]);
            y[2] =
                standardise<typename CONFIG_T::std2_t, res_T, typename CONFIG_T::lnz_t, CONFIG_T>(ln_z, center[2], scale[2]);
            y[3] =
                standardise<typename CONFIG_T::std3_t, res_T, typename CONFIG_T::m2_t, CONFIG_T>(ln_m2, center[3], scale[3]);
        Features:
            for (unsigned k = 0; k < 4; k++) {
#pragma HLS UNROLL
                res_T v = keep ? y[k] : res_T(0);
                res[(i * N + j) * 4 + k] = v;
                res[(j * N + i) * 4 + k] = v;
            }
        }
    }
}

} // namespace qpart
} // namespace nnet

#endif
