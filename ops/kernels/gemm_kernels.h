/* Per-ISA GEMM micro-kernels behind ops/kernels/gemm.c (not for ops).
 *
 * Packed layouts:
 *   A panel: MR rows interleaved by k, ap[k * MR + i], rows past m zero.
 *   B panel: NR columns interleaved by k, bp[k * NR + j], columns past n zero.
 * A block of panels is laid out panel after panel (stride kc * MR or kc * NR).
 */
#ifndef OR_GEMM_KERNELS_H
#define OR_GEMM_KERNELS_H

#include "gemm.h"

#include <stdbool.h>
#include <stdint.h>

/* Stack budget of the unpacked path, per element type: the packed A block
 * (mc x kc) and B block (kc x nc) must fit. */
#define OR_GEMM_ABUF_BYTES (48 * 1024)
#define OR_GEMM_BBUF_BYTES (64 * 1024)
/* How far ahead the kernels prefetch a pack streamed from memory
 * (OR_PACK_MEMORY; ukr_stream here, the one-row blocks of the AVX2
 * bf16/int8 kernels). Measured on Zen 1, LSTM hidden 1024 batch 1 (R of
 * 16 MiB fp32): 256-1024 bytes all gain 20-30%; 2-4 KiB less. */
#define OR_STREAM_AHEAD_BYTES 512
/* How far ahead ukr_l3 prefetches a pack held by the L3 (OR_PACK_L3) into
 * L1. Measured on Zen 5 (AVX-512), 2-layer LSTM hidden 512 batch 1 (R 4 MiB
 * per layer): 512 and 1024 bytes gain 7%, 2-4 KiB 3-4%; a hint to L2 only
 * was 15% slower. */
#define OR_L3_AHEAD_BYTES 1024
/* Rows handled by the direct (unpacked-B) small-M kernels. */
#define OR_GEMV_MAX_M 4

/* C[m,n] = alpha * A * Bp + beta * C for one m x n tile (m <= mr, n <= nr),
 * A(i, k) = a[i * rs + k * cs]: a packed A panel (rs 1, cs mr) or A read in
 * place (rs lda, cs 1; rows past m are never read). */
typedef void (*or_f32_ukr_fn)(int64_t kc, const float *a, int64_t rs, int64_t cs, const float *bp,
                              float alpha, float beta, float *c, int64_t ldc, int m, int n);
typedef void (*or_f64_ukr_fn)(int64_t kc, const double *a, int64_t rs, int64_t cs, const double *bp,
                              double alpha, double beta, double *c, int64_t ldc, int m, int n);

/* One row of A (A(0, k) = a[k * cs]) against every panel of a packed block
 * (n columns from bp, last panel first when reverse): ukr's sums for m = 1
 * without a call per panel. */
typedef void (*or_f32_row_fn)(int64_t kc, const float *a, int64_t cs, const float *bp, float alpha,
                              float beta, float *c, int64_t n, bool reverse);
typedef void (*or_f64_row_fn)(int64_t kc, const double *a, int64_t cs, const double *bp,
                              double alpha, double beta, double *c, int64_t n, bool reverse);

/* Two rows of A (A(i, k) = a[i * rs + k * cs], i < 2) against every panel of
 * a packed block as ukr_row does, B prefetched as src says (ukr, ukr_l3,
 * ukr_stream): full panels two at a time. */
typedef void (*or_f32_two_rows_fn)(int64_t kc, const float *a, int64_t rs, int64_t cs,
                                   const float *bp, float alpha, float beta, float *c, int64_t ldc,
                                   int64_t n, bool reverse, or_pack_source src);
typedef void (*or_f64_two_rows_fn)(int64_t kc, const double *a, int64_t rs, int64_t cs,
                                   const double *bp, double alpha, double beta, double *c,
                                   int64_t ldc, int64_t n, bool reverse, or_pack_source src);

/* Small-M kernels reading B in place: C[m,n] = alpha * A[m,k] * op(B) + beta * C
 * with m <= OR_GEMV_MAX_M, A rows contiguous (stride lda). gemv_n: B is [k,n];
 * gemv_t: B is [n,k]. */
typedef void (*or_f32_gemv_fn)(int m, int64_t n, int64_t k, const float *a, int64_t lda,
                               const float *b, int64_t ldb, float alpha, float beta, float *c,
                               int64_t ldc);
typedef void (*or_f64_gemv_fn)(int m, int64_t n, int64_t k, const double *a, int64_t lda,
                               const double *b, int64_t ldb, double alpha, double beta, double *c,
                               int64_t ldc);

typedef struct or_f32_gemm_kernel {
    int mr, nr;     /* micro-tile */
    int mc, kc, nc; /* cache blocks; mc * kc and kc * nc fit the stack budgets */
    or_f32_ukr_fn ukr;
    or_f32_ukr_fn ukr_l3;            /* the same for a B held by the L3 (OR_PACK_L3) */
    or_f32_ukr_fn ukr_stream;        /* the same for a B streamed from memory (OR_PACK_MEMORY) */
    or_f32_row_fn ukr_row;           /* m = 1, a cached B (OR_PACK_CACHED) */
    or_f32_two_rows_fn ukr_two_rows; /* m = 2, any or_pack_source */
    or_f32_gemv_fn gemv_n, gemv_t;
} or_f32_gemm_kernel;

typedef struct or_f64_gemm_kernel {
    int mr, nr;
    int mc, kc, nc;
    or_f64_ukr_fn ukr;
    or_f64_ukr_fn ukr_l3;
    or_f64_ukr_fn ukr_stream;
    or_f64_row_fn ukr_row;
    or_f64_two_rows_fn ukr_two_rows;
    or_f64_gemv_fn gemv_n, gemv_t;
} or_f64_gemm_kernel;

extern const or_f32_gemm_kernel or_f32_gemm__scalar;
extern const or_f64_gemm_kernel or_f64_gemm__scalar;
#ifdef OR_HAVE_X86_KERNELS
extern const or_f32_gemm_kernel or_f32_gemm__avx2, or_f32_gemm__avx512;
extern const or_f64_gemm_kernel or_f64_gemm__avx2, or_f64_gemm__avx512;
#endif
#ifdef OR_HAVE_NEON_KERNELS
extern const or_f32_gemm_kernel or_f32_gemm__neon;
extern const or_f64_gemm_kernel or_f64_gemm__neon;
#endif

#endif
