/* Shape (opsets 1-23): the input's dims as a 1-D int64 tensor. Opset 15 adds
 * the start/end attributes, which select dims[start:end] with Python slice
 * clamping. Any input dtype; the input's data is never read, so the output
 * size is fixed at planning and the values are written from the dims. */
#include "shape_common.h"

static int64_t clamp_dim_index(int64_t v, int rank) {
    if (v < 0) v += rank;
    if (v < 0) return 0;
    return v > rank ? rank : v;
}

static void shape_range(const or_node *n, int rank, int64_t *start, int64_t *end) {
    *start = 0;
    *end = rank;
    if (n->opset < 15) return;
    *start = clamp_dim_index(or_attr_int(n, "start", 0), rank);
    if (or_attr_find(n, "end")) *end = clamp_dim_index(or_attr_int(n, "end", rank), rank);
}

static int shape_run(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    int64_t start, end, *out = or_output(g, n, 0)->data;
    shape_range(n, x->rank, &start, &end);
    for (int64_t k = start; k < end; k++) out[k - start] = x->dims[k];
    return 0;
}

int shape_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 input and 1 output");
    if (x->rank < 0) return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input rank is unknown");
    int64_t start, end;
    shape_range(n, x->rank, &start, &end);
    int64_t len = end > start ? end - start : 0;
    n->run = shape_run;
    return or_set_output(g, n, 0, OR_INT64, 1, &len);
}
