/* Equal, Less, Greater (opsets 6-23) and LessOrEqual, GreaterOrEqual (12-23): numpy broadcasting
 * (opset 6: the legacy broadcast/axis attributes), bool output (one byte, 0 or 1). Every numeric
 * type is accepted at every opset (Equal also takes bool; Less/Greater gained integers in 9, Equal
 * floats in 11, bfloat16 came in 13/16); float16 and bfloat16 compare as float32, which is exact.
 * Comparisons with NaN are false, except that NaN is not equal to anything. Strings are not
 * supported. */
#include "elementwise.h"

#define CMP_KERNELS(DT, T, U, S)                                                                   \
    OR_EW_KERNEL(eq_##S) {                                                                         \
        OR_EW_BINARY_LOOP(T, T, uint8_t, x == y);                                                  \
    }                                                                                              \
    OR_EW_KERNEL(lt_##S) {                                                                         \
        OR_EW_BINARY_LOOP(T, T, uint8_t, x < y);                                                   \
    }                                                                                              \
    OR_EW_KERNEL(gt_##S) {                                                                         \
        OR_EW_BINARY_LOOP(T, T, uint8_t, x > y);                                                   \
    }                                                                                              \
    OR_EW_KERNEL(le_##S) {                                                                         \
        OR_EW_BINARY_LOOP(T, T, uint8_t, x <= y);                                                  \
    }                                                                                              \
    OR_EW_KERNEL(ge_##S) {                                                                         \
        OR_EW_BINARY_LOOP(T, T, uint8_t, x >= y);                                                  \
    }

OR_EW_NUMERIC(CMP_KERNELS)

/* Bool bytes other than 0/1 still compare by truth value. */
OR_EW_KERNEL(eq_bool) {
    OR_EW_BINARY_LOOP(uint8_t, uint8_t, uint8_t, (x != 0) == (y != 0));
}

#define ENTRY_EQ(DT, T, U, S) [DT] = eq_##S,
#define ENTRY_LT(DT, T, U, S) [DT] = lt_##S,
#define ENTRY_GT(DT, T, U, S) [DT] = gt_##S,
#define ENTRY_LE(DT, T, U, S) [DT] = le_##S,
#define ENTRY_GE(DT, T, U, S) [DT] = ge_##S,

static const or_ew_table eq_table = {OR_EW_NUMERIC(ENTRY_EQ)[OR_BOOL] = eq_bool};
static const or_ew_table lt_table = {OR_EW_NUMERIC(ENTRY_LT)};
static const or_ew_table gt_table = {OR_EW_NUMERIC(ENTRY_GT)};
static const or_ew_table le_table = {OR_EW_NUMERIC(ENTRY_LE)};
static const or_ew_table ge_table = {OR_EW_NUMERIC(ENTRY_GE)};

int equal_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, eq_table, OR_BOOL, NULL, OR_EW_GRAIN);
}

int less_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, lt_table, OR_BOOL, NULL, OR_EW_GRAIN);
}

int greater_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, gt_table, OR_BOOL, NULL, OR_EW_GRAIN);
}

int lessorequal_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, le_table, OR_BOOL, NULL, OR_EW_GRAIN);
}

int greaterorequal_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, ge_table, OR_BOOL, NULL, OR_EW_GRAIN);
}
