/* Softmax and LogSoftmax (opsets 1-23), float and double, and float16 and
 * bfloat16 computed in double and rounded once. Before opset 13 the
 * input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])] (default
 * axis 1) and each row normalised; from 13 the normalisation runs along the
 * one axis (default -1). The maximum is subtracted first, so large inputs do
 * not overflow; sums are taken in double. */
#include "../runtime/alloc.h"
#include "convert.h"
#include "op.h"

#include <math.h>
#include <stdlib.h>

/* Columns of a strided (inner > 1) block handled per pass: their running max
 * and sum live on the stack. */
#define COLS 256

typedef struct softmax_plan {
    int64_t outer, len, inner; /* x viewed as [outer, len, inner], normalised along len */
    bool log;
} softmax_plan;

typedef struct sm_task {
    const softmax_plan *p;
    const void *x;
    void *y;
    int dtype;
} sm_task;

/* One block [len, w] with row stride `inner` (w == inner == 1 for rows). */
#define SOFTMAX_BLOCK(T)                                                                           \
    static void softmax_block_##T(const T *x, T *y, int64_t len, int64_t inner, int64_t w,         \
                                  bool lg) {                                                       \
        double m[COLS], s[COLS];                                                                   \
        for (int64_t j = 0; j < w; j++) m[j] = -INFINITY, s[j] = 0;                                \
        for (int64_t i = 0; i < len; i++)                                                          \
            for (int64_t j = 0; j < w; j++) {                                                      \
                double v = x[i * inner + j];                                                       \
                if (v > m[j] || isnan(v)) m[j] = v;                                                \
            }                                                                                      \
        for (int64_t i = 0; i < len; i++)                                                          \
            for (int64_t j = 0; j < w; j++) {                                                      \
                double e = exp((double)x[i * inner + j] - m[j]);                                   \
                s[j] += e;                                                                         \
                if (!lg) y[i * inner + j] = (T)e;                                                  \
            }                                                                                      \
        for (int64_t j = 0; j < w; j++) s[j] = lg ? m[j] + log(s[j]) : 1.0 / s[j];                 \
        for (int64_t i = 0; i < len; i++)                                                          \
            for (int64_t j = 0; j < w; j++) {                                                      \
                T *o = &y[i * inner + j];                                                          \
                *o = lg ? (T)((double)x[i * inner + j] - s[j]) : (T)((double)*o * s[j]);           \
            }                                                                                      \
    }
SOFTMAX_BLOCK(float)
SOFTMAX_BLOCK(double)

static double half_at(const uint16_t *x, int64_t i, bool bf16) {
    return bf16 ? or_bf16_to_f32(x[i]) : or_f16_to_f32(x[i]);
}

/* float16/bfloat16: like the blocks above, but exp is recomputed in the last
 * pass instead of being stored, so each output is rounded only once. */
static void softmax_block_half(const uint16_t *x, uint16_t *y, int64_t len, int64_t inner,
                               int64_t w, bool lg, bool bf16) {
    double m[COLS], s[COLS];
    for (int64_t j = 0; j < w; j++) m[j] = -INFINITY, s[j] = 0;
    for (int64_t i = 0; i < len; i++)
        for (int64_t j = 0; j < w; j++) {
            double v = half_at(x, i * inner + j, bf16);
            if (v > m[j] || isnan(v)) m[j] = v;
        }
    for (int64_t i = 0; i < len; i++)
        for (int64_t j = 0; j < w; j++) s[j] += exp(half_at(x, i * inner + j, bf16) - m[j]);
    for (int64_t j = 0; j < w; j++) s[j] = lg ? m[j] + log(s[j]) : 1.0 / s[j];
    for (int64_t i = 0; i < len; i++)
        for (int64_t j = 0; j < w; j++) {
            double v = half_at(x, i * inner + j, bf16);
            float r = (float)(lg ? v - s[j] : exp(v - m[j]) * s[j]);
            y[i * inner + j] = bf16 ? or_f32_to_bf16(r) : or_f32_to_f16(r);
        }
}

static void softmax_outer(void *arg, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const sm_task *t = arg;
    const softmax_plan *p = t->p;
    for (int64_t o = begin; o < end; o++)
        for (int64_t j = 0; j < p->inner; j += COLS) {
            int64_t w = p->inner - j < COLS ? p->inner - j : COLS;
            int64_t off = o * p->len * p->inner + j;
            if (t->dtype == OR_FLOAT)
                softmax_block_float((const float *)t->x + off, (float *)t->y + off, p->len,
                                    p->inner, w, p->log);
            else if (t->dtype == OR_DOUBLE)
                softmax_block_double((const double *)t->x + off, (double *)t->y + off, p->len,
                                     p->inner, w, p->log);
            else
                softmax_block_half((const uint16_t *)t->x + off, (uint16_t *)t->y + off, p->len,
                                   p->inner, w, p->log, t->dtype == OR_BFLOAT16);
        }
}

static int softmax_run(or_graph *g, or_node *n) {
    const softmax_plan *p = n->state;
    sm_task t = {p, or_input(g, n, 0)->data, or_output(g, n, 0)->data, or_input(g, n, 0)->dtype};
    if (p->outer == 0 || p->len == 0 || p->inner == 0) return 0;
    int64_t per = p->len * p->inner;
    or_parallel_for(g->pool, p->outer, per >= 16384 ? 1 : 16384 / per, softmax_outer, &t);
    return 0;
}

static int prepare(or_graph *g, or_node *n, bool lg) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 input and 1 output");
    if (x->dtype != OR_FLOAT && x->dtype != OR_DOUBLE && x->dtype != OR_FLOAT16 &&
        x->dtype != OR_BFLOAT16)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "dtype %s is not supported",
                            or_dtype_name(x->dtype));
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    bool coerce = n->opset < 13;
    int64_t attr = or_attr_int(n, "axis", coerce ? 1 : -1);
    /* A rank-0 input has nothing to normalise over; treat it as [1]. */
    int rank = x->rank > 0 ? x->rank : 1;
    int axis = or_norm_axis(attr, rank);
    if (axis < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range for rank %d",
                            (long long)attr, x->rank);
    softmax_plan *p = or_malloc(sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    p->log = lg;
    p->outer = x->rank > 0 ? or_shape_numel(axis, x->dims) : 1;
    if (coerce) {
        p->len = x->rank > 0 ? or_shape_numel(x->rank - axis, x->dims + axis) : 1;
        p->inner = 1;
    } else {
        p->len = x->rank > 0 ? x->dims[axis] : 1;
        p->inner = x->rank > 0 ? or_shape_numel(x->rank - axis - 1, x->dims + axis + 1) : 1;
    }
    n->state = p;
    n->free_state = or_free;
    n->run = softmax_run;
    return or_set_output(g, n, 0, x->dtype, x->rank, x->dims);
}

int softmax_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, false);
}
int logsoftmax_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, true);
}
