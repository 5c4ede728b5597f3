/* PRelu (opsets 6-23): Y = X < 0 ? slope * X : X, where slope broadcasts to
 * X's shape (unidirectional numpy broadcasting; the output keeps X's shape).
 * float32/float64 (float16/bfloat16 through float32) and, from opset 9, the
 * integer types (int32/int64/uint32/uint64 in the spec; every width is
 * accepted). Integer products wrap. Opset 6 had no numpy broadcasting: its
 * per-channel slope [C] is read as [C, 1, ..., 1]. */
#include "elementwise.h"

#include <string.h>

#define PRELU_FLOAT(DT, T, U, S)                                                                   \
    OR_EW_KERNEL(prelu_##S) {                                                                      \
        OR_EW_BINARY_LOOP(T, T, T, x < 0 ? x * y : x);                                             \
    }
#define PRELU_SINT(DT, T, U, S)                                                                    \
    OR_EW_KERNEL(prelu_##S) {                                                                      \
        OR_EW_BINARY_LOOP(T, T, T, x < 0 ? (T)((U)x * (U)y) : x);                                  \
    }
#define PRELU_UINT(DT, T, U, S)                                                                    \
    OR_EW_KERNEL(prelu_##S) {                                                                      \
        OR_EW_BINARY_LOOP(T, T, T, ((void)y, x));                                                  \
    }
OR_EW_FLOAT(PRELU_FLOAT)
OR_EW_SINT(PRELU_SINT)
OR_EW_UINT(PRELU_UINT)

#define ENTRY(DT, T, U, S) [DT] = prelu_##S,
static const or_ew_table prelu_table = {OR_EW_NUMERIC(ENTRY)};

/* Opset 6 (as Caffe2 and PyTorch 0.3 used it): a 1-D slope with one value
 * per channel applies along axis 1, i.e. has shape [C, 1, ..., 1]. */
static void legacy_slope(const or_tensor *x, const or_tensor *slope, int *rank, int64_t *dims) {
    *rank = slope->rank;
    memcpy(dims, slope->dims, sizeof(int64_t) * (size_t)(slope->rank > 0 ? slope->rank : 0));
    if (slope->rank != 1 || x->rank < 2 || slope->dims[0] != x->dims[1]) return;
    for (*rank = 1; *rank < x->rank - 1; (*rank)++) dims[*rank] = 1;
}

static int check_shape(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0), *y = or_output(g, n, 0);
    bool same = x->rank == y->rank;
    for (int d = 0; same && d < x->rank; d++) same = x->dims[d] == y->dims[d];
    if (same) return ONNXRUN_OK;
    char sx[160], ss[160];
    const or_tensor *slope = or_input(g, n, 1);
    return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "slope shape %s does not broadcast to X shape %s",
                        or_shape_str(slope->rank, slope->dims, ss, sizeof ss),
                        or_shape_str(x->rank, x->dims, sx, sizeof sx));
}

int prelu_prepare(or_graph *g, or_node *n) {
    int dtype, status = or_ew_check_arity(g, n, 2, 2);
    if (status == ONNXRUN_OK) status = or_ew_same_dtype(g, n, 2, &dtype);
    if (status != ONNXRUN_OK) return status;
    const or_tensor *x = or_input(g, n, 0), *slope = or_input(g, n, 1);
    if (x->rank < 0 || slope->rank < 0 || slope->rank > OR_MAX_RANK)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shapes are unknown");
    or_ew_kern k = {.n_in = 2, .out_dtype = dtype, .grain = OR_EW_GRAIN};
    if (!or_ew_pick(&k, prelu_table, dtype)) return or_ew_bad_dtype(g, n, dtype);
    int ranks[2] = {x->rank, slope->rank};
    int64_t slope_dims[OR_MAX_RANK];
    if (n->opset < 7) legacy_slope(x, slope, &ranks[1], slope_dims);
    const int64_t *dims[2] = {x->dims, n->opset < 7 ? slope_dims : slope->dims};
    status = or_ew_prepare_shapes(g, n, &k, NULL, ranks, dims);
    return status == ONNXRUN_OK ? check_shape(g, n) : status;
}
