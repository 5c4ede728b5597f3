/* GatherElements (opsets 11-23): out[i0..ik..] = data[i0..indices[i]..] along
 * axis, so the output has the indices' shape. Indices are int32 or int64,
 * negative ones count from the back; an out-of-range index fails the run.
 * Indices may be smaller than data on the other axes. Any data dtype. */
#include "shape_common.h"

#include <string.h>

typedef struct ge_args {
    const or_tensor *x, *ind;
    int axis;
    size_t es;
    int64_t xstrides[OR_MAX_RANK];
} ge_args;

/* Walks the indices in order, keeping the data offset of every axis but the
 * gathered one. */
static int gather_all(or_graph *g, or_node *n, const ge_args *a, unsigned char *dst) {
    const or_tensor *ind = a->ind;
    int rank = ind->rank;
    int64_t count = or_tensor_numel(ind), dim = a->x->dims[a->axis];
    int64_t idx[OR_MAX_RANK] = {0}, base = 0;
    const unsigned char *src = a->x->data;
    for (int64_t e = 0; e < count; e++) {
        int64_t v = shp_int_at(ind->dtype, ind->data, e);
        if (v < -dim || v >= dim)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "index %lld (element %lld of '%s') is out of range for axis %d "
                                "of size %lld",
                                (long long)v, (long long)e, ind->name, a->axis, (long long)dim);
        if (v < 0) v += dim;
        memcpy(dst + (size_t)e * a->es, src + (size_t)(base + v * a->xstrides[a->axis]) * a->es,
               a->es);
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

static int gather_elements_run(or_graph *g, or_node *n) {
    ge_args a;
    a.x = or_input(g, n, 0);
    a.ind = or_input(g, n, 1);
    a.axis = or_norm_axis(or_attr_int(n, "axis", 0), a.x->rank);
    a.es = or_dtype_size(a.x->dtype);
    shp_dense_strides(a.x->rank, a.x->dims, a.xstrides);
    return gather_all(g, n, &a, or_output(g, n, 0)->data);
}

int gather_elements_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0), *ind = or_input(g, n, 1);
    if (!x || !ind || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 2 inputs and 1 output");
    size_t es;
    int rc = shp_elem_size(g, n, x, &es);
    if (rc) return rc;
    if (ind->dtype != OR_INT32 && ind->dtype != OR_INT64)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "indices must be int32 or int64, not %s",
                            or_dtype_name(ind->dtype));
    if (or_tensor_numel(x) < 0 || or_tensor_numel(ind) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shapes are unknown");
    int axis = or_norm_axis(or_attr_int(n, "axis", 0), x->rank);
    if (axis < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range for rank %d",
                            (long long)or_attr_int(n, "axis", 0), x->rank);
    bool ok = ind->rank == x->rank;
    for (int k = 0; ok && k < x->rank; k++) ok = k == axis || ind->dims[k] <= x->dims[k];
    if (!ok) {
        char a[160], b[160];
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                            "indices %s do not fit data %s (same rank, no larger off axis %d)",
                            or_shape_str(ind->rank, ind->dims, a, sizeof a),
                            or_shape_str(x->rank, x->dims, b, sizeof b), axis);
    }
    n->run = gather_elements_run;
    return or_set_output(g, n, 0, x->dtype, ind->rank, ind->dims);
}
