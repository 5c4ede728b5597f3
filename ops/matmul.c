/* MatMul (opsets 1-23): numpy matmul. A 1-D A is a row [1,K] and a 1-D B a
 * column [K,1], their unit axis dropped from the output; leading (batch) axes
 * broadcast. float and double go through the shared GEMM (a constant 2-D B is
 * packed once); int32/int64/uint32/uint64 use a plain loop that wraps.
 * float16 and bfloat16 are converted to float32 scratch buffers (allocated
 * while planning), multiplied by the float32 GEMM and rounded back once, as
 * onnxruntime does on x86. */
#include "../runtime/alloc.h"
#include "convert.h"
#include "packed_weights.h"

#include <stdlib.h>

typedef struct matmul_plan {
    int64_t M, N, K;
    int64_t batches;              /* output batch count; 1 when A's batch is folded into M */
    int brank;                    /* output batch axes */
    int64_t bdims[OR_MAX_RANK];   /* output batch shape */
    int64_t astride[OR_MAX_RANK]; /* A elements per step of each batch axis, 0 broadcast */
    int64_t bstride[OR_MAX_RANK]; /* same for B */
    const or_packed_b *packed;    /* B packed, or NULL */
    or_packed_b *owned;           /* packed from a folded value: freed with the plan */
    float *fa, *fb, *fy;          /* float16/bfloat16: operands and result as float32 */
    int64_t na, nb, ny;           /* their element counts */
} matmul_plan;

static void free_plan(void *state) {
    matmul_plan *p = state;
    if (!p) return;
    or_packed_b_free(p->owned);
    or_free(p->fa);
    or_free(p->fb);
    or_free(p->fy);
    or_free(p);
}

static void batch_offsets(const matmul_plan *p, int64_t b, int64_t *aoff, int64_t *boff) {
    *aoff = *boff = 0;
    for (int d = p->brank - 1; d >= 0; d--) {
        int64_t i = b % p->bdims[d];
        b /= p->bdims[d];
        *aoff += i * p->astride[d];
        *boff += i * p->bstride[d];
    }
}

typedef struct mm_task {
    const matmul_plan *p;
    const void *a, *b;
    void *y;
    int dtype;
    or_threadpool *pool; /* for each product; NULL when batches run in parallel */
} mm_task;

#define MM_INT_LOOP(T)                                                                             \
    do {                                                                                           \
        const T *A = (const T *)t->a + ao, *B = (const T *)t->b + bo;                              \
        T *Y = (T *)t->y + bi * M * N;                                                             \
        for (int64_t i = 0; i < M * N; i++) Y[i] = 0;                                              \
        for (int64_t i = 0; i < M; i++)                                                            \
            for (int64_t k = 0; k < K; k++) {                                                      \
                T a = A[i * K + k];                                                                \
                for (int64_t j = 0; j < N; j++) Y[i * N + j] += a * B[k * N + j];                  \
            }                                                                                      \
    } while (0)

static void mm_batches(void *arg, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const mm_task *t = arg;
    const matmul_plan *p = t->p;
    const int64_t M = p->M, N = p->N, K = p->K;
    for (int64_t bi = begin; bi < end; bi++) {
        int64_t ao, bo;
        batch_offsets(p, bi, &ao, &bo);
        switch (t->dtype) {
        case OR_FLOAT: {
            const float *A = (const float *)t->a + ao;
            float *Y = (float *)t->y + bi * M * N;
            if (p->packed)
                or_sgemm_packed(M, N, K, 1.0f, A, K, p->packed, 0.0f, Y, N, t->pool);
            else
                or_sgemm(false, false, M, N, K, 1.0f, A, K, (const float *)t->b + bo, N, 0.0f, Y, N,
                         t->pool);
            break;
        }
        case OR_DOUBLE: {
            const double *A = (const double *)t->a + ao;
            double *Y = (double *)t->y + bi * M * N;
            if (p->packed)
                or_dgemm_packed(M, N, K, 1.0, A, K, p->packed, 0.0, Y, N, t->pool);
            else
                or_dgemm(false, false, M, N, K, 1.0, A, K, (const double *)t->b + bo, N, 0.0, Y, N,
                         t->pool);
            break;
        }
        case OR_INT32:
        case OR_UINT32:
            MM_INT_LOOP(uint32_t);
            break;
        default:
            MM_INT_LOOP(uint64_t);
            break;
        }
    }
}

static int matmul_run(or_graph *g, or_node *n) {
    const matmul_plan *p = n->state;
    const or_tensor *a = or_input(g, n, 0), *b = or_input(g, n, 1);
    or_tensor *y = or_output(g, n, 0);
    if (p->M == 0 || p->N == 0 || p->batches == 0) return 0;
    mm_task t = {p, a->data, b->data, y->data, a->dtype, g->pool};
    if (p->fa) { /* float16/bfloat16 through float32 */
        or_load_f32(a->dtype, a->data, p->fa, p->na);
        or_load_f32(b->dtype, b->data, p->fb, p->nb);
        t = (mm_task){p, p->fa, p->fb, p->fy, OR_FLOAT, g->pool};
    }
    /* Many small products (attention heads) split across threads as wholes. */
    double flops = 2.0 * (double)p->M * (double)p->N * (double)p->K;
    if (p->batches > 1 && flops < 4e6 && or_threadpool_size(g->pool) > 1) {
        t.pool = NULL;
        or_parallel_for(g->pool, p->batches, 1, mm_batches, &t);
    } else {
        mm_batches(&t, 0, p->batches, 0);
    }
    if (p->fa) or_store_f32(y->dtype, p->fy, y->data, p->ny, true);
    return 0;
}

/* Output batch shape and per-operand batch strides; A's batch folds into M
 * when B has none. */
static int plan_batches(or_graph *g, or_node *n, const or_tensor *a, const or_tensor *b,
                        matmul_plan *p) {
    int ar = a->rank >= 2 ? a->rank - 2 : 0, br = b->rank >= 2 ? b->rank - 2 : 0;
    int64_t asz = a->rank >= 2 ? p->M * p->K : 0, bsz = b->rank >= 2 ? p->K * p->N : 0;
    p->batches = 1;
    if (br == 0) {
        for (int d = 0; d < ar; d++) p->M *= a->dims[d];
        p->brank = 0;
        return 0;
    }
    p->brank = ar > br ? ar : br;
    int64_t as = asz, bs = bsz;
    for (int d = p->brank - 1; d >= 0; d--) {
        int da = d - (p->brank - ar), db = d - (p->brank - br);
        int64_t x = da >= 0 ? a->dims[da] : 1, z = db >= 0 ? b->dims[db] : 1;
        if (x != z && x != 1 && z != 1) {
            char s1[96], s2[96];
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "batch axes of %s and %s do not broadcast",
                                or_shape_str(a->rank, a->dims, s1, sizeof s1),
                                or_shape_str(b->rank, b->dims, s2, sizeof s2));
        }
        p->bdims[d] = x == 1 ? z : x;
        p->astride[d] = x == 1 ? 0 : as;
        p->bstride[d] = z == 1 ? 0 : bs;
        as *= x;
        bs *= z;
        p->batches *= p->bdims[d];
    }
    return 0;
}

static bool mm_dtype_ok(int dt) {
    return dt == OR_FLOAT || dt == OR_DOUBLE || dt == OR_INT32 || dt == OR_INT64 ||
           dt == OR_UINT32 || dt == OR_UINT64 || dt == OR_FLOAT16 || dt == OR_BFLOAT16;
}

/* float16/bfloat16: float32 copies of A, B and the output. */
static int alloc_f32_scratch(or_graph *g, or_node *n, matmul_plan *p, const or_tensor *a,
                             const or_tensor *b, int rank, const int64_t *dims) {
    p->na = or_tensor_numel(a);
    p->nb = or_tensor_numel(b);
    p->ny = or_shape_numel(rank, dims);
    if (p->ny < 0 || (uint64_t)p->ny > SIZE_MAX / sizeof(float))
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "output too large");
    /* One spare element each: no zero-sized allocation. */
    p->fa = or_malloc(((size_t)p->na + 1) * sizeof(float));
    p->fb = or_malloc(((size_t)p->nb + 1) * sizeof(float));
    p->fy = or_malloc(((size_t)p->ny + 1) * sizeof(float));
    if (!p->fa || !p->fb || !p->fy) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    return ONNXRUN_OK;
}

int matmul_prepare(or_graph *g, or_node *n) {
    const or_tensor *a = or_input(g, n, 0), *b = or_input(g, n, 1);
    if (!a || !b || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 2 inputs and 1 output");
    if (a->dtype != b->dtype || !mm_dtype_ok(a->dtype))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported dtypes %s x %s",
                            or_dtype_name(a->dtype), or_dtype_name(b->dtype));
    if (or_tensor_numel(a) < 0 || or_tensor_numel(b) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shapes are unknown");
    if (a->rank < 1 || b->rank < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "inputs must have rank >= 1");
    matmul_plan *p = or_calloc(1, sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = p;
    n->free_state = free_plan;
    p->M = a->rank == 1 ? 1 : a->dims[a->rank - 2];
    p->K = a->dims[a->rank - 1];
    int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    p->N = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    if (kb != p->K) {
        char s1[96], s2[96];
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "inner dimensions of %s and %s differ",
                            or_shape_str(a->rank, a->dims, s1, sizeof s1),
                            or_shape_str(b->rank, b->dims, s2, sizeof s2));
    }
    int64_t m_one = p->M;
    int rc = plan_batches(g, n, a, b, p);
    if (rc) return rc;
    int64_t dims[OR_MAX_RANK + 2];
    int rank = 0;
    if (p->brank) {
        for (int d = 0; d < p->brank; d++) dims[rank++] = p->bdims[d];
    } else {
        for (int d = 0; d < a->rank - 2; d++) dims[rank++] = a->dims[d];
    }
    if (a->rank > 1) dims[rank++] = m_one;
    if (b->rank > 1) dims[rank++] = p->N;
    if (rank > OR_MAX_RANK)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "output rank %d exceeds %d", rank,
                            OR_MAX_RANK);
    if (a->dtype == OR_FLOAT16 || a->dtype == OR_BFLOAT16) {
        rc = alloc_f32_scratch(g, n, p, a, b, rank, dims);
        if (rc) return rc;
    } else if (b->rank <= 2) {
        p->packed = or_pack_weight(g, n, 1, false, p->K, p->N, &p->owned);
    }
    n->run = matmul_run;
    return or_set_output(g, n, 0, a->dtype, rank, dims);
}
