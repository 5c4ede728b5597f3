/* PRelu (opsets 7-23): Y = X < 0 ? slope * X : X, where slope broadcasts to
 * X's shape (unidirectional numpy broadcasting; the output keeps X's shape).
 * float32/float64 (float16/bfloat16 through float32) and, from opset 9, the
 * integer types (int32/int64/uint32/uint64 in the spec; every width is
 * accepted). Integer products wrap. */
#include "elementwise.h"

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

int prelu_prepare(or_graph *g, or_node *n) {
    int status = or_ew_simple(g, n, 2, prelu_table, 0, NULL, OR_EW_GRAIN);
    if (status != ONNXRUN_OK) return status;
    const or_tensor *x = or_input(g, n, 0), *y = or_output(g, n, 0);
    bool same = x->rank == y->rank;
    for (int d = 0; same && d < x->rank; d++) same = x->dims[d] == y->dims[d];
    if (!same) {
        char sx[160], ss[160];
        const or_tensor *slope = or_input(g, n, 1);
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                            "slope shape %s does not broadcast to X shape %s",
                            or_shape_str(slope->rank, slope->dims, ss, sizeof ss),
                            or_shape_str(x->rank, x->dims, sx, sizeof sx));
    }
    return ONNXRUN_OK;
}
