/* Portable float GEMM micro-kernels: the reference the SIMD variants are tested
 * against, built from gemm_template.h with one-lane "vectors" (a 4x4 tile). */
#include "gemm_kernels.h"

#define T float
#define V float
#define VL 1
#define MR 4
#define NV 4
#define GEMV_N_W1 8
#define GEMV_N_W2 4
#define GEMV_N_W3 4
#define GEMV_N_W4 4

static inline V vzero(void) {
    return 0;
}
static inline V vset1(T x) {
    return x;
}
static inline V vload(const T *p) {
    return *p;
}
static inline void vstore(T *p, V v) {
    *p = v;
}
static inline V vfma(V a, V b, V c) {
    return a * b + c;
}
static inline V vmul(V a, V b) {
    return a * b;
}
static inline V vadd(V a, V b) {
    return a + b;
}
static inline V vloadn(const T *p, int n) {
    return n > 0 ? *p : 0;
}
static inline void vstoren(T *p, V v, int n) {
    if (n > 0) *p = v;
}
static inline T vhsum(V v) {
    return v;
}

#include "gemm_template.h"

const or_f32_gemm_kernel or_f32_gemm__scalar = {
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
