/* GEMM micro-kernels written once over a small vector vocabulary; each
 * f{32,64}_gemm__<isa>.c defines the vocabulary and includes this file once.
 *
 * The including file defines:
 *   T, V, VL                 element type, vector type, lanes per vector
 *   MR, NV                   micro-tile: MR rows x NV vectors (NR = NV * VL)
 *   vzero, vset1, vload, vstore, vfma(a, b, c) = a * b + c, vmul, vadd,
 *   vloadn(p, n) / vstoren(p, v, n)  first n lanes (0 < n <= VL), zero-filled
 *   vhsum(v)                 sum of the lanes
 * It gets static functions ukr, ukr_l3, ukr_stream, ukr_row, gemv_n and gemv_t (see
 * gemm_kernels.h).
 *
 * Accumulators are arrays indexed only by constants after unrolling, so the
 * compiler keeps them in registers; that is why row counts are template
 * parameters (always-inlined constants) and runtime row counts are handled
 * by "if (i < m)" inside fully unrolled loops.
 */
#define NR (NV * VL)
/* ukr_l3 prefetches in tiles of any rows (ukr_prefetching) */
#ifndef PREFETCH_L3_EVERY_TILE
#define PREFETCH_L3_EVERY_TILE 0
#endif
#define AI static inline __attribute__((always_inline))

/* c[0..n) = alpha * acc + beta * c (beta == 0 never reads c). */
AI void store_row(const V *acc, int nvec, T alpha, T beta, T *c, int64_t n) {
    V va = vset1(alpha), vb = vset1(beta);
#pragma GCC unroll 16
    for (int v = 0; v < nvec; v++) {
        int64_t cols = n - (int64_t)v * VL;
        if (cols <= 0) break;
        V x = vmul(acc[v], va);
        if (cols >= VL) {
            if (beta != 0) x = vfma(vb, vload(c + v * VL), x);
            vstore(c + v * VL, x);
        } else {
            if (beta != 0) x = vfma(vb, vloadn(c + v * VL, (int)cols), x);
            vstoren(c + v * VL, x, (int)cols);
        }
    }
}

/* How a kernel prefetches B (the pack's or_pack_source). */
enum { PF_NONE, PF_L3, PF_MEMORY };

/* Prefetch of the lines of B row k some way ahead. From memory (PF_MEMORY):
 * non-temporal, OR_STREAM_AHEAD_BYTES, because a streamed B would only evict
 * what stays cached; it must not be used on a cache-resident B, whose lines
 * would then come back from memory on the next call (measured 2x slower).
 * From the L3 (PF_L3): into L1, OR_L3_AHEAD_BYTES. */
AI void prefetch_b_ahead(const T *row, const int PF) {
    if (PF == PF_NONE) return;
    const char *p = (const char *)row + (PF == PF_L3 ? OR_L3_AHEAD_BYTES : OR_STREAM_AHEAD_BYTES);
#pragma GCC unroll 4
    for (int off = 0; off < (int)(NR * sizeof(T)); off += 64)
        if (PF == PF_L3)
            __builtin_prefetch(p + off, 0, 3);
        else
            __builtin_prefetch(p + off, 0, 0);
}

/* ROWS (<= MR) rows: the full tile (the steady-state kernel for big M) and
 * the exact tails, so that M = 16 on a 6-row kernel costs 6 + 6 + 4 rows of
 * FMAs, not 3 x 6 (measured on Zen 1, batch-16 recurrent steps). PF: how B is
 * prefetched (see ukr_stream). */
AI void ukr_rows(int64_t kc, const T *a, int64_t rs, int64_t cs, const T *bp, T alpha, T beta, T *c,
                 int64_t ldc, int n, const int ROWS, const int PF) {
    /* alpha and beta wait in memory: held in registers through the loop they
     * left GCC 12 one register short for the 6x16 AVX2 tile, which then
     * spilled an accumulator on every k (a third of the kernel's time). */
    volatile T alpha_beta[2] = {alpha, beta};
    V acc[MR][NV]; /* [ROWS][NV], ROWS <= MR */
    const T *arow[MR];
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; i++) {
        arow[i] = a + i * rs;
#pragma GCC unroll 16
        for (int v = 0; v < NV; v++) acc[i][v] = vzero();
    }
    for (int64_t k = 0; k < kc; k++) {
        V b[NV];
        prefetch_b_ahead(bp + k * NR, PF);
#pragma GCC unroll 16
        for (int v = 0; v < NV; v++) b[v] = vload(bp + k * NR + v * VL);
#pragma GCC unroll 8
        for (int i = 0; i < ROWS; i++) {
            V av = vset1(arow[i][k * cs]);
#pragma GCC unroll 16
            for (int v = 0; v < NV; v++) acc[i][v] = vfma(av, b[v], acc[i][v]);
        }
    }
    alpha = alpha_beta[0];
    beta = alpha_beta[1];
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; i++) store_row(acc[i], NV, alpha, beta, c + i * ldc, n);
}

/* R (<= 3, < MR) rows with U independent accumulator sets over k, so that
 * a few rows (batch-1 RNN steps) still hide the FMA latency. Three rows on
 * one set (ukr_rows: 3 * NV chains, 6 on AVX2, where the latency takes 8)
 * ran one step's product against a 4 MiB R at 72 GFLOP/s, on two sets at 85
 * (Zen 3; 2-layer LSTM hidden 512 batch 3 0.92-0.93 of the time on 1 and 2
 * threads). PF: how B is prefetched (see ukr_l3, ukr_stream). */
AI void ukr_small(int64_t kc, const T *a, int64_t rs, int64_t cs, const T *bp, T alpha, T beta,
                  T *c, int64_t ldc, int n, const int R, const int U, const int PF) {
    V acc[4][3][NV]; /* [U][R][NV], U <= 4, R <= 3 */
#pragma GCC unroll 4
    for (int u = 0; u < U; u++)
#pragma GCC unroll 3
        for (int i = 0; i < R; i++)
#pragma GCC unroll 16
            for (int v = 0; v < NV; v++) acc[u][i][v] = vzero();
    int64_t k = 0;
    for (; k + U <= kc; k += U) {
#pragma GCC unroll 4
        for (int u = 0; u < U; u++) {
            prefetch_b_ahead(bp + (k + u) * NR, PF);
#pragma GCC unroll 3
            for (int i = 0; i < R; i++) {
                V av = vset1(a[i * rs + (k + u) * cs]);
#pragma GCC unroll 16
                for (int v = 0; v < NV; v++)
                    acc[u][i][v] = vfma(av, vload(bp + (k + u) * NR + v * VL), acc[u][i][v]);
            }
        }
    }
    for (; k < kc; k++)
#pragma GCC unroll 3
        for (int i = 0; i < R; i++) {
            V av = vset1(a[i * rs + k * cs]);
#pragma GCC unroll 16
            for (int v = 0; v < NV; v++)
                acc[0][i][v] = vfma(av, vload(bp + k * NR + v * VL), acc[0][i][v]);
        }
#pragma GCC unroll 4
    for (int u = 1; u < U; u++)
#pragma GCC unroll 3
        for (int i = 0; i < R; i++)
#pragma GCC unroll 16
            for (int v = 0; v < NV; v++) acc[0][i][v] = vadd(acc[0][i][v], acc[u][i][v]);
#pragma GCC unroll 3
    for (int i = 0; i < R; i++) store_row(acc[0][i], NV, alpha, beta, c + i * ldc, n);
}

/* One row of A against the ceil(n / NR) panels of a packed block from bp
 * (last to first when reverse), ukr_small's kernel inlined in the loop: the
 * same sums without a call and row-count switch per panel, 1-3% of a batch-1
 * LSTM of hidden 128 whose R the L2 holds (Zen 5, 16 panels of 16 KiB per
 * step). From the L3 the calls hide behind the reads (no gain measured). */
static void ukr_row(int64_t kc, const T *a, int64_t cs, const T *bp, T alpha, T beta, T *c,
                    int64_t n, bool reverse) {
    int64_t np = (n + NR - 1) / NR;
    for (int64_t jp = 0; jp < np; jp++) {
        int64_t j = (reverse ? np - 1 - jp : jp) * NR;
        int cols = n - j < NR ? (int)(n - j) : NR;
        ukr_small(kc, a, 0, cs, bp + j * kc, alpha, beta, c + j, 0, cols, 1, 4, PF_NONE);
    }
}

/* Two rows of A against two full panels at once (bp, and bp + NR * kc next to
 * it), one accumulator per row, panel and vector: each broadcast of A feeds
 * 2 * NV loads of B instead of NV. Two rows on one panel spend as many
 * broadcasts as loads of B, and on Zen 3 (AVX2) that kept them well below
 * the FMA rate: one step's product of 2 rows against a 4 MiB R (K 512) ran
 * at 55-59 GFLOP/s, 1.4x the time of one row (40 GFLOP/s on half the work);
 * two panels at once at 65-70 (a 256 KiB R from the L2: 59 -> 73). */
AI void ukr_two_by_two(int64_t kc, const T *a, int64_t rs, int64_t cs, const T *bp, T alpha, T beta,
                       T *c, int64_t ldc, const int PF) {
    const T *bq = bp + NR * kc;
    V acc[2][2][NV]; /* [row][panel][NV] */
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++)
#pragma GCC unroll 16
        for (int v = 0; v < NV; v++) acc[i][0][v] = acc[i][1][v] = vzero();
    for (int64_t k = 0; k < kc; k++) {
        prefetch_b_ahead(bp + k * NR, PF);
        prefetch_b_ahead(bq + k * NR, PF);
        V a0 = vset1(a[k * cs]), a1 = vset1(a[rs + k * cs]);
#pragma GCC unroll 16
        for (int v = 0; v < NV; v++) {
            V x = vload(bp + k * NR + v * VL);
            acc[0][0][v] = vfma(a0, x, acc[0][0][v]);
            acc[1][0][v] = vfma(a1, x, acc[1][0][v]);
        }
#pragma GCC unroll 16
        for (int v = 0; v < NV; v++) {
            V y = vload(bq + k * NR + v * VL);
            acc[0][1][v] = vfma(a0, y, acc[0][1][v]);
            acc[1][1][v] = vfma(a1, y, acc[1][1][v]);
        }
    }
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++)
#pragma GCC unroll 2
        for (int p = 0; p < 2; p++) store_row(acc[i][p], NV, alpha, beta, c + i * ldc + p * NR, NR);
}

/* Two rows against the ceil(n / NR) panels from bp: panels 2j and 2j + 1
 * (both full) together, a last odd or partial one alone, in pairs from the
 * last when reverse. The lone panel sums over k in the same order (U = 1),
 * so that which panels pair up never changes a bit of C. */
AI void two_rows_sweep(int64_t kc, const T *a, int64_t rs, int64_t cs, const T *bp, T alpha, T beta,
                       T *c, int64_t ldc, int64_t n, bool reverse, const int PF) {
    const int64_t np = (n + NR - 1) / NR, pairs = n / (2 * NR), units = np - pairs;
    for (int64_t done = 0; done < units; done++) {
        int64_t u = reverse ? units - 1 - done : done;
        if (u < pairs) {
            ukr_two_by_two(kc, a, rs, cs, bp + 2 * u * NR * kc, alpha, beta, c + 2 * u * NR, ldc,
                           PF);
            continue;
        }
        int64_t j = (pairs + u) * NR; /* panel 2 * pairs + (u - pairs) */
        int cols = n - j < NR ? (int)(n - j) : NR;
        ukr_small(kc, a, rs, cs, bp + j * kc, alpha, beta, c + j, ldc, cols, 2, 1, PF);
    }
}

/* From memory (src) the lines are prefetched ahead (PF_MEMORY: 2 rows against a 64 MiB R 18.5
 * -> 23 GFLOP/s); from the L3 they are not: ukr_l3's prefetch, which pays
 * for one row, cost two rows 5-10% (4-16 MiB Rs, Zen 3). */
static void ukr_two_rows(int64_t kc, const T *a, int64_t rs, int64_t cs, const T *bp, T alpha,
                         T beta, T *c, int64_t ldc, int64_t n, bool reverse, or_pack_source src) {
    if (src == OR_PACK_MEMORY)
        two_rows_sweep(kc, a, rs, cs, bp, alpha, beta, c, ldc, n, reverse, PF_MEMORY);
    else
        two_rows_sweep(kc, a, rs, cs, bp, alpha, beta, c, ldc, n, reverse, PF_NONE);
}

/* A(i, k) = a[i * rs + k * cs]: a packed panel (rs 1, cs MR) or A in place
 * (rs lda, cs 1). m rows (at most MR), B prefetched as PF says. */
AI void ukr_any(int64_t kc, const T *a, int64_t rs, int64_t cs, const T *bp, T alpha, T beta, T *c,
                int64_t ldc, int m, int n, const int PF) {
    switch (m < MR ? m : MR) {
    case 1:
        ukr_small(kc, a, rs, cs, bp, alpha, beta, c, ldc, n, 1, 4, PF);
        break;
    case 2:
        ukr_small(kc, a, rs, cs, bp, alpha, beta, c, ldc, n, 2, 1, PF);
        break;
    case 3:
        ukr_small(kc, a, rs, cs, bp, alpha, beta, c, ldc, n, 3, 2, PF);
        break;
#if MR > 4
    case 4:
        ukr_rows(kc, a, rs, cs, bp, alpha, beta, c, ldc, n, 4, PF);
        break;
    case 5:
        ukr_rows(kc, a, rs, cs, bp, alpha, beta, c, ldc, n, 5, PF);
        break;
#endif
#if MR > 6
    case 6:
        ukr_rows(kc, a, rs, cs, bp, alpha, beta, c, ldc, n, 6, PF);
        break;
    case 7:
        ukr_rows(kc, a, rs, cs, bp, alpha, beta, c, ldc, n, 7, PF);
        break;
#endif
    default:
        ukr_rows(kc, a, rs, cs, bp, alpha, beta, c, ldc, n, MR, PF);
        break;
    }
}

static void ukr(int64_t kc, const T *a, int64_t rs, int64_t cs, const T *bp, T alpha, T beta, T *c,
                int64_t ldc, int m, int n) {
    ukr_any(kc, a, rs, cs, bp, alpha, beta, c, ldc, m, n, PF_NONE);
}

/* ukr for a B that prefetching pays on (PF). From memory every tile
 * prefetches: with rows shared out evenly (gemm_driver.h) the first tile of
 * a panel, which brings it into L1 for the rest, need not be a full one, and
 * 8 rows as 4 + 4 against a 64 MiB R ran at 50-51 GFLOP/s without, 53-54
 * with (4 rows 37-38 -> 38, 16 rows 70-71 either way; Zen 3, AVX2). From the
 * L3 one row prefetches (two rows go through ukr_two_rows), and every tile
 * where the ISA sets PREFETCH_L3_EVERY_TILE. */
AI void ukr_prefetching(int64_t kc, const T *a, int64_t rs, int64_t cs, const T *bp, T alpha,
                        T beta, T *c, int64_t ldc, int m, int n, const int PF) {
    if (PF == PF_MEMORY || PREFETCH_L3_EVERY_TILE)
        ukr_any(kc, a, rs, cs, bp, alpha, beta, c, ldc, m, n, PF);
    else if (m == 1)
        ukr_small(kc, a, rs, cs, bp, alpha, beta, c, ldc, n, 1, 4, PF);
    else
        ukr(kc, a, rs, cs, bp, alpha, beta, c, ldc, m, n); /* a call: one copy of the switch */
}

/* ukr for a packed B the L3 holds but L2 does not (a recurrent R of a few
 * MiB at small batches): one row prefetches B ahead into L1 (two rows: see
 * ukr_two_rows; more: PREFETCH_L3_EVERY_TILE). Measured on Zen 5, one thread,
 * median of 5 alternating rounds, AVX-512 (AVX2 path): 2-layer LSTM hidden
 * 512 10.7 -> 10.0 ms, 2-layer RNN hidden 1024 21.4 -> 19.1 (23.6 -> 22.2),
 * bidirectional GRU hidden 512 14.6 -> 13.2 (15.0 -> 14.4); Zen 1 (AVX2,
 * 512 KiB L2) showed no gain with R 4 MiB. */
static void ukr_l3(int64_t kc, const T *a, int64_t rs, int64_t cs, const T *bp, T alpha, T beta,
                   T *c, int64_t ldc, int m, int n) {
    ukr_prefetching(kc, a, rs, cs, bp, alpha, beta, c, ldc, m, n, PF_L3);
}

/* ukr for a packed B too large for the caches, read once per call from
 * memory (recurrent steps with a big R). Measured on Zen 1: LSTM hidden
 * 1024 batch 1 100 -> 72 ms; GRU hidden 1024 batch 16 (R 12 MiB) 230 -> 213
 * ms, 119 -> 105 ms on two threads. */
static void ukr_stream(int64_t kc, const T *a, int64_t rs, int64_t cs, const T *bp, T alpha, T beta,
                       T *c, int64_t ldc, int m, int n) {
    ukr_prefetching(kc, a, rs, cs, bp, alpha, beta, c, ldc, m, n, PF_MEMORY);
}

/* ---- small M, B read in place, B = [k, n] ---- */

/* R rows x W full vectors of columns starting at column j0. */
AI void gemv_n_strip(int64_t k, const T *a, int64_t lda, const T *b, int64_t ldb, T alpha, T beta,
                     T *c, int64_t ldc, const int R, const int W) {
    V acc[OR_GEMV_MAX_M][8]; /* [R][W], W <= 8 */
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 8
        for (int v = 0; v < W; v++) acc[i][v] = vzero();
    for (int64_t kk = 0; kk < k; kk++) {
        V bv[8];
#pragma GCC unroll 8
        for (int v = 0; v < W; v++) bv[v] = vload(b + kk * ldb + v * VL);
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) {
            V av = vset1(a[i * lda + kk]);
#pragma GCC unroll 8
            for (int v = 0; v < W; v++) acc[i][v] = vfma(av, bv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; i++) store_row(acc[i], W, alpha, beta, c + i * ldc, (int64_t)W * VL);
}

/* R rows x one vector of `cols` (<= VL) columns: the ragged right edge. */
AI void gemv_n_edge(int64_t k, const T *a, int64_t lda, const T *b, int64_t ldb, T alpha, T beta,
                    T *c, int64_t ldc, int cols, const int R) {
    V acc[OR_GEMV_MAX_M];
#pragma GCC unroll 4
    for (int i = 0; i < R; i++) acc[i] = vzero();
    for (int64_t kk = 0; kk < k; kk++) {
        V bv = cols == VL ? vload(b + kk * ldb) : vloadn(b + kk * ldb, cols);
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) acc[i] = vfma(vset1(a[i * lda + kk]), bv, acc[i]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; i++) store_row(&acc[i], 1, alpha, beta, c + i * ldc, cols);
}

AI void gemv_n_rows(int64_t n, int64_t k, const T *a, int64_t lda, const T *b, int64_t ldb, T alpha,
                    T beta, T *c, int64_t ldc, const int R, const int W) {
    int64_t j = 0;
    for (; j + W * VL <= n; j += W * VL)
        gemv_n_strip(k, a, lda, b + j, ldb, alpha, beta, c + j, ldc, R, W);
    for (; j < n; j += VL) {
        int cols = n - j < VL ? (int)(n - j) : VL;
        gemv_n_edge(k, a, lda, b + j, ldb, alpha, beta, c + j, ldc, cols, R);
    }
}

static void gemv_n(int m, int64_t n, int64_t k, const T *a, int64_t lda, const T *b, int64_t ldb,
                   T alpha, T beta, T *c, int64_t ldc) {
    switch (m) {
    case 1:
        gemv_n_rows(n, k, a, lda, b, ldb, alpha, beta, c, ldc, 1, GEMV_N_W1);
        break;
    case 2:
        gemv_n_rows(n, k, a, lda, b, ldb, alpha, beta, c, ldc, 2, GEMV_N_W2);
        break;
    case 3:
        gemv_n_rows(n, k, a, lda, b, ldb, alpha, beta, c, ldc, 3, GEMV_N_W3);
        break;
    default:
        gemv_n_rows(n, k, a, lda, b, ldb, alpha, beta, c, ldc, 4, GEMV_N_W4);
        break;
    }
}

/* ---- small M, B read in place, B = [n, k]: dot products along k ---- */

/* R rows of A against J rows of B (columns j of C). */
AI void gemv_t_block(int64_t k, const T *a, int64_t lda, const T *b, int64_t ldb, T alpha, T beta,
                     T *c, int64_t ldc, const int R, const int J) {
    V acc[OR_GEMV_MAX_M][4]; /* [R][J], J <= 4 */
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 4
        for (int j = 0; j < J; j++) acc[i][j] = vzero();
    int64_t kk = 0;
    for (; kk + VL <= k; kk += VL) {
        V av[OR_GEMV_MAX_M];
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) av[i] = vload(a + i * lda + kk);
#pragma GCC unroll 4
        for (int j = 0; j < J; j++) {
            V bv = vload(b + j * ldb + kk);
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) acc[i][j] = vfma(av[i], bv, acc[i][j]);
        }
    }
    if (kk < k) {
        int rem = (int)(k - kk);
        V av[OR_GEMV_MAX_M];
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) av[i] = vloadn(a + i * lda + kk, rem);
#pragma GCC unroll 4
        for (int j = 0; j < J; j++) {
            V bv = vloadn(b + j * ldb + kk, rem);
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) acc[i][j] = vfma(av[i], bv, acc[i][j]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 4
        for (int j = 0; j < J; j++) {
            T s = alpha * vhsum(acc[i][j]);
            T *cij = c + i * ldc + j;
            *cij = beta != 0 ? s + beta * *cij : s;
        }
}

AI void gemv_t_rows(int64_t n, int64_t k, const T *a, int64_t lda, const T *b, int64_t ldb, T alpha,
                    T beta, T *c, int64_t ldc, const int R, const int J) {
    int64_t j = 0;
    for (; j + J <= n; j += J)
        gemv_t_block(k, a, lda, b + j * ldb, ldb, alpha, beta, c + j, ldc, R, J);
    for (; j < n; j++) gemv_t_block(k, a, lda, b + j * ldb, ldb, alpha, beta, c + j, ldc, R, 1);
}

static void gemv_t(int m, int64_t n, int64_t k, const T *a, int64_t lda, const T *b, int64_t ldb,
                   T alpha, T beta, T *c, int64_t ldc) {
    switch (m) {
    case 1:
        gemv_t_rows(n, k, a, lda, b, ldb, alpha, beta, c, ldc, 1, 4);
        break;
    case 2:
        gemv_t_rows(n, k, a, lda, b, ldb, alpha, beta, c, ldc, 2, 4);
        break;
    case 3:
        gemv_t_rows(n, k, a, lda, b, ldb, alpha, beta, c, ldc, 3, 2);
        break;
    default:
        gemv_t_rows(n, k, a, lda, b, ldb, alpha, beta, c, ldc, 4, 2);
        break;
    }
}

#undef AI
#undef NR
