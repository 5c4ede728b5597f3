/* GlobalAveragePool and GlobalMaxPool (opsets 1-22): float, double and
 * float16 (computed through float), bfloat16 from opset 22. X is
 * [N, C, spatial...] with rank >= 3; Y is [N, C, 1, ...]. Averages are
 * accumulated in double; the max keeps the first value when it is NaN
 * (like MaxPool) and is -inf for an empty plane. Planes (N * C) are split
 * across the thread pool. */
#include "convert.h"
#include "op.h"
#include "pool_common.h"

#include <math.h>

typedef struct global_ctx {
    int dtype;
    bool is_max;
    int64_t size;  /* spatial element count of one plane */
    const void *x; /* [N*C, size] */
    void *y;       /* [N*C] */
} global_ctx;

static double load(int dtype, const void *x, int64_t i) {
    switch (dtype) {
    case OR_FLOAT:
        return ((const float *)x)[i];
    case OR_DOUBLE:
        return ((const double *)x)[i];
    case OR_FLOAT16:
        return or_f16_to_f32(((const uint16_t *)x)[i]);
    default:
        return or_bf16_to_f32(((const uint16_t *)x)[i]);
    }
}

static void store(int dtype, void *y, int64_t i, double v) {
    switch (dtype) {
    case OR_FLOAT:
        ((float *)y)[i] = (float)v;
        break;
    case OR_DOUBLE:
        ((double *)y)[i] = v;
        break;
    case OR_FLOAT16:
        ((uint16_t *)y)[i] = or_f32_to_f16((float)v);
        break;
    default:
        ((uint16_t *)y)[i] = or_f32_to_bf16((float)v);
        break;
    }
}

/* Fast paths for the common dtypes; others go through load(). */
static double reduce_f32(const float *x, int64_t size, bool is_max) {
    if (is_max) {
        float best = size ? x[0] : -INFINITY;
        for (int64_t i = 1; i < size; i++)
            if (x[i] > best) best = x[i];
        return best;
    }
    double sum = 0;
    for (int64_t i = 0; i < size; i++) sum += x[i];
    return sum / (double)size;
}

static double reduce_any(int dtype, const void *x, int64_t size, bool is_max) {
    if (is_max) {
        double best = size ? load(dtype, x, 0) : -INFINITY;
        for (int64_t i = 1; i < size; i++) {
            double v = load(dtype, x, i);
            if (v > best) best = v;
        }
        return best;
    }
    double sum = 0;
    for (int64_t i = 0; i < size; i++) sum += load(dtype, x, i);
    return sum / (double)size;
}

static void global_task(void *vctx, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const global_ctx *c = vctx;
    size_t es = or_dtype_size(c->dtype);
    for (int64_t pl = begin; pl < end; pl++) {
        const void *x = (const char *)c->x + (size_t)(pl * c->size) * es;
        double v = c->dtype == OR_FLOAT ? reduce_f32(x, c->size, c->is_max)
                                        : reduce_any(c->dtype, x, c->size, c->is_max);
        store(c->dtype, c->y, pl, v);
    }
}

static int global_run(or_graph *g, or_node *n, bool is_max) {
    const or_tensor *x = or_input(g, n, 0);
    int64_t planes = x->dims[0] * x->dims[1];
    global_ctx c = {x->dtype, is_max, or_shape_numel(x->rank - 2, x->dims + 2), x->data,
                    or_output(g, n, 0)->data};
    if (planes == 0) return 0;
    or_parallel_for(g->pool, planes, pool_grain(c.size), global_task, &c);
    return 0;
}

static int global_avg_run(or_graph *g, or_node *n) {
    return global_run(g, n, false);
}

static int global_max_run(or_graph *g, or_node *n) {
    return global_run(g, n, true);
}

static int global_prepare(or_graph *g, or_node *n, bool is_max) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_inputs != 1 || n->n_outputs != 1 || !or_output(g, n, 0))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 input X and 1 output Y");
    int dt = x->dtype;
    if (dt != OR_FLOAT && dt != OR_DOUBLE && dt != OR_FLOAT16 &&
        !(dt == OR_BFLOAT16 && n->opset >= 22))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported dtype %s at opset %d",
                            or_dtype_name(dt), n->opset);
    if (x->rank < 3 || or_tensor_numel(x) < 0 || or_shape_numel(2, x->dims) < 0)
        return or_node_fail(
            g, n, ONNXRUN_ERR_INPUT,
            "X must have a known shape of rank >= 3 (N, C, spatial...), got rank %d", x->rank);
    int64_t dims[OR_MAX_RANK];
    for (int d = 0; d < x->rank; d++) dims[d] = d < 2 ? x->dims[d] : 1;
    n->run = is_max ? global_max_run : global_avg_run;
    return or_set_output(g, n, 0, dt, x->rank, dims);
}

int globalaveragepool_prepare(or_graph *g, or_node *n) {
    return global_prepare(g, n, false);
}

int globalmaxpool_prepare(or_graph *g, or_node *n) {
    return global_prepare(g, n, true);
}
