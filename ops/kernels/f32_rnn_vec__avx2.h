/* Vector vocabulary of rnn_gates_simd.h for float on AVX2 + FMA (8 lanes).
 * Included only by the f32_*__avx2.c recurrent kernels. */
#include <immintrin.h>
#include <stdint.h>

#define T float
#define V __m256
#define VL 8
#define CELL or_rnn_cell_f32
#define EXP_LO -87.0f       /* keeps 2^n normal: n >= -126 */
#define LN2_HI 0.693359375f /* 9 significant bits: n * LN2_HI is exact */
#define LN2_LO -2.12194440054690583e-4
#define EXP_NC 6

/* Lane i is active when rnn_mask_src[8 - n + i] is all ones. */
static const int32_t rnn_mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static inline __m256i rnn_lane_mask(int n) {
    return _mm256_loadu_si256((const __m256i *)(rnn_mask_src + 8 - n));
}

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
static inline V vloadn(const T *p, int n) {
    return _mm256_maskload_ps(p, rnn_lane_mask(n));
}
static inline void vstoren(T *p, V v, int n) {
    _mm256_maskstore_ps(p, rnn_lane_mask(n), v);
}
static inline V vadd(V a, V b) {
    return _mm256_add_ps(a, b);
}
static inline V vsub(V a, V b) {
    return _mm256_sub_ps(a, b);
}
static inline V vmul(V a, V b) {
    return _mm256_mul_ps(a, b);
}
static inline V vdiv(V a, V b) {
    return _mm256_div_ps(a, b);
}
static inline V vfma(V a, V b, V c) {
    return _mm256_fmadd_ps(a, b, c);
}
static inline V vmin(V a, V b) {
    return _mm256_min_ps(a, b);
}
static inline V vmax(V a, V b) {
    return _mm256_max_ps(a, b);
}
static inline V vabs(V a) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a);
}
static inline V vcopysign(V mag, V sgn) {
    V sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, mag), _mm256_and_ps(sign, sgn));
}
static inline V vsel_ge0(V x, V a, V b) {
    return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
}
static inline V vround(V x) {
    return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
static inline V vpow2n(V n) {
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}
