/* Panel-packed weights (ops/kernels/qgemm.h): hand-derived values, the
 * AVX2 and AVX-512 BF16/VNNI/F32 kernels against the scalar reference, error bounds
 * against a double-precision product, and LSTM/GRU with bf16/int8 weights
 * against float weights. */
#include "../../ops/kernels/gemm.h"
#include "../../ops/kernels/qgemm.h"
#include "../../ops/recurrent.h"
#include "../../runtime/cpu.h"
#include "../../runtime/weights.h"
#include "one_node_graph.h"
#include "test_env.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t rng = 0x2545F4914F6CDD1Du;
static float rndf(float lo, float hi) {
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return lo + (hi - lo) * (float)(rng >> 40) / (float)(1u << 24);
}

/* Caps the kernels at isa (ONNXRUN_ISA), or lifts the cap with NULL, and
 * has the CPU checked again. */
static void cap_isa(const char *isa) {
    if (isa)
        setenv("ONNXRUN_ISA", isa, 1);
    else
        unsetenv("ONNXRUN_ISA");
    or_cpu_reset();
}

/* The AVX2 kernels, then the best this CPU has. */
static const char *const isa_caps[2] = {"avx2", NULL};

Test(qgemm, bf16_rounding) {
    cr_expect_eq(or_f32_to_bf16(1.0f), 0x3f80);
    cr_expect_eq(or_f32_to_bf16(-2.0f), 0xc000);
    cr_expect_eq(or_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);           /* tie: to even */
    cr_expect_eq(or_f32_to_bf16(1.0f + 0x1p-7f + 0x1p-8f), 0x3f82); /* tie: to even (up) */
    cr_expect_eq(or_f32_to_bf16(1.0f + 0x1p-8f + 0x1p-12f), 0x3f81);
    cr_expect(isnan(or_bf16_to_f32(or_f32_to_bf16(NAN))));
    cr_expect_eq(or_bf16_to_f32(0x3fc0), 1.5f);
}

/* The two int8 weight kinds: 8- or 7-bit activations (S8), 16-bit ones (S16). */
static const or_qkind int_kinds[2] = {OR_Q_S8, OR_Q_S16};

/* B = [1, -0.5, 0.25, 0], A = [1, 1, 1, 1]: weights quantize to 127, -64
 * (-63.5 rounds to even), 32 (31.75), 0 with scale 1/127; A to a_max with
 * scale 1/a_max, so C = a_max * (127 - 64 + 32) / (127 a_max) = 95/127. */
Test(qgemm, int8_hand_value) {
    const float B[4] = {1, -0.5f, 0.25f, 0}, A[4] = {1, 1, 1, 1};
    for (int kind = 0; kind < 2; kind++)
        for (int scalar = 1; scalar >= 0; scalar--) {
            or_qmat *q = or_qmat_pack(int_kinds[kind], 1, 4, B, 4, scalar);
            cr_assert_not_null(q);
            void *work = aligned_alloc(64, or_qmat_work_size(q, 1));
            float c = 0;
            or_qmat_gemm(q, 1, A, 4, &c, 1, work, NULL);
            cr_expect_float_eq(c, 95.0f / 127.0f, 1e-6f, "%s: %g", q->kern_name, (double)c);
            free(work);
            or_qmat_free(q);
        }
}

/* A NaN weight makes its output column NaN and a NaN activation its output
 * row, as in float: fmaxf would drop a NaN from a row's scale, leaving a
 * finite scale over an undefined quantized value. */
Test(qgemm, int8_nan_propagates) {
    const float B[8] = {1, NAN, 0.5f, 0, 1, -0.5f, 0.25f, 0};
    const float A[8] = {1, 1, 1, 1, 1, NAN, 1, 1};
    for (int kind = 0; kind < 2; kind++)
        for (int scalar = 1; scalar >= 0; scalar--) {
            or_qmat *q = or_qmat_pack(int_kinds[kind], 2, 4, B, 4, scalar);
            cr_assert_not_null(q);
            void *work = aligned_alloc(64, or_qmat_work_size(q, 2));
            float c[4] = {0, 0, 0, 0};
            or_qmat_gemm(q, 2, A, 4, c, 2, work, NULL);
            cr_expect(isnan(c[0]), "%s: NaN weight, got %g", q->kern_name, (double)c[0]);
            cr_expect_float_eq(c[1], 95.0f / 127.0f, 1e-6f, "%s: %g", q->kern_name, (double)c[1]);
            cr_expect(isnan(c[2]) && isnan(c[3]), "%s: NaN activation, got %g %g", q->kern_name,
                      (double)c[2], (double)c[3]);
            free(work);
            or_qmat_free(q);
        }
}

/* B = [1.5, 3], A = [0.5, -0.25] are exact in bfloat16: C = 0.75 - 0.75 = 0. */
Test(qgemm, bf16_hand_value) {
    const float B[4] = {1.5f, 3, 2, 0}, A[2] = {0.5f, -0.25f};
    for (int scalar = 1; scalar >= 0; scalar--) {
        or_qmat *q = or_qmat_pack(OR_Q_BF16, 2, 2, B, 2, scalar);
        void *work = aligned_alloc(64, or_qmat_work_size(q, 1));
        float c[2] = {9, 9};
        or_qmat_gemm(q, 1, A, 2, c, 2, work, NULL);
        cr_expect_eq(c[0], 0.0f, "%s", q->kern_name);
        cr_expect_eq(c[1], 1.0f, "%s", q->kern_name);
        free(work);
        or_qmat_free(q);
    }
}

/* S16's int32 sums cannot overflow: over K = 40000 weights and activations
 * all at their largest (B and A all 1: q = 127 and a = a_max), C = K. With
 * the 16-bit activations' full range the sum, 127 * 16383 * 40000, would
 * wrap 20 times over. */
Test(qgemm, s16_sums_cannot_overflow) {
    enum { K = 40000 };
    static float B[2 * K], A[K];
    for (int k = 0; k < 2 * K; k++) B[k] = k < K ? 1.0f : -0.5f;
    for (int k = 0; k < K; k++) A[k] = 1.0f;
    for (int cap = 0; cap < 2; cap++) {
        cap_isa(isa_caps[cap]);
        for (int scalar = 1; scalar >= 0; scalar--) {
            or_qmat *q = or_qmat_pack(OR_Q_S16, 2, K, B, K, scalar);
            cr_assert_not_null(q);
            void *work = aligned_alloc(64, or_qmat_work_size(q, 1));
            float c[2] = {0, 0};
            or_qmat_gemm(q, 1, A, K, c, 2, work, NULL);
            cr_expect(fabsf(c[0] - K) <= 0.01f * K / 1000, "%s: %g, want %d", q->kern_name,
                      (double)c[0], K);
            cr_expect(fabsf(c[1] + 0.5f * K) <= 0.01f * K / 1000, "%s: %g, want %g", q->kern_name,
                      (double)c[1], -0.5 * K);
            free(work);
            or_qmat_free(q);
        }
    }
    cap_isa(NULL);
}

Test(qgemm, features_follow_isa_cap) {
    cap_isa("avx2");
    cr_expect(!or_cpu_has(OR_CPU_AVX512_BF16));
    cr_expect(!or_cpu_has(OR_CPU_AVX512_VNNI));
    cap_isa(NULL);
}

/* Products with a column range of the blocked GEMM's pack (the team
 * engine's members each computing their own units' columns of X·Wᵀ) equal
 * those columns of the whole product, bit for bit, from any multiple of the
 * pack's panel width, over several K blocks and tiles, ending anywhere
 * (also inside a panel); columns outside the range are left alone, and a
 * start off a panel edge or a range past the pack is refused. */
Test(qgemm, column_ranges_match_the_whole_product) {
    const int64_t M = 20, N = 600, K = 300;
    float *B = malloc(sizeof(float) * N * K), *A = malloc(sizeof(float) * M * K);
    float *whole = malloc(sizeof(float) * M * N), *part = malloc(sizeof(float) * M * N);
    for (int64_t i = 0; i < N * K; i++) B[i] = rndf(-0.5f, 0.5f);
    for (int64_t i = 0; i < M * K; i++) A[i] = rndf(-1, 1);
    or_packed_b *pb = or_sgemm_pack_b(true, K, N, B, K);
    cr_assert_not_null(pb);
    const int64_t nr = or_packed_b_col_align(pb);
    cr_assert(nr > 0);
    or_sgemm_packed(M, N, K, 1, A, K, pb, 0, whole, N, NULL);
    for (int64_t col0 = 0; col0 < N; col0 += nr)
        for (int64_t n = 1; col0 + n <= N; n += 37) {
            for (int64_t i = 0; i < M * N; i++) part[i] = -7.0f;
            cr_assert(or_sgemm_packed_cols(M, col0, n, K, 1, A, K, pb, 0, part + col0, N, NULL));
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    bool in = j >= col0 && j < col0 + n;
                    float want = in ? whole[i * N + j] : -7.0f;
                    cr_assert(memcmp(&part[i * N + j], &want, sizeof want) == 0,
                              "cols [%ld, %ld) at [%ld, %ld]: %g vs %g", (long)col0,
                              (long)(col0 + n), (long)i, (long)j, part[i * N + j], want);
                }
        }
    cr_assert(!or_sgemm_packed_cols(M, nr / 2, 8, K, 1, A, K, pb, 0, part, N, NULL));
    cr_assert(!or_sgemm_packed_cols(M, N - nr, nr + 1, K, 1, A, K, pb, 0, part, N, NULL));
    or_packed_b_free(pb);
    free(B), free(A), free(whole), free(part);
}

/* Rows read in blocks (pack_rows.h), as the team engine packs a member's
 * rows of R straight from it: units [u0, u0 + ns) of each of 3 gates of H
 * rows, K floats a row. Every pack equals the pack of a gathered copy
 * (panels of each kind byte for byte; the blocked GEMM's pack by its
 * products), and source pages are handed back once every byte on them is
 * packed: with K = 1024 (a row a page) every packed row reads as zeros
 * after; with K = 1000 rows share pages, and the rows not packed must
 * survive whole either way. */
static void check_blocked_rows(int64_t K) {
    const int64_t G = 3, H = 64, u0 = 16, ns = 32, N = G * ns, M = 5;
    const size_t src_bytes = sizeof(float) * (size_t)(G * H * K);
    float *copy = malloc(sizeof(float) * (size_t)(N * K)), *A = malloc(sizeof(float) * M * K);
    float *c0 = malloc(sizeof(float) * (size_t)(M * N)),
          *c1 = malloc(sizeof(float) * (size_t)(M * N));
    for (int64_t i = 0; i < M * K; i++) A[i] = rndf(-1, 1);
    for (int kind = 0; kind < 5; kind++) { /* BF16, S8, F32 panels, S16, the blocked GEMM */
        float *src =
            mmap(NULL, src_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        cr_assert(src != MAP_FAILED);
        for (int64_t i = 0; i < G * H * K; i++) src[i] = 0.25f + rndf(0, 0.5f);
        for (int64_t n = 0; n < N; n++)
            memcpy(copy + n * K, src + ((n / ns) * H + u0 + n % ns) * K, sizeof(float) * K);
        or_pack_rows rows = {
            .base = src + u0 * K, .esz = sizeof(float), .ldb = K, .block = ns, .block_ld = H * K};
        or_src_release *rel = or_src_release_begin(src, src_bytes);
        cr_assert_not_null(rel);
        if (kind < 4) {
            or_qkind qk = (or_qkind)(kind + 1);
            or_qmat *want = or_qmat_pack(qk, N, K, copy, K, 0);
            or_qmat *got = or_qmat_pack_rows(qk, N, K, &rows, 0, false, rel);
            cr_assert(want && got);
            size_t esz = qk == OR_Q_BF16 || qk == OR_Q_S16 ? 2 : qk == OR_Q_S8 ? 1 : 4;
            cr_assert_eq(
                memcmp(want->data, got->data, esz * (size_t)(want->npan * 16 * want->kpad)), 0,
                "K %ld kind %d", (long)K, kind);
            if (qk == OR_Q_S8 || qk == OR_Q_S16)
                cr_assert_eq(memcmp(want->scale, got->scale, sizeof(float) * (size_t)N), 0);
            if (qk == OR_Q_S8)
                cr_assert_eq(memcmp(want->rowsum, got->rowsum, sizeof(int32_t) * (size_t)N), 0);
            or_qmat_free(want);
            or_qmat_free(got);
        } else {
            or_packed_b *want = or_sgemm_pack_b(true, K, N, copy, K);
            or_packed_b *got = or_sgemm_pack_bt_rows(K, N, &rows, false, rel);
            cr_assert(want && got);
            or_sgemm_packed(M, N, K, 1, A, K, want, 0, c0, N, NULL);
            or_sgemm_packed(M, N, K, 1, A, K, got, 0, c1, N, NULL);
            cr_assert_eq(memcmp(c0, c1, sizeof(float) * (size_t)(M * N)), 0);
            or_packed_b_free(want);
            or_packed_b_free(got);
        }
        cr_assert(or_src_release_end(rel), "K %ld kind %d: no page handed back", (long)K, kind);
        for (int64_t r = 0; r < G * H; r++) {
            bool packed = r % H >= u0 && r % H < u0 + ns;
            for (int64_t k = 0; k < K; k++) {
                float v = src[r * K + k];
                if (!packed)
                    cr_assert(v >= 0.25f, "K %ld kind %d: row %ld not packed was handed back",
                              (long)K, kind, (long)r);
                else if (K % 1024 == 0)
                    cr_assert(v == 0, "K %ld kind %d: packed row %ld kept", (long)K, kind, (long)r);
            }
        }
        munmap(src, src_bytes);
    }
    free(copy), free(A), free(c0), free(c1);
}

Test(qgemm, rows_in_blocks_pack_as_their_copy) {
    check_blocked_rows(1024);
    check_blocked_rows(1000);
}

/* One random product: the chosen kernel vs the scalar reference on the same
 * pack (s8 exact, bf16 to float rounding), and the reference vs double
 * within the scheme's bound (s8: the pack's activation range a_max). */
static void check_random(or_qkind kind, int64_t M, int64_t N, int64_t K, or_threadpool *pool) {
    float *B = malloc(sizeof(float) * (size_t)(N * K)),
          *A = malloc(sizeof(float) * (size_t)(M * K));
    float *c0 = malloc(sizeof(float) * (size_t)(M * N)),
          *c1 = malloc(sizeof(float) * (size_t)(M * N));
    for (int64_t i = 0; i < N * K; i++) B[i] = rndf(-0.5f, 0.5f);
    for (int64_t i = 0; i < M * K; i++) A[i] = rndf(-1, 1);
    or_qmat *qv = or_qmat_pack(kind, N, K, B, K, 0);
    cr_assert(qv);
    or_qmat ref = *qv;
    ref.kern = kind == OR_Q_BF16  ? or_bf16_qgemm__scalar
               : kind == OR_Q_S8  ? or_s8_qgemm__scalar
               : kind == OR_Q_S16 ? or_s16_qgemm__scalar
                                  : or_f32_qgemm__scalar;
    ref.quantize = or_s8_quantize__scalar;
    ref.quantize16 = or_s16_quantize__scalar;
    ref.abs_max = or_s8_abs_max__scalar;
    const bool ints = kind == OR_Q_S8 || kind == OR_Q_S16;
    const double top = ints ? qv->a_max : 127;
    const char *name = kind == OR_Q_BF16  ? "bf16"
                       : kind == OR_Q_S8  ? "s8"
                       : kind == OR_Q_S16 ? "s16"
                                          : "f32";
    void *work = aligned_alloc(64, or_qmat_work_size(qv, M));
    or_qmat_gemm(&ref, M, A, K, c0, N, work, NULL);
    or_qmat_gemm(qv, M, A, K, c1, N, work, pool);
    /* A streamed pack only prefetches differently: bit-identical results. */
    float *c2 = malloc(sizeof(float) * (size_t)(M * N));
    qv->streamed = true;
    or_qmat_gemm(qv, M, A, K, c2, N, work, pool);
    cr_assert_eq(memcmp(c1, c2, sizeof(float) * (size_t)(M * N)), 0,
                 "%s streamed M%lld N%lld K%lld", qv->kern_name, (long long)M, (long long)N,
                 (long long)K);
    /* Nor does a sweep over the panels from last to first. */
    qv->streamed = false;
    or_qmat_gemm_sweep(qv, M, A, K, c2, N, work, pool, true);
    cr_assert_eq(memcmp(c1, c2, sizeof(float) * (size_t)(M * N)), 0,
                 "%s swept back M%lld N%lld K%lld", qv->kern_name, (long long)M, (long long)N,
                 (long long)K);
    /* Float panels read one at a time by one-row products (AVX-512) sum in
     * another order: checked against the reference below, and the same
     * either way round. */
    float *c3 = malloc(sizeof(float) * (size_t)(M * N));
    qv->one_stream = true;
    or_qmat_gemm(qv, M, A, K, c3, N, work, pool);
    or_qmat_gemm_sweep(qv, M, A, K, c2, N, work, pool, true);
    cr_assert_eq(memcmp(c3, c2, sizeof(float) * (size_t)(M * N)), 0,
                 "%s one stream swept back M%lld N%lld K%lld", qv->kern_name, (long long)M,
                 (long long)N, (long long)K);
    qv->one_stream = false;
    /* It is another kernel: over K 512 its sums do not all come out the same. */
    if (kind == OR_Q_F32 && M == 1 && K >= 512 && strcmp(qv->kern_name, "avx512") == 0)
        cr_assert_neq(memcmp(c3, c1, sizeof(float) * (size_t)(M * N)), 0,
                      "one stream took the 8-panel block");
    free(c2);
    for (int64_t i = 0; i < M; i++) {
        double amax = 0;
        for (int64_t k = 0; k < K; k++) amax = fmax(amax, fabs(A[i * K + k]));
        for (int64_t n = 0; n < N; n++) {
            double exact = 0, sa = 0, sb = 0, bmax = 0;
            for (int64_t k = 0; k < K; k++) {
                exact += (double)A[i * K + k] * B[n * K + k];
                sa += fabs(A[i * K + k]), sb += fabs(B[n * K + k]);
                bmax = fmax(bmax, fabs(B[n * K + k]));
            }
            double abs_prod = 0;
            for (int64_t k = 0; k < K; k++) abs_prod += fabs((double)A[i * K + k] * B[n * K + k]);
            /* bf16: each operand off by <= 2^-8 relative; s8, s16: each by half a step. */
            double bound = kind == OR_Q_F32 ? 1e-5 * abs_prod + 1e-7
                           : kind == OR_Q_BF16
                               ? abs_prod * (2 * 0x1p-8 + 0x1p-16) + 1e-6 * abs_prod + 1e-7
                               : 0.5 * amax / top * sb + 0.5 * bmax / 127 * sa +
                                     0.25 * (double)K * amax * bmax / (127.0 * top) + 1e-6;
            float s = c0[i * N + n], v = c1[i * N + n];
            cr_assert(fabs(s - exact) <= bound,
                      "%s M%lld N%lld K%lld [%lld,%lld]: %g vs %g (bound %g)", name, (long long)M,
                      (long long)N, (long long)K, (long long)i, (long long)n, (double)s, exact,
                      bound);
            double tol = ints ? 0 : 1e-5 * abs_prod + 1e-7;
            cr_assert(fabs(s - v) <= tol, "%s kernel %s [%lld,%lld]: %g vs scalar %g", name,
                      qv->kern_name, (long long)i, (long long)n, (double)v, (double)s);
            float v1 = c3[i * N + n];
            cr_assert(fabs(s - v1) <= tol, "%s kernel %s one stream [%lld,%lld]: %g vs scalar %g",
                      name, qv->kern_name, (long long)i, (long long)n, (double)v1, (double)s);
        }
    }
    free(work);
    or_qmat_free(qv);
    free(A), free(B), free(c0), free(c1), free(c3);
}

/* Every kernel this CPU can run: the AVX2 ones (ONNXRUN_ISA=avx2) and the
 * best (AVX-512 BF16/VNNI/F32 where present). The AVX-512 kernels split the
 * rows into groups of up to 8 (M 9: 4 + 5, 11: 5 + 6, 13: 6 + 7, 24: 8 x 3)
 * and each group's panels into blocks of 8, 4 or 2 and the rest (N 100 at
 * M 3: 4 + 2 + 1; N 200 at M 8: 2 x 6 + 1). */
Test(qgemm, kernels_match_reference) {
    static const int64_t shapes[][3] = {{1, 16, 4},     {1, 17, 5},   {2, 128, 64}, {3, 100, 37},
                                        {4, 256, 128},  {5, 40, 130}, {7, 512, 64}, {16, 96, 33},
                                        {1, 2048, 512}, {1, 40, 9},   {2, 24, 3},   {6, 70, 260},
                                        {1, 33, 7},     {1, 48, 6},   {8, 200, 70}, {9, 120, 40},
                                        {11, 1000, 19}, {13, 48, 20}, {24, 80, 10}};
    or_threadpool *pool = or_threadpool_create(2);
    for (int cap = 0; cap < 2; cap++) {
        cap_isa(isa_caps[cap]);
        for (int kind = OR_Q_BF16; kind <= OR_Q_S16; kind++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                check_random((or_qkind)kind, shapes[s][0], shapes[s][1], shapes[s][2],
                             s % 2 ? pool : NULL);
    }
    or_threadpool_destroy(pool);
}

/* The int8 activation conversion of every kernel this CPU can run gives the
 * scalar reference's bytes and maxima: lengths around the vector widths,
 * ties (x * inv = k + 1/2 rounds to even), products past a_max (clamped),
 * NaN, infinities and -0. */
static void check_s8_conversion(const or_qmat *q) {
    enum { MAXN = 1000 };
    static float x[MAXN];
    static uint8_t want[MAXN], got[MAXN + 1]; /* got[n]: must stay unwritten */
    static const float special[] = {2.5f, -3.5f, 0.5f, -0.5f, 1.5f, 64.5f, -200.0f, -0.0f};
    static const int64_t lens[] = {0,  1,  7,  8,  9,  15,  16,  17,  31,
                                   32, 33, 63, 64, 65, 100, 512, 1000};
    for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
        int64_t n = lens[l];
        for (int pass = 0; pass < 4; pass++) {
            for (int64_t k = 0; k < n; k++) x[k] = k % 5 == 3 ? special[k % 8] : rndf(-3, 3);
            if (pass == 1 && n) x[(n * 7) / 9] = NAN;
            if (pass == 2 && n) x[n - 1] = -INFINITY;
            float ref = or_s8_abs_max__scalar(x, n), max = q->abs_max(x, n);
            cr_expect(ref == max || (isnan(ref) && isnan(max)),
                      "%s: abs max n %lld pass %d: %g vs %g", q->kern_name, (long long)n, pass,
                      (double)max, (double)ref);
            float inv = pass == 3 ? 40.0f : 1.0f; /* pass 3: most products past a_max */
            for (int a_max = 63; a_max <= 127; a_max += 64) {
                or_s8_quantize__scalar(x, n, inv, a_max, want);
                memset(got, 0xa5, sizeof got);
                q->quantize(x, n, inv, a_max, got);
                cr_expect(memcmp(want, got, (size_t)n) == 0 && got[n] == 0xa5,
                          "%s: quantized bytes n %lld pass %d a_max %d", q->kern_name, (long long)n,
                          pass, a_max);
            }
        }
    }
}

/* The same for S16's 16-bit activations, at a_max 16383 and smaller ones
 * (long rows), with products far past a_max and past the int32 range. */
static void check_s16_conversion(const or_qmat *q) {
    enum { MAXN = 1000 };
    static float x[MAXN];
    static int16_t want[MAXN], got[MAXN + 1]; /* got[n]: must stay unwritten */
    static const float special[] = {2.5f, -3.5f, 0.5f, -0.5f, 16382.5f, 1e12f, -1e12f, -0.0f};
    static const int64_t lens[] = {0, 1, 7, 15, 16, 17, 31, 32, 33, 100, 1000};
    static const int a_maxes[] = {16383, 845, 1};
    for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
        int64_t n = lens[l];
        for (int pass = 0; pass < 4; pass++) {
            for (int64_t k = 0; k < n; k++) x[k] = k % 5 == 3 ? special[k % 8] : rndf(-3, 3);
            if (pass == 1 && n) x[(n * 7) / 9] = NAN;
            if (pass == 2 && n) x[n - 1] = -INFINITY, x[0] = INFINITY;
            float inv = pass == 3 ? 6000.0f : 1.0f; /* pass 3: most products past a_max */
            for (size_t t = 0; t < sizeof a_maxes / sizeof *a_maxes; t++) {
                or_s16_quantize__scalar(x, n, inv, a_maxes[t], want);
                memset(got, 0xa5, sizeof got);
                q->quantize16(x, n, inv, a_maxes[t], got);
                cr_expect(memcmp(want, got, sizeof(int16_t) * (size_t)n) == 0 &&
                              got[n] == (int16_t)0xa5a5,
                          "%s: quantized words n %lld pass %d a_max %d", q->kern_name, (long long)n,
                          pass, a_maxes[t]);
            }
        }
    }
    /* The reference itself: ties to even, clamps, NaN to -a_max. */
    const float hand[6] = {2.5f, -3.5f, 1e9f, -INFINITY, NAN, -0.0f};
    int16_t out[6];
    or_s16_quantize__scalar(hand, 6, 1.0f, 100, out);
    const int16_t expect[6] = {2, -4, 100, -100, -100, 0};
    cr_expect(memcmp(out, expect, sizeof out) == 0, "scalar s16 quantize");
}

Test(qgemm, activation_conversions_match_reference) {
    static const float B[4] = {1, 2, 3, 4};
    for (int cap = 0; cap < 2; cap++) {
        cap_isa(isa_caps[cap]);
        or_qmat *q8 = or_qmat_pack(OR_Q_S8, 1, 4, B, 4, 0),
                *q16 = or_qmat_pack(OR_Q_S16, 1, 4, B, 4, 0);
        cr_assert(q8 && q16);
        check_s8_conversion(q8);
        check_s16_conversion(q16);
        or_qmat_free(q8);
        or_qmat_free(q16);
    }
    cap_isa(NULL);
}

/* With AVX2 (and no AVX-512 extension in use) bf16 and both int8 kinds get
 * the AVX2 kernels, not the scalar reference. */
Test(qgemm, avx2_kernels_are_picked) {
    cap_isa("avx2");
    if (or_cpu_isa() != OR_ISA_AVX2) {
        cap_isa(NULL);
        cr_skip_test("this CPU has no AVX2");
    }
    const float B[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const or_qkind kinds[3] = {OR_Q_BF16, OR_Q_S8, OR_Q_S16};
    for (int k = 0; k < 3; k++) {
        or_qmat *q = or_qmat_pack(kinds[k], 2, 4, B, 4, 0);
        cr_assert_not_null(q);
        cr_expect_str_eq(q->kern_name, "avx2");
        or_qmat_free(q);
    }
    cap_isa(NULL);
}

/* ---- through the ops: reduced-precision weights vs float weights ---- */

enum { SEQ = 30, BATCH = 2, IN = 24, HID = 48 };

/* Y of one LSTM (gates 4) or GRU (gates 3) with seeded weights. */
static void run_cell(const char *op, int gates, int precision, float *y) {
    static float x[SEQ * BATCH * IN], w[4 * HID * IN], r[4 * HID * HID], b[8 * HID];
    rng = 12345;
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = rndf(-1, 1);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) w[i] = rndf(-0.3f, 0.3f);
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) r[i] = rndf(-0.3f, 0.3f);
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) b[i] = rndf(-0.2f, 0.2f);
    test_graph tg = make(op, 14, 4, IN("X", "W", "R", "B"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 3, DIMS(SEQ, BATCH, IN), x);
    init(&tg, "W", OR_FLOAT, 3, DIMS(1, gates * HID, IN), w);
    init(&tg, "R", OR_FLOAT, 3, DIMS(1, gates * HID, HID), r);
    init(&tg, "B", OR_FLOAT, 2, DIMS(1, 2 * gates * HID), b);
    attr_int(&tg, "hidden_size", HID);
    tg.g->weight_precision = precision;
    run_ok(&tg);
    memcpy(y, out(&tg, "Y")->data, sizeof(float) * SEQ * BATCH * HID);
    or_graph_free(tg.g);
}

/* Documented bounds (README): max |Y - Y_fp32| <= 0.01 (bf16), 0.03 (int8). */
static void check_op(const char *op, int gates) {
    static float ref[SEQ * BATCH * HID], got[SEQ * BATCH * HID];
    run_cell(op, gates, ONNXRUN_PRECISION_FP32, ref);
    const double bounds[3] = {0, 0.01, 0.03};
    for (int p = ONNXRUN_PRECISION_BF16; p <= ONNXRUN_PRECISION_INT8; p++) {
        run_cell(op, gates, p, got);
        double err = 0, diff_any = 0;
        for (int i = 0; i < SEQ * BATCH * HID; i++) {
            err = fmax(err, fabs((double)got[i] - ref[i]));
            diff_any += got[i] != ref[i];
        }
        cr_expect(err <= bounds[p], "%s precision %d: max error %g > %g", op, p, err, bounds[p]);
        cr_expect(diff_any > 0, "%s precision %d: identical to fp32 (not applied?)", op, p);
    }
}

/* Which pack W gets with int8 weights: int8 against 16-bit activations on
 * AVX2 (OR_Q_S16) up to OR_Q_INT_MAX_K inputs, float past it and on the
 * scalar kernels; none with fp32. The run's Y stays near fp32's. */
static int int8_w_kind(const char *isa, int precision, int64_t in) {
    enum { S = 2, H = 8 };
    float *x = malloc(sizeof(float) * (size_t)(S * in)),
          *w = malloc(sizeof(float) * (size_t)(4 * H * in));
    float r[4 * H * H], y[2][S * H];
    for (int64_t i = 0; i < S * in; i++) x[i] = rndf(-1, 1);
    for (int64_t i = 0; i < 4 * H * in; i++) w[i] = rndf(-0.3f, 0.3f) / sqrtf((float)in);
    for (int i = 0; i < 4 * H * H; i++) r[i] = rndf(-0.3f, 0.3f);
    int kind = -1;
    for (int run = 0; run < 2; run++) {
        cap_isa(isa);
        test_graph tg = make("LSTM", 14, 3, IN("X", "W", "R"), 1, IN("Y"));
        input(&tg, "X", OR_FLOAT, 3, DIMS(S, 1, in), x);
        init(&tg, "W", OR_FLOAT, 3, DIMS(1, 4 * H, in), w);
        init(&tg, "R", OR_FLOAT, 3, DIMS(1, 4 * H, H), r);
        attr_int(&tg, "hidden_size", H);
        tg.g->weight_precision = run ? precision : ONNXRUN_PRECISION_FP32;
        run_ok(&tg);
        if (run) kind = or_rnn_w_kind(&tg.g->nodes[0]);
        memcpy(y[run], out(&tg, "Y")->data, sizeof y[run]);
        or_graph_free(tg.g);
        cap_isa(NULL);
    }
    for (int i = 0; i < S * H; i++)
        cr_expect(fabsf(y[1][i] - y[0][i]) <= 0.03f, "input %lld: Y[%d] %g vs fp32 %g",
                  (long long)in, i, (double)y[1][i], (double)y[0][i]);
    free(x), free(w);
    return kind;
}

Test(qgemm, int8_w_pack_follows_the_isa) {
    cr_expect_eq(int8_w_kind("scalar", ONNXRUN_PRECISION_INT8, IN), 0);
    cr_expect_eq(int8_w_kind(NULL, ONNXRUN_PRECISION_FP32, IN), 0);
    cap_isa("avx2");
    bool avx2 = or_cpu_isa() == OR_ISA_AVX2;
    cap_isa(NULL);
    if (!avx2) return;
    cr_expect_eq(int8_w_kind("avx2", ONNXRUN_PRECISION_INT8, IN), OR_Q_S16);
    cr_expect_eq(int8_w_kind("avx2", ONNXRUN_PRECISION_INT8, OR_Q_INT_MAX_K), OR_Q_S16);
    cr_expect_eq(int8_w_kind("avx2", ONNXRUN_PRECISION_INT8, OR_Q_INT_MAX_K + 1), 0);
}

/* The int8 kinds refuse a K past OR_Q_INT_MAX_K (their int32 sums could
 * overflow) and take one at it. */
Test(qgemm, int8_packs_bound_k) {
    const int64_t K = OR_Q_INT_MAX_K + 1;
    float *B = calloc((size_t)K, sizeof(float));
    for (int k = 0; k < 2; k++) {
        or_qkind kind = int_kinds[k];
        cr_expect_null(or_qmat_pack(kind, 1, K, B, K, 1), "kind %d, K %lld", kind, (long long)K);
        or_qmat *q = or_qmat_pack(kind, 1, K - 1, B, K, 1);
        cr_expect_not_null(q, "kind %d, K %lld", kind, (long long)(K - 1));
        or_qmat_free(q);
    }
    free(B);
}

Test(qgemm, lstm_reduced_precision) {
    check_op("LSTM", 4);
}

Test(qgemm, gru_reduced_precision) {
    check_op("GRU", 3);
}

/* An LSTM (opset 14) of Y from X [S, B, I], W and R as initializers. */
static test_graph lstm_xwr(int64_t S, int64_t B, int64_t I, int64_t H, const float *x,
                           const float *w, const float *r) {
    test_graph tg = make("LSTM", 14, 3, IN("X", "W", "R"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 3, DIMS(S, B, I), x);
    init(&tg, "W", OR_FLOAT, 3, DIMS(1, 4 * H, I), w);
    init(&tg, "R", OR_FLOAT, 3, DIMS(1, 4 * H, H), r);
    attr_int(&tg, "hidden_size", H);
    return tg;
}

/* Whether this CPU reads the float R of an LSTM of hidden H, read as from
 * the L3 at batch 1, one panel at a time (or_rnn_r_one_stream). */
static bool one_stream_here(int64_t H) {
    return or_cpu_isa() == OR_ISA_AVX512 && (double)(16 * H * H) <= (double)or_cpu_l3_bytes() / 4;
}

/* Random X [S, 1, I], W [4H, I] and R [4H, H] of an LSTM (malloc'ed), the
 * same for the same seed. */
static void lstm_data(int64_t S, int64_t I, int64_t H, uint64_t seed, float **x, float **w,
                      float **r) {
    *x = malloc(sizeof(float) * S * I), *w = malloc(sizeof(float) * 4 * H * I);
    *r = malloc(sizeof(float) * 4 * H * H);
    rng = seed;
    for (int i = 0; i < S * I; i++) (*x)[i] = rndf(-1, 1);
    for (int i = 0; i < 4 * H * I; i++) (*w)[i] = rndf(-0.2f, 0.2f);
    for (int i = 0; i < 4 * H * H; i++) (*r)[i] = rndf(-0.05f, 0.05f);
}

/* Batch-1 float LSTMs whose R_d takes the float panels on AVX-512 (16 MiB:
 * 8 panels at a time below 64 MiB of L3; 2.25 MiB, forced to be read as from
 * the L3: one panel at a time from 9 MiB of L3): same Y as the blocked GEMM
 * of the AVX2 variant up to rounding. */
static void run_big_lstm(const char *isa, int64_t H, float *y) {
    enum { S = 3, I = 8 };
    float *x, *w, *r;
    lstm_data(S, I, H, 777, &x, &w, &r);
    cap_isa(isa);
    test_graph tg = lstm_xwr(S, 1, I, H, x, w, r);
    if (H == 384) {
        /* As read from the L3 whatever this CPU's L2. */
        setenv("ONNXRUN_STREAM_R", "2", 1);
        run_ok(&tg);
        unsetenv("ONNXRUN_STREAM_R");
        bool one = strcmp(isa, "avx512") == 0 && one_stream_here(H);
        cr_expect_eq(or_rnn_r_reads_one_stream(&tg.g->nodes[0]), one, "%s", isa);
    } else {
        run_ok(&tg);
    }
    memcpy(y, out(&tg, "Y")->data, sizeof(float) * S * H);
    or_graph_free(tg.g);
    cap_isa(NULL);
    free(x), free(w), free(r);
}

Test(qgemm, lstm_f32_panels_match_blocked_gemm) {
    static float a[3 * 1024], b[3 * 1024];
    static const int64_t hidden[] = {1024, 384};
    for (int h = 0; h < 2; h++) {
        run_big_lstm("avx2", hidden[h], a);
        run_big_lstm("avx512", hidden[h], b);
        double err = 0;
        for (int i = 0; i < 3 * hidden[h]; i++) err = fmax(err, fabs((double)a[i] - b[i]));
        cr_expect(err <= 1e-5, "hidden %lld: max difference %g", (long long)hidden[h], err);
    }
}

/* Batches 3-16 take the float panels on AVX-512 (or_rnn_f32_panels), whose
 * row groups of up to 8 (12: 6 + 6; 16: 8 + 8) and blocks of panels (hidden
 * 40: 10 panels of R) give the Y of the AVX2 blocked GEMM up to rounding;
 * batch 17 keeps the blocked GEMM. */
Test(qgemm, lstm_f32_panels_at_batches_3_to_16) {
    enum { S = 3, I = 8, H = 40, BMAX = 17 };
    static float x[S * BMAX * I], w[4 * H * I], r[4 * H * H], y[2][S * BMAX * H];
    rng = 99;
    for (int i = 0; i < S * BMAX * I; i++) x[i] = rndf(-1, 1);
    for (int i = 0; i < 4 * H * I; i++) w[i] = rndf(-0.3f, 0.3f);
    for (int i = 0; i < 4 * H * H; i++) r[i] = rndf(-0.2f, 0.2f);
    static const int64_t batches[] = {3, 8, 12, 16, 17};
    static const char *isas[2] = {"avx2", "avx512"};
    for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
        int64_t B = batches[bi];
        for (int v = 0; v < 2; v++) {
            cap_isa(isas[v]);
            test_graph tg = lstm_xwr(S, B, I, H, x, w, r);
            run_ok(&tg);
            bool panels = or_rnn_r_float_panels(&tg.g->nodes[0]);
            bool want = v == 1 && or_cpu_isa() == OR_ISA_AVX512 && B <= 16;
            cr_expect_eq(panels, want, "batch %lld on %s: float panels %d", (long long)B, isas[v],
                         panels);
            memcpy(y[v], out(&tg, "Y")->data, sizeof(float) * (size_t)(S * B * H));
            or_graph_free(tg.g);
        }
        double err = 0;
        for (int64_t i = 0; i < S * B * H; i++) err = fmax(err, fabs((double)y[0][i] - y[1][i]));
        cr_expect(err <= 1e-5, "batch %lld: max difference %g", (long long)B, err);
    }
    cap_isa(NULL);
}

/* How steps read R follows the batch of the plan, not that of the plan that
 * packed it: an LSTM (hidden 384, R read as from the L3) re-planned from
 * batch 3 to batch 1 and back gives, bit for bit, the Y of a graph planned
 * at that batch from the start. On AVX-512 batch 1 reads R one panel at a
 * time and batch 3 does not, with the same packs, so stale marks would
 * change the sums. Alone, the graph releases R after packing and marks its
 * only pack again at each re-plan; as if cloned (weights_shared and
 * caches_lent: R is kept, and a clone may be reading the pack), it packs for
 * batch 1 beside the batch-3 pack, then takes each back in turn. */
enum { RP_S = 3, RP_I = 8, RP_H = 384, RP_BMAX = 3 };
static float rp_x[RP_S * RP_BMAX * RP_I], rp_w[4 * RP_H * RP_I], rp_r[4 * RP_H * RP_H];

static void rp_set_batch(test_graph *tg, int64_t batch) {
    or_tensor *x = &tg->g->tensors[or_graph_find_tensor(tg->g, "X")];
    x->dims[1] = batch;
    x->data = rp_x;
    x->nbytes = sizeof(float) * (size_t)(RP_S * batch * RP_I);
}

static test_graph rp_graph(int64_t batch) {
    return lstm_xwr(RP_S, batch, RP_I, RP_H, rp_x, rp_w, rp_r);
}

static void rp_expect_fresh(test_graph *tg, int64_t batch, const char *how) {
    test_graph fresh = rp_graph(batch);
    run_ok(&fresh);
    size_t bytes = sizeof(float) * (size_t)(RP_S * batch * RP_H);
    cr_assert_eq(out(tg, "Y")->nbytes, bytes, "%s", how);
    cr_expect_eq(memcmp(out(tg, "Y")->data, out(&fresh, "Y")->data, bytes), 0,
                 "%s: Y differs from a graph planned at batch %lld", how, (long long)batch);
    cr_expect_eq(or_rnn_r_reads_one_stream(&tg->g->nodes[0]),
                 or_rnn_r_reads_one_stream(&fresh.g->nodes[0]), "%s", how);
    or_graph_free(fresh.g);
}

static void rp_replans(bool shared) {
    setenv("ONNXRUN_STREAM_R", "2", 1);
    test_graph tg = rp_graph(3);
    tg.g->weights_shared = tg.g->caches_lent = shared;
    run_ok(&tg);
    cr_assert_eq(tg.g->tensors[or_graph_find_tensor(tg.g, "R")].released, !shared);
    const void *packs[2] = {NULL, tg.g->nodes[0].cache}; /* batch 1, batch 3 */
    /* batch 1 reads R one panel at a time, batch 3 does not */
    bool one = one_stream_here(RP_H);
    static const int64_t batches[] = {1, 3, 1, 3};
    for (int k = 0; k < 4; k++) {
        rp_set_batch(&tg, batches[k]);
        cr_assert_eq(or_graph_plan(tg.g), ONNXRUN_OK, "%s", tg.g->errmsg);
        cr_assert_eq(or_graph_run(tg.g), ONNXRUN_OK, "%s", tg.g->errmsg);
        char how[64];
        snprintf(how, sizeof how, "%s, re-plan %d to batch %lld", shared ? "shared" : "alone",
                 k + 1, (long long)batches[k]);
        rp_expect_fresh(&tg, batches[k], how);
        const void **pack = &packs[batches[k] == 3];
        if (!*pack) *pack = tg.g->nodes[0].cache;
        cr_expect_eq(tg.g->nodes[0].cache, *pack, "%s: packed again", how);
        if (batches[k] == 1)
            cr_expect_eq(or_rnn_r_reads_one_stream(&tg.g->nodes[0]), one, "%s", how);
    }
    /* Alone there is one pack; shared, two when the marks differ. */
    cr_expect_eq(tg.g->n_retired, shared && packs[0] != packs[1] ? 1 : 0);
    cr_expect_eq(packs[0] == packs[1], !shared || !one);
    unsetenv("ONNXRUN_STREAM_R");
    or_graph_free(tg.g);
}

Test(qgemm, replanned_lstm_reads_r_as_planned_afresh) {
    rng = 4242;
    for (size_t i = 0; i < sizeof rp_x / sizeof *rp_x; i++) rp_x[i] = rndf(-1, 1);
    for (size_t i = 0; i < sizeof rp_w / sizeof *rp_w; i++) rp_w[i] = rndf(-0.2f, 0.2f);
    for (size_t i = 0; i < sizeof rp_r / sizeof *rp_r; i++) rp_r[i] = rndf(-0.05f, 0.05f);
    rp_replans(false);
    rp_replans(true);
}

/* A batch-1 float LSTM of hidden H, one thread's engine, on an L2 of l2
 * (ONNXRUN_L2_BYTES): whether its odd steps sweep R back, and Y [4, H]. */
static bool run_l2_lstm(const char *isa, int64_t H, const char *l2, float *y) {
    enum { S = 4, I = 8 };
    float *x, *w, *r;
    lstm_data(S, I, H, 4242, &x, &w, &r);
    char *old_isa = swap_env("ONNXRUN_ISA", isa), *old_l2 = swap_env("ONNXRUN_L2_BYTES", l2);
    char *old_team = swap_env("ONNXRUN_RNN_TEAM", "0");
    or_cpu_reset();
    test_graph tg = lstm_xwr(S, 1, I, H, x, w, r);
    run_ok(&tg);
    bool back = or_rnn_r_sweeps_back(&tg.g->nodes[0]);
    memcpy(y, out(&tg, "Y")->data, sizeof(float) * S * H);
    or_graph_free(tg.g);
    restore_env("ONNXRUN_ISA", old_isa);
    restore_env("ONNXRUN_L2_BYTES", old_l2);
    restore_env("ONNXRUN_RNN_TEAM", old_team);
    or_cpu_reset();
    free(x), free(w), free(r);
    return back;
}

/* On a 1 MiB L2, an R of more than half of it (hidden 208: 676 KiB) has its
 * odd steps sweep back and one of a fifth (hidden 112) does not; on an 8
 * MiB L2 neither does. Where one sweeps back, Y is bit-identical to the
 * forward sweeps' (every ISA), as the sums are. */
Test(qgemm, lstm_r_over_half_the_l2_sweeps_back) {
    static const char *isas[] = {"scalar", "avx2", "avx512"};
    static float back_y[4 * 208], fwd_y[4 * 208];
    static const int64_t hidden[] = {208, 112};
    for (int i = 0; i < 3; i++)
        for (int h = 0; h < 2; h++) {
            int64_t H = hidden[h];
            bool back = run_l2_lstm(isas[i], H, "1M", back_y);
            cr_expect_eq(back, H == 208, "%s, hidden %lld", isas[i], (long long)H);
            cr_expect(!run_l2_lstm(isas[i], H, "8M", fwd_y), "%s, hidden %lld on 8 MiB", isas[i],
                      (long long)H);
            cr_expect(memcmp(back_y, fwd_y, sizeof(float) * 4 * (size_t)H) == 0,
                      "%s, hidden %lld: Y differs between the sweeps", isas[i], (long long)H);
        }
}
