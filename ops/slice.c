/* Slice (opsets 1-23): starts/ends/axes are attributes before opset 10; from
 * 10 on they are inputs (with an optional steps input), and must be known
 * while planning. Negative starts/ends count from the back and are clamped
 * per the spec ([0, dim] for positive steps, [-1, dim-1] for negative ones),
 * so INT64_MAX/INT64_MIN mean "to the end". Negative axes since opset 11.
 * Any dtype: the slice is a strided view copied as bytes. */
#include "../runtime/alloc.h"
#include "shape_common.h"

#include <stdlib.h>
#include <string.h>

typedef struct slice_plan {
    shp_view v;     /* output dims, source strides */
    int64_t origin; /* source element of output index 0 */
} slice_plan;

typedef struct slice_args {
    int64_t starts[OR_MAX_RANK], ends[OR_MAX_RANK], axes[OR_MAX_RANK], steps[OR_MAX_RANK];
    int64_t count;
} slice_args;

static int slice_run(or_graph *g, or_node *n) {
    const slice_plan *p = n->state;
    const or_tensor *x = or_input(g, n, 0);
    or_tensor *y = or_output(g, n, 0);
    size_t es = or_dtype_size(x->dtype);
    if (or_tensor_numel(y) == 0) return 0;
    const unsigned char *src = (const unsigned char *)x->data + p->origin * (int64_t)es;
    shp_strided_copy(g->pool, y->data, src, &p->v, es);
    return 0;
}

static int copy_attr(or_graph *g, or_node *n, const char *name, int64_t *out, int64_t *count) {
    size_t c;
    const int64_t *attr = or_attr_ints(n, name, &c);
    if (!attr) {
        *count = -1;
        return 0;
    }
    if (c > OR_MAX_RANK) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "too many '%s'", name);
    memcpy(out, attr, c * sizeof *out);
    *count = (int64_t)c;
    return 0;
}

/* Reads starts/ends/axes/steps; missing axes/steps get count -1. */
static int read_args(or_graph *g, or_node *n, slice_args *a, int64_t *n_axes, int64_t *n_steps) {
    int64_t n_ends;
    int rc;
    *n_steps = -1;
    if (n->opset < 10) {
        if ((rc = copy_attr(g, n, "starts", a->starts, &a->count)) ||
            (rc = copy_attr(g, n, "ends", a->ends, &n_ends)) ||
            (rc = copy_attr(g, n, "axes", a->axes, n_axes)))
            return rc;
        if (a->count < 0 || n_ends < 0)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "attributes starts and ends are required");
    } else {
        *n_axes = -1;
        if ((rc = shp_plan_ints(g, n, 1, "starts", a->starts, OR_MAX_RANK, &a->count)) ||
            (rc = shp_plan_ints(g, n, 2, "ends", a->ends, OR_MAX_RANK, &n_ends)))
            return rc;
        if (or_input(g, n, 3) &&
            (rc = shp_plan_ints(g, n, 3, "axes", a->axes, OR_MAX_RANK, n_axes)))
            return rc;
        if (or_input(g, n, 4) &&
            (rc = shp_plan_ints(g, n, 4, "steps", a->steps, OR_MAX_RANK, n_steps)))
            return rc;
    }
    if (n_ends != a->count || (*n_axes >= 0 && *n_axes != a->count) ||
        (*n_steps >= 0 && *n_steps != a->count))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "starts, ends, axes and steps must have the same length");
    return 0;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Clamps start/end against dim and returns the number of selected elements. */
static int64_t axis_count(int64_t dim, int64_t step, int64_t *start, int64_t end) {
    if (dim == 0) return 0; /* also keeps the negative-step clamp range [0, dim-1] valid */
    if (*start < 0) *start += dim;
    if (end < 0) end += dim;
    if (step > 0) {
        *start = clamp64(*start, 0, dim);
        end = clamp64(end, 0, dim);
        if (end <= *start) return 0;
        return (int64_t)(((uint64_t)(end - *start) + (uint64_t)step - 1) / (uint64_t)step);
    }
    *start = clamp64(*start, 0, dim - 1);
    end = clamp64(end, -1, dim - 1);
    if (end >= *start) return 0;
    uint64_t ustep = (uint64_t)0 - (uint64_t)step;
    return (int64_t)(((uint64_t)(*start - end) + ustep - 1) / ustep);
}

static int make_plan(or_graph *g, or_node *n, const or_tensor *x, slice_args *a, int64_t n_axes,
                     int64_t n_steps, slice_plan *p) {
    int64_t istrides[OR_MAX_RANK];
    bool used[OR_MAX_RANK] = {false};
    shp_dense_strides(x->rank, x->dims, istrides);
    p->v.rank = x->rank;
    for (int k = 0; k < x->rank; k++) p->v.dims[k] = x->dims[k], p->v.strides[k] = istrides[k];
    for (int64_t i = 0; i < a->count; i++) {
        int axis = or_norm_axis(n_axes >= 0 ? a->axes[i] : i, x->rank);
        int64_t step = n_steps >= 0 ? a->steps[i] : 1, start = a->starts[i];
        if (axis < 0 || used[axis])
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                                "axis %lld is out of range or repeated (rank %d)",
                                (long long)(n_axes >= 0 ? a->axes[i] : i), x->rank);
        if (step == 0) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "steps must not be 0");
        used[axis] = true;
        int64_t count = axis_count(x->dims[axis], step, &start, a->ends[i]);
        p->v.dims[axis] = count;
        /* With one element the step is never applied (and may be huge). */
        p->v.strides[axis] = count > 1 ? step * istrides[axis] : 0;
        if (count > 0) p->origin += start * istrides[axis];
    }
    return 0;
}

int slice_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects a data input and 1 output");
    size_t es;
    int rc = shp_elem_size(g, n, x, &es);
    if (rc) return rc;
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    slice_args a;
    int64_t n_axes, n_steps;
    if ((rc = read_args(g, n, &a, &n_axes, &n_steps))) return rc;
    slice_plan *p = or_calloc(1, sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = p;
    n->free_state = or_free;
    if ((rc = make_plan(g, n, x, &a, n_axes, n_steps, p))) return rc;
    n->run = slice_run;
    return or_set_output(g, n, 0, x->dtype, x->rank, p->v.dims);
}
