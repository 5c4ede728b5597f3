/* And, Or, Xor (opsets 6-23, numpy broadcasting; opset 6: the legacy broadcast/axis attributes)
 * and Not (1-23) over bool tensors (one byte each; any nonzero byte counts as true, outputs are
 * 0/1). */
#include "elementwise.h"

#define TRUTH(v) ((v) != 0)

OR_EW_KERNEL(and_bool) {
    OR_EW_BINARY_LOOP(uint8_t, uint8_t, uint8_t, TRUTH(x) & TRUTH(y));
}
OR_EW_KERNEL(or_bool) {
    OR_EW_BINARY_LOOP(uint8_t, uint8_t, uint8_t, TRUTH(x) | TRUTH(y));
}
OR_EW_KERNEL(xor_bool) {
    OR_EW_BINARY_LOOP(uint8_t, uint8_t, uint8_t, TRUTH(x) ^ TRUTH(y));
}
OR_EW_KERNEL(not_bool) {
    OR_EW_UNARY_LOOP(uint8_t, uint8_t, !TRUTH(x));
}

static const or_ew_table and_table = {[OR_BOOL] = and_bool};
static const or_ew_table or_table = {[OR_BOOL] = or_bool};
static const or_ew_table xor_table = {[OR_BOOL] = xor_bool};
static const or_ew_table not_table = {[OR_BOOL] = not_bool};

int logical_and_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, and_table, OR_BOOL, NULL, OR_EW_GRAIN);
}

int logical_or_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, or_table, OR_BOOL, NULL, OR_EW_GRAIN);
}

int logical_xor_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 2, xor_table, OR_BOOL, NULL, OR_EW_GRAIN);
}

int logical_not_prepare(or_graph *g, or_node *n) {
    return or_ew_simple(g, n, 1, not_table, OR_BOOL, NULL, OR_EW_GRAIN);
}
