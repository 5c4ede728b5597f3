/* Reduced-precision weights for the recurrent ops: C[M,N] = A[M,K] · Bᵀ with
 * B [N,K] float quantized once at planning time and A float, converted per
 * call (the activations change every time step).
 *
 *   BF16: B rounded to bfloat16 (round to nearest even); A rounded to
 *         bfloat16 per call; products summed in float (VDPBF16PS where the
 *         CPU has AVX512-BF16; on AVX2, widened to float and summed with
 *         FMA). Relative error of one product ~2^-8.
 *   S8:   B per row n as int8 q = round(B / s_n), s_n = max_k |B[n,k]| / 127;
 *         A per row i as a = round(A / t_i), t_i = max_k |A[i,k]| / a_max,
 *         stored offset by a_max + 1 as unsigned bytes; the dot products are
 *         exact int32 sums, then
 *         C = s_n * t_i * (Σ (a + a_max + 1) q - (a_max + 1) Σ q).
 *         a_max is 127 for VPDPBUSD (AVX512-VNNI) and the scalar kernel, 63
 *         for AVX2's VPMADDUBSW: its int16 pair sums (a + 64) q stay within
 *         ±2·127·127, so they never saturate (with 8-bit activations they
 *         could reach 64770).
 *   S16:  B per row as S8's int8 values and scales, held as int16; A per row
 *         as int16 a = round(A / t_i), t_i = max_k |A[i,k]| / a_max, with
 *         a_max = min(16383, (2^31 - 1) / (127 kpad)) so that no int32 sum
 *         can overflow; C = s_n * t_i * Σ a q, the int32 sums exact
 *         (VPMADDWD on AVX2). The input product's int8 weights on AVX2: as
 *         many multiply-adds per instruction as S8's VPMADDUBSW + VPMADDWD,
 *         twice float FMA's, without S8's 7-bit activations, whose error
 *         grew 1.4-5x when W took them (docs/performance.md).
 *   F32:  no conversion: the same panel layout for exact float weights, a
 *         GEMV-shaped kernel for the recurrent step of small batches (the
 *         AVX-512 kernel; other ISAs keep the blocked GEMM of gemm.h).
 *
 * Packed layouts: 16 output rows per panel, K interleaved in pairs (BF16,
 * S16) or quads (S8) so that one 32-bit broadcast of A feeds 16 rows:
 *   BF16 data[p][k/2][16][2] (uint16 bits), S8 data[p][k/4][16][4] (int8),
 *   S16 data[p][k/2][16][2] (int16), F32 data[p][k][16];
 * rows past N and k past K are zero. The scalar kernels read the same layout
 * and are the reference for the SIMD ones; the kernel is picked at pack time
 * from runtime/cpu.h (or_cpu_has), so a pack always runs one kernel.
 */
#ifndef OR_QGEMM_H
#define OR_QGEMM_H

#include "../../runtime/threadpool.h"

#include <stddef.h>

/* runtime/weights.h: packers report source bytes they are done with. */
typedef struct or_src_release or_src_release;
void or_src_release_consumed(or_src_release *r, const void *p, size_t bytes);

#include "pack_rows.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum or_qkind { OR_Q_BF16 = 1, OR_Q_S8 = 2, OR_Q_F32 = 3, OR_Q_S16 = 4 } or_qkind;

#define OR_Q_PANEL 16
/* The largest K (as padded) the int8 kinds pack: S8's sums (at most 255 * 127
 * a term) stay within int32, and S16's activations keep a_max >= 256. */
#define OR_Q_INT_MAX_K 65536

typedef struct or_qmat or_qmat;

/* S8 activations, one row at a time (the kernels' offset bytes, see above):
 * abs_max returns max |x[k]| over k < n, NaN if any x[k] is NaN; quantize
 * writes d[k] = clamp(round(x[k] * inv), -a_max, a_max) + a_max + 1, rounding
 * to nearest even, a NaN product taken as -a_max. Every ISA's version gives
 * the scalar reference's bytes. */
typedef float (*or_s8_abs_max_fn)(const float *x, int64_t n);
/* round(x * inv) clamped to [-top, top], to nearest even; NaN gives -top
 * (a NaN cast to an integer is undefined). The weights (top 127) and the
 * scalar activations share it. */
static inline float or_s8_round(float x, float inv, float top) {
    float r = rintf(x * inv);
    return r > top ? top : r >= -top ? r : -top;
}
typedef void (*or_s8_quantize_fn)(const float *x, int64_t n, float inv, int a_max, uint8_t *d);
/* S16 activations: d[k] = clamp(round(x[k] * inv), -a_max, a_max) as int16,
 * to nearest even, NaN taken as -a_max (no offset). */
typedef void (*or_s16_quantize_fn)(const float *x, int64_t n, float inv, int a_max, int16_t *d);

/* One kernel: C rows [0, m) x panels [p0, p1) from prepared activations
 * (BF16: a16 [m, kpad] bits; S8: a8 [m, kpad] offset bytes and ascale [m];
 * S16: [m, kpad] int16 and ascale [m]; F32: [m, kpad] floats). */
typedef void (*or_qgemm_fn)(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                            int64_t p0, int64_t p1, float *c, int64_t ldc);

struct or_qmat {
    or_qkind kind;
    int64_t N, K;
    int64_t npan, kpad; /* panels of OR_Q_PANEL rows; K rounded up to 2 (BF16, S16), 4 (S8) */
    void *data;         /* packed B, layout above */
    float *scale;       /* S8, S16: [npan * 16] s_n (0 past N) */
    int a_max;       /* S8: activations quantized to [-a_max, a_max] (127 or 63); S16: as above */
    int32_t *rowsum; /* S8: [npan * 16] Σ_k q[n,k] */
    bool streamed;   /* too large for the caches: one-row products prefetch the panels
                        ahead, bypassing the caches (AVX2 kernels; see gemm.h's
                        or_packed_b_set_streamed). Set by the owner after packing. */
    bool one_stream; /* F32 on AVX-512: one-row products read one panel at a time rather
                        than 8 at once (qgemm_simd.h's qpanel_row: faster for an R read
                        from the L3, slower for one read from memory). Set by the owner. */
    or_qgemm_fn kern;
    const char *kern_name;
    or_s8_abs_max_fn abs_max; /* S8, S16: picked with kern */
    or_s8_quantize_fn quantize;
    or_s16_quantize_fn quantize16;
};

/* B [N,K] with row stride ldb. NULL on allocation failure or size overflow,
 * or for S8/S16 past OR_Q_INT_MAX_K.
 * force_scalar picks the scalar kernel whatever the CPU has (tests). */
or_qmat *or_qmat_pack(or_qkind kind, int64_t N, int64_t K, const float *B, int64_t ldb,
                      int force_scalar);
/* The same, reporting each row of B to rel once it is packed (rel may be
 * NULL), on huge pages when asked (runtime/alloc.h's or_huge_page_alloc). */
or_qmat *or_qmat_pack_from(or_qkind kind, int64_t N, int64_t K, const float *B, int64_t ldb,
                           int force_scalar, bool huge_pages, or_src_release *rel);
/* The same, B's rows read through rows (pack_rows.h; esz sizeof(float)). */
or_qmat *or_qmat_pack_rows(or_qkind kind, int64_t N, int64_t K, const or_pack_rows *rows,
                           int force_scalar, bool huge_pages, or_src_release *rel);
void or_qmat_free(or_qmat *q);

/* Bytes of scratch or_qmat_gemm needs for M rows (0 on overflow). */
size_t or_qmat_work_size(const or_qmat *q, int64_t M);

/* C[M,N] (row stride ldc) = A[M,K] (row stride lda) · Bᵀ. work holds
 * or_qmat_work_size(q, M) bytes, 64-byte aligned; F32 with lda == K reads A
 * in place and does not touch work (it may then be NULL). Never allocates. */
void or_qmat_gemm(const or_qmat *q, int64_t M, const float *A, int64_t lda, float *C, int64_t ldc,
                  void *work, or_threadpool *pool);
/* The same, sweeping the panels last to first (in groups of 8) when reverse;
 * the results are identical (see gemm.h's or_sgemm_packed_sweep). */
void or_qmat_gemm_sweep(const or_qmat *q, int64_t M, const float *A, int64_t lda, float *C,
                        int64_t ldc, void *work, or_threadpool *pool, bool reverse);

/* float -> bfloat16 bits, round to nearest even (NaN stays NaN). */
static inline uint16_t or_f32_to_bf16(float x) {
    union {
        float f;
        uint32_t u;
    } v = {x};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40u);
    v.u += 0x7fffu + ((v.u >> 16) & 1u);
    return (uint16_t)(v.u >> 16);
}

static inline float or_bf16_to_f32(uint16_t b) {
    union {
        uint32_t u;
        float f;
    } v = {(uint32_t)b << 16};
    return v.f;
}

/* The kernels (ops/kernels/{bf16,s8}_qgemm__<isa>.c). */
void or_bf16_qgemm__scalar(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                           int64_t p0, int64_t p1, float *c, int64_t ldc);
void or_s8_qgemm__scalar(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                         int64_t p0, int64_t p1, float *c, int64_t ldc);
void or_f32_qgemm__scalar(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                          int64_t p0, int64_t p1, float *c, int64_t ldc);
float or_s8_abs_max__scalar(const float *x, int64_t n);
void or_s8_quantize__scalar(const float *x, int64_t n, float inv, int a_max, uint8_t *d);
void or_s16_qgemm__scalar(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                          int64_t p0, int64_t p1, float *c, int64_t ldc);
void or_s16_quantize__scalar(const float *x, int64_t n, float inv, int a_max, int16_t *d);
#ifdef OR_HAVE_X86_KERNELS
void or_s16_qgemm__avx2(const or_qmat *q, int64_t m, const void *a, const float *ascale, int64_t p0,
                        int64_t p1, float *c, int64_t ldc);
void or_s16_quantize__avx2(const float *x, int64_t n, float inv, int a_max, int16_t *d);
float or_s8_abs_max__avx2(const float *x, int64_t n);
void or_s8_quantize__avx2(const float *x, int64_t n, float inv, int a_max, uint8_t *d);
float or_s8_abs_max__avx512(const float *x, int64_t n);
void or_s8_quantize__avx512(const float *x, int64_t n, float inv, int a_max, uint8_t *d);
void or_bf16_qgemm__avx512(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                           int64_t p0, int64_t p1, float *c, int64_t ldc);
void or_s8_qgemm__avx512(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                         int64_t p0, int64_t p1, float *c, int64_t ldc);
void or_f32_qgemm__avx512(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                          int64_t p0, int64_t p1, float *c, int64_t ldc);
void or_bf16_qgemm__avx2(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                         int64_t p0, int64_t p1, float *c, int64_t ldc);
void or_s8_qgemm__avx2(const or_qmat *q, int64_t m, const void *a, const float *ascale, int64_t p0,
                       int64_t p1, float *c, int64_t ldc);
#endif

#endif
