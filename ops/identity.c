/* Identity (opsets 1-23): output = input, any tensor type with a fixed
 * element size (not strings; sequence and optional values are not tensors
 * and are not supported). */
#include "op.h"

#include <string.h>

static int identity_run(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    or_tensor *y = or_output(g, n, 0);
    size_t bytes = (size_t)or_tensor_numel(x) * or_dtype_size(x->dtype);
    if (y->data != x->data && bytes) memmove(y->data, x->data, bytes);
    return ONNXRUN_OK;
}

int identity_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (n->n_inputs != 1 || !x || !or_output(g, n, 0))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 input and 1 output");
    if (or_dtype_size(x->dtype) == 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported input type %s",
                            or_dtype_name(x->dtype));
    n->run = identity_run;
    n->output_is_view = true;
    return or_set_output(g, n, 0, x->dtype, x->rank, x->dims);
}
