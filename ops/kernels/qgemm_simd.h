/* Register-blocked loop shared by the AVX-512 BF16, VNNI and float weight kernels:
 * R activation rows x PB panels of 16 outputs, one 32-bit broadcast of A
 * per row and k-group, one 64-byte weight load per panel and k-group.
 *
 * The including file defines, before including:
 *   QT                 packed element type (uint16_t, int8_t or float)
 *   QE                 elements per k-group (2, 4 or 1)
 *   QACC               accumulator vector type
 *   qzero()            zero accumulator
 *   qdot(acc, a, w)    acc += group dot products (a broadcast, w loaded)
 *   qstore(q, acc, c, n, ascale_i, valid)  writes up to 16 outputs from column n
 *   qadd(x, y)         sum of two accumulators
 *   QTARGET            the function target attribute string
 */
#define AI static inline __attribute__((always_inline, target(QTARGET)))

AI void qblock(const or_qmat *q, const uint8_t *a, int64_t arow, const float *ascale, int64_t p,
               float *c, int64_t ldc, const int R, const int PB) {
    const int64_t kq = q->kpad / QE, pstride = kq * OR_Q_PANEL * QE;
    const QT *w = (const QT *)q->data + p * pstride;
    QACC acc[4][8];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int b = 0; b < PB; b++) acc[r][b] = qzero();
    for (int64_t kk = 0; kk < kq; kk++) {
        __m512i wv[8];
#pragma GCC unroll 8
        for (int b = 0; b < PB; b++)
            wv[b] = _mm512_load_si512((const void *)(w + b * pstride + kk * OR_Q_PANEL * QE));
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            int32_t bits;
            memcpy(&bits, a + r * arow + kk * 4, 4);
            __m512i av = _mm512_set1_epi32(bits);
#pragma GCC unroll 8
            for (int b = 0; b < PB; b++) acc[r][b] = qdot(acc[r][b], av, wv[b]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int b = 0; b < PB; b++) {
            int64_t n = (p + b) * OR_Q_PANEL, valid = q->N - n;
            if (valid > 0)
                qstore(q, acc[r][b], c + r * ldc + n, n, ascale ? ascale[r] : 0,
                       valid < OR_Q_PANEL ? (int)valid : OR_Q_PANEL);
        }
}

/* How far ahead qpanel_row prefetches its panel into L1: 16 k-groups of a
 * float panel (a line each), 8 of a bf16 or int8 one. */
#define QROW_AHEAD_BYTES (QE > 1 ? 512 : 1024)

/* One activation row times panel p, read front to back as one stream (the
 * 8-panel block reads 8 streams at once) with four accumulators over k for
 * the latency of the dot products, prefetching QROW_AHEAD_BYTES ahead.
 * Measured on Zen 5, one thread, median of 5 alternating rounds, against
 * the 8-panel block (ms): bf16 2-layer LSTM hidden 512 5.89 -> 4.99,
 * LSTM hidden 1024 5.01 -> 4.73, bidirectional GRU hidden 512 8.02 -> 7.16,
 * 2-layer GRU hidden 256 0.89 -> 0.75; int8 3-15% likewise. Without the
 * prefetch LSTM hidden 1024 was 5% slower. Float panels (QE 1) take it for
 * an R read from the L3 (2026-12-05, one pinned core, 100 back-to-back
 * sweeps alternating direction, 20 rounds: 4 MiB 32.0 us per sweep against
 * 33.0-37.5 for the 8-panel block and the blocked GEMM; prefetching 512,
 * 2048 or 4096 bytes ahead, 8 accumulators or two panels at once were 1-10%
 * slower; 6-12 MiB 0-8% faster), but not from memory or a large part of the L3
 * (16 MiB 15-35% slower than the block): the owner asks for it with
 * q->one_stream. */
AI void qpanel_row(const or_qmat *q, const uint8_t *a, const float *ascale, int64_t p, float *c) {
    const int64_t kq = q->kpad / QE, pstride = kq * OR_Q_PANEL * QE;
    const QT *w = (const QT *)q->data + p * pstride;
    QACC acc[4] = {qzero(), qzero(), qzero(), qzero()};
    int64_t kk = 0;
    for (; kk + 4 <= kq; kk += 4)
#pragma GCC unroll 4
        for (int u = 0; u < 4; u++) {
            const QT *wk = w + (kk + u) * OR_Q_PANEL * QE;
            __builtin_prefetch((const char *)wk + QROW_AHEAD_BYTES, 0, 3);
            int32_t bits;
            memcpy(&bits, a + (kk + u) * 4, 4);
            acc[u] = qdot(acc[u], _mm512_set1_epi32(bits), _mm512_load_si512((const void *)wk));
        }
    for (; kk < kq; kk++) {
        int32_t bits;
        memcpy(&bits, a + kk * 4, 4);
        __m512i wv = _mm512_load_si512((const void *)(w + kk * OR_Q_PANEL * QE));
        acc[0] = qdot(acc[0], _mm512_set1_epi32(bits), wv);
    }
    QACC sum = qadd(qadd(acc[0], acc[1]), qadd(acc[2], acc[3]));
    int64_t n = p * OR_Q_PANEL, valid = q->N - n;
    qstore(q, sum, c + n, n, ascale ? ascale[0] : 0, valid < OR_Q_PANEL ? (int)valid : OR_Q_PANEL);
}

/* Panels [p0, p1) for rows [0, m): panel groups outside, row groups inside,
 * so a group's weights are re-read from L1/L2 for every row group. */
AI void qkernel(const or_qmat *q, int64_t m, const void *a, const float *ascale, int64_t p0,
                int64_t p1, float *c, int64_t ldc) {
    const uint8_t *a8 = a;
    const int64_t arow = q->kpad * (4 / QE); /* bytes per activation row */
    if (m == 1 && (QE > 1 || q->one_stream)) {
        for (int64_t p = p0; p < p1; p++) qpanel_row(q, a8, ascale, p, c);
        return;
    }
    for (int64_t p = p0; p < p1;) {
        int64_t left = p1 - p;
        int pb = left >= 8 ? 8 : left >= 4 ? 4 : 1;
        for (int64_t i = 0; i < m;) {
            int64_t rows = m - i;
            const uint8_t *ai = a8 + i * arow;
            const float *si = ascale ? ascale + i : NULL;
            float *ci = c + i * ldc;
            if (rows >= 4 && pb >= 4) {
                qblock(q, ai, arow, si, p, ci, ldc, 4, 4);
                if (pb == 8) qblock(q, ai, arow, si, p + 4, ci, ldc, 4, 4);
                i += 4;
            } else if (rows >= 2 && pb == 8) {
                qblock(q, ai, arow, si, p, ci, ldc, 2, 8);
                i += 2;
            } else if (pb == 8) {
                qblock(q, ai, arow, si, p, ci, ldc, 1, 8);
                i += 1;
            } else if (pb == 4) {
                qblock(q, ai, arow, si, p, ci, ldc, 1, 4);
                i += 1;
            } else {
                qblock(q, ai, arow, si, p, ci, ldc, 1, 1);
                i += 1;
            }
        }
        p += pb;
    }
}
