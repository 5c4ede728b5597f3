/* Size (opsets 1-23): the input's element count as an int64 scalar. Any
 * input dtype; only the input's shape is read. */
#include "shape_common.h"

static int size_run(or_graph *g, or_node *n) {
    int64_t *out = or_output(g, n, 0)->data;
    *out = or_tensor_numel(or_input(g, n, 0));
    return 0;
}

int size_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 input and 1 output");
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    n->run = size_run;
    return or_set_output(g, n, 0, OR_INT64, 0, NULL);
}
