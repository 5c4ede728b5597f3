/* Pad (opsets 2-23): pads (or, with negative amounts, crops) each axis.
 * Before opset 11 pads and the fill value are attributes (value is a float,
 * for float16/float/double data); from 11 on pads is an int64 input known
 * while planning and constant_value an optional scalar input of the data's
 * dtype; opset 18 adds the optional axes input. Modes: constant (default),
 * reflect and edge, plus wrap (opset 19). Negative pads crop first, and the
 * other modes then mirror/extend the cropped data (as onnxruntime does).
 * Reflect mirrors periodically, as numpy.pad does, so pads may exceed the
 * axis size. Any dtype. */
#include "../runtime/alloc.h"
#include "shape_common.h"

#include "convert.h"

#include <stdlib.h>
#include <string.h>

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

typedef struct pad_plan {
    int mode;
    int64_t begin[OR_MAX_RANK]; /* positive pad before each axis */
    int64_t crop[OR_MAX_RANK];  /* elements cropped from the start of each axis */
    int64_t dims[OR_MAX_RANK];  /* axis sizes after cropping */
    unsigned char value[16];    /* fill for constant mode, from the attribute */
} pad_plan;

/* Output index o (already shifted by the begin pad) to an input index in [0, dim). */
static int64_t map_index(int mode, int64_t i, int64_t dim) {
    if (i >= 0 && i < dim) return i;
    if (mode == PAD_EDGE) return i < 0 ? 0 : dim - 1;
    if (mode == PAD_WRAP) return ((i % dim) + dim) % dim;
    if (dim == 1) return 0;
    int64_t period = 2 * (dim - 1), m = ((i % period) + period) % period;
    return m < dim ? m : period - m;
}

static void fill(unsigned char *d, const unsigned char *value, int64_t count, size_t es) {
    for (int64_t j = 0; j < count; j++) memcpy(d + (size_t)j * es, value, es);
}

/* One output row along the last axis; src is the input row. */
static void pad_row(const pad_plan *p, unsigned char *d, const unsigned char *src, int64_t len,
                    int64_t dim, int64_t begin, const unsigned char *value, size_t es) {
    int64_t lo = begin < 0 ? 0 : begin > len ? len : begin;
    int64_t hi = begin + dim < lo ? lo : begin + dim > len ? len : begin + dim;
    if (hi > lo)
        memcpy(d + (size_t)lo * es, src + (size_t)(lo - begin) * es, (size_t)(hi - lo) * es);
    if (p->mode == PAD_CONSTANT) {
        fill(d, value, lo, es);
        fill(d + (size_t)hi * es, value, len - hi, es);
        return;
    }
    for (int64_t o = 0; o < lo; o++)
        memcpy(d + (size_t)o * es, src + (size_t)map_index(p->mode, o - begin, dim) * es, es);
    for (int64_t o = hi; o < len; o++)
        memcpy(d + (size_t)o * es, src + (size_t)map_index(p->mode, o - begin, dim) * es, es);
}

static int pad_run(or_graph *g, or_node *n) {
    const pad_plan *p = n->state;
    const or_tensor *x = or_input(g, n, 0), *cv = n->opset >= 11 ? or_input(g, n, 2) : NULL;
    or_tensor *y = or_output(g, n, 0);
    size_t es = or_dtype_size(x->dtype);
    const unsigned char *value = cv && or_tensor_numel(cv) > 0 ? cv->data : p->value;
    int64_t total = or_tensor_numel(y);
    if (total == 0) return 0;
    if (x->rank == 0) {
        memcpy(y->data, x->data, es);
        return 0;
    }
    int last = x->rank - 1;
    int64_t istrides[OR_MAX_RANK], idx[OR_MAX_RANK] = {0};
    int64_t len = y->dims[last], rows = total / len;
    shp_dense_strides(x->rank, x->dims, istrides);
    unsigned char *d = y->data;
    for (int64_t r = 0; r < rows; r++, d += (size_t)len * es) {
        int64_t off = 0;
        bool outside = false;
        for (int k = 0; k < last; k++) {
            int64_t i = idx[k] - p->begin[k];
            outside |= (i < 0 || i >= p->dims[k]);
            if (p->mode != PAD_CONSTANT) i = map_index(p->mode, i, p->dims[k]);
            off += (i + p->crop[k]) * istrides[k];
        }
        if (outside && p->mode == PAD_CONSTANT)
            fill(d, value, len, es);
        else
            pad_row(p, d, (const unsigned char *)x->data + (size_t)(off + p->crop[last]) * es, len,
                    p->dims[last], p->begin[last], value, es);
        for (int k = last - 1; k >= 0 && ++idx[k] == y->dims[k]; k--) idx[k] = 0;
    }
    return 0;
}

static int read_mode(or_graph *g, or_node *n, int *mode) {
    const char *m = or_attr_string(n, "mode", "constant");
    static const char *const names[] = {"constant", "reflect", "edge", "wrap"};
    for (int i = 0; i < 4; i++)
        if (strcmp(m, names[i]) == 0 && (i != PAD_WRAP || n->opset >= 19)) {
            *mode = i;
            return 0;
        }
    return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "mode '%s' is not supported", m);
}

/* The opset 2-10 float `value` attribute, stored in the data's dtype. */
static int attr_value(or_graph *g, or_node *n, int dtype, unsigned char *out) {
    float v = or_attr_float(n, "value", 0.0f);
    double dv = v;
    uint16_t h;
    memset(out, 0, 16);
    switch (dtype) {
    case OR_FLOAT:
        memcpy(out, &v, sizeof v);
        return 0;
    case OR_DOUBLE:
        memcpy(out, &dv, sizeof dv);
        return 0;
    case OR_FLOAT16:
        h = or_f32_to_f16(v);
        break;
    case OR_BFLOAT16:
        h = or_f32_to_bf16(v);
        break;
    default:
        if (v == 0.0f) return 0;
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "a value attribute needs float data, not %s",
                            or_dtype_name(dtype));
    }
    memcpy(out, &h, sizeof h);
    return 0;
}

/* Fills pads[0..2*rank) in [begins..., ends...] order over every axis. */
static int read_pads(or_graph *g, or_node *n, int rank, int64_t *pads) {
    int64_t raw[2 * OR_MAX_RANK], axes[OR_MAX_RANK], count, n_axes = rank;
    int rc;
    if (n->opset < 11) {
        size_t c;
        const int64_t *attr = or_attr_ints(n, "pads", &c);
        if (!attr) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "attribute 'pads' is required");
        if (c > 2 * OR_MAX_RANK)
            c = 2 * OR_MAX_RANK + 1;
        else
            memcpy(raw, attr, c * sizeof *raw);
        count = (int64_t)c;
    } else if ((rc = shp_plan_ints(g, n, 1, "pads", raw, 2 * OR_MAX_RANK, &count))) {
        return rc;
    }
    for (int k = 0; k < rank; k++) axes[k] = k;
    if (n->opset >= 18 && or_input(g, n, 3) &&
        (rc = shp_plan_ints(g, n, 3, "axes", axes, OR_MAX_RANK, &n_axes)))
        return rc;
    if (count != 2 * n_axes)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "pads has %lld values for %lld axes",
                            (long long)count, (long long)n_axes);
    bool seen[OR_MAX_RANK] = {false};
    memset(pads, 0, sizeof(int64_t) * 2 * (size_t)rank);
    for (int64_t i = 0; i < n_axes; i++) {
        int a = or_norm_axis(axes[i], rank);
        if (a < 0 || seen[a])
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range or repeated",
                                (long long)axes[i]);
        seen[a] = true;
        pads[a] = raw[i];
        pads[rank + a] = raw[n_axes + i];
    }
    return 0;
}

static int output_dims(or_graph *g, or_node *n, const or_tensor *x, const int64_t *pads, int mode,
                       int64_t *dims) {
    for (int k = 0; k < x->rank; k++) {
        int64_t b = pads[k], e = pads[x->rank + k], d = x->dims[k];
        bool bad = b > INT64_MAX / 4 || e > INT64_MAX / 4 || b < -d || e < -d;
        int64_t kept = bad ? -1 : d + (b < 0 ? b : 0) + (e < 0 ? e : 0);
        if (kept < 0)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "pads %lld/%lld are invalid for axis %d of size %lld", (long long)b,
                                (long long)e, k, (long long)d);
        dims[k] = d + b + e;
        if (mode != PAD_CONSTANT && kept == 0 && dims[k] > 0)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "cannot pad an empty axis (%d) in a non-constant mode", k);
    }
    return 0;
}

int pad_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0), *cv = n->opset >= 11 ? or_input(g, n, 2) : NULL;
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects a data input and 1 output");
    size_t es;
    int rc = shp_elem_size(g, n, x, &es);
    if (rc) return rc;
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    if (cv && (cv->dtype != x->dtype || or_tensor_numel(cv) > 1))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "constant_value must be a %s scalar",
                            or_dtype_name(x->dtype));
    pad_plan *p = or_calloc(1, sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = p;
    n->free_state = or_free;
    int64_t pads[2 * OR_MAX_RANK], dims[OR_MAX_RANK];
    if ((rc = read_mode(g, n, &p->mode)) || (rc = read_pads(g, n, x->rank, pads)) ||
        (rc = output_dims(g, n, x, pads, p->mode, dims)) ||
        (rc = shp_check_size(g, n, x->rank, dims, es)))
        return rc;
    if (n->opset < 11 && (rc = attr_value(g, n, x->dtype, p->value))) return rc;
    for (int k = 0; k < x->rank; k++) {
        int64_t b = pads[k], e = pads[x->rank + k];
        p->begin[k] = b > 0 ? b : 0;
        p->crop[k] = b < 0 ? -b : 0;
        p->dims[k] = x->dims[k] - p->crop[k] - (e < 0 ? -e : 0);
    }
    n->run = pad_run;
    return or_set_output(g, n, 0, x->dtype, x->rank, dims);
}
