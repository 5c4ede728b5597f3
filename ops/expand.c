/* Expand (opsets 8-23): broadcasts the input against the shape input (known
 * while planning) with numpy rules in both directions, so a 1 in the shape
 * keeps the input's dim. Any dtype: a stride-0 view copied as bytes. */
#include "../runtime/alloc.h"
#include "shape_common.h"

#include <stdlib.h>

static int expand_run(or_graph *g, or_node *n) {
    const shp_view *v = n->state;
    const or_tensor *x = or_input(g, n, 0);
    or_tensor *y = or_output(g, n, 0);
    if (or_tensor_numel(y) == 0) return 0;
    shp_strided_copy(g->pool, y->data, x->data, v, or_dtype_size(x->dtype));
    return 0;
}

/* Broadcasts x against shape[0..len) into v (dims and source strides). */
static int broadcast(or_graph *g, or_node *n, const or_tensor *x, const int64_t *shape, int len,
                     shp_view *v) {
    int64_t istrides[OR_MAX_RANK];
    shp_dense_strides(x->rank, x->dims, istrides);
    v->rank = x->rank > len ? x->rank : len;
    for (int k = 0; k < v->rank; k++) {
        int xi = k - (v->rank - x->rank), si = k - (v->rank - len);
        int64_t xd = xi >= 0 ? x->dims[xi] : 1, sd = si >= 0 ? shape[si] : 1;
        if (sd < 0 || (xd != sd && xd != 1 && sd != 1)) {
            char a[160], b[160];
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "cannot broadcast input %s to shape %s",
                                or_shape_str(x->rank, x->dims, a, sizeof a),
                                or_shape_str(len, shape, b, sizeof b));
        }
        v->dims[k] = xd == 1 ? sd : xd;
        v->strides[k] = xd == 1 ? 0 : istrides[xi];
    }
    return 0;
}

int expand_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 2 inputs and 1 output");
    size_t es;
    int rc = shp_elem_size(g, n, x, &es);
    if (rc) return rc;
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    int64_t shape[OR_MAX_RANK], len;
    if ((rc = shp_plan_ints(g, n, 1, "shape", shape, OR_MAX_RANK, &len))) return rc;
    shp_view *v = or_calloc(1, sizeof *v);
    if (!v) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = v;
    n->free_state = or_free;
    if ((rc = broadcast(g, n, x, shape, (int)len, v))) return rc;
    if ((rc = shp_check_size(g, n, v->rank, v->dims, es))) return rc;
    n->run = expand_run;
    return or_set_output(g, n, 0, x->dtype, v->rank, v->dims);
}
