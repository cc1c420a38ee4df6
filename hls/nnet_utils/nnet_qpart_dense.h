// qpart: FxQuant, FxDense (pointwise over the last axis of any rank), ClassToken.
//
// FxDense composes hls4ml's nnet::dense_latency row by row: with an exact accum_t (derived in
// Python) its arithmetic is ours: y = cast_result(x . W + b), then ReLU on the cast value.
#ifndef NNET_QPART_DENSE_H_
#define NNET_QPART_DENSE_H_

#include "nnet_common.h"
#include "nnet_dense.h"
#include "nnet_dense_latency.h"
#include "nnet_mult.h"
#include "nnet_qpart_common.h"

namespace nnet {
namespace qpart {

struct quant_config {
    static const unsigned n_in = 1;
    static const unsigned reuse_factor = 1;
};

// FxQuant: a cast to res_T (its rounding and overflow modes).
template <class data_T, class res_T, typename CONFIG_T> void quant(data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
Cast:
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
        #pragma HLS UNROLL
        res[i] = (res_T)data[i];
    }
}

// n_rows rows of DENSE_CFG::n_in -> n_rows rows of DENSE_CFG::n_out, the same weights for all rows
// (each row is one nnet::dense_latency instance).
template <class data_T, class res_T, typename DENSE_CFG, unsigned n_rows>
void dense_rows(data_T data[n_rows * DENSE_CFG::n_in], res_T res[n_rows * DENSE_CFG::n_out],
                typename DENSE_CFG::weight_t weights[DENSE_CFG::n_in * DENSE_CFG::n_out],
                typename DENSE_CFG::bias_t biases[DENSE_CFG::n_out]) {
    #pragma HLS INLINE
Rows:
    for (unsigned r = 0; r < n_rows; r++) {
        #pragma HLS UNROLL
        nnet::dense_latency<data_T, res_T, DENSE_CFG>(&data[r * DENSE_CFG::n_in], &res[r * DENSE_CFG::n_out], weights,
                                                      biases);
    }
}

struct dense_config {
    static const unsigned n_rows = 1;
    static const unsigned n_in = 1;
    static const unsigned n_out = 1;
    static const bool relu = false;
    static const unsigned reuse_factor = 1;
    typedef nnet::dense_config dense_cfg; // n_in, n_out, weight_t, bias_t, exact accum_t, product
};

// FxDense: y = relu?(cast_result(x . W + b)) for every row of the input.
template <class data_T, class res_T, typename CONFIG_T>
void dense(data_T data[CONFIG_T::n_rows * CONFIG_T::n_in], res_T res[CONFIG_T::n_rows * CONFIG_T::n_out],
           typename CONFIG_T::dense_cfg::weight_t weights[CONFIG_T::n_in * CONFIG_T::n_out],
           typename CONFIG_T::dense_cfg::bias_t biases[CONFIG_T::n_out]) {
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    res_T cast[CONFIG_T::n_rows * CONFIG_T::n_out];
    #pragma HLS ARRAY_PARTITION variable = cast complete
    dense_rows<data_T, res_T, typename CONFIG_T::dense_cfg, CONFIG_T::n_rows>(data, cast, weights, biases);
Relu:
    for (unsigned i = 0; i < CONFIG_T::n_rows * CONFIG_T::n_out; i++) {
        #pragma HLS UNROLL
        res[i] = CONFIG_T::relu ? relu<res_T>(cast[i]) : cast[i];
    }
}

struct class_token_config {
    static const unsigned n_in = 1;
    static const unsigned dim = 1;
    static const unsigned reuse_factor = 1;
    typedef ap_fixed<16, 6> token_t;
};

// ClassToken: the learned token (already in res_T's type); the input only marks the position
// in the graph (in Keras it sets the batch size).
template <class data_T, class res_T, typename CONFIG_T>
void class_token(data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::dim], typename CONFIG_T::token_t token[CONFIG_T::dim]) {
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    (void)data;
Token:
    for (unsigned i = 0; i < CONFIG_T::dim; i++) {
        #pragma HLS UNROLL
        res[i] = (res_T)token[i];
    }
}

} // namespace qpart
} // namespace nnet

#endif
