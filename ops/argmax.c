/* ArgMax and ArgMin (opsets 1-23): int64 index of the largest / smallest
 * element along `axis` (default 0, negative from opset 11), keepdims
 * (default 1), ties resolved to the first index or, with select_last_index
 * (opset 12+), the last. A NaN wins over every number (numpy's rule). Types:
 * float, double, float16, bfloat16 (compared as float) and the 8- to 64-bit
 * integers. */
#include "../runtime/alloc.h"
#include "convert.h"
#include "op.h"

#include <math.h>
#include <stdlib.h>

typedef struct arg_plan {
    int64_t outer, len, inner; /* x viewed as [outer, len, inner] */
    bool is_max, last;
} arg_plan;

/* For each outer block the output row [inner] holds the best index so far;
 * the best value is re-read from x, so no scratch is needed. */
/* T is the stored type, V the compared one, LD converts (float16 -> float). */
#define ARG_LOOP_LD(T, V, ISNAN, LD)                                                               \
    do {                                                                                           \
        const T *xs = x;                                                                           \
        for (int64_t o = 0; o < p->outer; o++) {                                                   \
            const T *xb = xs + o * p->len * p->inner;                                              \
            int64_t *yb = y + o * p->inner;                                                        \
            for (int64_t j = 0; j < p->inner; j++) yb[j] = 0;                                      \
            for (int64_t i = 1; i < p->len; i++)                                                   \
                for (int64_t j = 0; j < p->inner; j++) {                                           \
                    V v = LD(xb[i * p->inner + j]), b = LD(xb[yb[j] * p->inner + j]);              \
                    bool better;                                                                   \
                    if (ISNAN(b))                                                                  \
                        better = p->last && ISNAN(v);                                              \
                    else if (ISNAN(v))                                                             \
                        better = true;                                                             \
                    else if (p->is_max)                                                            \
                        better = p->last ? v >= b : v > b;                                         \
                    else                                                                           \
                        better = p->last ? v <= b : v < b;                                         \
                    if (better) yb[j] = i;                                                         \
                }                                                                                  \
        }                                                                                          \
    } while (0)

#define ARG_LOOP(T, ISNAN) ARG_LOOP_LD(T, T, ISNAN, )
#define NEVER_NAN(v) ((void)(v), false)

static int arg_run(or_graph *g, or_node *n) {
    const arg_plan *p = n->state;
    const or_tensor *xt = or_input(g, n, 0);
    const void *x = xt->data;
    int64_t *y = or_output(g, n, 0)->data;
    if (p->outer == 0 || p->inner == 0) return 0;
    switch (xt->dtype) {
    case OR_FLOAT:
        ARG_LOOP(float, isnan);
        break;
    case OR_DOUBLE:
        ARG_LOOP(double, isnan);
        break;
    case OR_FLOAT16:
        ARG_LOOP_LD(uint16_t, float, isnan, or_f16_to_f32);
        break;
    case OR_BFLOAT16:
        ARG_LOOP_LD(uint16_t, float, isnan, or_bf16_to_f32);
        break;
    case OR_INT8:
        ARG_LOOP(int8_t, NEVER_NAN);
        break;
    case OR_UINT8:
        ARG_LOOP(uint8_t, NEVER_NAN);
        break;
    case OR_INT16:
        ARG_LOOP(int16_t, NEVER_NAN);
        break;
    case OR_UINT16:
        ARG_LOOP(uint16_t, NEVER_NAN);
        break;
    case OR_INT32:
        ARG_LOOP(int32_t, NEVER_NAN);
        break;
    case OR_UINT32:
        ARG_LOOP(uint32_t, NEVER_NAN);
        break;
    case OR_INT64:
        ARG_LOOP(int64_t, NEVER_NAN);
        break;
    default:
        ARG_LOOP(uint64_t, NEVER_NAN);
        break;
    }
    return 0;
}

static bool dtype_ok(int dt) {
    switch (dt) {
    case OR_FLOAT:
    case OR_DOUBLE:
    case OR_FLOAT16:
    case OR_BFLOAT16:
    case OR_INT8:
    case OR_UINT8:
    case OR_INT16:
    case OR_UINT16:
    case OR_INT32:
    case OR_UINT32:
    case OR_INT64:
    case OR_UINT64:
        return true;
    default:
        return false;
    }
}

static int prepare(or_graph *g, or_node *n, bool is_max) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 input and 1 output");
    if (!dtype_ok(x->dtype))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "dtype %s is not supported",
                            or_dtype_name(x->dtype));
    if (or_tensor_numel(x) < 0 || x->rank < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input must have a known shape of rank >= 1");
    int64_t attr = or_attr_int(n, "axis", 0);
    int axis = or_norm_axis(attr, x->rank);
    if (axis < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range for rank %d",
                            (long long)attr, x->rank);
    arg_plan *p = or_malloc(sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = p;
    n->free_state = or_free;
    p->is_max = is_max;
    p->last = n->opset >= 12 && or_attr_int(n, "select_last_index", 0) != 0;
    p->outer = or_shape_numel(axis, x->dims);
    p->len = x->dims[axis];
    p->inner = or_shape_numel(x->rank - axis - 1, x->dims + axis + 1);
    if (p->len == 0 && p->outer * p->inner > 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "axis %d is empty", axis);
    bool keep = or_attr_int(n, "keepdims", 1) != 0;
    int64_t dims[OR_MAX_RANK];
    int rank = 0;
    for (int d = 0; d < x->rank; d++)
        if (d != axis || keep) dims[rank++] = d == axis ? 1 : x->dims[d];
    n->run = arg_run;
    return or_set_output(g, n, 0, OR_INT64, rank, dims);
}

int argmax_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, true);
}
int argmin_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, false);
}
