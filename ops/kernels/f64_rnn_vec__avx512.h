/* Vector vocabulary of rnn_gates_simd.h for double on AVX-512F/DQ (8 lanes).
 * Included only by the f64_*__avx512.c recurrent kernels. */
#include <immintrin.h>
#include <stdint.h>

#define T double
#define V __m512d
#define VL 8
#define CELL or_rnn_cell_f64
#define EXP_LO -708.0
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define EXP_NC 12

static inline __mmask8 rnn_lane_mask(int n) {
    return (__mmask8)((1u << n) - 1u);
}

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
static inline V vloadn(const T *p, int n) {
    return _mm512_maskz_loadu_pd(rnn_lane_mask(n), p);
}
static inline void vstoren(T *p, V v, int n) {
    _mm512_mask_storeu_pd(p, rnn_lane_mask(n), v);
}
static inline V vadd(V a, V b) {
    return _mm512_add_pd(a, b);
}
static inline V vsub(V a, V b) {
    return _mm512_sub_pd(a, b);
}
static inline V vmul(V a, V b) {
    return _mm512_mul_pd(a, b);
}
static inline V vdiv(V a, V b) {
    return _mm512_div_pd(a, b);
}
static inline V vfma(V a, V b, V c) {
    return _mm512_fmadd_pd(a, b, c);
}
static inline V vmin(V a, V b) {
    return _mm512_min_pd(a, b);
}
static inline V vmax(V a, V b) {
    return _mm512_max_pd(a, b);
}
static inline V vabs(V a) {
    return _mm512_abs_pd(a);
}
static inline V vcopysign(V mag, V sgn) {
    V sign = _mm512_set1_pd(-0.0);
    return _mm512_or_pd(_mm512_andnot_pd(sign, mag), _mm512_and_pd(sign, sgn));
}
static inline V vsel_ge0(V x, V a, V b) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_GE_OQ), b, a);
}
static inline V vround(V x) {
    return _mm512_roundscale_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
static inline V vpow2n(V n) {
    return _mm512_scalef_pd(_mm512_set1_pd(1.0), n);
}
