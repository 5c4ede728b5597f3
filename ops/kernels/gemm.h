/* Shared matrix multiply for MatMul, Gemm and the recurrent kernels.
 *
 * C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major, op(X) = X^T when
 * trans_x. op(A) is [M,K], op(B) is [K,N]; lda/ldb/ldc are the row strides of
 * A, B and C as stored. beta == 0 ignores C's contents (it may hold NaN).
 *
 * The kernel is chosen on every call from or_cpu_isa(). The calls never
 * allocate: blocking buffers live on the stack (at most ~128 KiB per call, per
 * worker thread). pool may be NULL (single-threaded).
 *
 * Weights multiplied many times (RNN W/R, constant Gemm/MatMul B) are packed
 * once with or_*gemm_pack_b into the kernel's panel layout; the packed handle
 * remembers the ISA it was packed for and always uses that kernel.
 */
#ifndef OR_GEMM_H
#define OR_GEMM_H

#include "../../runtime/threadpool.h"

#include <stddef.h>

/* runtime/weights.h: packers report source bytes they are done with. */
typedef struct or_src_release or_src_release;
void or_src_release_consumed(or_src_release *r, const void *p, size_t bytes);

#include "pack_rows.h"

#include <stdbool.h>
#include <stdint.h>

void or_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
              int64_t ldc, or_threadpool *pool);
void or_dgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
              const double *A, int64_t lda, const double *B, int64_t ldb, double beta, double *C,
              int64_t ldc, or_threadpool *pool);

/* op(B) [K,N] packed for repeated use; shared by float and double (a handle
 * packed by or_sgemm_pack_b must only be passed to or_sgemm_packed). */
typedef struct or_packed_b or_packed_b;

/* NULL on allocation failure or a size overflow. */
or_packed_b *or_sgemm_pack_b(bool trans_b, int64_t K, int64_t N, const float *B, int64_t ldb);
or_packed_b *or_dgemm_pack_b(bool trans_b, int64_t K, int64_t N, const double *B, int64_t ldb);
/* The same for a transposed B [N,K], reporting each row of B to rel once it
 * is packed (runtime/weights.h; rel may be NULL); on huge pages when asked
 * (runtime/alloc.h's or_huge_page_alloc). */
or_packed_b *or_sgemm_pack_bt_from(int64_t K, int64_t N, const float *B, int64_t ldb,
                                   bool huge_pages, or_src_release *rel);
or_packed_b *or_dgemm_pack_bt_from(int64_t K, int64_t N, const double *B, int64_t ldb,
                                   bool huge_pages, or_src_release *rel);
/* The same for float rows read through rows (pack_rows.h; esz sizeof(float)). */
or_packed_b *or_sgemm_pack_bt_rows(int64_t K, int64_t N, const or_pack_rows *rows, bool huge_pages,
                                   or_src_release *rel);
void or_packed_b_free(or_packed_b *p);
/* The K and N the handle was packed with. */
int64_t or_packed_b_k(const or_packed_b *p);
int64_t or_packed_b_n(const or_packed_b *p);
/* Its size in bytes. */
size_t or_packed_b_bytes(const or_packed_b *p);
/* Where a pack's lines come from on each use (a recurrent R read once per
 * step), so that products can prefetch them; the results are identical
 * whichever is set. */
typedef enum or_pack_source {
    OR_PACK_CACHED, /* L1/L2, or unknown (the default): no prefetch */
    OR_PACK_L3,     /* the last-level cache: one- and two-row products prefetch
                       OR_L3_AHEAD_BYTES ahead into L1 */
    OR_PACK_MEMORY, /* too large for the caches: products prefetch ahead
                       non-temporally. On a cache-resident pack that would
                       cost a trip to memory per line (2x slower on Zen 1). */
} or_pack_source;
void or_packed_b_set_source(or_packed_b *p, or_pack_source src);

/* Identical copies of a pack's data, for a product that reads the whole pack
 * on every call (a batch-1 recurrent step over an R the L2 holds) and should
 * read a different copy each time (see or_rnn_r_copies for why). After
 * or_packed_b_replicate(p, copies) (1 to OR_PACKED_B_MAX_COPIES; false, and p
 * unchanged, when memory runs out or p already has copies),
 * or_packed_b_copy(p, i) is the pack reading copy i % copies: p itself for
 * copy 0. Every copy gives bit-identical products; or_packed_b_free(p) frees
 * them all. */
#define OR_PACKED_B_MAX_COPIES 8
bool or_packed_b_replicate(or_packed_b *p, int copies);
const or_packed_b *or_packed_b_copy(const or_packed_b *p, int64_t i);
int or_packed_b_copies(const or_packed_b *p);
/* The packed data and the source a pack is marked with (tests). */
const void *or_packed_b_data(const or_packed_b *p);
or_pack_source or_packed_b_source(const or_packed_b *p);

/* C[M,N] = alpha * A[M,K] * B + beta * C with B packed ([K,N] must match the
 * pack); A is not transposed. */
void or_sgemm_packed(int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                     const or_packed_b *B, float beta, float *C, int64_t ldc, or_threadpool *pool);
/* The product with columns [col0, col0 + N) of a packed B only, into C[M, N];
 * col0 must be a multiple of or_packed_b_col_align(B) (the pack's panel
 * width), else nothing is computed and false returned. */
bool or_sgemm_packed_cols(int64_t M, int64_t col0, int64_t N, int64_t K, float alpha,
                          const float *A, int64_t lda, const or_packed_b *B, float beta, float *C,
                          int64_t ldc, or_threadpool *pool);
int64_t or_packed_b_col_align(const or_packed_b *p);
void or_dgemm_packed(int64_t M, int64_t N, int64_t K, double alpha, const double *A, int64_t lda,
                     const or_packed_b *B, double beta, double *C, int64_t ldc,
                     or_threadpool *pool);
/* The same, sweeping the columns of B last to first when reverse (each
 * output's sum is the same, bit for bit). A recurrent step alternates it:
 * the panels a step read last, still in L2, are the next step's first
 * (measured in recurrent.c). */
void or_sgemm_packed_sweep(int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                           int64_t lda, const or_packed_b *B, float beta, float *C, int64_t ldc,
                           or_threadpool *pool, bool reverse);
void or_dgemm_packed_sweep(int64_t M, int64_t N, int64_t K, double alpha, const double *A,
                           int64_t lda, const or_packed_b *B, double beta, double *C, int64_t ldc,
                           or_threadpool *pool, bool reverse);

#endif
