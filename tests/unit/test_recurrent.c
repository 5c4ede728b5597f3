/* RNN, GRU and LSTM through the graph API and the planner: hand-derived
 * single-unit cases, onnxruntime reference cases (recurrent_ort_cases.h),
 * every ISA variant and thread count against the scalar reference on random
 * shapes, the fast activations' error bounds, and load/run-time errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cpu.h"
#include "exec.h"
#include "graph.h"
#include "kernels/rnn_kernels.h"
#include "recurrent.h"
#include "registry.h"
#include "threadpool.h"

#include "recurrent_ort_cases.h"

/* ---- building one-node graphs ---- */

static const char *const IN_NAMES[8] = {"X",         "W",         "R", "B", "sequence_lens",
                                        "initial_h", "initial_c", "P"};
static const char *const OUT_NAMES[3] = {"Y", "Y_h", "Y_c"};

typedef struct rnn_desc {
    const char *op;
    int opset;
    int dtype;             /* OR_FLOAT or OR_DOUBLE; data below is always float */
    const char *direction; /* NULL: attribute absent (forward) */
    int64_t T, B, I, H, D;
    bool no_hidden_attr;
    double clip; /* NAN: absent */
    int input_forget, lbr;
    int layout; /* -1: absent */
    const char *const *acts;
    int n_acts;
    const float *alpha, *beta;
    int n_alpha, n_beta;
    const float *in[8]; /* X W R B (lens) h0 c0 P, NULL when absent; in[4] unused */
    const int32_t *lens;
    bool graph_weights; /* W, R, B, P as graph inputs instead of initializers */
    bool want[3];       /* Y, Y_h, Y_c */
} rnn_desc;

static int64_t gates_of(const char *op) {
    return strcmp(op, "LSTM") == 0 ? 4 : strcmp(op, "GRU") == 0 ? 3 : 1;
}

static int input_shape(const rnn_desc *d, int i, int64_t *dims) {
    int64_t gh = gates_of(d->op) * d->H;
    bool l1 = d->layout == 1;
    switch (i) {
    case 0:
        dims[0] = l1 ? d->B : d->T, dims[1] = l1 ? d->T : d->B, dims[2] = d->I;
        return 3;
    case 1:
    case 2:
        dims[0] = d->D, dims[1] = gh, dims[2] = i == 1 ? d->I : d->H;
        return 3;
    case 3:
        dims[0] = d->D, dims[1] = 2 * gh;
        return 2;
    case 4:
        dims[0] = d->B;
        return 1;
    case 7:
        dims[0] = d->D, dims[1] = 3 * d->H;
        return 2;
    default: /* initial_h, initial_c */
        dims[0] = l1 ? d->B : d->D, dims[1] = l1 ? d->D : d->B, dims[2] = d->H;
        return 3;
    }
}

static void add_input(or_graph *g, const rnn_desc *d, int i) {
    int t = or_graph_tensor(g, IN_NAMES[i]);
    cr_assert(t >= 0);
    or_tensor *x = &g->tensors[t];
    x->rank = input_shape(d, i, x->dims);
    int64_t n = or_shape_numel(x->rank, x->dims);
    x->dtype = i == 4 ? OR_INT32 : d->dtype;
    size_t esz = or_dtype_size(x->dtype);
    void *buf = malloc((size_t)n * esz + 1);
    cr_assert_not_null(buf);
    for (int64_t k = 0; k < n; k++) {
        if (i == 4)
            ((int32_t *)buf)[k] = d->lens[k];
        else if (d->dtype == OR_FLOAT)
            ((float *)buf)[k] = d->in[i][k];
        else
            ((double *)buf)[k] = d->in[i][k];
    }
    x->owned = x->data = buf;
    x->owned_len = x->nbytes = (size_t)n * esz;
    bool weight = i == 1 || i == 2 || i == 3 || i == 7;
    if (weight && !d->graph_weights) {
        x->kind = OR_T_INITIALIZER;
        x->is_static = true;
    } else {
        x->kind = OR_T_INPUT;
        g->inputs = realloc(g->inputs, sizeof(int) * (size_t)(g->n_inputs + 1));
        g->inputs[g->n_inputs++] = t;
    }
}

static or_attr *new_attr(or_node *n, const char *name, or_attr_type type) {
    n->attrs = realloc(n->attrs, sizeof *n->attrs * (size_t)(n->n_attrs + 1));
    or_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = type;
    return a;
}

static void attr_int(or_node *n, const char *name, int64_t v) {
    new_attr(n, name, OR_ATTR_INT)->i = v;
}

static void attr_floats(or_node *n, const char *name, const float *v, int count) {
    or_attr *a = new_attr(n, name, OR_ATTR_FLOATS);
    a->n = (size_t)count;
    a->floats = malloc(sizeof(float) * (size_t)count + 1);
    memcpy(a->floats, v, sizeof(float) * (size_t)count);
}

static void add_attrs(or_node *n, const rnn_desc *d) {
    if (d->direction) {
        or_attr *a = new_attr(n, "direction", OR_ATTR_STRING);
        a->s = strdup(d->direction);
        a->s_len = strlen(a->s);
    }
    if (!d->no_hidden_attr) attr_int(n, "hidden_size", d->H);
    if (!isnan(d->clip)) new_attr(n, "clip", OR_ATTR_FLOAT)->f = (float)d->clip;
    if (d->input_forget) attr_int(n, "input_forget", d->input_forget);
    if (d->lbr) attr_int(n, "linear_before_reset", d->lbr);
    if (d->layout >= 0) attr_int(n, "layout", d->layout);
    if (d->n_acts) {
        or_attr *a = new_attr(n, "activations", OR_ATTR_STRINGS);
        a->n = (size_t)d->n_acts;
        a->strings = calloc((size_t)d->n_acts, sizeof(char *));
        for (int i = 0; i < d->n_acts; i++) a->strings[i] = strdup(d->acts[i]);
    }
    if (d->n_alpha) attr_floats(n, "activation_alpha", d->alpha, d->n_alpha);
    if (d->n_beta) attr_floats(n, "activation_beta", d->beta, d->n_beta);
}

static or_node *add_node(or_graph *g, const rnn_desc *d) {
    or_node *n = or_graph_add_node(g);
    cr_assert_not_null(n);
    n->name = strdup("rec_under_test");
    n->op_type = strdup(d->op);
    n->domain = strdup("");
    n->opset = d->opset;
    int n_in = 3;
    for (int i = 3; i < 8; i++)
        if (i == 4 ? d->lens != NULL : d->in[i] != NULL) n_in = i + 1;
    n->n_inputs = n_in;
    n->inputs = calloc((size_t)n_in, sizeof(int));
    for (int i = 0; i < n_in; i++) {
        bool present = i < 3 || (i == 4 ? d->lens != NULL : d->in[i] != NULL);
        n->inputs[i] = present ? or_graph_find_tensor(g, IN_NAMES[i]) : -1;
    }
    int n_out = 0;
    for (int i = 0; i < 3; i++)
        if (d->want[i]) n_out = i + 1;
    n->n_outputs = n_out;
    n->outputs = calloc((size_t)n_out + 1, sizeof(int));
    for (int i = 0; i < n_out; i++) {
        n->outputs[i] = d->want[i] ? or_graph_tensor(g, OUT_NAMES[i]) : -1;
        if (!d->want[i]) continue;
        int t = n->outputs[i];
        g->tensors[t].is_graph_output = true;
        g->outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
        g->outputs[g->n_outputs++] = t;
    }
    add_attrs(n, d);
    return n;
}

/* Builds, plans and runs; *out gets the graph (also on failure). */
static int build_run(const rnn_desc *d, or_threadpool *pool, or_graph **out) {
    or_graph *g = or_graph_new();
    cr_assert_not_null(g);
    g->opset = d->opset;
    g->pool = pool;
    g->num_threads = or_threadpool_size(pool);
    for (int i = 0; i < 8; i++)
        if (i < 3 || (i == 4 ? d->lens != NULL : d->in[i] != NULL)) add_input(g, d, i);
    add_node(g, d);
    *out = g;
    int st = or_graph_sort(g);
    if (!st) st = or_graph_check_ops(g);
    if (!st) st = or_graph_plan(g);
    if (!st) st = or_graph_run(g);
    return st;
}

/* Copies an output as doubles; returns its element count. */
static int64_t fetch(or_graph *g, const char *name, double *dst, int64_t cap) {
    const or_tensor *t = &g->tensors[or_graph_find_tensor(g, name)];
    int64_t n = or_tensor_numel(t);
    cr_assert(n >= 0 && n <= cap, "%s has %lld elements", name, (long long)n);
    for (int64_t i = 0; i < n; i++)
        dst[i] = t->dtype == OR_FLOAT ? ((const float *)t->data)[i] : ((const double *)t->data)[i];
    return n;
}

static void expect_close(const char *what, const double *got, const double *want, int64_t n,
                         double atol, double rtol) {
    for (int64_t i = 0; i < n; i++)
        cr_assert(fabs(got[i] - want[i]) <= atol + rtol * fabs(want[i]),
                  "%s[%lld]: got %.9g, expected %.9g", what, (long long)i, got[i], want[i]);
}

static double sigm(double x) {
    return 1 / (1 + exp(-x));
}

static const char *const ISAS[] = {"scalar", "avx2", "avx512"};

/* Caps the ISA; false when the CPU lacks it. */
static bool use_isa(int i) {
    setenv("ONNXRUN_ISA", ISAS[i], 1);
    or_cpu_reset();
    return (int)or_cpu_isa() == i;
}

static void default_isa(void) {
    unsetenv("ONNXRUN_ISA");
    or_cpu_reset();
}

/* Runs the rest of the block once per ISA the CPU has. */
#define FOR_EACH_ISA(isa)                                                                          \
    for (int isa = 0; isa < 3; isa++)                                                              \
        if (use_isa(isa))

/* ---- hand-derived cases: one unit, one input, two steps (every ISA) ---- */

/* h1 = tanh(0.5*1 - 0.25*0.3 + 0.1 + 0.2) = tanh(0.725)
 * h2 = tanh(0.5*2 - 0.25*h1 + 0.3) */
Test(recurrent, rnn_two_steps_by_hand) {
    const float x[] = {1, 2}, w[] = {0.5f}, r[] = {-0.25f}, b[] = {0.1f, 0.2f}, h0[] = {0.3f};
    FOR_EACH_ISA(isa)
    for (int dtype = OR_FLOAT; dtype <= OR_DOUBLE; dtype += OR_DOUBLE - OR_FLOAT) {
        rnn_desc d = {.op = "RNN",
                      .opset = 14,
                      .dtype = dtype,
                      .T = 2,
                      .B = 1,
                      .I = 1,
                      .H = 1,
                      .D = 1,
                      .clip = NAN,
                      .layout = -1,
                      .in = {x, w, r, b, NULL, h0},
                      .want = {true, true}};
        or_graph *g;
        cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
        double h1 = tanh(0.725), h2 = tanh(1.3 - 0.25 * h1), y[2], yh[1];
        fetch(g, "Y", y, 2);
        fetch(g, "Y_h", yh, 1);
        double want[2] = {h1, h2};
        expect_close("Y", y, want, 2, 1e-6, 0);
        expect_close("Y_h", yh, &h2, 1, 1e-6, 0);
        or_graph_free(g);
    }
}

/* Gates i o f c; W = [.5 -.3 .8 .2], R = [.1 .2 -.4 .6], Wb + Rb =
 * [.15 .1 .3 .5], P (i o f) = [.3 -.2 .5], h0 = .2, c0 = -.4, X = [1, -1]:
 *   i = σ(.5x + .1h + .3c + .15)   f = σ(.8x - .4h + .5c + .3)
 *   g = tanh(.2x + .6h + .5)       c' = f c + i g
 *   o = σ(-.3x + .2h - .2c' + .1)  h' = o tanh(c') */
Test(recurrent, lstm_peepholes_by_hand) {
    const float x[] = {1, -1}, w[] = {0.5f, -0.3f, 0.8f, 0.2f}, r[] = {0.1f, 0.2f, -0.4f, 0.6f};
    const float b[] = {0.1f, 0.2f, 0.3f, 0.4f, 0.05f, -0.1f, 0, 0.1f}, p[] = {0.3f, -0.2f, 0.5f};
    const float h0[] = {0.2f}, c0[] = {-0.4f};
    double h = 0.2, c = -0.4, ys[2];
    for (int t = 0; t < 2; t++) {
        double xt = x[t];
        double i = sigm(0.5 * xt + 0.1 * h + 0.3 * c + 0.15);
        double f = sigm(0.8 * xt - 0.4 * h + 0.5 * c + 0.3);
        double gg = tanh(0.2 * xt + 0.6 * h + 0.5);
        c = f * c + i * gg;
        double o = sigm(-0.3 * xt + 0.2 * h - 0.2 * c + 0.1);
        ys[t] = h = o * tanh(c);
    }
    FOR_EACH_ISA(isa)
    for (int dtype = OR_FLOAT; dtype <= OR_DOUBLE; dtype += OR_DOUBLE - OR_FLOAT) {
        rnn_desc d = {.op = "LSTM",
                      .opset = 7,
                      .dtype = dtype,
                      .T = 2,
                      .B = 1,
                      .I = 1,
                      .H = 1,
                      .D = 1,
                      .clip = NAN,
                      .layout = -1,
                      .in = {x, w, r, b, NULL, h0, c0, p},
                      .want = {true, true, true}};
        or_graph *g;
        cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
        double y[2], yh, yc;
        fetch(g, "Y", y, 2);
        fetch(g, "Y_h", &yh, 1);
        fetch(g, "Y_c", &yc, 1);
        expect_close("Y", y, ys, 2, 1e-6, 0);
        expect_close("Y_h", &yh, &ys[1], 1, 1e-6, 0);
        expect_close("Y_c", &yc, &c, 1, 1e-6, 0);
        or_graph_free(g);
    }
}

/* Gates z r h; W = [.4 -.6 .9], R = [.3 .5 -.7], Wb = [.1 -.2 .05],
 * Rb = [.2 .1 -.15], h0 = .5, X = [.7, -1.2]:
 *   z = σ(.4x + .3h + .3)   r = σ(-.6x + .5h - .1)
 *   lbr = 0: n = tanh(.9x - .7 (r h) - .1)
 *   lbr = 1: n = tanh(.9x + r (-.7h - .15) + .05)
 *   h' = (1 - z) n + z h */
Test(recurrent, gru_both_reset_modes_by_hand) {
    const float x[] = {0.7f, -1.2f}, w[] = {0.4f, -0.6f, 0.9f}, r[] = {0.3f, 0.5f, -0.7f};
    const float b[] = {0.1f, -0.2f, 0.05f, 0.2f, 0.1f, -0.15f}, h0[] = {0.5f};
    FOR_EACH_ISA(isa) for (int lbr = 0; lbr <= 1; lbr++) {
        double h = 0.5, ys[2];
        for (int t = 0; t < 2; t++) {
            double z = sigm(0.4 * x[t] + 0.3 * h + 0.3), rr = sigm(-0.6 * x[t] + 0.5 * h - 0.1);
            double nn = lbr ? tanh(0.9 * x[t] + rr * (-0.7 * h - 0.15) + 0.05)
                            : tanh(0.9 * x[t] - 0.7 * (rr * h) - 0.1);
            ys[t] = h = (1 - z) * nn + z * h;
        }
        for (int dtype = OR_FLOAT; dtype <= OR_DOUBLE; dtype += OR_DOUBLE - OR_FLOAT) {
            rnn_desc d = {.op = "GRU",
                          .opset = 14,
                          .dtype = dtype,
                          .T = 2,
                          .B = 1,
                          .I = 1,
                          .H = 1,
                          .D = 1,
                          .clip = NAN,
                          .lbr = lbr,
                          .layout = -1,
                          .in = {x, w, r, b, NULL, h0},
                          .want = {true, true}};
            or_graph *g;
            cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
            double y[2], yh;
            fetch(g, "Y", y, 2);
            fetch(g, "Y_h", &yh, 1);
            expect_close("Y", y, ys, 2, 1e-6, 0);
            expect_close("Y_h", &yh, &ys[1], 1, 1e-6, 0);
            or_graph_free(g);
        }
    }
}

/* Bidirectional tanh RNN, one unit, lengths [3, 1, 0]: forward runs t = 0..len-1,
 * backward t = len-1..0, both from initial_h; Y is zero at t >= len and an
 * empty sequence gives Y_h = 0 even with a nonzero initial_h (onnxruntime). */
Test(recurrent, sequence_lens_bidirectional_by_hand) {
    const float x[] = {0.5f, -1, 2, 1.5f, 0.25f, -0.5f, -2, 1, 0.75f}; /* [t][b] */
    const float w[] = {0.5f, -0.5f}, r[] = {0.25f, 0.75f},
                h0[] = {0.1f, 0.2f, 0.3f, -0.1f, -0.2f, -0.3f};
    const int32_t lens[] = {3, 1, 0};
    double y[3][2][3] = {{{0}}}, yh[2][3] = {{0}};
    for (int b = 0; b < 3; b++)
        for (int dir = 0; dir < 2; dir++) {
            double h = h0[dir * 3 + b];
            for (int k = 0; k < lens[b]; k++) {
                int t = dir ? lens[b] - 1 - k : k;
                h = tanh(w[dir] * x[t * 3 + b] + r[dir] * h);
                y[t][dir][b] = h;
            }
            yh[dir][b] = lens[b] ? h : 0;
        }
    rnn_desc d = {.op = "RNN",
                  .opset = 14,
                  .dtype = OR_FLOAT,
                  .direction = "bidirectional",
                  .T = 3,
                  .B = 3,
                  .I = 1,
                  .H = 1,
                  .D = 2,
                  .clip = NAN,
                  .layout = -1,
                  .in = {x, w, r, NULL, NULL, h0},
                  .lens = lens,
                  .want = {true, true}};
    FOR_EACH_ISA(isa) {
        or_graph *g;
        cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
        double got_y[18], got_h[6];
        fetch(g, "Y", got_y, 18);
        fetch(g, "Y_h", got_h, 6);
        expect_close("Y", got_y, &y[0][0][0], 18, 1e-6, 0);
        expect_close("Y_h", got_h, &yh[0][0], 6, 1e-6, 0);
        for (int t = 1; t < 3; t++) cr_assert_eq(got_y[t * 6 + 1], 0.0); /* b = 1 past its length */
        or_graph_free(g);
    }
}

/* ---- onnxruntime reference cases ---- */

enum { T_ = 3, B_ = 2, I_ = 3, H_ = 2 };

static rnn_desc desc_of(const ort_case *c, int dtype) {
    rnn_desc d = {.op = c->op,
                  .opset = c->opset,
                  .dtype = dtype,
                  .direction = c->direction,
                  .T = T_,
                  .B = B_,
                  .I = I_,
                  .H = H_,
                  .D = c->dirs,
                  .clip = c->clip,
                  .input_forget = c->input_forget,
                  .lbr = c->linear_before_reset,
                  .layout = -1,
                  .acts = c->acts,
                  .n_acts = c->n_acts,
                  .alpha = c->alpha,
                  .beta = c->beta,
                  .n_alpha = c->n_alpha,
                  .n_beta = c->n_beta,
                  .in = {c->x, c->w, c->r, c->b, NULL, c->h0, c->c0, c->p},
                  .lens = c->lens,
                  .want = {c->y != NULL, c->y_h != NULL, c->y_c != NULL}};
    return d;
}

/* [a, b, rest] -> [b, a, rest] */
static void swap01(const float *src, float *dst, int64_t a, int64_t b, int64_t rest) {
    for (int64_t i = 0; i < a; i++)
        for (int64_t j = 0; j < b; j++)
            memcpy(dst + (j * a + i) * rest, src + (i * b + j) * rest,
                   sizeof(float) * (size_t)rest);
}

/* Runs one reference case, optionally in layout 1 (inputs and expected
 * outputs transposed from onnxruntime's layout-0 data). */
static void run_ort_case(const ort_case *c, int dtype, bool layout1, or_threadpool *pool,
                         double tol) {
    rnn_desc d = desc_of(c, dtype);
    float x[T_ * B_ * I_], h0[2 * B_ * H_], c0[2 * B_ * H_];
    float y[T_ * 2 * B_ * H_], yh[2 * B_ * H_], yc[2 * B_ * H_];
    const float *want[3] = {c->y, c->y_h, c->y_c};
    if (layout1) {
        d.layout = 1;
        d.opset = 14;
        swap01(c->x, x, T_, B_, I_);
        d.in[0] = x;
        if (c->h0) swap01(c->h0, h0, c->dirs, B_, H_), d.in[5] = h0;
        if (c->c0) swap01(c->c0, c0, c->dirs, B_, H_), d.in[6] = c0;
        if (c->y) swap01(c->y, y, T_ * c->dirs, B_, H_), want[0] = y; /* [T*D, B] -> [B, T*D] */
        if (c->y_h) swap01(c->y_h, yh, c->dirs, B_, H_), want[1] = yh;
        if (c->y_c) swap01(c->y_c, yc, c->dirs, B_, H_), want[2] = yc;
    }
    or_graph *g;
    cr_assert_eq(build_run(&d, pool, &g), ONNXRUN_OK, "%s: %s", c->name, g->errmsg);
    for (int o = 0; o < 3; o++) {
        if (!want[o]) continue;
        double got[64], exp_[64];
        int64_t n = fetch(g, OUT_NAMES[o], got, 64);
        for (int64_t i = 0; i < n; i++) exp_[i] = want[o][i];
        char what[64];
        snprintf(what, sizeof what, "%s %s%s", c->name, OUT_NAMES[o], layout1 ? " (layout 1)" : "");
        expect_close(what, got, exp_, n, tol, tol);
    }
    or_graph_free(g);
}

Test(recurrent, matches_onnxruntime_every_isa_layout_dtype) {
    size_t n_cases = sizeof ort_cases / sizeof ort_cases[0];
    int runs = 0;
    for (int isa = 0; isa < 3; isa++) {
        if (!use_isa(isa)) continue;
        for (size_t c = 0; c < n_cases; c++)
            for (int layout1 = 0; layout1 <= 1; layout1++) {
                run_ort_case(&ort_cases[c], OR_FLOAT, layout1, NULL, 2e-6);
                run_ort_case(&ort_cases[c], OR_DOUBLE, layout1, NULL, 2e-6);
                runs += 2;
            }
    }
    default_isa();
    cr_assert(runs >= 24);
}

Test(recurrent, matches_onnxruntime_with_threads) {
    or_threadpool *pool = or_threadpool_create(3);
    cr_assert_not_null(pool);
    for (size_t c = 0; c < sizeof ort_cases / sizeof ort_cases[0]; c++)
        run_ort_case(&ort_cases[c], OR_FLOAT, false, pool, 2e-6);
    or_threadpool_destroy(pool);
}

/* ---- every variant against the scalar reference on random shapes ---- */

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}
static float rndf(float s) {
    return s * ((float)(rnd() % 20001) / 10000.0f - 1.0f);
}
static int rndi(int lo, int hi) {
    return lo + (int)(rnd() % (uint32_t)(hi - lo + 1));
}

static const char *const ALL_ACTS[11] = {
    "Relu",       "Tanh",        "Sigmoid", "Affine",   "LeakyRelu", "ThresholdedRelu",
    "ScaledTanh", "HardSigmoid", "Elu",     "Softsign", "Softplus"};

typedef struct random_case {
    rnn_desc d;
    float *buf[8];
    int32_t lens[64];
    const char *acts[6];
    float alpha[6], beta[6];
} random_case;

static float *random_array(const rnn_desc *d, int i, float scale) {
    int64_t dims[3];
    int rank = input_shape(d, i, dims);
    int64_t n = or_shape_numel(rank, dims);
    float *p = malloc(sizeof(float) * (size_t)n + 1);
    for (int64_t k = 0; k < n; k++) p[k] = rndf(scale);
    return p;
}

/* Half the cases keep SIMD-capable activations so the vector kernels run;
 * the rest draw from all eleven. */
static void make_random(random_case *rc, int index) {
    memset(rc, 0, sizeof *rc);
    rnn_desc *d = &rc->d;
    static const char *const ops[3] = {"RNN", "GRU", "LSTM"};
    static const char *const dirs[3] = {"forward", "reverse", "bidirectional"};
    d->op = ops[index % 3];
    d->opset = 14;
    d->dtype = (index / 3) % 2 ? OR_DOUBLE : OR_FLOAT;
    int dir = rndi(0, 2);
    d->direction = dirs[dir];
    d->D = dir == 2 ? 2 : 1;
    d->T = rndi(1, 5), d->B = rndi(1, 5), d->I = rndi(1, 40), d->H = rndi(1, 40);
    if (index % 7 == 0) d->H = 1;
    if (index % 11 == 0) d->H = rndi(1, 3) * 16;                       /* whole vectors, no tail */
    if (index % 20 == 19) d->H = rndi(100, 140), d->I = rndi(60, 150); /* many vectors + tail */
    d->layout = rndi(-1, 1);
    d->clip = rndi(0, 2) == 0 ? 0.5 + rndi(0, 30) / 10.0 : NAN;
    d->input_forget = strcmp(d->op, "LSTM") == 0 && rndi(0, 3) == 0;
    d->lbr = strcmp(d->op, "GRU") == 0 && rndi(0, 1);
    int per_dir = strcmp(d->op, "LSTM") == 0 ? 3 : strcmp(d->op, "GRU") == 0 ? 2 : 1;
    bool simd_only = index % 2 == 0;
    if (rndi(0, 4) > 0) {
        d->n_acts = per_dir * (int)d->D;
        for (int a = 0; a < d->n_acts; a++) rc->acts[a] = ALL_ACTS[rndi(0, simd_only ? 2 : 10)];
        d->acts = rc->acts;
        d->n_alpha = rndi(0, 3), d->n_beta = rndi(0, 3);
        for (int a = 0; a < 6; a++) rc->alpha[a] = rndf(1), rc->beta[a] = rndf(1);
        d->alpha = rc->alpha, d->beta = rc->beta;
    }
    float ws = 1.5f / sqrtf((float)(d->I + d->H));
    int n_in = strcmp(d->op, "LSTM") == 0 ? 8 : 6;
    for (int i = 0; i < n_in; i++) {
        if (i == 4) continue;
        if (i >= 3 && rndi(0, 2) == 0) continue; /* optional input absent */
        rc->buf[i] = random_array(d, i, i == 1 || i == 2 ? ws : 1.0f);
        d->in[i] = rc->buf[i];
    }
    if (rndi(0, 1)) {
        for (int64_t b = 0; b < d->B; b++) rc->lens[b] = rndi(0, (int)d->T);
        d->lens = rc->lens;
    }
    d->graph_weights = rndi(0, 3) == 0;
    d->want[0] = rndi(0, 3) > 0, d->want[1] = rndi(0, 3) > 0, d->want[2] = rndi(0, 1);
    if (!d->want[0] && !d->want[1]) d->want[1] = true;
    if (strcmp(d->op, "LSTM") != 0) d->want[2] = false;
}

static void free_random(random_case *rc) {
    for (int i = 0; i < 8; i++) free(rc->buf[i]);
}

#define OUT_CAP (5 * 5 * 2 * 140)

Test(recurrent, every_isa_and_thread_count_matches_scalar_reference) {
    or_threadpool *pool = or_threadpool_create(3);
    int compared = 0;
    for (int index = 0; index < 120; index++) {
        random_case rc;
        make_random(&rc, index);
        const rnn_desc *d = &rc.d;
        double ref[3][OUT_CAP], got[OUT_CAP];
        int64_t n_ref[3] = {0};
        or_graph *g;
        cr_assert(use_isa(0));
        cr_assert_eq(build_run(d, NULL, &g), ONNXRUN_OK, "case %d: %s", index, g->errmsg);
        for (int o = 0; o < 3; o++)
            if (d->want[o]) n_ref[o] = fetch(g, OUT_NAMES[o], ref[o], OUT_CAP);
        or_graph_free(g);
        double tol = d->dtype == OR_FLOAT ? 2e-5 : 1e-12;
        /* scalar with threads, avx2, avx512, then both SIMD ISAs with threads */
        static const int v_isa[5] = {0, 1, 2, 1, 2};
        static const bool v_threads[5] = {true, false, false, true, true};
        for (int variant = 0; variant < 5; variant++) {
            int isa = v_isa[variant];
            bool threaded = v_threads[variant];
            if (!use_isa(isa)) continue;
            cr_assert_eq(build_run(d, threaded ? pool : NULL, &g), ONNXRUN_OK, "case %d %s: %s",
                         index, ISAS[isa], g->errmsg);
            for (int o = 0; o < 3; o++) {
                if (!d->want[o]) continue;
                cr_assert_eq(fetch(g, OUT_NAMES[o], got, OUT_CAP), n_ref[o]);
                char what[96];
                snprintf(what, sizeof what, "case %d %s %s %s%s", index, d->op, ISAS[isa],
                         OUT_NAMES[o], threaded ? " threads" : "");
                expect_close(what, got, ref[o], n_ref[o], tol, tol);
            }
            or_graph_free(g);
            compared++;
        }
        free_random(&rc);
    }
    default_isa();
    or_threadpool_destroy(pool);
    cr_assert(compared >= 120);
}

/* ---- the fast activations' stated error bounds (rnn_gates_simd.h) ---- */

#if defined(OR_HAVE_X86_KERNELS)
static long double act_ref(int kind, long double x) {
    if (kind == OR_ACT_TANH) return tanhl(x);
    return x >= 0 ? 1.0L / (1.0L + expl(-x)) : expl(x) / (1.0L + expl(x));
}

/* Dense sweep: evenly spaced points of [-20, 20], of [-1e-3, 1e-3] and of
 * [-87, 87]; returns the largest relative error. */
static double sweep(int kind, bool f64,
                    void (*f32fn)(const or_rnn_act *, const float *, float *, int64_t),
                    void (*f64fn)(const or_rnn_act *, const double *, double *, int64_t)) {
    enum { N = 1 << 16 };
    static float xf[N], yf[N];
    static double xd[N], yd[N];
    const double ranges[3] = {20, 1e-3, 87};
    or_rnn_act act = {kind, 0, 0};
    double worst = 0;
    for (int rg = 0; rg < 3; rg++)
        for (int rep = 0; rep < 8; rep++) {
            for (int i = 0; i < N; i++) {
                double x = ranges[rg] * (2.0 * (rep * N + i) / (8.0 * N - 1) - 1.0);
                xf[i] = (float)x, xd[i] = x;
            }
            if (f64)
                f64fn(&act, xd, yd, N);
            else
                f32fn(&act, xf, yf, N);
            for (int i = 0; i < N; i++) {
                long double r = act_ref(kind, f64 ? xd[i] : xf[i]);
                long double v = f64 ? yd[i] : yf[i];
                if (r != 0 && fabsl(v - r) / fabsl(r) > worst)
                    worst = (double)(fabsl(v - r) / fabsl(r));
            }
        }
    return worst;
}

Test(recurrent, fast_activations_meet_stated_bounds) {
    default_isa();
    int have = (int)or_cpu_isa();
    for (int isa = 1; isa <= 2 && isa <= have; isa++) {
        for (int kind = OR_ACT_TANH; kind <= OR_ACT_SIGMOID; kind++) {
            double e32 =
                sweep(kind, false, isa == 1 ? or_f32_rnn_act__avx2 : or_f32_rnn_act__avx512, NULL);
            double e64 =
                sweep(kind, true, NULL, isa == 1 ? or_f64_rnn_act__avx2 : or_f64_rnn_act__avx512);
            cr_assert(e32 <= 2.5e-7, "%s f32 kind %d: %g", ISAS[isa], kind, e32);
            cr_assert(e64 <= 5e-16, "%s f64 kind %d: %g", ISAS[isa], kind, e64);
        }
        /* Relu is exact, NaN propagates through all three. */
        float x[3] = {-1.5f, 0.0f, 2.25f}, y[3], nan_in = NAN, nan_out;
        or_rnn_act relu = {OR_ACT_RELU, 0, 0};
        (isa == 1 ? or_f32_rnn_act__avx2 : or_f32_rnn_act__avx512)(&relu, x, y, 3);
        cr_assert(y[0] == 0 && y[1] == 0 && y[2] == 2.25f);
        for (int kind = OR_ACT_RELU; kind <= OR_ACT_SIGMOID; kind++) {
            or_rnn_act a = {kind, 0, 0};
            (isa == 1 ? or_f32_rnn_act__avx2 : or_f32_rnn_act__avx512)(&a, &nan_in, &nan_out, 1);
            cr_assert(isnan(nan_out), "kind %d", kind);
        }
    }
}
#endif

/* ---- other paths ---- */

/* Only Y_h requested, no B, no hidden_size attribute (taken from R), weights
 * as graph inputs (packed per run), and a second run with new X values. */
Test(recurrent, optional_outputs_inferred_hidden_and_rerun) {
    const float x[] = {1, 2}, w[] = {0.5f}, r[] = {-0.25f};
    rnn_desc d = {.op = "RNN",
                  .opset = 7,
                  .dtype = OR_FLOAT,
                  .T = 2,
                  .B = 1,
                  .I = 1,
                  .H = 1,
                  .D = 1,
                  .no_hidden_attr = true,
                  .clip = NAN,
                  .layout = -1,
                  .in = {x, w, r},
                  .graph_weights = true,
                  .want = {false, true}};
    or_graph *g;
    cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
    double yh, want = tanh(1.0 - 0.25 * tanh(0.5));
    fetch(g, "Y_h", &yh, 1);
    expect_close("Y_h", &yh, &want, 1, 1e-6, 0);
    float *xd = g->tensors[or_graph_find_tensor(g, "X")].data;
    xd[0] = -1, xd[1] = 0;
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    want = tanh(-0.25 * tanh(-0.5));
    fetch(g, "Y_h", &yh, 1);
    expect_close("Y_h (second run)", &yh, &want, 1, 1e-6, 0);
    or_graph_free(g);
}

/* A re-plan for a longer X keeps the packed initializer weights (n->cache):
 * T = 2 then T = 3 with x = [1, 2, -1], h_t = tanh(0.5 x_t - 0.25 h_{t-1}). */
Test(recurrent, replan_for_new_shape_reuses_packed_weights) {
    const float x[] = {1, 2}, w[] = {0.5f}, r[] = {-0.25f};
    rnn_desc d = {.op = "RNN",
                  .opset = 1,
                  .dtype = OR_FLOAT,
                  .T = 2,
                  .B = 1,
                  .I = 1,
                  .H = 1,
                  .D = 1,
                  .clip = NAN,
                  .layout = -1,
                  .in = {x, w, r},
                  .want = {false, true}};
    or_graph *g;
    cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
    const void *cache = g->nodes[0].cache;
    cr_assert_not_null(cache);
    static float x3[3] = {1, 2, -1};
    or_tensor *xt = &g->tensors[or_graph_find_tensor(g, "X")];
    xt->dims[0] = 3;
    xt->data = x3;
    xt->nbytes = sizeof x3;
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(g->nodes[0].cache, cache);
    double h = 0, yh;
    for (int t = 0; t < 3; t++) h = tanh(0.5 * x3[t] - 0.25 * h);
    fetch(g, "Y_h", &yh, 1);
    expect_close("Y_h", &yh, &h, 1, 1e-6, 0);
    or_graph_free(g);
}

/* A clip bounds every pre-activation: with clip 0.1, h = tanh(0.1) however
 * large the input (RNN: onnxruntime also treats a negative clip as none). */
Test(recurrent, clip_bounds_pre_activations) {
    const float x[] = {5, -7}, w[] = {2}, r[] = {1};
    for (int neg = 0; neg <= 1; neg++) {
        rnn_desc d = {.op = "RNN",
                      .opset = 14,
                      .dtype = OR_FLOAT,
                      .T = 2,
                      .B = 1,
                      .I = 1,
                      .H = 1,
                      .D = 1,
                      .clip = neg ? -1.0 : 0.1,
                      .layout = -1,
                      .in = {x, w, r},
                      .want = {true}};
        or_graph *g;
        cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
        double y[2], h1 = tanh(10.0);
        double want[2] = {tanh(0.1), -tanh(0.1)}, unclipped[2] = {h1, tanh(-14.0 + h1)};
        fetch(g, "Y", y, 2);
        expect_close("Y", y, neg ? unclipped : want, 2, 1e-6, 0);
        or_graph_free(g);
    }
}

/* Empty sequences and an empty batch: nothing to compute, Y_h/Y_c all zero. */
Test(recurrent, zero_length_sequence_and_empty_batch) {
    const float one[64] = {0.5f, 0.25f, -0.5f, 0.75f, 1, -1, 0.5f, 0.5f};
    for (int empty_batch = 0; empty_batch <= 1; empty_batch++) {
        rnn_desc d = {.op = "LSTM",
                      .opset = 14,
                      .dtype = OR_FLOAT,
                      .T = empty_batch ? 2 : 0,
                      .B = empty_batch ? 0 : 2,
                      .I = 1,
                      .H = 1,
                      .D = 1,
                      .clip = NAN,
                      .layout = -1,
                      .in = {one, one, one, NULL, NULL, one, one},
                      .want = {true, true, true}};
        or_graph *g;
        cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
        double y[4] = {1, 1, 1, 1};
        cr_assert_eq(fetch(g, "Y", y, 4), 0);
        int64_t n = fetch(g, "Y_h", y, 4);
        cr_assert_eq(n, empty_batch ? 0 : 2);
        for (int64_t i = 0; i < n; i++) cr_assert_eq(y[i], 0.0);
        or_graph_free(g);
    }
}

/* ---- errors ---- */

static void expect_failure(rnn_desc *d, int status, const char *needle) {
    or_graph *g;
    int st = build_run(d, NULL, &g);
    cr_assert_eq(st, status, "status %d, message: %s", st, g->errmsg);
    cr_assert(strstr(g->errmsg, "rec_under_test") != NULL, "%s", g->errmsg);
    if (needle) cr_assert(strstr(g->errmsg, needle) != NULL, "%s", g->errmsg);
    or_graph_free(g);
}

static rnn_desc small_lstm(float *buf) {
    for (int i = 0; i < 64; i++) buf[i] = 0.1f * (float)(i % 7) - 0.3f;
    rnn_desc d = {.op = "LSTM",
                  .opset = 14,
                  .dtype = OR_FLOAT,
                  .T = 3,
                  .B = 2,
                  .I = 2,
                  .H = 2,
                  .D = 1,
                  .clip = NAN,
                  .layout = -1,
                  .in = {buf, buf, buf, buf},
                  .want = {true, true, true}};
    return d;
}

Test(recurrent, load_errors_name_the_node) {
    float buf[64];
    rnn_desc d = small_lstm(buf);
    const char *bad_act[3] = {"Sigmoid", "Swish", "Tanh"};
    d.acts = bad_act, d.n_acts = 3;
    expect_failure(&d, ONNXRUN_ERR_MODEL, "Swish");

    d = small_lstm(buf);
    d.n_acts = 2, d.acts = bad_act;
    expect_failure(&d, ONNXRUN_ERR_MODEL, "activations");

    d = small_lstm(buf);
    d.layout = 1, d.opset = 7;
    expect_failure(&d, ONNXRUN_ERR_MODEL, "layout");

    d = small_lstm(buf);
    d.direction = "sideways";
    expect_failure(&d, ONNXRUN_ERR_MODEL, "sideways");

    d = small_lstm(buf);
    d.clip = 0;
    expect_failure(&d, ONNXRUN_ERR_MODEL, "clip");

    d = small_lstm(buf);
    d.in[7] = buf; /* P [1, 6] is fine */
    or_graph *g;
    cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
    or_graph_free(g);

    /* hidden_size disagreeing with W/R: W [1, 8, 2] read as hidden 3 */
    d = small_lstm(buf);
    d.no_hidden_attr = true;
    or_graph *g2;
    cr_assert_eq(build_run(&d, NULL, &g2), ONNXRUN_OK, "%s", g2->errmsg);
    or_node *n = &g2->nodes[0];
    or_graph_unplan(g2);
    attr_int(n, "hidden_size", 3);
    cr_assert_eq(or_graph_plan(g2), ONNXRUN_ERR_MODEL);
    cr_assert(strstr(g2->errmsg, "rec_under_test") && strstr(g2->errmsg, "W"), "%s", g2->errmsg);
    or_graph_free(g2);
}

Test(recurrent, wrong_shapes_and_dtypes) {
    float buf[64];
    rnn_desc d = small_lstm(buf);
    or_graph *g;
    cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
    /* X as rank 2 */
    or_graph_unplan(g);
    or_tensor *x = &g->tensors[or_graph_find_tensor(g, "X")];
    x->rank = 2, x->dims[1] = 4;
    cr_assert_eq(or_graph_plan(g), ONNXRUN_ERR_INPUT, "%s", g->errmsg);
    /* X's input size disagreeing with W */
    x->rank = 3, x->dims[0] = 3, x->dims[1] = 1, x->dims[2] = 4;
    cr_assert_eq(or_graph_plan(g), ONNXRUN_ERR_INPUT, "%s", g->errmsg);
    cr_assert(strstr(g->errmsg, "input size"), "%s", g->errmsg);
    x->dims[1] = 2, x->dims[2] = 2;
    /* B with the wrong width */
    or_tensor *b = &g->tensors[or_graph_find_tensor(g, "B")];
    b->dims[1] = 15;
    cr_assert_eq(or_graph_plan(g), ONNXRUN_ERR_MODEL, "%s", g->errmsg);
    cr_assert(strstr(g->errmsg, "B"), "%s", g->errmsg);
    b->dims[1] = 16;
    /* R as double while X is float */
    or_tensor *r = &g->tensors[or_graph_find_tensor(g, "R")];
    r->dtype = OR_DOUBLE;
    cr_assert_eq(or_graph_plan(g), ONNXRUN_ERR_MODEL, "%s", g->errmsg);
    r->dtype = OR_FLOAT;
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    or_graph_free(g);
}

Test(recurrent, sequence_length_out_of_range_fails_the_run) {
    float buf[64];
    for (int bad = 0; bad < 2; bad++) {
        rnn_desc d = small_lstm(buf);
        int32_t lens[2] = {1, bad ? 4 : -1};
        d.lens = lens;
        or_graph *g;
        int st = build_run(&d, NULL, &g);
        cr_assert_eq(st, ONNXRUN_ERR_INPUT, "%s", g->errmsg);
        cr_assert(strstr(g->errmsg, "sequence_lens") && strstr(g->errmsg, "rec_under_test"), "%s",
                  g->errmsg);
        or_graph_free(g);
    }
}

/* ---- releasing packed-away weights (runtime/weights.h) ---- */

static void fill_random(float *dst, int64_t n, uint32_t seed) {
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        dst[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
}

/* LSTM, hidden 32, input 24, batch 2: W and R span several pages. */
static rnn_desc release_lstm(float *buf, bool graph_weights) {
    static const int64_t H = 32, I = 24, T = 3, B = 2;
    float *x = buf, *w = x + T * B * I, *r = w + 4 * H * I, *b = r + 4 * H * H;
    fill_random(buf, T * B * I + 4 * H * I + 4 * H * H + 8 * H, 7);
    rnn_desc d = {.op = "LSTM",
                  .opset = 14,
                  .dtype = OR_FLOAT,
                  .T = T,
                  .B = B,
                  .I = I,
                  .H = H,
                  .D = 1,
                  .clip = NAN,
                  .layout = -1,
                  .in = {x, w, r, b},
                  .graph_weights = graph_weights,
                  .want = {true, true, true}};
    return d;
}

#define RELEASE_BUF (3 * 2 * 24 + 4 * 32 * 24 + 4 * 32 * 32 + 8 * 32)

static bool released(or_graph *g, const char *name) {
    const or_tensor *t = &g->tensors[or_graph_find_tensor(g, name)];
    return t->released && t->data == NULL;
}

/* Packing frees W and R when the node is their only reader; outputs equal a
 * graph that reads the same weights unpacked, also after a re-plan. */
Test(recurrent, packing_releases_weights_it_alone_reads) {
    static float buf[RELEASE_BUF];
    rnn_desc d = release_lstm(buf, false), ref = release_lstm(buf, true);
    or_graph *g, *gr;
    cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(build_run(&ref, NULL, &gr), ONNXRUN_OK, "%s", gr->errmsg);
    cr_assert(released(g, "W") && released(g, "R"));
    cr_assert_not(released(g, "B"), "B is read at every run, not packed");
    cr_assert_not(released(gr, "W") || released(gr, "R"), "graph inputs are never released");
    double got[3 * 2 * 32], want[3 * 2 * 32];
    for (int pass = 0; pass < 2; pass++) {
        for (int o = 0; o < 3; o++) {
            int64_t n = fetch(g, OUT_NAMES[o], got, 3 * 2 * 32);
            fetch(gr, OUT_NAMES[o], want, 3 * 2 * 32);
            expect_close(OUT_NAMES[o], got, want, n, 1e-6, 1e-6);
        }
        /* one step shorter: a re-plan must reuse the packed copy */
        for (int k = 0; k < 2; k++) {
            or_graph *h = k ? gr : g;
            h->tensors[or_graph_find_tensor(h, "X")].dims[0] = 2;
            h->tensors[or_graph_find_tensor(h, "X")].nbytes = 2 * 2 * 24 * sizeof(float);
            cr_assert_eq(or_graph_plan(h), ONNXRUN_OK, "%s", h->errmsg);
            cr_assert_eq(or_graph_run(h), ONNXRUN_OK, "%s", h->errmsg);
        }
    }
    or_graph_free(g);
    or_graph_free(gr);
}

/* Builds without running; `tweak` marks R before the plan. */
static or_graph *build_with(const rnn_desc *d, void (*tweak)(or_graph *)) {
    or_graph *g = or_graph_new();
    cr_assert_not_null(g);
    g->opset = d->opset;
    for (int i = 0; i < 8; i++)
        if (i < 3 || d->in[i] != NULL) add_input(g, d, i);
    add_node(g, d);
    tweak(g);
    cr_assert_eq(or_graph_sort(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_check_ops(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    return g;
}

static void r_is_output(or_graph *g) {
    int t = or_graph_find_tensor(g, "R");
    g->tensors[t].is_graph_output = true;
    g->outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
    g->outputs[g->n_outputs++] = t;
}

static void r_read_twice(or_graph *g) {
    g->nodes[0].inputs[1] = or_graph_find_tensor(g, "R"); /* W = R: 4H x H both */
}

static void shared_with_clone(or_graph *g) {
    g->weights_shared = true;
}

static void r_borrowed(or_graph *g) {
    g->tensors[or_graph_find_tensor(g, "R")].owned = NULL; /* a clone's view */
}

/* R stays when something else may read it: a graph output, a second input
 * slot, a clone sharing the graph, or bytes the graph does not own. */
Test(recurrent, weights_read_elsewhere_are_kept) {
    static float buf[RELEASE_BUF];
    void (*tweaks[4])(or_graph *) = {r_is_output, r_read_twice, shared_with_clone, r_borrowed};
    for (int k = 0; k < 4; k++) {
        rnn_desc d = release_lstm(buf, false);
        if (k == 1) d.I = d.H; /* W takes R's shape */
        or_graph *g = build_with(&d, tweaks[k]);
        cr_assert_not(released(g, "R"), "case %d", k);
        or_tensor *r = &g->tensors[or_graph_find_tensor(g, "R")];
        if (k == 3) r->owned = r->data; /* freed with the graph */
        or_graph_free(g);
    }
}

/* ---- scratch in the activation arena (or_request_scratch) ---- */

static bool overlaps(const unsigned char *a, size_t na, const unsigned char *b, size_t nb) {
    return a < b + nb && b < a + na;
}

/* The node's scratch is an arena slot apart from its own inputs and outputs. */
Test(recurrent, scratch_lives_in_the_arena_apart_from_live_tensors) {
    static float buf[RELEASE_BUF];
    rnn_desc d = release_lstm(buf, true);
    or_graph *g;
    cr_assert_eq(build_run(&d, NULL, &g), ONNXRUN_OK, "%s", g->errmsg);
    const or_node *n = &g->nodes[0];
    const unsigned char *sc = n->scratch;
    cr_assert_gt(n->scratch_bytes, (size_t)(3 * 2 * 4 * 32 * sizeof(float)), "holds X·Wᵀ");
    cr_assert(sc >= g->arena && sc + n->scratch_bytes <= g->arena + g->arena_size);
    for (int o = 0; o < 3; o++) {
        const or_tensor *t = &g->tensors[or_graph_find_tensor(g, OUT_NAMES[o])];
        cr_assert_not(overlaps(sc, n->scratch_bytes, t->data, t->nbytes), "%s", OUT_NAMES[o]);
    }
    or_graph_free(g);
}

static void x_is_constant(or_graph *g) {
    int x = or_graph_find_tensor(g, "X");
    g->tensors[x].kind = OR_T_INITIALIZER;
    g->tensors[x].is_static = true;
    int k = 0;
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i] != x) g->inputs[k++] = g->inputs[i];
    g->n_inputs = k;
}

/* With every input constant the node runs while planning, before the arena
 * exists, on a temporary scratch: the same outputs as a normal run. */
Test(recurrent, folded_node_gets_a_temporary_scratch) {
    static float buf[RELEASE_BUF];
    rnn_desc d = release_lstm(buf, false), ref = release_lstm(buf, true);
    or_graph *g = build_with(&d, x_is_constant), *gr;
    cr_assert(g->nodes[0].folded);
    cr_assert_null(g->nodes[0].scratch, "the temporary scratch is freed after folding");
    cr_assert_eq(build_run(&ref, NULL, &gr), ONNXRUN_OK, "%s", gr->errmsg);
    double got[3 * 2 * 32], want[3 * 2 * 32];
    for (int o = 0; o < 3; o++) {
        int64_t n = fetch(g, OUT_NAMES[o], got, 3 * 2 * 32);
        fetch(gr, OUT_NAMES[o], want, 3 * 2 * 32);
        expect_close(OUT_NAMES[o], got, want, n, 1e-6, 1e-6);
    }
    or_graph_free(g);
    or_graph_free(gr);
}

/* ---- X·Wᵀ in chunks of steps (ONNXRUN_RNN_CHUNK forces the size) ---- */

/* Builds and runs case index with the environment variable var = value,
 * fetching the outputs it wants into out (n[o] values, 0 when not wanted).
 * The caller frees the graph. */
static or_graph *run_with_env(const rnn_desc *d, int index, const char *var, const char *value,
                              double out[3][OUT_CAP], int64_t n[3]) {
    or_graph *g;
    setenv(var, value, 1);
    cr_assert_eq(build_run(d, NULL, &g), ONNXRUN_OK, "case %d: %s", index, g->errmsg);
    for (int o = 0; o < 3; o++) n[o] = d->want[o] ? fetch(g, OUT_NAMES[o], out[o], OUT_CAP) : 0;
    return g;
}

/* Chunks of 1, 2 and 3 steps give what one chunk of the whole sequence
 * gives, over random cases: every op, direction, layout, sequence_lens. */
Test(recurrent, chunked_input_product_matches_whole_sequence) {
    int compared = 0;
    for (int index = 0; index < 90; index++) {
        random_case rc;
        make_random(&rc, index);
        const rnn_desc *d = &rc.d;
        double ref[3][OUT_CAP], got[3][OUT_CAP];
        int64_t n_ref[3], n[3];
        or_graph *g = run_with_env(d, index, "ONNXRUN_RNN_CHUNK", "1000", ref, n_ref);
        cr_assert_eq(((or_rnn_state *)g->nodes[0].state)->chunk, d->T, "case %d", index);
        or_graph_free(g);
        for (int chunk = 1; chunk <= 3 && chunk < d->T; chunk++) {
            char env[8];
            snprintf(env, sizeof env, "%d", chunk);
            g = run_with_env(d, index, "ONNXRUN_RNN_CHUNK", env, got, n);
            for (int o = 0; o < 3; o++) {
                if (!d->want[o]) continue;
                cr_assert_eq(n[o], n_ref[o]);
                char what[96];
                snprintf(what, sizeof what, "case %d %s chunk %d %s", index, d->op, chunk,
                         OUT_NAMES[o]);
                /* only the GEMM's summation order may differ (gemv for small M) */
                double tol = d->dtype == OR_FLOAT ? 1e-6 : 1e-13;
                expect_close(what, got[o], ref[o], n_ref[o], tol, tol);
            }
            or_graph_free(g);
            compared++;
        }
        free_random(&rc);
    }
    unsetenv("ONNXRUN_RNN_CHUNK");
    cr_assert(compared >= 60, "%d", compared);
}

/* Every wanted output of got equals ref's, bit for bit. */
static void expect_identical(const rnn_desc *d, int index, const char *how, double ref[3][OUT_CAP],
                             const int64_t n_ref[3], double got[3][OUT_CAP], const int64_t n[3]) {
    for (int o = 0; o < 3; o++) {
        if (!d->want[o]) continue;
        cr_assert_eq(n[o], n_ref[o]);
        cr_assert_eq(memcmp(got[o], ref[o], sizeof(double) * (size_t)n[o]), 0,
                     "case %d %s %s differs (%s)", index, d->op, OUT_NAMES[o], how);
    }
}

/* ---- R on huge pages (ONNXRUN_HUGE_R forces the choice) ---- */

/* By default only a float R of half the L2 to the L2, read from the L2 by
 * one or two rows, goes on huge pages. */
Test(recurrent, r_on_huge_pages_by_size_batch_and_kind) {
    unsetenv("ONNXRUN_HUGE_R");
    double l2 = (double)or_cpu_l2_bytes();
    /* a GRU whose float R is 3/4 of the L2 (hidden 256 for 1 MiB) */
    int64_t h = (int64_t)sqrt(0.75 * l2 / 12.0);
    or_rnn_state s = {
        .dtype = OR_FLOAT, .esz = sizeof(float), .batch = 1, .hidden = h, .gh = 3 * h};
    if (l2 <= 0) {
        cr_assert(!or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_CACHED), "no L2 size known");
        return;
    }
    cr_assert(or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_CACHED), "hidden %ld", (long)h);
    s.batch = 2;
    cr_assert(or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_CACHED));
    s.batch = 3;
    cr_assert(!or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_CACHED), "batch 3");
    s.batch = 1;
    cr_assert(!or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_L3), "read from the L3");
    cr_assert(!or_rnn_r_huge_pages(&s, OR_Q_S8, OR_PACK_CACHED), "int8");
    cr_assert(!or_rnn_r_huge_pages(&s, OR_Q_BF16, OR_PACK_CACHED), "bf16");
    s.dtype = OR_DOUBLE;
    cr_assert(!or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_CACHED), "double");
    s.dtype = OR_FLOAT;
    s.hidden = h / 2, s.gh = 3 * (h / 2);
    cr_assert(!or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_CACHED), "3/16 of the L2");
    s.hidden = 2 * h, s.gh = 6 * h;
    cr_assert(!or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_CACHED), "3x the L2");
}

/* Any R of 8 MiB or more goes on huge pages too, for the TLB: whatever the
 * batch, the source and the kind; a smaller one read from the L3 does not.
 * ONNXRUN_HUGE_R forces it either way. */
Test(recurrent, r_on_huge_pages_for_the_tlb) {
    unsetenv("ONNXRUN_HUGE_R");
    const double mib = 1 << 20;
    cr_assert(or_rnn_huge_for_tlb(8 * mib));
    cr_assert(!or_rnn_huge_for_tlb(8 * mib - 1));
    /* LSTM hidden 1024: 16 MiB of float R, 8 MiB in bf16, 4 MiB in int8 */
    or_rnn_state s = {
        .dtype = OR_FLOAT, .esz = sizeof(float), .batch = 1, .hidden = 1024, .gh = 4096};
    cr_assert(or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_L3));
    cr_assert(or_rnn_r_huge_pages(&s, OR_Q_BF16, OR_PACK_L3));
    cr_assert(!or_rnn_r_huge_pages(&s, OR_Q_S8, OR_PACK_L3), "4 MiB of int8");
    s.batch = 16;
    cr_assert(or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_MEMORY), "batch 16");
    s.hidden = 512, s.gh = 2048; /* 4 MiB */
    cr_assert(!or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_L3), "4 MiB from the L3");
    setenv("ONNXRUN_HUGE_R", "1", 1);
    cr_assert(or_rnn_huge_for_tlb(1) && or_rnn_r_huge_pages(&s, OR_Q_F32, OR_PACK_L3));
    setenv("ONNXRUN_HUGE_R", "0", 1);
    cr_assert(!or_rnn_huge_for_tlb(16 * mib));
    unsetenv("ONNXRUN_HUGE_R");
}

/* ---- copies of R (ONNXRUN_R_COPIES forces the count) ---- */

/* The size rule: the copies a step takes turns over add up to 1/2-9/16 of a
 * 1 MiB L2, from an R of 1/8 of it; no other L2 size was measured. */
Test(recurrent, r_copies_by_size_and_l2) {
    const double kib = 1024, mib = 1 << 20;
    cr_assert_eq(or_rnn_r_copies_for(256 * kib, mib), 2, "LSTM hidden 128");
    cr_assert_eq(or_rnn_r_copies_for(192 * kib, mib), 3, "GRU hidden 128");
    cr_assert_eq(or_rnn_r_copies_for(144 * kib, mib), 4, "LSTM hidden 96");
    cr_assert_eq(or_rnn_r_copies_for(128 * kib, mib), 4, "1/8 of the L2");
    cr_assert_eq(or_rnn_r_copies_for(127 * kib, mib), 1, "under 1/8");
    cr_assert_eq(or_rnn_r_copies_for(196 * kib, mib), 1, "3 copies would be 588 KiB");
    cr_assert_eq(or_rnn_r_copies_for(288 * kib, mib), 2, "2 copies: 9/16");
    cr_assert_eq(or_rnn_r_copies_for(324 * kib, mib), 1, "LSTM hidden 144");
    cr_assert_eq(or_rnn_r_copies_for(768 * kib, mib), 1, "GRU hidden 256");
    cr_assert_eq(or_rnn_r_copies_for(256 * kib, 2 * mib), 1, "a 2 MiB L2");
    cr_assert_eq(or_rnn_r_copies_for(256 * kib, 512 * kib), 1, "a 512 KiB L2");
    cr_assert_eq(or_rnn_r_copies_for(256 * kib, 0), 1, "no L2 size known");
}

/* Float panels read from the L3 at batch 1 go one panel at a time up to a
 * quarter of the L3 (decided as on a given L3, whatever this CPU has). */
Test(recurrent, r_one_stream_for_float_r_from_the_l3) {
    const size_t mib = 1 << 20;
    /* a 2-layer LSTM of hidden 512: R_d 4 MiB */
    or_rnn_state s = {
        .dtype = OR_FLOAT, .esz = sizeof(float), .batch = 1, .hidden = 512, .gh = 2048};
    cr_assert(or_rnn_r_one_stream_on(&s, OR_Q_F32, OR_PACK_L3, 32 * mib));
    cr_assert(or_rnn_r_one_stream_on(&s, OR_Q_F32, OR_PACK_L3, 16 * mib), "exactly a quarter");
    cr_assert_not(or_rnn_r_one_stream_on(&s, OR_Q_F32, OR_PACK_L3, 16 * mib - 1), "past a quarter");
    cr_assert_not(or_rnn_r_one_stream_on(&s, OR_Q_F32, OR_PACK_L3, 0), "no L3 size known");
    cr_assert_not(or_rnn_r_one_stream_on(&s, OR_Q_F32, OR_PACK_MEMORY, 32 * mib), "from memory");
    cr_assert_not(or_rnn_r_one_stream_on(&s, OR_Q_F32, OR_PACK_CACHED, 32 * mib), "from the L2");
    cr_assert_not(or_rnn_r_one_stream_on(&s, OR_Q_BF16, OR_PACK_L3, 32 * mib),
                  "bf16 (always one panel at a time)");
    s.hidden = 1024, s.gh = 4096; /* LSTM hidden 1024: 16 MiB */
    cr_assert_not(or_rnn_r_one_stream_on(&s, OR_Q_F32, OR_PACK_L3, 32 * mib), "16 MiB");
    cr_assert(or_rnn_r_one_stream_on(&s, OR_Q_F32, OR_PACK_L3, 64 * mib), "16 MiB of 64");
    s.batch = 2;
    cr_assert_not(or_rnn_r_one_stream_on(&s, OR_Q_F32, OR_PACK_L3, 64 * mib), "batch 2");
}

/* The rule applies to a float R the blocked GEMM reads from the L2 at batch
 * 1, outside a capped session (decided as on a 1 MiB L2, whatever this CPU
 * has); ONNXRUN_R_COPIES forces any float R's count. */
Test(recurrent, r_copies_only_for_batch_1_float_from_the_l2) {
    unsetenv("ONNXRUN_R_COPIES");
    const size_t mib = 1 << 20;
    /* an LSTM of hidden 128: R 256 KiB */
    or_rnn_state s = {
        .dtype = OR_FLOAT, .esz = sizeof(float), .batch = 1, .hidden = 128, .gh = 512};
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_F32, OR_PACK_CACHED, mib), 2);
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_F32, OR_PACK_CACHED, 2 * mib), 1, "a 2 MiB L2");
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_F32, OR_PACK_L3, mib), 1, "read from the L3");
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_BF16, OR_PACK_CACHED, mib), 1, "bf16");
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_S8, OR_PACK_CACHED, mib), 1, "int8");
    cr_assert_eq(or_rnn_r_copies(&s, OR_Q_F32, OR_PACK_CACHED),
                 or_rnn_r_copies_on(&s, OR_Q_F32, OR_PACK_CACHED, or_cpu_l2_bytes()),
                 "this CPU's L2");
    s.batch = 2;
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_F32, OR_PACK_CACHED, mib), 1, "batch 2");
    s.batch = 1;
    s.dtype = OR_DOUBLE, s.esz = sizeof(double), s.hidden = 90, s.gh = 360; /* 253 KiB */
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_F32, OR_PACK_CACHED, mib), 1, "double");
    s.dtype = OR_FLOAT, s.esz = sizeof(float), s.hidden = 128, s.gh = 512;
    or_mem *mem = or_mem_new(NULL, (size_t)64 << 20);
    or_mem *previous = or_mem_enter(mem);
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_F32, OR_PACK_CACHED, mib), 1, "a capped session");
    or_mem_leave(previous);
    or_mem_release(mem);
    setenv("ONNXRUN_R_COPIES", "3", 1);
    s.batch = 16;
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_F32, OR_PACK_L3, 2 * mib), 3, "forced");
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_S8, OR_PACK_CACHED, mib), 1, "forced, but int8");
    s.dtype = OR_DOUBLE, s.esz = sizeof(double);
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_F32, OR_PACK_CACHED, mib), 1, "forced, but double");
    s.dtype = OR_FLOAT, s.esz = sizeof(float), s.batch = 1;
    setenv("ONNXRUN_R_COPIES", "9", 1);
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_F32, OR_PACK_CACHED, mib), 2, "9 is not a count");
    setenv("ONNXRUN_R_COPIES", "1", 1);
    cr_assert_eq(or_rnn_r_copies_on(&s, OR_Q_F32, OR_PACK_CACHED, mib), 1, "1: never");
    unsetenv("ONNXRUN_R_COPIES");
}

/* Runs check on the first `cases` random cases under every ISA the CPU has,
 * then restores the default ISA; returns how many checks counted themselves. */
typedef int (*case_check)(const rnn_desc *d, int index, int isa);
static int over_isas_and_cases(int cases, case_check check) {
    int counted = 0;
    for (int isa = 0; isa < 3; isa++) {
        if (!use_isa(isa)) continue;
        for (int index = 0; index < cases; index++) {
            random_case rc;
            make_random(&rc, index);
            counted += check(&rc.d, index, isa);
            free_random(&rc);
        }
    }
    default_isa();
    return counted;
}

/* 1 when the float case read 3 copies of R, and its outputs equal one R's. */
static int copies_match_one_r(const rnn_desc *d, int index, int isa) {
    double one[3][OUT_CAP], three[3][OUT_CAP];
    int64_t n[3], n3[3];
    or_graph *g = run_with_env(d, index, "ONNXRUN_R_COPIES", "1", one, n);
    int packed = or_rnn_r_copy_count(&g->nodes[0]);
    cr_assert(packed <= 1, "case %d", index);
    or_graph_free(g);
    g = run_with_env(d, index, "ONNXRUN_R_COPIES", "3", three, n3);
    int copies = or_rnn_r_copy_count(&g->nodes[0]);
    int want = !packed ? 0 : d->dtype == OR_FLOAT ? 3 : 1;
    cr_assert_eq(copies, want, "case %d: %d copies", index, copies);
    char how[64];
    snprintf(how, sizeof how, "%s, 3 copies of R", ISAS[isa]);
    expect_identical(d, index, how, one, n, three, n3);
    or_graph_free(g);
    return copies == 3;
}

/* The steps taking turns over copies of R give outputs bit-identical to one
 * R, on every ISA, over random cases (every op, direction, layout, batch). */
Test(recurrent, r_copies_give_identical_outputs) {
    int compared = over_isas_and_cases(60, copies_match_one_r);
    unsetenv("ONNXRUN_R_COPIES");
    cr_assert(compared >= 20, "only %d float cases read copies", compared);
}

/* ---- R read from memory or the L3 (ONNXRUN_STREAM_R forces the choice) ---- */

static int one_stream_cases;

/* Outputs of the float panels' one-row kernel against the blocked GEMM's:
 * the same products summed in another order. */
static void expect_near(const rnn_desc *d, const char *how, double ref[3][OUT_CAP],
                        const int64_t n_ref[3], double got[3][OUT_CAP], const int64_t n[3]) {
    for (int o = 0; o < 3; o++) {
        if (!d->want[o]) continue;
        cr_assert_eq(n[o], n_ref[o]);
        char what[96];
        snprintf(what, sizeof what, "%s %s (%s)", d->op, OUT_NAMES[o], how);
        expect_close(what, got[o], ref[o], n[o], 1e-5, 1e-5);
    }
}

/* 1 after checking that R on huge pages, and read as from memory or the L3,
 * gives the outputs of R cached on 4 KiB pages. */
static int sources_match_cached(const rnn_desc *d, int index, int isa) {
    double plain[3][OUT_CAP], other[3][OUT_CAP];
    int64_t n[3], no[3];
    setenv("ONNXRUN_HUGE_R", "0", 1);
    or_graph *g = run_with_env(d, index, "ONNXRUN_STREAM_R", "0", plain, n);
    cr_assert_eq(or_rnn_r_source(g->nodes[0].state, OR_Q_F32), OR_PACK_CACHED);
    cr_assert(!or_rnn_r_huge_pages(g->nodes[0].state, OR_Q_F32, OR_PACK_CACHED));
    or_graph_free(g);
    g = run_with_env(d, index, "ONNXRUN_HUGE_R", "1", other, no);
    cr_assert(or_rnn_r_huge_pages(g->nodes[0].state, OR_Q_F32, OR_PACK_CACHED));
    expect_identical(d, index, "R on huge pages", plain, n, other, no);
    or_graph_free(g);
    setenv("ONNXRUN_HUGE_R", "0", 1);
    static const char *const forced[2] = {"1", "2"};
    static const or_pack_source sources[2] = {OR_PACK_MEMORY, OR_PACK_L3};
    for (int f = 0; f < 2; f++) {
        g = run_with_env(d, index, "ONNXRUN_STREAM_R", forced[f], other, no);
        cr_assert_eq(or_rnn_r_source(g->nodes[0].state, OR_Q_F32), sources[f]);
        char how[64];
        snprintf(how, sizeof how, "%s, ONNXRUN_STREAM_R=%s", ISAS[isa], forced[f]);
        if (or_rnn_r_reads_one_stream(&g->nodes[0])) {
            one_stream_cases++;
            expect_near(d, how, plain, n, other, no);
        } else {
            expect_identical(d, index, how, plain, n, other, no);
        }
        or_graph_free(g);
    }
    return 1;
}

/* Where R is read from only changes how the GEMM prefetches it, and where
 * its pack lives (huge pages) nothing of the arithmetic: outputs are
 * bit-identical to the cached path on 4 KiB pages, on every ISA, over random
 * cases (every op, direction, layout, batch 1-2 where the prefetching
 * kernels run). The exception: at batch 1 on AVX-512, a float R read from
 * the L3 goes to the float panels' one-row kernel (or_rnn_r_one_stream),
 * whose sums differ by rounding. */
Test(recurrent, r_source_and_pages_give_identical_outputs) {
    one_stream_cases = 0;
    int compared = over_isas_and_cases(60, sources_match_cached);
    unsetenv("ONNXRUN_STREAM_R");
    unsetenv("ONNXRUN_HUGE_R");
    cr_assert(compared >= 60, "%d", compared);
    if (or_cpu_isa() == OR_ISA_AVX512 && or_cpu_l3_bytes() > 0)
        cr_assert(one_stream_cases > 0, "no case read R one panel at a time");
}
