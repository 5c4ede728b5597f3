/* Tile (opsets 6-23): repeats the input repeats[k] times along each axis k;
 * repeats is an int64 input known while planning. Any dtype: each axis is
 * viewed as [repeats, dim] with a stride-0 outer part and copied as bytes. */
#include "../runtime/alloc.h"
#include "shape_common.h"

#include <stdlib.h>

static int tile_run(or_graph *g, or_node *n) {
    const shp_view *v = n->state;
    const or_tensor *x = or_input(g, n, 0);
    or_tensor *y = or_output(g, n, 0);
    if (or_tensor_numel(y) == 0) return 0;
    shp_strided_copy(g->pool, y->data, x->data, v, or_dtype_size(x->dtype));
    return 0;
}

int tile_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 2 inputs and 1 output");
    size_t es;
    int rc = shp_elem_size(g, n, x, &es);
    if (rc) return rc;
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    int64_t reps[OR_MAX_RANK], len, dims[OR_MAX_RANK], istrides[OR_MAX_RANK];
    if ((rc = shp_plan_ints(g, n, 1, "repeats", reps, OR_MAX_RANK, &len))) return rc;
    if (len != x->rank)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "repeats has %lld values for rank %d",
                            (long long)len, x->rank);
    shp_view *v = or_calloc(1, sizeof *v);
    if (!v) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = v;
    n->free_state = or_free;
    shp_dense_strides(x->rank, x->dims, istrides);
    v->rank = 2 * x->rank;
    for (int k = 0; k < x->rank; k++) {
        if (reps[k] < 0)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "repeats[%d] is negative (%lld)", k,
                                (long long)reps[k]);
        if (x->dims[k] != 0 && reps[k] > INT64_MAX / x->dims[k])
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "output dim %d overflows", k);
        dims[k] = x->dims[k] * reps[k];
        v->dims[2 * k] = reps[k];
        v->strides[2 * k] = 0;
        v->dims[2 * k + 1] = x->dims[k];
        v->strides[2 * k + 1] = istrides[k];
    }
    if ((rc = shp_check_size(g, n, x->rank, dims, es))) return rc;
    n->run = tile_run;
    return or_set_output(g, n, 0, x->dtype, x->rank, dims);
}
