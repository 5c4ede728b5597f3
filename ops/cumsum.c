/* CumSum (opsets 11-23): running sums along the axis given by a scalar
 * int32/int64 input (known while planning), optionally exclusive (each
 * element leaves itself out) and/or reversed. Types: float, double, float16,
 * bfloat16, int32, int64, uint32, uint64; integer sums wrap instead of
 * overflowing; float16/bfloat16 add in float and round each running sum, as
 * numpy's cumsum of a float16 array does. */
#include "../runtime/alloc.h"
#include "convert.h"
#include "shape_common.h"

#include <stdlib.h>

typedef struct cumsum_plan {
    int axis;
    bool exclusive, reverse;
} cumsum_plan;

/* One [dim, inner] block per outer index; U is the type the sum is done in,
 * LD converts T to U and ST back (both empty for plain types). */
#define CUMSUM_LOOP_LD(T, U, LD, ST)                                                               \
    do {                                                                                           \
        const T *xs = x->data;                                                                     \
        T *ys = y->data;                                                                           \
        for (int64_t o = 0; o < outer; o++) {                                                      \
            const T *xb = xs + o * dim * inner;                                                    \
            T *yb = ys + o * dim * inner;                                                          \
            for (int64_t t = 0; t < dim; t++) {                                                    \
                int64_t i = p->reverse ? dim - 1 - t : t, prev = p->reverse ? i + 1 : i - 1;       \
                T *yr = yb + i * inner;                                                            \
                if (t == 0) {                                                                      \
                    for (int64_t j = 0; j < inner; j++)                                            \
                        yr[j] = p->exclusive ? (T)0 : xb[i * inner + j];                           \
                    continue;                                                                      \
                }                                                                                  \
                const T *xr = xb + (p->exclusive ? prev : i) * inner, *yp = yb + prev * inner;     \
                for (int64_t j = 0; j < inner; j++) yr[j] = ST((U)LD(yp[j]) + (U)LD(xr[j]));       \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#define CUMSUM_LOOP(T, U) CUMSUM_LOOP_LD(T, U, , (T))

static int cumsum_run(or_graph *g, or_node *n) {
    const cumsum_plan *p = n->state;
    const or_tensor *x = or_input(g, n, 0);
    or_tensor *y = or_output(g, n, 0);
    int64_t outer = or_shape_numel(p->axis, x->dims), dim = x->dims[p->axis];
    int64_t inner = or_shape_numel(x->rank - p->axis - 1, x->dims + p->axis + 1);
    switch (x->dtype) {
    case OR_FLOAT:
        CUMSUM_LOOP(float, float);
        break;
    case OR_DOUBLE:
        CUMSUM_LOOP(double, double);
        break;
    case OR_FLOAT16:
        CUMSUM_LOOP_LD(uint16_t, float, or_f16_to_f32, or_f32_to_f16);
        break;
    case OR_BFLOAT16:
        CUMSUM_LOOP_LD(uint16_t, float, or_bf16_to_f32, or_f32_to_bf16);
        break;
    case OR_INT32:
        CUMSUM_LOOP(int32_t, uint32_t);
        break;
    case OR_UINT32:
        CUMSUM_LOOP(uint32_t, uint32_t);
        break;
    case OR_INT64:
        CUMSUM_LOOP(int64_t, uint64_t);
        break;
    case OR_UINT64:
        CUMSUM_LOOP(uint64_t, uint64_t);
        break;
    default:
        return or_node_fail(g, n, ONNXRUN_ERR_INTERNAL, "unexpected dtype");
    }
    return 0;
}

int cumsum_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 2 inputs and 1 output");
    int dt = x->dtype;
    if (dt != OR_FLOAT && dt != OR_DOUBLE && dt != OR_INT32 && dt != OR_INT64 && dt != OR_UINT32 &&
        dt != OR_UINT64 && dt != OR_FLOAT16 && dt != OR_BFLOAT16)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "dtype %s is not supported",
                            or_dtype_name(dt));
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    int64_t axis, count;
    int rc = shp_plan_ints(g, n, 1, "axis", &axis, 1, &count);
    if (rc) return rc;
    int a = count == 1 ? or_norm_axis(axis, x->rank) : -1;
    if (a < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "axis must be one value in [-%d, %d) for this input", x->rank, x->rank);
    cumsum_plan *p = or_malloc(sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    p->axis = a;
    p->exclusive = or_attr_int(n, "exclusive", 0) != 0;
    p->reverse = or_attr_int(n, "reverse", 0) != 0;
    n->state = p;
    n->free_state = or_free;
    n->run = cumsum_run;
    return or_set_output(g, n, 0, dt, x->rank, x->dims);
}
