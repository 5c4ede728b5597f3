/* Single-precision GEMM micro-kernels for AArch64 NEON: an 8x12 tile (24 of
 * the 32 q registers as accumulators) and the small-M kernels of
 * gemm_template.h. */
#include "gemm_kernels.h"

#include <arm_neon.h>
#include <string.h>

#define T float
#define V float32x4_t
#define VL 4
#define MR 8
#define NV 3
#define GEMV_N_W1 8
#define GEMV_N_W2 4
#define GEMV_N_W3 4
#define GEMV_N_W4 2

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
static inline V vfma(V a, V b, V c) {
    return vfmaq_f32(c, a, b);
}
static inline V vmul(V a, V b) {
    return vmulq_f32(a, b);
}
static inline V vadd(V a, V b) {
    return vaddq_f32(a, b);
}
/* No masked loads on NEON: partial vectors go through a stack copy. */
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
static inline T vhsum(V v) {
    return vaddvq_f32(v);
}

#include "gemm_template.h"

const or_f32_gemm_kernel or_f32_gemm__neon = {
    .mr = MR,
    .nr = NV * VL,
    .mc = 48,
    .kc = 256,
    .nc = 60,
    .ukr = ukr,
    .gemv_n = gemv_n,
    .gemv_t = gemv_t,
};
