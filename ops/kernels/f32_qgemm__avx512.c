/* Float panel kernel (AVX-512F): the register blocking of qgemm_simd.h with
 * one broadcast float per k. Sums differ from the scalar reference only by
 * FMA rounding. */
#include "qgemm.h"

#include <immintrin.h>
#include <string.h>

#define QT float
#define QE 1
#define QACC __m512
#define QTARGET "avx512f"

static inline __m512 qzero(void) {
    return _mm512_setzero_ps();
}
static inline __m512 qadd(__m512 x, __m512 y) {
    return _mm512_add_ps(x, y);
}
static inline __m512 qdot(__m512 acc, __m512i a, __m512i w) {
    return _mm512_fmadd_ps(_mm512_castsi512_ps(a), _mm512_castsi512_ps(w), acc);
}
static inline void qstore(const or_qmat *q, __m512 acc, float *c, int64_t n, float ascale,
                          int valid) {
    (void)q, (void)n, (void)ascale;
    _mm512_mask_storeu_ps(c, (__mmask16)((1u << valid) - 1u), acc);
}

#include "qgemm_simd.h"

void or_f32_qgemm__avx512(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                          int64_t p0, int64_t p1, float *c, int64_t ldc) {
    (void)ascale;
    qkernel(q, m, a, NULL, p0, p1, c, ldc);
}
