/* Split (opsets 2-23): cuts the input along axis into the node's outputs.
 * Sizes come from the `split` attribute before opset 13 and from the optional
 * int64 `split` input from 13 on (known while planning). Without sizes the
 * axis is divided equally; from opset 18 the num_outputs attribute allows an
 * uneven split whose last chunk is smaller. Negative axis since opset 11.
 * Any dtype: rows of bytes are copied. */
#include "../runtime/alloc.h"
#include "shape_common.h"

#include <stdlib.h>
#include <string.h>

typedef struct split_plan {
    int axis;
    int64_t sizes[]; /* one per output */
} split_plan;

static int split_run(or_graph *g, or_node *n) {
    const split_plan *p = n->state;
    const or_tensor *x = or_input(g, n, 0);
    size_t es = or_dtype_size(x->dtype);
    int64_t outer = or_shape_numel(p->axis, x->dims);
    size_t inner = (size_t)or_shape_numel(x->rank - p->axis - 1, x->dims + p->axis + 1) * es;
    size_t in_row = (size_t)x->dims[p->axis] * inner, offset = 0;
    for (int i = 0; i < n->n_outputs; i++) {
        size_t row = (size_t)p->sizes[i] * inner;
        or_tensor *y = or_output(g, n, i);
        if (y && row) {
            const unsigned char *s = (const unsigned char *)x->data + offset;
            unsigned char *d = y->data;
            for (int64_t o = 0; o < outer; o++)
                memcpy(d + (size_t)o * row, s + (size_t)o * in_row, row);
        }
        offset += row;
    }
    return 0;
}

static int read_sizes(or_graph *g, or_node *n, int64_t *sizes, int64_t *count) {
    if (n->opset >= 13) {
        if (!or_input(g, n, 1)) return 0;
        return shp_plan_ints(g, n, 1, "split", sizes, n->n_outputs, count);
    }
    size_t c;
    const int64_t *attr = or_attr_ints(n, "split", &c);
    if (!attr || c == 0) return 0;
    if (c > (size_t)n->n_outputs)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "split has %zu sizes for %d outputs", c,
                            n->n_outputs);
    memcpy(sizes, attr, c * sizeof *sizes);
    *count = (int64_t)c;
    return 0;
}

/* Equal parts: ceil-sized chunks when num_outputs allows an uneven split. */
static int equal_sizes(or_graph *g, or_node *n, int64_t dim, int64_t *sizes) {
    int64_t parts = n->n_outputs, chunk = dim / parts;
    bool uneven_ok = n->opset >= 18 && or_attr_find(n, "num_outputs");
    if (uneven_ok && or_attr_int(n, "num_outputs", 0) != parts)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "num_outputs is %lld but the node has %d outputs",
                            (long long)or_attr_int(n, "num_outputs", 0), n->n_outputs);
    if (chunk * parts != dim) {
        if (!uneven_ok)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "axis of size %lld cannot be split into %d equal parts",
                                (long long)dim, n->n_outputs);
        chunk++;
    }
    int64_t left = dim;
    for (int64_t i = 0; i < parts; i++) {
        sizes[i] = left < chunk ? left : chunk;
        left -= sizes[i];
    }
    return 0;
}

static int plan_sizes(or_graph *g, or_node *n, int64_t dim, int64_t *sizes) {
    int64_t count = -1, total = 0;
    int rc = read_sizes(g, n, sizes, &count);
    if (rc) return rc;
    if (count < 0) return equal_sizes(g, n, dim, sizes);
    if (count != n->n_outputs)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "split has %lld sizes for %d outputs",
                            (long long)count, n->n_outputs);
    for (int64_t i = 0; i < count; i++) {
        if (sizes[i] < 0 || sizes[i] > dim - total)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "split sizes must be >= 0 and sum to the axis size %lld",
                                (long long)dim);
        total += sizes[i];
    }
    if (total != dim)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                            "split sizes sum to %lld but the axis has size %lld", (long long)total,
                            (long long)dim);
    return 0;
}

int split_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects an input and at least 1 output");
    size_t es;
    int rc = shp_elem_size(g, n, x, &es);
    if (rc) return rc;
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    int axis = or_norm_axis(or_attr_int(n, "axis", 0), x->rank);
    if (axis < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range for rank %d",
                            (long long)or_attr_int(n, "axis", 0), x->rank);
    split_plan *p = or_calloc(1, sizeof *p + sizeof(int64_t) * (size_t)n->n_outputs);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = p;
    n->free_state = or_free;
    p->axis = axis;
    if ((rc = plan_sizes(g, n, x->dims[axis], p->sizes))) return rc;
    int64_t dims[OR_MAX_RANK];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    for (int i = 0; i < n->n_outputs && rc == 0; i++) {
        dims[axis] = p->sizes[i];
        rc = or_set_output(g, n, i, x->dtype, x->rank, dims);
    }
    n->run = split_run;
    return rc;
}
