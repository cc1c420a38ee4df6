// qpart: ParT's particle attention (pair-interaction bias, key padding mask) and class-token
// attention, bit-exact with model/layers.py (_Attention and subclasses).
//
// Per head h, query i, key j:
//   q, k, v  = cast_qkv(norm(x) . W + b)                         nnet::dense_latency per row
//   logit_ij = cast_logit(q_i . k_j * 2**-shift (+ bias_hij))    exact until the cast
//   top_i    = max over unmasked j of logit_ij, starting at logit_t's lowest value
//   e_ij     = exp_table[index(top_i - logit_ij)], 0 for a masked key
//   a_ij     = cast_attn(e_ij * inv_table[index(sum_j e_ij)])
//   ctx_i    = cast_ctx(sum_j a_ij v_j);   out_i = cast_result(concat_h(ctx_i) . Wo + bo)
// The tables come from Python (model/tables.py) as constant arrays. hls4ml's softmax rebuilds
// its tables in C++ and has no mask, so this block is ours; the projections reuse hls4ml's
// nnet::dense_latency with exact accumulators.
#ifndef NNET_QPART_ATTENTION_H_
#define NNET_QPART_ATTENTION_H_

#include "nnet_common.h"
#include "nnet_qpart_common.h"
#include "nnet_qpart_dense.h"
#include "nnet_qpart_layernorm.h"

namespace nnet {
namespace qpart {

struct attention_config {
    static const unsigned n_tokens = 8; // rows of x
    static const unsigned n_q = 8;      // queries
    static const unsigned n_kv = 8;     // keys / values
    static const unsigned dim = 16;
    static const unsigned n_heads = 2;
    static const unsigned head_dim = 8;
    static const unsigned exp_table_size = 1024;
    static const unsigned inv_table_size = 1024;
    static const bool logit_signed = true;
    static const unsigned reuse_factor = 1;
    static const unsigned multiplier_limit = 1;
    // the full set of typedefs is generated (hls/extensions/attention.py):
    // qkv_t, dot_t, scaled_t, biased_t, logit_t, ldiff_t, exp_index_t, esum_t, inv_index_t,
    // prob_t, attn_t, ctx_acc_t, ctx_t, norm_t, weight_t, bias_t, exp_table_t, inv_table_t;
    // nested configs: norm_config (layernorm_config), q_config, k_config, v_config, o_config
    // (nnet::dense_config).
};

// The logit of query i and key j for one head (before the bias and the cast).
template <typename CONFIG_T>
inline typename CONFIG_T::scaled_t qk_dot(typename CONFIG_T::qkv_t q[CONFIG_T::n_q * CONFIG_T::dim],
                                          typename CONFIG_T::qkv_t k[CONFIG_T::n_kv * CONFIG_T::dim], unsigned h,
                                          unsigned i, unsigned j) {
    #pragma HLS INLINE
    typename CONFIG_T::dot_t dot = 0;
Dot:
    for (unsigned d = 0; d < CONFIG_T::head_dim; d++) {
        #pragma HLS UNROLL
        unsigned col = h * CONFIG_T::head_dim + d;
        dot += q[i * CONFIG_T::dim + col] * k[j * CONFIG_T::dim + col];
    }
    return rescale_bits<typename CONFIG_T::scaled_t>(dot); // * 2**-shift
}

// logits[h, i, j] = cast_logit(q_i . k_j * 2**-shift + bias[h, i, j])
template <class bias_T, typename CONFIG_T>
void logits_biased(typename CONFIG_T::qkv_t q[CONFIG_T::n_q * CONFIG_T::dim],
                   typename CONFIG_T::qkv_t k[CONFIG_T::n_kv * CONFIG_T::dim],
                   bias_T bias[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_kv],
                   typename CONFIG_T::logit_t logits[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_kv]) {
    #pragma HLS INLINE
    for (unsigned h = 0; h < CONFIG_T::n_heads; h++) {
        #pragma HLS UNROLL
        for (unsigned i = 0; i < CONFIG_T::n_q; i++) {
            #pragma HLS UNROLL
            for (unsigned j = 0; j < CONFIG_T::n_kv; j++) {
                #pragma HLS UNROLL
                unsigned idx = (h * CONFIG_T::n_q + i) * CONFIG_T::n_kv + j;
                typename CONFIG_T::biased_t biased = qk_dot<CONFIG_T>(q, k, h, i, j) + bias[idx];
                logits[idx] = (typename CONFIG_T::logit_t)biased;
            }
        }
    }
}

// logits[h, i, j] = cast_logit(q_i . k_j * 2**-shift)
template <typename CONFIG_T>
void logits_plain(typename CONFIG_T::qkv_t q[CONFIG_T::n_q * CONFIG_T::dim],
                  typename CONFIG_T::qkv_t k[CONFIG_T::n_kv * CONFIG_T::dim],
                  typename CONFIG_T::logit_t logits[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_kv]) {
    #pragma HLS INLINE
    for (unsigned h = 0; h < CONFIG_T::n_heads; h++) {
        #pragma HLS UNROLL
        for (unsigned i = 0; i < CONFIG_T::n_q; i++) {
            #pragma HLS UNROLL
            for (unsigned j = 0; j < CONFIG_T::n_kv; j++) {
                #pragma HLS UNROLL
                unsigned idx = (h * CONFIG_T::n_q + i) * CONFIG_T::n_kv + j;
                logits[idx] = (typename CONFIG_T::logit_t)qk_dot<CONFIG_T>(q, k, h, i, j);
            }
        }
    }
}

// Masked table softmax over the keys of every (head, query) row.
template <typename CONFIG_T>
void masked_softmax(typename CONFIG_T::logit_t logits[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_kv],
                    bool keep[CONFIG_T::n_kv],
                    typename CONFIG_T::attn_t attn[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_kv],
                    typename CONFIG_T::exp_table_t exp_table[CONFIG_T::exp_table_size],
                    typename CONFIG_T::inv_table_t inv_table[CONFIG_T::inv_table_size]) {
    #pragma HLS INLINE
    for (unsigned r = 0; r < CONFIG_T::n_heads * CONFIG_T::n_q; r++) {
        #pragma HLS UNROLL
        const unsigned row = r * CONFIG_T::n_kv;
        typename CONFIG_T::logit_t top = lowest<typename CONFIG_T::logit_t>(CONFIG_T::logit_signed);
    Max:
        for (unsigned j = 0; j < CONFIG_T::n_kv; j++) {
            #pragma HLS UNROLL
            if (keep[j] && logits[row + j] > top) {
                top = logits[row + j];
            }
        }
        typename CONFIG_T::exp_table_t e[CONFIG_T::n_kv];
        #pragma HLS ARRAY_PARTITION variable = e complete
        typename CONFIG_T::esum_t esum = 0;
    Exp:
        for (unsigned j = 0; j < CONFIG_T::n_kv; j++) {
            #pragma HLS UNROLL
            typename CONFIG_T::ldiff_t d = top - logits[row + j];
            typename CONFIG_T::exp_table_t ej =
                table_lookup<typename CONFIG_T::exp_index_t, typename CONFIG_T::exp_table_t, CONFIG_T::exp_table_size>(
                    exp_table, d);
            e[j] = keep[j] ? ej : typename CONFIG_T::exp_table_t(0);
            esum += e[j];
        }
        typename CONFIG_T::inv_table_t inv =
            table_lookup<typename CONFIG_T::inv_index_t, typename CONFIG_T::inv_table_t, CONFIG_T::inv_table_size>(
                inv_table, esum);
    Normalise:
        for (unsigned j = 0; j < CONFIG_T::n_kv; j++) {
            #pragma HLS UNROLL
            typename CONFIG_T::prob_t p = e[j] * inv;
            attn[row + j] = (typename CONFIG_T::attn_t)p;
        }
    }
}

// ctx[i, h*head_dim + d] = cast_ctx(sum_j attn[h, i, j] * v[j, h*head_dim + d])
template <typename CONFIG_T>
void context(typename CONFIG_T::attn_t attn[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_kv],
             typename CONFIG_T::qkv_t v[CONFIG_T::n_kv * CONFIG_T::dim],
             typename CONFIG_T::ctx_t ctx[CONFIG_T::n_q * CONFIG_T::dim]) {
    #pragma HLS INLINE
    for (unsigned h = 0; h < CONFIG_T::n_heads; h++) {
        #pragma HLS UNROLL
        for (unsigned i = 0; i < CONFIG_T::n_q; i++) {
            #pragma HLS UNROLL
            for (unsigned d = 0; d < CONFIG_T::head_dim; d++) {
                #pragma HLS UNROLL
                unsigned col = h * CONFIG_T::head_dim + d;
                typename CONFIG_T::ctx_acc_t acc = 0;
            Keys:
                for (unsigned j = 0; j < CONFIG_T::n_kv; j++) {
                    #pragma HLS UNROLL
                    acc += attn[(h * CONFIG_T::n_q + i) * CONFIG_T::n_kv + j] * v[j * CONFIG_T::dim + col];
                }
                ctx[i * CONFIG_T::dim + col] = (typename CONFIG_T::ctx_t)acc;
            }
        }
    }
}

// ParticleAttention: (x (N, E), bias (H, N, N), mask (N)) -> (N, E)
template <class data_T, class bias_T, class mask_T, class res_T, typename CONFIG_T>
void particle_attention(data_T x[CONFIG_T::n_tokens * CONFIG_T::dim],
                        bias_T bias[CONFIG_T::n_heads * CONFIG_T::n_tokens * CONFIG_T::n_tokens],
                        mask_T mask[CONFIG_T::n_tokens], res_T res[CONFIG_T::n_tokens * CONFIG_T::dim],
                        typename CONFIG_T::norm_config::gamma_t norm_gamma[CONFIG_T::dim],
                        typename CONFIG_T::norm_config::beta_t norm_beta[CONFIG_T::dim],
                        typename CONFIG_T::norm_config::table_t norm_table[CONFIG_T::norm_config::table_size],
                        typename CONFIG_T::weight_t wq[CONFIG_T::dim * CONFIG_T::dim],
                        typename CONFIG_T::bias_t bq[CONFIG_T::dim],
                        typename CONFIG_T::weight_t wk[CONFIG_T::dim * CONFIG_T::dim],
                        typename CONFIG_T::bias_t bk[CONFIG_T::dim],
                        typename CONFIG_T::weight_t wv[CONFIG_T::dim * CONFIG_T::dim],
                        typename CONFIG_T::bias_t bv[CONFIG_T::dim],
                        typename CONFIG_T::weight_t wo[CONFIG_T::dim * CONFIG_T::dim],
                        typename CONFIG_T::bias_t bo[CONFIG_T::dim],
                        typename CONFIG_T::exp_table_t exp_table[CONFIG_T::exp_table_size],
                        typename CONFIG_T::inv_table_t inv_table[CONFIG_T::inv_table_size]) {
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::multiplier_limit
    const unsigned N = CONFIG_T::n_tokens;
    const unsigned E = CONFIG_T::dim;
    const unsigned L = CONFIG_T::n_heads * N * N;

    typename CONFIG_T::norm_t h[N * E];
    typename CONFIG_T::qkv_t q[N * E], k[N * E], v[N * E];
    typename CONFIG_T::logit_t logits[L];
    typename CONFIG_T::attn_t attn[L];
    typename CONFIG_T::ctx_t ctx[N * E];
    bool keep[N];
    #pragma HLS ARRAY_PARTITION variable = h complete
    #pragma HLS ARRAY_PARTITION variable = q complete
    #pragma HLS ARRAY_PARTITION variable = k complete
    #pragma HLS ARRAY_PARTITION variable = v complete
    #pragma HLS ARRAY_PARTITION variable = logits complete
    #pragma HLS ARRAY_PARTITION variable = attn complete
    #pragma HLS ARRAY_PARTITION variable = ctx complete
    #pragma HLS ARRAY_PARTITION variable = keep complete

    layernorm_rows<data_T, typename CONFIG_T::norm_t, typename CONFIG_T::norm_config>(x, h, norm_gamma, norm_beta,
                                                                                       norm_table);
    dense_rows<typename CONFIG_T::norm_t, typename CONFIG_T::qkv_t, typename CONFIG_T::q_config, N>(h, q, wq, bq);
    dense_rows<typename CONFIG_T::norm_t, typename CONFIG_T::qkv_t, typename CONFIG_T::k_config, N>(h, k, wk, bk);
    dense_rows<typename CONFIG_T::norm_t, typename CONFIG_T::qkv_t, typename CONFIG_T::v_config, N>(h, v, wv, bv);

    logits_biased<bias_T, CONFIG_T>(q, k, bias, logits);
Mask:
    for (unsigned j = 0; j < N; j++) {
        #pragma HLS UNROLL
        keep[j] = mask[j] > 0;
    }
    masked_softmax<CONFIG_T>(logits, keep, attn, exp_table, inv_table);
    context<CONFIG_T>(attn, v, ctx);
    dense_rows<typename CONFIG_T::ctx_t, res_T, typename CONFIG_T::o_config, N>(ctx, res, wo, bo);
}

// ClassAttention: (cls (1, E), x (N, E), mask (N)) -> (1, E). Keys and values: [norm(cls); norm(x)],
// the class token never masked.
template <class cls_T, class data_T, class mask_T, class res_T, typename CONFIG_T>
void class_attention(cls_T cls[CONFIG_T::dim], data_T x[CONFIG_T::n_tokens * CONFIG_T::dim],
                     mask_T mask[CONFIG_T::n_tokens], res_T res[CONFIG_T::dim],
                     typename CONFIG_T::norm_config::gamma_t norm_gamma[CONFIG_T::dim],
                     typename CONFIG_T::norm_config::beta_t norm_beta[CONFIG_T::dim],
                     typename CONFIG_T::norm_config::table_t norm_table[CONFIG_T::norm_config::table_size],
                     typename CONFIG_T::weight_t wq[CONFIG_T::dim * CONFIG_T::dim],
                     typename CONFIG_T::bias_t bq[CONFIG_T::dim],
                     typename CONFIG_T::weight_t wk[CONFIG_T::dim * CONFIG_T::dim],
                     typename CONFIG_T::bias_t bk[CONFIG_T::dim],
                     typename CONFIG_T::weight_t wv[CONFIG_T::dim * CONFIG_T::dim],
                     typename CONFIG_T::bias_t bv[CONFIG_T::dim],
                     typename CONFIG_T::weight_t wo[CONFIG_T::dim * CONFIG_T::dim],
                     typename CONFIG_T::bias_t bo[CONFIG_T::dim],
                     typename CONFIG_T::exp_table_t exp_table[CONFIG_T::exp_table_size],
                     typename CONFIG_T::inv_table_t inv_table[CONFIG_T::inv_table_size]) {
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::multiplier_limit
    const unsigned N = CONFIG_T::n_tokens;
    const unsigned T = CONFIG_T::n_kv; // N + 1
    const unsigned E = CONFIG_T::dim;
    const unsigned L = CONFIG_T::n_heads * T;

    typename CONFIG_T::norm_t h[T * E]; // row 0: the class token
    typename CONFIG_T::qkv_t q[E], k[T * E], v[T * E];
    typename CONFIG_T::logit_t logits[L];
    typename CONFIG_T::attn_t attn[L];
    typename CONFIG_T::ctx_t ctx[E];
    bool keep[T];
    #pragma HLS ARRAY_PARTITION variable = h complete
    #pragma HLS ARRAY_PARTITION variable = q complete
    #pragma HLS ARRAY_PARTITION variable = k complete
    #pragma HLS ARRAY_PARTITION variable = v complete
    #pragma HLS ARRAY_PARTITION variable = logits complete
    #pragma HLS ARRAY_PARTITION variable = attn complete
    #pragma HLS ARRAY_PARTITION variable = ctx complete
    #pragma HLS ARRAY_PARTITION variable = keep complete

    layernorm_row<cls_T, typename CONFIG_T::norm_t, typename CONFIG_T::norm_config>(cls, h, norm_gamma, norm_beta,
                                                                                     norm_table);
    layernorm_rows<data_T, typename CONFIG_T::norm_t, typename CONFIG_T::norm_config>(x, &h[E], norm_gamma, norm_beta,
                                                                                       norm_table);
    dense_rows<typename CONFIG_T::norm_t, typename CONFIG_T::qkv_t, typename CONFIG_T::q_config, 1>(h, q, wq, bq);
    dense_rows<typename CONFIG_T::norm_t, typename CONFIG_T::qkv_t, typename CONFIG_T::k_config, T>(h, k, wk, bk);
    dense_rows<typename CONFIG_T::norm_t, typename CONFIG_T::qkv_t, typename CONFIG_T::v_config, T>(h, v, wv, bv);

    logits_plain<CONFIG_T>(q, k, logits);
    keep[0] = true;
Mask:
    for (unsigned j = 0; j < N; j++) {
        #pragma HLS UNROLL
        keep[j + 1] = mask[j] > 0;
    }
    masked_softmax<CONFIG_T>(logits, keep, attn, exp_table, inv_table);
    context<CONFIG_T>(attn, v, ctx);
    dense_rows<typename CONFIG_T::ctx_t, res_T, typename CONFIG_T::o_config, 1>(ctx, res, wo, bo);
}

} // namespace qpart
} // namespace nnet

#endif
