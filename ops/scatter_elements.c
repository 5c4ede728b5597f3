/* ScatterElements (opsets 11-23) and its older name Scatter (opsets 9-10):
 * the output is a copy of data in which, for every element of indices,
 * out[i0..indices[i]..] (index replaced along axis) receives updates[i].
 * reduction (opset 16+: none/add/mul, 18+: max/min) combines instead of
 * overwriting. Indices are int32 or int64, negative ones count from the back;
 * an out-of-range index fails the run. Plain scatter handles any dtype;
 * reductions need float, double or an 8- to 64-bit integer. */
#include "shape_common.h"

#include <string.h>

enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

typedef struct se_args {
    const or_tensor *x, *ind;
    const unsigned char *upd;
    int axis, red;
    size_t es;
    int64_t xstrides[OR_MAX_RANK];
} se_args;

#define RED_APPLY(T)                                                                               \
    do {                                                                                           \
        T *d = dst;                                                                                \
        T s = *(const T *)src;                                                                     \
        switch (red) {                                                                             \
        case RED_ADD:                                                                              \
            *d = (T)(*d + s);                                                                      \
            break;                                                                                 \
        case RED_MUL:                                                                              \
            *d = (T)(*d * s);                                                                      \
            break;                                                                                 \
        case RED_MAX:                                                                              \
            if (s > *d) *d = s;                                                                    \
            break;                                                                                 \
        default:                                                                                   \
            if (s < *d) *d = s;                                                                    \
            break;                                                                                 \
        }                                                                                          \
    } while (0)

/* Unsigned arithmetic for the wrapping integer add/mul avoids signed overflow UB. */
#define RED_APPLY_INT(T, U)                                                                        \
    do {                                                                                           \
        if (red == RED_ADD || red == RED_MUL) {                                                    \
            T a, b;                                                                                \
            memcpy(&a, dst, sizeof a);                                                             \
            memcpy(&b, src, sizeof b);                                                             \
            U r = red == RED_ADD ? (U)((U)a + (U)b) : (U)((U)a * (U)b);                            \
            memcpy(dst, &r, sizeof r);                                                             \
        } else                                                                                     \
            RED_APPLY(T);                                                                          \
    } while (0)

static void combine(int dtype, int red, void *dst, const void *src, size_t es) {
    switch (red == RED_NONE ? 0 : dtype) {
    case 0:
        memcpy(dst, src, es);
        break;
    case OR_FLOAT:
        RED_APPLY(float);
        break;
    case OR_DOUBLE:
        RED_APPLY(double);
        break;
    case OR_INT8:
        RED_APPLY_INT(int8_t, uint8_t);
        break;
    case OR_UINT8:
        RED_APPLY_INT(uint8_t, uint8_t);
        break;
    case OR_INT16:
        RED_APPLY_INT(int16_t, uint16_t);
        break;
    case OR_UINT16:
        RED_APPLY_INT(uint16_t, uint16_t);
        break;
    case OR_INT32:
        RED_APPLY_INT(int32_t, uint32_t);
        break;
    case OR_UINT32:
        RED_APPLY_INT(uint32_t, uint32_t);
        break;
    case OR_INT64:
        RED_APPLY_INT(int64_t, uint64_t);
        break;
    default:
        RED_APPLY_INT(uint64_t, uint64_t);
        break;
    }
}

/* Walks the indices in order, keeping the output offset of every axis but the
 * scattered one; later duplicates overwrite (or combine with) earlier ones. */
static int scatter_all(or_graph *g, or_node *n, const se_args *a, unsigned char *dst) {
    const or_tensor *ind = a->ind;
    int rank = ind->rank;
    int64_t count = or_tensor_numel(ind), dim = a->x->dims[a->axis];
    int64_t idx[OR_MAX_RANK] = {0}, base = 0;
    for (int64_t e = 0; e < count; e++) {
        int64_t v = shp_int_at(ind->dtype, ind->data, e);
        if (v < -dim || v >= dim)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "index %lld (element %lld of '%s') is out of range for axis %d "
                                "of size %lld",
                                (long long)v, (long long)e, ind->name, a->axis, (long long)dim);
        if (v < 0) v += dim;
        combine(a->x->dtype, a->red, dst + (size_t)(base + v * a->xstrides[a->axis]) * a->es,
                a->upd + (size_t)e * a->es, a->es);
        for (int k = rank - 1; k >= 0; k--) {
            int64_t s = k == a->axis ? 0 : a->xstrides[k];
            base += s;
            if (++idx[k] < ind->dims[k]) break;
            base -= s * ind->dims[k];
            idx[k] = 0;
        }
    }
    return 0;
}

static int parse_reduction(or_graph *g, or_node *n, int *red) {
    const char *s = or_attr_string(n, "reduction", "none");
    *red = RED_NONE;
    if (!strcmp(s, "none")) return 0;
    if (n->opset >= 16 && !strcmp(s, "add")) *red = RED_ADD;
    if (n->opset >= 16 && !strcmp(s, "mul")) *red = RED_MUL;
    if (n->opset >= 18 && !strcmp(s, "max")) *red = RED_MAX;
    if (n->opset >= 18 && !strcmp(s, "min")) *red = RED_MIN;
    if (*red == RED_NONE)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "reduction '%s' is not supported at opset %d",
                            s, n->opset);
    return 0;
}

static bool reduce_dtype_ok(int dt) {
    switch (dt) {
    case OR_FLOAT:
    case OR_DOUBLE:
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

static int scatter_elements_run(or_graph *g, or_node *n) {
    se_args a;
    a.x = or_input(g, n, 0);
    a.ind = or_input(g, n, 1);
    a.upd = or_input(g, n, 2)->data;
    a.axis = or_norm_axis(or_attr_int(n, "axis", 0), a.x->rank);
    a.es = or_dtype_size(a.x->dtype);
    parse_reduction(g, n, &a.red); /* validated in prepare */
    shp_dense_strides(a.x->rank, a.x->dims, a.xstrides);
    unsigned char *dst = or_output(g, n, 0)->data;
    size_t nbytes = (size_t)or_tensor_numel(a.x) * a.es;
    if (nbytes && dst != a.x->data) memcpy(dst, a.x->data, nbytes);
    return scatter_all(g, n, &a, dst);
}

static int check_shapes(or_graph *g, or_node *n, const or_tensor *x, const or_tensor *ind,
                        const or_tensor *upd, int axis) {
    bool ok = ind->rank == x->rank && upd->rank == ind->rank;
    for (int k = 0; ok && k < x->rank; k++)
        ok = upd->dims[k] == ind->dims[k] && (k == axis || ind->dims[k] <= x->dims[k]);
    if (ok) return 0;
    char a[160], b[160], c[160];
    return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                        "indices %s and updates %s do not fit data %s (same shape, same rank, no "
                        "larger off axis %d)",
                        or_shape_str(ind->rank, ind->dims, a, sizeof a),
                        or_shape_str(upd->rank, upd->dims, c, sizeof c),
                        or_shape_str(x->rank, x->dims, b, sizeof b), axis);
}

int scatter_elements_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0), *ind = or_input(g, n, 1), *upd = or_input(g, n, 2);
    if (!x || !ind || !upd || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 3 inputs and 1 output");
    size_t es;
    int rc = shp_elem_size(g, n, x, &es);
    if (rc) return rc;
    if (upd->dtype != x->dtype)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "updates dtype %s differs from data dtype %s",
                            or_dtype_name(upd->dtype), or_dtype_name(x->dtype));
    if (ind->dtype != OR_INT32 && ind->dtype != OR_INT64)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "indices must be int32 or int64, not %s",
                            or_dtype_name(ind->dtype));
    if (or_tensor_numel(x) < 0 || or_tensor_numel(ind) < 0 || or_tensor_numel(upd) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shapes are unknown");
    int red;
    rc = parse_reduction(g, n, &red);
    if (rc) return rc;
    if (red != RED_NONE && !reduce_dtype_ok(x->dtype))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "reduction does not support dtype %s",
                            or_dtype_name(x->dtype));
    int axis = or_norm_axis(or_attr_int(n, "axis", 0), x->rank);
    if (axis < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range for rank %d",
                            (long long)or_attr_int(n, "axis", 0), x->rank);
    rc = check_shapes(g, n, x, ind, upd, axis);
    if (rc) return rc;
    n->run = scatter_elements_run;
    return or_set_output(g, n, 0, x->dtype, x->rank, x->dims);
}

int scatter_prepare(or_graph *g, or_node *n) {
    if (n->opset >= 11)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "Scatter was removed in opset 11 (use ScatterElements)");
    return scatter_elements_prepare(g, n);
}
