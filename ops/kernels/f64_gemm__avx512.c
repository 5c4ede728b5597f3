/* Double-precision GEMM micro-kernels for AVX-512F: an 8x16 tile (16 zmm
 * accumulators) and the small-M kernels of gemm_template.h. */
#include "gemm_kernels.h"

#include <immintrin.h>

#define T double
#define V __m512d
#define VL 8
#define MR 8
#define NV 2
#define GEMV_N_W1 8
#define GEMV_N_W2 4
#define GEMV_N_W3 4
#define GEMV_N_W4 4

static inline V vzero(void) {
    return _mm512_setzero_pd();
}
static inline V vset1(T x) {
    return _mm512_set1_pd(x);
}
static inline V vload(const T *p) {
    return _mm512_loadu_pd(p);
}
static inline void vstore(T *p, V v) {
    _mm512_storeu_pd(p, v);
}
static inline V vfma(V a, V b, V c) {
    return _mm512_fmadd_pd(a, b, c);
}
static inline V vmul(V a, V b) {
    return _mm512_mul_pd(a, b);
}
static inline V vadd(V a, V b) {
    return _mm512_add_pd(a, b);
}
static inline __mmask8 lane_mask(int n) {
    return (__mmask8)((1u << n) - 1u);
}
static inline V vloadn(const T *p, int n) {
    return _mm512_maskz_loadu_pd(lane_mask(n), p);
}
static inline void vstoren(T *p, V v, int n) {
    _mm512_mask_storeu_pd(p, lane_mask(n), v);
}
static inline T vhsum(V v) {
    return _mm512_reduce_add_pd(v);
}

#include "gemm_template.h"

const or_f64_gemm_kernel or_f64_gemm__avx512 = {
    .mr = MR,
    .nr = NV * VL,
    .mc = 48,
    .kc = 128,
    .nc = 64,
    .ukr = ukr,
    .ukr_l3 = ukr_l3,
    .ukr_stream = ukr_stream,
    .ukr_row = ukr_row,
    .ukr_two_rows = ukr_two_rows,
    .gemv_n = gemv_n,
    .gemv_t = gemv_t,
};
