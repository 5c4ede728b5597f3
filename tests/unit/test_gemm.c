/* or_sgemm / or_dgemm and their packed forms, every ISA variant, against a
 * naive triple loop accumulated in double (long double for or_dgemm). */
#include "../../ops/kernels/gemm.h"
#include "../../runtime/cpu.h"
#include "test_env.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct shape {
    int64_t M, N, K;
    bool ta, tb;
    double alpha, beta;
    int pad; /* added to every leading dimension */
} shape;

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng_state >> 33);
}
static double rnd_val(void) {
    return (double)(rnd() % 2001) / 1000.0 - 1.0;
}

static bool use_isa(const char *name, or_isa want) {
    setenv("ONNXRUN_ISA", name, 1);
    or_cpu_reset();
    return or_cpu_isa() == want;
}

/* Stored sizes of op(X) = [rows, cols] given the transpose flag. */
static int64_t stored_rows(bool t, int64_t rows, int64_t cols) {
    return t ? cols : rows;
}
static int64_t stored_cols(bool t, int64_t rows, int64_t cols) {
    return t ? rows : cols;
}

/* Runs one shape in float (dbl false) or double, packed or not; returns the
 * number of mismatching elements. */
static int check_shape(const shape *s, bool dbl, bool packed, or_threadpool *pool) {
    int64_t lda = stored_cols(s->ta, s->M, s->K) + s->pad;
    int64_t ldb = stored_cols(s->tb, s->K, s->N) + s->pad;
    int64_t ldc = s->N + s->pad;
    int64_t na = stored_rows(s->ta, s->M, s->K) * lda, nb = stored_rows(s->tb, s->K, s->N) * ldb;
    int64_t nc = s->M * ldc;
    double *a = malloc(sizeof(double) * na), *b = malloc(sizeof(double) * nb);
    double *c0 = malloc(sizeof(double) * nc);
    for (int64_t i = 0; i < na; i++) a[i] = rnd_val();
    for (int64_t i = 0; i < nb; i++) b[i] = rnd_val();
    for (int64_t i = 0; i < nc; i++) c0[i] = s->beta == 0 ? NAN : rnd_val();
    float *af = malloc(sizeof(float) * na), *bf = malloc(sizeof(float) * nb);
    float *cf = malloc(sizeof(float) * nc);
    double *cd = malloc(sizeof(double) * nc);
    for (int64_t i = 0; i < na; i++) af[i] = (float)a[i];
    for (int64_t i = 0; i < nb; i++) bf[i] = (float)b[i];
    for (int64_t i = 0; i < nc; i++) cf[i] = (float)c0[i], cd[i] = c0[i];
    /* Values are multiples of 1/1000 in [-1, 1]: exact enough in float that
     * the double reference applies to both. */
    for (int64_t i = 0; i < na; i++) a[i] = dbl ? a[i] : af[i];
    for (int64_t i = 0; i < nb; i++) b[i] = dbl ? b[i] : bf[i];

    if (packed) {
        or_packed_b *p = dbl ? or_dgemm_pack_b(s->tb, s->K, s->N, b, ldb)
                             : or_sgemm_pack_b(s->tb, s->K, s->N, bf, ldb);
        cr_assert_not_null(p);
        cr_assert_eq(or_packed_b_k(p), s->K);
        cr_assert_eq(or_packed_b_n(p), s->N);
        if (dbl)
            or_dgemm_packed(s->M, s->N, s->K, s->alpha, a, lda, p, s->beta, cd, ldc, pool);
        else
            or_sgemm_packed(s->M, s->N, s->K, (float)s->alpha, af, lda, p, (float)s->beta, cf, ldc,
                            pool);
        or_packed_b_free(p);
    } else if (dbl) {
        or_dgemm(s->ta, s->tb, s->M, s->N, s->K, s->alpha, a, lda, b, ldb, s->beta, cd, ldc, pool);
    } else {
        or_sgemm(s->ta, s->tb, s->M, s->N, s->K, (float)s->alpha, af, lda, bf, ldb, (float)s->beta,
                 cf, ldc, pool);
    }

    int bad = 0;
    double eps = dbl ? 2.3e-16 : 1.2e-7;
    for (int64_t i = 0; i < s->M; i++) {
        for (int64_t j = 0; j < ldc; j++) {
            double got = dbl ? cd[i * ldc + j] : cf[i * ldc + j];
            if (j >= s->N) { /* padding must be untouched */
                double was = dbl ? c0[i * ldc + j] : (float)c0[i * ldc + j];
                if (!(got == was || (isnan(got) && isnan(was)))) bad++;
                continue;
            }
            long double sum = 0, mag = 0;
            for (int64_t k = 0; k < s->K; k++) {
                double x = s->ta ? a[k * lda + i] : a[i * lda + k];
                double y = s->tb ? b[j * ldb + k] : b[k * ldb + j];
                sum += (long double)x * y;
                mag += fabs(x * y);
            }
            long double want = s->alpha * sum;
            mag *= fabs(s->alpha);
            if (s->beta != 0) {
                double cij = dbl ? c0[i * ldc + j] : (float)c0[i * ldc + j];
                want += s->beta * cij;
                mag += fabs(s->beta * cij);
            }
            double tol = (double)(s->K + 4) * eps * ((double)mag + 1e-30);
            if (!(fabsl(got - want) <= tol)) {
                if (bad < 5)
                    cr_log_error("M=%lld N=%lld K=%lld ta=%d tb=%d packed=%d dbl=%d: C[%lld,%lld] "
                                 "= %.9g, want %.9Lg",
                                 (long long)s->M, (long long)s->N, (long long)s->K, s->ta, s->tb,
                                 packed, dbl, (long long)i, (long long)j, got, want);
                bad++;
            }
        }
    }
    free(a), free(b), free(c0), free(af), free(bf), free(cf), free(cd);
    return bad;
}

static const double alphas[] = {1.0, -0.5, 2.0};
static const double betas[] = {0.0, 1.0, -1.5};

/* Random shapes in 1..70 (biased towards the tile edges) plus fixed shapes
 * that cross every blocking boundary. */
static void run_suite(bool dbl, or_threadpool *pool) {
    static const int64_t small[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 65, 70};
    const int nsmall = sizeof small / sizeof small[0];
    int bad = 0, runs = 0;
    for (int t = 0; t < 300; t++) {
        shape s = {.M = small[rnd() % nsmall],
                   .N = small[rnd() % nsmall],
                   .K = small[rnd() % nsmall],
                   .ta = rnd() & 1,
                   .tb = rnd() & 1,
                   .alpha = alphas[rnd() % 3],
                   .beta = betas[rnd() % 3],
                   .pad = (int)(rnd() % 3)};
        if (t % 4 == 0) s.M = 1 + rnd() % 4; /* the GEMV paths */
        for (int packed = 0; packed < 2; packed++) {
            shape ps = s;
            if (packed) ps.ta = false;
            bad += check_shape(&ps, dbl, packed, pool);
            runs++;
        }
    }
    static const shape big[] = {
        {197, 131, 300, false, false, 1, 0, 1}, {197, 131, 300, true, true, 0.5, 1, 0},
        {3, 1000, 600, false, true, 1, 1, 2},   {1, 700, 3000, true, false, 1, 0, 0},
        {400, 9, 257, false, false, -1, 2, 1},  {4, 300, 5000, true, true, 1, 0, 3},
        {70, 520, 129, true, false, 1, 0.5, 0}, {260, 260, 40, false, true, 1, 0, 0},
    };
    for (size_t t = 0; t < sizeof big / sizeof big[0]; t++)
        for (int packed = 0; packed < 2; packed++) {
            shape ps = big[t];
            if (packed) ps.ta = false;
            bad += check_shape(&ps, dbl, packed, pool);
            runs++;
        }
    cr_expect_eq(bad, 0, "%d mismatches over %d products", bad, runs);
}

#define ISA_TESTS(isa, ISA)                                                                        \
    Test(gemm, f32_##isa) {                                                                        \
        if (!use_isa(#isa, ISA)) cr_skip_test("CPU lacks " #isa);                                  \
        run_suite(false, NULL);                                                                    \
    }                                                                                              \
    Test(gemm, f64_##isa) {                                                                        \
        if (!use_isa(#isa, ISA)) cr_skip_test("CPU lacks " #isa);                                  \
        run_suite(true, NULL);                                                                     \
    }                                                                                              \
    Test(gemm, threaded_##isa) {                                                                   \
        if (!use_isa(#isa, ISA)) cr_skip_test("CPU lacks " #isa);                                  \
        or_threadpool *pool = or_threadpool_create(3);                                             \
        cr_assert_not_null(pool);                                                                  \
        static const shape s[] = {{150, 333, 100, false, false, 1, 0, 0},                          \
                                  {2, 3000, 300, false, true, 1, 1, 1},                            \
                                  {300, 20, 50, true, false, 1, 0, 0}};                            \
        int bad = 0;                                                                               \
        for (int i = 0; i < 3; i++)                                                                \
            for (int p = 0; p < 2; p++) {                                                          \
                shape x = s[i];                                                                    \
                if (p) x.ta = false;                                                               \
                bad += check_shape(&x, false, p, pool) + check_shape(&x, true, p, pool);           \
            }                                                                                      \
        or_threadpool_destroy(pool);                                                               \
        cr_expect_eq(bad, 0);                                                                      \
    }

/* A pack marked as read from the L3 or from memory (ukr_l3, ukr_stream,
 * which prefetch B ahead), or swept from its last column to its first
 * (cached: one row runs ukr_row; from the L3), gives
 * bit-identical products to the same pack unmarked and swept forward, over
 * shapes crossing the K block (256), the unroll of 4, the panel width and
 * the 256-column tile; the unmarked pack is checked against the naive loop
 * above. */
static void check_streamed(bool dbl) {
    static const int64_t ms[] = {1, 2, 3, 9}, ks[] = {1, 7, 256, 300, 1027},
                         ns[] = {5, 16, 33, 130, 600};
    int compared = 0;
    for (size_t mi = 0; mi < 4; mi++)
        for (size_t ki = 0; ki < 5; ki++)
            for (size_t ni = 0; ni < 5; ni++) {
                int64_t M = ms[mi], K = ks[ki], N = ns[ni];
                double *a = malloc(sizeof(double) * (size_t)(M * K)),
                       *b = malloc(sizeof(double) * (size_t)(K * N));
                double *c[5];
                float *cf[5];
                for (int v = 0; v < 5; v++) {
                    c[v] = malloc(sizeof(double) * (size_t)(M * N));
                    cf[v] = malloc(sizeof(float) * (size_t)(M * N));
                }
                float *af = malloc(sizeof(float) * (size_t)(M * K)),
                      *bf = malloc(sizeof(float) * (size_t)(K * N));
                for (int64_t i = 0; i < M * K; i++) af[i] = (float)(a[i] = rnd_val());
                for (int64_t i = 0; i < K * N; i++) bf[i] = (float)(b[i] = rnd_val());
                double beta = betas[(mi + ki + ni) % 3];
                const or_pack_source sources[5] = {OR_PACK_CACHED, OR_PACK_L3, OR_PACK_MEMORY,
                                                   OR_PACK_L3, OR_PACK_CACHED};
                for (int v = 0; v < 5; v++) {
                    for (int64_t i = 0; i < M * N; i++) c[v][i] = cf[v][i] = (float)(i % 7) / 8;
                    or_packed_b *p = dbl ? or_dgemm_pack_b(true, K, N, b, K)
                                         : or_sgemm_pack_b(true, K, N, bf, K);
                    cr_assert_not_null(p);
                    cr_assert_geq(or_packed_b_bytes(p),
                                  (size_t)(K * N) * (dbl ? sizeof(double) : sizeof(float)));
                    or_packed_b_set_source(p, sources[v]);
                    bool back = v >= 3;
                    if (dbl)
                        or_dgemm_packed_sweep(M, N, K, -0.5, a, K, p, beta, c[v], N, NULL, back);
                    else
                        or_sgemm_packed_sweep(M, N, K, -0.5f, af, K, p, (float)beta, cf[v], N, NULL,
                                              back);
                    or_packed_b_free(p);
                }
                size_t bytes = (size_t)(M * N) * (dbl ? sizeof(double) : sizeof(float));
                for (int v = 1; v < 5; v++)
                    cr_assert_eq(dbl ? memcmp(c[0], c[v], bytes) : memcmp(cf[0], cf[v], bytes), 0,
                                 "M=%lld K=%lld N=%lld dbl=%d: variant %d differs", (long long)M,
                                 (long long)K, (long long)N, dbl, v);
                compared++;
                free(a), free(b), free(af), free(bf);
                for (int v = 0; v < 5; v++) free(c[v]), free(cf[v]);
            }
    cr_assert_eq(compared, 100);
}

/* Test gemm/<name>_<isa>: check(false) in float, check(true) in double. */
#define FLOAT_DOUBLE_TEST(name, check, isa, ISA)                                                   \
    Test(gemm, name##_##isa) {                                                                     \
        if (!use_isa(#isa, ISA)) cr_skip_test("CPU lacks " #isa);                                  \
        check(false);                                                                              \
        check(true);                                                                               \
    }
FLOAT_DOUBLE_TEST(streamed_pack, check_streamed, scalar, OR_ISA_SCALAR)
FLOAT_DOUBLE_TEST(streamed_pack, check_streamed, avx2, OR_ISA_AVX2)
FLOAT_DOUBLE_TEST(streamed_pack, check_streamed, avx512, OR_ISA_AVX512)

/* Every row count from 1 to past four 8-row micro-tiles, A in place and
 * transposed (packed into MR-high panels), B packed or not: the blocked
 * driver shares an in-place A's rows out evenly over its micro-tiles
 * (gemm_driver.h's macro) and a packed A's MR at a time, and either
 * way every row of C must be computed once. K crosses the 256 block, N a
 * panel's width. */
static void check_every_m(bool dbl) {
    int bad = 0;
    for (int64_t m = 1; m <= 33; m++)
        for (int ta = 0; ta < 2; ta++)
            for (int packed = 0; packed < 2; packed++) {
                if (packed && ta) continue;
                shape x = {m,           37, 300, ta, m % 2 == 0, alphas[m % 3], betas[(m / 3) % 3],
                           (int)(m % 3)};
                bad += check_shape(&x, dbl, packed, NULL);
            }
    cr_expect_eq(bad, 0, "dbl=%d: %d mismatches", dbl, bad);
}

/* Two rows run full panels in pairs (0 and 1, 2 and 3, ...) and a last one
 * alone, each summing over k in the same order: with panels of nr columns,
 * panel 2 of a 3-panel pack (alone) equals, bit for bit, panel 1 of a pack
 * of the same columns from nr on (paired), on every source and sweep. nr
 * runs over every kernel's panel width (4 scalar, 8 f64 AVX2, 16 f32 AVX2
 * and f64 AVX-512, 32 f32 AVX-512). */
static void check_two_row_pairing(bool dbl) {
    enum { K = 300, NMAX = 96 };
    double *b = malloc(sizeof(double) * NMAX * K), a[2 * K], c3[2 * NMAX], c2[2 * NMAX];
    float *bf = malloc(sizeof(float) * NMAX * K), af[2 * K], c3f[2 * NMAX], c2f[2 * NMAX];
    cr_assert(b && bf);
    for (int64_t i = 0; i < NMAX * K; i++) bf[i] = (float)(b[i] = rnd_val());
    for (int64_t i = 0; i < 2 * K; i++) af[i] = (float)(a[i] = rnd_val());
    for (int64_t nr = 4; nr <= 32; nr *= 2)
        for (int src = OR_PACK_CACHED; src <= OR_PACK_MEMORY; src++)
            for (int back = 0; back < 2; back++) {
                const int64_t N = 3 * nr;
                /* B is [N, K] (transposed): the pack of columns nr.. starts at row nr. */
                or_packed_b *p3 =
                    dbl ? or_dgemm_pack_b(true, K, N, b, K) : or_sgemm_pack_b(true, K, N, bf, K);
                or_packed_b *p2 = dbl ? or_dgemm_pack_b(true, K, 2 * nr, b + nr * K, K)
                                      : or_sgemm_pack_b(true, K, 2 * nr, bf + nr * K, K);
                cr_assert(p3 && p2);
                or_packed_b_set_source(p3, (or_pack_source)src);
                or_packed_b_set_source(p2, (or_pack_source)src);
                if (dbl) {
                    or_dgemm_packed_sweep(2, N, K, 1, a, K, p3, 0, c3, N, NULL, back);
                    or_dgemm_packed_sweep(2, 2 * nr, K, 1, a, K, p2, 0, c2, 2 * nr, NULL, back);
                } else {
                    or_sgemm_packed_sweep(2, N, K, 1, af, K, p3, 0, c3f, N, NULL, back);
                    or_sgemm_packed_sweep(2, 2 * nr, K, 1, af, K, p2, 0, c2f, 2 * nr, NULL, back);
                }
                for (int i = 0; i < 2; i++) {
                    size_t bytes = (size_t)nr * (dbl ? sizeof(double) : sizeof(float));
                    const void *alone = dbl ? (const void *)&c3[i * N + 2 * nr]
                                            : (const void *)&c3f[i * N + 2 * nr];
                    const void *paired = dbl ? (const void *)&c2[i * 2 * nr + nr]
                                             : (const void *)&c2f[i * 2 * nr + nr];
                    cr_assert_eq(memcmp(alone, paired, bytes), 0,
                                 "nr %lld row %d source %d back %d dbl %d", (long long)nr, i, src,
                                 back, dbl);
                }
                or_packed_b_free(p3);
                or_packed_b_free(p2);
            }
    free(b), free(bf);
}

FLOAT_DOUBLE_TEST(two_row_pairing, check_two_row_pairing, scalar, OR_ISA_SCALAR)
FLOAT_DOUBLE_TEST(two_row_pairing, check_two_row_pairing, avx2, OR_ISA_AVX2)
FLOAT_DOUBLE_TEST(two_row_pairing, check_two_row_pairing, avx512, OR_ISA_AVX512)
FLOAT_DOUBLE_TEST(every_row_count, check_every_m, scalar, OR_ISA_SCALAR)
FLOAT_DOUBLE_TEST(every_row_count, check_every_m, avx2, OR_ISA_AVX2)
FLOAT_DOUBLE_TEST(every_row_count, check_every_m, avx512, OR_ISA_AVX512)

ISA_TESTS(scalar, OR_ISA_SCALAR)
ISA_TESTS(avx2, OR_ISA_AVX2)
ISA_TESTS(avx512, OR_ISA_AVX512)

/* A replicated pack: or_packed_b_copy(p, i) cycles through the copies, each
 * with its own data, and every copy's product equals the original's bit for
 * bit (float and double, one and two rows, both sweep directions; run on
 * every ISA, whose panel widths differ). */
static void check_replicas(bool dbl) {
    /* K odd: a pack of 130 padded columns is then no multiple of 64 bytes */
    const int64_t K = 301, N = 130;
    float *bf = malloc(sizeof(float) * (size_t)(K * N)), af[2 * 301];
    double *b = malloc(sizeof(double) * (size_t)(K * N)), a[2 * 301];
    for (int64_t i = 0; i < K * N; i++) bf[i] = (float)(b[i] = rnd_val());
    for (int64_t i = 0; i < 2 * K; i++) af[i] = (float)(a[i] = rnd_val());
    or_packed_b *p = dbl ? or_dgemm_pack_b(true, K, N, b, K) : or_sgemm_pack_b(true, K, N, bf, K);
    cr_assert_not_null(p);
    cr_assert_eq(or_packed_b_copies(p), 1);
    cr_assert_eq(or_packed_b_copy(p, 5), p, "no copies: the pack itself");
    cr_assert(!or_packed_b_replicate(p, 0));
    cr_assert(!or_packed_b_replicate(p, OR_PACKED_B_MAX_COPIES + 1));
    cr_assert(or_packed_b_replicate(p, 1), "one copy: nothing to do");
    cr_assert_eq(or_packed_b_copies(p), 1);
    cr_assert(or_packed_b_replicate(p, 3));
    cr_assert_eq(or_packed_b_copies(p), 3);
    cr_assert(!or_packed_b_replicate(p, 2), "copies are made once");
    or_packed_b_set_source(p, OR_PACK_L3); /* reaches the replicas too: same results */
    const or_packed_b *copy[4];
    for (int i = 0; i < 4; i++) copy[i] = or_packed_b_copy(p, i);
    cr_assert_eq(copy[0], p);
    cr_assert_eq(copy[3], p, "copy 3 of 3 is copy 0");
    cr_assert(copy[1] != p && copy[2] != p && copy[1] != copy[2]);
    size_t bytes = or_packed_b_bytes(p);
    for (int i = 1; i < 3; i++) {
        const unsigned char *data = or_packed_b_data(copy[i]);
        cr_assert(data != or_packed_b_data(p) && data != or_packed_b_data(copy[3 - i]),
                  "copy %d has data of its own", i);
        cr_assert_eq((uintptr_t)data % 64, 0, "copy %d starts on a cache line", i);
        cr_assert_eq(memcmp(data, or_packed_b_data(p), bytes), 0, "copy %d holds the pack", i);
        cr_assert_eq(or_packed_b_source(copy[i]), OR_PACK_L3, "copy %d's source", i);
    }
    cr_assert_eq(or_packed_b_copy(p, -1), copy[2]);
    cr_assert_eq(or_packed_b_copy(NULL, 1), NULL);
    size_t esz = dbl ? sizeof(double) : sizeof(float);
    for (int64_t M = 1; M <= 2; M++)
        for (int back = 0; back < 2; back++) {
            double want[2 * 130], got[2 * 130];
            float wantf[2 * 130], gotf[2 * 130];
            for (int i = 0; i < 3; i++) {
                double *c = i ? got : want;
                float *cf = i ? gotf : wantf;
                if (dbl)
                    or_dgemm_packed_sweep(M, N, K, 1, a, K, copy[i], 0, c, N, NULL, back);
                else
                    or_sgemm_packed_sweep(M, N, K, 1, af, K, copy[i], 0, cf, N, NULL, back);
                if (i)
                    cr_assert_eq(memcmp(dbl ? (void *)got : (void *)gotf,
                                        dbl ? (void *)want : (void *)wantf, (size_t)(M * N) * esz),
                                 0, "copy %d, M %lld, back %d, dbl %d", i, (long long)M, back, dbl);
            }
        }
    or_packed_b_free(p);
    free(b), free(bf);
}

Test(gemm, replicated_pack_copies_give_identical_products) {
    static const char *const names[] = {"scalar", "avx2", "avx512"};
    static const or_isa isas[] = {OR_ISA_SCALAR, OR_ISA_AVX2, OR_ISA_AVX512};
    int checked = 0;
    for (int i = 0; i < 3; i++) {
        if (!use_isa(names[i], isas[i])) continue;
        check_replicas(false);
        check_replicas(true);
        checked++;
    }
    unsetenv("ONNXRUN_ISA");
    or_cpu_reset();
    cr_assert_geq(checked, 1, "the scalar kernels at least");
}

/* The blocked driver's rows per tile come from the L2 size (a quarter of it
 * for the tile's A block, at most 256 rows): a 16 KiB L2 gives one micro-tile
 * of rows per tile, 512 KiB 126 float rows on AVX2, 8 MiB the cap. Shapes
 * with M past those, row tails included, stay right on one thread and three,
 * the best ISA, packed or not. */
Test(gemm, row_tiles_follow_the_l2) {
    static const char *const l2s[] = {"16K", "512K", "8M"};
    static const shape shapes[] = {{400, 70, 300, false, false, 1, 0, 1},
                                   {301, 131, 257, true, true, 0.5, 1, 0},
                                   {263, 48, 600, false, true, -1, 0.5, 2}};
    or_threadpool *pool = or_threadpool_create(3);
    cr_assert_not_null(pool);
    int bad = 0;
    for (size_t l = 0; l < sizeof l2s / sizeof l2s[0]; l++) {
        char *saved = swap_env("ONNXRUN_L2_BYTES", l2s[l]);
        or_cpu_reset();
        cr_assert_eq(or_cpu_l2_bytes(), or_cpu_size_from_text(l2s[l]));
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            for (int packed = 0; packed < 2; packed++) {
                shape x = shapes[i];
                if (packed) x.ta = false;
                bad += check_shape(&x, false, packed, NULL) + check_shape(&x, true, packed, pool);
            }
        restore_env("ONNXRUN_L2_BYTES", saved);
        or_cpu_reset();
    }
    or_threadpool_destroy(pool);
    cr_expect_eq(bad, 0, "%d mismatches", bad);
}

/* Hand-computed: [[1,2],[3,4]] x [[5,6],[7,8]] = [[19,22],[43,50]]. */
Test(gemm, hand_values) {
    const float a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
    float c[4] = {1, 1, 1, 1};
    or_sgemm(false, false, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2, NULL);
    cr_expect_eq(c[0], 19);
    cr_expect_eq(c[1], 22);
    cr_expect_eq(c[2], 43);
    cr_expect_eq(c[3], 50);
    /* A^T B^T with alpha 2, beta 1: 2 * [[23,31],[34,46]] + 1 */
    or_sgemm(true, true, 2, 2, 2, 2.0f, a, 2, b, 2, 1.0f, c, 2, NULL);
    cr_expect_eq(c[0], 19 + 46);
    cr_expect_eq(c[1], 22 + 62);
    cr_expect_eq(c[2], 43 + 68);
    cr_expect_eq(c[3], 50 + 92);
}

/* K == 0 and alpha == 0 only scale C; beta == 0 clears NaN. */
Test(gemm, degenerate) {
    float c[2] = {NAN, 4};
    const float a[1] = {1}, b[2] = {1, 1};
    or_sgemm(false, false, 1, 2, 0, 1.0f, a, 1, b, 2, 0.0f, c, 2, NULL);
    cr_expect_eq(c[0], 0);
    cr_expect_eq(c[1], 0);
    c[1] = 4;
    or_sgemm(false, false, 1, 2, 1, 0.0f, a, 1, b, 2, 0.5f, c, 2, NULL);
    cr_expect_eq(c[1], 2);
    cr_expect_null(or_sgemm_pack_b(false, 0, 4, b, 4));
}
