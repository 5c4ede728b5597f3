/* TopK (opsets 1-23): the k largest (or, with largest=0 from opset 11, the
 * smallest) elements along `axis` (default -1) with their int64 indices.
 * k is an attribute before opset 10 and a 1-element int64 input from opset
 * 10, read while planning. Output is always sorted (sorted=0 leaves the order
 * unspecified); equal values keep the lower index first, as onnxruntime.
 * Types: float, double, float16, bfloat16 (compared as float) and the 8- to
 * 64-bit integers. */
#include "../runtime/alloc.h"
#include "convert.h"
#include "shape_common.h"

#include <stdlib.h>

typedef struct topk_plan {
    int64_t outer, len, inner, k; /* x viewed as [outer, len, inner] */
    bool largest;
    int64_t *idx, *tmp; /* [len] each: sort scratch, so run never allocates */
} topk_plan;

static void topk_free(void *state) {
    topk_plan *p = state;
    if (!p) return;
    or_free(p->idx);
    or_free(p);
}

/* Stable bottom-up merge sort of the row's indices: stability gives the lower
 * index first among equal values. T is the stored type, K the compared one
 * and KEY converts (float16 -> float; empty for the others). */
#define TOPK_DEFINE(T, K, KEY, NAME)                                                               \
    static void NAME##_merge(const T *x, int64_t st, bool lg, const int64_t *a, int64_t na,        \
                             const int64_t *b, int64_t nb, int64_t *out) {                         \
        int64_t i = 0, j = 0, o = 0;                                                               \
        while (i < na && j < nb) {                                                                 \
            K va = KEY(x[a[i] * st]), vb = KEY(x[b[j] * st]);                                      \
            bool take_b = lg ? vb > va : vb < va;                                                  \
            out[o++] = take_b ? b[j++] : a[i++];                                                   \
        }                                                                                          \
        while (i < na) out[o++] = a[i++];                                                          \
        while (j < nb) out[o++] = b[j++];                                                          \
    }                                                                                              \
    static void NAME##_run(const topk_plan *p, const void *xv, void *yv, int64_t *yi) {            \
        const T *xs = xv;                                                                          \
        T *ys = yv;                                                                                \
        for (int64_t o = 0; o < p->outer; o++)                                                     \
            for (int64_t j = 0; j < p->inner; j++) {                                               \
                const T *x = xs + o * p->len * p->inner + j;                                       \
                int64_t *src = p->idx, *dst = p->tmp;                                              \
                for (int64_t i = 0; i < p->len; i++) src[i] = i;                                   \
                for (int64_t w = 1; w < p->len; w *= 2) {                                          \
                    for (int64_t s = 0; s < p->len; s += 2 * w) {                                  \
                        int64_t na = p->len - s < w ? p->len - s : w;                              \
                        int64_t rest = p->len - s - na, nb = rest < w ? rest : w;                  \
                        NAME##_merge(x, p->inner, p->largest, src + s, na, src + s + na, nb,       \
                                     dst + s);                                                     \
                    }                                                                              \
                    int64_t *t = src;                                                              \
                    src = dst;                                                                     \
                    dst = t;                                                                       \
                }                                                                                  \
                int64_t base = o * p->k * p->inner + j;                                            \
                for (int64_t i = 0; i < p->k; i++) {                                               \
                    if (ys) ys[base + i * p->inner] = x[src[i] * p->inner];                        \
                    if (yi) yi[base + i * p->inner] = src[i];                                      \
                }                                                                                  \
            }                                                                                      \
    }

TOPK_DEFINE(float, float, , f32)
TOPK_DEFINE(double, double, , f64)
TOPK_DEFINE(uint16_t, float, or_f16_to_f32, f16)
TOPK_DEFINE(uint16_t, float, or_bf16_to_f32, bf16)
TOPK_DEFINE(int8_t, int8_t, , i8)
TOPK_DEFINE(uint8_t, uint8_t, , u8)
TOPK_DEFINE(int16_t, int16_t, , i16)
TOPK_DEFINE(uint16_t, uint16_t, , u16)
TOPK_DEFINE(int32_t, int32_t, , i32)
TOPK_DEFINE(uint32_t, uint32_t, , u32)
TOPK_DEFINE(int64_t, int64_t, , i64)
TOPK_DEFINE(uint64_t, uint64_t, , u64)

static int topk_run(or_graph *g, or_node *n) {
    const topk_plan *p = n->state;
    const or_tensor *xt = or_input(g, n, 0);
    or_tensor *vt = or_output(g, n, 0), *it = or_output(g, n, 1);
    void *y = vt ? vt->data : NULL;
    int64_t *yi = it ? it->data : NULL;
    if (p->k == 0 || p->outer == 0 || p->inner == 0) return 0;
    switch (xt->dtype) {
    case OR_FLOAT:
        f32_run(p, xt->data, y, yi);
        break;
    case OR_DOUBLE:
        f64_run(p, xt->data, y, yi);
        break;
    case OR_FLOAT16:
        f16_run(p, xt->data, y, yi);
        break;
    case OR_BFLOAT16:
        bf16_run(p, xt->data, y, yi);
        break;
    case OR_INT8:
        i8_run(p, xt->data, y, yi);
        break;
    case OR_UINT8:
        u8_run(p, xt->data, y, yi);
        break;
    case OR_INT16:
        i16_run(p, xt->data, y, yi);
        break;
    case OR_UINT16:
        u16_run(p, xt->data, y, yi);
        break;
    case OR_INT32:
        i32_run(p, xt->data, y, yi);
        break;
    case OR_UINT32:
        u32_run(p, xt->data, y, yi);
        break;
    case OR_INT64:
        i64_run(p, xt->data, y, yi);
        break;
    default:
        u64_run(p, xt->data, y, yi);
        break;
    }
    return 0;
}

static bool dtype_ok(int dt) {
    switch (dt) {
    case OR_FLOAT:
    case OR_DOUBLE:
    case OR_FLOAT16:
    case OR_BFLOAT16:
    case OR_INT8:
    case OR_UINT8:
    case OR_INT16:
    case OR_UINT16:
    case OR_INT32:
    case OR_UINT32:
    case OR_INT64:
    case OR_UINT64:
        return true;
    default:
        return false;
    }
}

static int read_k(or_graph *g, or_node *n, int64_t *k) {
    if (n->opset < 10) {
        if (!or_attr_find(n, "k"))
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "attribute 'k' is required");
        *k = or_attr_int(n, "k", 0);
        return 0;
    }
    int64_t cnt = 0;
    int rc = shp_plan_ints(g, n, 1, "K", k, 1, &cnt);
    if (rc) return rc;
    if (cnt != 1) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input 'K' must hold one value");
    return 0;
}

int topk_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 2)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects input X and 2 outputs");
    if (!dtype_ok(x->dtype))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "dtype %s is not supported",
                            or_dtype_name(x->dtype));
    if (or_tensor_numel(x) < 0 || x->rank < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input must have a known shape of rank >= 1");
    int64_t attr = or_attr_int(n, "axis", -1), k;
    int axis = or_norm_axis(attr, x->rank);
    if (axis < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range for rank %d",
                            (long long)attr, x->rank);
    int rc = read_k(g, n, &k);
    if (rc) return rc;
    if (k < 0 || k > x->dims[axis])
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "k=%lld is out of range for axis of size %lld",
                            (long long)k, (long long)x->dims[axis]);
    topk_plan *p = or_calloc(1, sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = p;
    n->free_state = topk_free;
    p->largest = n->opset < 11 || or_attr_int(n, "largest", 1) != 0;
    p->outer = or_shape_numel(axis, x->dims);
    p->len = x->dims[axis];
    p->inner = or_shape_numel(x->rank - axis - 1, x->dims + axis + 1);
    p->k = k;
    if ((uint64_t)p->len > SIZE_MAX / (2 * sizeof(int64_t)))
        return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "axis too long");
    p->idx = or_malloc((size_t)(p->len ? p->len : 1) * 2 * sizeof(int64_t));
    if (!p->idx) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    p->tmp = p->idx + p->len;
    int64_t dims[OR_MAX_RANK];
    for (int d = 0; d < x->rank; d++) dims[d] = d == axis ? k : x->dims[d];
    n->run = topk_run;
    rc = or_set_output(g, n, 0, x->dtype, x->rank, dims);
    return rc ? rc : or_set_output(g, n, 1, OR_INT64, x->rank, dims);
}
