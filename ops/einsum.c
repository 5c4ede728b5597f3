/* Einsum (opsets 12-23), float32 and float64 (int32/int64 through plain
 * loops). Equations are parsed by einsum_parse.c: implicit or explicit
 * output, ellipses (broadcast numpy style), repeated subscripts within one
 * operand (diagonals), subscripts summed away.
 *
 * Planning turns the equation into a list of steps run in order:
 *  - each operand is a strided view of its input; a repeated subscript
 *    becomes one axis whose stride is the sum of the repeated axes' strides;
 *  - subscripts that occur in one operand only (and not in the output) are
 *    summed out first (a "reduce" step);
 *  - operands are contracted left to right, pairwise: shared subscripts still
 *    needed later are batch axes, shared ones not needed are K, the rest are
 *    M (left) and N (right). Each pair is one batched [M,K] x [K,N] product
 *    through the shared packed GEMM (or_sgemm/or_dgemm); an operand whose
 *    view is not a plain (possibly transposed) matrix per batch is first
 *    copied into [batch, M, K] / [batch, K, N] layout. Small products and the
 *    integer types use a direct loop;
 *  - a last reduce step permutes into the output unless the final product
 *    already wrote the output in place.
 * All scratch buffers are sized and allocated while planning. */
#include "../runtime/alloc.h"
#include "einsum_parse.h"
#include "kernels/gemm.h"
#include "op.h"

#include <string.h>

#define EL 64         /* axes a view may carry (distinct labels) */
#define GEMM_MIN 2048 /* m*n*k from which the packed GEMM is used */
/* m*n*k from which batches run one after another, each GEMM threaded */
#define GEMM_SERIAL 262144

/* Where step data lives: node inputs 0..n_in-1, scratch buffers, the output. */
enum { REF_OUT = -1 };

typedef struct ein_view {
    int ref;
    int n;
    int8_t lab[EL];
    int64_t dim[EL], stride[EL];
} ein_view;

/* An index space with strides into up to two sources. */
typedef struct ein_loop {
    int n;
    int64_t dim[EL], st[2][EL];
} ein_loop;

typedef struct ein_step {
    bool contract;
    int src[2], dst;
    ein_loop outer;                  /* reduce: output axes; contract: batch axes (A, B strides) */
    ein_loop red;                    /* reduce: summed axes */
    int64_t m, n, k, am, ak, bk, bn; /* contract: flattened sizes and strides */
    bool gemm, ta, tb;
} ein_step;

typedef struct ein_plan {
    int dtype, n_in;
    size_t es;
    int n_steps, n_bufs;
    ein_step *steps;
    void **bufs;
    int64_t size[OR_EINSUM_LABELS]; /* per label, broadcast */
} ein_plan;

/* ---------------------------------------------------------------- run ---- */

static void *ref_ptr(or_graph *g, or_node *n, const ein_plan *p, int ref) {
    if (ref == REF_OUT) return or_output(g, n, 0)->data;
    if (ref < p->n_in) return or_input(g, n, ref)->data;
    return p->bufs[ref - p->n_in];
}

/* Offsets of flat index i of loop l into both sources. */
static void loop_offsets(const ein_loop *l, int64_t i, int64_t *o0, int64_t *o1) {
    int64_t a = 0, b = 0;
    for (int k = l->n - 1; k >= 0; k--) {
        int64_t d = l->dim[k], q = i / d, r = i - q * d;
        a += r * l->st[0][k], b += r * l->st[1][k];
        i = q;
    }
    *o0 = a, *o1 = b;
}

static int64_t loop_numel(const ein_loop *l) {
    int64_t t = 1;
    for (int k = 0; k < l->n; k++) t *= l->dim[k];
    return t;
}

/* Advances an odometer; returns the source-0 offset change. */
static inline int64_t loop_next(const ein_loop *l, int64_t *idx) {
    int64_t delta = 0;
    for (int k = l->n - 1; k >= 0; k--) {
        delta += l->st[0][k];
        if (++idx[k] < l->dim[k]) return delta;
        delta -= l->st[0][k] * idx[k];
        idx[k] = 0;
    }
    return delta;
}

typedef struct ein_task {
    const ein_step *s;
    const void *a, *b;
    void *c;
    int dtype;
} ein_task;

/* Typed sum over the red loop of each output element in [begin, end). */
#define REDUCE_FN(T, ACC)                                                                          \
    static void reduce_##T(const ein_step *s, const T *src, T *dst, int64_t begin, int64_t end) {  \
        int64_t idx[EL], ridx[EL], off, unused;                                                    \
        int64_t rn = loop_numel(&s->red);                                                          \
        loop_offsets(&s->outer, begin, &off, &unused);                                             \
        int64_t t = begin;                                                                         \
        for (int k = s->outer.n - 1; k >= 0; k--)                                                  \
            idx[k] = t % s->outer.dim[k], t /= s->outer.dim[k];                                    \
        for (int64_t i = begin; i < end; i++) {                                                    \
            if (s->red.n == 0) {                                                                   \
                dst[i] = src[off];                                                                 \
            } else {                                                                               \
                ACC acc = 0;                                                                       \
                int64_t roff = 0;                                                                  \
                memset(ridx, 0, sizeof(int64_t) * (size_t)s->red.n);                               \
                for (int64_t r = 0; r < rn; r++) {                                                 \
                    acc += (ACC)src[off + roff];                                                   \
                    roff += loop_next(&s->red, ridx);                                              \
                }                                                                                  \
                dst[i] = (T)acc;                                                                   \
            }                                                                                      \
            off += loop_next(&s->outer, idx);                                                      \
        }                                                                                          \
    }
REDUCE_FN(float, double)
REDUCE_FN(double, double)
REDUCE_FN(int32_t, uint32_t)
REDUCE_FN(int64_t, uint64_t)

static void reduce_task(void *arg, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const ein_task *t = arg;
    switch (t->dtype) {
    case OR_FLOAT:
        reduce_float(t->s, t->a, t->c, begin, end);
        break;
    case OR_DOUBLE:
        reduce_double(t->s, t->a, t->c, begin, end);
        break;
    case OR_INT32:
        reduce_int32_t(t->s, t->a, t->c, begin, end);
        break;
    default:
        reduce_int64_t(t->s, t->a, t->c, begin, end);
        break;
    }
}

/* C[m,n] = A * B with arbitrary strides (small products, integers). */
#define SMALL_FN(T, ACC)                                                                           \
    static void small_##T(const ein_step *s, const T *a, const T *b, T *c) {                       \
        for (int64_t i = 0; i < s->m; i++)                                                         \
            for (int64_t j = 0; j < s->n; j++) {                                                   \
                ACC acc = 0;                                                                       \
                for (int64_t q = 0; q < s->k; q++)                                                 \
                    acc += (ACC)a[i * s->am + q * s->ak] * (ACC)b[q * s->bk + j * s->bn];          \
                c[i * s->n + j] = (T)acc;                                                          \
            }                                                                                      \
    }
SMALL_FN(float, double)
SMALL_FN(double, double)
SMALL_FN(int32_t, uint32_t)
SMALL_FN(int64_t, uint64_t)

static void product(const ein_task *t, int64_t batch, or_threadpool *pool) {
    const ein_step *s = t->s;
    int64_t oa, ob;
    loop_offsets(&s->outer, batch, &oa, &ob);
    const char *a = (const char *)t->a, *b = (const char *)t->b;
    size_t es = t->dtype == OR_FLOAT || t->dtype == OR_INT32 ? 4 : 8;
    a += (size_t)oa * es, b += (size_t)ob * es;
    void *c = (char *)t->c + (size_t)(batch * s->m * s->n) * es;
    int64_t lda = s->ta ? s->ak : s->am, ldb = s->tb ? s->bn : s->bk;
    if (s->gemm && t->dtype == OR_FLOAT)
        or_sgemm(s->ta, s->tb, s->m, s->n, s->k, 1.0f, (const float *)a, lda, (const float *)b, ldb,
                 0.0f, c, s->n, pool);
    else if (s->gemm)
        or_dgemm(s->ta, s->tb, s->m, s->n, s->k, 1.0, (const double *)a, lda, (const double *)b,
                 ldb, 0.0, c, s->n, pool);
    else if (t->dtype == OR_FLOAT)
        small_float(s, (const float *)a, (const float *)b, c);
    else if (t->dtype == OR_DOUBLE)
        small_double(s, (const double *)a, (const double *)b, c);
    else if (t->dtype == OR_INT32)
        small_int32_t(s, (const int32_t *)a, (const int32_t *)b, c);
    else
        small_int64_t(s, (const int64_t *)a, (const int64_t *)b, c);
}

static void product_task(void *arg, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    for (int64_t i = begin; i < end; i++) product(arg, i, NULL);
}

static void run_step(or_graph *g, or_node *n, const ein_plan *p, const ein_step *s) {
    ein_task t = {s, ref_ptr(g, n, p, s->src[0]), NULL, ref_ptr(g, n, p, s->dst), p->dtype};
    int64_t outer = loop_numel(&s->outer);
    if (!s->contract) {
        int64_t per = loop_numel(&s->red);
        if (outer)
            or_parallel_for(g->pool, outer, per >= 4096 ? 1 : 4096 / (per + 1), reduce_task, &t);
        return;
    }
    t.b = ref_ptr(g, n, p, s->src[1]);
    int64_t mn = s->m * s->n, work = mn * s->k;
    if (outer == 0 || mn == 0) return;
    if (s->k == 0) {
        memset(t.c, 0, (size_t)(outer * mn) * p->es);
        return;
    }
    if (s->gemm && work >= GEMM_SERIAL)
        for (int64_t b = 0; b < outer; b++) product(&t, b, g->pool);
    else
        or_parallel_for(g->pool, outer, work >= 16384 ? 1 : 16384 / work, product_task, &t);
}

static int einsum_run(or_graph *g, or_node *n) {
    const ein_plan *p = n->state;
    for (int i = 0; i < p->n_steps; i++) run_step(g, n, p, &p->steps[i]);
    return 0;
}

/* ----------------------------------------------------------- planning ---- */

typedef struct ein_ctx {
    or_graph *g;
    or_node *n;
    ein_plan *p;
    or_einsum_spec spec;
    int max_steps;
} ein_ctx;

static int find(const ein_view *v, int label) {
    for (int k = 0; k < v->n; k++)
        if (v->lab[k] == label) return k;
    return -1;
}

static bool in_output(const ein_ctx *c, int label) {
    for (int k = 0; k < c->spec.out_rank; k++)
        if (c->spec.out[k] == label) return true;
    return false;
}

/* Whether label is used by the output or by an input after `after`. */
static bool needed_after(const ein_ctx *c, int label, int after) {
    if (in_output(c, label)) return true;
    for (int i = after + 1; i < c->spec.n_in; i++)
        for (int k = 0; k < c->spec.rank[i]; k++)
            if (c->spec.lab[i][k] == label) return true;
    return false;
}

/* The stride of label in v, 0 when v broadcasts it (or lacks it). */
static int64_t eff_stride(const ein_ctx *c, const ein_view *v, int label) {
    int k = find(v, label);
    return k >= 0 && v->dim[k] == c->p->size[label] ? v->stride[k] : 0;
}

static int nomem(ein_ctx *c) {
    return or_node_fail(c->g, c->n, ONNXRUN_ERR_NOMEM, "out of memory");
}

/* Input i as a view; repeated labels merge into one diagonal axis. */
static int input_view(ein_ctx *c, int i, ein_view *v) {
    const or_tensor *t = or_input(c->g, c->n, i);
    int64_t stride = 1;
    v->ref = i;
    v->n = 0;
    for (int k = t->rank - 1; k >= 0; k--) {
        int label = c->spec.lab[i][k], j = find(v, label);
        if (j < 0) {
            j = v->n++;
            v->lab[j] = (int8_t)label, v->dim[j] = t->dims[k], v->stride[j] = 0;
        } else if (v->dim[j] != t->dims[k]) {
            return or_node_fail(c->g, c->n, ONNXRUN_ERR_INPUT,
                                "subscript '%c' repeats in input %d with sizes %lld and %lld",
                                or_einsum_label_char(label), i, (long long)v->dim[j],
                                (long long)t->dims[k]);
        }
        v->stride[j] += stride;
        stride *= t->dims[k];
    }
    /* built back to front: restore axis order */
    for (int a = 0, b = v->n - 1; a < b; a++, b--) {
        int8_t l = v->lab[a];
        int64_t d = v->dim[a], s = v->stride[a];
        v->lab[a] = v->lab[b], v->dim[a] = v->dim[b], v->stride[a] = v->stride[b];
        v->lab[b] = l, v->dim[b] = d, v->stride[b] = s;
    }
    return ONNXRUN_OK;
}

/* Every label's size; ellipsis dims may broadcast from 1. */
static int label_sizes(ein_ctx *c, const ein_view *views) {
    int64_t *size = c->p->size;
    for (int l = 0; l < OR_EINSUM_LABELS; l++) size[l] = -1;
    for (int i = 0; i < c->spec.n_in; i++)
        for (int k = 0; k < views[i].n; k++) {
            int l = views[i].lab[k];
            int64_t d = views[i].dim[k];
            if (size[l] < 0 || size[l] == d) {
                size[l] = d;
            } else if (l >= OR_EINSUM_ELL && (d == 1 || size[l] == 1)) {
                if (d > size[l]) size[l] = d;
            } else {
                return or_node_fail(c->g, c->n, ONNXRUN_ERR_INPUT,
                                    "subscript '%c' has size %lld in input %d but %lld elsewhere",
                                    or_einsum_label_char(l), (long long)d, i, (long long)size[l]);
            }
        }
    return ONNXRUN_OK;
}

/* A new scratch buffer for `count` elements; returns its ref. */
static int new_buffer(ein_ctx *c, const int8_t *labels, int count, int *ref) {
    ein_plan *p = c->p;
    size_t total = p->es;
    for (int k = 0; k < count; k++) {
        int64_t d = p->size[labels[k]];
        if (d && total > SIZE_MAX / (size_t)d)
            return or_node_fail(c->g, c->n, ONNXRUN_ERR_INPUT, "intermediate result too large");
        total *= (size_t)d;
    }
    void *buf = or_aligned_alloc(64, total ? total : 1);
    if (!buf) return nomem(c);
    p->bufs[p->n_bufs] = buf;
    *ref = p->n_in + p->n_bufs++;
    return ONNXRUN_OK;
}

/* A contiguous view of ref holding the given labels in order. */
static void dense_view(const ein_ctx *c, int ref, const int8_t *labels, int count, ein_view *v) {
    int64_t stride = 1;
    v->ref = ref;
    v->n = count;
    for (int k = count - 1; k >= 0; k--) {
        v->lab[k] = labels[k];
        v->dim[k] = c->p->size[labels[k]];
        v->stride[k] = stride;
        stride *= v->dim[k];
    }
}

static ein_step *new_step(ein_ctx *c) {
    ein_step *s = &c->p->steps[c->p->n_steps++];
    memset(s, 0, sizeof *s);
    return s;
}

static void loop_add(const ein_ctx *c, ein_loop *l, int label, const ein_view *a,
                     const ein_view *b) {
    l->dim[l->n] = c->p->size[label];
    l->st[0][l->n] = eff_stride(c, a, label);
    l->st[1][l->n] = b ? eff_stride(c, b, label) : 0;
    l->n++;
}

/* Reduce step: v summed over every label not in keep, laid out as keep. The
 * destination is a new buffer (dst_out false) or the output. */
static int emit_reduce(ein_ctx *c, ein_view *v, const int8_t *keep, int nkeep, bool dst_out) {
    ein_step *s = new_step(c);
    s->src[0] = v->ref;
    for (int k = 0; k < nkeep; k++) loop_add(c, &s->outer, keep[k], v, NULL);
    for (int k = 0; k < v->n; k++)
        if (!memchr(keep, v->lab[k], (size_t)nkeep)) loop_add(c, &s->red, v->lab[k], v, NULL);
    s->dst = REF_OUT;
    if (!dst_out) {
        int st = new_buffer(c, keep, nkeep, &s->dst);
        if (st != ONNXRUN_OK) return st;
    }
    dense_view(c, s->dst, keep, nkeep, v);
    return ONNXRUN_OK;
}

/* Sums out v's labels that neither `other` (the operand v meets next, may be
 * NULL), nor an input after index `after`, nor the output uses. */
static int prereduce(ein_ctx *c, ein_view *v, const ein_view *other, int after) {
    int8_t keep[EL];
    int nkeep = 0;
    for (int k = 0; k < v->n; k++) {
        int l = v->lab[k];
        if ((other && find(other, l) >= 0) || needed_after(c, l, after)) keep[nkeep++] = (int8_t)l;
    }
    return nkeep == v->n ? ONNXRUN_OK : emit_reduce(c, v, keep, nkeep, false);
}

/* Product size and stride of a group of labels when it flattens to one axis
 * of v; false when it does not. */
static bool flatten(const ein_ctx *c, const ein_view *v, const int8_t *labels, int count,
                    int64_t *size, int64_t *stride) {
    int64_t total = 1, inner = -1, expect = -1;
    for (int k = count - 1; k >= 0; k--) {
        int64_t d = c->p->size[labels[k]], s = eff_stride(c, v, labels[k]);
        if (d == 1) continue;
        if (expect >= 0 && s != expect) return false;
        if (inner < 0) inner = s;
        expect = s * d;
        total *= d;
    }
    *size = total;
    *stride = inner < 0 ? 0 : inner;
    return true;
}

typedef struct ein_groups {
    int nb, nm, nk, nn;
    int8_t b[EL], m[EL], k[EL], n[EL];
} ein_groups;

/* Matrix view of one operand: rows r, cols q (A: M,K; B: K,N). Returns false
 * when it needs packing; *trans selects the transposed storage. */
static bool as_matrix(int64_t rows, int64_t cols, int64_t rs, int64_t cs, bool gemm, bool *trans) {
    *trans = false;
    if (!gemm) return true;
    if ((cols == 1 || cs == 1) && (rows == 1 || rs >= cols)) return true;
    *trans = true;
    return (rows == 1 || rs == 1) && (cols == 1 || cs >= rows);
}

static int8_t *concat3(int8_t *dst, const int8_t *a, int na, const int8_t *b, int nb,
                       const int8_t *d, int nd) {
    memcpy(dst, a, (size_t)na);
    memcpy(dst + na, b, (size_t)nb);
    memcpy(dst + na + nb, d, (size_t)nd);
    return dst;
}

/* Flattens (or packs) operand v as [batch, rows, cols]; fills sizes/strides. */
static int operand(ein_ctx *c, ein_view *v, const ein_groups *gr, bool left, bool gemm,
                   int64_t *rows, int64_t *cols, int64_t *rs, int64_t *cs, bool *trans) {
    const int8_t *r = left ? gr->m : gr->k, *q = left ? gr->k : gr->n;
    int nr = left ? gr->nm : gr->nk, nq = left ? gr->nk : gr->nn;
    if (flatten(c, v, r, nr, rows, rs) && flatten(c, v, q, nq, cols, cs) &&
        as_matrix(*rows, *cols, *rs, *cs, gemm, trans))
        return ONNXRUN_OK;
    int8_t order[EL];
    int st =
        emit_reduce(c, v, concat3(order, gr->b, gr->nb, r, nr, q, nq), gr->nb + nr + nq, false);
    if (st != ONNXRUN_OK) return st;
    flatten(c, v, r, nr, rows, rs);
    flatten(c, v, q, nq, cols, cs);
    as_matrix(*rows, *cols, *rs, *cs, gemm, trans);
    return ONNXRUN_OK;
}

/* Contract a (left) with b (right) per the groups into a new buffer or the
 * output; a becomes the result view [batch, M, N]. */
static int emit_contract(ein_ctx *c, ein_view *a, ein_view *b, const ein_groups *gr, bool dst_out) {
    int64_t m = 1, n = 1, k = 1;
    for (int i = 0; i < gr->nm; i++) m *= c->p->size[gr->m[i]];
    for (int i = 0; i < gr->nn; i++) n *= c->p->size[gr->n[i]];
    for (int i = 0; i < gr->nk; i++) k *= c->p->size[gr->k[i]];
    bool gemm = (c->p->dtype == OR_FLOAT || c->p->dtype == OR_DOUBLE) &&
                (double)m * (double)n * (double)k >= GEMM_MIN;
    int64_t rows, cols, rs, cs;
    bool ta, tb;
    int st = operand(c, a, gr, true, gemm, &rows, &cols, &rs, &cs, &ta);
    int64_t am = rs, ak = cs, bk, bn;
    if (st == ONNXRUN_OK) st = operand(c, b, gr, false, gemm, &rows, &cols, &bk, &bn, &tb);
    if (st != ONNXRUN_OK) return st;
    ein_step *s = new_step(c);
    s->contract = true;
    s->src[0] = a->ref, s->src[1] = b->ref;
    for (int i = 0; i < gr->nb; i++) loop_add(c, &s->outer, gr->b[i], a, b);
    s->m = m, s->n = n, s->k = k, s->gemm = gemm, s->ta = ta, s->tb = tb;
    /* degenerate sizes leave a stride free: give GEMM a valid leading dim */
    s->am = m == 1 && !ta ? k : am, s->ak = k == 1 && ta ? m : ak;
    s->bk = k == 1 && !tb ? n : bk, s->bn = n == 1 && tb ? k : bn;
    int8_t order[EL];
    concat3(order, gr->b, gr->nb, gr->m, gr->nm, gr->n, gr->nn);
    s->dst = REF_OUT;
    if (!dst_out && (st = new_buffer(c, order, gr->nb + gr->nm + gr->nn, &s->dst)) != ONNXRUN_OK)
        return st;
    dense_view(c, s->dst, order, gr->nb + gr->nm + gr->nn, a);
    return ONNXRUN_OK;
}

static int out_pos(const ein_ctx *c, int label) {
    for (int k = 0; k < c->spec.out_rank; k++)
        if (c->spec.out[k] == label) return k;
    return -1;
}

/* Orders a group by output position (insertion sort; groups are short). */
static void sort_by_output(const ein_ctx *c, int8_t *labels, int count) {
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && out_pos(c, labels[j - 1]) > out_pos(c, labels[j]); j--) {
            int8_t t = labels[j];
            labels[j] = labels[j - 1], labels[j - 1] = t;
        }
}

static void classify(const ein_ctx *c, const ein_view *a, const ein_view *b, int after,
                     ein_groups *gr) {
    memset(gr, 0, sizeof *gr);
    for (int k = 0; k < a->n; k++) {
        int8_t l = a->lab[k];
        if (find(b, l) < 0)
            gr->m[gr->nm++] = l;
        else if (needed_after(c, l, after))
            gr->b[gr->nb++] = l;
        else
            gr->k[gr->nk++] = l;
    }
    for (int k = 0; k < b->n; k++)
        if (find(a, b->lab[k]) < 0) gr->n[gr->nn++] = b->lab[k];
}

/* Whether the output is exactly x ++ y ++ z. */
static bool output_is(const ein_ctx *c, const int8_t *x, int nx, const int8_t *y, int ny,
                      const int8_t *z, int nz) {
    int8_t order[EL];
    if (nx + ny + nz != c->spec.out_rank) return false;
    concat3(order, x, nx, y, ny, z, nz);
    return memcmp(order, c->spec.out, (size_t)c->spec.out_rank) == 0;
}

/* The last product writes the output directly when its [batch, M, N] (or,
 * swapping operands, [batch, N, M]) order is the output's. */
static int contract_last(ein_ctx *c, ein_view *cur, ein_view *b, ein_groups *gr) {
    sort_by_output(c, gr->b, gr->nb);
    sort_by_output(c, gr->m, gr->nm);
    sort_by_output(c, gr->n, gr->nn);
    if (output_is(c, gr->b, gr->nb, gr->m, gr->nm, gr->n, gr->nn))
        return emit_contract(c, cur, b, gr, true);
    if (!output_is(c, gr->b, gr->nb, gr->n, gr->nn, gr->m, gr->nm))
        return emit_contract(c, cur, b, gr, false);
    ein_groups sw = *gr;
    memcpy(sw.m, gr->n, sizeof sw.m), sw.nm = gr->nn;
    memcpy(sw.n, gr->m, sizeof sw.n), sw.nn = gr->nm;
    int st = emit_contract(c, b, cur, &sw, true);
    *cur = *b;
    return st;
}

static int plan_steps(ein_ctx *c, ein_view *views) {
    int n_in = c->spec.n_in, st = ONNXRUN_OK;
    for (int i = 0; i < n_in && st == ONNXRUN_OK; i++) st = input_view(c, i, &views[i]);
    if (st == ONNXRUN_OK) st = label_sizes(c, views);
    if (st != ONNXRUN_OK) return st;
    ein_view cur = views[0];
    if (n_in == 1) return emit_reduce(c, &cur, c->spec.out, c->spec.out_rank, true);
    st = prereduce(c, &cur, NULL, 0);
    for (int i = 1; i < n_in && st == ONNXRUN_OK; i++) {
        ein_groups gr;
        st = prereduce(c, &views[i], &cur, i);
        if (st != ONNXRUN_OK) break;
        classify(c, &cur, &views[i], i, &gr);
        st = i == n_in - 1 ? contract_last(c, &cur, &views[i], &gr)
                           : emit_contract(c, &cur, &views[i], &gr, false);
    }
    if (st == ONNXRUN_OK && cur.ref != REF_OUT)
        st = emit_reduce(c, &cur, c->spec.out, c->spec.out_rank, true);
    return st;
}

static void ein_free(void *state) {
    ein_plan *p = state;
    if (!p) return;
    for (int i = 0; i < p->n_bufs; i++) or_free(p->bufs[i]);
    or_free(p->bufs);
    or_free(p->steps);
    or_free(p);
}

static int check_inputs(or_graph *g, or_node *n, int *ranks) {
    const or_tensor *x0 = or_input(g, n, 0);
    if (n->n_inputs < 1 || n->n_inputs > OR_EINSUM_MAX_IN || n->n_outputs != 1 || n->outputs[0] < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 to %d inputs and 1 output",
                            OR_EINSUM_MAX_IN);
    for (int i = 0; i < n->n_inputs; i++) {
        const or_tensor *t = or_input(g, n, i);
        if (!t) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input %d is missing", i);
        if (t->dtype != x0->dtype)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input %d is %s but input 0 is %s", i,
                                or_dtype_name(t->dtype), or_dtype_name(x0->dtype));
        if (or_tensor_numel(t) < 0)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input %d has an unknown shape", i);
        ranks[i] = t->rank;
    }
    int dt = x0->dtype;
    if (dt != OR_FLOAT && dt != OR_DOUBLE && dt != OR_INT32 && dt != OR_INT64)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported input type %s",
                            or_dtype_name(dt));
    return ONNXRUN_OK;
}

static int ein_plan_new(ein_ctx *c) {
    ein_plan *p = or_calloc(1, sizeof *p);
    if (!p) return nomem(c);
    c->p = p;
    c->n->state = p;
    c->n->free_state = ein_free;
    p->n_in = c->spec.n_in;
    p->dtype = or_input(c->g, c->n, 0)->dtype;
    p->es = or_dtype_size(p->dtype);
    c->max_steps = 4 * p->n_in + 2;
    p->steps = or_calloc((size_t)c->max_steps, sizeof *p->steps);
    p->bufs = or_calloc((size_t)c->max_steps, sizeof *p->bufs);
    return p->steps && p->bufs ? ONNXRUN_OK : nomem(c);
}

int einsum_prepare(or_graph *g, or_node *n) {
    int ranks[OR_EINSUM_MAX_IN];
    int st = check_inputs(g, n, ranks);
    if (st != ONNXRUN_OK) return st;
    const char *eq = or_attr_string(n, "equation", NULL);
    if (!eq) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "attribute 'equation' is missing");
    ein_ctx c = {g, n, NULL, {0}, 0};
    char err[256];
    if (or_einsum_parse(eq, n->n_inputs, ranks, &c.spec, err, sizeof err) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "invalid equation '%s': %s", eq, err);
    if ((st = ein_plan_new(&c)) != ONNXRUN_OK) return st;
    ein_view *views = or_malloc(sizeof *views * (size_t)n->n_inputs);
    if (!views) return nomem(&c);
    st = plan_steps(&c, views);
    or_free(views);
    if (st != ONNXRUN_OK) return st;
    int64_t dims[OR_MAX_RANK];
    for (int k = 0; k < c.spec.out_rank; k++) dims[k] = c.p->size[c.spec.out[k]];
    n->run = einsum_run;
    return or_set_output(g, n, 0, c.p->dtype, c.spec.out_rank, dims);
}
