/* MaxPool (opsets 1-22): float, double and float16 (computed through float),
 * bfloat16 from opset 22, int8 and uint8 from opset 12. Any number of
 * spatial dims, with kernel_shape, strides, pads, dilations, auto_pad and
 * ceil_mode (geometry in pool_common.c). The optional Indices output
 * (opset 8+) holds int64 positions in the flattened unpadded input, batch and
 * channel offset included; storage_order 1 numbers the spatial positions
 * column-major. Padding never wins: only taps inside the input are compared,
 * the first of equal maxima is kept, and a NaN in the first tap propagates.
 * A window entirely in padding (pads wider than the kernel) gives -inf, or
 * the type's minimum for integers, with index -1. Planes (N * C) are split
 * across the thread pool. */
#include "../runtime/alloc.h"
#include "convert.h"
#include "pool_common.h"

#include <math.h>
#include <string.h>

typedef struct maxpool_plan {
    pool_geom geom;
    int dtype;
    bool col_major; /* storage_order = 1 */
} maxpool_plan;

typedef struct maxpool_ctx {
    const maxpool_plan *plan;
    const void *x; /* [N*C, in_size] */
    void *y;       /* [N*C, out_size] */
    int64_t *ind;  /* [N*C, out_size] or NULL */
} maxpool_ctx;

/* Row-major spatial offset to the column-major one storage_order 1 asks for. */
static int64_t col_major_offset(const pool_geom *p, int64_t at) {
    int64_t col = 0, scale = 1;
    for (int d = 0; d < p->nd; d++) {
        int64_t coord = (at / p->in_stride[d]) % p->in[d];
        col += coord * scale;
        scale *= p->in[d];
    }
    return col;
}

/* One plane: y[o] = max over the in-bounds taps of o's window, starting
 * from the first tap (so a leading NaN propagates); with TRACK, at_out[o] =
 * that tap's row-major spatial offset (translated later), -1 for an empty
 * window. */
#define MAXPOOL_PLANE(NAME, TRACK, S, T, LOWEST, LOAD, STORE)                                      \
    static void NAME(const pool_geom *p, const S *restrict x, S *restrict y,                       \
                     int64_t *restrict at_out) {                                                   \
        int nd = p->nd, last = nd - 1;                                                             \
        int64_t o[POOL_MAX_SPATIAL] = {0}, dl = p->dil[last];                                      \
        pool_window w[POOL_MAX_SPATIAL];                                                           \
        for (int d = 0; d < nd; d++) pool_axis_window(p, d, 0, &w[d]);                             \
        for (int64_t op = 0; op < p->out_size; op++) {                                             \
            int64_t cnt[POOL_MAX_SPATIAL], t[POOL_MAX_SPATIAL] = {0}, origin = 0, at = -1;         \
            bool empty = false;                                                                    \
            for (int d = 0; d < nd; d++) {                                                         \
                cnt[d] = w[d].count;                                                               \
                empty |= cnt[d] == 0;                                                              \
                origin += w[d].first * p->in_stride[d];                                            \
            }                                                                                      \
            T best = empty ? LOWEST : LOAD(x[origin]);                                             \
            if (!empty) at = origin;                                                               \
            for (int64_t row = origin; !empty;) {                                                  \
                const S *xr = x + row;                                                             \
                for (int64_t k = 0; k < cnt[last]; k++) {                                          \
                    T v = LOAD(xr[k * dl]);                                                        \
                    if (!TRACK) {                                                                  \
                        best = v > best ? v : best;                                                \
                    } else if (v > best) {                                                         \
                        best = v;                                                                  \
                        at = row + k * dl;                                                         \
                    }                                                                              \
                }                                                                                  \
                int d = last - 1;                                                                  \
                for (; d >= 0 && ++t[d] == cnt[d]; d--) {                                          \
                    t[d] = 0;                                                                      \
                    row -= (cnt[d] - 1) * p->tap_stride[d];                                        \
                }                                                                                  \
                if (d < 0) break;                                                                  \
                row += p->tap_stride[d];                                                           \
            }                                                                                      \
            y[op] = STORE(best);                                                                   \
            if (TRACK) at_out[op] = at;                                                            \
            int d = last;                                                                          \
            for (; d >= 0 && ++o[d] == p->out[d]; d--) o[d] = 0;                                   \
            for (d = d < 0 ? 0 : d; d < nd; d++) pool_axis_window(p, d, o[d], &w[d]);              \
        }                                                                                          \
    }

#define MAXPOOL_KERNELS(NAME, S, T, LOWEST, LOAD, STORE)                                           \
    MAXPOOL_PLANE(NAME##_vals, 0, S, T, LOWEST, LOAD, STORE)                                       \
    MAXPOOL_PLANE(NAME##_idx, 1, S, T, LOWEST, LOAD, STORE)                                        \
    static void NAME(const pool_geom *p, const S *x, S *y, int64_t *at) {                          \
        if (at)                                                                                    \
            NAME##_idx(p, x, y, at);                                                               \
        else                                                                                       \
            NAME##_vals(p, x, y, at);                                                              \
    }

MAXPOOL_KERNELS(max_f32, float, float, -INFINITY, POOL_SAME, POOL_SAME)
MAXPOOL_KERNELS(max_f64, double, double, -INFINITY, POOL_SAME, POOL_SAME)
MAXPOOL_KERNELS(max_f16, uint16_t, float, -INFINITY, or_f16_to_f32, or_f32_to_f16)
MAXPOOL_KERNELS(max_bf16, uint16_t, float, -INFINITY, or_bf16_to_f32, or_f32_to_bf16)
MAXPOOL_KERNELS(max_i8, int8_t, int8_t, INT8_MIN, POOL_SAME, POOL_SAME)
MAXPOOL_KERNELS(max_u8, uint8_t, uint8_t, 0, POOL_SAME, POOL_SAME)

static void plane(const maxpool_plan *m, const void *x, void *y, int64_t *at) {
    const pool_geom *p = &m->geom;
    switch (m->dtype) {
    case OR_FLOAT:
        max_f32(p, x, y, at);
        break;
    case OR_DOUBLE:
        max_f64(p, x, y, at);
        break;
    case OR_FLOAT16:
        max_f16(p, x, y, at);
        break;
    case OR_BFLOAT16:
        max_bf16(p, x, y, at);
        break;
    case OR_INT8:
        max_i8(p, x, y, at);
        break;
    default:
        max_u8(p, x, y, at);
        break;
    }
}

static void maxpool_task(void *vctx, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const maxpool_ctx *c = vctx;
    const pool_geom *p = &c->plan->geom;
    size_t es = or_dtype_size(c->plan->dtype);
    for (int64_t pl = begin; pl < end; pl++) {
        const char *x = (const char *)c->x + (size_t)(pl * p->in_size) * es;
        char *y = (char *)c->y + (size_t)(pl * p->out_size) * es;
        int64_t *ind = c->ind ? c->ind + pl * p->out_size : NULL;
        plane(c->plan, x, y, ind);
        if (!ind) continue;
        for (int64_t o = 0; o < p->out_size; o++) {
            if (ind[o] < 0) continue;
            int64_t off = c->plan->col_major ? col_major_offset(p, ind[o]) : ind[o];
            ind[o] = pl * p->in_size + off;
        }
    }
}

static int maxpool_run(or_graph *g, or_node *n) {
    const maxpool_plan *m = n->state;
    or_tensor *ind = or_output(g, n, 1);
    maxpool_ctx c = {m, or_input(g, n, 0)->data, or_output(g, n, 0)->data, ind ? ind->data : NULL};
    if (m->geom.planes == 0 || m->geom.out_size == 0) return 0;
    int64_t work = m->geom.out_size * (m->geom.k_size < 64 ? m->geom.k_size : 64);
    or_parallel_for(g->pool, m->geom.planes, pool_grain(work), maxpool_task, &c);
    return 0;
}

static int check_types(or_graph *g, or_node *n, int dtype) {
    bool ok = dtype == OR_FLOAT || dtype == OR_DOUBLE || dtype == OR_FLOAT16 ||
              ((dtype == OR_INT8 || dtype == OR_UINT8) && n->opset >= 12) ||
              (dtype == OR_BFLOAT16 && n->opset >= 22);
    if (!ok)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported dtype %s at opset %d",
                            or_dtype_name(dtype), n->opset);
    if (n->n_outputs < 1 || n->n_outputs > 2 || !or_output(g, n, 0))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects outputs Y and optional Indices");
    if (or_output(g, n, 1) && n->opset < 8)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "the Indices output needs opset 8 or later");
    return 0;
}

int maxpool_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_inputs != 1) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 input X");
    int rc = check_types(g, n, x->dtype);
    if (rc) return rc;
    int64_t order = or_attr_int(n, "storage_order", 0);
    if (order != 0 && order != 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "storage_order must be 0 or 1, got %lld",
                            (long long)order);
    maxpool_plan *m = or_calloc(1, sizeof *m);
    if (!m) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = m;
    n->free_state = or_free;
    m->dtype = x->dtype;
    m->col_major = order == 1;
    rc = pool_geom_init(g, n, x, &m->geom);
    if (rc) return rc;
    n->run = maxpool_run;
    int64_t dims[OR_MAX_RANK];
    pool_geom_out_dims(&m->geom, x, dims);
    rc = or_set_output(g, n, 0, x->dtype, x->rank, dims);
    if (!rc) rc = or_set_output(g, n, 1, OR_INT64, x->rank, dims);
    return rc;
}
