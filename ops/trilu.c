/* Trilu (opsets 14-23): keeps the upper (upper=1, default) or lower triangle
 * of the last two axes, shifted by the optional int64 scalar k (known while
 * planning); everything else becomes zero. Any dtype: zero is all-zero bytes
 * for every numeric type and bool. */
#include "../runtime/alloc.h"
#include "shape_common.h"

#include <stdlib.h>
#include <string.h>

static int trilu_run(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    or_tensor *y = or_output(g, n, 0);
    size_t es = or_dtype_size(x->dtype);
    const int64_t *kp = n->state;
    int64_t k = *kp, rows = x->dims[x->rank - 2], cols = x->dims[x->rank - 1];
    int64_t mats = or_shape_numel(x->rank - 2, x->dims);
    bool upper = or_attr_int(n, "upper", 1) != 0;
    const unsigned char *s = x->data;
    unsigned char *d = y->data;
    size_t row_bytes = (size_t)cols * es;
    for (int64_t m = 0; m < mats; m++) {
        for (int64_t i = 0; i < rows; i++, s += row_bytes, d += row_bytes) {
            /* Kept columns: j >= i + k (upper) or j <= i + k (lower). */
            int64_t lo = upper ? i + k : 0, hi = upper ? cols : i + k + 1;
            lo = lo < 0 ? 0 : lo > cols ? cols : lo;
            hi = hi < lo ? lo : hi > cols ? cols : hi;
            memset(d, 0, (size_t)lo * es);
            memcpy(d + (size_t)lo * es, s + (size_t)lo * es, (size_t)(hi - lo) * es);
            memset(d + (size_t)hi * es, 0, (size_t)(cols - hi) * es);
        }
    }
    return 0;
}

int trilu_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects an input and 1 output");
    size_t es;
    int rc = shp_elem_size(g, n, x, &es);
    if (rc) return rc;
    if (or_tensor_numel(x) < 0 || x->rank < 2)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input must have a known rank >= 2");
    int64_t k = 0, count = 0;
    if (or_input(g, n, 1) && (rc = shp_plan_ints(g, n, 1, "k", &k, 1, &count))) return rc;
    if (count == 0) k = 0;
    /* Far-out k values all mean "everything" or "nothing"; clamping keeps i + k finite. */
    int64_t limit = x->dims[x->rank - 1] + x->dims[x->rank - 2] + 1;
    k = k > limit ? limit : k < -limit ? -limit : k;
    int64_t *state = or_malloc(sizeof *state);
    if (!state) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    *state = k;
    n->state = state;
    n->free_state = or_free;
    n->run = trilu_run;
    return or_set_output(g, n, 0, x->dtype, x->rank, x->dims);
}
