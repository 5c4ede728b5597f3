/* Shared helpers of the shape and data-movement ops: plan-time integer inputs,
 * size checks, and the strided copy that Slice, Expand, Tile and Transpose
 * (when rows stay contiguous) reduce to. */
#include "shape_common.h"

#include <string.h>

/* Copies below this many bytes are not worth waking the pool for. */
#define SHP_PARALLEL_BYTES (256 * 1024)
#define SHP_GRAIN_BYTES (32 * 1024)

void shp_dense_strides(int rank, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    for (int k = rank - 1; k >= 0; k--) {
        strides[k] = s;
        s *= dims[k];
    }
}

void shp_view_simplify(shp_view *v) {
    int r = 0;
    for (int k = 0; k < v->rank; k++) {
        if (v->dims[k] == 1) continue;
        if (r > 0 && v->strides[r - 1] == v->strides[k] * v->dims[k]) {
            v->dims[r - 1] *= v->dims[k];
            v->strides[r - 1] = v->strides[k];
            continue;
        }
        v->dims[r] = v->dims[k];
        v->strides[r] = v->strides[k];
        r++;
    }
    if (r == 0) {
        v->dims[0] = 1;
        v->strides[0] = 1;
        r = 1;
    }
    v->rank = r;
}

/* One row: n elements read `stride` elements apart. The constant sizes let
 * the compiler turn each memcpy into a single move. */
#define SHP_GATHER_ROW(ES)                                                                         \
    for (int64_t j = 0; j < n; j++) memcpy(d + j * (ES), s + j * stride * (ES), ES);

static void copy_row(unsigned char *d, const unsigned char *s, int64_t n, int64_t stride,
                     size_t es) {
    if (stride == 1) {
        memcpy(d, s, (size_t)n * es);
        return;
    }
    switch (es) {
    case 1:
        SHP_GATHER_ROW(1) break;
    case 2:
        SHP_GATHER_ROW(2) break;
    case 4:
        SHP_GATHER_ROW(4) break;
    case 8:
        SHP_GATHER_ROW(8) break;
    default:
        for (int64_t j = 0; j < n; j++)
            memcpy(d + (size_t)j * es, s + j * stride * (int64_t)es, es);
    }
}

typedef struct copy_ctx {
    const shp_view *v;
    unsigned char *dst;
    const unsigned char *src;
    size_t es;
} copy_ctx;

/* Rows [begin, end) of the view: every axis but the last is an outer index. */
static void copy_rows(void *arg, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const copy_ctx *c = arg;
    const shp_view *v = c->v;
    int outer = v->rank - 1;
    int64_t n = v->dims[outer], stride = v->strides[outer];
    int64_t idx[SHP_MAX_VIEW], off = 0, rem = begin;
    for (int k = outer - 1; k >= 0; k--) {
        idx[k] = rem % v->dims[k];
        rem /= v->dims[k];
        off += idx[k] * v->strides[k];
    }
    size_t row_bytes = (size_t)n * c->es;
    unsigned char *d = c->dst + (size_t)begin * row_bytes;
    for (int64_t r = begin; r < end; r++, d += row_bytes) {
        copy_row(d, c->src + off * (int64_t)c->es, n, stride, c->es);
        for (int k = outer - 1; k >= 0; k--) {
            off += v->strides[k];
            if (++idx[k] < v->dims[k]) break;
            off -= v->strides[k] * v->dims[k];
            idx[k] = 0;
        }
    }
}

void shp_strided_copy(or_threadpool *pool, void *dst, const void *src, const shp_view *view,
                      size_t esize) {
    shp_view v = *view;
    for (int k = 0; k < v.rank; k++)
        if (v.dims[k] == 0) return;
    shp_view_simplify(&v);
    int64_t rows = 1;
    for (int k = 0; k < v.rank - 1; k++) rows *= v.dims[k];
    size_t row_bytes = (size_t)v.dims[v.rank - 1] * esize;
    copy_ctx c = {&v, dst, src, esize};
    if (rows > 1 && (size_t)rows * row_bytes >= SHP_PARALLEL_BYTES) {
        int64_t grain = (int64_t)(SHP_GRAIN_BYTES / (row_bytes ? row_bytes : 1));
        or_parallel_for(pool, rows, grain > 0 ? grain : 1, copy_rows, &c);
    } else {
        copy_rows(&c, 0, rows, 0);
    }
}

int64_t shp_int_at(int dtype, const void *data, int64_t k) {
    if (dtype == OR_INT32) {
        int32_t v;
        memcpy(&v, (const unsigned char *)data + k * 4, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, (const unsigned char *)data + k * 8, 8);
    return v;
}

int shp_plan_ints(or_graph *g, or_node *n, int i, const char *what, int64_t *vals, int64_t max,
                  int64_t *count) {
    const or_tensor *t = or_input(g, n, i);
    if (!t) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input '%s' is required", what);
    if (t->dtype != OR_INT64 && t->dtype != OR_INT32)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input '%s' must be int32 or int64, not %s",
                            what, or_dtype_name(t->dtype));
    if (t->rank > 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input '%s' must be 1-D, not rank %d", what,
                            t->rank);
    int64_t cnt = or_tensor_numel(t);
    if (cnt < 0 || cnt > max)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input '%s' has %lld values (at most %lld)",
                            what, (long long)cnt, (long long)max);
    const void *data = or_input_value(g, n, i);
    if (!data && cnt > 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "input '%s' (tensor '%s') must be known while planning: it must be "
                            "an initializer, a constant, or computed from shapes",
                            what, t->name);
    for (int64_t k = 0; k < cnt; k++) vals[k] = shp_int_at(t->dtype, data, k);
    *count = cnt;
    return 0;
}

int shp_elem_size(or_graph *g, or_node *n, const or_tensor *t, size_t *esize) {
    size_t es = or_dtype_size(t->dtype);
    if (es == 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "dtype %s of tensor '%s' is not supported",
                            or_dtype_name(t->dtype), t->name);
    *esize = es;
    return 0;
}

int shp_check_size(or_graph *g, or_node *n, int rank, const int64_t *dims, size_t esize) {
    int64_t numel = or_shape_numel(rank, dims);
    if (numel < 0 || (uint64_t)numel > (uint64_t)(PTRDIFF_MAX / (int64_t)(esize ? esize : 1))) {
        char buf[160];
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "output shape %s is too large",
                            or_shape_str(rank, dims, buf, sizeof buf));
    }
    return 0;
}

void shp_set_view(or_node *n) {
    n->run = shp_copy_run;
    n->output_is_view = true;
}

int shp_copy_run(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    or_tensor *y = or_output(g, n, 0);
    size_t bytes = (size_t)or_tensor_numel(y) * or_dtype_size(y->dtype);
    if (y->data != x->data && bytes) memcpy(y->data, x->data, bytes);
    return 0;
}
