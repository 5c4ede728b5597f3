/* Pow (opsets 6-23): Z = X ^ Y with numpy broadcasting (opset 6: the legacy broadcast/axis
 * attributes), Z of X's type. Before opset 12, X and Y share one float type; from 12 on, X is
 * float16, bfloat16, float32, float64, int32 or int64 and Y any numeric type.
 *   float X: pow() of the two values (a float32 base with a different exponent type goes
 *     through double, then rounds once).
 *   integer X, integer Y: exact power by squaring, wrapping on overflow; negative exponents
 *     give 1/x^-y truncated (so 0 unless |x| == 1, and 0 for x == 0 instead of a division
 *     by zero).
 *   integer X, float Y: pow() in double, converted like Cast.
 * A constant scalar exponent of 1, 2 or 3 on a float base becomes a copy or one or two
 * multiplications (PyTorch exports x.pow(2) a lot). */
#include "elementwise.h"

#include "convert.h"

#include <tgmath.h>

#define BLOCK 256

/* The exponent's dtype as the kernel sees it (float16 arrives as float32). */
static int exp_dtype(const or_ew_kern *k) {
    return k->via_f32 && or_dtype_via_f32(k->in_dtype[1]) ? OR_FLOAT : k->in_dtype[1];
}

static bool is_int_dtype(int dt) {
    return dt != OR_FLOAT && dt != OR_DOUBLE && !or_dtype_via_f32(dt);
}

static int64_t ipow(int64_t x, int64_t e) {
    if (e < 0) return x == 1 ? 1 : x == -1 ? ((e & 1) ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)x;
    for (; e; e >>= 1) {
        if (e & 1) r *= b;
        b *= b;
    }
    return (int64_t)r;
}

/* Loops over blocks with the exponent converted to double (or int64). */
#define MIXED_LOOP(T, ETYPE, EDT, EXPR)                                                            \
    do {                                                                                           \
        ETYPE e_[BLOCK];                                                                           \
        const int sx = step[0], se = step[1];                                                      \
        const size_t es = or_dtype_size(edt);                                                      \
        for (int64_t off = 0; off < n; off += BLOCK) {                                             \
            int64_t m = n - off < BLOCK ? n - off : BLOCK;                                         \
            const char *ep = (const char *)in[1] + (se ? (size_t)off * es : 0);                    \
            or_cast_block(edt, ep, EDT, e_, se ? m : 1, false);                                    \
            for (int64_t i = 0; i < m; i++) {                                                      \
                const ETYPE y = e_[i * se];                                                        \
                const T x = xs[(off + i) * sx];                                                    \
                ys[off + i] = (EXPR);                                                              \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#define POW_FLOAT(DT, T, U, S)                                                                     \
    OR_EW_KERNEL(pow_same_##S) {                                                                   \
        OR_EW_BINARY_LOOP(T, T, T, pow(x, y));                                                     \
    }                                                                                              \
    OR_EW_KERNEL(pow_mixed_##S) {                                                                  \
        const T *xs = in[0];                                                                       \
        T *ys = out;                                                                               \
        const int edt = exp_dtype(ctx);                                                            \
        MIXED_LOOP(T, double, OR_DOUBLE, (T)pow((double)x, y));                                    \
    }                                                                                              \
    OR_EW_KERNEL(pow_sq_##S) {                                                                     \
        OR_EW_UNARY_LOOP(T, T, x *x);                                                              \
    }                                                                                              \
    OR_EW_KERNEL(pow_cube_##S) {                                                                   \
        OR_EW_UNARY_LOOP(T, T, x *x *x);                                                           \
    }
OR_EW_FLOAT(POW_FLOAT)

#define POW_INT(DT, T, FROM_F64, S)                                                                \
    OR_EW_KERNEL(pow_##S) {                                                                        \
        const T *xs = in[0];                                                                       \
        T *ys = out;                                                                               \
        const int edt = exp_dtype(ctx);                                                            \
        if (is_int_dtype(edt))                                                                     \
            MIXED_LOOP(T, int64_t, OR_INT64, (T)ipow(x, y));                                       \
        else                                                                                       \
            MIXED_LOOP(T, double, OR_DOUBLE, FROM_F64(pow((double)x, y)));                         \
    }
POW_INT(OR_INT32, int32_t, or_f64_to_i32, i32)
POW_INT(OR_INT64, int64_t, or_f64_to_i64, i64)

static const or_ew_table same_table = {[OR_FLOAT] = pow_same_f32, [OR_DOUBLE] = pow_same_f64};
static const or_ew_table mixed_table = {[OR_FLOAT] = pow_mixed_f32,
                                        [OR_DOUBLE] = pow_mixed_f64,
                                        [OR_INT32] = pow_i32,
                                        [OR_INT64] = pow_i64};
static const or_ew_table sq_table = {[OR_FLOAT] = pow_sq_f32, [OR_DOUBLE] = pow_sq_f64};
static const or_ew_table cube_table = {[OR_FLOAT] = pow_cube_f32, [OR_DOUBLE] = pow_cube_f64};

/* The exponent when it is a constant scalar of a common type, else NaN. */
static double const_exponent(or_graph *g, or_node *n) {
    const or_tensor *y = or_input(g, n, 1);
    bool common = y->dtype == OR_FLOAT || y->dtype == OR_DOUBLE || y->dtype == OR_INT32 ||
                  y->dtype == OR_INT64;
    if (!y->is_static || !common || or_tensor_numel(y) != 1) return NAN;
    if (!or_input_value(g, n, 1)) return NAN;
    return or_read_double(y, 0);
}

/* A unary kernel on X alone when the exponent is 1, 2 or 3 and does not
 * change the output shape. */
static int prepare_const(or_graph *g, or_node *n, int dtype, double e, bool *done) {
    const or_tensor *x = or_input(g, n, 0), *y = or_input(g, n, 1);
    *done = false;
    if (!(e == 1 || e == 2 || e == 3) || y->rank > x->rank) return ONNXRUN_OK;
    or_ew_kern k = {.n_in = 1, .out_dtype = dtype, .grain = OR_EW_GRAIN};
    if (e == 1) {
        k.fn = or_ew_copy;
    } else if (!or_ew_pick(&k, e == 2 ? sq_table : cube_table, dtype)) {
        return ONNXRUN_OK;
    }
    *done = true;
    return or_ew_prepare(g, n, &k, NULL);
}

int pow_prepare(or_graph *g, or_node *n) {
    int status = or_ew_check_arity(g, n, 2, 2);
    if (status != ONNXRUN_OK) return status;
    int xt = or_input(g, n, 0)->dtype, yt = or_input(g, n, 1)->dtype;
    if (!or_cast_supported(yt) || yt == OR_BOOL)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported exponent type %s",
                            or_dtype_name(yt));
    if (n->opset < 12 && xt != yt)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "base (%s) and exponent (%s) types differ before opset 12",
                            or_dtype_name(xt), or_dtype_name(yt));
    bool done;
    status = prepare_const(g, n, xt, const_exponent(g, n), &done);
    if (done || status != ONNXRUN_OK) return status;
    or_ew_kern k = {.n_in = 2, .out_dtype = xt, .grain = OR_EW_GRAIN_MATH};
    bool same = xt == yt || (or_dtype_via_f32(xt) && or_dtype_via_f32(yt));
    bool ok = same ? or_ew_pick(&k, same_table, xt) : false;
    if (!ok && !or_ew_pick(&k, mixed_table, xt)) return or_ew_bad_dtype(g, n, xt);
    return or_ew_prepare(g, n, &k, NULL);
}
