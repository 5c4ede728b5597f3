/* Where (opsets 9-23; bfloat16 listed since 16): output = condition ? X : Y
 * with numpy broadcasting of all three. condition is bool; X and Y share any
 * type but string. Only bytes are moved, so the kernel depends on the
 * element size alone. */
#include "elementwise.h"

typedef struct {
    uint64_t lo, hi;
} bytes16;

#define WHERE(T, S)                                                                                \
    OR_EW_KERNEL(where_##S) {                                                                      \
        const uint8_t *c = in[0];                                                                  \
        const T *x = in[1], *y = in[2];                                                            \
        T *o = out;                                                                                \
        const int64_t sc = step[0], sx = step[1], sy = step[2];                                    \
        (void)ctx;                                                                                 \
        if (sc && sx && sy) {                                                                      \
            for (int64_t i = 0; i < n; i++) o[i] = c[i] ? x[i] : y[i];                             \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) o[i] = c[i * sc] ? x[i * sx] : y[i * sy];              \
        }                                                                                          \
    }
WHERE(uint8_t, 1)
WHERE(uint16_t, 2)
WHERE(uint32_t, 4)
WHERE(uint64_t, 8)
WHERE(bytes16, 16)

int where_prepare(or_graph *g, or_node *n) {
    int status = or_ew_check_arity(g, n, 3, 3);
    if (status != ONNXRUN_OK) return status;
    const or_tensor *c = or_input(g, n, 0), *x = or_input(g, n, 1), *y = or_input(g, n, 2);
    if (c->dtype != OR_BOOL)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "condition must be bool, got %s",
                            or_dtype_name(c->dtype));
    if (x->dtype != y->dtype)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "X is %s but Y is %s", or_dtype_name(x->dtype),
                            or_dtype_name(y->dtype));
    or_ew_kern k = {.n_in = 3, .out_dtype = x->dtype, .grain = OR_EW_GRAIN};
    switch (or_dtype_size(x->dtype)) {
    case 1:
        k.fn = where_1;
        break;
    case 2:
        k.fn = where_2;
        break;
    case 4:
        k.fn = where_4;
        break;
    case 8:
        k.fn = where_8;
        break;
    case 16:
        k.fn = where_16;
        break;
    default:
        return or_ew_bad_dtype(g, n, x->dtype);
    }
    return or_ew_prepare(g, n, &k, NULL);
}
