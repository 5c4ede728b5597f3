/* Shared window geometry for AveragePool and MaxPool (see pool_common.h).
 *
 * Output size per spatial axis, with dk = (k - 1) * dilation + 1:
 *   NOTSET: floor((in + pads - dk) / s) + 1, or with ceil_mode the ceiling,
 *           minus one when that last window would start in the right padding.
 *   VALID: floor((in - dk) / s) + 1, no padding.
 *   SAME_UPPER/SAME_LOWER: ceil(in / s); the padding total
 *           (out - 1) * s + dk - in, clamped at 0 (a kernel shorter than the
 *           stride gives no negative padding), is split with the odd element
 *           at the end (UPPER) or at the start (LOWER).
 * ceil_mode does not change the auto_pad shapes (the spec's two formulas
 * agree there). */
#include "pool_common.h"

#include <string.h>

/* Bound on attribute values and spatial dims, so that every product and sum
 * of two of them fits in int64. */
#define POOL_LIMIT INT32_MAX

typedef enum { PAD_NOTSET, PAD_VALID, PAD_SAME_UPPER, PAD_SAME_LOWER } pad_mode;

static int read_list(or_graph *g, or_node *n, const char *name, size_t want, int64_t *dst,
                     int64_t dflt, int64_t min) {
    size_t cnt = 0;
    const int64_t *v = or_attr_ints(n, name, &cnt);
    for (size_t i = 0; i < want; i++) dst[i] = dflt;
    if (!v) return 0;
    if (cnt != want)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "%s has %zu values, expected %zu", name, cnt,
                            want);
    for (size_t i = 0; i < want; i++) {
        if (v[i] < min || v[i] > POOL_LIMIT)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "%s[%zu] = %lld is out of range", name, i,
                                (long long)v[i]);
        dst[i] = v[i];
    }
    return 0;
}

static int read_pad_mode(or_graph *g, or_node *n, pad_mode *mode) {
    const char *ap = or_attr_string(n, "auto_pad", "NOTSET");
    if (!ap[0] || !strcmp(ap, "NOTSET"))
        *mode = PAD_NOTSET;
    else if (!strcmp(ap, "VALID"))
        *mode = PAD_VALID;
    else if (!strcmp(ap, "SAME_UPPER"))
        *mode = PAD_SAME_UPPER;
    else if (!strcmp(ap, "SAME_LOWER"))
        *mode = PAD_SAME_LOWER;
    else
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported auto_pad '%s'", ap);
    return 0;
}

static int check_x(or_graph *g, or_node *n, const or_tensor *x) {
    if (!x) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input X is missing");
    if (x->rank < 3 || x->rank > OR_MAX_RANK || or_tensor_numel(x) < 0)
        return or_node_fail(
            g, n, ONNXRUN_ERR_INPUT,
            "X must have a known shape of rank >= 3 (N, C, spatial...), got rank %d", x->rank);
    for (int d = 2; d < x->rank; d++)
        if (x->dims[d] > POOL_LIMIT)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "spatial dim %d of X is too large", d);
    return 0;
}

/* Output size and leading/trailing padding of axis d. */
static int plan_axis(or_graph *g, or_node *n, pool_geom *p, int d, pad_mode mode, bool ceil_mode) {
    int64_t in = p->in[d], s = p->stride[d], dk = (p->k[d] - 1) * p->dil[d] + 1;
    if (mode == PAD_SAME_UPPER || mode == PAD_SAME_LOWER) {
        p->out[d] = (in + s - 1) / s;
        int64_t total = (p->out[d] - 1) * s + dk - in;
        if (total < 0) total = 0;
        p->pad_begin[d] = mode == PAD_SAME_UPPER ? total / 2 : total - total / 2;
        p->pad_end[d] = total - p->pad_begin[d];
        return 0;
    }
    if (mode == PAD_VALID) p->pad_begin[d] = p->pad_end[d] = 0;
    int64_t span = in + p->pad_begin[d] + p->pad_end[d] - dk;
    if (span < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                            "window (%lld with dilation) is larger than the padded input (%lld) on "
                            "spatial axis %d",
                            (long long)dk, (long long)(in + p->pad_begin[d] + p->pad_end[d]), d);
    if (ceil_mode && mode == PAD_NOTSET) {
        p->out[d] = (span + s - 1) / s + 1;
        /* The last window must start inside the input or the left padding. */
        if ((p->out[d] - 1) * s >= in + p->pad_begin[d]) p->out[d]--;
    } else {
        p->out[d] = span / s + 1;
    }
    return 0;
}

static int read_window_attrs(or_graph *g, or_node *n, pool_geom *p) {
    size_t nd = (size_t)p->nd, cnt = 0;
    if (!or_attr_ints(n, "kernel_shape", &cnt))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "kernel_shape is required");
    int64_t pads[2 * POOL_MAX_SPATIAL];
    int rc = read_list(g, n, "kernel_shape", nd, p->k, 1, 1);
    if (!rc) rc = read_list(g, n, "strides", nd, p->stride, 1, 1);
    if (!rc) rc = read_list(g, n, "dilations", nd, p->dil, 1, 1);
    if (!rc) rc = read_list(g, n, "pads", 2 * nd, pads, 0, 0);
    if (rc) return rc;
    for (size_t d = 0; d < nd; d++) {
        p->pad_begin[d] = pads[d];
        p->pad_end[d] = pads[nd + d];
    }
    return 0;
}

int pool_geom_init(or_graph *g, or_node *n, const or_tensor *x, pool_geom *p) {
    memset(p, 0, sizeof *p);
    int rc = check_x(g, n, x);
    if (rc) return rc;
    p->nd = x->rank - 2;
    p->planes = or_shape_numel(2, x->dims);
    if (p->planes < 0) return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "N * C overflows");
    rc = read_window_attrs(g, n, p);
    pad_mode mode = PAD_NOTSET;
    if (!rc) rc = read_pad_mode(g, n, &mode);
    if (rc) return rc;
    int64_t ceil_mode = or_attr_int(n, "ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "ceil_mode must be 0 or 1, got %lld",
                            (long long)ceil_mode);
    for (int d = 0; d < p->nd; d++) {
        p->in[d] = x->dims[2 + d];
        rc = plan_axis(g, n, p, d, mode, ceil_mode == 1);
        if (rc) return rc;
    }
    p->in_size = or_shape_numel(p->nd, p->in);
    p->out_size = or_shape_numel(p->nd, p->out);
    p->k_size = or_shape_numel(p->nd, p->k);
    if (p->in_size < 0 || p->out_size < 0 || p->k_size < 0 ||
        or_shape_numel(2, (const int64_t[]){p->planes, p->out_size}) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "pooling sizes overflow");
    int64_t stride = 1; /* <= in_size: no overflow */
    for (int d = p->nd - 1; d >= 0; d--) {
        p->in_stride[d] = stride;
        /* Only used between taps inside the input, but keep it defined. */
        p->tap_stride[d] = stride <= INT64_MAX / p->dil[d] ? stride * p->dil[d] : 0;
        stride *= p->in[d];
    }
    return 0;
}

void pool_geom_out_dims(const pool_geom *p, const or_tensor *x, int64_t *dims) {
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int d = 0; d < p->nd; d++) dims[2 + d] = p->out[d];
}

int64_t pool_grain(int64_t work_per_plane) {
    const int64_t chunk = 1 << 15;
    if (work_per_plane <= 0) return chunk;
    int64_t grain = chunk / work_per_plane;
    return grain < 1 ? 1 : grain;
}
