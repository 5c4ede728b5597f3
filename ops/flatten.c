/* Flatten (opsets 1-23): reshapes to 2-D [prod(dims[:axis]), prod(dims[axis:])].
 * axis is in [0, rank], negative (counting from the back) since opset 11.
 * Any dtype: the bytes are copied unchanged. */
#include "shape_common.h"

int flatten_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 input and 1 output");
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    int64_t axis = or_attr_int(n, "axis", 1);
    if (axis < 0) axis += x->rank;
    if (axis < 0 || axis > x->rank)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range for rank %d",
                            (long long)or_attr_int(n, "axis", 1), x->rank);
    int64_t dims[2];
    dims[0] = or_shape_numel((int)axis, x->dims);
    dims[1] = or_shape_numel(x->rank - (int)axis, x->dims + axis);
    shp_set_view(n);
    return or_set_output(g, n, 0, x->dtype, 2, dims);
}
