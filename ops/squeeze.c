/* Squeeze (opsets 1-23): removes size-1 axes, all of them when no axes are
 * given. axes is an attribute before opset 13 and an optional int64 input
 * from 13 on (known while planning); negative axes since opset 11. Any dtype:
 * the bytes are copied unchanged. */
#include "shape_common.h"

static int read_axes(or_graph *g, or_node *n, int64_t *axes, int64_t *count) {
    *count = -1; /* no axes: squeeze every 1 */
    if (n->opset >= 13) {
        if (!or_input(g, n, 1)) return 0;
        return shp_plan_ints(g, n, 1, "axes", axes, OR_MAX_RANK, count);
    }
    size_t c;
    const int64_t *attr = or_attr_ints(n, "axes", &c);
    if (!attr) return 0;
    if (c > OR_MAX_RANK) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "too many axes (%zu)", c);
    for (size_t k = 0; k < c; k++) axes[k] = attr[k];
    *count = (int64_t)c;
    return 0;
}

int squeeze_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects an input and 1 output");
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    int64_t axes[OR_MAX_RANK], count;
    int rc = read_axes(g, n, axes, &count);
    if (rc) return rc;
    bool drop[OR_MAX_RANK] = {false};
    for (int k = 0; k < x->rank; k++) drop[k] = count < 0 && x->dims[k] == 1;
    for (int64_t k = 0; k < count; k++) {
        int a = or_norm_axis(axes[k], x->rank);
        if (a < 0)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range for rank %d",
                                (long long)axes[k], x->rank);
        if (x->dims[a] != 1)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "cannot squeeze axis %d of size %lld (must be 1)", a,
                                (long long)x->dims[a]);
        drop[a] = true;
    }
    int64_t dims[OR_MAX_RANK];
    int rank = 0;
    for (int k = 0; k < x->rank; k++)
        if (!drop[k]) dims[rank++] = x->dims[k];
    shp_set_view(n);
    return or_set_output(g, n, 0, x->dtype, rank, dims);
}
