/* BF16 weight kernel for AVX2 + FMA (CPUs without AVX512-BF16): each
 * 32-bit pair of bfloat16 weights becomes two floats with one shift and one
 * mask (a bfloat16 is the top half of a float), and so does each pair of
 * activations; products are summed in float with FMA, pair by pair as the
 * scalar reference adds them, so results differ from it only by FMA
 * rounding. Register blocks: 1 row x 4 panels (batch-1 steps stream the
 * weights once), 2 x 2, and 4 x 1 (the input product over many steps reuses
 * each converted weight four times). */
#include "qgemm.h"

#include <immintrin.h>

#define AI static inline __attribute__((always_inline))

/* Lanes 0..n-1 of a store: mask_src[8 - n + i] is all ones for i < n. */
static const int32_t mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

AI __m256 bf16_lo(__m256i pairs) { /* the first bfloat16 of each pair */
    return _mm256_castsi256_ps(_mm256_slli_epi32(pairs, 16));
}
AI __m256 bf16_hi(__m256i pairs, __m256i hi_mask) {
    return _mm256_castsi256_ps(_mm256_and_si256(pairs, hi_mask));
}

AI void store16(__m256 lo, __m256 hi, float *c, int valid) {
    if (valid == OR_Q_PANEL) {
        _mm256_storeu_ps(c, lo);
        _mm256_storeu_ps(c + 8, hi);
        return;
    }
    int n0 = valid < 8 ? valid : 8, n1 = valid - n0;
    _mm256_maskstore_ps(c, _mm256_loadu_si256((const __m256i *)(mask_src + 8 - n0)), lo);
    if (n1 > 0)
        _mm256_maskstore_ps(c + 8, _mm256_loadu_si256((const __m256i *)(mask_src + 8 - n1)), hi);
}

/* R activation rows x PB panels from panel p. acc[r][b][h]: rows 8h..8h+7
 * of panel p + b. */
AI void block(const or_qmat *q, const uint16_t *a, int64_t p, float *c, int64_t ldc, const int R,
              const int PB) {
    const int64_t kq = q->kpad / 2, pstride = kq * OR_Q_PANEL * 2;
    const uint16_t *w = (const uint16_t *)q->data + p * pstride;
    const __m256i hi_mask = _mm256_set1_epi32((int32_t)0xffff0000u);
    __m256 acc[4][4][2];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int b = 0; b < PB; b++) acc[r][b][0] = acc[r][b][1] = _mm256_setzero_ps();
    for (int64_t kk = 0; kk < kq; kk++) {
        __m256 a0[4], a1[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m256i pair =
                _mm256_castps_si256(_mm256_broadcast_ss((const float *)(a + r * q->kpad + 2 * kk)));
            a0[r] = bf16_lo(pair);
            a1[r] = bf16_hi(pair, hi_mask);
        }
#pragma GCC unroll 4
        for (int b = 0; b < PB; b++)
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                __m256i pairs = _mm256_load_si256(
                    (const __m256i *)(w + b * pstride + (kk * OR_Q_PANEL + 8 * h) * 2));
                __m256 w0 = bf16_lo(pairs), w1 = bf16_hi(pairs, hi_mask);
#pragma GCC unroll 4
                for (int r = 0; r < R; r++)
                    acc[r][b][h] =
                        _mm256_fmadd_ps(a1[r], w1, _mm256_fmadd_ps(a0[r], w0, acc[r][b][h]));
            }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int b = 0; b < PB; b++) {
            int64_t n = (p + b) * OR_Q_PANEL, valid = q->N - n;
            if (valid > 0)
                store16(acc[r][b][0], acc[r][b][1], c + r * ldc + n,
                        valid < OR_Q_PANEL ? (int)valid : OR_Q_PANEL);
        }
}

void or_bf16_qgemm__avx2(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                         int64_t p0, int64_t p1, float *c, int64_t ldc) {
    (void)ascale;
    const uint16_t *a16 = a;
    for (int64_t p = p0; p < p1;) {
        int64_t left = p1 - p;
        int pb = left >= 4 ? 4 : left >= 2 ? 2 : 1;
        for (int64_t i = 0; i < m;) {
            const uint16_t *ai = a16 + i * q->kpad;
            float *ci = c + i * ldc;
            if (m - i >= 4) {
                for (int b = 0; b < pb; b++) block(q, ai, p + b, ci, ldc, 4, 1);
                i += 4;
            } else if (m - i >= 2 && pb >= 2) {
                for (int b = 0; b < pb; b += 2) block(q, ai, p + b, ci, ldc, 2, 2);
                i += 2;
            } else if (pb == 4) {
                block(q, ai, p, ci, ldc, 1, 4);
                i += 1;
            } else if (pb == 2) {
                block(q, ai, p, ci, ldc, 1, 2);
                i += 1;
            } else {
                block(q, ai, p, ci, ldc, 1, 1);
                i += 1;
            }
        }
        p += pb;
    }
}
