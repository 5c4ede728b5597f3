/* Kernel of int8 weights held as int16 against 16-bit activations (S16 in
 * qgemm.h) for AVX2: VPMADDWD multiplies a broadcast pair of activations by
 * eight rows' pairs of weights and adds each pair into an int32, 16
 * multiply-adds per instruction (float FMA: 8). The int32 sums equal the
 * scalar reference's, and the scaling is done in its order, so the outputs
 * are the reference's bit for bit. Blocking in qgemm_avx2.h. */
#include <string.h>

#define QA_ROW_BYTES(q) ((q)->kpad * 2)
#include "qgemm_avx2.h"

/* acc[r][b][h]: outputs 8h..8h+7 of panel p + b for row r. */
AI void block(const or_qmat *q, const uint8_t *a, const float *ascale, int64_t p, float *c,
              int64_t ldc, const int R, const int PB, const bool STREAM) {
    const int64_t kq = q->kpad / 2, pstride = kq * OR_Q_PANEL * 2;
    const int16_t *w = (const int16_t *)q->data + p * pstride;
    __m256i acc[4][4][2];
    zero_acc(acc, R, PB);
    for (int64_t kk = 0; kk < kq; kk++) {
        if (STREAM) prefetch_panels(w + kk * OR_Q_PANEL * 2, pstride * 2, PB);
        __m256i wv[4][2];
#pragma GCC unroll 4
        for (int b = 0; b < PB; b++)
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++)
                wv[b][h] = _mm256_load_si256(
                    (const __m256i *)(w + b * pstride + (kk * OR_Q_PANEL + 8 * h) * 2));
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            int32_t pair;
            memcpy(&pair, a + r * QA_ROW_BYTES(q) + 4 * kk, 4);
            const __m256i av = _mm256_set1_epi32(pair);
#pragma GCC unroll 4
            for (int b = 0; b < PB; b++)
#pragma GCC unroll 2
                for (int h = 0; h < 2; h++)
                    acc[r][b][h] = _mm256_add_epi32(acc[r][b][h], _mm256_madd_epi16(av, wv[b][h]));
        }
        /* Pinned to registers: otherwise GCC 12 summed each product into a
         * fresh register and copied it back to its accumulator, 8 more
         * instructions a k step (M 64 N 2048 K 512: 64 -> 75 GMAC/s). */
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
#pragma GCC unroll 4
            for (int b = 0; b < PB; b++) __asm__("" : "+x"(acc[r][b][0]), "+x"(acc[r][b][1]));
    }
    store_int_acc(q, acc, ascale, p, c, ldc, R, PB, false);
}

void or_s16_qgemm__avx2(const or_qmat *q, int64_t m, const void *a, const float *ascale, int64_t p0,
                        int64_t p1, float *c, int64_t ldc) {
    run_blocks(q, m, a, ascale, p0, p1, c, ldc);
}

/* The scalar reference's values, 16 at a time: clamped in float first
 * (keeping NaN, which VCVTPS2DQ turns into INT_MIN and the integer clamp into
 * -a_max), rounded to nearest even by VCVTPS2DQ as by rintf. */
void or_s16_quantize__avx2(const float *x, int64_t n, float inv, int a_max, int16_t *d) {
    const __m256 scale = _mm256_set1_ps(inv), top = _mm256_set1_ps((float)a_max);
    const __m256 bottom = _mm256_set1_ps(-(float)a_max);
    const __m256i lo = _mm256_set1_epi32(-a_max);
    int64_t k = 0;
    for (; k + 16 <= n; k += 16) {
        __m256i v[2];
#pragma GCC unroll 2
        for (int u = 0; u < 2; u++) {
            __m256 y = _mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * u), scale);
            y = _mm256_max_ps(bottom, _mm256_min_ps(top, y)); /* NaN y stays NaN */
            v[u] = _mm256_max_epi32(_mm256_cvtps_epi32(y), lo);
        }
        __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(v[0], v[1]), 0xd8);
        _mm256_storeu_si256((__m256i *)(d + k), words);
    }
    or_s16_quantize__scalar(x + k, n - k, inv, a_max, d + k);
}
