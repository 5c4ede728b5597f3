/* One-input math ops, y = f(x) elementwise, opsets as listed (all run to 23;
 * later versions only added bfloat16, which computes through float32 like
 * float16):
 *   Neg (6): floats, signed ints (wrapping: -INT_MIN = INT_MIN)
 *   Abs (6), Sign (9): floats, all ints
 *   Relu (6; ints since 14): floats, signed ints
 *   Sqrt Exp Log Reciprocal Floor Ceil Tanh Sigmoid (6), Sin Cos (7),
 *   Erf (9), Round (11, half to even): floats (Erf's integer types are not
 *   supported).
 * NaN propagates through all of them (Relu and Sign keep NaN). */
#include "elementwise.h"

#include <tgmath.h>

/* ---- float-only ops: tgmath picks the float or double function ---- */
#define MATH_FLOAT(DT, T, U, S)                                                                    \
    OR_EW_KERNEL(sqrt_##S) {                                                                       \
        OR_EW_UNARY_LOOP(T, T, sqrt(x));                                                           \
    }                                                                                              \
    OR_EW_KERNEL(exp_##S) {                                                                        \
        OR_EW_UNARY_LOOP(T, T, exp(x));                                                            \
    }                                                                                              \
    OR_EW_KERNEL(log_##S) {                                                                        \
        OR_EW_UNARY_LOOP(T, T, log(x));                                                            \
    }                                                                                              \
    OR_EW_KERNEL(recip_##S) {                                                                      \
        OR_EW_UNARY_LOOP(T, T, (T)1 / x);                                                          \
    }                                                                                              \
    OR_EW_KERNEL(floor_##S) {                                                                      \
        OR_EW_UNARY_LOOP(T, T, floor(x));                                                          \
    }                                                                                              \
    OR_EW_KERNEL(ceil_##S) {                                                                       \
        OR_EW_UNARY_LOOP(T, T, ceil(x));                                                           \
    }                                                                                              \
    OR_EW_KERNEL(round_##S) {                                                                      \
        OR_EW_UNARY_LOOP(T, T, nearbyint(x));                                                      \
    }                                                                                              \
    OR_EW_KERNEL(sin_##S) {                                                                        \
        OR_EW_UNARY_LOOP(T, T, sin(x));                                                            \
    }                                                                                              \
    OR_EW_KERNEL(cos_##S) {                                                                        \
        OR_EW_UNARY_LOOP(T, T, cos(x));                                                            \
    }                                                                                              \
    OR_EW_KERNEL(erf_##S) {                                                                        \
        OR_EW_UNARY_LOOP(T, T, erf(x));                                                            \
    }                                                                                              \
    OR_EW_KERNEL(tanh_##S) {                                                                       \
        OR_EW_UNARY_LOOP(T, T, tanh(x));                                                           \
    }                                                                                              \
    OR_EW_KERNEL(sigmoid_##S) {                                                                    \
        OR_EW_UNARY_LOOP(T, T, (T)1 / ((T)1 + exp(-x)));                                           \
    }                                                                                              \
    OR_EW_KERNEL(neg_##S) {                                                                        \
        OR_EW_UNARY_LOOP(T, T, -x);                                                                \
    }                                                                                              \
    OR_EW_KERNEL(abs_##S) {                                                                        \
        OR_EW_UNARY_LOOP(T, T, fabs(x));                                                           \
    }                                                                                              \
    OR_EW_KERNEL(sign_##S) {                                                                       \
        OR_EW_UNARY_LOOP(T, T, x > 0 ? (T)1 : x < 0 ? (T)-1 : x);                                  \
    }                                                                                              \
    OR_EW_KERNEL(relu_##S) {                                                                       \
        OR_EW_UNARY_LOOP(T, T, x < 0 ? (T)0 : x);                                                  \
    }
OR_EW_FLOAT(MATH_FLOAT)

/* ---- integer ops ---- */
#define MATH_SINT(DT, T, U, S)                                                                     \
    OR_EW_KERNEL(neg_##S) {                                                                        \
        OR_EW_UNARY_LOOP(T, T, 0u - (U)x);                                                         \
    }                                                                                              \
    OR_EW_KERNEL(abs_##S) {                                                                        \
        OR_EW_UNARY_LOOP(T, T, x < 0 ? 0u - (U)x : (U)x);                                          \
    }                                                                                              \
    OR_EW_KERNEL(sign_##S) {                                                                       \
        OR_EW_UNARY_LOOP(T, T, (x > 0) - (x < 0));                                                 \
    }                                                                                              \
    OR_EW_KERNEL(relu_##S) {                                                                       \
        OR_EW_UNARY_LOOP(T, T, x < 0 ? 0 : x);                                                     \
    }
#define MATH_UINT(DT, T, U, S)                                                                     \
    OR_EW_KERNEL(abs_##S) {                                                                        \
        OR_EW_UNARY_LOOP(T, T, x);                                                                 \
    }                                                                                              \
    OR_EW_KERNEL(sign_##S) {                                                                       \
        OR_EW_UNARY_LOOP(T, T, x > 0);                                                             \
    }
OR_EW_SINT(MATH_SINT)
OR_EW_UINT(MATH_UINT)

#define E(OP, DT, S) [DT] = OP##_##S,
#define FLOATS(OP) E(OP, OR_FLOAT, f32) E(OP, OR_DOUBLE, f64)
#define SINTS(OP) E(OP, OR_INT8, i8) E(OP, OR_INT16, i16) E(OP, OR_INT32, i32) E(OP, OR_INT64, i64)
#define UINTS(OP)                                                                                  \
    E(OP, OR_UINT8, u8) E(OP, OR_UINT16, u16) E(OP, OR_UINT32, u32) E(OP, OR_UINT64, u64)

static const or_ew_table sqrt_table = {FLOATS(sqrt)};
static const or_ew_table exp_table = {FLOATS(exp)};
static const or_ew_table log_table = {FLOATS(log)};
static const or_ew_table recip_table = {FLOATS(recip)};
static const or_ew_table floor_table = {FLOATS(floor)};
static const or_ew_table ceil_table = {FLOATS(ceil)};
static const or_ew_table round_table = {FLOATS(round)};
static const or_ew_table sin_table = {FLOATS(sin)};
static const or_ew_table cos_table = {FLOATS(cos)};
static const or_ew_table erf_table = {FLOATS(erf)};
static const or_ew_table tanh_table = {FLOATS(tanh)};
static const or_ew_table sigmoid_table = {FLOATS(sigmoid)};
static const or_ew_table neg_table = {FLOATS(neg) SINTS(neg)};
static const or_ew_table abs_table = {FLOATS(abs) SINTS(abs) UINTS(abs)};
static const or_ew_table sign_table = {FLOATS(sign) SINTS(sign) UINTS(sign)};
static const or_ew_table relu_table = {FLOATS(relu) SINTS(relu)};

#define UNARY_PREPARE(name, table, grain)                                                          \
    int name##_prepare(or_graph *g, or_node *n) {                                                  \
        return or_ew_simple(g, n, 1, table, 0, NULL, grain);                                       \
    }

UNARY_PREPARE(sqrt, sqrt_table, OR_EW_GRAIN_MATH)
UNARY_PREPARE(exp, exp_table, OR_EW_GRAIN_MATH)
UNARY_PREPARE(log, log_table, OR_EW_GRAIN_MATH)
UNARY_PREPARE(reciprocal, recip_table, OR_EW_GRAIN)
UNARY_PREPARE(floor, floor_table, OR_EW_GRAIN)
UNARY_PREPARE(ceil, ceil_table, OR_EW_GRAIN)
UNARY_PREPARE(round, round_table, OR_EW_GRAIN)
UNARY_PREPARE(sin, sin_table, OR_EW_GRAIN_MATH)
UNARY_PREPARE(cos, cos_table, OR_EW_GRAIN_MATH)
UNARY_PREPARE(erf, erf_table, OR_EW_GRAIN_MATH)
UNARY_PREPARE(tanh, tanh_table, OR_EW_GRAIN_MATH)
UNARY_PREPARE(sigmoid, sigmoid_table, OR_EW_GRAIN_MATH)
UNARY_PREPARE(neg, neg_table, OR_EW_GRAIN)
UNARY_PREPARE(abs, abs_table, OR_EW_GRAIN)
UNARY_PREPARE(sign, sign_table, OR_EW_GRAIN)
UNARY_PREPARE(relu, relu_table, OR_EW_GRAIN)
