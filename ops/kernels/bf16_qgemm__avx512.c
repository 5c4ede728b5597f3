/* BF16 weight kernel with VDPBF16PS (AVX512-BF16; chosen only when
 * or_cpu_has(OR_CPU_AVX512_BF16)). Same sums as the scalar reference up to
 * float rounding order. */
#include "qgemm.h"

#include <immintrin.h>
#include <string.h>

#define QT uint16_t
#define QE 2
#define QACC __m512
#define QTARGET "avx512f,avx512bf16"

__attribute__((target(QTARGET))) static inline __m512 qzero(void) {
    return _mm512_setzero_ps();
}
__attribute__((target(QTARGET))) static inline __m512 qdot(__m512 acc, __m512i a, __m512i w) {
    return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)w);
}
__attribute__((target(QTARGET))) static inline void qstore(const or_qmat *q, __m512 acc, float *c,
                                                           int64_t n, float ascale, int valid) {
    (void)q, (void)n, (void)ascale;
    _mm512_mask_storeu_ps(c, (__mmask16)((1u << valid) - 1u), acc);
}

__attribute__((target(QTARGET))) static inline __m512 qadd(__m512 x, __m512 y) {
    return _mm512_add_ps(x, y);
}

#include "qgemm_simd.h"

__attribute__((target(QTARGET))) void or_bf16_qgemm__avx512(const or_qmat *q, int64_t m,
                                                            const void *a, const float *ascale,
                                                            int64_t p0, int64_t p1, float *c,
                                                            int64_t ldc) {
    (void)ascale;
    qkernel(q, m, a, NULL, p0, p1, c, ldc);
}
