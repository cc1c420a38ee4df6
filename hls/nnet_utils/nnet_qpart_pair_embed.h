// qpart: PairEmbed, the pointwise MLP from the pair features to one attention bias per head.
//
// (N, N, F) -> (H, N, N). Each pair goes through the same dense stack: hidden layers
// relu(cast_hidden(x . W + b)), the last cast_result(x . W + b), each an exact dense_row. All
// kernels share one weight type and all biases one bias type (one quantizer in Keras), so they
// are concatenated into one weight and one bias array; each layer's config holds its offsets and
// names the next layer (a compile-time chain ending in mlp_end).
//
// Pairs are the rows (hls/folding.py): a loop over pair slots pipelined at II = reuse_factor,
// `parallel` pairs per iteration. With `symmetric` only the N(N+1)/2 pairs i <= j are computed
// and mirrored (bit-identical when the features are symmetric, as ParT's are). They are visited
// as N/2 folded row pairs of N+1 slots each: slot k of row pair t is (t, t+k) for k < N-t, else
// (N-1-t, N-1-t + k-(N-t)); so slot s maps to a pair by one division by the constant N+1.
#ifndef NNET_QPART_PAIR_EMBED_H_
#define NNET_QPART_PAIR_EMBED_H_

#include "nnet_common.h"
#include "nnet_qpart_common.h"
#include "nnet_qpart_dense.h"

namespace nnet {
namespace qpart {

struct mlp_end {};

// A layer of the chain: row_config members (n_in, n_out, weight_t, bias_t, accum_t) plus
// w_offset, b_offset, out_t and next.
template <class data_T, class res_T, class LAYER_T, class NEXT_T = typename LAYER_T::next> struct pair_mlp {
    // hidden layer: ReLU after the cast, then the rest of the chain
    static void run(const data_T x[LAYER_T::n_in], res_T *y, const typename LAYER_T::weight_t *weights,
                    const typename LAYER_T::bias_t *biases) {
#pragma HLS INLINE
        typename LAYER_T::out_t h[LAYER_T::n_out];
#pragma HLS ARRAY_PARTITION variable = h complete
        dense_row<data_T, typename LAYER_T::out_t, LAYER_T>(x, h, &weights[LAYER_T::w_offset], &biases[LAYER_T::b_offset]);
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
    static void run(const data_T x[LAYER_T::n_in], res_T *y, const typename LAYER_T::weight_t *weights,
                    const typename LAYER_T::bias_t *biases) {
#pragma HLS INLINE
        dense_row<data_T, res_T, LAYER_T>(x, y, &weights[LAYER_T::w_offset], &biases[LAYER_T::b_offset]);
    }
};

struct pair_embed_config {
    static const unsigned n_particles = 8;
    static const unsigned n_features = 4;
    static const unsigned n_heads = 2;
    static const bool symmetric = false;
    static const unsigned n_pairs = 64; // pair slots: N(N+1)/2 with symmetric, else N*N
    static const unsigned n_weights = 1;
    static const unsigned n_biases = 1;
    static const unsigned parallel = 1;         // pairs per pipelined iteration
    static const unsigned reuse_factor = 1;     // II of the pair loop
    static const unsigned multiplier_limit = 1; // ceil(parallel * n_weights / reuse_factor)
    typedef ap_fixed<8, 1> weight_t;
    typedef ap_fixed<12, 4> bias_t;
    typedef mlp_end first_layer; // the chain (generated)
};

// Pair slot s -> (i, j).
template <typename CONFIG_T> inline void pair_of_slot(unsigned s, unsigned &i, unsigned &j) {
#pragma HLS INLINE
    const unsigned N = CONFIG_T::n_particles;
    if (CONFIG_T::symmetric) {
        const unsigned t = s / (N + 1), k = s % (N + 1);
        if (k < N - t) {
            i = t;
            j = t + k;
        } else {
            i = N - 1 - t;
            j = i + (k - (N - t));
        }
    } else {
        i = s / N;
        j = s % N;
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void pair_embed(data_T data[CONFIG_T::n_particles * CONFIG_T::n_particles * CONFIG_T::n_features],
                res_T res[CONFIG_T::n_heads * CONFIG_T::n_particles * CONFIG_T::n_particles],
                typename CONFIG_T::weight_t weights[CONFIG_T::n_weights],
                typename CONFIG_T::bias_t biases[CONFIG_T::n_biases]) {
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable = weights complete
#pragma HLS ARRAY_PARTITION variable = biases complete
#pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::multiplier_limit
    const unsigned N = CONFIG_T::n_particles;
    const unsigned H = CONFIG_T::n_heads;
Pairs:
    for (unsigned s = 0; s < CONFIG_T::n_pairs; s += CONFIG_T::parallel) {
#pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    Lanes:
        for (unsigned p = 0; p < CONFIG_T::parallel; p++) {
#pragma HLS UNROLL
            unsigned i, j;
            pair_of_slot<CONFIG_T>(s + p, i, j);
            data_T x[CONFIG_T::n_features];
#pragma HLS ARRAY_PARTITION variable = x complete
        Features:
            for (unsigned f = 0; f < CONFIG_T::n_features; f++) {
#pragma HLS UNROLL
                x[f] = data[(i * N + j) * CONFIG_T::n_features + f];
            }
            res_T y[H];
#pragma HLS ARRAY_PARTITION variable = y complete
            pair_mlp<data_T, res_T, typename CONFIG_T::first_layer>::run(x, y, weights, biases);
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
