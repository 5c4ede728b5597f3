/* NEON kernels against the references, for a cross build run under qemu (see
 * neon_check.sh): GEMM (plain and packed B, float and double) against a naive
 * loop, and the RNN/LSTM/GRU gate kernels against their scalar references,
 * over sizes that are and are not multiples of the vector width.
 * Exits non-zero on any mismatch. Not a Criterion test: Criterion is not
 * available for the cross target. */
#include "../../ops/kernels/gemm.h"
#include "../../ops/kernels/rnn_kernels.h"
#include "../../runtime/cpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng_state = 0x243F6A8885A308D3u;
static double rnd_val(void) {
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (double)((rng_state >> 33) % 4001) / 1000.0 - 2.0;
}

static int failures, checks;

static void expect_close(const char *what, double got, double want, double atol, double rtol) {
    checks++;
    if (fabs(got - want) <= atol + rtol * fabs(want)) return;
    if (failures++ < 20) fprintf(stderr, "%s: got %.9g, want %.9g\n", what, got, want);
}

/* C = alpha * op(A) op(B) + beta * C against a naive double loop. */
static void check_gemm(int64_t M, int64_t N, int64_t K, bool ta, bool tb, bool dbl, bool packed) {
    double alpha = 0.75, beta = (M + N) % 2 ? 0.5 : 0.0;
    double *a = malloc(sizeof(double) * (size_t)(M * K)),
           *b = malloc(sizeof(double) * (size_t)(K * N));
    double *c = malloc(sizeof(double) * (size_t)(M * N)),
           *want = malloc(sizeof(double) * (size_t)(M * N));
    float *af = malloc(sizeof(float) * (size_t)(M * K)),
          *bf = malloc(sizeof(float) * (size_t)(K * N));
    float *cf = malloc(sizeof(float) * (size_t)(M * N));
    for (int64_t i = 0; i < M * K; i++) af[i] = (float)(a[i] = rnd_val());
    for (int64_t i = 0; i < K * N; i++) bf[i] = (float)(b[i] = rnd_val());
    for (int64_t i = 0; i < M * N; i++) cf[i] = (float)(c[i] = rnd_val());
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
                s += (ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
            want[i * N + j] = alpha * s + beta * c[i * N + j];
        }
    int64_t lda = ta ? M : K, ldb = tb ? K : N;
    if (dbl && packed) {
        or_packed_b *p = or_dgemm_pack_b(tb, K, N, b, ldb);
        or_dgemm_packed(M, N, K, alpha, a, K, p, beta, c, N, NULL);
        or_packed_b_free(p);
    } else if (dbl) {
        or_dgemm(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, N, NULL);
    } else if (packed) {
        or_packed_b *p = or_sgemm_pack_b(tb, K, N, bf, ldb);
        or_sgemm_packed(M, N, K, (float)alpha, af, K, p, (float)beta, cf, N, NULL);
        or_packed_b_free(p);
    } else {
        or_sgemm(ta, tb, M, N, K, (float)alpha, af, lda, bf, ldb, (float)beta, cf, N, NULL);
    }
    for (int64_t i = 0; i < M * N; i++)
        expect_close(dbl ? "dgemm" : "sgemm", dbl ? c[i] : cf[i], want[i], dbl ? 1e-12 : 1e-4,
                     dbl ? 1e-12 : 1e-5);
    free(a), free(b), free(c), free(want), free(af), free(bf), free(cf);
}

static void gemm_cases(void) {
    static const int64_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 17, 31, 64, 67, 130};
    int n = (int)(sizeof sizes / sizeof sizes[0]);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j += 2)
            for (int k = 0; k < n; k += 3)
                for (int v = 0; v < 8; v++) {
                    bool packed = v & 4, ta = !packed && (v & 1);
                    check_gemm(sizes[i], sizes[j], sizes[k], ta, v & 2, (i + j + k) % 2, packed);
                }
}

/* One cell configuration in float and double: every gate kernel, NEON
 * against scalar, state updated in place as the driver does; xw's gates
 * 64 apart whatever H (the team engine's slices read a row's X·Wᵀ so). */
#define GATE_CASE(S, T, TOL)                                                                       \
    static void gate_case_##S(int64_t H, int act, bool clip, bool peep, bool fgt, bool lbr) {      \
        T rg[4 * 64], xw[4 * 64], bias[4 * 64], rbh[64], pp[3 * 64];                               \
        T c_ref[64], h_ref[64], y_ref[64], c_neon[64], h_neon[64], y_neon[64], r_ref[64],          \
            r_neon[64];                                                                            \
        for (int i = 0; i < 4 * 64; i++)                                                           \
            rg[i] = (T)rnd_val(), xw[i] = (T)rnd_val(), bias[i] = (T)rnd_val();                    \
        for (int i = 0; i < 3 * 64; i++) pp[i] = (T)rnd_val();                                     \
        for (int i = 0; i < 64; i++)                                                               \
            rbh[i] = (T)rnd_val(), c_ref[i] = c_neon[i] = (T)rnd_val(),                            \
            h_ref[i] = h_neon[i] = (T)rnd_val();                                                   \
        or_rnn_cell_##S cell = {.hidden = H,                                                       \
                                .xw_gate = 64, /* gates of xw 64 apart, as in a slice */           \
                                .clip = clip ? (T)1.5 : (T)INFINITY,                               \
                                .bias = bias,                                                      \
                                .rbh = lbr ? rbh : NULL,                                           \
                                .peep = peep ? pp : NULL,                                          \
                                .input_forget = fgt,                                               \
                                .linear_before_reset = lbr,                                        \
                                .f = {act, 0, 0},                                                  \
                                .g = {OR_ACT_TANH, 0, 0},                                          \
                                .h = {(act + 1) % 3, 0, 0}};                                       \
        or_##S##_lstm_gates__scalar(&cell, rg, xw, c_ref, h_ref, y_ref);                           \
        or_##S##_lstm_gates__neon(&cell, rg, xw, c_neon, h_neon, y_neon);                          \
        for (int i = 0; i < H; i++) {                                                              \
            expect_close(#S " lstm c", c_neon[i], c_ref[i], TOL, TOL);                             \
            expect_close(#S " lstm h", h_neon[i], h_ref[i], TOL, TOL);                             \
            expect_close(#S " lstm y", y_neon[i], y_ref[i], TOL, TOL);                             \
        }                                                                                          \
        or_##S##_rnn_gates__scalar(&cell, rg, xw, h_ref, y_ref);                                   \
        or_##S##_rnn_gates__neon(&cell, rg, xw, h_neon, y_neon);                                   \
        for (int i = 0; i < H; i++) expect_close(#S " rnn h", h_neon[i], h_ref[i], TOL, TOL);      \
        if (!lbr) {                                                                                \
            or_##S##_gru_reset__scalar(&cell, rg, xw, h_ref, r_ref);                               \
            or_##S##_gru_reset__neon(&cell, rg, xw, h_neon, r_neon);                               \
            for (int i = 0; i < H; i++)                                                            \
                expect_close(#S " gru reset", r_neon[i], r_ref[i], TOL, TOL);                      \
        }                                                                                          \
        or_##S##_gru_gates__scalar(&cell, rg, rg + 2 * H, xw, h_ref, y_ref);                       \
        or_##S##_gru_gates__neon(&cell, rg, rg + 2 * H, xw, h_neon, y_neon);                       \
        for (int i = 0; i < H; i++) {                                                              \
            expect_close(#S " gru h", h_neon[i], h_ref[i], TOL, TOL);                              \
            expect_close(#S " gru y", y_neon[i], y_ref[i], TOL, TOL);                              \
        }                                                                                          \
    }
GATE_CASE(f32, float, 2e-6)
GATE_CASE(f64, double, 2e-14)

static void gate_cases(void) {
    static const int acts[] = {OR_ACT_SIGMOID, OR_ACT_TANH, OR_ACT_RELU};
    for (int64_t H = 1; H <= 64; H += (H < 20 ? 1 : 11))
        for (int a = 0; a < 3; a++)
            for (int v = 0; v < 16; v++) {
                gate_case_f32(H, acts[a], v & 1, v & 2, v & 4, v & 8);
                gate_case_f64(H, acts[a], v & 1, v & 2, v & 4, v & 8);
            }
}

int main(void) {
    setenv("ONNXRUN_ISA", "neon", 1);
    or_cpu_reset();
    if (or_cpu_isa() != OR_ISA_NEON) {
        fprintf(stderr, "neon_kernels: the NEON path is not selected (isa %s)\n",
                or_isa_name(or_cpu_isa()));
        return 1;
    }
    gemm_cases();
    gate_cases();
    printf("neon_kernels: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
