/* int8 weight kernel with VPDPBUSD (AVX512-VNNI; chosen only when
 * or_cpu_has(OR_CPU_AVX512_VNNI)). The int32 sums equal the scalar
 * reference's exactly; only the final float scaling may round differently. */
#include "qgemm.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define QT int8_t
#define QE 4
#define QACC __m512i
#define QTARGET "avx512f,avx512vnni"

__attribute__((target(QTARGET))) static inline __m512i qzero(void) {
    return _mm512_setzero_si512();
}
__attribute__((target(QTARGET))) static inline __m512i qdot(__m512i acc, __m512i a, __m512i w) {
    return _mm512_dpbusd_epi32(acc, a, w);
}
/* Packs for this kernel have a_max 127: the offset is 128. */
__attribute__((target(QTARGET))) static inline void qstore(const or_qmat *q, __m512i acc, float *c,
                                                           int64_t n, float ascale, int valid) {
    __m512i fix = _mm512_slli_epi32(_mm512_loadu_si512((const void *)(q->rowsum + n)), 7);
    __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc, fix));
    __m512 s = _mm512_mul_ps(_mm512_loadu_ps(q->scale + n), _mm512_set1_ps(ascale));
    _mm512_mask_storeu_ps(c, (__mmask16)((1u << valid) - 1u), _mm512_mul_ps(dot, s));
}

__attribute__((target(QTARGET))) static inline __m512i qadd(__m512i x, __m512i y) {
    return _mm512_add_epi32(x, y);
}

#include "qgemm_simd.h"

__attribute__((target(QTARGET))) void or_s8_qgemm__avx512(const or_qmat *q, int64_t m,
                                                          const void *a, const float *ascale,
                                                          int64_t p0, int64_t p1, float *c,
                                                          int64_t ldc) {
    qkernel(q, m, a, ascale, p0, p1, c, ldc);
}

/* Activation conversion (qgemm.h's or_s8_abs_max_fn / or_s8_quantize_fn),
 * 16 floats at a time with the scalar reference's tail: the same bytes, as
 * VCVTPS2DQ rounds to nearest even like rintf and turns NaN into INT_MIN,
 * which the clamp takes to -a_max. */
__attribute__((target("avx512f"))) float or_s8_abs_max__avx512(const float *x, int64_t n) {
    __m512 m = _mm512_setzero_ps();
    __mmask16 nan = 0;
    int64_t k = 0;
    for (; k + 16 <= n; k += 16) {
        __m512 a = _mm512_abs_ps(_mm512_loadu_ps(x + k));
        m = _mm512_max_ps(a, m); /* a NaN a leaves m */
        nan |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
    }
    float tail = or_s8_abs_max__scalar(x + k, n - k), head = _mm512_reduce_max_ps(m);
    if (nan) return tail + NAN;
    return tail > head || tail != tail ? tail : head;
}

__attribute__((target("avx512f"))) void or_s8_quantize__avx512(const float *x, int64_t n, float inv,
                                                               int a_max, uint8_t *d) {
    const __m512 scale = _mm512_set1_ps(inv);
    const __m512i lo = _mm512_set1_epi32(-a_max), hi = _mm512_set1_epi32(a_max);
    const __m512i offset = _mm512_set1_epi32(a_max + 1);
    int64_t k = 0;
    for (; k + 16 <= n; k += 16) {
        __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + k), scale));
        q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, lo), hi), offset);
        _mm_storeu_si128((__m128i *)(d + k), _mm512_cvtepi32_epi8(q));
    }
    or_s8_quantize__scalar(x + k, n - k, inv, a_max, d + k);
}
