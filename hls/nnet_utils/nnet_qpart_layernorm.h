// qpart: layer normalisation over the last axis (model/layers.py LayerNormFx), bit-exact.
//
//   mean = sum(x) / dim                  exact (dim = 2**log2_dim: a rewiring)
//   d    = x - mean                      exact
//   var  = sum(d*d) / dim                exact
//   r    = rsqrt_table[index(var)]       table from Python; index = raw bits of (index_t) var
//   y    = cast_result(d * r * gamma + beta)   exact until the cast
//
// hls4ml's nnet_layernorm.h rebuilds its 1/sqrt table in C++ and rounds its intermediates, so
// this block is ours.
#ifndef NNET_QPART_LAYERNORM_H_
#define NNET_QPART_LAYERNORM_H_

#include "nnet_common.h"
#include "nnet_qpart_common.h"

namespace nnet {
namespace qpart {

struct layernorm_config {
    static const bool enabled = true; // an attention's pre-norm (nnet::qpart::no_norm: none)
    static const unsigned n_rows = 1;
    static const unsigned dim = 16;
    static const unsigned table_size = 1024;
    static const unsigned table_copies = 1;          // ROM copies of the 1/sqrt table
    static const unsigned parallel = 1;              // rows per pipelined iteration
    static const unsigned reuse_factor = 1;          // II of the row loop
    static const unsigned multiplier_limit = 3 * 16; // ceil(parallel * 3 * dim / reuse_factor)
    // exact intermediates (hls/fxtypes.py)
    typedef ap_fixed<20, 10> sum_t;      // sum(x)
    typedef ap_fixed<20, 6> mean_t;      // sum_t's bits / dim
    typedef ap_fixed<21, 7> diff_t;      // x - mean
    typedef ap_ufixed<42, 16> var_sum_t; // sum(d*d)
    typedef ap_ufixed<42, 12> var_t;     // var_sum_t's bits / dim
    typedef ap_ufixed<10, 4, AP_TRN, AP_SAT> index_t;
    typedef ap_fixed<39, 13> scaled_t; // d * r
    typedef ap_fixed<48, 15> affine_t; // d * r * gamma + beta
    // weights
    typedef ap_fixed<8, 1> gamma_t;
    typedef ap_fixed<12, 4> beta_t;
    typedef ap_ufixed<18, 6> table_t;
};

// One row (inlined into the caller's pipelined loop: its products count against its ALLOCATION).
template <class data_T, class res_T, typename CONFIG_T>
void layernorm_row(const data_T data[CONFIG_T::dim], res_T res[CONFIG_T::dim],
                   const typename CONFIG_T::gamma_t gamma[CONFIG_T::dim],
                   const typename CONFIG_T::beta_t beta[CONFIG_T::dim],
                   const typename CONFIG_T::table_t table[CONFIG_T::table_size]) {
#pragma HLS INLINE
    typename CONFIG_T::sum_t sum = 0;
Mean:
    for (unsigned i = 0; i < CONFIG_T::dim; i++) {
#pragma HLS UNROLL
        sum += data[i];
    }
    typename CONFIG_T::mean_t mean = rescale_bits<typename CONFIG_T::mean_t>(sum);

    typename CONFIG_T::diff_t diff[CONFIG_T::dim];
#pragma HLS ARRAY_PARTITION variable = diff complete
    typename CONFIG_T::var_sum_t var_sum = 0;
Variance:
    for (unsigned i = 0; i < CONFIG_T::dim; i++) {
#pragma HLS UNROLL
        diff[i] = data[i] - mean;
        var_sum += diff[i] * diff[i];
    }
    typename CONFIG_T::var_t var = rescale_bits<typename CONFIG_T::var_t>(var_sum);
    typename CONFIG_T::table_t rsqrt =
        table_lookup<typename CONFIG_T::index_t, typename CONFIG_T::table_t, CONFIG_T::table_size>(table, var);

Affine:
    for (unsigned i = 0; i < CONFIG_T::dim; i++) {
#pragma HLS UNROLL
        typename CONFIG_T::scaled_t scaled = diff[i] * rsqrt;
        typename CONFIG_T::affine_t affine = scaled * gamma[i] + beta[i];
        res[i] = (res_T)affine;
    }
}

// FxLayerNorm as a layer: rows folded as every qpart layer (hls/folding.py); lane p of an
// iteration reads 1/sqrt from ROM copy rom_copy(p) of the table.
template <class data_T, class res_T, typename CONFIG_T>
void layernorm(data_T data[CONFIG_T::n_rows * CONFIG_T::dim], res_T res[CONFIG_T::n_rows * CONFIG_T::dim],
               typename CONFIG_T::gamma_t gamma[CONFIG_T::dim], typename CONFIG_T::beta_t beta[CONFIG_T::dim],
               typename CONFIG_T::table_t table[CONFIG_T::table_copies * CONFIG_T::table_size]) {
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable = gamma complete
#pragma HLS ARRAY_PARTITION variable = beta complete
    QPART_ROM(table, CONFIG_T::table_copies)
#pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::multiplier_limit
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r += CONFIG_T::parallel) {
#pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    Lanes:
        for (unsigned p = 0; p < CONFIG_T::parallel; p++) {
#pragma HLS UNROLL
            const unsigned copy = rom_copy<CONFIG_T::reuse_factor>(p);
            layernorm_row<data_T, res_T, CONFIG_T>(&data[(r + p) * CONFIG_T::dim], &res[(r + p) * CONFIG_T::dim], gamma,
                                                   beta, &table[copy * CONFIG_T::table_size]);
        }
    }
}

} // namespace qpart
} // namespace nnet

#endif
