/* BF16 weight kernel for AVX2 + FMA (CPUs without AVX512-BF16): each
 * 32-bit pair of bfloat16 weights becomes two floats with one shift and one
 * mask (a bfloat16 is the top half of a float). The activations come as
 * floats already rounded to bfloat16 (qgemm.c's prep_bf16: widened once
 * per product rather than in every block that reads them), so the sums are
 * those of bfloat16 activations. Products are summed in float with FMA,
 * pair by pair as the scalar reference adds them, so results differ from it
 * only by FMA rounding. Blocking in qgemm_avx2.h. */
#define QA_ROW_BYTES(q) ((q)->kpad * (int64_t)sizeof(float))
#include "qgemm_avx2.h"

AI __m256 bf16_lo(__m256i pairs) { /* the first bfloat16 of each pair */
    return _mm256_castsi256_ps(_mm256_slli_epi32(pairs, 16));
}
AI __m256 bf16_hi(__m256i pairs, __m256i hi_mask) {
    return _mm256_castsi256_ps(_mm256_and_si256(pairs, hi_mask));
}

/* acc[r][b][h]: outputs 8h..8h+7 of panel p + b for row r. */
AI void block(const or_qmat *q, const uint8_t *a, const float *ascale, int64_t p, float *c,
              int64_t ldc, const int R, const int PB, const bool STREAM) {
    (void)ascale;
    const int64_t kq = q->kpad / 2, pstride = kq * OR_Q_PANEL * 2;
    const uint16_t *w = (const uint16_t *)q->data + p * pstride;
    const __m256i hi_mask = _mm256_set1_epi32((int32_t)0xffff0000u);
    __m256 acc[4][4][2];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int b = 0; b < PB; b++) acc[r][b][0] = acc[r][b][1] = _mm256_setzero_ps();
    for (int64_t kk = 0; kk < kq; kk++) {
        if (STREAM) prefetch_panels(w + kk * OR_Q_PANEL * 2, pstride * 2, PB);
        if (PB == 1) {
            /* One panel (the 4-row block): its widened weights first, then
             * each row's pair of activations. Loading every row's activations
             * first, as below, held 8 of them, 8 accumulators and the weights
             * and mask in 19 registers, and GCC spilled: 4 x 2048 x 512 took
             * 184 us, then 113 (64 rows 2.96 -> 1.85 ms; bf16 LSTM hidden 512
             * batch 16 and GRU hidden 1024 batch 16 0.73 and 0.68 of the time;
             * Zen 3, one core). Activations read as floats rather than widened
             * here from bfloat16 pairs: 113 -> 89 us, 16 x 2048 x 512 455 ->
             * 360 us (the float GEMM's 355), one row unchanged (33 us). */
            __m256 wv[2][2]; /* [h][lo, hi] */
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                __m256i pairs =
                    _mm256_load_si256((const __m256i *)(w + (kk * OR_Q_PANEL + 8 * h) * 2));
                wv[h][0] = bf16_lo(pairs);
                wv[h][1] = bf16_hi(pairs, hi_mask);
            }
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                const float *ar = (const float *)(a + r * QA_ROW_BYTES(q)) + 2 * kk;
                __m256 lo = _mm256_broadcast_ss(ar), hi = _mm256_broadcast_ss(ar + 1);
#pragma GCC unroll 2
                for (int h = 0; h < 2; h++)
                    acc[r][0][h] =
                        _mm256_fmadd_ps(hi, wv[h][1], _mm256_fmadd_ps(lo, wv[h][0], acc[r][0][h]));
            }
            continue;
        }
        __m256 a0[4], a1[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const float *ar = (const float *)(a + r * QA_ROW_BYTES(q)) + 2 * kk;
            a0[r] = _mm256_broadcast_ss(ar);
            a1[r] = _mm256_broadcast_ss(ar + 1);
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
            int valid = panel_valid(q, p + b);
            if (valid)
                store16(acc[r][b][0], acc[r][b][1], c + r * ldc + (p + b) * OR_Q_PANEL, valid);
        }
}

void or_bf16_qgemm__avx2(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                         int64_t p0, int64_t p1, float *c, int64_t ldc) {
    (void)ascale;
    run_blocks(q, m, a, NULL, p0, p1, c, ldc);
}
