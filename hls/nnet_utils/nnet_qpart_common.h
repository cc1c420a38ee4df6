// qpart: helpers shared by the qpart layers (exact rescaling, lookup tables, ReLU).
//
// Every type used with these helpers is generated in Python (hls/fxtypes.py) so that no
// intermediate rounds or wraps unless the Keras layer (model/layers.py) casts it there too.
#ifndef NNET_QPART_COMMON_H_
#define NNET_QPART_COMMON_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "nnet_common.h"

// A table (or any constant array) as `copies` ROMs: the array holds `copies` identical tables
// back to back and is block-partitioned into one dual-port ROM each, bound to BRAM. The tools
// spell the binding differently: Vitis HLS BIND_STORAGE, Vivado HLS RESOURCE.
#define QPART_STR(x) #x
#ifdef __VITIS_HLS__
#define QPART_ROM(var, copies)                                                                                              \
    _Pragma(QPART_STR(HLS ARRAY_PARTITION variable = var block factor = copies))                                            \
        _Pragma(QPART_STR(HLS BIND_STORAGE variable = var type = rom_2p impl = bram))
#else
#define QPART_ROM(var, copies)                                                                                              \
    _Pragma(QPART_STR(HLS ARRAY_PARTITION variable = var block factor = copies))                                            \
        _Pragma(QPART_STR(HLS RESOURCE variable = var core = ROM_2P_BRAM))
#endif

namespace nnet {
namespace qpart {

// The same raw bits under another binary point: x * 2**(out_T::iwidth - in_T::iwidth), exactly.
// Used for division by a power of two (mean, variance, attention scale): wiring, no logic.
template <class out_T, class in_T> inline out_T rescale_bits(const in_T &x) {
#pragma HLS INLINE
    out_T y;
    y.range(out_T::width - 1, 0) = x.range(in_T::width - 1, 0);
    return y;
}

// Lookup as model/tables.py: the index is the raw bits of x cast to index_T
// (ap_ufixed<log2(N), range, AP_TRN, AP_SAT>: floor, negative -> 0, past the range -> N-1).
// The table values are written from Python (never recomputed here).
template <class index_T, class table_T, unsigned N, class x_T>
inline table_T table_lookup(const table_T table[N], const x_T &x) {
#pragma HLS INLINE
    index_T idx = x;
    ap_uint<index_T::width> raw = idx.range(index_T::width - 1, 0);
    return table[raw];
}

// The copy that lookup number k of a pipelined iteration reads: each dual-port copy serves
// 2 * II lookups an iteration (k is an unrolled loop index: a constant, no logic).
template <unsigned reuse_factor> inline unsigned rom_copy(unsigned k) {
#pragma HLS INLINE
    return k / (2 * reuse_factor);
}

// The most negative value of T (0 for unsigned T).
template <class T> inline T lowest(bool is_signed) {
#pragma HLS INLINE
    T x = 0;
    if (is_signed) {
        x[T::width - 1] = 1;
    }
    return x;
}

template <class T> inline T relu(const T &x) {
#pragma HLS INLINE
    return x > 0 ? x : T(0);
}

} // namespace qpart
} // namespace nnet

#endif
