/* Cast (opsets 6-23) and CastLike (15-23): convert every element to the type
 * named by the `to` attribute (Cast) or carried by the second input
 * (CastLike). Supported on both sides: bool, int8-int64, uint8-uint64,
 * float16, bfloat16 (13+), float32, float64 and the float8 types (19+);
 * strings and the 4-bit types (21+) are not. The conversion rules are in
 * convert.h: floats truncate toward zero into integers, out-of-range values
 * and NaN as onnxruntime on x86-64; narrowing float types round to nearest
 * even; anything nonzero becomes true. `saturate` (19+, default 1) only
 * affects float8 targets. */
#include "elementwise.h"

#include "convert.h"

OR_EW_KERNEL(cast_kernel) {
    const or_ew_kern *k = ctx;
    (void)step;
    or_cast_block(k->in_dtype[0], in[0], k->out_dtype, out, n, k->p[0] != 0);
}

static int cast_to(or_graph *g, or_node *n, int to) {
    const or_tensor *x = or_input(g, n, 0);
    if (!or_cast_supported(x->dtype))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "cannot cast from %s",
                            or_dtype_name(x->dtype));
    if (!or_cast_supported(to))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "cannot cast to %s (type %d)",
                            or_dtype_name(to), to);
    int64_t saturate = n->opset >= 19 ? or_attr_int(n, "saturate", 1) : 1;
    or_ew_kern k = {.n_in = 1, .out_dtype = to, .p = {saturate != 0}, .grain = OR_EW_GRAIN};
    k.fn = x->dtype == to ? or_ew_copy : cast_kernel;
    return or_ew_prepare(g, n, &k, NULL);
}

int cast_prepare(or_graph *g, or_node *n) {
    int status = or_ew_check_arity(g, n, 1, 1);
    if (status != ONNXRUN_OK) return status;
    const or_attr *to = or_attr_find(n, "to");
    if (!to || to->type != OR_ATTR_INT)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "needs the int attribute 'to'");
    if (to->i <= 0 || to->i >= OR_DTYPE_COUNT)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "cannot cast to type %lld", (long long)to->i);
    return cast_to(g, n, (int)to->i);
}

int castlike_prepare(or_graph *g, or_node *n) {
    int status = or_ew_check_arity(g, n, 2, 2);
    if (status != ONNXRUN_OK) return status;
    return cast_to(g, n, or_input(g, n, 1)->dtype);
}
