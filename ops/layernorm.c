/* LayerNormalization (opset 17): each row of X viewed as [outer, len], where
 * outer = prod(dims[:axis]) and len = prod(dims[axis:]), becomes
 *   Y = (X - mean) * InvStdDev * Scale + B,  InvStdDev = 1 / sqrt(var +
 * epsilon) with the biased variance. axis may be negative (default -1). Scale
 * and the optional B broadcast (numpy rules, one direction) to dims[axis:]. The
 * optional outputs Mean and InvStdDev have shape dims[:axis] + [1...] and the
 * type named by stash_type (default float32).
 *
 * Types: float32 and float64, float16/bfloat16 converted on load; every
 * statistic is accumulated in double (two passes, so a large common offset
 * does not cancel the variance). */
#include "../runtime/alloc.h"
#include "convert.h"
#include "op.h"

#include <math.h>

#define CHUNK 256 /* elements converted to double per stack block */

typedef struct ln_plan {
    int64_t outer, len;
    double eps;
    int x_dt, s_dt, u_dt; /* X/Y, Scale/B, Mean/InvStdDev dtypes */
    /* Scale and B's strides over the normalised dims (0 where broadcast). */
    int nrank;
    int64_t ndims[OR_MAX_RANK], sstride[OR_MAX_RANK], bstride[OR_MAX_RANK];
    double *scale, *bias; /* [len] each, expanded in double at run time */
} ln_plan;

typedef struct ln_task {
    const ln_plan *p;
    const void *x;
    void *y, *mean, *inv;
} ln_task;

static bool ln_dtype_ok(int dt) {
    return dt == OR_FLOAT || dt == OR_DOUBLE || dt == OR_FLOAT16 || dt == OR_BFLOAT16;
}

/* ---- one row ---- */

/* Sum of x (shift == NAN) or of (x - shift)^2 over a row. */
static double row_sum(int dt, const void *x, int64_t len, double shift) {
    double s = 0, buf[CHUNK];
    size_t es = or_dtype_size(dt);
    for (int64_t o = 0; o < len; o += CHUNK) {
        int64_t m = len - o < CHUNK ? len - o : CHUNK;
        const double *v = buf;
        if (dt == OR_DOUBLE)
            v = (const double *)x + o;
        else
            or_cast_block(dt, (const char *)x + (size_t)o * es, OR_DOUBLE, buf, m, false);
        if (isnan(shift))
            for (int64_t i = 0; i < m; i++) s += v[i];
        else
            for (int64_t i = 0; i < m; i++) s += (v[i] - shift) * (v[i] - shift);
    }
    return s;
}

static void row_apply(const ln_plan *p, const void *x, void *y, double mean, double inv) {
    double buf[CHUNK];
    size_t es = or_dtype_size(p->x_dt);
    for (int64_t o = 0; o < p->len; o += CHUNK) {
        int64_t m = p->len - o < CHUNK ? p->len - o : CHUNK;
        const double *sc = p->scale + o, *bi = p->bias + o;
        if (p->x_dt == OR_FLOAT) {
            const float *v = (const float *)x + o;
            float *w = (float *)y + o;
            for (int64_t i = 0; i < m; i++) w[i] = (float)((v[i] - mean) * inv * sc[i] + bi[i]);
            continue;
        }
        or_cast_block(p->x_dt, (const char *)x + (size_t)o * es, OR_DOUBLE, buf, m, false);
        for (int64_t i = 0; i < m; i++) buf[i] = (buf[i] - mean) * inv * sc[i] + bi[i];
        or_cast_block(OR_DOUBLE, buf, p->x_dt, (char *)y + (size_t)o * es, m, false);
    }
}

static void rows_task(void *arg, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const ln_task *t = arg;
    const ln_plan *p = t->p;
    size_t row = (size_t)p->len * or_dtype_size(p->x_dt), us = or_dtype_size(p->u_dt);
    for (int64_t r = begin; r < end; r++) {
        const char *x = (const char *)t->x + (size_t)r * row;
        double mean = row_sum(p->x_dt, x, p->len, NAN) / (double)p->len;
        double var = row_sum(p->x_dt, x, p->len, mean) / (double)p->len;
        double inv = 1.0 / sqrt(var + p->eps);
        row_apply(p, x, (char *)t->y + (size_t)r * row, mean, inv);
        if (t->mean)
            or_cast_block(OR_DOUBLE, &mean, p->u_dt, (char *)t->mean + (size_t)r * us, 1, false);
        if (t->inv)
            or_cast_block(OR_DOUBLE, &inv, p->u_dt, (char *)t->inv + (size_t)r * us, 1, false);
    }
}

/* ---- run ---- */

/* Expands a Scale/B tensor over the normalised dims into double[len]. */
static void expand_param(const ln_plan *p, const or_tensor *t, const int64_t *stride, double *dst) {
    if (!t) {
        for (int64_t j = 0; j < p->len; j++) dst[j] = 0;
        return;
    }
    if (or_tensor_numel(t) == p->len) {
        or_cast_block(t->dtype, t->data, OR_DOUBLE, dst, p->len, false);
        return;
    }
    int64_t idx[OR_MAX_RANK] = {0}, off = 0;
    size_t es = or_dtype_size(t->dtype);
    for (int64_t j = 0; j < p->len; j++) {
        or_cast_block(t->dtype, (const char *)t->data + (size_t)off * es, OR_DOUBLE, dst + j, 1,
                      false);
        for (int k = p->nrank - 1; k >= 0; k--) { /* odometer over the normalised dims */
            off += stride[k];
            if (++idx[k] < p->ndims[k]) break;
            off -= stride[k] * idx[k];
            idx[k] = 0;
        }
    }
}

static int ln_run(or_graph *g, or_node *n) {
    const ln_plan *p = n->state;
    expand_param(p, or_input(g, n, 1), p->sstride, p->scale);
    expand_param(p, or_input(g, n, 2), p->bstride, p->bias);
    const or_tensor *mean = or_output(g, n, 1), *inv = or_output(g, n, 2);
    ln_task t = {p, or_input(g, n, 0)->data, or_output(g, n, 0)->data, mean ? mean->data : NULL,
                 inv ? inv->data : NULL};
    if (p->outer && p->len)
        or_parallel_for(g->pool, p->outer, p->len >= 8192 ? 1 : 8192 / p->len, rows_task, &t);
    return 0;
}

/* ---- prepare ---- */

static void ln_free(void *state) {
    ln_plan *p = state;
    if (p) or_free(p->scale);
    or_free(p);
}

/* Strides of t broadcast (one direction) to the normalised dims. */
static int param_strides(or_graph *g, or_node *n, const ln_plan *p, const or_tensor *t,
                         const char *what, int64_t *stride) {
    for (int k = 0; k < p->nrank; k++) stride[k] = 0;
    if (!t) return ONNXRUN_OK;
    char b1[96], b2[96];
    if (!ln_dtype_ok(t->dtype) || t->dtype != p->s_dt)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "%s has type %s, expected %s", what,
                            or_dtype_name(t->dtype), or_dtype_name(p->s_dt));
    bool ok = t->rank <= p->nrank;
    int64_t s = 1;
    for (int k = t->rank - 1; ok && k >= 0; k--) {
        int64_t d = t->dims[k], nd = p->ndims[p->nrank - t->rank + k];
        ok = d == nd || d == 1;
        stride[p->nrank - t->rank + k] = d == 1 ? 0 : s;
        s *= d;
    }
    if (!ok)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                            "%s shape %s does not broadcast to the normalised shape %s", what,
                            or_shape_str(t->rank, t->dims, b1, sizeof b1),
                            or_shape_str(p->nrank, p->ndims, b2, sizeof b2));
    return ONNXRUN_OK;
}

static int declare_outputs(or_graph *g, or_node *n, const or_tensor *x, int axis, int u_dt) {
    int64_t dims[OR_MAX_RANK];
    for (int k = 0; k < x->rank; k++) dims[k] = k < axis ? x->dims[k] : 1;
    int st = or_set_output(g, n, 0, x->dtype, x->rank, x->dims);
    for (int i = 1; i < 3 && i < n->n_outputs && st == ONNXRUN_OK; i++)
        st = or_set_output(g, n, i, u_dt, x->rank, dims);
    return st;
}

static int ln_plan_init(or_graph *g, or_node *n, ln_plan *p, const or_tensor *x, int axis) {
    p->outer = or_shape_numel(axis, x->dims);
    p->len = or_shape_numel(x->rank - axis, x->dims + axis);
    p->eps = or_attr_float(n, "epsilon", 1e-5f);
    p->x_dt = x->dtype;
    p->s_dt = or_input(g, n, 1)->dtype;
    p->nrank = x->rank - axis;
    for (int k = 0; k < p->nrank; k++) p->ndims[k] = x->dims[axis + k];
    int st = param_strides(g, n, p, or_input(g, n, 1), "Scale", p->sstride);
    if (st == ONNXRUN_OK) st = param_strides(g, n, p, or_input(g, n, 2), "B", p->bstride);
    if (st != ONNXRUN_OK) return st;
    if ((uint64_t)p->len > SIZE_MAX / (2 * sizeof(double)) ||
        !(p->scale = or_malloc(2 * sizeof(double) * (size_t)(p->len ? p->len : 1))))
        return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    p->bias = p->scale + p->len;
    return ONNXRUN_OK;
}

int layernorm_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || !or_input(g, n, 1) || n->n_inputs > 3 || n->n_outputs < 1 || n->outputs[0] < 0 ||
        n->n_outputs > 3)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "expects inputs X, Scale (and B) and 1 to 3 outputs");
    if (!ln_dtype_ok(x->dtype))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "X has unsupported type %s",
                            or_dtype_name(x->dtype));
    int64_t u_dt = or_attr_int(n, "stash_type", OR_FLOAT);
    if (!ln_dtype_ok((int)u_dt) || u_dt != (int)u_dt)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "stash_type %lld is not supported",
                            (long long)u_dt);
    if (x->rank < 1 || or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "X must have a known shape of rank >= 1");
    int64_t attr = or_attr_int(n, "axis", -1);
    int axis = or_norm_axis(attr, x->rank);
    if (axis < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range for rank %d",
                            (long long)attr, x->rank);
    ln_plan *p = or_calloc(1, sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    p->u_dt = (int)u_dt;
    int st = ln_plan_init(g, n, p, x, axis);
    if (st != ONNXRUN_OK) {
        ln_free(p);
        return st;
    }
    n->state = p;
    n->free_state = ln_free;
    n->run = ln_run;
    return declare_outputs(g, n, x, axis, p->u_dt);
}
