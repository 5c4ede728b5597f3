/* Single-precision GEMM micro-kernels for AVX-512F: an 8x32 tile (16 zmm
 * accumulators) and the small-M kernels of gemm_template.h. */
#include "gemm_kernels.h"

#include <immintrin.h>

#define T float
#define V __m512
#define VL 16
#define MR 8
#define NV 2
#define GEMV_N_W1 8
#define GEMV_N_W2 4
#define GEMV_N_W3 4
#define GEMV_N_W4 4

static inline V vzero(void) {
    return _mm512_setzero_ps();
}
static inline V vset1(T x) {
    return _mm512_set1_ps(x);
}
static inline V vload(const T *p) {
    return _mm512_loadu_ps(p);
}
static inline void vstore(T *p, V v) {
    _mm512_storeu_ps(p, v);
}
static inline V vfma(V a, V b, V c) {
    return _mm512_fmadd_ps(a, b, c);
}
static inline V vmul(V a, V b) {
    return _mm512_mul_ps(a, b);
}
static inline V vadd(V a, V b) {
    return _mm512_add_ps(a, b);
}
static inline __mmask16 lane_mask(int n) {
    return (__mmask16)((1u << n) - 1u);
}
static inline V vloadn(const T *p, int n) {
    return _mm512_maskz_loadu_ps(lane_mask(n), p);
}
static inline void vstoren(T *p, V v, int n) {
    _mm512_mask_storeu_ps(p, lane_mask(n), v);
}
static inline T vhsum(V v) {
    return _mm512_reduce_add_ps(v);
}

#include "gemm_template.h"

const or_f32_gemm_kernel or_f32_gemm__avx512 = {
    .mr = MR,
    .nr = NV * VL,
    .mc = 48,
    .kc = 256,
    .nc = 64,
    .ukr = ukr,
    .ukr_l3 = ukr_l3,
    .ukr_stream = ukr_stream,
    .ukr_row = ukr_row,
    .ukr_two_rows = ukr_two_rows,
    .gemv_n = gemv_n,
    .gemv_t = gemv_t,
};
