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

/* Weights of panel p + b at k-group kk, and row r's activations there broadcast. */
AI __m512i qload_w(const QT *w, int64_t pstride, int b, int64_t kk) {
    return _mm512_load_si512((const void *)(w + b * pstride + kk * OR_Q_PANEL * QE));
}
AI __m512i qbroadcast_a(const uint8_t *a, int64_t arow, int r, int64_t kk) {
    int32_t bits;
    memcpy(&bits, a + r * arow + kk * 4, 4);
    return _mm512_set1_epi32(bits);
}

AI void qblock(const or_qmat *q, const uint8_t *a, int64_t arow, const float *ascale, int64_t p,
               float *c, int64_t ldc, const int R, const int PB) {
    const int64_t kq = q->kpad / QE, pstride = kq * OR_Q_PANEL * QE;
    const QT *w = (const QT *)q->data + p * pstride;
    QACC acc[8][8]; /* [R][PB]: R * PB accumulators, R broadcasts and a weight live at once */
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int b = 0; b < PB; b++) acc[r][b] = qzero();
    for (int64_t kk = 0; kk < kq; kk++) {
        /* One or two rows load the weights first (3-6% faster for int8 at
         * two rows than broadcasts first); more rows the broadcasts, so that
         * R * PB accumulators, R broadcasts and one weight fit the registers. */
        __m512i av[8], wv[8];
        if (R <= 2) {
#pragma GCC unroll 8
            for (int b = 0; b < PB; b++) wv[b] = qload_w(w, pstride, b, kk);
#pragma GCC unroll 2
            for (int r = 0; r < R; r++) {
                __m512i ar = qbroadcast_a(a, arow, r, kk);
#pragma GCC unroll 8
                for (int b = 0; b < PB; b++) acc[r][b] = qdot(acc[r][b], ar, wv[b]);
            }
            continue;
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) av[r] = qbroadcast_a(a, arow, r, kk);
#pragma GCC unroll 8
        for (int b = 0; b < PB; b++) {
            __m512i wb = qload_w(w, pstride, b, kk);
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) acc[r][b] = qdot(acc[r][b], av[r], wb);
        }
    }
#pragma GCC unroll 8
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

/* Rows [0, R) of a row group over panels [p0, p1), QPB(R) panels at a time
 * (the most, dividing qgemm.c's groups of 8, whose R * PB accumulators fit
 * the 32 registers beside R broadcasts and a weight), the rest (fewer than
 * QPB(R)) in blocks of 4, 2 and 1. */
#define QPB(r) ((r) <= 3 ? 8 : (r) <= 6 ? 4 : 2)

AI void qrows(const or_qmat *q, const uint8_t *a, int64_t arow, const float *ascale, int64_t p0,
              int64_t p1, float *c, int64_t ldc, const int R) {
    int64_t p = p0;
    for (; p + QPB(R) <= p1; p += QPB(R)) qblock(q, a, arow, ascale, p, c, ldc, R, QPB(R));
    if (QPB(R) > 4 && p + 4 <= p1) {
        qblock(q, a, arow, ascale, p, c, ldc, R, 4);
        p += 4;
    }
    if (QPB(R) > 2 && p + 2 <= p1) {
        qblock(q, a, arow, ascale, p, c, ldc, R, 2);
        p += 2;
    }
    if (p < p1) qblock(q, a, arow, ascale, p, c, ldc, R, 1);
}

/* Panels [p0, p1) for rows [0, m), in row groups of at most 8, as even as
 * can be: a group reads each panel once for all its rows, so at m <= 8 (a
 * recurrent step at batch 3-8 over an R in the L3) every weight comes from
 * the L3 once per call. The blocks of 4 and 2 rows and single rows used
 * before read the panels again from L2 for the rows past the first block.
 * Measured on Zen 5, one pinned core, best of 7 x 200 calls, N 2560 K 640
 * (us, before -> after): float M 3 113 -> 71, 5 114 -> 77, 6 118 -> 91, 7
 * 163 -> 108, 8 130 -> 122; bf16 M 3 54 -> 33, 5 57 -> 40; int8 M 3 30 ->
 * 22, 5 36 -> 29; M 16 (N 3072, K 1024) 2-3% faster. End to end (6
 * alternating process pairs): LSTM hidden 640 batch 5 0.72x the time with
 * one thread, 0.78x with two; GRU hidden 1024 batch 16 0.99x and 0.96x. */
AI void qkernel(const or_qmat *q, int64_t m, const void *a, const float *ascale, int64_t p0,
                int64_t p1, float *c, int64_t ldc) {
    const uint8_t *a8 = a;
    const int64_t arow = q->kpad * (4 / QE); /* bytes per activation row */
    if (m == 1 && (QE > 1 || q->one_stream)) {
        for (int64_t p = p0; p < p1; p++) qpanel_row(q, a8, ascale, p, c);
        return;
    }
    int64_t groups = (m + 7) / 8;
    for (int64_t i = 0, g = 0; g < groups; g++) {
        int64_t rows = (m - i) / (groups - g); /* the remaining rows shared evenly */
        const uint8_t *ai = a8 + i * arow;
        const float *si = ascale ? ascale + i : NULL;
        float *ci = c + i * ldc;
        switch (rows) {
        case 1:
            qrows(q, ai, arow, si, p0, p1, ci, ldc, 1);
            break;
        case 2:
            qrows(q, ai, arow, si, p0, p1, ci, ldc, 2);
            break;
        case 3:
            qrows(q, ai, arow, si, p0, p1, ci, ldc, 3);
            break;
        case 4:
            qrows(q, ai, arow, si, p0, p1, ci, ldc, 4);
            break;
        case 5:
            qrows(q, ai, arow, si, p0, p1, ci, ldc, 5);
            break;
        case 6:
            qrows(q, ai, arow, si, p0, p1, ci, ldc, 6);
            break;
        case 7:
            qrows(q, ai, arow, si, p0, p1, ci, ldc, 7);
            break;
        default:
            qrows(q, ai, arow, si, p0, p1, ci, ldc, 8);
            break;
        }
        i += rows;
    }
}
