/* Vector vocabulary of rnn_gates_simd.h for double on AVX2 + FMA (4 lanes).
 * Included only by the f64_*__avx2.c recurrent kernels. */
#include <immintrin.h>
#include <stdint.h>

#define T double
#define V __m256d
#define VL 4
#define CELL or_rnn_cell_f64
#define EXP_LO -708.0                     /* keeps 2^n normal: n >= -1022 */
#define LN2_HI 6.93147180369123816490e-01 /* low 32 bits zero: n * LN2_HI is exact */
#define LN2_LO 1.90821492927058770002e-10
#define EXP_NC 12

/* Lane i is active when rnn_mask_src[4 - n + i] is all ones. */
static const int64_t rnn_mask_src[8] = {-1, -1, -1, -1, 0, 0, 0, 0};
static inline __m256i rnn_lane_mask(int n) {
    return _mm256_loadu_si256((const __m256i *)(rnn_mask_src + 4 - n));
}

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
static inline V vloadn(const T *p, int n) {
    return _mm256_maskload_pd(p, rnn_lane_mask(n));
}
static inline void vstoren(T *p, V v, int n) {
    _mm256_maskstore_pd(p, rnn_lane_mask(n), v);
}
static inline V vadd(V a, V b) {
    return _mm256_add_pd(a, b);
}
static inline V vsub(V a, V b) {
    return _mm256_sub_pd(a, b);
}
static inline V vmul(V a, V b) {
    return _mm256_mul_pd(a, b);
}
static inline V vdiv(V a, V b) {
    return _mm256_div_pd(a, b);
}
static inline V vfma(V a, V b, V c) {
    return _mm256_fmadd_pd(a, b, c);
}
static inline V vmin(V a, V b) {
    return _mm256_min_pd(a, b);
}
static inline V vmax(V a, V b) {
    return _mm256_max_pd(a, b);
}
static inline V vabs(V a) {
    return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a);
}
static inline V vcopysign(V mag, V sgn) {
    V sign = _mm256_set1_pd(-0.0);
    return _mm256_or_pd(_mm256_andnot_pd(sign, mag), _mm256_and_pd(sign, sgn));
}
static inline V vsel_ge0(V x, V a, V b) {
    return _mm256_blendv_pd(b, a, _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GE_OQ));
}
static inline V vround(V x) {
    return _mm256_round_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
static inline V vpow2n(V n) {
    __m256i e = _mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(n));
    e = _mm256_add_epi64(e, _mm256_set1_epi64x(1023));
    return _mm256_castsi256_pd(_mm256_slli_epi64(e, 52));
}
