/* Vector vocabulary of rnn_gates_simd.h for float on AVX-512F/DQ (16 lanes).
 * Included only by the f32_*__avx512.c recurrent kernels. */
#include <immintrin.h>
#include <stdint.h>

#define T float
#define V __m512
#define VL 16
#define CELL or_rnn_cell_f32
#define EXP_LO -87.0f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440054690583e-4
#define EXP_NC 6

static inline __mmask16 rnn_lane_mask(int n) {
    return (__mmask16)((1u << n) - 1u);
}

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
static inline V vloadn(const T *p, int n) {
    return _mm512_maskz_loadu_ps(rnn_lane_mask(n), p);
}
static inline void vstoren(T *p, V v, int n) {
    _mm512_mask_storeu_ps(p, rnn_lane_mask(n), v);
}
static inline V vadd(V a, V b) {
    return _mm512_add_ps(a, b);
}
static inline V vsub(V a, V b) {
    return _mm512_sub_ps(a, b);
}
static inline V vmul(V a, V b) {
    return _mm512_mul_ps(a, b);
}
static inline V vdiv(V a, V b) {
    return _mm512_div_ps(a, b);
}
static inline V vfma(V a, V b, V c) {
    return _mm512_fmadd_ps(a, b, c);
}
static inline V vmin(V a, V b) {
    return _mm512_min_ps(a, b);
}
static inline V vmax(V a, V b) {
    return _mm512_max_ps(a, b);
}
static inline V vabs(V a) {
    return _mm512_abs_ps(a);
}
static inline V vcopysign(V mag, V sgn) {
    V sign = _mm512_set1_ps(-0.0f);
    return _mm512_or_ps(_mm512_andnot_ps(sign, mag), _mm512_and_ps(sign, sgn));
}
static inline V vsel_ge0(V x, V a, V b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ), b, a);
}
static inline V vround(V x) {
    return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
static inline V vpow2n(V n) {
    return _mm512_scalef_ps(_mm512_set1_ps(1.0f), n);
}
