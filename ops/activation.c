/* Parameterised activations over float32/float64 (float16/bfloat16 through
 * float32), opsets 6-23 unless noted; later versions only added bfloat16.
 *   LeakyRelu   alpha = 0.01          x < 0 ? alpha*x : x
 *   Elu         alpha = 1             x < 0 ? alpha*(e^x - 1) : x
 *   Selu        alpha = 1.67326319..., gamma = 1.05070102...
 *                                     gamma * (x <= 0 ? alpha*(e^x - 1) : x)
 *   HardSigmoid alpha = 0.2, beta = 0.5   clamp(alpha*x + beta, 0, 1)
 *   HardSwish (14)                    x * clamp(x/6 + 1/2, 0, 1)
 *   Softplus (1)                      log(1 + e^x), without overflow
 *   Softsign (1)                      x / (1 + |x|)
 * Defaults are the float32 attribute defaults of the ONNX schema. */
#include "elementwise.h"

#include <tgmath.h>

#define CLAMP01(v) ((v) < 0 ? 0 : (v) > 1 ? 1 : (v))

#define ACT_KERNELS(DT, T, U, S)                                                                   \
    OR_EW_KERNEL(leaky_##S) {                                                                      \
        const T a = (T)OR_EW_P(0);                                                                 \
        OR_EW_UNARY_LOOP(T, T, x < 0 ? a * x : x);                                                 \
    }                                                                                              \
    OR_EW_KERNEL(elu_##S) {                                                                        \
        const T a = (T)OR_EW_P(0);                                                                 \
        OR_EW_UNARY_LOOP(T, T, x < 0 ? a * expm1(x) : x);                                          \
    }                                                                                              \
    OR_EW_KERNEL(selu_##S) {                                                                       \
        const T a = (T)OR_EW_P(0), gm = (T)OR_EW_P(1);                                             \
        OR_EW_UNARY_LOOP(T, T, x <= 0 ? gm * (a * exp(x) - a) : gm * x);                           \
    }                                                                                              \
    OR_EW_KERNEL(hsig_##S) {                                                                       \
        const T a = (T)OR_EW_P(0), b = (T)OR_EW_P(1);                                              \
        OR_EW_UNARY_LOOP(T, T, CLAMP01(a *x + b));                                                 \
    }                                                                                              \
    OR_EW_KERNEL(hswish_##S) {                                                                     \
        OR_EW_UNARY_LOOP(T, T, x *CLAMP01(x / 6 + (T)0.5));                                        \
    }                                                                                              \
    OR_EW_KERNEL(softplus_##S) {                                                                   \
        OR_EW_UNARY_LOOP(T, T, x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)));                        \
    }                                                                                              \
    OR_EW_KERNEL(softsign_##S) {                                                                   \
        OR_EW_UNARY_LOOP(T, T, x / (1 + fabs(x)));                                                 \
    }
OR_EW_FLOAT(ACT_KERNELS)

#define FLOATS(OP) [OR_FLOAT] = OP##_f32, [OR_DOUBLE] = OP##_f64

static const or_ew_table leaky_table = {FLOATS(leaky)};
static const or_ew_table elu_table = {FLOATS(elu)};
static const or_ew_table selu_table = {FLOATS(selu)};
static const or_ew_table hsig_table = {FLOATS(hsig)};
static const or_ew_table hswish_table = {FLOATS(hswish)};
static const or_ew_table softplus_table = {FLOATS(softplus)};
static const or_ew_table softsign_table = {FLOATS(softsign)};

int leakyrelu_prepare(or_graph *g, or_node *n) {
    const double p[4] = {or_attr_float(n, "alpha", 0.01f)};
    return or_ew_simple(g, n, 1, leaky_table, 0, p, OR_EW_GRAIN);
}

int elu_prepare(or_graph *g, or_node *n) {
    const double p[4] = {or_attr_float(n, "alpha", 1.0f)};
    return or_ew_simple(g, n, 1, elu_table, 0, p, OR_EW_GRAIN_MATH);
}

int selu_prepare(or_graph *g, or_node *n) {
    const double p[4] = {or_attr_float(n, "alpha", 1.67326319217681884765625f),
                         or_attr_float(n, "gamma", 1.05070102214813232421875f)};
    return or_ew_simple(g, n, 1, selu_table, 0, p, OR_EW_GRAIN_MATH);
}

int hardsigmoid_prepare(or_graph *g, or_node *n) {
    const double p[4] = {or_attr_float(n, "alpha", 0.2f), or_attr_float(n, "beta", 0.5f)};
    return or_ew_simple(g, n, 1, hsig_table, 0, p, OR_EW_GRAIN);
}

int hardswish_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 1, hswish_table, 0, NULL, OR_EW_GRAIN);
}

int softplus_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 1, softplus_table, 0, NULL, OR_EW_GRAIN_MATH);
}

int softsign_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 1, softsign_table, 0, NULL, OR_EW_GRAIN);
}
