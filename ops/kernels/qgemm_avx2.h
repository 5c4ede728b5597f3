/* What the AVX2 weight kernels (bf16_qgemm__avx2.c, s8_qgemm__avx2.c)
 * share: the masked store of one 16-output panel row and the loop that cuts
 * rows x panels into register blocks. Included once by each, which then
 * defines
 *   AI void block(const or_qmat *q, const uint8_t *a, const float *ascale,
 *                 int64_t p, float *c, int64_t ldc, const int R, const int PB,
 *                 const bool STREAM)
 * (R activation rows from a, rows QA_ROW_BYTES(q) bytes apart, times panels
 * p .. p + PB - 1) for R x PB in 4 x 1, 2 x 2, 1 x 4, 1 x 2 and 1 x 1: one row
 * against four panels streams the weights once (batch-1 steps); four rows
 * against one reuse each loaded weight four times (the input product).
 * Every k step of a panel reads one 64-byte line of it; STREAM (one row of
 * a q->streamed pack) prefetches each panel's line OR_STREAM_AHEAD_BYTES
 * ahead, non-temporally (see gemm.h's or_packed_b_set_streamed). */
#include "gemm_kernels.h"
#include "qgemm.h"

#include <immintrin.h>

#define AI static inline __attribute__((always_inline))

AI void block(const or_qmat *q, const uint8_t *a, const float *ascale, int64_t p, float *c,
              int64_t ldc, const int R, const int PB, const bool STREAM);

/* The line OR_STREAM_AHEAD_BYTES past step_line in each of PB panels
 * pstride bytes apart. */
AI void prefetch_panels(const void *step_line, int64_t pstride, const int PB) {
    const char *p = (const char *)step_line + OR_STREAM_AHEAD_BYTES;
#pragma GCC unroll 4
    for (int b = 0; b < PB; b++) __builtin_prefetch(p + b * pstride, 0, 0);
}

/* One activation row against pb (4, 2 or 1) panels from p. */
AI void one_row(const or_qmat *q, const uint8_t *a, const float *ascale, int64_t p, float *c,
                int64_t ldc, int pb, const bool STREAM) {
    if (pb == 4)
        block(q, a, ascale, p, c, ldc, 1, 4, STREAM);
    else if (pb == 2)
        block(q, a, ascale, p, c, ldc, 1, 2, STREAM);
    else
        block(q, a, ascale, p, c, ldc, 1, 1, STREAM);
}

/* The integer kernels' accumulators acc[r][b][h], r < R, b < PB, set to 0. */
AI void zero_acc(__m256i acc[4][4][2], const int R, const int PB) {
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int b = 0; b < PB; b++) acc[r][b][0] = acc[r][b][1] = _mm256_setzero_si256();
}

/* Lanes 0..n-1 of a store: mask_src[8 - n + i] is all ones for i < n. */
static const int32_t mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/* c[0 .. valid) = lo, hi (outputs 0-7, 8-15 of a panel). */
AI void store16(__m256 lo, __m256 hi, float *c, int valid) {
    if (valid >= OR_Q_PANEL) {
        _mm256_storeu_ps(c, lo);
        _mm256_storeu_ps(c + 8, hi);
        return;
    }
    int n0 = valid < 8 ? valid : 8, n1 = valid - n0;
    _mm256_maskstore_ps(c, _mm256_loadu_si256((const __m256i *)(mask_src + 8 - n0)), lo);
    if (n1 > 0)
        _mm256_maskstore_ps(c + 8, _mm256_loadu_si256((const __m256i *)(mask_src + 8 - n1)), hi);
}

/* Outputs of panel p that exist (N need not be a multiple of 16). */
AI int panel_valid(const or_qmat *q, int64_t p) {
    int64_t valid = q->N - p * OR_Q_PANEL;
    return valid <= 0 ? 0 : valid < OR_Q_PANEL ? (int)valid : OR_Q_PANEL;
}

/* C = s_n * t_i * (dot - (a_max + 1) * rowsum_n) for 8 outputs from n;
 * without OFFSET (S16: signed activations) C = s_n * t_i * dot. */
AI __m256 int_scaled(const or_qmat *q, __m256i dot, int64_t n, float ascale, const bool OFFSET) {
    if (OFFSET) {
        __m256i sums = _mm256_loadu_si256((const __m256i *)(q->rowsum + n));
        dot = _mm256_sub_epi32(dot, _mm256_mullo_epi32(sums, _mm256_set1_epi32(q->a_max + 1)));
    }
    __m256 s = _mm256_mul_ps(_mm256_loadu_ps(q->scale + n), _mm256_set1_ps(ascale));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(dot), s);
}

/* The integer kernels' R x PB block of sums, scaled, into C. */
AI void store_int_acc(const or_qmat *q, __m256i acc[4][4][2], const float *ascale, int64_t p,
                      float *c, int64_t ldc, const int R, const int PB, const bool OFFSET) {
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int b = 0; b < PB; b++) {
            int valid = panel_valid(q, p + b);
            int64_t n = (p + b) * OR_Q_PANEL;
            if (valid)
                store16(int_scaled(q, acc[r][b][0], n, ascale[r], OFFSET),
                        int_scaled(q, acc[r][b][1], n + 8, ascale[r], OFFSET), c + r * ldc + n,
                        valid);
        }
}

/* Panels [p0, p1) for rows [0, m) (the or_qgemm_fn contract). */
AI void run_blocks(const or_qmat *q, int64_t m, const void *a, const float *ascale, int64_t p0,
                   int64_t p1, float *c, int64_t ldc) {
    const uint8_t *a8 = a;
    for (int64_t p = p0; p < p1;) {
        int64_t left = p1 - p;
        int pb = left >= 4 ? 4 : left >= 2 ? 2 : 1;
        for (int64_t i = 0; i < m;) {
            const uint8_t *ai = a8 + i * QA_ROW_BYTES(q);
            const float *si = ascale ? ascale + i : NULL;
            float *ci = c + i * ldc;
            if (m - i >= 4) {
                for (int b = 0; b < pb; b++) block(q, ai, si, p + b, ci, ldc, 4, 1, false);
                i += 4;
            } else if (m - i >= 2 && pb >= 2) {
                for (int b = 0; b < pb; b += 2) block(q, ai, si, p + b, ci, ldc, 2, 2, false);
                i += 2;
            } else {
                if (q->streamed)
                    one_row(q, ai, si, p, ci, ldc, pb, true);
                else
                    one_row(q, ai, si, p, ci, ldc, pb, false);
                i += 1;
            }
        }
        p += pb;
    }
}
