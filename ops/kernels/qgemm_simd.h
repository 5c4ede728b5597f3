/* Register-blocked loop shared by the AVX-512 BF16 and VNNI weight kernels:
 * R activation rows x PB panels of 16 outputs, one 32-bit broadcast of A
 * per row and k-group, one 64-byte weight load per panel and k-group.
 *
 * The including file defines, before including:
 *   QT                 packed element type (uint16_t or int8_t)
 *   QE                 elements per k-group (2 or 4)
 *   QACC               accumulator vector type
 *   qzero()            zero accumulator
 *   qdot(acc, a, w)    acc += group dot products (a broadcast, w loaded)
 *   qstore(q, acc, c, n, ascale_i, valid)  writes up to 16 outputs from column n
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

/* Panels [p0, p1) for rows [0, m): panel groups outside, row groups inside,
 * so a group's weights are re-read from L1/L2 for every row group. */
AI void qkernel(const or_qmat *q, int64_t m, const void *a, const float *ascale, int64_t p0,
                int64_t p1, float *c, int64_t ldc) {
    const uint8_t *a8 = a;
    const int64_t arow = q->kpad * (4 / QE); /* bytes per activation row */
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
