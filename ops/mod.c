/* Mod (opsets 10-23; bfloat16 since 13): elementwise remainder with numpy
 * broadcasting, all integer and float types.
 *   fmod = 0 (default): integers only, the result takes the divisor's sign
 *     (Python's %).
 *   fmod = 1: C fmod, the result takes the dividend's sign; required for
 *     floats, as the spec says (onnxruntime rejects fmod = 0 there too).
 * An integer remainder by zero gives 0 rather than trapping. */
#include "elementwise.h"

#include <tgmath.h>

/* x % y without the traps (y == 0, INT_MIN % -1). */
#define SREM(T) (y == 0 || y == -1 ? (T)0 : (T)(x % y))

#define MOD_SINT(DT, T, U, S)                                                                      \
    static inline T pymod_##S(T x, T y) {                                                          \
        T r = SREM(T);                                                                             \
        return (T)(r != 0 && ((r < 0) != (y < 0)) ? r + y : r);                                    \
    }                                                                                              \
    OR_EW_KERNEL(fmod_##S) {                                                                       \
        OR_EW_BINARY_LOOP(T, T, T, SREM(T));                                                       \
    }                                                                                              \
    OR_EW_KERNEL(mod_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, pymod_##S(x, y));                                               \
    }
#define MOD_UINT(DT, T, U, S)                                                                      \
    OR_EW_KERNEL(fmod_##S) {                                                                       \
        OR_EW_BINARY_LOOP(T, T, T, y == 0 ? 0 : x % y);                                            \
    }                                                                                              \
    OR_EW_KERNEL(mod_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, y == 0 ? 0 : x % y);                                            \
    }
#define MOD_FLOAT(DT, T, U, S)                                                                     \
    OR_EW_KERNEL(fmod_##S) {                                                                       \
        OR_EW_BINARY_LOOP(T, T, T, fmod(x, y));                                                    \
    }
OR_EW_SINT(MOD_SINT)
OR_EW_UINT(MOD_UINT)
OR_EW_FLOAT(MOD_FLOAT)

#define ENTRY_FMOD(DT, T, U, S) [DT] = fmod_##S,
#define ENTRY_MOD(DT, T, U, S) [DT] = mod_##S,
static const or_ew_table fmod_table = {OR_EW_NUMERIC(ENTRY_FMOD)};
static const or_ew_table mod_table = {OR_EW_INT(ENTRY_MOD)};

int mod_prepare(or_graph *g, or_node *n) {
    int64_t fmod_attr = or_attr_int(n, "fmod", 0);
    if (fmod_attr != 0 && fmod_attr != 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "fmod must be 0 or 1, got %lld",
                            (long long)fmod_attr);
    const or_tensor *a = or_input(g, n, 0);
    if (fmod_attr == 0 && a &&
        (a->dtype == OR_FLOAT || a->dtype == OR_DOUBLE || a->dtype == OR_FLOAT16 ||
         a->dtype == OR_BFLOAT16))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "fmod must be 1 for floating-point inputs (%s)",
                            or_dtype_name(a->dtype));
    return or_ew_simple(g, n, 2, fmod_attr ? fmod_table : mod_table, 0, NULL, OR_EW_GRAIN);
}
