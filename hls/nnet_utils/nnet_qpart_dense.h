// qpart: FxQuant, FxDense (pointwise over the last axis of any rank), FxAdd, Clone, ClassToken.
//
// Folding (hls/folding.py): a layer is a loop over its rows, pipelined at II = reuse_factor,
// `parallel` rows per iteration. Inside a row everything is unrolled; the ALLOCATION limit of the
// loop's function shares its multipliers over the II cycles. Arithmetic never depends on the
// folding: every sum is exact (accum_t derived in Python) until the Keras layer's cast.
#ifndef NNET_QPART_DENSE_H_
#define NNET_QPART_DENSE_H_

#include "nnet_common.h"
#include "nnet_qpart_common.h"

namespace nnet {
namespace qpart {

// One row of a dense layer: n_in -> n_out, exact accumulator (the C++ of a nested row config).
struct row_config {
    static const unsigned n_in = 1;
    static const unsigned n_out = 1;
    typedef ap_fixed<32, 16> accum_t; // exact: x . W + b never rounds or wraps
    typedef ap_fixed<8, 1> weight_t;
    typedef ap_fixed<12, 4> bias_t;
};

// y = cast_res(x . W + b), W row-major (n_in, n_out). Inlined: its products count against the
// caller's ALLOCATION limit.
template <class data_T, class res_T, typename ROW_T>
void dense_row(const data_T x[ROW_T::n_in], res_T y[ROW_T::n_out],
               const typename ROW_T::weight_t w[ROW_T::n_in * ROW_T::n_out], const typename ROW_T::bias_t b[ROW_T::n_out]) {
#pragma HLS INLINE
Out:
    for (unsigned o = 0; o < ROW_T::n_out; o++) {
#pragma HLS UNROLL
        typename ROW_T::accum_t acc = b[o];
    In:
        for (unsigned i = 0; i < ROW_T::n_in; i++) {
#pragma HLS UNROLL
            acc += x[i] * w[i * ROW_T::n_out + o];
        }
        y[o] = (res_T)acc;
    }
}

struct quant_config {
    static const unsigned n_in = 1;
    static const unsigned reuse_factor = 1;
};

// FxQuant: a cast to res_T (its rounding and overflow modes). No arithmetic to fold.
template <class data_T, class res_T, typename CONFIG_T> void quant(data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE off
#pragma HLS PIPELINE II = CONFIG_T::reuse_factor
Cast:
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        res[i] = (res_T)data[i];
    }
}

struct dense_config : row_config {
    static const unsigned n_rows = 1;
    static const bool relu = false;
    static const unsigned parallel = 1;         // rows per pipelined iteration
    static const unsigned reuse_factor = 1;     // II of the row loop
    static const unsigned multiplier_limit = 1; // ceil(parallel * n_in * n_out / reuse_factor)
};

// FxDense: y = relu?(cast_result(x . W + b)) for every row of the input.
template <class data_T, class res_T, typename CONFIG_T>
void dense(data_T data[CONFIG_T::n_rows * CONFIG_T::n_in], res_T res[CONFIG_T::n_rows * CONFIG_T::n_out],
           typename CONFIG_T::weight_t weights[CONFIG_T::n_in * CONFIG_T::n_out],
           typename CONFIG_T::bias_t biases[CONFIG_T::n_out]) {
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable = weights complete
#pragma HLS ARRAY_PARTITION variable = biases complete
#pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::multiplier_limit
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r += CONFIG_T::parallel) {
#pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    Lanes:
        for (unsigned p = 0; p < CONFIG_T::parallel; p++) {
#pragma HLS UNROLL
            res_T y[CONFIG_T::n_out];
#pragma HLS ARRAY_PARTITION variable = y complete
            dense_row<data_T, res_T, CONFIG_T>(&data[(r + p) * CONFIG_T::n_in], y, weights, biases);
        Out:
            for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
#pragma HLS UNROLL
                res[(r + p) * CONFIG_T::n_out + o] = CONFIG_T::relu ? relu<res_T>(y[o]) : y[o];
            }
        }
    }
}

struct add_config {
    static const unsigned n_rows = 1;
    static const unsigned n_cols = 1;
    static const unsigned parallel = 1;
    static const unsigned reuse_factor = 1;
};

// FxAdd: res = cast_res(a + b) (ap_fixed's exact sum, then the result type's modes), row by row.
template <class a_T, class b_T, class res_T, typename CONFIG_T>
void add(a_T a[CONFIG_T::n_rows * CONFIG_T::n_cols], b_T b[CONFIG_T::n_rows * CONFIG_T::n_cols],
         res_T res[CONFIG_T::n_rows * CONFIG_T::n_cols]) {
#pragma HLS INLINE off
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r += CONFIG_T::parallel) {
#pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    Lanes:
        for (unsigned i = 0; i < CONFIG_T::parallel * CONFIG_T::n_cols; i++) {
#pragma HLS UNROLL
            const unsigned k = r * CONFIG_T::n_cols + i;
            res[k] = (res_T)(a[k] + b[k]);
        }
    }
}

struct clone_config {
    static const unsigned n_elem = 1;
};

// Clone: a copy of an array per reader, so that every array of the DATAFLOW region has one
// writer and one reader (hls/layers/clone/extension.py). Registers, no arithmetic.
template <class data_T, typename CONFIG_T>
void clone(data_T data[CONFIG_T::n_elem], data_T out1[CONFIG_T::n_elem], data_T out2[CONFIG_T::n_elem]) {
#pragma HLS INLINE off
#pragma HLS PIPELINE
Copy:
    for (unsigned i = 0; i < CONFIG_T::n_elem; i++) {
#pragma HLS UNROLL
        out1[i] = data[i];
        out2[i] = data[i];
    }
}

template <class data_T, typename CONFIG_T>
void clone(data_T data[CONFIG_T::n_elem], data_T out1[CONFIG_T::n_elem], data_T out2[CONFIG_T::n_elem],
           data_T out3[CONFIG_T::n_elem]) {
#pragma HLS INLINE off
#pragma HLS PIPELINE
Copy:
    for (unsigned i = 0; i < CONFIG_T::n_elem; i++) {
#pragma HLS UNROLL
        out1[i] = data[i];
        out2[i] = data[i];
        out3[i] = data[i];
    }
}

template <class data_T, typename CONFIG_T>
void clone(data_T data[CONFIG_T::n_elem], data_T out1[CONFIG_T::n_elem], data_T out2[CONFIG_T::n_elem],
           data_T out3[CONFIG_T::n_elem], data_T out4[CONFIG_T::n_elem]) {
#pragma HLS INLINE off
#pragma HLS PIPELINE
Copy:
    for (unsigned i = 0; i < CONFIG_T::n_elem; i++) {
#pragma HLS UNROLL
        out1[i] = data[i];
        out2[i] = data[i];
        out3[i] = data[i];
        out4[i] = data[i];
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
#pragma HLS INLINE off
#pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    (void)data;
Token:
    for (unsigned i = 0; i < CONFIG_T::dim; i++) {
#pragma HLS UNROLL
        res[i] = (res_T)token[i];
    }
}

struct sum_pool_config {
    static const unsigned n_tokens = 1;
    static const unsigned dim = 1;
    static const unsigned reuse_factor = 1;
    typedef ap_fixed<20, 10> accum_t; // the exact sum of n_tokens inputs
    typedef ap_fixed<20, 6> scaled_t; // accum_t * 2**-shift: the same bits (hls/fxtypes.py)
};

// FxSumPool: (x (N, E), mask (N)) -> (1, E), the real particles' rows summed per feature,
// scaled by a power of two (wiring) and cast; in place of a class token and its attentions.
template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void sum_pool(data_T x[CONFIG_T::n_tokens * CONFIG_T::dim], mask_T mask[CONFIG_T::n_tokens], res_T res[CONFIG_T::dim]) {
#pragma HLS INLINE off
#pragma HLS PIPELINE II = CONFIG_T::reuse_factor
Features:
    for (unsigned i = 0; i < CONFIG_T::dim; i++) {
#pragma HLS UNROLL
        typename CONFIG_T::accum_t acc = 0;
    Tokens:
        for (unsigned t = 0; t < CONFIG_T::n_tokens; t++) {
#pragma HLS UNROLL
            if (mask[t] > 0) {
                acc += x[t * CONFIG_T::dim + i];
            }
        }
        res[i] = (res_T)rescale_bits<typename CONFIG_T::scaled_t>(acc);
    }
}

} // namespace qpart
} // namespace nnet

#endif
