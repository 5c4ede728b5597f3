/* Cast (opsets 6-25) and CastLike (15-25): convert every element to the type
 * named by the `to` attribute (Cast) or carried by the second input
 * (CastLike). Supported on both sides: bool, int8-int64, uint8-uint64,
 * float16, bfloat16 (13+), float32, float64, the float8 types (19+), int4 and
 * uint4 (21+), float4e2m1 (23+), float8e8m0 (24+) and int2/uint2 (25+);
 * strings are not. The conversion rules are in convert.h: floats truncate
 * toward zero into integers, out-of-range values and NaN as onnxruntime on
 * x86-64; integer targets (the 4- and 2-bit ones too) keep the low bits;
 * narrowing float types round to nearest even; anything nonzero becomes
 * true. `saturate` (19+, default 1) affects float8 targets (float4 always
 * saturates, as the reference does); `round_mode` (24+: up, down, nearest;
 * default up) only affects float8e8m0 targets. */
#include "elementwise.h"

#include "convert.h"

#include <string.h>

OR_EW_KERNEL(cast_kernel) {
    const or_ew_kern *k = ctx;
    (void)step;
    or_cast_block_mode(k->in_dtype[0], in[0], k->out_dtype, out, n, k->p[0] != 0, (int)k->p[1]);
}

static int round_mode(or_graph *g, const or_node *n, int *mode) {
    const char *s = n->opset >= 24 ? or_attr_string(n, "round_mode", "up") : "up";
    if (strcmp(s, "up") == 0)
        *mode = OR_ROUND_UP;
    else if (strcmp(s, "down") == 0)
        *mode = OR_ROUND_DOWN;
    else if (strcmp(s, "nearest") == 0)
        *mode = OR_ROUND_NEAREST;
    else
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "round_mode '%s' is not one of up, down, nearest", s);
    return ONNXRUN_OK;
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
    int mode = OR_ROUND_UP;
    int status = round_mode(g, n, &mode);
    if (status != ONNXRUN_OK) return status;
    or_ew_kern k = {.n_in = 1, .out_dtype = to, .p = {saturate != 0, mode}, .grain = OR_EW_GRAIN};
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
