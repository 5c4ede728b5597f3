/* Single-precision GEMM micro-kernels for AVX2 + FMA: a 6x16 tile (12 ymm
 * accumulators) and the small-M kernels of gemm_template.h. */
#include "gemm_kernels.h"

#include <immintrin.h>

#define T float
#define V __m256
#define VL 8
#define MR 6
#define NV 2
/* An R from the L3 prefetched in every micro-tile, not only one row's: one
 * step's product against a 4 MiB R, 3 rows 83.5-84 -> 88 GFLOP/s; 4, 5, 8
 * and 16 rows 85-91 -> 90-94 while other work shared the L3, the same
 * either way while it did not (Zen 3, medians of 500 calls). */
#define PREFETCH_L3_EVERY_TILE 1
#define GEMV_N_W1 8
#define GEMV_N_W2 4
#define GEMV_N_W3 4
#define GEMV_N_W4 2

/* Lane i is loaded/stored when mask_src[8 - n + i] is all ones. */
static const int32_t mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

static inline V vzero(void) {
    return _mm256_setzero_ps();
}
static inline V vset1(T x) {
    return _mm256_set1_ps(x);
}
static inline V vload(const T *p) {
    return _mm256_loadu_ps(p);
}
static inline void vstore(T *p, V v) {
    _mm256_storeu_ps(p, v);
}
static inline V vfma(V a, V b, V c) {
    return _mm256_fmadd_ps(a, b, c);
}
static inline V vmul(V a, V b) {
    return _mm256_mul_ps(a, b);
}
static inline V vadd(V a, V b) {
    return _mm256_add_ps(a, b);
}
static inline __m256i lane_mask(int n) {
    return _mm256_loadu_si256((const __m256i *)(mask_src + 8 - n));
}
static inline V vloadn(const T *p, int n) {
    return _mm256_maskload_ps(p, lane_mask(n));
}
static inline void vstoren(T *p, V v, int n) {
    _mm256_maskstore_ps(p, lane_mask(n), v);
}
static inline T vhsum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#include "gemm_template.h"

const or_f32_gemm_kernel or_f32_gemm__avx2 = {
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
