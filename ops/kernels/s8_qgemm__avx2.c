/* int8 weight kernel for AVX2 (CPUs without AVX512-VNNI). VPMADDUBSW would
 * saturate ((a + 128) * q pairs reach 64770), so weights are widened to
 * int16 and multiplied by the offset activations with VPMADDWD: exact int32
 * pair sums, accumulated as [row n: k0 k1 | row n: k2 k3] per lane pair and
 * folded at the end. The int32 dot products equal the scalar reference's
 * exactly; only the final float scaling may round differently. Register
 * blocks: 1 row x 2 panels and 2 rows x 1 panel. */
#include "qgemm.h"

#include <immintrin.h>
#include <string.h>

#define AI static inline __attribute__((always_inline))

static const int32_t mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/* Four activation bytes (one k-quad) as int16, repeated in every 64 bits. */
AI __m256i quad16(const uint8_t *a) {
    int32_t bits;
    memcpy(&bits, a, 4);
    return _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(bits)));
}

/* acc[0..3]: rows 0-3, 4-7, 8-11, 12-15 of a panel, two partial sums per row
 * -> int32 sums of rows 0-7 and 8-15. */
AI void fold(const __m256i acc[4], __m256i *lo, __m256i *hi) {
    /* hadd pairs within 128-bit lanes: [r0 r1 r4 r5 | r2 r3 r6 r7] */
    *lo = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[0], acc[1]), 0xd8);
    *hi = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[2], acc[3]), 0xd8);
}

/* C = s_n * t_i * (dot - 128 * rowsum_n) for 8 outputs from n. */
AI __m256 scale8(const or_qmat *q, __m256i dot, int64_t n, float ascale) {
    __m256i fix = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(q->rowsum + n)), 7);
    __m256 s = _mm256_mul_ps(_mm256_loadu_ps(q->scale + n), _mm256_set1_ps(ascale));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(dot, fix)), s);
}

AI void store_panel(const or_qmat *q, const __m256i acc[4], int64_t n, float ascale, float *c) {
    int64_t valid = q->N - n;
    if (valid <= 0) return;
    __m256i lo, hi;
    fold(acc, &lo, &hi);
    __m256 x0 = scale8(q, lo, n, ascale), x1 = scale8(q, hi, n + 8, ascale);
    if (valid >= OR_Q_PANEL) {
        _mm256_storeu_ps(c, x0);
        _mm256_storeu_ps(c + 8, x1);
        return;
    }
    int n0 = valid < 8 ? (int)valid : 8, n1 = (int)valid - n0;
    _mm256_maskstore_ps(c, _mm256_loadu_si256((const __m256i *)(mask_src + 8 - n0)), x0);
    if (n1 > 0)
        _mm256_maskstore_ps(c + 8, _mm256_loadu_si256((const __m256i *)(mask_src + 8 - n1)), x1);
}

/* R rows x PB panels from panel p; acc[r][b][g]: rows 4g..4g+3 of panel p + b. */
AI void block(const or_qmat *q, const uint8_t *a, const float *ascale, int64_t p, float *c,
              int64_t ldc, const int R, const int PB) {
    const int64_t kq = q->kpad / 4, pstride = kq * OR_Q_PANEL * 4;
    const int8_t *w = (const int8_t *)q->data + p * pstride;
    __m256i acc[2][2][4];
#pragma GCC unroll 2
    for (int r = 0; r < R; r++)
#pragma GCC unroll 2
        for (int b = 0; b < PB; b++)
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++) acc[r][b][g] = _mm256_setzero_si256();
    for (int64_t kk = 0; kk < kq; kk++) {
        __m256i av[2];
#pragma GCC unroll 2
        for (int r = 0; r < R; r++) av[r] = quad16(a + r * q->kpad + 4 * kk);
#pragma GCC unroll 2
        for (int b = 0; b < PB; b++)
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++) {
                __m256i w16 = _mm256_cvtepi8_epi16(_mm_load_si128(
                    (const __m128i *)(w + b * pstride + (kk * OR_Q_PANEL + 4 * g) * 4)));
#pragma GCC unroll 2
                for (int r = 0; r < R; r++)
                    acc[r][b][g] = _mm256_add_epi32(acc[r][b][g], _mm256_madd_epi16(w16, av[r]));
            }
    }
#pragma GCC unroll 2
    for (int r = 0; r < R; r++)
#pragma GCC unroll 2
        for (int b = 0; b < PB; b++)
            store_panel(q, acc[r][b], (p + b) * OR_Q_PANEL, ascale[r],
                        c + r * ldc + (p + b) * OR_Q_PANEL);
}

void or_s8_qgemm__avx2(const or_qmat *q, int64_t m, const void *a, const float *ascale, int64_t p0,
                       int64_t p1, float *c, int64_t ldc) {
    const uint8_t *a8 = a;
    for (int64_t p = p0; p < p1;) {
        int pb = p1 - p >= 2 ? 2 : 1;
        for (int64_t i = 0; i < m;) {
            const uint8_t *ai = a8 + i * q->kpad;
            float *ci = c + i * ldc;
            if (m - i >= 2) {
                for (int b = 0; b < pb; b++) block(q, ai, ascale + i, p + b, ci, ldc, 2, 1);
                i += 2;
            } else {
                if (pb == 2)
                    block(q, ai, ascale + i, p, ci, ldc, 1, 2);
                else
                    block(q, ai, ascale + i, p, ci, ldc, 1, 1);
                i += 1;
            }
        }
        p += pb;
    }
}
