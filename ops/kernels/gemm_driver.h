/* The blocked GEMM driver, written once for float and double: gemm.c
 * includes it with T (element type), KERN (kernel table type) and N_(x)
 * (prefixes a local name), UKR_FN and GEMV_FN (its kernel pointer types). gemm.c calls
 * N_(dispatch), N_(pack_b_impl) and N_(pack_impl) (rows through pack_rows.h).
 *
 * C is cut into tiles (the unit of threading). A tile loops over K blocks of
 * kc; per block, op(B) is packed into NR-wide panels in a stack buffer (unless
 * pre-packed) and the micro-kernel sweeps the tile reading A in place (A^T is
 * first packed into MR-high panels, mc rows at a time). A small M with an
 * unpacked B skips packing B, which would cost as much as the product, and
 * runs the gemv kernels on B in place.
 */

#define ABUF_N (OR_GEMM_ABUF_BYTES / sizeof(T))
#define BBUF_N (OR_GEMM_BBUF_BYTES / sizeof(T))
#define GEMV_N_KB 64

typedef struct N_(ctx) {
    const KERN *kern;
    bool trans_a, trans_b;
    int64_t M, N, K;
    T alpha, beta;
    const T *A, *B;
    int64_t lda, ldb, ldc;
    const or_packed_b *pb; /* NULL: B is read (and packed per tile) from B */
    int64_t pb_col0;       /* with pb: op(B)'s columns start at this one of the pack's */
    T *C;
    int64_t tile_m, tile_n, tiles_m;
    bool gemv;
    bool reverse; /* tiles, and the panels within each, last to first */
} N_(ctx);

/* ap <- A^T[i0 .. i0+m, k0 .. k0+kc] as MR-high panels, rows past m zero.
 * Only a transposed A is packed; otherwise the micro-kernel reads A in place. */
static void N_(pack_at)(const N_(ctx) * x, int64_t i0, int64_t m, int64_t k0, int64_t kc, T *ap) {
    const int mr = x->kern->mr;
    for (int64_t p = 0; p < m; p += mr, ap += kc * mr) {
        int64_t rows = m - p < mr ? m - p : mr;
        for (int64_t k = 0; k < kc; k++) {
            const T *src = x->A + (k0 + k) * x->lda + i0 + p;
            for (int64_t i = 0; i < rows; i++) ap[k * mr + i] = src[i];
            for (int64_t i = rows; i < mr; i++) ap[k * mr + i] = 0;
        }
    }
}

/* One NR-wide panel of a transposed B: bp[k][j] <- row j0 + j of B (read
 * through rows) at k0 + k, columns from cols on zero. */
static void N_(pack_bt_panel)(int nr, const or_pack_rows *rows, int64_t j0, int64_t cols,
                              int64_t k0, int64_t kc, T *bp) {
    for (int64_t j = 0; j < cols; j++) {
        const T *src = (const T *)or_pack_row(rows, j0 + j) + k0;
        for (int64_t k = 0; k < kc; k++) bp[k * nr + j] = src[k];
    }
    for (int64_t j = cols; j < nr; j++)
        for (int64_t k = 0; k < kc; k++) bp[k * nr + j] = 0;
}

/* bp <- op(B)[k0 .. k0+kc, j0 .. j0+n] as NR-wide panels, columns past n zero. */
static void N_(pack_b)(const KERN *kern, bool trans, const T *B, int64_t ldb, int64_t k0,
                       int64_t kc, int64_t j0, int64_t n, T *bp) {
    const int nr = kern->nr;
    const or_pack_rows rows = or_pack_rows_plain(B, sizeof(T), ldb);
    for (int64_t p = 0; p < n; p += nr, bp += kc * nr) {
        int64_t cols = n - p < nr ? n - p : nr;
        if (trans) {
            N_(pack_bt_panel)(nr, &rows, j0 + p, cols, k0, kc, bp);
        } else if (cols == nr) {
            for (int64_t k = 0; k < kc; k++)
                memcpy(bp + k * nr, B + (k0 + k) * ldb + j0 + p, sizeof(T) * (size_t)nr);
        } else {
            for (int64_t k = 0; k < kc; k++) {
                const T *src = B + (k0 + k) * ldb + j0 + p;
                for (int64_t j = 0; j < cols; j++) bp[k * nr + j] = src[j];
                for (int64_t j = cols; j < nr; j++) bp[k * nr + j] = 0;
            }
        }
    }
}

/* A [m, kc] times one packed B block [kc, n] into C. A(i, k) = a[i * rs + k * cs]
 * and the panel of rows from i starts at a + i * a_step; src: where B's lines
 * come from (which kernels prefetch them).
 *
 * A read in place (cs 1: any row offset; a packed A's column step is MR, 4 or
 * more) shares its rows out evenly over the micro-tiles when every tile then
 * gets 3 or more: a tail of one or two rows runs below the FMA rate (too few
 * rows to share each load of B). 16 rows on a 6-row kernel run as 6 + 5 + 5,
 * 8 as 4 + 4, 7 as 4 + 3, 20 as 5 x 4. Measured on the Zen 3 VM (AVX2), one
 * step's product against a 4 MiB R (K 512, N 2048), best of 800: 8 rows 84 ->
 * 92-93 GFLOP/s, 9 86 -> 95, 20 91 -> 95, 32 93 -> 95, 16 unchanged; 7 87 ->
 * 92 (with 3-row tiles on two accumulator sets, ukr_small); 2-layer LSTM
 * hidden 512 batch 8 0.93 of the time on 1 and 2 threads. A packed A
 * (MR-high panels) takes MR rows a tile. */
static void N_(macro)(const KERN *kern, or_pack_source src, int64_t m, int64_t n, int64_t kc,
                      const T *a, int64_t rs, int64_t cs, int64_t a_step, const T *bp, T alpha,
                      T beta, T *C, int64_t ldc, bool reverse) {
    if (m == 1 && src == OR_PACK_CACHED) {
        kern->ukr_row(kc, a, cs, bp, alpha, beta, C, n, reverse);
        return;
    }
    if (m == 2) {
        kern->ukr_two_rows(kc, a, rs, cs, bp, alpha, beta, C, ldc, n, reverse, src);
        return;
    }
    const UKR_FN ukr = src == OR_PACK_MEMORY ? kern->ukr_stream
                       : src == OR_PACK_L3   ? kern->ukr_l3
                                             : kern->ukr;
    const int mr = kern->mr, nr = kern->nr;
    const int64_t np = (n + nr - 1) / nr, tiles = (m + mr - 1) / mr;
    const bool even = cs == 1 && m / tiles >= 3;
    for (int64_t jp = 0; jp < np; jp++) {
        int64_t j = (reverse ? np - 1 - jp : jp) * nr;
        int cols = n - j < nr ? (int)(n - j) : nr;
        for (int64_t t = 0, i = 0; t < tiles; t++) {
            int64_t left = tiles - t, rest = m - i;
            int rows = (int)(even ? (rest + left - 1) / left : rest < mr ? rest : mr);
            ukr(kc, a + i * a_step, rs, cs, bp + j * kc, alpha, beta, C + i * ldc + j, ldc, rows,
                cols);
            i += rows;
        }
    }
}

static void N_(tile_blocked)(const N_(ctx) * x, int64_t i0, int64_t m, int64_t j0, int64_t n) {
    _Alignas(64) T abuf[ABUF_N]; /* used when A is transposed */
    _Alignas(64) T bbuf[BBUF_N]; /* used when B is not pre-packed */
    const KERN *kern = x->kern;
    const int64_t kcb = kern->kc;
    const or_pack_source src = x->pb ? x->pb->source : OR_PACK_CACHED;
    T *C = x->C + i0 * x->ldc + j0;
    for (int64_t k0 = 0; k0 < x->K; k0 += kcb) {
        int64_t kc = x->K - k0 < kcb ? x->K - k0 : kcb;
        T beta = k0 == 0 ? x->beta : 1;
        const T *bp = bbuf;
        if (x->pb)
            bp = (const T *)x->pb->data + k0 * x->pb->npad + (x->pb_col0 + j0) * kc;
        else
            N_(pack_b)(kern, x->trans_b, x->B, x->ldb, k0, kc, j0, n, bbuf);
        if (!x->trans_a) {
            const T *a = x->A + i0 * x->lda + k0;
            N_(macro)
            (kern, src, m, n, kc, a, x->lda, 1, x->lda, bp, x->alpha, beta, C, x->ldc, x->reverse);
            continue;
        }
        for (int64_t ic = 0; ic < m; ic += kern->mc) {
            int64_t mc = m - ic < kern->mc ? m - ic : kern->mc;
            N_(pack_at)(x, i0 + ic, mc, k0, kc, abuf);
            N_(macro)
            (kern, src, mc, n, kc, abuf, 1, kern->mr, kc, bp, x->alpha, beta, C + ic * x->ldc,
             x->ldc, false);
        }
    }
}

/* Small M, B in place, OR_GEMV_MAX_M rows at a time. A^T is first copied to
 * contiguous rows, K block by K block. */
static void N_(gemv_rows)(const N_(ctx) * x, int64_t i0, int m, int64_t j0, int64_t n) {
    const KERN *kern = x->kern;
    const T *B = x->trans_b ? x->B + j0 * x->ldb : x->B + j0;
    T *C = x->C + i0 * x->ldc + j0;
    GEMV_FN fn = x->trans_b ? kern->gemv_t : kern->gemv_n;
    if (!x->trans_a && x->trans_b) {
        fn(m, n, x->K, x->A + i0 * x->lda, x->lda, B, x->ldb, x->alpha, x->beta, C, x->ldc);
        return;
    }
    if (!x->trans_a) {
        /* B [K,n] in blocks of rows: each block is read row by row (what the
         * prefetchers follow) while the column strips sweep it in cache. */
        for (int64_t k0 = 0; k0 < x->K; k0 += GEMV_N_KB) {
            int64_t kc = x->K - k0 < GEMV_N_KB ? x->K - k0 : GEMV_N_KB;
            fn(m, n, kc, x->A + i0 * x->lda + k0, x->lda, B + k0 * x->ldb, x->ldb, x->alpha,
               k0 == 0 ? x->beta : 1, C, x->ldc);
        }
        return;
    }
    _Alignas(64) T abuf[ABUF_N];
    const int64_t kcb = ABUF_N / OR_GEMV_MAX_M;
    for (int64_t k0 = 0; k0 < x->K; k0 += kcb) {
        int64_t kc = x->K - k0 < kcb ? x->K - k0 : kcb;
        for (int64_t i = 0; i < m; i++)
            for (int64_t k = 0; k < kc; k++) abuf[i * kc + k] = x->A[(k0 + k) * x->lda + i0 + i];
        const T *Bk = x->trans_b ? B + k0 : B + k0 * x->ldb;
        fn(m, n, kc, abuf, kc, Bk, x->ldb, x->alpha, k0 == 0 ? x->beta : 1, C, x->ldc);
    }
}

static void N_(tile_gemv)(const N_(ctx) * x, int64_t j0, int64_t n) {
    for (int64_t i = 0; i < x->M; i += OR_GEMV_MAX_M) {
        int m = x->M - i < OR_GEMV_MAX_M ? (int)(x->M - i) : OR_GEMV_MAX_M;
        N_(gemv_rows)(x, i, m, j0, n);
    }
}

static void N_(run_tiles)(void *arg, int64_t begin, int64_t end, int thread_index) {
    const N_(ctx) *x = arg;
    (void)thread_index;
    for (int64_t tt = begin; tt < end; tt++) {
        int64_t t = x->reverse ? end - 1 - (tt - begin) : tt;
        int64_t i0 = (t % x->tiles_m) * x->tile_m, j0 = (t / x->tiles_m) * x->tile_n;
        int64_t m = x->M - i0 < x->tile_m ? x->M - i0 : x->tile_m;
        int64_t n = x->N - j0 < x->tile_n ? x->N - j0 : x->tile_n;
        if (x->gemv)
            N_(tile_gemv)(x, j0, n);
        else
            N_(tile_blocked)(x, i0, m, j0, n);
    }
}

/* C = beta * C: the whole product when alpha == 0 or K == 0. */
static void N_(scale_c)(int64_t M, int64_t N, T beta, T *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0 ? 0 : beta * C[i * ldc + j];
}

/* Rows of C per tile: the tile's A block (rows x kc, read from the L2 by
 * every panel of B) kept to a quarter of the L2, at most 256 rows. With 256
 * rows (256 KiB of floats) on the Zen 3 VM's 512 KiB L2, the block and B's
 * panels crowded each other out; 126 rows took 0.974 of the time at
 * 1600 x 2048 x 512, 0.946 at 1000^3 and 0.968 at 512^3, 0.996 at K = 128
 * (medians of 40-200 alternating calls in one process). A 1 MiB L2 keeps
 * 256. The recurrent ops' input products come in chunks of at most 512 KiB
 * of output (64 rows at batch 16, LSTM hidden 512), one tile either way. */
static int64_t N_(tile_rows)(const KERN *kern) {
    const int64_t block_bytes = (int64_t)(or_cpu_l2_bytes() / 4),
                  row_bytes = kern->kc * (int64_t)sizeof(T);
    int64_t rows = block_bytes > 0 ? block_bytes / row_bytes : 256;
    rows = rows > 256 ? 256 : rows;
    rows = rows / kern->mr * kern->mr;
    return rows < kern->mr ? kern->mr : rows;
}

static void N_(dispatch)(N_(ctx) * x, or_threadpool *pool) {
    if (x->M <= 0 || x->N <= 0) return;
    if (x->K <= 0 || x->alpha == 0) {
        N_(scale_c)(x->M, x->N, x->beta, x->C, x->ldc);
        return;
    }
    const KERN *kern = x->kern;
    /* Packing B costs about as much as multiplying it by a few rows; with B^T
     * the dot-product kernel stays ahead of the blocked one for longer. */
    x->gemv = !x->pb && (x->M <= OR_GEMV_MAX_M || (x->trans_b && x->M <= 4 * OR_GEMV_MAX_M));
    if (x->gemv) {
        x->tile_m = x->M;
        x->tile_n = 256;
    } else {
        x->tile_m = N_(tile_rows)(kern);
        x->tile_n = x->pb ? 256 / kern->nr * kern->nr : kern->nc;
    }
    x->tiles_m = (x->M + x->tile_m - 1) / x->tile_m;
    int64_t tiles = x->tiles_m * ((x->N + x->tile_n - 1) / x->tile_n);
    /* Below ~1 MFLOP the threads cost more than they save. */
    double flops = 2.0 * (double)x->M * (double)x->N * (double)x->K;
    if (tiles > 1 && flops >= 1e6 && or_threadpool_size(pool) > 1)
        or_parallel_for(pool, tiles, 1, N_(run_tiles), x);
    else
        N_(run_tiles)(x, 0, tiles, 0);
}

/* Transposed B (its rows read through rows) panel by panel, every K block of
 * a panel at once, so each source row is finished (and reported to rel) in
 * one go; the layout N_(pack_b) gives. */
static void N_(pack_bt_rows)(const KERN *kern, int64_t K, int64_t N, const or_pack_rows *rows,
                             int64_t npad, T *data, or_src_release *rel) {
    const int nr = kern->nr;
    for (int64_t j0 = 0; j0 < N; j0 += nr) {
        int64_t n = N - j0 < nr ? N - j0 : nr;
        for (int64_t k0 = 0; k0 < K; k0 += kern->kc) {
            int64_t kc = K - k0 < kern->kc ? K - k0 : kern->kc;
            T *dst = data + k0 * npad + j0 * kc;
            or_prefault(dst, sizeof(T) * (size_t)(kc * nr));
            N_(pack_bt_panel)(nr, rows, j0, n, k0, kc, dst);
        }
        for (int64_t j = j0; j < j0 + n; j++)
            or_src_release_consumed(rel, or_pack_row(rows, j), (size_t)K * sizeof(T));
    }
}

static or_packed_b *N_(pack_impl)(const KERN *kern, bool trans_b, int64_t K, int64_t N,
                                  const or_pack_rows *rows, bool huge_pages, or_src_release *rel) {
    const T *B = rows->base;
    const int64_t ldb = rows->ldb;
    if (K <= 0 || N <= 0 || !B) return NULL;
    int64_t npad = (N + kern->nr - 1) / kern->nr * kern->nr;
    if (npad > INT64_MAX / K || (uint64_t)(npad * K) > SIZE_MAX / sizeof(T) / 2) return NULL;
    or_packed_b *p = or_calloc(1, sizeof *p);
    if (!p) return NULL;
    size_t bytes = (size_t)(npad * K) * sizeof(T);
    bytes = (bytes + 63) / 64 * 64;
    p->data = huge_pages ? or_huge_page_alloc_later(bytes) : or_aligned_alloc(64, bytes);
    if (!p->data) {
        or_free(p);
        return NULL;
    }
    p->elem = sizeof(T);
    p->copies = 1;
    p->kern = kern;
    p->K = K;
    p->N = N;
    p->npad = npad;
    if (trans_b) {
        N_(pack_bt_rows)(kern, K, N, rows, npad, p->data, rel);
    } else {
        or_prefault(p->data, bytes); /* B stays: no reader hands pages back meanwhile */
        for (int64_t k0 = 0; k0 < K; k0 += kern->kc) {
            int64_t kc = K - k0 < kern->kc ? K - k0 : kern->kc;
            N_(pack_b)(kern, trans_b, B, ldb, k0, kc, 0, N, (T *)p->data + k0 * npad);
        }
    }
    if (huge_pages) or_huge_page_collapse(p->data, bytes);
    return p;
}

static or_packed_b *N_(pack_b_impl)(const KERN *kern, bool trans_b, int64_t K, int64_t N,
                                    const T *B, int64_t ldb, bool huge_pages, or_src_release *rel) {
    or_pack_rows rows = or_pack_rows_plain(B, sizeof(T), ldb);
    return N_(pack_impl)(kern, trans_b, K, N, &rows, huge_pages, rel);
}

#undef ABUF_N
#undef BBUF_N
#undef GEMV_N_KB
