/* Vector vocabulary of rnn_gates_simd.h for double on AArch64 Advanced SIMD (2
 * lanes). Included only by the f64_*__neon.c recurrent kernels.
 *
 * NEON's min/max return NaN when either operand is NaN; every use in
 * rnn_gates_simd.h has a constant first operand, so that gives the same
 * result as the x86 "second operand" rule the vocabulary asks for. */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#define T double
#define V float64x2_t
#define VL 2
#define CELL or_rnn_cell_f64
#define EXP_LO -708.0                     /* keeps 2^n normal: n >= -1022 */
#define LN2_HI 6.93147180369123816490e-01 /* low 32 bits zero: n * LN2_HI is exact */
#define LN2_LO 1.90821492927058770002e-10
#define EXP_NC 12

static inline V vzero(void) {
    return vdupq_n_f64(0.0);
}
static inline V vset1(T x) {
    return vdupq_n_f64(x);
}
static inline V vload(const T *p) {
    return vld1q_f64(p);
}
static inline void vstore(T *p, V v) {
    vst1q_f64(p, v);
}
/* Partial vectors go through a stack copy: NEON has no masked load/store and
 * the tail must not touch memory past n. */
static inline V vloadn(const T *p, int n) {
    T tmp[VL] = {0};
    memcpy(tmp, p, sizeof(T) * (size_t)n);
    return vld1q_f64(tmp);
}
static inline void vstoren(T *p, V v, int n) {
    T tmp[VL];
    vst1q_f64(tmp, v);
    memcpy(p, tmp, sizeof(T) * (size_t)n);
}
static inline V vadd(V a, V b) {
    return vaddq_f64(a, b);
}
static inline V vsub(V a, V b) {
    return vsubq_f64(a, b);
}
static inline V vmul(V a, V b) {
    return vmulq_f64(a, b);
}
static inline V vdiv(V a, V b) {
    return vdivq_f64(a, b);
}
static inline V vfma(V a, V b, V c) {
    return vfmaq_f64(c, a, b);
}
static inline V vmin(V a, V b) {
    return vminq_f64(a, b);
}
static inline V vmax(V a, V b) {
    return vmaxq_f64(a, b);
}
static inline V vabs(V a) {
    return vabsq_f64(a);
}
static inline V vcopysign(V mag, V sgn) {
    return vbslq_f64(vdupq_n_u64(0x8000000000000000u), sgn, mag);
}
static inline V vsel_ge0(V x, V a, V b) {
    return vbslq_f64(vcgeq_f64(x, vdupq_n_f64(0.0)), a, b);
}
static inline V vround(V x) {
    return vrndnq_f64(x);
}
static inline V vpow2n(V n) {
    int64x2_t e = vaddq_s64(vcvtq_s64_f64(n), vdupq_n_s64(1023));
    return vreinterpretq_f64_s64(vshlq_n_s64(e, 52));
}
