/* gemm.h's entry points for one element type, written once for float and
 * double: gemm.c includes this after gemm_driver.h with T, KERN and N_(x)
 * (the driver's names), P_(x) (the public names: or_sgemm##x, or_dgemm##x)
 * and K_(isa) (the kernel table of an ISA). */

/* Picked on every call: tests switch ISAs at run time. */
static const KERN *N_(kernel)(void) {
#ifdef OR_HAVE_X86_KERNELS
    switch (or_cpu_isa()) {
    case OR_ISA_AVX512:
        return &K_(avx512);
    case OR_ISA_AVX2:
        return &K_(avx2);
    default:
        break;
    }
#elif defined(OR_HAVE_NEON_KERNELS)
    if (or_cpu_isa() == OR_ISA_NEON) return &K_(neon);
#endif
    return &K_(scalar);
}

void P_()(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T *A,
          int64_t lda, const T *B, int64_t ldb, T beta, T *C, int64_t ldc, or_threadpool *pool) {
    N_(ctx)
    x = {.kern = N_(kernel)(),
         .trans_a = trans_a,
         .trans_b = trans_b,
         .M = M,
         .N = N,
         .K = K,
         .alpha = alpha,
         .beta = beta,
         .A = A,
         .B = B,
         .lda = lda,
         .ldb = ldb,
         .ldc = ldc,
         .C = C};
    N_(dispatch)(&x, pool);
}

or_packed_b *P_(_pack_b)(bool trans_b, int64_t K, int64_t N, const T *B, int64_t ldb) {
    return N_(pack_b_impl)(N_(kernel)(), trans_b, K, N, B, ldb, false, NULL);
}

or_packed_b *P_(_pack_bt_from)(int64_t K, int64_t N, const T *B, int64_t ldb, bool huge_pages,
                               or_src_release *rel) {
    return N_(pack_b_impl)(N_(kernel)(), true, K, N, B, ldb, huge_pages, rel);
}

/* C[M, N] = alpha A · B[:, col0 : col0 + N] + beta C from a pack whose
 * element type, K and column range the caller checked. */
static void N_(packed_run)(int64_t M, int64_t col0, int64_t N, int64_t K, T alpha, const T *A,
                           int64_t lda, const or_packed_b *B, T beta, T *C, int64_t ldc,
                           or_threadpool *pool, bool reverse) {
    N_(ctx)
    x = {.kern = B->kern,
         .M = M,
         .N = N,
         .K = K,
         .alpha = alpha,
         .beta = beta,
         .A = A,
         .lda = lda,
         .ldc = ldc,
         .pb = B,
         .pb_col0 = col0,
         .C = C,
         .reverse = reverse};
    N_(dispatch)(&x, pool);
}

/* A handle of the wrong element type or shape is a caller bug; C is left alone. */
void P_(_packed_sweep)(int64_t M, int64_t N, int64_t K, T alpha, const T *A, int64_t lda,
                       const or_packed_b *B, T beta, T *C, int64_t ldc, or_threadpool *pool,
                       bool reverse) {
    if (!B || B->elem != sizeof(T) || B->N != N || B->K != K) return;
    N_(packed_run)(M, 0, N, K, alpha, A, lda, B, beta, C, ldc, pool, reverse);
}

void P_(_packed)(int64_t M, int64_t N, int64_t K, T alpha, const T *A, int64_t lda,
                 const or_packed_b *B, T beta, T *C, int64_t ldc, or_threadpool *pool) {
    P_(_packed_sweep)(M, N, K, alpha, A, lda, B, beta, C, ldc, pool, false);
}
