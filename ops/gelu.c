/* Gelu (opset 20), float32/float64, float16/bfloat16 through float32.
 *   approximate = "none" (default)  0.5 * x * (1 + erf(x / sqrt(2)))
 *   approximate = "tanh"            0.5 * x * (1 + tanh(sqrt(2/pi) * (x +
 * 0.044715 * x^3))) The float32 kernel evaluates in double and rounds once, so
 * the result is the correctly rounded value of either formula in practice. */
#include "elementwise.h"

#include <math.h>
#include <string.h>

#define SQRT1_2 0.70710678118654752440
#define SQRT_2_PI 0.79788456080286535588

static inline double gelu_erf(double x) {
    return 0.5 * x * (1.0 + erf(x * SQRT1_2));
}

static inline double gelu_tanh(double x) {
    return 0.5 * x * (1.0 + tanh(SQRT_2_PI * (x + 0.044715 * x * x * x)));
}

#define GELU_KERNELS(DT, T, U, S)                                                                  \
    OR_EW_KERNEL(gelu_erf_##S) {                                                                   \
        OR_EW_UNARY_LOOP(T, T, gelu_erf((double)x));                                               \
    }                                                                                              \
    OR_EW_KERNEL(gelu_tanh_##S) {                                                                  \
        OR_EW_UNARY_LOOP(T, T, gelu_tanh((double)x));                                              \
    }
OR_EW_FLOAT(GELU_KERNELS)

static const or_ew_table gelu_erf_table = {[OR_FLOAT] = gelu_erf_f32, [OR_DOUBLE] = gelu_erf_f64};
static const or_ew_table gelu_tanh_table = {
    [OR_FLOAT] = gelu_tanh_f32, [OR_DOUBLE] = gelu_tanh_f64};

int gelu_prepare(or_graph *g, or_node *n) {
    const char *approx = or_attr_string(n, "approximate", "none");
    const or_bcast_kernel *table;
    if (strcmp(approx, "none") == 0)
        table = gelu_erf_table;
    else if (strcmp(approx, "tanh") == 0)
        table = gelu_tanh_table;
    else
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "approximate must be \"none\" or \"tanh\", not \"%s\"", approx);
    const or_tensor *x = or_input(g, n, 0);
    if (x && x->dtype != OR_FLOAT && x->dtype != OR_DOUBLE && x->dtype != OR_FLOAT16 &&
        x->dtype != OR_BFLOAT16)
        return or_ew_bad_dtype(g, n, x->dtype);
    return or_ew_simple(g, n, 1, table, 0, NULL, OR_EW_GRAIN_MATH);
}
