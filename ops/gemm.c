/* Gemm (opsets 1-23): Y = alpha * op(A) * op(B) + beta * C with A and B 2-D,
 * op = transpose when transA/transB, and C broadcast (unidirectionally) to
 * [M,N]; C is required before opset 11. The `broadcast` attribute of opsets
 * < 7 is not needed: C is broadcast whenever its shape allows. float and
 * double go through the shared GEMM (a constant B is packed once and kept
 * across re-plans, unless transA); int32/int64/uint32/uint64 (opset 9+) use a
 * plain loop that wraps (alpha and beta other than 1 applied in double).
 * float16 and bfloat16 are copied to float32 buffers sized while planning,
 * multiplied by the float GEMM and rounded once. */
#include "../runtime/alloc.h"
#include "convert.h"
#include "packed_weights.h"

#include <stdlib.h>

typedef struct gemm_plan {
    bool ta, tb;
    float alpha, beta;
    int64_t M, N, K;
    int64_t c_rs, c_cs; /* C's element strides along M and N, 0 where broadcast */
    const or_packed_b *packed;
    or_packed_b *owned; /* packed from a folded value */
    float *f32[4];      /* float16/bfloat16: A, B, C, Y as float32 */
    int64_t f32_len[4]; /* their element counts (C: 0 when absent) */
} gemm_plan;

static void free_plan(void *state) {
    gemm_plan *p = state;
    if (!p) return;
    or_packed_b_free(p->owned);
    for (int i = 0; i < 4; i++) or_free(p->f32[i]);
    or_free(p);
}

/* Y = beta * C, broadcast. */
#define FILL_BETA_C(T)                                                                             \
    do {                                                                                           \
        const T *cs = c->data;                                                                     \
        T *ys = y->data;                                                                           \
        for (int64_t i = 0; i < p->M; i++)                                                         \
            for (int64_t j = 0; j < p->N; j++)                                                     \
                ys[i * p->N + j] = (T)p->beta * cs[i * p->c_rs + j * p->c_cs];                     \
    } while (0)

#define GEMM_FLOAT(T, GEMM, GEMM_PACKED)                                                           \
    do {                                                                                           \
        T beta = 0;                                                                                \
        if (c && p->beta != 0) {                                                                   \
            FILL_BETA_C(T);                                                                        \
            beta = 1;                                                                              \
        }                                                                                          \
        int64_t lda = p->ta ? p->M : p->K, ldb = p->tb ? p->K : p->N;                              \
        if (p->packed)                                                                             \
            GEMM_PACKED(p->M, p->N, p->K, p->alpha, a->data, lda, p->packed, beta, y->data, p->N,  \
                        g->pool);                                                                  \
        else                                                                                       \
            GEMM(p->ta, p->tb, p->M, p->N, p->K, p->alpha, a->data, lda, b->data, ldb, beta,       \
                 y->data, p->N, g->pool);                                                          \
    } while (0)

/* Integer Gemm: products and sums wrap (computed in the unsigned type U, as
 * MatMul does). With alpha 1 and beta 0 or 1 the result stays exact integer
 * arithmetic; other alpha/beta are applied in double and the result
 * converted back as Cast would (convert.h). */
#define GEMM_INT(T, U, FROM_DOUBLE)                                                                \
    do {                                                                                           \
        const T *as = a->data, *bs = b->data, *cs = c ? c->data : NULL;                            \
        T *ys = y->data;                                                                           \
        bool exact = p->alpha == 1 && (!cs || p->beta == 0 || p->beta == 1);                       \
        if (cs && p->beta == 0) cs = NULL;                                                         \
        for (int64_t i = 0; i < p->M; i++)                                                         \
            for (int64_t j = 0; j < p->N; j++) {                                                   \
                U s = 0;                                                                           \
                for (int64_t k = 0; k < p->K; k++)                                                 \
                    s += (U)as[p->ta ? k * p->M + i : i * p->K + k] *                              \
                         (U)bs[p->tb ? j * p->K + k : k * p->N + j];                               \
                const T *cij = cs ? &cs[i * p->c_rs + j * p->c_cs] : NULL;                         \
                if (exact) {                                                                       \
                    ys[i * p->N + j] = (T)(s + (cij ? (U)*cij : 0));                               \
                    continue;                                                                      \
                }                                                                                  \
                double v = (double)p->alpha * (double)(T)s;                                        \
                if (cij) v += (double)p->beta * (double)*cij;                                      \
                ys[i * p->N + j] = FROM_DOUBLE(v);                                                 \
            }                                                                                      \
    } while (0)

static void gemm_f32(or_graph *g, const gemm_plan *p, const or_tensor *a, const or_tensor *b,
                     const or_tensor *c, or_tensor *y) {
    GEMM_FLOAT(float, or_sgemm, or_sgemm_packed);
}

/* float16/bfloat16: the float32 product on copies, rounded back once. */
static void gemm_half(or_graph *g, const gemm_plan *p, const or_tensor *a, const or_tensor *b,
                      const or_tensor *c, or_tensor *y) {
    or_tensor fa = *a, fb = *b, fc = c ? *c : *a, fy = *y;
    fa.data = p->f32[0];
    fb.data = p->f32[1];
    fc.data = p->f32[2];
    fy.data = p->f32[3];
    or_load_f32(a->dtype, a->data, p->f32[0], p->f32_len[0]);
    or_load_f32(b->dtype, b->data, p->f32[1], p->f32_len[1]);
    if (c) or_load_f32(c->dtype, c->data, p->f32[2], p->f32_len[2]);
    gemm_f32(g, p, &fa, &fb, c ? &fc : NULL, &fy);
    or_store_f32(y->dtype, p->f32[3], y->data, p->f32_len[3], true);
}

static int gemm_run(or_graph *g, or_node *n) {
    const gemm_plan *p = n->state;
    const or_tensor *a = or_input(g, n, 0), *b = or_input(g, n, 1), *c = or_input(g, n, 2);
    or_tensor *y = or_output(g, n, 0);
    if (p->M == 0 || p->N == 0) return 0;
    switch (a->dtype) {
    case OR_FLOAT:
        gemm_f32(g, p, a, b, c, y);
        break;
    case OR_FLOAT16:
    case OR_BFLOAT16:
        gemm_half(g, p, a, b, c, y);
        break;
    case OR_DOUBLE:
        GEMM_FLOAT(double, or_dgemm, or_dgemm_packed);
        break;
    case OR_INT32:
        GEMM_INT(int32_t, uint32_t, or_f64_to_i32);
        break;
    case OR_UINT32:
        GEMM_INT(uint32_t, uint32_t, or_f64_to_u32);
        break;
    case OR_INT64:
        GEMM_INT(int64_t, uint64_t, or_f64_to_i64);
        break;
    default:
        GEMM_INT(uint64_t, uint64_t, or_f64_to_u64);
        break;
    }
    return 0;
}

/* C's strides for broadcasting it to [M,N]; fails when it cannot. */
static int plan_c(or_graph *g, or_node *n, const or_tensor *c, gemm_plan *p) {
    p->c_rs = p->c_cs = 0;
    if (!c) return 0;
    if (c->dtype != or_input(g, n, 0)->dtype || c->rank > 2 || or_tensor_numel(c) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "C must be a tensor of rank <= 2 of A's type");
    int64_t rows = c->rank == 2 ? c->dims[0] : 1, cols = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
    if ((rows != 1 && rows != p->M) || (cols != 1 && cols != p->N)) {
        char s[96];
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "C %s does not broadcast to [%lld,%lld]",
                            or_shape_str(c->rank, c->dims, s, sizeof s), (long long)p->M,
                            (long long)p->N);
    }
    p->c_cs = cols == 1 ? 0 : 1;
    p->c_rs = rows == 1 ? 0 : cols;
    return 0;
}

static bool gemm_dtype_ok(int dt, int opset) {
    if (dt == OR_FLOAT || dt == OR_DOUBLE || dt == OR_FLOAT16) return true;
    if (dt == OR_BFLOAT16) return opset >= 13;
    return opset >= 9 && (dt == OR_INT32 || dt == OR_INT64 || dt == OR_UINT32 || dt == OR_UINT64);
}

int gemm_prepare(or_graph *g, or_node *n) {
    const or_tensor *a = or_input(g, n, 0), *b = or_input(g, n, 1), *c = or_input(g, n, 2);
    if (!a || !b || n->n_outputs < 1 || (!c && n->opset < 11))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects inputs A, B%s and 1 output",
                            n->opset < 11 ? ", C" : "");
    if (a->dtype != b->dtype || !gemm_dtype_ok(a->dtype, n->opset))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported dtypes %s x %s",
                            or_dtype_name(a->dtype), or_dtype_name(b->dtype));
    if (a->rank != 2 || b->rank != 2 || or_tensor_numel(a) < 0 || or_tensor_numel(b) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "A and B must be known 2-D shapes");
    gemm_plan *p = or_calloc(1, sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = p;
    n->free_state = free_plan;
    p->ta = or_attr_int(n, "transA", 0) != 0;
    p->tb = or_attr_int(n, "transB", 0) != 0;
    p->alpha = or_attr_float(n, "alpha", 1.0f);
    p->beta = or_attr_float(n, "beta", 1.0f);
    p->M = a->dims[p->ta ? 1 : 0];
    p->K = a->dims[p->ta ? 0 : 1];
    p->N = b->dims[p->tb ? 0 : 1];
    if (b->dims[p->tb ? 1 : 0] != p->K) {
        char s1[64], s2[64];
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "op(A) %s and op(B) %s do not chain",
                            or_shape_str(2, a->dims, s1, sizeof s1),
                            or_shape_str(2, b->dims, s2, sizeof s2));
    }
    int rc = plan_c(g, n, c, p);
    if (rc) return rc;
    if (a->dtype == OR_FLOAT16 || a->dtype == OR_BFLOAT16) {
        if (p->N && p->M > INT64_MAX / p->N)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "matrices too large");
        const int64_t len[4] = {or_tensor_numel(a), or_tensor_numel(b), c ? or_tensor_numel(c) : 0,
                                p->M * p->N};
        for (int i = 0; i < 4; i++) {
            if ((uint64_t)len[i] >= SIZE_MAX / sizeof(float))
                return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "matrices too large");
            p->f32_len[i] = len[i];
            p->f32[i] = or_malloc(((size_t)len[i] + 1) * sizeof(float)); /* never zero bytes */
            if (!p->f32[i]) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
        }
    } else if (!p->ta) { /* the packed product takes A as stored, untransposed */
        p->packed = or_pack_weight(g, n, 1, p->tb, p->K, p->N, &p->owned);
    }
    n->run = gemm_run;
    int64_t dims[2] = {p->M, p->N};
    return or_set_output(g, n, 0, a->dtype, 2, dims);
}
