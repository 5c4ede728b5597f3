/* Clip: y = min(max(x, lo), hi), applied in that order, so lo > hi gives hi
 * (as numpy.clip); NaN passes through.
 *   opsets 6-10: bounds are the float attributes min/max (default
 *     -FLT_MAX/FLT_MAX); float types.
 *   opsets 11-23: bounds are the optional scalar inputs min (1) and max (2),
 *     read at run time, absent when missing or named ""; from 12 every
 *     numeric type (bfloat16 from 13; float16/bfloat16 compute in float32). */
#include "elementwise.h"

#include "convert.h"

#include <float.h>
#include <math.h>

#define CLIP_LOOP(T, LO, HI)                                                                       \
    do {                                                                                           \
        const or_ew_kern *k_ = ctx;                                                                \
        const T lo = k_->aux[0] ? *(const T *)k_->aux[0] : (LO);                                   \
        const T hi = k_->aux[1] ? *(const T *)k_->aux[1] : (HI);                                   \
        OR_EW_UNARY_LOOP(T, T, x<lo ? (lo > hi ? hi : lo) : x> hi ? hi : x);                       \
    } while (0)

#define CLIP_FLOAT(DT, T, U, S)                                                                    \
    OR_EW_KERNEL(clip_##S) {                                                                       \
        CLIP_LOOP(T, (T)OR_EW_P(0), (T)OR_EW_P(1));                                                \
    }
OR_EW_FLOAT(CLIP_FLOAT)

#define CLIP_INT(T, S, MIN, MAX)                                                                   \
    OR_EW_KERNEL(clip_##S) {                                                                       \
        CLIP_LOOP(T, MIN, MAX);                                                                    \
    }
CLIP_INT(int8_t, i8, INT8_MIN, INT8_MAX)
CLIP_INT(int16_t, i16, INT16_MIN, INT16_MAX)
CLIP_INT(int32_t, i32, INT32_MIN, INT32_MAX)
CLIP_INT(int64_t, i64, INT64_MIN, INT64_MAX)
CLIP_INT(uint8_t, u8, 0, UINT8_MAX)
CLIP_INT(uint16_t, u16, 0, UINT16_MAX)
CLIP_INT(uint32_t, u32, 0, UINT32_MAX)
CLIP_INT(uint64_t, u64, 0, UINT64_MAX)

#define ENTRY(DT, T, U, S) [DT] = clip_##S,
static const or_ew_table clip_table = {OR_EW_NUMERIC(ENTRY)};

static int clip_run(or_graph *g, or_node *n) {
    const or_ew_state *s = n->state;
    or_ew_kern k = s->k;
    float f[2];
    for (int i = 0; i < 2; i++) {
        const or_tensor *t = n->opset >= 11 ? or_input(g, n, i + 1) : NULL;
        k.aux[i] = t ? t->data : NULL;
        if (t && k.via_f32) {
            or_load_f32(t->dtype, t->data, &f[i], 1);
            k.aux[i] = &f[i];
        }
    }
    const void *in[1] = {or_input(g, n, 0)->data};
    or_ew_exec(&k, &s->b, g->pool, or_output(g, n, 0)->data, in);
    return ONNXRUN_OK;
}

static int check_bounds(or_graph *g, or_node *n, int dtype) {
    static const char *const names[2] = {"min", "max"};
    for (int i = 1; i <= 2; i++) {
        const or_tensor *t = or_input(g, n, i);
        if (!t) continue;
        if (t->dtype != dtype)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "%s is %s but the input is %s",
                                names[i - 1], or_dtype_name(t->dtype), or_dtype_name(dtype));
        if (or_tensor_numel(t) != 1)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "%s must be a scalar", names[i - 1]);
    }
    return ONNXRUN_OK;
}

int clip_prepare(or_graph *g, or_node *n) {
    bool inputs = n->opset >= 11;
    int status = or_ew_check_arity(g, n, 1, inputs ? 3 : 1);
    if (status != ONNXRUN_OK) return status;
    int dtype = or_input(g, n, 0)->dtype;
    bool is_float = dtype == OR_FLOAT || dtype == OR_DOUBLE || or_dtype_via_f32(dtype);
    if (!inputs && !is_float) return or_ew_bad_dtype(g, n, dtype);
    if (inputs && (status = check_bounds(g, n, dtype)) != ONNXRUN_OK) return status;
    or_ew_kern k = {
        .n_in = 1, .out_dtype = dtype, .grain = OR_EW_GRAIN, .p = {-INFINITY, INFINITY}};
    if (!inputs) {
        k.p[0] = or_attr_float(n, "min", -FLT_MAX);
        k.p[1] = or_attr_float(n, "max", FLT_MAX);
    }
    if (!or_ew_pick(&k, clip_table, dtype)) return or_ew_bad_dtype(g, n, dtype);
    return or_ew_prepare(g, n, &k, clip_run);
}
