/* Double-precision GEMM micro-kernels for AVX2 + FMA: a 6x8 tile (12 ymm
 * accumulators) and the small-M kernels of gemm_template.h. */
#include "gemm_kernels.h"

#include <immintrin.h>

#define T double
#define V __m256d
#define VL 4
#define MR 6
#define NV 2
#define GEMV_N_W1 8
#define GEMV_N_W2 4
#define GEMV_N_W3 4
#define GEMV_N_W4 2

/* Lane i is loaded/stored when mask_src[4 - n + i] is all ones. */
static const int64_t mask_src[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

static inline V vzero(void) {
    return _mm256_setzero_pd();
}
static inline V vset1(T x) {
    return _mm256_set1_pd(x);
}
static inline V vload(const T *p) {
    return _mm256_loadu_pd(p);
}
static inline void vstore(T *p, V v) {
    _mm256_storeu_pd(p, v);
}
static inline V vfma(V a, V b, V c) {
    return _mm256_fmadd_pd(a, b, c);
}
static inline V vmul(V a, V b) {
    return _mm256_mul_pd(a, b);
}
static inline V vadd(V a, V b) {
    return _mm256_add_pd(a, b);
}
static inline __m256i lane_mask(int n) {
    return _mm256_loadu_si256((const __m256i *)(mask_src + 4 - n));
}
static inline V vloadn(const T *p, int n) {
    return _mm256_maskload_pd(p, lane_mask(n));
}
static inline void vstoren(T *p, V v, int n) {
    _mm256_maskstore_pd(p, lane_mask(n), v);
}
static inline T vhsum(V v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

#include "gemm_template.h"

const or_f64_gemm_kernel or_f64_gemm__avx2 = {
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
