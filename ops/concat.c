/* Concat (opsets 4-23; opset 1's default axis of 1 is honoured too): joins
 * inputs along axis, negative since opset 11. Inputs share dtype and rank and
 * agree on every other dim; empty inputs are allowed. Any dtype: rows of
 * bytes are copied. */
#include "shape_common.h"

#include <string.h>

static int concat_axis(const or_node *n, int rank) {
    int64_t axis = or_attr_int(n, "axis", 1);
    return or_norm_axis(axis, rank);
}

static int concat_run(or_graph *g, or_node *n) {
    or_tensor *y = or_output(g, n, 0);
    size_t es = or_dtype_size(y->dtype);
    int axis = concat_axis(n, y->rank);
    int64_t outer = or_shape_numel(axis, y->dims);
    size_t inner = (size_t)or_shape_numel(y->rank - axis - 1, y->dims + axis + 1) * es;
    size_t out_row = (size_t)y->dims[axis] * inner, offset = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const or_tensor *x = or_input(g, n, i);
        size_t row = (size_t)x->dims[axis] * inner;
        if (row == 0) continue;
        const unsigned char *s = x->data;
        unsigned char *d = (unsigned char *)y->data + offset;
        for (int64_t o = 0; o < outer; o++)
            memcpy(d + (size_t)o * out_row, s + (size_t)o * row, row);
        offset += row;
    }
    return 0;
}

static int check_input(or_graph *g, or_node *n, int i, const or_tensor *first, int axis) {
    const or_tensor *x = or_input(g, n, i);
    char a[160], b[160];
    if (!x) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input %d is missing", i);
    if (x->dtype != first->dtype)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input %d is %s but input 0 is %s", i,
                            or_dtype_name(x->dtype), or_dtype_name(first->dtype));
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "shape of input %d is unknown", i);
    bool ok = x->rank == first->rank;
    for (int k = 0; ok && k < x->rank; k++) ok = k == axis || x->dims[k] == first->dims[k];
    if (!ok)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                            "input %d has shape %s, incompatible with input 0 %s on axis %d", i,
                            or_shape_str(x->rank, x->dims, a, sizeof a),
                            or_shape_str(first->rank, first->dims, b, sizeof b), axis);
    return 0;
}

int concat_prepare(or_graph *g, or_node *n) {
    const or_tensor *first = or_input(g, n, 0);
    if (!first || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects at least 1 input and 1 output");
    size_t es;
    int rc = shp_elem_size(g, n, first, &es);
    if (rc) return rc;
    int axis = concat_axis(n, first->rank);
    if (axis < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range for rank %d",
                            (long long)or_attr_int(n, "axis", 1), first->rank);
    int64_t dims[OR_MAX_RANK];
    memcpy(dims, first->dims, sizeof(int64_t) * (size_t)first->rank);
    dims[axis] = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        if ((rc = check_input(g, n, i, first, axis))) return rc;
        int64_t d = or_input(g, n, i)->dims[axis];
        if (d > INT64_MAX - dims[axis])
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "axis size overflows");
        dims[axis] += d;
    }
    if ((rc = shp_check_size(g, n, first->rank, dims, es))) return rc;
    n->run = concat_run;
    return or_set_output(g, n, 0, first->dtype, first->rank, dims);
}
