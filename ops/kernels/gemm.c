/* GEMM entry points: the blocked driver of gemm_driver.h and the entry
 * points of gemm_api.h, instantiated here for float and double, and the
 * packed-B handle they share. */
#include "../../runtime/alloc.h"
#include "gemm.h"

#include "../../runtime/cpu.h"
#include "gemm_kernels.h"

#include <stdlib.h>
#include <string.h>

struct or_packed_b {
    size_t elem;      /* sizeof(float) or sizeof(double) */
    const void *kern; /* the or_f32/f64_gemm_kernel it was packed for */
    int64_t K, N;
    int64_t npad;                 /* N rounded up to the kernel's NR */
    void *data;                   /* per K block of kc: npad / NR panels of [kc, NR] */
    or_pack_source source;        /* picks the kernel's ukr, ukr_l3 or ukr_stream */
    int copies;                   /* 1 + the replicas (or_packed_b_replicate) */
    struct or_packed_b *replicas; /* [copies - 1], each reading its own copy of data */
};

#define T float
#define KERN or_f32_gemm_kernel
#define GEMV_FN or_f32_gemv_fn
#define UKR_FN or_f32_ukr_fn
#define N_(x) f32_##x
#define P_(x) or_sgemm##x
#define K_(isa) or_f32_gemm__##isa
#include "gemm_driver.h"
#include "gemm_api.h"
#undef T
#undef KERN
#undef GEMV_FN
#undef UKR_FN
#undef N_
#undef P_
#undef K_

#define T double
#define KERN or_f64_gemm_kernel
#define GEMV_FN or_f64_gemv_fn
#define UKR_FN or_f64_ukr_fn
#define N_(x) f64_##x
#define P_(x) or_dgemm##x
#define K_(isa) or_f64_gemm__##isa
#include "gemm_driver.h"
#include "gemm_api.h"
#undef T
#undef KERN
#undef GEMV_FN
#undef UKR_FN
#undef N_
#undef P_
#undef K_

or_packed_b *or_sgemm_pack_bt_rows(int64_t K, int64_t N, const or_pack_rows *rows, bool huge_pages,
                                   or_src_release *rel) {
    if (!rows || rows->esz != sizeof(float)) return NULL;
    return f32_pack_impl(f32_kernel(), true, K, N, rows, huge_pages, rel);
}

void or_packed_b_free(or_packed_b *p) {
    if (!p) return;
    if (p->replicas) or_free(p->replicas[0].data); /* one block holds every replica's copy */
    or_free(p->replicas);
    or_free(p->data);
    or_free(p);
}

bool or_packed_b_replicate(or_packed_b *p, int copies) {
    if (!p || copies < 1 || copies > OR_PACKED_B_MAX_COPIES || p->copies > 1) return false;
    if (copies == 1) return true;
    size_t bytes = or_packed_b_bytes(p), extra = (size_t)(copies - 1);
    size_t stride = (bytes + 63) / 64 * 64; /* each copy starts on a cache line, as p->data does */
    if (stride < bytes || stride > SIZE_MAX / extra) return false;
    or_packed_b *replicas = or_calloc(extra, sizeof *replicas);
    unsigned char *data = replicas ? or_aligned_alloc(64, stride * extra) : NULL;
    if (!data) {
        or_free(replicas);
        return false;
    }
    or_prefault(data, stride * extra);
    for (size_t i = 0; i < extra; i++) {
        replicas[i] = *p;
        replicas[i].data = data + i * stride;
        memcpy(replicas[i].data, p->data, bytes);
    }
    p->replicas = replicas;
    p->copies = copies;
    return true;
}

const or_packed_b *or_packed_b_copy(const or_packed_b *p, int64_t i) {
    if (!p || p->copies == 1) return p;
    int64_t c = i % p->copies;
    if (c < 0) c += p->copies;
    return c == 0 ? p : &p->replicas[c - 1];
}

int or_packed_b_copies(const or_packed_b *p) {
    return p ? p->copies : 1;
}

const void *or_packed_b_data(const or_packed_b *p) {
    return p->data;
}

or_pack_source or_packed_b_source(const or_packed_b *p) {
    return p->source;
}

int64_t or_packed_b_k(const or_packed_b *p) {
    return p->K;
}
int64_t or_packed_b_n(const or_packed_b *p) {
    return p->N;
}

void or_packed_b_set_source(or_packed_b *p, or_pack_source src) {
    p->source = src;
    for (int i = 0; i + 1 < p->copies; i++) p->replicas[i].source = src;
}

size_t or_packed_b_bytes(const or_packed_b *p) {
    return (size_t)(p->npad * p->K) * p->elem;
}

int64_t or_packed_b_col_align(const or_packed_b *p) {
    if (!p) return 0;
    return p->elem == sizeof(float) ? ((const or_f32_gemm_kernel *)p->kern)->nr
                                    : ((const or_f64_gemm_kernel *)p->kern)->nr;
}

bool or_sgemm_packed_cols(int64_t M, int64_t col0, int64_t N, int64_t K, float alpha,
                          const float *A, int64_t lda, const or_packed_b *B, float beta, float *C,
                          int64_t ldc, or_threadpool *pool) {
    if (!B || B->elem != sizeof(float) || B->K != K || col0 < 0 || N < 0 || col0 > B->N - N ||
        col0 % or_packed_b_col_align(B) != 0)
        return false;
    f32_packed_run(M, col0, N, K, alpha, A, lda, B, beta, C, ldc, pool, false);
    return true;
}
