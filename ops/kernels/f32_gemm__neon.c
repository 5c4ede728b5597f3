/* Single-precision GEMM micro-kernels for AArch64 NEON: an 8x12 tile (24 of
 * the 32 q registers as accumulators) and the small-M kernels of
 * gemm_template.h. */
#include "gemm_kernels.h"

/* The vector vocabulary is the recurrent kernels' (same lanes, loads, FMA). */
#include "f32_rnn_vec__neon.h"

#define MR 8
#define NV 3
#define GEMV_N_W1 8
#define GEMV_N_W2 4
#define GEMV_N_W3 4
#define GEMV_N_W4 2

static inline T vhsum(V v) {
    return vaddvq_f32(v);
}

#include "gemm_template.h"

const or_f32_gemm_kernel or_f32_gemm__neon = {
    .mr = MR,
    .nr = NV * VL,
    .mc = 48,
    .kc = 256,
    .nc = 60,
    .ukr = ukr,
    .ukr_l3 = ukr_l3,
    .ukr_stream = ukr_stream,
    .ukr_row = ukr_row,
    .ukr_two_rows = ukr_two_rows,
    .gemv_n = gemv_n,
    .gemv_t = gemv_t,
};
