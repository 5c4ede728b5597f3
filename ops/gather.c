/* Gather (opsets 1-23): picks slices of data along axis at the given indices
 * (int32 or int64, negative counting from the back since opset 11). Output
 * shape is data.shape[:axis] + indices.shape + data.shape[axis+1:]. Any data
 * dtype: slices are copied as bytes. An out-of-range index fails the run. */
#include "shape_common.h"

#include <string.h>

static int gather_run(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0), *ind = or_input(g, n, 1);
    or_tensor *y = or_output(g, n, 0);
    size_t es = or_dtype_size(x->dtype);
    int axis = or_norm_axis(or_attr_int(n, "axis", 0), x->rank);
    int64_t outer = or_shape_numel(axis, x->dims), dim = x->dims[axis];
    int64_t count = or_tensor_numel(ind);
    size_t block = (size_t)or_shape_numel(x->rank - axis - 1, x->dims + axis + 1) * es;
    for (int64_t k = 0; k < count; k++) {
        int64_t v = shp_int_at(ind->dtype, ind->data, k);
        if (v < -dim || v >= dim)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "index %lld (element %lld of '%s') is out of range for axis %d "
                                "of size %lld",
                                (long long)v, (long long)k, ind->name, axis, (long long)dim);
    }
    if (block == 0) return 0;
    const unsigned char *src = x->data;
    unsigned char *dst = y->data;
    for (int64_t o = 0; o < outer; o++) {
        const unsigned char *s = src + (size_t)o * (size_t)dim * block;
        for (int64_t k = 0; k < count; k++, dst += block) {
            int64_t v = shp_int_at(ind->dtype, ind->data, k);
            memcpy(dst, s + (size_t)(v < 0 ? v + dim : v) * block, block);
        }
    }
    return 0;
}

int gather_prepare(or_graph *g, or_node *n) {
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
    int rank = x->rank - 1 + ind->rank;
    if (rank > OR_MAX_RANK)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "output rank %d exceeds %d", rank,
                            OR_MAX_RANK);
    int64_t dims[OR_MAX_RANK];
    int r = 0;
    for (int k = 0; k < axis; k++) dims[r++] = x->dims[k];
    for (int k = 0; k < ind->rank; k++) dims[r++] = ind->dims[k];
    for (int k = axis + 1; k < x->rank; k++) dims[r++] = x->dims[k];
    if ((rc = shp_check_size(g, n, rank, dims, es))) return rc;
    n->run = gather_run;
    return or_set_output(g, n, 0, x->dtype, rank, dims);
}
