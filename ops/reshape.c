/* Reshape (opsets 5-23; the opset-1 `shape` attribute is accepted too). The
 * target shape is input 1 and must be known while planning. A 0 copies the
 * input's dim at that index unless allowzero=1 (opset 14+), where it means an
 * empty dim; one -1 is inferred from the element count. Any dtype: the bytes
 * are copied unchanged. */
#include "shape_common.h"

static int read_target(or_graph *g, or_node *n, int64_t *shape, int64_t *rank) {
    if (or_input(g, n, 1)) return shp_plan_ints(g, n, 1, "shape", shape, OR_MAX_RANK, rank);
    size_t count;
    const int64_t *attr = or_attr_ints(n, "shape", &count);
    if (!attr) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input 'shape' is required");
    if (count > OR_MAX_RANK)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "target rank %zu exceeds %d", count,
                            OR_MAX_RANK);
    for (size_t k = 0; k < count; k++) shape[k] = attr[k];
    *rank = (int64_t)count;
    return 0;
}

/* Resolves 0 and -1 entries of shape[] in place against input x. */
static int resolve_shape(or_graph *g, or_node *n, const or_tensor *x, int64_t *shape, int rank,
                         bool allowzero) {
    char a[160], b[160];
    int infer = -1;
    int64_t known = 1;
    for (int k = 0; k < rank; k++) {
        if (shape[k] == 0 && !allowzero) {
            if (k >= x->rank)
                return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                    "shape %s copies dim %d but the input %s has rank %d",
                                    or_shape_str(rank, shape, a, sizeof a), k,
                                    or_shape_str(x->rank, x->dims, b, sizeof b), x->rank);
            shape[k] = x->dims[k];
        }
        if (shape[k] == -1) {
            if (infer >= 0)
                return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "shape %s has more than one -1",
                                    or_shape_str(rank, shape, a, sizeof a));
            infer = k;
            continue;
        }
        if (shape[k] < 0)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "shape has a negative dim %lld",
                                (long long)shape[k]);
        if (shape[k] != 0 && known > INT64_MAX / shape[k])
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "shape's element count overflows");
        known *= shape[k];
    }
    int64_t numel = or_tensor_numel(x);
    if (infer >= 0) {
        if (known == 0 || numel % known != 0)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "cannot reshape input %s (%lld elements) to %s",
                                or_shape_str(x->rank, x->dims, b, sizeof b), (long long)numel,
                                or_shape_str(rank, shape, a, sizeof a));
        shape[infer] = numel / known;
        known = numel;
    }
    if (known != numel)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                            "cannot reshape input %s (%lld elements) to %s (%lld elements)",
                            or_shape_str(x->rank, x->dims, b, sizeof b), (long long)numel,
                            or_shape_str(rank, shape, a, sizeof a), (long long)known);
    return 0;
}

int reshape_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 2 inputs and 1 output");
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    int64_t shape[OR_MAX_RANK], rank;
    int rc = read_target(g, n, shape, &rank);
    if (rc) return rc;
    bool allowzero = n->opset >= 14 && or_attr_int(n, "allowzero", 0) != 0;
    if (allowzero) {
        bool zero = false, minus = false;
        for (int k = 0; k < rank; k++) zero |= shape[k] == 0, minus |= shape[k] == -1;
        if (zero && minus)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                                "allowzero=1 forbids a shape with both 0 and -1");
    }
    rc = resolve_shape(g, n, x, shape, (int)rank, allowzero);
    if (rc) return rc;
    shp_set_view(n);
    return or_set_output(g, n, 0, x->dtype, (int)rank, shape);
}
