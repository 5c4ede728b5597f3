/* Range (opsets 11-23): [start, start+delta, ...) up to limit, with
 * max(ceil((limit-start)/delta), 0) elements. The three scalar inputs share
 * a dtype (float, double, float16, bfloat16, int16, int32, int64) and must be
 * known while planning, since they fix the output size. float16 and bfloat16
 * compute start + i * delta in double and round each element once. */
#include "convert.h"
#include "shape_common.h"

#include <math.h>
#include <string.h>

static double scalar_double(int dtype, const void *p) {
    switch (dtype) {
    case OR_FLOAT: {
        float v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case OR_DOUBLE: {
        double v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case OR_FLOAT16:
    case OR_BFLOAT16: {
        uint16_t v;
        memcpy(&v, p, sizeof v);
        return dtype == OR_FLOAT16 ? or_f16_to_f32(v) : or_bf16_to_f32(v);
    }
    default:
        return 0;
    }
}

static int64_t scalar_int(int dtype, const void *p) {
    switch (dtype) {
    case OR_INT16: {
        int16_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case OR_INT32: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    default: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    }
}

static bool is_float(int dtype) {
    return dtype == OR_FLOAT || dtype == OR_DOUBLE || dtype == OR_FLOAT16 || dtype == OR_BFLOAT16;
}

/* Exact element count for integer ranges; unsigned arithmetic avoids overflow. */
static int64_t int_count(int64_t start, int64_t limit, int64_t delta) {
    if ((delta > 0 && limit <= start) || (delta < 0 && limit >= start)) return 0;
    uint64_t span =
        delta > 0 ? (uint64_t)limit - (uint64_t)start : (uint64_t)start - (uint64_t)limit;
    uint64_t step = delta > 0 ? (uint64_t)delta : (uint64_t)0 - (uint64_t)delta;
    uint64_t count = span / step + (span % step != 0);
    return count > INT64_MAX ? -1 : (int64_t)count;
}

static int range_run(or_graph *g, or_node *n) {
    const or_tensor *st = or_input(g, n, 0), *dt = or_input(g, n, 2);
    or_tensor *y = or_output(g, n, 0);
    int64_t count = or_tensor_numel(y);
    unsigned char *out = y->data;
    size_t es = or_dtype_size(y->dtype);
    for (int64_t i = 0; i < count; i++) {
        if (is_float(y->dtype)) {
            double v =
                scalar_double(y->dtype, st->data) + (double)i * scalar_double(y->dtype, dt->data);
            if (y->dtype == OR_FLOAT) {
                float f = (float)v;
                memcpy(out + (size_t)i * es, &f, es);
            } else if (es == 2) {
                uint16_t h =
                    y->dtype == OR_FLOAT16 ? or_f32_to_f16((float)v) : or_f32_to_bf16((float)v);
                memcpy(out + (size_t)i * es, &h, es);
            } else {
                memcpy(out + (size_t)i * es, &v, es);
            }
            continue;
        }
        uint64_t u = (uint64_t)scalar_int(y->dtype, st->data) +
                     (uint64_t)i * (uint64_t)scalar_int(y->dtype, dt->data);
        int64_t v = (int64_t)u;
        int32_t v32 = (int32_t)v;
        int16_t v16 = (int16_t)v;
        memcpy(out + (size_t)i * es,
               es == 8   ? (void *)&v
               : es == 4 ? (void *)&v32
                         : (void *)&v16,
               es);
    }
    return 0;
}

static int count_elements(or_graph *g, or_node *n, int dtype, const void *const *vals,
                          int64_t *count) {
    if (is_float(dtype)) {
        double s = scalar_double(dtype, vals[0]), l = scalar_double(dtype, vals[1]);
        double d = scalar_double(dtype, vals[2]);
        double c = ceil((l - s) / d);
        if (d == 0 || !(c < 9.2e18))
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "invalid range (%g, %g, %g)", s, l, d);
        *count = c > 0 ? (int64_t)c : 0;
        return 0;
    }
    int64_t s = scalar_int(dtype, vals[0]), l = scalar_int(dtype, vals[1]);
    int64_t d = scalar_int(dtype, vals[2]);
    *count = d ? int_count(s, l, d) : -1;
    if (*count < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "invalid range (%lld, %lld, %lld)",
                            (long long)s, (long long)l, (long long)d);
    return 0;
}

int range_prepare(or_graph *g, or_node *n) {
    static const char *const names[3] = {"start", "limit", "delta"};
    const void *vals[3];
    if (n->n_outputs < 1) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 output");
    int dtype = or_input(g, n, 0) ? or_input(g, n, 0)->dtype : OR_UNDEFINED;
    if (!is_float(dtype) && dtype != OR_INT16 && dtype != OR_INT32 && dtype != OR_INT64)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "dtype %s is not supported",
                            or_dtype_name(dtype));
    for (int i = 0; i < 3; i++) {
        const or_tensor *t = or_input(g, n, i);
        if (!t || t->dtype != dtype || or_tensor_numel(t) != 1)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input '%s' must be a %s scalar", names[i],
                                or_dtype_name(dtype));
        vals[i] = or_input_value(g, n, i);
        if (!vals[i])
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                                "input '%s' (tensor '%s') must be known while planning", names[i],
                                t->name);
    }
    int64_t count;
    int rc = count_elements(g, n, dtype, vals, &count);
    if (rc) return rc;
    if ((rc = shp_check_size(g, n, 1, &count, or_dtype_size(dtype)))) return rc;
    n->run = range_run;
    return or_set_output(g, n, 0, dtype, 1, &count);
}
