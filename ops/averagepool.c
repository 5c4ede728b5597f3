/* AveragePool (opsets 1-22): float, double and float16 (computed through
 * float), bfloat16 from opset 22. Any number of spatial dims, with
 * kernel_shape, strides, pads, auto_pad, ceil_mode, dilations (opset 19+)
 * and count_include_pad (opset 7+); geometry in pool_common.c. The divisor
 * is the number of taps inside the input, or with count_include_pad the
 * number inside the input plus its explicit (or auto) padding; taps in the
 * extra region ceil_mode adds past the right padding never count. Planes
 * (N * C) are split across the thread pool. */
#include "../runtime/alloc.h"
#include "convert.h"
#include "pool_common.h"

#include <string.h>

typedef struct avgpool_plan {
    pool_geom geom;
    int dtype;
    bool include_pad;
} avgpool_plan;

typedef struct avgpool_ctx {
    const avgpool_plan *plan;
    const void *x; /* [N*C, in_size] */
    void *y;       /* [N*C, out_size] */
} avgpool_ctx;

/* One plane: y[o] = sum of the in-bounds taps of o's window / divisor. An
 * all-padding window without count_include_pad gives 0/0 = NaN. */
#define AVGPOOL_PLANE(NAME, S, T, LOAD, STORE)                                                     \
    static void NAME(const pool_geom *p, bool include_pad, const S *restrict x, S *restrict y) {   \
        int nd = p->nd, last = nd - 1;                                                             \
        int64_t o[POOL_MAX_SPATIAL] = {0}, dl = p->dil[last];                                      \
        pool_window w[POOL_MAX_SPATIAL];                                                           \
        for (int d = 0; d < nd; d++) pool_axis_window(p, d, 0, &w[d]);                             \
        for (int64_t op = 0; op < p->out_size; op++) {                                             \
            int64_t cnt[POOL_MAX_SPATIAL], t[POOL_MAX_SPATIAL] = {0}, origin = 0, div = 1;         \
            bool empty = false;                                                                    \
            for (int d = 0; d < nd; d++) {                                                         \
                cnt[d] = w[d].count;                                                               \
                empty |= cnt[d] == 0;                                                              \
                div *= include_pad ? w[d].padded : cnt[d];                                         \
                origin += w[d].first * p->in_stride[d];                                            \
            }                                                                                      \
            T sum = 0;                                                                             \
            for (int64_t row = origin; !empty;) {                                                  \
                const S *xr = x + row;                                                             \
                for (int64_t k = 0; k < cnt[last]; k++) sum += LOAD(xr[k * dl]);                   \
                int d = last - 1;                                                                  \
                for (; d >= 0 && ++t[d] == cnt[d]; d--) {                                          \
                    t[d] = 0;                                                                      \
                    row -= (cnt[d] - 1) * p->tap_stride[d];                                        \
                }                                                                                  \
                if (d < 0) break;                                                                  \
                row += p->tap_stride[d];                                                           \
            }                                                                                      \
            y[op] = STORE(sum / (T)div);                                                           \
            int d = last;                                                                          \
            for (; d >= 0 && ++o[d] == p->out[d]; d--) o[d] = 0;                                   \
            for (d = d < 0 ? 0 : d; d < nd; d++) pool_axis_window(p, d, o[d], &w[d]);              \
        }                                                                                          \
    }

AVGPOOL_PLANE(avg_f32, float, float, POOL_SAME, POOL_SAME)
AVGPOOL_PLANE(avg_f64, double, double, POOL_SAME, POOL_SAME)
AVGPOOL_PLANE(avg_f16, uint16_t, float, or_f16_to_f32, or_f32_to_f16)
AVGPOOL_PLANE(avg_bf16, uint16_t, float, or_bf16_to_f32, or_f32_to_bf16)

static void avgpool_task(void *vctx, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const avgpool_ctx *c = vctx;
    const pool_geom *p = &c->plan->geom;
    bool inc = c->plan->include_pad;
    size_t es = or_dtype_size(c->plan->dtype);
    for (int64_t pl = begin; pl < end; pl++) {
        const void *x = (const char *)c->x + (size_t)(pl * p->in_size) * es;
        void *y = (char *)c->y + (size_t)(pl * p->out_size) * es;
        switch (c->plan->dtype) {
        case OR_FLOAT:
            avg_f32(p, inc, x, y);
            break;
        case OR_DOUBLE:
            avg_f64(p, inc, x, y);
            break;
        case OR_FLOAT16:
            avg_f16(p, inc, x, y);
            break;
        default:
            avg_bf16(p, inc, x, y);
            break;
        }
    }
}

static int avgpool_run(or_graph *g, or_node *n) {
    const avgpool_plan *a = n->state;
    avgpool_ctx c = {a, or_input(g, n, 0)->data, or_output(g, n, 0)->data};
    if (a->geom.planes == 0 || a->geom.out_size == 0) return 0;
    int64_t work = a->geom.out_size * (a->geom.k_size < 64 ? a->geom.k_size : 64);
    or_parallel_for(g->pool, a->geom.planes, pool_grain(work), avgpool_task, &c);
    return 0;
}

int averagepool_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_inputs != 1 || n->n_outputs != 1 || !or_output(g, n, 0))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 input X and 1 output Y");
    int dt = x->dtype;
    if (dt != OR_FLOAT && dt != OR_DOUBLE && dt != OR_FLOAT16 &&
        !(dt == OR_BFLOAT16 && n->opset >= 22))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported dtype %s at opset %d",
                            or_dtype_name(dt), n->opset);
    int64_t include = or_attr_int(n, "count_include_pad", 0);
    if (include != 0 && include != 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "count_include_pad must be 0 or 1, got %lld",
                            (long long)include);
    avgpool_plan *a = or_calloc(1, sizeof *a);
    if (!a) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = a;
    n->free_state = or_free;
    a->dtype = dt;
    a->include_pad = include == 1;
    int rc = pool_geom_init(g, n, x, &a->geom);
    if (rc) return rc;
    n->run = avgpool_run;
    int64_t dims[OR_MAX_RANK];
    pool_geom_out_dims(&a->geom, x, dims);
    return or_set_output(g, n, 0, dt, x->rank, dims);
}
