/* Vector vocabulary of rnn_gates_simd.h for float on AArch64 Advanced SIMD (4
 * lanes). Included only by the f32_*__neon.c recurrent kernels.
 *
 * NEON's min/max return NaN when either operand is NaN; every use in
 * rnn_gates_simd.h has a constant first operand, so that gives the same
 * result as the x86 "second operand" rule the vocabulary asks for. */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#define T float
#define V float32x4_t
#define VL 4
#define CELL or_rnn_cell_f32
#define EXP_LO -87.0f       /* keeps 2^n normal: n >= -126 */
#define LN2_HI 0.693359375f /* 9 significant bits: n * LN2_HI is exact */
#define LN2_LO -2.12194440054690583e-4
#define EXP_NC 6

static inline V vzero(void) {
    return vdupq_n_f32(0.0f);
}
static inline V vset1(T x) {
    return vdupq_n_f32(x);
}
static inline V vload(const T *p) {
    return vld1q_f32(p);
}
static inline void vstore(T *p, V v) {
    vst1q_f32(p, v);
}
/* Partial vectors go through a stack copy: NEON has no masked load/store and
 * the tail must not touch memory past n. */
static inline V vloadn(const T *p, int n) {
    T tmp[VL] = {0};
    memcpy(tmp, p, sizeof(T) * (size_t)n);
    return vld1q_f32(tmp);
}
static inline void vstoren(T *p, V v, int n) {
    T tmp[VL];
    vst1q_f32(tmp, v);
    memcpy(p, tmp, sizeof(T) * (size_t)n);
}
static inline V vadd(V a, V b) {
    return vaddq_f32(a, b);
}
static inline V vsub(V a, V b) {
    return vsubq_f32(a, b);
}
static inline V vmul(V a, V b) {
    return vmulq_f32(a, b);
}
static inline V vdiv(V a, V b) {
    return vdivq_f32(a, b);
}
static inline V vfma(V a, V b, V c) {
    return vfmaq_f32(c, a, b);
}
static inline V vmin(V a, V b) {
    return vminq_f32(a, b);
}
static inline V vmax(V a, V b) {
    return vmaxq_f32(a, b);
}
static inline V vabs(V a) {
    return vabsq_f32(a);
}
static inline V vcopysign(V mag, V sgn) {
    return vbslq_f32(vdupq_n_u32(0x80000000u), sgn, mag);
}
static inline V vsel_ge0(V x, V a, V b) {
    return vbslq_f32(vcgeq_f32(x, vdupq_n_f32(0.0f)), a, b);
}
static inline V vround(V x) {
    return vrndnq_f32(x);
}
static inline V vpow2n(V n) {
    int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
}
