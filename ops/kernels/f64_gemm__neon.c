/* Double-precision GEMM micro-kernels for AArch64 NEON: an 8x6 tile (24 of
 * the 32 q registers as accumulators) and the small-M kernels of
 * gemm_template.h. */
#include "gemm_kernels.h"

#include <arm_neon.h>
#include <string.h>

#define T double
#define V float64x2_t
#define VL 2
#define MR 8
#define NV 3
#define GEMV_N_W1 8
#define GEMV_N_W2 4
#define GEMV_N_W3 4
#define GEMV_N_W4 2

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
static inline V vfma(V a, V b, V c) {
    return vfmaq_f64(c, a, b);
}
static inline V vmul(V a, V b) {
    return vmulq_f64(a, b);
}
static inline V vadd(V a, V b) {
    return vaddq_f64(a, b);
}
/* No masked loads on NEON: partial vectors go through a stack copy. */
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
static inline T vhsum(V v) {
    return vaddvq_f64(v);
}

#include "gemm_template.h"

const or_f64_gemm_kernel or_f64_gemm__neon = {
    .mr = MR,
    .nr = NV * VL,
    .mc = 48,
    .kc = 128,
    .nc = 60,
    .ukr = ukr,
    .gemv_n = gemv_n,
    .gemv_t = gemv_t,
};
