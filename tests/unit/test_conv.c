/* Conv on one-node graphs built by hand and run through the planner: 1-D with
 * pads and bias, 2-D grouped in double, auto_pad SAME_UPPER/SAME_LOWER with
 * stride, dilation with VALID, and a channel mismatch. Expected values are
 * worked out by hand in the comments. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "graph.h"

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define F32(...) ((const float[]){__VA_ARGS__})
#define F64(...) ((const double[]){__VA_ARGS__})

typedef struct {
    or_graph *g;
    or_node *n;
} one_node;

static one_node node(int n_in) {
    one_node t = {or_graph_new(), NULL};
    cr_assert_not_null(t.g);
    t.g->opset = 17;
    t.n = or_graph_add_node(t.g);
    t.n->name = strdup("conv0");
    t.n->op_type = strdup("Conv");
    t.n->domain = strdup("");
    t.n->opset = 17;
    t.n->n_inputs = n_in;
    t.n->inputs = calloc((size_t)n_in, sizeof(int));
    char name[16];
    for (int i = 0; i < n_in; i++) {
        snprintf(name, sizeof name, "in%d", i);
        t.n->inputs[i] = or_graph_tensor(t.g, name);
        cr_assert(t.n->inputs[i] >= 0);
    }
    t.n->n_outputs = 1;
    t.n->outputs = calloc(1, sizeof(int));
    t.n->outputs[0] = or_graph_tensor(t.g, "out0");
    cr_assert(t.n->outputs[0] >= 0);
    t.g->outputs = calloc(1, sizeof(int));
    t.g->outputs[t.g->n_outputs++] = t.n->outputs[0];
    t.g->tensors[t.n->outputs[0]].is_graph_output = true;
    return t;
}

/* Input i as a graph input (X) or an initializer (W, B). */
static void bind(one_node *t, int i, int dtype, int rank, const int64_t *dims, const void *data) {
    or_tensor *x = &t->g->tensors[t->n->inputs[i]];
    x->dtype = dtype;
    x->rank = rank;
    for (int k = 0; k < rank; k++) x->dims[k] = dims[k];
    x->nbytes = (size_t)or_shape_numel(rank, dims) * or_dtype_size(dtype);
    if (i == 0) {
        x->kind = OR_T_INPUT;
        x->data = (void *)data;
        t->g->inputs = calloc(1, sizeof(int));
        t->g->inputs[t->g->n_inputs++] = t->n->inputs[0];
        return;
    }
    x->kind = OR_T_INITIALIZER;
    x->is_static = true;
    x->owned = malloc(x->nbytes);
    memcpy(x->owned, data, x->nbytes);
    x->data = x->owned;
}

static or_attr *attr(one_node *t, const char *name, or_attr_type type) {
    or_node *n = t->n;
    n->attrs = realloc(n->attrs, sizeof(or_attr) * (size_t)(n->n_attrs + 1));
    or_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = type;
    return a;
}

static void attr_i(one_node *t, const char *name, int64_t v) {
    attr(t, name, OR_ATTR_INT)->i = v;
}
static void attr_s(one_node *t, const char *name, const char *v) {
    or_attr *a = attr(t, name, OR_ATTR_STRING);
    a->s = strdup(v);
    a->s_len = strlen(v);
}
static void attr_ints(one_node *t, const char *name, size_t count, const int64_t *v) {
    or_attr *a = attr(t, name, OR_ATTR_INTS);
    a->n = count;
    a->ints = malloc(sizeof(int64_t) * count);
    memcpy(a->ints, v, sizeof(int64_t) * count);
}

static int plan_run(one_node *t) {
    int status = or_graph_sort(t->g);
    if (status == ONNXRUN_OK) status = or_graph_check_ops(t->g);
    if (status == ONNXRUN_OK) status = or_graph_plan(t->g);
    if (status == ONNXRUN_OK) status = or_graph_run(t->g);
    return status;
}

static const void *result(one_node *t, int dtype, int rank, const int64_t *dims) {
    int status = plan_run(t);
    cr_assert_eq(status, ONNXRUN_OK, "%s", t->g->errmsg);
    const or_tensor *y = &t->g->tensors[t->n->outputs[0]];
    cr_assert_eq(y->dtype, dtype);
    cr_assert_eq(y->rank, rank);
    for (int d = 0; d < rank; d++)
        cr_assert_eq(y->dims[d], dims[d], "dim %d is %lld, expected %lld", d, (long long)y->dims[d],
                     (long long)dims[d]);
    return y->data;
}

static void expect_f32(one_node *t, int rank, const int64_t *dims, const float *want) {
    const float *y = result(t, OR_FLOAT, rank, dims);
    for (int64_t i = 0; i < or_shape_numel(rank, dims); i++)
        cr_expect(fabsf(y[i] - want[i]) <= 1e-5f, "[%lld] %g, expected %g", (long long)i, y[i],
                  want[i]);
    or_graph_free(t->g);
}

static const float X5[5] = {1, 2, 3, 4, 5};

/* y[o] = x[o-1] - x[o+1] + 10 with one zero pad each side. */
Test(conv, one_d_pads_and_bias) {
    one_node t = node(3);
    bind(&t, 0, OR_FLOAT, 3, DIMS(1, 1, 5), X5);
    bind(&t, 1, OR_FLOAT, 3, DIMS(1, 1, 3), F32(1, 0, -1));
    bind(&t, 2, OR_FLOAT, 1, DIMS(1), F32(10));
    attr_ints(&t, "pads", 2, DIMS(1, 1));
    expect_f32(&t, 3, DIMS(1, 1, 5), F32(8, 8, 8, 8, 14));
}

/* out = ceil(5/2) = 3, total pad (3-1)*2 + 2 - 5 = 1: at the end for SAME_UPPER
 * ([1+2, 3+4, 5+0]), at the start for SAME_LOWER ([0+1, 2+3, 4+5]). */
Test(conv, same_upper_stride) {
    one_node t = node(2);
    bind(&t, 0, OR_FLOAT, 3, DIMS(1, 1, 5), X5);
    bind(&t, 1, OR_FLOAT, 3, DIMS(1, 1, 2), F32(1, 1));
    attr_s(&t, "auto_pad", "SAME_UPPER");
    attr_ints(&t, "strides", 1, DIMS(2));
    expect_f32(&t, 3, DIMS(1, 1, 3), F32(3, 7, 5));
}

Test(conv, same_lower_stride) {
    one_node t = node(2);
    bind(&t, 0, OR_FLOAT, 3, DIMS(1, 1, 5), X5);
    bind(&t, 1, OR_FLOAT, 3, DIMS(1, 1, 2), F32(1, 1));
    attr_s(&t, "auto_pad", "SAME_LOWER");
    attr_ints(&t, "strides", 1, DIMS(2));
    expect_f32(&t, 3, DIMS(1, 1, 3), F32(1, 5, 9));
}

/* Dilation 2 makes the 2-tap kernel span 3: [1+3, 2+4, 3+5]. */
Test(conv, dilation_valid) {
    one_node t = node(2);
    bind(&t, 0, OR_FLOAT, 3, DIMS(1, 1, 5), X5);
    bind(&t, 1, OR_FLOAT, 3, DIMS(1, 1, 2), F32(1, 1));
    attr_s(&t, "auto_pad", "VALID");
    attr_ints(&t, "dilations", 1, DIMS(2));
    expect_f32(&t, 3, DIMS(1, 1, 3), F32(4, 6, 8));
}

/* group 2: channel 0 (1..9 as 3x3) summed over 2x2 windows; channel 1 (all
 * ones) against [1,2,3,4] gives 10 everywhere. */
Test(conv, two_d_groups_double) {
    one_node t = node(2);
    bind(&t, 0, OR_DOUBLE, 4, DIMS(1, 2, 3, 3),
         F64(1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    bind(&t, 1, OR_DOUBLE, 4, DIMS(2, 1, 2, 2), F64(1, 1, 1, 1, 1, 2, 3, 4));
    attr_i(&t, "group", 2);
    const double *y = result(&t, OR_DOUBLE, 4, DIMS(1, 2, 2, 2));
    const double want[8] = {12, 16, 24, 28, 10, 10, 10, 10};
    for (int i = 0; i < 8; i++)
        cr_expect_eq(y[i], want[i], "[%d] %g, expected %g", i, y[i], want[i]);
    or_graph_free(t.g);
}

Test(conv, channel_mismatch_fails) {
    one_node t = node(2);
    bind(&t, 0, OR_FLOAT, 3, DIMS(1, 2, 5), F32(1, 2, 3, 4, 5, 1, 2, 3, 4, 5));
    bind(&t, 1, OR_FLOAT, 3, DIMS(1, 1, 2), F32(1, 1));
    int status = plan_run(&t);
    cr_assert_eq(status, ONNXRUN_ERR_INPUT, "status %d: %s", status, t.g->errmsg);
    cr_assert(strstr(t.g->errmsg, "channels"), "%s", t.g->errmsg);
    or_graph_free(t.g);
}

/* y[m, o] = sum over c, kpos of w[m, c, kpos] * x[c, o*stride - pad_begin + kpos*dil]
 * (0 outside), computed straight from the definition for one image, 2-D. */
static void naive_conv2d(const float *x, int c, const int64_t in[2], const float *w, int m,
                         const int64_t k[2], const int64_t stride[2], const int64_t pad[4],
                         const int64_t dil[2], const int64_t out[2], float *y) {
    for (int mi = 0; mi < m; mi++)
        for (int64_t o0 = 0; o0 < out[0]; o0++)
            for (int64_t o1 = 0; o1 < out[1]; o1++) {
                double sum = 0;
                for (int ci = 0; ci < c; ci++)
                    for (int64_t k0 = 0; k0 < k[0]; k0++)
                        for (int64_t k1 = 0; k1 < k[1]; k1++) {
                            int64_t i0 = o0 * stride[0] - pad[0] + k0 * dil[0];
                            int64_t i1 = o1 * stride[1] - pad[1] + k1 * dil[1];
                            if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1]) continue;
                            sum += (double)w[((mi * c + ci) * k[0] + k0) * k[1] + k1] *
                                   x[(ci * in[0] + i0) * in[1] + i1];
                        }
                y[(mi * out[0] + o0) * out[1] + o1] = (float)sum;
            }
}

/* Strides 1-3, dilations 1-2 and uneven pads up to past the input (rows whose
 * window lies partly, wholly or never inside X), against the definition. */
Test(conv, two_d_strides_dilations_pads_match_definition) {
    const int c = 2, m = 2;
    const int64_t in[2] = {4, 5}, k[2] = {2, 3};
    float x[2 * 4 * 5], w[2 * 2 * 2 * 3];
    for (int i = 0; i < 40; i++) x[i] = (float)((i * 7) % 11) - 5;
    for (int i = 0; i < 24; i++) w[i] = (float)((i * 5) % 7) - 3;
    int cases = 0;
    for (int64_t s = 1; s <= 3; s++)
        for (int64_t d = 1; d <= 2; d++)
            for (int64_t pb = 0; pb <= 6; pb += 3)
                for (int64_t pe = 0; pe <= 4; pe += 4) {
                    const int64_t stride[2] = {1, s}, dil[2] = {d, d};
                    const int64_t pad[4] = {pb, pe, pe, pb};
                    int64_t out[2];
                    for (int a = 0; a < 2; a++)
                        out[a] =
                            (in[a] + pad[a] + pad[a + 2] - dil[a] * (k[a] - 1) - 1) / stride[a] + 1;
                    if (out[0] <= 0 || out[1] <= 0) continue;
                    float want[2 * 16 * 16];
                    naive_conv2d(x, c, in, w, m, k, stride, pad, dil, out, want);
                    one_node t = node(2);
                    bind(&t, 0, OR_FLOAT, 4, DIMS(1, c, in[0], in[1]), x);
                    bind(&t, 1, OR_FLOAT, 4, DIMS(m, c, k[0], k[1]), w);
                    attr_ints(&t, "strides", 2, stride);
                    attr_ints(&t, "dilations", 2, dil);
                    attr_ints(&t, "pads", 4, pad);
                    expect_f32(&t, 4, DIMS(1, m, out[0], out[1]), want);
                    cases++;
                }
    cr_assert_eq(cases, 36);
}

/* A pad far past the input (a hostile model's) gives a long output that is
 * zero but where the kernel meets X: x = [1, 2, 3], w = [1, 10], pads
 * 100000 each side, y[o] = x[o - 100000] + 10 x[o - 99999]. */
Test(conv, huge_pad_is_zero_outside) {
    one_node t = node(2);
    bind(&t, 0, OR_FLOAT, 3, DIMS(1, 1, 3), F32(1, 2, 3));
    bind(&t, 1, OR_FLOAT, 3, DIMS(1, 1, 2), F32(1, 10));
    attr_ints(&t, "pads", 2, DIMS(100000, 100000));
    const float *y = result(&t, OR_FLOAT, 3, DIMS(1, 1, 200002));
    int nonzero = 0;
    for (int64_t o = 0; o < 200002; o++) nonzero += y[o] != 0;
    cr_assert_eq(nonzero, 4);
    cr_assert_eq(y[99999], 10);  /* 10 x[0] */
    cr_assert_eq(y[100000], 21); /* x[0] + 10 x[1] */
    cr_assert_eq(y[100001], 32); /* x[1] + 10 x[2] */
    cr_assert_eq(y[100002], 3);  /* x[2] */
    or_graph_free(t.g);
}

/* ---- random shapes against the definition ---- */

typedef struct {
    int nd, c, m;
    int64_t in[3], k[3], stride[3], dil[3], pad[6], out[3];
} conv_case;

static uint32_t conv_rng = 12345;
static int64_t rand_in(int64_t lo, int64_t hi) {
    conv_rng = conv_rng * 1103515245u + 12345u;
    return lo + (int64_t)((conv_rng >> 8) % (uint32_t)(hi - lo + 1));
}

/* y[mi, o] for the spatial position o, straight from the definition. */
static double naive_at(const conv_case *q, const double *x, const double *w, int mi,
                       const int64_t *o) {
    int64_t ksize = 1, in_size = 1;
    for (int d = 0; d < q->nd; d++) ksize *= q->k[d], in_size *= q->in[d];
    double sum = 0;
    for (int ci = 0; ci < q->c; ci++)
        for (int64_t kr = 0; kr < ksize; kr++) {
            int64_t rest = kr, xi = 0, kp[3];
            for (int d = q->nd - 1; d >= 0; d--) kp[d] = rest % q->k[d], rest /= q->k[d];
            bool inside = true;
            for (int d = 0; d < q->nd; d++) {
                int64_t i = o[d] * q->stride[d] - q->pad[d] + kp[d] * q->dil[d];
                inside = inside && i >= 0 && i < q->in[d];
                xi = xi * q->in[d] + i;
            }
            if (inside) sum += w[(mi * q->c + ci) * ksize + kr] * x[ci * in_size + xi];
        }
    return sum;
}

/* A random case: 1-3 spatial dims of 1-5, kernels 1-3, strides 1-3,
 * dilations 1-2, pads 0-7 each side (often past the input); 0 when the
 * kernel outgrows the padded input. */
static bool make_case(conv_case *q) {
    q->nd = (int)rand_in(1, 3), q->c = (int)rand_in(1, 2), q->m = (int)rand_in(1, 2);
    for (int d = 0; d < q->nd; d++) {
        q->in[d] = rand_in(1, 5), q->k[d] = rand_in(1, 3);
        q->stride[d] = rand_in(1, 3), q->dil[d] = rand_in(1, 2);
        q->pad[d] = rand_in(0, 7), q->pad[q->nd + d] = rand_in(0, 7);
        int64_t span = q->in[d] + q->pad[d] + q->pad[q->nd + d] - (q->k[d] - 1) * q->dil[d] - 1;
        if (span < 0) return false;
        q->out[d] = span / q->stride[d] + 1;
    }
    return true;
}

/* Float and double Conv over random 1-3-D cases equals the definition. */
Test(conv, random_shapes_match_definition) {
    int checked = 0;
    for (int iter = 0; iter < 400; iter++) {
        conv_case q;
        if (!make_case(&q)) continue;
        int64_t in_size = 1, ksize = 1, out_size = 1;
        for (int d = 0; d < q.nd; d++) in_size *= q.in[d], ksize *= q.k[d], out_size *= q.out[d];
        double x[2 * 125], w[2 * 2 * 27];
        float xf[2 * 125], wf[2 * 2 * 27];
        for (int64_t i = 0; i < q.c * in_size; i++) xf[i] = (float)(x[i] = (double)rand_in(-4, 4));
        for (int64_t i = 0; i < q.m * q.c * ksize; i++)
            wf[i] = (float)(w[i] = (double)rand_in(-3, 3));
        int64_t xd[5] = {1, q.c}, wd[5] = {q.m, q.c}, yd[5] = {1, q.m};
        for (int d = 0; d < q.nd; d++)
            xd[2 + d] = q.in[d], wd[2 + d] = q.k[d], yd[2 + d] = q.out[d];
        bool dbl = iter % 2;
        one_node t = node(2);
        bind(&t, 0, dbl ? OR_DOUBLE : OR_FLOAT, 2 + q.nd, xd, dbl ? (const void *)x : xf);
        bind(&t, 1, dbl ? OR_DOUBLE : OR_FLOAT, 2 + q.nd, wd, dbl ? (const void *)w : wf);
        attr_ints(&t, "strides", (size_t)q.nd, q.stride);
        attr_ints(&t, "dilations", (size_t)q.nd, q.dil);
        attr_ints(&t, "pads", (size_t)(2 * q.nd), q.pad);
        const void *y = result(&t, dbl ? OR_DOUBLE : OR_FLOAT, 2 + q.nd, yd);
        for (int mi = 0; mi < q.m; mi++)
            for (int64_t op = 0; op < out_size; op++) {
                int64_t o[3], rest = op;
                for (int d = q.nd - 1; d >= 0; d--) o[d] = rest % q.out[d], rest /= q.out[d];
                double want = naive_at(&q, x, w, mi, o);
                double got = dbl ? ((const double *)y)[mi * out_size + op]
                                 : ((const float *)y)[mi * out_size + op];
                cr_assert_eq(got, want, "iteration %d, nd %d, m %d, position %lld: %g, expected %g",
                             iter, q.nd, mi, (long long)op, got, want);
            }
        or_graph_free(t.g);
        checked++;
    }
    cr_assert_geq(checked, 300, "%d cases", checked);
}

/* Strides up to INT32_MAX plan and run (one output position per row past the
 * input); larger ones fail at load, naming the axis. */
Test(conv, huge_strides) {
    one_node t = node(2);
    bind(&t, 0, OR_FLOAT, 3, DIMS(1, 1, 3), F32(1, 2, 3));
    bind(&t, 1, OR_FLOAT, 3, DIMS(1, 1, 1), F32(2));
    attr_ints(&t, "strides", 1, DIMS(INT32_MAX));
    attr_ints(&t, "pads", 2, DIMS(0, 1));
    expect_f32(&t, 3, DIMS(1, 1, 1), F32(2));
    t = node(2);
    bind(&t, 0, OR_FLOAT, 3, DIMS(1, 1, 3), F32(1, 2, 3));
    bind(&t, 1, OR_FLOAT, 3, DIMS(1, 1, 1), F32(2));
    attr_ints(&t, "strides", 1, DIMS((int64_t)INT32_MAX + 1));
    int status = plan_run(&t);
    cr_assert_eq(status, ONNXRUN_ERR_MODEL, "status %d", status);
    cr_assert(strstr(t.g->errmsg, "stride"), "%s", t.g->errmsg);
    or_graph_free(t.g);
}
