/* Conv (opsets 1-23): float and double (float16 and bfloat16 through float32
 * copies made at run time into buffers sized while planning, the output
 * rounded once), any number of spatial dims (1-D, 2-D,
 * 3-D, ...), with auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID),
 * dilations, group, kernel_shape (inferred from W when absent), pads,
 * strides and the optional bias B. Each (batch, group) pair is unfolded with
 * im2col into a scratch buffer sized while planning, then multiplied by that
 * group's slice of W through the shared GEMM. */
#include "../runtime/alloc.h"
#include "convert.h"
#include "kernels/gemm.h"
#include "op.h"

#include <stdlib.h>
#include <string.h>

#define CONV_MAX_SPATIAL (OR_MAX_RANK - 2)

typedef struct conv_plan {
    int nd; /* spatial rank */
    int64_t batch, c, m, group;
    int64_t in[CONV_MAX_SPATIAL], k[CONV_MAX_SPATIAL], out[CONV_MAX_SPATIAL];
    int64_t pad[CONV_MAX_SPATIAL], stride[CONV_MAX_SPATIAL], dil[CONV_MAX_SPATIAL];
    int64_t in_size, k_size, out_size; /* spatial element counts */
    int64_t kdim;                      /* GEMM K: (C/group) * k_size */
    bool direct;                       /* 1x1, stride 1, no pad: X is already the column matrix */
    void *col;                         /* [kdim, out_size] */
    float *f32[4];                     /* float16/bfloat16: X, W, B, Y as float32 */
    int64_t f32_len[4];                /* their element counts (B: 0 when absent) */
} conv_plan;

static void free_plan(void *state) {
    conv_plan *p = state;
    if (!p) return;
    or_free(p->col);
    for (int i = 0; i < 4; i++) or_free(p->f32[i]);
    or_free(p);
}

/* The output positions o of one row along a dimension whose input index
 * start + o*stride (start = kp*dil - pad) falls inside [0, in): [*lo, *hi),
 * possibly empty. Planning bounds stride, dil, k and the pads by INT32_MAX. */
static void inside_span(int64_t out, int64_t in, int64_t stride, int64_t start, int64_t *lo,
                        int64_t *hi) {
    int64_t a = start >= 0 ? 0 : (-start - 1) / stride + 1;      /* first o with index >= 0 */
    int64_t b = start >= in ? 0 : (in - start - 1) / stride + 1; /* first o with index >= in */
    *lo = a < out ? a : out;
    *hi = b < out ? b : out;
    if (*hi < *lo) *hi = *lo;
}

/* col[r, o] = X[c, o*stride - pad + kpos*dil] (0 outside), r = (c, kpos).
 * Each row of the last spatial dimension is filled at once: zeros for the
 * positions reading padding (a hostile pad makes most of them that), then
 * the inside span, copied whole when its stride is 1. */
#define IM2COL(T)                                                                                  \
    static void im2col_##T(const conv_plan *p, const T *x, T *col) {                               \
        const int nd = p->nd, last = nd - 1;                                                       \
        const int64_t out_last = p->out[last], rows = p->out_size / (out_last ? out_last : 1);     \
        for (int64_t r = 0; r < p->kdim; r++) {                                                    \
            int64_t ch = r / p->k_size, kr = r % p->k_size, kp[CONV_MAX_SPATIAL];                  \
            for (int d = nd - 1; d >= 0; d--) {                                                    \
                kp[d] = kr % p->k[d];                                                              \
                kr /= p->k[d];                                                                     \
            }                                                                                      \
            const T *xc = x + ch * p->in_size;                                                     \
            const int64_t start = kp[last] * p->dil[last] - p->pad[last], step = p->stride[last];  \
            int64_t lo, hi;                                                                        \
            inside_span(out_last, p->in[last], step, start, &lo, &hi);                             \
            T *dst = col + r * p->out_size;                                                        \
            int64_t o[CONV_MAX_SPATIAL] = {0}; /* the outer dimensions' output position */         \
            for (int64_t row = 0; row < rows; row++, dst += out_last) {                            \
                int64_t off = 0;                                                                   \
                bool inside = true;                                                                \
                for (int d = 0; d < last && inside; d++) {                                         \
                    int64_t i = o[d] * p->stride[d] - p->pad[d] + kp[d] * p->dil[d];               \
                    inside = i >= 0 && i < p->in[d];                                               \
                    off = off * p->in[d] + i;                                                      \
                }                                                                                  \
                for (int d = last - 1; d >= 0 && ++o[d] == p->out[d]; d--) o[d] = 0;               \
                if (!inside || lo == hi) {                                                         \
                    memset(dst, 0, sizeof(T) * (size_t)out_last);                                  \
                    continue;                                                                      \
                }                                                                                  \
                memset(dst, 0, sizeof(T) * (size_t)lo);                                            \
                int64_t first = off * p->in[last] + start + lo * step; /* X's index for o = lo */  \
                if (step == 1)                                                                     \
                    memcpy(dst + lo, xc + first, sizeof(T) * (size_t)(hi - lo));                   \
                else                                                                               \
                    for (int64_t q = lo; q < hi; q++) dst[q] = xc[first + (q - lo) * step];        \
                memset(dst + hi, 0, sizeof(T) * (size_t)(out_last - hi));                          \
            }                                                                                      \
        }                                                                                          \
    }
IM2COL(float)
IM2COL(double)

#define CONV_RUN(T, GEMM, XD, WD, BD, YD)                                                          \
    do {                                                                                           \
        const T *xs = XD, *ws = WD, *bs = BD;                                                      \
        T *ys = YD;                                                                                \
        int64_t cg = p->c / p->group, mg = p->m / p->group;                                        \
        for (int64_t bi = 0; bi < p->batch; bi++)                                                  \
            for (int64_t gi = 0; gi < p->group; gi++) {                                            \
                const T *xg = xs + (bi * p->c + gi * cg) * p->in_size;                             \
                T *yg = ys + (bi * p->m + gi * mg) * p->out_size;                                  \
                const T *colm = xg;                                                                \
                if (!p->direct) {                                                                  \
                    im2col_##T(p, xg, p->col);                                                     \
                    colm = p->col;                                                                 \
                }                                                                                  \
                GEMM(false, false, mg, p->out_size, p->kdim, 1, ws + gi * mg * p->kdim, p->kdim,   \
                     colm, p->out_size, 0, yg, p->out_size, g->pool);                              \
                if (!bs) continue;                                                                 \
                for (int64_t mi = 0; mi < mg; mi++)                                                \
                    for (int64_t o = 0; o < p->out_size; o++)                                      \
                        yg[mi * p->out_size + o] += bs[gi * mg + mi];                              \
            }                                                                                      \
    } while (0)

static int conv_run(or_graph *g, or_node *n) {
    const conv_plan *p = n->state;
    const or_tensor *x = or_input(g, n, 0), *w = or_input(g, n, 1), *b = or_input(g, n, 2);
    or_tensor *y = or_output(g, n, 0);
    if (p->batch == 0 || p->m == 0 || p->out_size == 0) return 0;
    if (p->f32[0]) { /* float16/bfloat16 */
        float *const *f = p->f32;
        or_load_f32(x->dtype, x->data, f[0], p->f32_len[0]);
        or_load_f32(w->dtype, w->data, f[1], p->f32_len[1]);
        if (b) or_load_f32(b->dtype, b->data, f[2], p->f32_len[2]);
        if (p->kdim == 0) memset(f[3], 0, (size_t)p->f32_len[3] * sizeof(float));
        CONV_RUN(float, or_sgemm, f[0], f[1], b ? f[2] : NULL, f[3]);
        or_store_f32(y->dtype, f[3], y->data, p->f32_len[3], true);
        return 0;
    }
    if (p->kdim == 0) { /* no input channels: only the bias remains */
        memset(y->data, 0, y->nbytes);
    }
    if (x->dtype == OR_FLOAT)
        CONV_RUN(float, or_sgemm, x->data, w->data, b ? b->data : NULL, y->data);
    else
        CONV_RUN(double, or_dgemm, x->data, w->data, b ? b->data : NULL, y->data);
    return 0;
}

/* a * b into *r; false on overflow or a negative operand. */
static bool mul_ok(int64_t a, int64_t b, int64_t *r) {
    if (a < 0 || b < 0 || (a != 0 && b > INT64_MAX / a)) return false;
    *r = a * b;
    return true;
}

static int read_ints(or_graph *g, or_node *n, const char *name, size_t want, int64_t *dst,
                     int64_t dflt) {
    size_t cnt = 0;
    const int64_t *v = or_attr_ints(n, name, &cnt);
    for (size_t i = 0; i < want; i++) dst[i] = dflt;
    if (!v) return 0;
    if (cnt != want)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "%s has %zu values, expected %zu", name, cnt,
                            want);
    memcpy(dst, v, want * sizeof *dst);
    return 0;
}

/* Output dims and leading pads for each spatial axis. */
static int plan_spatial(or_graph *g, or_node *n, conv_plan *p, const int64_t *pads) {
    const char *ap = or_attr_string(n, "auto_pad", "NOTSET");
    bool same_up = !strcmp(ap, "SAME_UPPER"), same_lo = !strcmp(ap, "SAME_LOWER");
    bool valid = !strcmp(ap, "VALID");
    if (!same_up && !same_lo && !valid && strcmp(ap, "NOTSET") && ap[0])
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported auto_pad '%s'", ap);
    for (int d = 0; d < p->nd; d++) {
        int64_t s = p->stride[d], dl = p->dil[d];
        if (s <= 0 || dl <= 0 || p->k[d] <= 0 || p->k[d] > INT32_MAX || dl > INT32_MAX ||
            s > INT32_MAX)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "bad stride/dilation/kernel on axis %d",
                                d);
        int64_t dk = (p->k[d] - 1) * dl + 1, in = p->in[d], out;
        if (same_up || same_lo) {
            out = (in + s - 1) / s;
            int64_t total = (out - 1) * s + dk - in;
            if (total < 0) total = 0;
            p->pad[d] = same_up ? total / 2 : total - total / 2;
        } else {
            int64_t pb = valid ? 0 : pads[d], pe = valid ? 0 : pads[p->nd + d];
            if (pb < 0 || pe < 0 || pb > INT32_MAX || pe > INT32_MAX)
                return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "bad pads on axis %d", d);
            int64_t span = in + pb + pe - dk;
            if (span < 0)
                return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                    "kernel larger than padded input on axis %d", d);
            out = span / s + 1;
            p->pad[d] = pb;
        }
        p->out[d] = out;
    }
    return 0;
}

static int check_inputs(or_graph *g, or_node *n, const or_tensor *x, const or_tensor *w,
                        const or_tensor *b) {
    if (!x || !w || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects inputs X, W and 1 output");
    if ((x->dtype != OR_FLOAT && x->dtype != OR_DOUBLE && x->dtype != OR_FLOAT16 &&
         x->dtype != OR_BFLOAT16) ||
        w->dtype != x->dtype || (b && b->dtype != x->dtype))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported dtypes %s x %s",
                            or_dtype_name(x->dtype), or_dtype_name(w->dtype));
    if (x->rank < 3 || w->rank != x->rank || or_tensor_numel(x) < 0 || or_tensor_numel(w) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                            "X and W must be known shapes of the same rank >= 3");
    if (b && (b->rank != 1 || b->dims[0] != w->dims[0]))
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "B must be 1-D of size M");
    return 0;
}

static int plan_shapes(or_graph *g, or_node *n, conv_plan *p, const or_tensor *x,
                       const or_tensor *w) {
    p->nd = x->rank - 2;
    p->batch = x->dims[0];
    p->c = x->dims[1];
    p->m = w->dims[0];
    p->group = or_attr_int(n, "group", 1);
    if (p->group <= 0 || p->c % p->group || p->m % p->group || w->dims[1] * p->group != p->c)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                            "channels (X %lld, W %lld x group %lld) "
                            "do not match",
                            (long long)p->c, (long long)w->dims[1], (long long)p->group);
    int64_t ks[CONV_MAX_SPATIAL], pads[2 * CONV_MAX_SPATIAL];
    int rc = read_ints(g, n, "kernel_shape", (size_t)p->nd, ks, 0);
    if (!rc) rc = read_ints(g, n, "strides", (size_t)p->nd, p->stride, 1);
    if (!rc) rc = read_ints(g, n, "dilations", (size_t)p->nd, p->dil, 1);
    if (!rc) rc = read_ints(g, n, "pads", 2 * (size_t)p->nd, pads, 0);
    if (rc) return rc;
    for (int d = 0; d < p->nd; d++) {
        p->in[d] = x->dims[2 + d];
        p->k[d] = w->dims[2 + d];
        if (or_attr_find(n, "kernel_shape") && ks[d] != p->k[d])
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "kernel_shape does not match W");
    }
    return plan_spatial(g, n, p, pads);
}

static int plan_buffers(or_graph *g, or_node *n, conv_plan *p, size_t esize) {
    p->in_size = or_shape_numel(p->nd, p->in);
    p->k_size = or_shape_numel(p->nd, p->k);
    p->out_size = or_shape_numel(p->nd, p->out);
    int64_t bytes;
    if (p->in_size < 0 || p->k_size < 0 || p->out_size < 0 ||
        !mul_ok(p->c / p->group, p->k_size, &p->kdim) || !mul_ok(p->kdim, p->out_size, &bytes) ||
        !mul_ok(bytes, (int64_t)esize, &bytes) || (uint64_t)bytes > SIZE_MAX)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "convolution size overflows");
    p->direct = p->k_size == 1;
    for (int d = 0; d < p->nd; d++)
        if (p->stride[d] != 1 || p->pad[d] != 0 || p->out[d] != p->in[d]) p->direct = false;
    if (!p->direct && bytes > 0) {
        p->col = or_malloc((size_t)bytes);
        if (!p->col) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* float16/bfloat16: float32 buffers for X, W, B and Y. */
static int plan_f32(or_graph *g, or_node *n, conv_plan *p, const or_tensor *x, const or_tensor *w,
                    const or_tensor *b) {
    int64_t y_len;
    if (!mul_ok(p->batch, p->m, &y_len) || !mul_ok(y_len, p->out_size, &y_len) ||
        (uint64_t)y_len > SIZE_MAX / sizeof(float) - 1)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "convolution size overflows");
    const int64_t len[4] = {or_tensor_numel(x), or_tensor_numel(w), b ? or_tensor_numel(b) : 0,
                            y_len};
    for (int i = 0; i < 4; i++) {
        p->f32_len[i] = len[i];
        p->f32[i] = or_malloc(((size_t)len[i] + 1) * sizeof(float)); /* never zero bytes */
        if (!p->f32[i]) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    }
    return 0;
}

int conv_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0), *w = or_input(g, n, 1), *b = or_input(g, n, 2);
    int rc = check_inputs(g, n, x, w, b);
    if (rc) return rc;
    conv_plan *p = or_calloc(1, sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = p;
    n->free_state = free_plan;
    rc = plan_shapes(g, n, p, x, w);
    bool half = x->dtype == OR_FLOAT16 || x->dtype == OR_BFLOAT16;
    if (!rc) rc = plan_buffers(g, n, p, half ? sizeof(float) : or_dtype_size(x->dtype));
    if (!rc && half) rc = plan_f32(g, n, p, x, w, b);
    if (rc) return rc;
    n->run = conv_run;
    int64_t dims[OR_MAX_RANK] = {p->batch, p->m};
    memcpy(dims + 2, p->out, (size_t)p->nd * sizeof *dims);
    return or_set_output(g, n, 0, x->dtype, x->rank, dims);
}
