// qpart: PairEmbed, the pointwise MLP from the pair features to one attention bias per head.
//
// (N, N, F) -> (H, N, N). Each pair goes through the same dense stack: hidden layers
// relu(cast_hidden(x . W + b)), the last cast_result(x . W + b), each one nnet::dense_latency with
// an exact accumulator. All kernels share one weight type and all biases one bias type (one
// quantizer in Keras), so they are concatenated into one weight and one bias array; each layer's
// config holds its offsets and names the next layer (a compile-time chain ending in mlp_end).
// With `symmetric`, only pairs i <= j are computed and mirrored: bit-identical whenever the
// pair features are symmetric (ParT's are), half the logic.
#ifndef NNET_QPART_PAIR_EMBED_H_
#define NNET_QPART_PAIR_EMBED_H_

#include "nnet_common.h"
#include "nnet_dense.h"
#include "nnet_dense_latency.h"
#include "nnet_mult.h"
#include "nnet_qpart_common.h"

namespace nnet {
namespace qpart {

struct mlp_end {};

// A layer of the chain: nnet::dense_config members (n_in, n_out, reuse_factor, multiplier_limit,
// weight_t, bias_t, accum_t, product) plus w_offset, b_offset, out_t and next.
template <class data_T, class res_T, class LAYER_T, class NEXT_T = typename LAYER_T::next> struct pair_mlp {
    // hidden layer: ReLU after the cast, then the rest of the chain
    static void run(data_T x[LAYER_T::n_in], res_T *y, typename LAYER_T::weight_t *weights,
                    typename LAYER_T::bias_t *biases) {
        #pragma HLS INLINE
        typename LAYER_T::out_t h[LAYER_T::n_out];
        #pragma HLS ARRAY_PARTITION variable = h complete
        nnet::dense_latency<data_T, typename LAYER_T::out_t, LAYER_T>(x, h, &weights[LAYER_T::w_offset],
                                                                      &biases[LAYER_T::b_offset]);
    Relu:
        for (unsigned o = 0; o < LAYER_T::n_out; o++) {
            #pragma HLS UNROLL
            h[o] = relu<typename LAYER_T::out_t>(h[o]);
        }
        pair_mlp<typename LAYER_T::out_t, res_T, NEXT_T>::run(h, y, weights, biases);
    }
};

template <class data_T, class res_T, class LAYER_T> struct pair_mlp<data_T, res_T, LAYER_T, mlp_end> {
    // last layer: linear, cast to the result type
    static void run(data_T x[LAYER_T::n_in], res_T *y, typename LAYER_T::weight_t *weights,
                    typename LAYER_T::bias_t *biases) {
        #pragma HLS INLINE
        nnet::dense_latency<data_T, res_T, LAYER_T>(x, y, &weights[LAYER_T::w_offset], &biases[LAYER_T::b_offset]);
    }
};

struct pair_embed_config {
    static const unsigned n_particles = 8;
    static const unsigned n_features = 4;
    static const unsigned n_heads = 2;
    static const bool symmetric = false;
    static const unsigned n_weights = 1;
    static const unsigned n_biases = 1;
    static const unsigned reuse_factor = 1;
    static const unsigned multiplier_limit = 1;
    typedef ap_fixed<8, 1> weight_t;
    typedef ap_fixed<12, 4> bias_t;
    typedef mlp_end first_layer; // the chain (generated)
};

template <class data_T, class res_T, typename CONFIG_T>
void pair_embed(data_T data[CONFIG_T::n_particles * CONFIG_T::n_particles * CONFIG_T::n_features],
                res_T res[CONFIG_T::n_heads * CONFIG_T::n_particles * CONFIG_T::n_particles],
                typename CONFIG_T::weight_t weights[CONFIG_T::n_weights],
                typename CONFIG_T::bias_t biases[CONFIG_T::n_biases]) {
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::multiplier_limit
    const unsigned N = CONFIG_T::n_particles;
    const unsigned H = CONFIG_T::n_heads;
Rows:
    for (unsigned i = 0; i < N; i++) {
        #pragma HLS UNROLL
    Cols:
        for (unsigned j = 0; j < N; j++) {
            #pragma HLS UNROLL
            if (CONFIG_T::symmetric && j < i) {
                continue;
            }
            res_T y[H];
            #pragma HLS ARRAY_PARTITION variable = y complete
            pair_mlp<data_T, res_T, typename CONFIG_T::first_layer>::run(&data[(i * N + j) * CONFIG_T::n_features], y,
                                                                         weights, biases);
        Heads:
            for (unsigned h = 0; h < H; h++) {
                #pragma HLS UNROLL
                res[(h * N + i) * N + j] = y[h];
                if (CONFIG_T::symmetric) {
                    res[(h * N + j) * N + i] = y[h];
                }
            }
        }
    }
}

} // namespace qpart
} // namespace nnet

#endif
