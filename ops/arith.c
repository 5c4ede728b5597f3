/* Add, Sub, Mul, Div (opsets 6-23: numpy broadcasting since 7, before that the legacy
 * broadcast/axis attributes; the types grew to bfloat16 in 13 and to 8/16-bit integers in 14, all
 * accepted at any opset). float32/float64 and every integer width; float16/bfloat16 compute in
 * float32. Integer arithmetic wraps (done in unsigned types, so overflow is defined). Integer Div
 * truncates toward zero like onnxruntime; dividing by zero gives 0 and INT_MIN / -1 wraps to
 * INT_MIN instead of trapping. */
#include "elementwise.h"

#define WRAP(T, U, OP) ((T)((U)x OP(U) y))

#define SDIV(T, U) (y == 0 ? (T)0 : y == -1 ? (T)(0u - (U)x) : (T)(x / y))
#define UDIV(T, U) (y == 0 ? (T)0 : (T)(x / y))

#define ARITH_INT(DT, T, U, S)                                                                     \
    OR_EW_KERNEL(add_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, WRAP(T, U, +));                                                 \
    }                                                                                              \
    OR_EW_KERNEL(sub_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, WRAP(T, U, -));                                                 \
    }                                                                                              \
    OR_EW_KERNEL(mul_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, WRAP(T, U, *));                                                 \
    }
#define DIV_SINT(DT, T, U, S)                                                                      \
    OR_EW_KERNEL(div_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, SDIV(T, U));                                                    \
    }
#define DIV_UINT(DT, T, U, S)                                                                      \
    OR_EW_KERNEL(div_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, UDIV(T, U));                                                    \
    }
#define ARITH_FLOAT(DT, T, U, S)                                                                   \
    OR_EW_KERNEL(add_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, x + y);                                                         \
    }                                                                                              \
    OR_EW_KERNEL(sub_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, x - y);                                                         \
    }                                                                                              \
    OR_EW_KERNEL(mul_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, x *y);                                                          \
    }                                                                                              \
    OR_EW_KERNEL(div_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, x / y);                                                         \
    }

OR_EW_INT(ARITH_INT)
OR_EW_SINT(DIV_SINT)
OR_EW_UINT(DIV_UINT)
OR_EW_FLOAT(ARITH_FLOAT)

#define ENTRY_ADD(DT, T, U, S) [DT] = add_##S,
#define ENTRY_SUB(DT, T, U, S) [DT] = sub_##S,
#define ENTRY_MUL(DT, T, U, S) [DT] = mul_##S,
#define ENTRY_DIV(DT, T, U, S) [DT] = div_##S,

static const or_ew_table add_table = {OR_EW_NUMERIC(ENTRY_ADD)};
static const or_ew_table sub_table = {OR_EW_NUMERIC(ENTRY_SUB)};
static const or_ew_table mul_table = {OR_EW_NUMERIC(ENTRY_MUL)};
static const or_ew_table div_table = {OR_EW_NUMERIC(ENTRY_DIV)};

int add_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, add_table, 0, NULL, OR_EW_GRAIN);
}

int sub_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, sub_table, 0, NULL, OR_EW_GRAIN);
}

int mul_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, mul_table, 0, NULL, OR_EW_GRAIN);
}

int div_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, div_table, 0, NULL, OR_EW_GRAIN);
}
