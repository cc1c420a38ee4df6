// qpart: ParT's particle attention (pair-interaction bias or none, key padding mask) and class-token
// attention, bit-exact with model/layers.py (_Attention and subclasses).
//
// Per head h, query i, key j:
//   q, k, v  = cast_qkv(norm(x) . W + b)
//   logit_ij = cast_logit(q_i . k_j * 2**-shift (+ bias_hij))    exact until the cast
//   top_i    = max over unmasked j of logit_ij, starting at logit_t's lowest value
//   e_ij     = exp_table[index(top_i - logit_ij)], 0 for a masked key
//   a_ij     = cast_attn(e_ij * inv_table[index(sum_j e_ij)])
//   ctx_i    = cast_ctx(sum_j a_ij v_j);   out_i = cast_result(concat_h(ctx_i) . Wo + bo)
// The tables come from Python (model/tables.py) as constant arrays, each held as ROM copies.
//
// Folding (hls/folding.py): two row loops, each pipelined at II = reuse_factor with `parallel`
// rows per iteration and its own multiplier limit:
//   token_rows:  per particle, layer norm + the q/k/v projections (k and v kept for every key);
//   query_rows:  per query, logits against every key, masked softmax, context and the output
//                projection: one query row at a time, the N x N attention matrix never stored.
// The class token is one more key (row 0 of k and v) and the only query of class attention.
#ifndef NNET_QPART_ATTENTION_H_
#define NNET_QPART_ATTENTION_H_

#include "nnet_common.h"
#include "nnet_qpart_common.h"
#include "nnet_qpart_dense.h"
#include "nnet_qpart_layernorm.h"

namespace nnet {
namespace qpart {

struct attention_config {
    static const unsigned n_tokens = 8; // particles (rows of x)
    static const unsigned n_q = 8;      // queries
    static const unsigned n_kv = 8;     // keys / values (n_tokens, + 1 with the class token)
    static const unsigned dim = 16;
    static const unsigned n_heads = 2;
    static const unsigned head_dim = 8;
    static const unsigned exp_table_size = 1024;
    static const unsigned inv_table_size = 1024;
    static const bool logit_signed = true;
    static const unsigned parallel = 1;     // token rows (and particle queries) per iteration
    static const unsigned q_parallel = 1;   // query rows per iteration
    static const unsigned reuse_factor = 1; // II of both row loops
    static const unsigned token_multiplier_limit = 1;
    static const unsigned query_multiplier_limit = 1;
    static const unsigned norm_copies = 1, exp_copies = 1, inv_copies = 1; // ROM copies
    // the full set of typedefs is generated (hls/layers/attention/extension.py):
    // qkv_t, dot_t, scaled_t, biased_t, logit_t, ldiff_t, exp_index_t, esum_t, inv_index_t,
    // prob_t, attn_t, ctx_acc_t, ctx_t, norm_t, weight_t, bias_t, exp_table_t, inv_table_t;
    // nested configs: norm_config (layernorm_config), q_config, k_config, v_config, o_config
    // (row_config).
};

// The argument lists of the weights and tables (after each function's own inputs and outputs).
#define QPART_QKV_PARAMS(CONFIG_T)                                                                                          \
    const typename CONFIG_T::weight_t wq[CONFIG_T::dim * CONFIG_T::dim], const typename CONFIG_T::bias_t bq[CONFIG_T::dim], \
        const typename CONFIG_T::weight_t wk[CONFIG_T::dim * CONFIG_T::dim],                                                \
        const typename CONFIG_T::bias_t bk[CONFIG_T::dim],                                                                  \
        const typename CONFIG_T::weight_t wv[CONFIG_T::dim * CONFIG_T::dim],                                                \
        const typename CONFIG_T::bias_t bv[CONFIG_T::dim]
#define QPART_QUERY_PARAMS(CONFIG_T)                                                                                        \
    const typename CONFIG_T::weight_t wo[CONFIG_T::dim * CONFIG_T::dim], const typename CONFIG_T::bias_t bo[CONFIG_T::dim], \
        const typename CONFIG_T::exp_table_t exp_table[CONFIG_T::exp_copies * CONFIG_T::exp_table_size],                    \
        const typename CONFIG_T::inv_table_t inv_table[CONFIG_T::inv_copies * CONFIG_T::inv_table_size]
#define QPART_TOKEN_PARAMS(CONFIG_T)                                                                                        \
    const typename CONFIG_T::norm_config::gamma_t norm_gamma[CONFIG_T::dim],                                                \
        const typename CONFIG_T::norm_config::beta_t norm_beta[CONFIG_T::dim],                                              \
        const typename CONFIG_T::norm_config::table_t norm_table[CONFIG_T::norm_config::table_size],                        \
        QPART_QKV_PARAMS(CONFIG_T)
#define QPART_ATTENTION_PARAMS(CONFIG_T)                                                                                    \
    typename CONFIG_T::norm_config::gamma_t norm_gamma[CONFIG_T::dim],                                                      \
        typename CONFIG_T::norm_config::beta_t norm_beta[CONFIG_T::dim],                                                    \
        typename CONFIG_T::norm_config::table_t norm_table[CONFIG_T::norm_copies * CONFIG_T::norm_config::table_size],      \
        typename CONFIG_T::weight_t wq[CONFIG_T::dim * CONFIG_T::dim], typename CONFIG_T::bias_t bq[CONFIG_T::dim],         \
        typename CONFIG_T::weight_t wk[CONFIG_T::dim * CONFIG_T::dim], typename CONFIG_T::bias_t bk[CONFIG_T::dim],         \
        typename CONFIG_T::weight_t wv[CONFIG_T::dim * CONFIG_T::dim], typename CONFIG_T::bias_t bv[CONFIG_T::dim],         \
        typename CONFIG_T::weight_t wo[CONFIG_T::dim * CONFIG_T::dim], typename CONFIG_T::bias_t bo[CONFIG_T::dim],         \
        typename CONFIG_T::exp_table_t exp_table[CONFIG_T::exp_copies * CONFIG_T::exp_table_size],                          \
        typename CONFIG_T::inv_table_t inv_table[CONFIG_T::inv_copies * CONFIG_T::inv_table_size]

// No pair bias (class attention, a model without pair features): the logit is the scaled dot
// product, cast.
struct no_bias {};

template <typename CONFIG_T, class bias_T> struct biased_logit {
    static typename CONFIG_T::logit_t run(typename CONFIG_T::scaled_t s, bias_T b) {
#pragma HLS INLINE
        typename CONFIG_T::biased_t t = s + b;
        return (typename CONFIG_T::logit_t)t;
    }
};

template <typename CONFIG_T> struct biased_logit<CONFIG_T, no_bias> {
    static typename CONFIG_T::logit_t run(typename CONFIG_T::scaled_t s, no_bias) {
#pragma HLS INLINE
        return (typename CONFIG_T::logit_t)s;
    }
};

// An attention without its pre-norm (model.attn_norm: false): the projections read x itself
// (norm_t is x's type, or one holding x and the class token). The norm arrays of the signature
// are one-bit placeholders the extension writes and this layer never reads.
struct no_norm {
    static const bool enabled = false;
    static const unsigned dim = 1;
    static const unsigned table_size = 1;
    typedef ap_ufixed<1, 1> gamma_t;
    typedef ap_ufixed<1, 1> beta_t;
    typedef ap_ufixed<1, 1> table_t;
};

// The token row's pre-norm: layernorm_row (a layernorm_config), or a copy (no_norm).
template <class data_T, class res_T, typename NORM_T, bool enabled> struct pre_norm {
    static void run(const data_T x[NORM_T::dim], res_T h[NORM_T::dim], const typename NORM_T::gamma_t gamma[NORM_T::dim],
                    const typename NORM_T::beta_t beta[NORM_T::dim],
                    const typename NORM_T::table_t table[NORM_T::table_size]) {
#pragma HLS INLINE
        layernorm_row<data_T, res_T, NORM_T>(x, h, gamma, beta, table);
    }
};

template <class data_T, class res_T, typename NORM_T> struct pre_norm<data_T, res_T, NORM_T, false> {
    static void run(const data_T x[NORM_T::dim], res_T h[NORM_T::dim], const typename NORM_T::gamma_t[NORM_T::dim],
                    const typename NORM_T::beta_t[NORM_T::dim], const typename NORM_T::table_t[NORM_T::table_size]) {
#pragma HLS INLINE
    Copy:
        for (unsigned i = 0; i < NORM_T::dim; i++) {
#pragma HLS UNROLL
            h[i] = x[i];
        }
    }
};

// One token row: norm, then the projections (q only where `with_q`).
template <class data_T, typename CONFIG_T, bool with_q>
inline void token_row(const data_T x[CONFIG_T::dim], typename CONFIG_T::qkv_t q[CONFIG_T::dim],
                      typename CONFIG_T::qkv_t k[CONFIG_T::dim], typename CONFIG_T::qkv_t v[CONFIG_T::dim],
                      QPART_TOKEN_PARAMS(CONFIG_T)) {
#pragma HLS INLINE
    typename CONFIG_T::norm_t h[CONFIG_T::dim];
#pragma HLS ARRAY_PARTITION variable = h complete
    pre_norm<data_T, typename CONFIG_T::norm_t, typename CONFIG_T::norm_config, CONFIG_T::norm_config::enabled>::run(
        x, h, norm_gamma, norm_beta, norm_table);
    if (with_q) {
        dense_row<typename CONFIG_T::norm_t, typename CONFIG_T::qkv_t, typename CONFIG_T::q_config>(h, q, wq, bq);
    }
    dense_row<typename CONFIG_T::norm_t, typename CONFIG_T::qkv_t, typename CONFIG_T::k_config>(h, k, wk, bk);
    dense_row<typename CONFIG_T::norm_t, typename CONFIG_T::qkv_t, typename CONFIG_T::v_config>(h, v, wv, bv);
}

// Loop 1: every particle row -> q (particle attention), k and v (rows n_kv - n_tokens ...).
template <class data_T, typename CONFIG_T, bool with_q>
void token_rows(
    data_T x[CONFIG_T::n_tokens * CONFIG_T::dim], typename CONFIG_T::qkv_t q[CONFIG_T::n_q * CONFIG_T::dim],
    typename CONFIG_T::qkv_t k[CONFIG_T::n_kv * CONFIG_T::dim], typename CONFIG_T::qkv_t v[CONFIG_T::n_kv * CONFIG_T::dim],
    typename CONFIG_T::norm_config::gamma_t norm_gamma[CONFIG_T::dim],
    typename CONFIG_T::norm_config::beta_t norm_beta[CONFIG_T::dim],
    typename CONFIG_T::norm_config::table_t norm_table[CONFIG_T::norm_copies * CONFIG_T::norm_config::table_size],
    QPART_QKV_PARAMS(CONFIG_T)) {
#pragma HLS INLINE off
#pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::token_multiplier_limit
    const unsigned E = CONFIG_T::dim;
    const unsigned first = CONFIG_T::n_kv - CONFIG_T::n_tokens; // 1 after the class token
Tokens:
    for (unsigned r = 0; r < CONFIG_T::n_tokens; r += CONFIG_T::parallel) {
#pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    Lanes:
        for (unsigned p = 0; p < CONFIG_T::parallel; p++) {
#pragma HLS UNROLL
            const unsigned t = r + p;
            const unsigned copy = rom_copy<CONFIG_T::reuse_factor>(p);
            token_row<data_T, CONFIG_T, with_q>(
                &x[t * E], &q[(with_q ? t : 0) * E], &k[(first + t) * E], &v[(first + t) * E], norm_gamma, norm_beta,
                &norm_table[copy * CONFIG_T::norm_config::table_size], wq, bq, wk, bk, wv, bv);
        }
    }
}

// One query row: logits against every key, masked softmax, context, output projection.
template <class bias_T, class res_T, typename CONFIG_T>
inline void
query_row(const typename CONFIG_T::qkv_t q[CONFIG_T::dim], const typename CONFIG_T::qkv_t k[CONFIG_T::n_kv * CONFIG_T::dim],
          const typename CONFIG_T::qkv_t v[CONFIG_T::n_kv * CONFIG_T::dim], const bias_T *bias,
          const bool keep[CONFIG_T::n_kv], res_T res[CONFIG_T::dim], QPART_QUERY_PARAMS(CONFIG_T), unsigned lane) {
#pragma HLS INLINE
    const unsigned E = CONFIG_T::dim, HD = CONFIG_T::head_dim, T = CONFIG_T::n_kv;
    typename CONFIG_T::ctx_t ctx[CONFIG_T::dim];
#pragma HLS ARRAY_PARTITION variable = ctx complete
Heads:
    for (unsigned h = 0; h < CONFIG_T::n_heads; h++) {
#pragma HLS UNROLL
        typename CONFIG_T::logit_t logit[CONFIG_T::n_kv];
#pragma HLS ARRAY_PARTITION variable = logit complete
    Logits:
        for (unsigned j = 0; j < T; j++) {
#pragma HLS UNROLL
            typename CONFIG_T::dot_t dot = 0;
        Dot:
            for (unsigned d = 0; d < HD; d++) {
#pragma HLS UNROLL
                dot += q[h * HD + d] * k[j * E + h * HD + d];
            }
            typename CONFIG_T::scaled_t s = rescale_bits<typename CONFIG_T::scaled_t>(dot); // * 2**-shift
            logit[j] = biased_logit<CONFIG_T, bias_T>::run(s, bias[h * T + j]);
        }
        typename CONFIG_T::logit_t top = lowest<typename CONFIG_T::logit_t>(CONFIG_T::logit_signed);
    Max:
        for (unsigned j = 0; j < T; j++) {
#pragma HLS UNROLL
            if (keep[j] && logit[j] > top) {
                top = logit[j];
            }
        }
        typename CONFIG_T::exp_table_t e[CONFIG_T::n_kv];
#pragma HLS ARRAY_PARTITION variable = e complete
        typename CONFIG_T::esum_t esum = 0;
    Exp:
        for (unsigned j = 0; j < T; j++) {
#pragma HLS UNROLL
            const unsigned copy = rom_copy<CONFIG_T::reuse_factor>((lane * CONFIG_T::n_heads + h) * T + j);
            typename CONFIG_T::ldiff_t diff = top - logit[j];
            typename CONFIG_T::exp_table_t ej =
                table_lookup<typename CONFIG_T::exp_index_t, typename CONFIG_T::exp_table_t, CONFIG_T::exp_table_size>(
                    &exp_table[copy * CONFIG_T::exp_table_size], diff);
            e[j] = keep[j] ? ej : typename CONFIG_T::exp_table_t(0);
            esum += e[j];
        }
        const unsigned inv_copy = rom_copy<CONFIG_T::reuse_factor>(lane * CONFIG_T::n_heads + h);
        typename CONFIG_T::inv_table_t inv =
            table_lookup<typename CONFIG_T::inv_index_t, typename CONFIG_T::inv_table_t, CONFIG_T::inv_table_size>(
                &inv_table[inv_copy * CONFIG_T::inv_table_size], esum);
        typename CONFIG_T::attn_t attn[CONFIG_T::n_kv];
#pragma HLS ARRAY_PARTITION variable = attn complete
    Normalise:
        for (unsigned j = 0; j < T; j++) {
#pragma HLS UNROLL
            typename CONFIG_T::prob_t prob = e[j] * inv;
            attn[j] = (typename CONFIG_T::attn_t)prob;
        }
    Context:
        for (unsigned d = 0; d < HD; d++) {
#pragma HLS UNROLL
            typename CONFIG_T::ctx_acc_t acc = 0;
        Keys:
            for (unsigned j = 0; j < T; j++) {
#pragma HLS UNROLL
                acc += attn[j] * v[j * E + h * HD + d];
            }
            ctx[h * HD + d] = (typename CONFIG_T::ctx_t)acc;
        }
    }
    dense_row<typename CONFIG_T::ctx_t, res_T, typename CONFIG_T::o_config>(ctx, res, wo, bo);
}

// Loop 2: every query row. bias: (H, n_q, n_kv), or no_bias entries; keep: the unmasked keys.
template <class bias_T, class res_T, typename CONFIG_T>
void query_rows(typename CONFIG_T::qkv_t q[CONFIG_T::n_q * CONFIG_T::dim],
                typename CONFIG_T::qkv_t k[CONFIG_T::n_kv * CONFIG_T::dim],
                typename CONFIG_T::qkv_t v[CONFIG_T::n_kv * CONFIG_T::dim],
                bias_T bias[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_kv], bool keep[CONFIG_T::n_kv],
                res_T res[CONFIG_T::n_q * CONFIG_T::dim], QPART_QUERY_PARAMS(CONFIG_T)) {
#pragma HLS INLINE off
#pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::query_multiplier_limit
    const unsigned E = CONFIG_T::dim, T = CONFIG_T::n_kv, H = CONFIG_T::n_heads;
Queries:
    for (unsigned r = 0; r < CONFIG_T::n_q; r += CONFIG_T::q_parallel) {
#pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    Lanes:
        for (unsigned p = 0; p < CONFIG_T::q_parallel; p++) {
#pragma HLS UNROLL
            const unsigned i = r + p;
            bias_T row_bias[CONFIG_T::n_heads * CONFIG_T::n_kv];
#pragma HLS ARRAY_PARTITION variable = row_bias complete
        Bias:
            for (unsigned hj = 0; hj < H * T; hj++) {
#pragma HLS UNROLL
                row_bias[hj] = bias[((hj / T) * CONFIG_T::n_q + i) * T + hj % T];
            }
            query_row<bias_T, res_T, CONFIG_T>(&q[i * E], k, v, row_bias, keep, &res[i * E], wo, bo, exp_table, inv_table,
                                               p);
        }
    }
}

// The ROM copies and partitions of one layer's weights (in the function that receives them).
#define QPART_ATTENTION_ARRAYS(CONFIG_T)                                                                                    \
    QPART_ROM(norm_table, CONFIG_T::norm_copies)                                                                            \
    QPART_ROM(exp_table, CONFIG_T::exp_copies)                                                                              \
    QPART_ROM(inv_table, CONFIG_T::inv_copies)                                                                              \
    _Pragma("HLS ARRAY_PARTITION variable = norm_gamma complete")                                                           \
        _Pragma("HLS ARRAY_PARTITION variable = norm_beta complete") _Pragma("HLS ARRAY_PARTITION variable = wq complete")  \
            _Pragma("HLS ARRAY_PARTITION variable = wk complete") _Pragma("HLS ARRAY_PARTITION variable = wv complete")     \
                _Pragma("HLS ARRAY_PARTITION variable = wo complete") _Pragma("HLS ARRAY_PARTITION variable = bq complete") \
                    _Pragma("HLS ARRAY_PARTITION variable = bk complete")                                                   \
                        _Pragma("HLS ARRAY_PARTITION variable = bv complete")                                               \
                            _Pragma("HLS ARRAY_PARTITION variable = bo complete")

#define QPART_ATTENTION_ARGS norm_gamma, norm_beta, norm_table, wq, bq, wk, bk, wv, bv, wo, bo, exp_table, inv_table

// Self-attention over the particles with a bias per head and pair (or no_bias entries).
template <class data_T, class bias_T, class mask_T, class res_T, typename CONFIG_T>
inline void self_attention(data_T x[CONFIG_T::n_tokens * CONFIG_T::dim],
                           bias_T bias[CONFIG_T::n_heads * CONFIG_T::n_tokens * CONFIG_T::n_tokens],
                           mask_T mask[CONFIG_T::n_tokens], res_T res[CONFIG_T::n_tokens * CONFIG_T::dim],
                           QPART_ATTENTION_PARAMS(CONFIG_T)) {
#pragma HLS INLINE
    const unsigned N = CONFIG_T::n_tokens, E = CONFIG_T::dim;
    typename CONFIG_T::qkv_t q[N * E], k[N * E], v[N * E];
    bool keep[N];
#pragma HLS ARRAY_PARTITION variable = q complete
#pragma HLS ARRAY_PARTITION variable = k complete
#pragma HLS ARRAY_PARTITION variable = v complete
#pragma HLS ARRAY_PARTITION variable = keep complete
Mask:
    for (unsigned j = 0; j < N; j++) {
#pragma HLS UNROLL
        keep[j] = mask[j] > 0;
    }
    token_rows<data_T, CONFIG_T, true>(x, q, k, v, norm_gamma, norm_beta, norm_table, wq, bq, wk, bk, wv, bv);
    query_rows<bias_T, res_T, CONFIG_T>(q, k, v, bias, keep, res, wo, bo, exp_table, inv_table);
}

// ParticleAttention: (x (N, E), bias (H, N, N), mask (N)) -> (N, E)
template <class data_T, class bias_T, class mask_T, class res_T, typename CONFIG_T>
void particle_attention(data_T x[CONFIG_T::n_tokens * CONFIG_T::dim],
                        bias_T bias[CONFIG_T::n_heads * CONFIG_T::n_tokens * CONFIG_T::n_tokens],
                        mask_T mask[CONFIG_T::n_tokens], res_T res[CONFIG_T::n_tokens * CONFIG_T::dim],
                        QPART_ATTENTION_PARAMS(CONFIG_T)) {
#pragma HLS INLINE off
    QPART_ATTENTION_ARRAYS(CONFIG_T)
    self_attention<data_T, bias_T, mask_T, res_T, CONFIG_T>(x, bias, mask, res, QPART_ATTENTION_ARGS);
}

// ParticleAttention without the pair bias (model.pair_features: none, the plain transformer):
// (x (N, E), mask (N)) -> (N, E)
template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void particle_attention(data_T x[CONFIG_T::n_tokens * CONFIG_T::dim], mask_T mask[CONFIG_T::n_tokens],
                        res_T res[CONFIG_T::n_tokens * CONFIG_T::dim], QPART_ATTENTION_PARAMS(CONFIG_T)) {
#pragma HLS INLINE off
    QPART_ATTENTION_ARRAYS(CONFIG_T)
    no_bias none[CONFIG_T::n_heads * CONFIG_T::n_tokens * CONFIG_T::n_tokens];
    self_attention<data_T, no_bias, mask_T, res_T, CONFIG_T>(x, none, mask, res, QPART_ATTENTION_ARGS);
}

// ClassAttention: (cls (1, E), x (N, E), mask (N)) -> (1, E). Keys and values: [norm(cls); norm(x)],
// the class token never masked.
template <class cls_T, class data_T, class mask_T, class res_T, typename CONFIG_T>
void class_attention(cls_T cls[CONFIG_T::dim], data_T x[CONFIG_T::n_tokens * CONFIG_T::dim], mask_T mask[CONFIG_T::n_tokens],
                     res_T res[CONFIG_T::dim], QPART_ATTENTION_PARAMS(CONFIG_T)) {
#pragma HLS INLINE off
    QPART_ATTENTION_ARRAYS(CONFIG_T)
    const unsigned N = CONFIG_T::n_tokens, T = CONFIG_T::n_kv, E = CONFIG_T::dim;
    typename CONFIG_T::qkv_t q[E], k[T * E], v[T * E];
    bool keep[T];
#pragma HLS ARRAY_PARTITION variable = q complete
#pragma HLS ARRAY_PARTITION variable = k complete
#pragma HLS ARRAY_PARTITION variable = v complete
#pragma HLS ARRAY_PARTITION variable = keep complete
    keep[0] = true;
Mask:
    for (unsigned j = 0; j < N; j++) {
#pragma HLS UNROLL
        keep[j + 1] = mask[j] > 0;
    }
    // the class token: its own row of the first loop (q, and key/value 0)
    token_row<cls_T, CONFIG_T, true>(cls, q, k, v, norm_gamma, norm_beta, norm_table, wq, bq, wk, bk, wv, bv);
    token_rows<data_T, CONFIG_T, false>(x, q, k, v, norm_gamma, norm_beta, norm_table, wq, bq, wk, bk, wv, bv);
    no_bias none[CONFIG_T::n_heads * CONFIG_T::n_kv];
    query_rows<no_bias, res_T, CONFIG_T>(q, k, v, none, keep, res, wo, bo, exp_table, inv_table);
}

} // namespace qpart
} // namespace nnet

#endif
