/* Unsqueeze (opsets 1-23): inserts size-1 axes at the given positions of the
 * output. axes is an attribute before opset 13 and a required int64 input
 * from 13 on (known while planning); negative axes (against the output rank)
 * since opset 11. Any dtype: the bytes are copied unchanged. */
#include "shape_common.h"

static int read_axes(or_graph *g, or_node *n, int64_t *axes, int64_t *count) {
    if (n->opset >= 13) return shp_plan_ints(g, n, 1, "axes", axes, OR_MAX_RANK, count);
    size_t c;
    const int64_t *attr = or_attr_ints(n, "axes", &c);
    if (!attr) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "attribute 'axes' is required");
    if (c > OR_MAX_RANK) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "too many axes (%zu)", c);
    for (size_t k = 0; k < c; k++) axes[k] = attr[k];
    *count = (int64_t)c;
    return 0;
}

int unsqueeze_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects an input and 1 output");
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    int64_t axes[OR_MAX_RANK], count;
    int rc = read_axes(g, n, axes, &count);
    if (rc) return rc;
    int rank = x->rank + (int)count;
    if (rank > OR_MAX_RANK)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "output rank %d exceeds %d", rank,
                            OR_MAX_RANK);
    bool added[OR_MAX_RANK] = {false};
    for (int64_t k = 0; k < count; k++) {
        int a = or_norm_axis(axes[k], rank);
        if (a < 0 || added[a])
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                                "axis %lld is out of range or repeated (output rank %d)",
                                (long long)axes[k], rank);
        added[a] = true;
    }
    int64_t dims[OR_MAX_RANK];
    for (int k = 0, src = 0; k < rank; k++) dims[k] = added[k] ? 1 : x->dims[src++];
    shp_set_view(n);
    return or_set_output(g, n, 0, x->dtype, rank, dims);
}
