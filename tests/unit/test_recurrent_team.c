/* The fused recurrent engine (ops/recurrent_team.c) against a plain double
 * reference written here from the ONNX equations, and against the
 * step-by-step path (ONNXRUN_RNN_TEAM=0): every op and GRU mode, 1-4
 * threads, batch 1/3/16, hidden sizes that split into uneven slices,
 * directions, layouts, per-row sequence lengths (0 included), clip,
 * peepholes, input_forget, initial states; BF16/INT8 weights; a pack planned
 * for more threads than a later run has. Plus the team job and barrier of
 * the thread pool, and X as an embedding lookup folded into tables
 * (ops/recurrent_fold.c) on both engines. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cpu.h"
#include "exec.h"
#include "graph.h"
#include "recurrent.h"
#include "../../runtime/cpu.h"
#include "test_env.h"
#include "threadpool.h"

/* ---- cases ---- */

typedef struct tcase {
    const char *op; /* RNN GRU LSTM */
    int lbr, input_forget, layout, dirs;
    bool reverse, peep, clip, h0;
    bool f64;     /* the graph in double (the data below stays float) */
    bool w_input; /* W a graph input (read in place) rather than an initializer */
    int64_t T, B, I, H;
    int32_t lens[16];
} tcase;

typedef struct tdata {
    float *x, *w, *r, *b, *h0, *c0, *p;
} tdata;

static int gates_of(const tcase *c) {
    return c->op[0] == 'L' ? 4 : c->op[0] == 'G' ? 3 : 1;
}

static uint32_t rng_state;
static float frand(float scale) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return scale * ((float)(rng_state >> 8) / 16777216.0f * 2.0f - 1.0f);
}

static float *rand_buf(int64_t n, float scale) {
    float *p = malloc(sizeof(float) * (size_t)(n + 1));
    for (int64_t i = 0; i < n; i++) p[i] = frand(scale);
    return p;
}

static tdata make_data(const tcase *c) {
    int64_t G = gates_of(c), D = c->dirs, H = c->H;
    float ws = 1.5f / sqrtf((float)H);
    return (tdata){rand_buf(c->T * c->B * c->I, 1.0f), rand_buf(D * G * H * c->I, ws),
                   rand_buf(D * G * H * H, ws),        rand_buf(D * 2 * G * H, 0.3f),
                   rand_buf(D * c->B * H, 0.8f),       rand_buf(D * c->B * H, 0.8f),
                   rand_buf(D * 3 * H, 0.5f)};
}

static void free_data(tdata *d) {
    float *all[7] = {d->x, d->w, d->r, d->b, d->h0, d->c0, d->p};
    for (int i = 0; i < 7; i++) free(all[i]);
}

/* ---- the reference ---- */

static double sg(double x) {
    return 1 / (1 + exp(-x));
}

typedef struct ref_out {
    double *y, *yh, *yc; /* Y [T, D, B, H], Y_h / Y_c [D, B, H] (layout 0 order) */
} ref_out;

/* A case's reference outputs (ref may be NULL) and data. */
static void free_case(ref_out *ref, tdata *in) {
    if (ref) free(ref->y), free(ref->yh), free(ref->yc);
    free_data(in);
}

static double clipv(const tcase *c, double v) {
    return c->clip ? fmax(-0.75, fmin(0.75, v)) : v;
}

/* Row u of M [rows, K] times v [K]. */
static double dotf(const float *m, int64_t u, int64_t K, const double *v) {
    double s = 0;
    for (int64_t k = 0; k < K; k++) s += (double)m[u * K + k] * v[k];
    return s;
}

/* One step of one row: h [H] (and cs [H], LSTM) from H_{t-1} to H_t. */
static void ref_cell(const tcase *c, const tdata *in, int d, const double *x, double *h,
                     double *cs) {
    const int64_t H = c->H, I = c->I, G = gates_of(c);
    const float *W = in->w + d * G * H * I, *R = in->r + d * G * H * H, *Wb = in->b + d * 2 * G * H;
    const float *Rb = Wb + G * H, *P = c->peep ? in->p + d * 3 * H : NULL;
    double *xw = calloc((size_t)(G * H), sizeof(double)),
           *hr = calloc((size_t)(G * H), sizeof(double));
    double *nh = calloc((size_t)H, sizeof(double)), *rh = calloc((size_t)H, sizeof(double));
    for (int64_t j = 0; j < G * H; j++) {
        xw[j] = dotf(W, j, I, x) + Wb[j];
        hr[j] = dotf(R, j, H, h) + Rb[j];
    }
    if (c->op[0] == 'G' && !c->lbr)
        for (int64_t k = 0; k < H; k++) rh[k] = sg(clipv(c, xw[H + k] + hr[H + k])) * h[k];
    for (int64_t u = 0; u < H; u++) {
        if (c->op[0] == 'R') {
            nh[u] = tanh(clipv(c, xw[u] + hr[u]));
        } else if (c->op[0] == 'L') {
            double i = sg(clipv(c, xw[u] + hr[u] + (P ? P[u] * cs[u] : 0)));
            double f =
                c->input_forget
                    ? 1 - i
                    : sg(clipv(c, xw[2 * H + u] + hr[2 * H + u] + (P ? P[2 * H + u] * cs[u] : 0)));
            double g = tanh(clipv(c, xw[3 * H + u] + hr[3 * H + u]));
            double cn = f * cs[u] + i * g;
            double o = sg(clipv(c, xw[H + u] + hr[H + u] + (P ? P[H + u] * cn : 0)));
            cs[u] = cn;
            nh[u] = o * tanh(cn);
        } else {
            double z = sg(clipv(c, xw[u] + hr[u]));
            double r = sg(clipv(c, xw[H + u] + hr[H + u]));
            double hh =
                c->lbr ? tanh(clipv(c, xw[2 * H + u] + r * hr[2 * H + u]))
                       : tanh(clipv(c, xw[2 * H + u] + dotf(R, 2 * H + u, H, rh) + Rb[2 * H + u]));
            nh[u] = (1 - z) * hh + z * h[u];
        }
    }
    memcpy(h, nh, sizeof(double) * (size_t)H);
    free(xw), free(hr), free(nh), free(rh);
}

static int64_t xoff(const tcase *c, int64_t t, int64_t b) {
    return (c->layout ? b * c->T + t : t * c->B + b) * c->I;
}
static int64_t yoff(const tcase *c, int64_t t, int d, int64_t b) {
    return ((c->layout ? (b * c->T + t) * c->dirs + d : (t * c->dirs + d) * c->B + b)) * c->H;
}
static int64_t foff(const tcase *c, int d, int64_t b) {
    return (c->layout ? b * c->dirs + d : d * c->B + b) * c->H;
}

/* Y, Y_h, Y_c in the layout of the case. */
static ref_out reference(const tcase *c, const tdata *in) {
    const int64_t H = c->H, DBH = c->dirs * c->B * H;
    ref_out o = {calloc((size_t)(c->T * DBH), sizeof(double)), calloc((size_t)DBH, sizeof(double)),
                 calloc((size_t)DBH, sizeof(double))};
    double *x = calloc((size_t)c->I, sizeof(double)), *h = calloc((size_t)H, sizeof(double));
    double *cs = calloc((size_t)H, sizeof(double));
    for (int d = 0; d < c->dirs; d++)
        for (int64_t b = 0; b < c->B; b++) {
            for (int64_t u = 0; u < H; u++) {
                h[u] = c->h0 ? in->h0[foff(c, d, b) + u] : 0;
                cs[u] = c->h0 ? in->c0[foff(c, d, b) + u] : 0;
            }
            int64_t len = c->lens[b];
            for (int64_t k = 0; k < len; k++) {
                int64_t t = d == 1 || c->reverse ? len - 1 - k : k;
                for (int64_t i = 0; i < c->I; i++) x[i] = in->x[xoff(c, t, b) + i];
                ref_cell(c, in, d, x, h, cs);
                memcpy(o.y + yoff(c, t, d, b), h, sizeof(double) * (size_t)H);
            }
            if (len > 0) {
                memcpy(o.yh + foff(c, d, b), h, sizeof(double) * (size_t)H);
                memcpy(o.yc + foff(c, d, b), cs, sizeof(double) * (size_t)H);
            }
        }
    free(x), free(h), free(cs);
    return o;
}

/* ---- the graph ---- */

static const char *const IN[8] = {"X",         "W",         "R", "B", "sequence_lens",
                                  "initial_h", "initial_c", "P"};
static const char *const OUT[3] = {"Y", "Y_h", "Y_c"};

/* Tensor `name` of kind INITIALIZER (static) or INPUT (listed as a graph
 * input), holding a copy of data; a double tensor is converted from float
 * data. */
static void add_tensor(or_graph *g, const char *name, int rank, const int64_t *dims, int dtype,
                       const void *data, or_tensor_kind kind) {
    int t = or_graph_tensor(g, name);
    or_tensor *x = &g->tensors[t];
    x->rank = rank;
    for (int k = 0; k < rank; k++) x->dims[k] = dims[k];
    x->dtype = dtype;
    int64_t count = or_shape_numel(rank, dims);
    size_t bytes = (size_t)count * or_dtype_size(dtype);
    x->owned = x->data = malloc(bytes + 1);
    if (dtype == OR_DOUBLE) /* from float data */
        for (int64_t k = 0; k < count; k++) ((double *)x->data)[k] = ((const float *)data)[k];
    else
        memcpy(x->data, data, bytes);
    x->owned_len = x->nbytes = bytes;
    x->kind = kind;
    x->is_static = kind == OR_T_INITIALIZER;
    if (kind == OR_T_INPUT) {
        g->inputs = realloc(g->inputs, sizeof(int) * (size_t)(g->n_inputs + 1));
        g->inputs[g->n_inputs++] = t;
    }
}

static void add_in(or_graph *g, int i, int rank, const int64_t *dims, int dtype, const void *data,
                   bool weight) {
    add_tensor(g, IN[i], rank, dims, dtype, data, weight ? OR_T_INITIALIZER : OR_T_INPUT);
}

static or_attr *attr(or_node *n, const char *name, or_attr_type type) {
    n->attrs = realloc(n->attrs, sizeof *n->attrs * (size_t)(n->n_attrs + 1));
    or_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = type;
    return a;
}

static void node_attrs(or_node *n, const tcase *c) {
    const char *dir = c->dirs == 2 ? "bidirectional" : c->reverse ? "reverse" : "forward";
    or_attr *a = attr(n, "direction", OR_ATTR_STRING);
    a->s = strdup(dir);
    a->s_len = strlen(dir);
    attr(n, "hidden_size", OR_ATTR_INT)->i = c->H;
    attr(n, "layout", OR_ATTR_INT)->i = c->layout;
    if (c->clip) attr(n, "clip", OR_ATTR_FLOAT)->f = 0.75f;
    if (c->lbr) attr(n, "linear_before_reset", OR_ATTR_INT)->i = 1;
    if (c->input_forget && c->op[0] == 'L') /* an LSTM attribute only */
        attr(n, "input_forget", OR_ATTR_INT)->i = 1;
}

/* X = Gather(E, idx) (then Transpose perm [1, 0, 2] when transposed), E an
 * initializer [V, I], idx a graph input [X's dims 0 and 1] (swapped when
 * transposed), indices in [-V, V). */
typedef struct emb_front {
    int64_t V;
    float *e;
    bool transposed, idx32;
    bool e_input; /* E a graph input instead */
    int64_t *idx; /* values; stored as int32 when idx32 */
} emb_front;

/* A node of op_type with inputs and outputs named (one each). */
static void add_plain_node(or_graph *g, const char *op, const char *name, const char *in0,
                           const char *in1, const char *out) {
    or_node *n = or_graph_add_node(g);
    n->name = strdup(name);
    n->op_type = strdup(op);
    n->domain = strdup("");
    n->opset = 14;
    n->n_inputs = in1 ? 2 : 1;
    n->inputs = calloc(2, sizeof(int));
    n->inputs[0] = or_graph_tensor(g, in0);
    if (in1) n->inputs[1] = or_graph_tensor(g, in1);
    n->n_outputs = 1;
    n->outputs = calloc(1, sizeof(int));
    n->outputs[0] = or_graph_tensor(g, out);
}

/* E, idx, the Gather and the Transpose producing "X" (dims xd, elements of dtype). */
static void add_front(or_graph *g, const emb_front *f, const int64_t *xd, int dtype) {
    int64_t ed[2] = {f->V, xd[2]},
            id[2] = {f->transposed ? xd[1] : xd[0], f->transposed ? xd[0] : xd[1]};
    int e = or_graph_tensor(g, "E"), ix = or_graph_tensor(g, "idx");
    or_tensor *et = &g->tensors[e], *it = &g->tensors[ix];
    *et = (or_tensor){.name = et->name,
                      .dtype = dtype,
                      .rank = 2,
                      .kind = f->e_input ? OR_T_INPUT : OR_T_INITIALIZER,
                      .is_static = !f->e_input,
                      .producer = -1};
    memcpy(et->dims, ed, sizeof ed);
    et->nbytes = et->owned_len = or_dtype_size(dtype) * (size_t)(ed[0] * ed[1]);
    et->owned = et->data = malloc(et->nbytes);
    for (int64_t k = 0; k < ed[0] * ed[1]; k++)
        if (dtype == OR_DOUBLE)
            ((double *)et->data)[k] = f->e[k];
        else
            ((float *)et->data)[k] = f->e[k];
    int64_t count = id[0] * id[1];
    size_t esz = f->idx32 ? sizeof(int32_t) : sizeof(int64_t);
    *it = (or_tensor){.name = it->name,
                      .dtype = f->idx32 ? OR_INT32 : OR_INT64,
                      .rank = 2,
                      .kind = OR_T_INPUT,
                      .producer = -1};
    memcpy(it->dims, id, sizeof id);
    it->nbytes = it->owned_len = esz * (size_t)count;
    it->owned = it->data = malloc(it->nbytes);
    for (int64_t i = 0; i < count; i++)
        if (f->idx32)
            ((int32_t *)it->data)[i] = (int32_t)f->idx[i];
        else
            ((int64_t *)it->data)[i] = f->idx[i];
    g->inputs = realloc(g->inputs, sizeof(int) * (size_t)(g->n_inputs + 2));
    g->inputs[g->n_inputs++] = ix;
    if (f->e_input) g->inputs[g->n_inputs++] = e;
    add_plain_node(g, "Gather", "gather", "E", "idx", f->transposed ? "looked_up" : "X");
    if (!f->transposed) return;
    add_plain_node(g, "Transpose", "transpose", "looked_up", NULL, "X");
    or_attr *perm = attr(&g->nodes[g->n_nodes - 1], "perm", OR_ATTR_INTS);
    perm->n = 3;
    perm->ints = malloc(3 * sizeof(int64_t));
    perm->ints[0] = 1, perm->ints[1] = 0, perm->ints[2] = 2;
}

/* Builds and plans the node, X fed by front when not NULL; team:
 * ONNXRUN_RNN_TEAM, the engine off (0), forced on (1), forced on splitting
 * units of two directions (2), forced on with threads taking over each
 * other's chunks at once (3), forced on splitting batch rows (4), unset (5:
 * the default plan). */
#define TEAM_DEFAULT 5
static or_graph *build_with(const tcase *c, const tdata *in, or_threadpool *pool, int team,
                            int precision, const emb_front *front) {
    const char *modes[5] = {"0", "1", "2", "3", "4"};
    if (team == TEAM_DEFAULT)
        unsetenv("ONNXRUN_RNN_TEAM");
    else
        setenv("ONNXRUN_RNN_TEAM", modes[team], 1);
    or_graph *g = or_graph_new();
    g->opset = 14;
    g->pool = pool;
    g->num_threads = or_threadpool_size(pool);
    g->weight_precision = precision;
    const int64_t G = gates_of(c), D = c->dirs, H = c->H;
    const int ft = c->f64 ? OR_DOUBLE : OR_FLOAT;
    bool lstm = G == 4;
    int64_t xd[3] = {c->layout ? c->B : c->T, c->layout ? c->T : c->B, c->I};
    int64_t wd[3] = {D, G * H, c->I}, rd[3] = {D, G * H, H}, bd[2] = {D, 2 * G * H};
    int64_t ld[1] = {c->B}, hd[3] = {c->layout ? c->B : D, c->layout ? D : c->B, H};
    int64_t pd[2] = {D, 3 * H};
    if (front)
        add_front(g, front, xd, ft);
    else
        add_in(g, 0, 3, xd, ft, in->x, false);
    add_in(g, 1, 3, wd, ft, in->w, !c->w_input);
    add_in(g, 2, 3, rd, ft, in->r, true);
    add_in(g, 3, 2, bd, ft, in->b, true);
    add_in(g, 4, 1, ld, OR_INT32, c->lens, false);
    if (c->h0) add_in(g, 5, 3, hd, ft, in->h0, false);
    if (c->h0 && lstm) add_in(g, 6, 3, hd, ft, in->c0, false);
    if (c->peep && lstm) add_in(g, 7, 2, pd, ft, in->p, true);
    or_node *n = or_graph_add_node(g);
    n->name = strdup("team_node");
    n->op_type = strdup(c->op);
    n->domain = strdup("");
    n->opset = 14;
    n->n_inputs = lstm && c->peep ? 8 : lstm && c->h0 ? 7 : c->h0 ? 6 : 5;
    n->inputs = calloc(8, sizeof(int));
    for (int i = 0; i < n->n_inputs; i++) n->inputs[i] = or_graph_find_tensor(g, IN[i]);
    n->n_outputs = lstm ? 3 : 2;
    n->outputs = calloc(4, sizeof(int));
    for (int i = 0; i < n->n_outputs; i++) {
        int t = n->outputs[i] = or_graph_tensor(g, OUT[i]);
        g->tensors[t].is_graph_output = true;
        g->outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
        g->outputs[g->n_outputs++] = t;
    }
    node_attrs(n, c);
    int st = or_graph_sort(g);
    if (!st) st = or_graph_check_ops(g);
    if (!st) st = or_graph_plan(g);
    unsetenv("ONNXRUN_RNN_TEAM");
    cr_assert_eq(st, ONNXRUN_OK, "%s", g->errmsg);
    return g;
}

static or_graph *build(const tcase *c, const tdata *in, or_threadpool *pool, int team,
                       int precision) {
    return build_with(c, in, pool, team, precision, NULL);
}

/* The recurrent node (the last one once sorted). */
static or_node *rnn_node(or_graph *g) {
    return &g->nodes[g->n_nodes - 1];
}

static bool uses_team(or_graph *g) {
    const or_rnn_state *s = rnn_node(g)->state;
    return s && s->team != NULL;
}

static const float *output(or_graph *g, int i) {
    return g->tensors[or_graph_find_tensor(g, OUT[i])].data;
}

/* Element j of output i, float or double. */
static double value(or_graph *g, int i, int64_t j) {
    const or_tensor *t = &g->tensors[or_graph_find_tensor(g, OUT[i])];
    return t->dtype == OR_DOUBLE ? ((const double *)t->data)[j] : ((const float *)t->data)[j];
}

static int64_t out_len(const tcase *c, int i) {
    return (i == 0 ? c->T : 1) * c->dirs * c->B * c->H;
}

static void expect_ref(const tcase *c, or_graph *g, const ref_out *ref, double tol,
                       const char *tag) {
    const double *want[3] = {ref->y, ref->yh, ref->yc};
    for (int i = 0; i < (gates_of(c) == 4 ? 3 : 2); i++) {
        for (int64_t j = 0; j < out_len(c, i); j++)
            cr_assert(fabs(value(g, i, j) - want[i][j]) <= tol,
                      "%s %s H%ld B%ld %s[%ld]: %.7g vs %.7g", tag, c->op, (long)c->H, (long)c->B,
                      OUT[i], (long)j, value(g, i, j), want[i][j]);
    }
}

static void expect_same(const tcase *c, or_graph *a, or_graph *b, double tol, const char *tag) {
    for (int i = 0; i < (gates_of(c) == 4 ? 3 : 2); i++) {
        for (int64_t j = 0; j < out_len(c, i); j++) {
            double x = value(a, i, j), y = value(b, i, j);
            cr_assert(fabs(x - y) <= tol * (1 + fabs(y)), "%s %s %s[%ld]: %.7g vs %.7g", tag, c->op,
                      OUT[i], (long)j, x, y);
        }
    }
}

/* The engine runs on AVX2 and AVX-512 (the scalar path keeps the old one). */
static bool simd(void) {
    return or_cpu_isa() == OR_ISA_AVX512 || or_cpu_isa() == OR_ISA_AVX2;
}

/* ---- engine tests ---- */

static const char *const OPS[4] = {"RNN", "GRU", "GRU", "LSTM"};

/* Case number i of the sweep: op, threads, batch and hidden size given,
 * the rest varied by i. */
static tcase sweep_case(int op, int64_t B, int64_t H, int i) {
    tcase c = {.op = OPS[op], .lbr = op == 2, .T = 5, .B = B, .I = 3, .H = H};
    c.layout = i % 2;
    c.dirs = i % 3 == 2 ? 2 : 1;
    c.reverse = i % 3 == 1;
    c.clip = i % 4 == 1;
    c.peep = i % 2 == 0;
    c.input_forget = i % 5 == 3;
    c.h0 = i % 3 != 0;
    for (int64_t b = 0; b < B; b++) c.lens[b] = (int32_t)((b * 7 + i) % 6); /* 0..5 */
    if (B == 1) c.lens[0] = i % 4 == 0 ? 0 : 5;
    if (B > 1) c.lens[1] = 5;
    return c;
}

/* Every op and mode x threads 1-4 x batch 1/3/16 x hidden 20/37/70: the
 * engine (forced) against the double reference and the old path. */
Test(recurrent_team, matches_reference_and_old_path) {
    if (!simd()) cr_skip_test("the engine needs AVX2 or AVX-512");
    const int64_t batches[3] = {1, 3, 16}, hiddens[3] = {20, 37, 70};
    int i = 0, engaged = 0;
    rng_state = 12345;
    for (int threads = 1; threads <= 4; threads++) {
        or_threadpool *pool = threads > 1 ? or_threadpool_create(threads) : NULL;
        for (int op = 0; op < 4; op++)
            for (int bi = 0; bi < 3; bi++)
                for (int hi = 0; hi < 3; hi++, i++) {
                    tcase c = sweep_case(op, batches[bi], hiddens[hi], i);
                    tdata in = make_data(&c);
                    ref_out ref = reference(&c, &in);
                    or_graph *team = build(&c, &in, pool, 1 + (i / 3) % 4, ONNXRUN_PRECISION_FP32);
                    or_graph *old = build(&c, &in, pool, 0, ONNXRUN_PRECISION_FP32);
                    cr_assert(!uses_team(old));
                    engaged += uses_team(team);
                    cr_assert_eq(or_graph_run(team), ONNXRUN_OK, "%s", team->errmsg);
                    cr_assert_eq(or_graph_run(old), ONNXRUN_OK, "%s", old->errmsg);
                    expect_ref(&c, team, &ref, 2e-5, "team");
                    expect_ref(&c, old, &ref, 2e-5, "old");
                    expect_same(&c, team, old, 2e-6, "team vs old");
                    /* A second run starts again from initial_h. */
                    cr_assert_eq(or_graph_run(team), ONNXRUN_OK, "%s", team->errmsg);
                    expect_ref(&c, team, &ref, 2e-5, "team rerun");
                    or_graph_free(team);
                    or_graph_free(old);
                    free_case(&ref, &in);
                }
        or_threadpool_destroy(pool);
    }
    cr_assert_eq(engaged, i, "the engine ran %d of %d cases", engaged, i);
}

/* The team engine in chunks of 1-3 iterations (ONNXRUN_RNN_CHUNK; T = 5 and
 * rows of 0-5 steps, so chunks end inside rows and rows inside chunks):
 * every op, engine mode (1-3: by direction where two directions meet two
 * threads, splitting units, taking over parts at once) and precision, 1-3
 * threads, batch 1/3/16, hidden 37 or 64 (members of 2+ computing their
 * own units' columns of the input product where W's pack allows, else
 * their share of the rows), W packed or read in place, the other
 * attributes (directions, reverse, layout, lengths) drawn per case; fp32 against the double
 * reference and the old path in the same chunks, bf16 and int8 (whose input products run per
 * member, each on its own activation buffer, where the CPU reduces W) against the old path and
 * loosely the reference. */
Test(recurrent_team, chunked_input_products) {
    if (!simd()) cr_skip_test("the engine needs AVX2 or AVX-512");
    const int64_t batches[3] = {1, 3, 16};
    const int precisions[3] = {ONNXRUN_PRECISION_FP32, ONNXRUN_PRECISION_BF16,
                               ONNXRUN_PRECISION_INT8};
    const int64_t hiddens[2] = {37, 64};
    rng_state = 4242;
    int i = 0, by_columns[2] = {0, 0};
    for (int threads = 1; threads <= 3; threads++) {
        or_threadpool *pool = threads > 1 ? or_threadpool_create(threads) : NULL;
        for (int chunk = 1; chunk <= 3; chunk++)
            for (int op = 0; op < 4; op++)
                for (int bi = 0; bi < 3; bi++)
                    for (int mode = 1; mode <= 4; mode++, i++) {
                        const int64_t H = hiddens[(i * 2246822519u >> 7) % 2];
                        char forced[8];
                        snprintf(forced, sizeof forced, "%d", chunk);
                        setenv("ONNXRUN_RNN_CHUNK", forced, 1);
                        /* attributes hashed from the case number, not tied to the loops */
                        tcase c = sweep_case(op, batches[bi], H, (int)(i * 2654435761u % 997));
                        c.w_input = (i * 2246822519u >> 11) % 4 == 0;
                        tdata in = make_data(&c);
                        ref_out ref = reference(&c, &in);
                        int precision = precisions[(i * 40503u >> 4) % 3];
                        or_graph *team = build(&c, &in, pool, mode, precision);
                        or_graph *old = build(&c, &in, pool, 0, precision);
                        unsetenv("ONNXRUN_RNN_CHUNK");
                        const or_rnn_state *st = rnn_node(team)->state;
                        cr_assert(uses_team(team) && !uses_team(old));
                        by_columns[c.w_input] += threads > 1 && or_rnn_team_input_by_columns(st);
                        cr_assert_eq(st->chunk, chunk, "case %d: chunks of %ld", i,
                                     (long)st->chunk);
                        cr_assert_eq(or_graph_run(team), ONNXRUN_OK, "%s", team->errmsg);
                        cr_assert_eq(or_graph_run(old), ONNXRUN_OK, "%s", old->errmsg);
                        if (precision == ONNXRUN_PRECISION_FP32) {
                            expect_ref(&c, team, &ref, 2e-5, "chunked team");
                            expect_same(&c, team, old, 2e-6, "chunked team vs old");
                        } else {
                            expect_same(&c, team, old, 1e-5, "chunked reduced team vs old");
                            expect_ref(&c, team, &ref, 0.05, "chunked reduced vs float reference");
                        }
                        or_graph_free(team);
                        or_graph_free(old);
                        free_case(&ref, &in);
                    }
        or_threadpool_destroy(pool);
    }
    /* Hidden 64 split in two: every gate's columns of a member start on a
     * panel of W's pack (fp32), so those members compute their own columns;
     * so do members of any slices when W is read in place. */
    cr_assert(by_columns[0] > 0 && by_columns[1] > 0, "split by columns: %d packed, %d in place",
              by_columns[0], by_columns[1]);
}

/* The team engine splitting units keeps X·Wᵀ for the whole sequence up to
 * OR_RNN_TEAM_XW_BYTES and works in chunks past it (under a memory cap, in
 * the step-by-step path's smaller ones). LSTM hidden 20, batch 16: 5120
 * bytes a step, so 409 steps fit and 410 do not. Split rows, each of the
 * two members has the step-by-step path's 512 KiB for its rows: 204 steps. */
Test(recurrent_team, chunks_past_the_budget) {
    if (!simd()) cr_skip_test("the engine needs AVX2 or AVX-512");
    unsetenv("ONNXRUN_RNN_CHUNK");
    or_threadpool *pool = or_threadpool_create(2);
    const int64_t steps[2] = {409, 410};
    rng_state = 31;
    for (int i = 0; i < 2; i++) {
        tcase c = {.op = "LSTM", .T = steps[i], .B = 16, .I = 3, .H = 20, .dirs = 1};
        for (int64_t b = 0; b < c.B; b++) c.lens[b] = (int32_t)(b % 3 ? steps[i] : steps[i] - 5);
        tdata in = make_data(&c);
        or_graph *team = build(&c, &in, pool, 2, ONNXRUN_PRECISION_FP32);
        or_graph *rows = build(&c, &in, pool, 4, ONNXRUN_PRECISION_FP32);
        or_graph *old = build(&c, &in, pool, 0, ONNXRUN_PRECISION_FP32);
        const or_rnn_state *rs = rnn_node(rows)->state;
        cr_assert(or_rnn_team_splits_rows(rs));
        cr_assert_eq(rs->chunk, 2 * (512 << 10) / (c.B * 4 * c.H * (int64_t)sizeof(float)));
        or_node *n = rnn_node(team);
        const or_rnn_state *st = n->state;
        cr_assert(uses_team(team));
        int64_t per_step = c.B * 4 * c.H * (int64_t)sizeof(float);
        cr_assert_eq(st->chunk, i == 0 ? c.T : (int64_t)(OR_RNN_TEAM_XW_BYTES / per_step));
        or_mem *mem = or_mem_new(NULL, (size_t)1 << 30);
        cr_assert_not_null(mem);
        or_mem *previous = or_mem_enter(mem);
        int64_t capped = or_rnn_chunk_steps(st);
        or_mem_leave(previous);
        or_mem_release(mem);
        cr_assert_eq(capped, (int64_t)((512 << 10) / per_step), "under a memory cap: %ld",
                     (long)capped);
        cr_assert_eq(or_graph_run(team), ONNXRUN_OK, "%s", team->errmsg);
        cr_assert_eq(or_graph_run(old), ONNXRUN_OK, "%s", old->errmsg);
        expect_same(&c, team, old, 2e-6, "team past the budget vs old");
        cr_assert_eq(or_graph_run(rows), ONNXRUN_OK, "%s", rows->errmsg);
        expect_same(&c, rows, old, 2e-6, "split rows in chunks vs old");
        or_graph_free(rows);
        or_graph_free(team);
        or_graph_free(old);
        free_data(&in);
    }
    or_threadpool_destroy(pool);
}

/* Hand-checkable: RNN, one input, hidden 2 (R = 0 so units are independent
 * of each other's state, identity-like W), two threads split nothing (one
 * 16-unit block) but 17 units split in two slices across two threads. */
Test(recurrent_team, rnn_by_hand_two_slices) {
    if (!simd()) cr_skip_test("the engine needs AVX2 or AVX-512");
    tcase c = {.op = "RNN", .T = 2, .B = 1, .I = 1, .H = 17, .dirs = 1, .lens = {2}};
    tdata in = make_data(&c);
    /* W[u] = 0.1 * (u + 1), R = 0 except R[16][0] = 1 (unit 16 reads unit 0's
     * state from the other slice), B = 0; x = 1 then 2. */
    for (int u = 0; u < 17; u++) in.w[u] = 0.1f * (float)(u + 1);
    memset(in.r, 0, sizeof(float) * 17 * 17);
    in.r[16 * 17 + 0] = 1.0f;
    memset(in.b, 0, sizeof(float) * 34);
    in.x[0] = 1.0f, in.x[1] = 2.0f;
    or_threadpool *pool = or_threadpool_create(2);
    or_graph *g = build(&c, &in, pool, 1, ONNXRUN_PRECISION_FP32);
    cr_assert(uses_team(g));
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    const float *y = output(g, 0);
    double h0_1 = tanh(0.1), h16_1 = tanh(1.7);
    cr_assert_float_eq(y[0], h0_1, 1e-6);
    cr_assert_float_eq(y[16], h16_1, 1e-6);
    cr_assert_float_eq(y[17 + 0], tanh(0.2), 1e-6);
    cr_assert_float_eq(y[17 + 5], tanh(1.2), 1e-6);
    cr_assert_float_eq(y[17 + 16], tanh(3.4 + h0_1), 1e-6);
    or_graph_free(g);
    or_threadpool_destroy(pool);
    free_data(&in);
}

/* A pack made for 4 members (split rows: 3, one a batch row) runs with
 * fewer threads (a clone without a pool): the members are spread over the
 * threads it has. */
Test(recurrent_team, fewer_threads_than_members) {
    if (!simd()) cr_skip_test("the engine needs AVX2 or AVX-512");
    rng_state = 777;
    or_threadpool *p4 = or_threadpool_create(4), *p2 = or_threadpool_create(2);
    for (int op = 0; op < 8; op++) {
        tcase c = sweep_case(op % 4, 3, 70, op);
        tdata in = make_data(&c);
        ref_out ref = reference(&c, &in);
        int mode = op >= 4 ? 4 : op % 2 ? 3 : 1;
        or_graph *g = build(&c, &in, p4, mode, ONNXRUN_PRECISION_FP32);
        cr_assert(uses_team(g));
        cr_assert_eq(or_rnn_team_splits_rows(rnn_node(g)->state), mode == 4);
        or_threadpool *pools[3] = {p4, p2, NULL};
        for (int i = 0; i < 3; i++) {
            g->pool = pools[i];
            cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
            expect_ref(&c, g, &ref, 2e-5, i == 0 ? "4 threads" : i == 1 ? "2 threads" : "inline");
        }
        g->pool = p4;
        or_graph_free(g);
        free_case(&ref, &in);
    }
    or_threadpool_destroy(p4);
    or_threadpool_destroy(p2);
}

/* Split rows with every sequence as long as X, so that each member's X·Wᵀ
 * is one product per step over its rows (layout 0; layout 1: one per row):
 * every op, forward, reverse and two directions, 2-4 threads, batch 13
 * (members of unequal rows) and 16, X·Wᵀ in chunks of 1-3 steps or as
 * planned; against the double reference and the old path, twice. */
Test(recurrent_team, split_rows_equal_lengths) {
    if (!simd()) cr_skip_test("the engine needs AVX2 or AVX-512");
    const int64_t batches[2] = {13, 16};
    rng_state = 2024;
    int i = 0;
    for (int threads = 2; threads <= 4; threads++) {
        or_threadpool *pool = or_threadpool_create(threads);
        for (int op = 0; op < 4; op++)
            for (int bi = 0; bi < 2; bi++)
                for (int dm = 0; dm < 3; dm++, i++) {
                    tcase c = {.op = OPS[op], .lbr = op == 2, .T = 7, .B = batches[bi], .I = 5};
                    c.H = 24 + 8 * op;
                    c.dirs = dm == 2 ? 2 : 1;
                    c.reverse = dm == 1;
                    c.layout = i % 5 == 4;
                    c.peep = i % 2 == 0;
                    c.clip = i % 4 == 1;
                    c.h0 = i % 3 != 0;
                    for (int64_t b = 0; b < c.B; b++) c.lens[b] = (int32_t)c.T;
                    char chunk[8];
                    snprintf(chunk, sizeof chunk, "%d", i % 4);
                    if (i % 4) setenv("ONNXRUN_RNN_CHUNK", chunk, 1);
                    tdata in = make_data(&c);
                    ref_out ref = reference(&c, &in);
                    or_graph *team = build(&c, &in, pool, 4, ONNXRUN_PRECISION_FP32);
                    or_graph *old = build(&c, &in, pool, 0, ONNXRUN_PRECISION_FP32);
                    unsetenv("ONNXRUN_RNN_CHUNK");
                    cr_assert(or_rnn_team_splits_rows(rnn_node(team)->state), "case %d", i);
                    cr_assert_eq(or_graph_run(old), ONNXRUN_OK, "%s", old->errmsg);
                    for (int run = 0; run < 2; run++) {
                        cr_assert_eq(or_graph_run(team), ONNXRUN_OK, "%s", team->errmsg);
                        expect_ref(&c, team, &ref, 2e-5, "split rows");
                        expect_same(&c, team, old, 2e-6, "split rows vs old");
                    }
                    or_graph_free(team);
                    or_graph_free(old);
                    free_case(&ref, &in);
                }
        or_threadpool_destroy(pool);
    }
}

typedef struct plan_case {
    int64_t batch, hidden, dirs;
    int precision;
    or_threadpool *pool;
    int plan; /* PLAN_UNITS: any split of the units */
} plan_case;
#define PLAN_UNITS (-1)

/* The plan of each case, asked of a copy of a planned node's state with the
 * case's sizes (LSTM: R is 16·hidden² bytes in fp32). */
static void expect_plans(or_graph *g, const or_rnn_state *s, const plan_case *cases, size_t n,
                         const char *how) {
    or_rnn_state st = *s;
    for (size_t i = 0; i < n; i++) {
        st.batch = cases[i].batch, st.hidden = cases[i].hidden, st.dirs = cases[i].dirs;
        st.gh = 4 * st.hidden;
        g->weight_precision = cases[i].precision;
        g->pool = cases[i].pool;
        int plan = or_rnn_team_members(g, &st);
        if (cases[i].plan == PLAN_UNITS)
            cr_expect(plan > 0 && !(plan & (OR_RNN_TEAM_BY_ROWS | OR_RNN_TEAM_BY_DIR)),
                      "%s case %zu: plan %#x", how, i, plan);
        else
            cr_expect_eq(plan, cases[i].plan, "%s case %zu: plan %#x", how, i, plan);
    }
}

/* Unforced: one direction on 2+ threads splits the batch rows where each
 * thread's share has 6 rows or more (4 with R of up to 768 KiB as packed;
 * 12 with more where the cores share one L3) and R takes 8 MiB or less; it
 * splits the units otherwise, and with one thread uses no team. */
Test(recurrent_team, default_plan_splits_rows) {
    if (!simd()) cr_skip_test("the engine needs AVX2 or AVX-512");
    char *old_shared = swap_env("ONNXRUN_L3_SHARED", "0");
    or_cpu_reset();
    rng_state = 5150;
    or_threadpool *p2 = or_threadpool_create(2), *p4 = or_threadpool_create(4);
    tcase c = {.op = "LSTM", .T = 6, .B = 16, .I = 4, .H = 37, .dirs = 1};
    for (int64_t b = 0; b < c.B; b++) c.lens[b] = (int32_t)(b % 7);
    tdata in = make_data(&c);
    ref_out ref = reference(&c, &in);
    or_graph *g = build(&c, &in, p2, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32);
    const or_rnn_state *s = rnn_node(g)->state;
    cr_assert(or_rnn_team_splits_rows(s));
    cr_assert_eq(or_rnn_team_members(g, s), 2 | OR_RNN_TEAM_BY_ROWS);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    expect_ref(&c, g, &ref, 2e-5, "default split rows");
    const int rows2 = 2 | OR_RNN_TEAM_BY_ROWS, rows4 = 4 | OR_RNN_TEAM_BY_ROWS;
    const int fp32 = ONNXRUN_PRECISION_FP32, bf16 = ONNXRUN_PRECISION_BF16;
    const plan_case apart[] = {
        {7, 37, 1, fp32, p2, PLAN_UNITS},  /* 3 rows a thread */
        {8, 37, 1, fp32, p2, rows2},       /* 4, R 21,904 B */
        {8, 219, 1, fp32, p2, rows2},      /* R 767,376 B */
        {8, 222, 1, fp32, p2, PLAN_UNITS}, /* R 788,544 B */
        {11, 256, 1, fp32, p2, PLAN_UNITS},
        {12, 256, 1, fp32, p2, rows2},
        {16, 512, 1, fp32, p2, rows2},
        {12, 724, 1, fp32, p2, rows2},      /* R 8,386,816 B */
        {12, 725, 1, fp32, p2, PLAN_UNITS}, /* R 8,410,000 B */
        {12, 1024, 1, bf16, p2, rows2},     /* 8 MiB */
        {12, 1025, 1, bf16, p2, PLAN_UNITS},
        {12, 1448, 1, ONNXRUN_PRECISION_INT8, p2, rows2},
        {16, 37, 2, fp32, p2, 2 | OR_RNN_TEAM_BY_DIR},
        {16, 37, 1, fp32, p4, rows4},
        {20, 256, 1, fp32, p4, PLAN_UNITS}, /* 5 rows a thread */
        {24, 256, 1, fp32, p4, rows4},
        {16, 37, 1, fp32, NULL, 0},
    };
    expect_plans(g, s, apart, sizeof apart / sizeof *apart, "L3s apart");
    setenv("ONNXRUN_L3_SHARED", "1", 1);
    or_cpu_reset();
    const plan_case shared[] = {
        {8, 219, 1, fp32, p2, rows2},       /* R 767,376 B: 4 rows still */
        {16, 37, 1, fp32, p2, rows2},       /* 8 rows, R 21,904 B */
        {16, 222, 1, fp32, p2, PLAN_UNITS}, /* 8 rows, R 788,544 B */
        {22, 256, 1, fp32, p2, PLAN_UNITS}, /* 11 rows */
        {24, 256, 1, fp32, p2, rows2},      /* 12 rows */
        {32, 724, 1, fp32, p2, rows2},      {32, 725, 1, fp32, p2, PLAN_UNITS}, /* R past 8 MiB */
        {24, 256, 1, fp32, p4, PLAN_UNITS}, /* 6 rows a thread */
        {48, 256, 1, fp32, p4, rows4},
    };
    expect_plans(g, s, shared, sizeof shared / sizeof *shared, "one L3");
    restore_env("ONNXRUN_L3_SHARED", old_shared);
    or_cpu_reset();
    g->weight_precision = fp32;
    g->pool = p2;
    or_graph_free(g);
    free_case(&ref, &in);
    or_threadpool_destroy(p2);
    or_threadpool_destroy(p4);
}

/* sysfs's CPU lists (shared_cpu_list) against the CPUs 0 .. n - 1. */
Test(recurrent_team, cpu_lists_cover_the_cpus) {
    cr_expect(or_cpu_list_covers("0-1\n", 2));
    cr_expect(or_cpu_list_covers("0,1", 2));
    cr_expect(or_cpu_list_covers("0-3,8-11\n", 4));
    cr_expect(or_cpu_list_covers("0-15", 8));
    cr_expect_not(or_cpu_list_covers("0-3,8-11", 5), "CPU 4 missing");
    cr_expect_not(or_cpu_list_covers("0\n", 2), "one CPU of two");
    cr_expect_not(or_cpu_list_covers("1-3", 2), "CPU 0 missing");
    cr_expect_not(or_cpu_list_covers("", 1));
    cr_expect_not(or_cpu_list_covers("0-1x", 2), "unreadable");
    cr_expect_not(or_cpu_list_covers("3-1", 2), "backwards");
    cr_expect_not(or_cpu_list_covers("0-1", 0), "no CPUs known");
}

/* Unforced, two threads: a bidirectional batch of 4+ rows runs one direction
 * per thread, batch 1 splits units; both match the reference. */
Test(recurrent_team, default_plan_by_direction_from_batch_4) {
    if (!simd()) cr_skip_test("the engine needs AVX2 or AVX-512");
    rng_state = 4242;
    or_threadpool *pool = or_threadpool_create(2);
    const int64_t batches[3] = {1, 3, 4};
    for (int op = 0; op < 4; op++)
        for (int bi = 0; bi < 3; bi++) {
            tcase c = sweep_case(op, batches[bi], 37, 2); /* i % 3 == 2: two directions */
            cr_assert_eq(c.dirs, 2);
            tdata in = make_data(&c);
            ref_out ref = reference(&c, &in);
            or_graph *g = build(&c, &in, pool, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32);
            cr_assert(uses_team(g));
            int plan = or_rnn_team_members(g, g->nodes[0].state);
            bool by_dir = (plan & OR_RNN_TEAM_BY_DIR) != 0;
            cr_assert_eq(by_dir, c.B >= 4, "%s batch %ld: plan %#x", c.op, (long)c.B, plan);
            cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
            expect_ref(&c, g, &ref, 2e-5, by_dir ? "by direction" : "split units");
            or_graph_free(g);
            free_case(&ref, &in);
        }
    or_threadpool_destroy(pool);
}

/* A value ONNXRUN_RNN_TEAM does not accept plans as if it were unset: one
 * thread then runs without the engine, where "1" forces it. */
Test(recurrent_team, invalid_env_value_plans_as_unset) {
    if (!simd()) cr_skip_test("the engine needs AVX2 or AVX-512");
    char *saved = swap_env("ONNXRUN_RNN_TEAM", NULL);
    rng_state = 77;
    tcase c = sweep_case(0, 1, 37, 0);
    tdata in = make_data(&c);
    or_graph *g = build(&c, &in, NULL, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32);
    const or_rnn_state *s = rnn_node(g)->state;
    cr_expect_eq(or_rnn_team_members(g, s), 0, "unset, one thread");
    static const char *const invalid[] = {"yes", "5", "1 ", "01", "-1"};
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        setenv("ONNXRUN_RNN_TEAM", invalid[i], 1);
        cr_expect_eq(or_rnn_team_members(g, s), 0, "'%s'", invalid[i]);
    }
    setenv("ONNXRUN_RNN_TEAM", "1", 1);
    cr_expect_gt(or_rnn_team_members(g, s), 0, "'1' forces the engine");
    or_graph_free(g);
    free_data(&in);
    restore_env("ONNXRUN_RNN_TEAM", saved);
}

/* BF16 and INT8 weights: the engine's per-slice panels quantize each row as
 * the whole-matrix panels do, so it matches the old path closely (and the
 * float reference loosely). */
Test(recurrent_team, reduced_precision_matches_old_path) {
    if (!simd()) cr_skip_test("the engine needs AVX2 or AVX-512");
    const int precisions[2] = {ONNXRUN_PRECISION_BF16, ONNXRUN_PRECISION_INT8};
    rng_state = 99;
    or_threadpool *pool = or_threadpool_create(3);
    for (int pi = 0; pi < 2; pi++)
        for (int op = 0; op < 4; op++) {
            tcase c = sweep_case(op, pi ? 16 : 3, 37 + 33 * pi, op + 4 * pi);
            tdata in = make_data(&c);
            ref_out ref = reference(&c, &in);
            or_graph *team = build(&c, &in, pool, 1, precisions[pi]);
            or_graph *old = build(&c, &in, pool, 0, precisions[pi]);
            cr_assert(uses_team(team));
            cr_assert_eq(or_graph_run(team), ONNXRUN_OK, "%s", team->errmsg);
            cr_assert_eq(or_graph_run(old), ONNXRUN_OK, "%s", old->errmsg);
            expect_same(&c, team, old, 1e-5, precisions[pi] == 1 ? "bf16" : "int8");
            expect_ref(&c, team, &ref, 0.05, "reduced vs float reference");
            or_graph_free(team);
            or_graph_free(old);
            free_case(&ref, &in);
        }
    or_threadpool_destroy(pool);
}

/* ---- the pool's team job and barrier ---- */

typedef struct barrier_ctx {
    or_barrier bar;
    atomic_int arrived[64];
    atomic_int bad;
    atomic_int calls;
    int members;
} barrier_ctx;

/* Round r: every member counts itself in, waits, then checks that all did. */
static void barrier_member(void *ctx_, int member, int members) {
    barrier_ctx *ctx = ctx_;
    int sense = 0;
    atomic_fetch_add(&ctx->calls, 1);
    if (members != ctx->members || member < 0 || member >= members) atomic_fetch_add(&ctx->bad, 1);
    for (int r = 0; r < 64; r++) {
        atomic_fetch_add(&ctx->arrived[r], 1);
        or_barrier_wait(&ctx->bar, &sense);
        if (atomic_load(&ctx->arrived[r]) != members) atomic_fetch_add(&ctx->bad, 1);
    }
}

Test(threadpool, team_members_meet_at_barriers) {
    for (int threads = 1; threads <= 4; threads++) {
        or_threadpool *pool = or_threadpool_create(threads);
        for (int round = 0; round < 20; round++) {
            int members = round % 2 ? threads : threads + 2; /* capped at the pool size */
            barrier_ctx *ctx = calloc(1, sizeof *ctx);
            ctx->members = members < threads ? members : threads;
            or_barrier_init(&ctx->bar, ctx->members);
            or_threadpool_team(pool, members, barrier_member, ctx);
            cr_assert_eq(atomic_load(&ctx->calls), ctx->members);
            cr_assert_eq(atomic_load(&ctx->bad), 0, "threads %d round %d", threads, round);
            free(ctx);
        }
        or_threadpool_destroy(pool);
    }
}

/* ---- embedding folding ---- */

/* in->x: the rows of E the front's indices pick, in X's order. */
static void look_up(const tcase *c, tdata *in, const emb_front *f) {
    int64_t x0 = c->layout ? c->B : c->T, x1 = c->layout ? c->T : c->B;
    for (int64_t r = 0; r < x0 * x1; r++) {
        int64_t at = f->transposed ? (r % x1) * x0 + r / x1 : r; /* X row r = looked_up row at */
        int64_t v = f->idx[at] < 0 ? f->idx[at] + f->V : f->idx[at];
        cr_assert(v >= 0 && v < f->V);
        memcpy(in->x + r * c->I, f->e + v * c->I, sizeof(float) * (size_t)c->I);
    }
}

/* Frees what a fold test made (ref may be NULL). */
static void free_fold_case(ref_out *ref, emb_front *f, tdata *in) {
    free(f->e), free(f->idx);
    free_case(ref, in);
}

/* A front over case c: E [V, I] random, indices in [-V, V), and in->x filled
 * with the rows they pick. */
static emb_front make_front(const tcase *c, tdata *in, int64_t V, bool transposed, bool idx32) {
    emb_front f = {.V = V, .e = rand_buf(V * c->I, 1.0f), .transposed = transposed, .idx32 = idx32};
    f.idx = malloc(sizeof(int64_t) * (size_t)(c->T * c->B));
    for (int64_t i = 0; i < c->T * c->B; i++) f.idx[i] = (int64_t)((frand(1.0f) + 1.0f) * V) - V;
    look_up(c, in, &f);
    return f;
}

/* Every op, both layouts, transposed or not, int32 or int64 indices, float
 * and double, one to three threads (the team engine from two, float): folded,
 * the node matches the double reference over the looked-up X, and the same
 * graph unfolded (ONNXRUN_RNN_FOLD=0) closely. */
Test(recurrent_fold, matches_reference_and_unfolded) {
    rng_state = 2026;
    int folded = 0, teamed = 0, doubles = 0, i = 0;
    for (int threads = 1; threads <= 3; threads++) {
        or_threadpool *pool = threads > 1 ? or_threadpool_create(threads) : NULL;
        for (int op = 0; op < 4; op++)
            for (int k = 0; k < 3; k++, i++) {
                tcase c = sweep_case(op, k == 0 ? 1 : k == 1 ? 3 : 16, k == 2 ? 37 : 20, i);
                c.f64 = i % 4 == 3;
                tdata in = make_data(&c);
                emb_front f = make_front(&c, &in, 7 + 5 * k, i % 2 == 0, i % 3 == 1);
                ref_out ref = reference(&c, &in);
                or_graph *g = build_with(&c, &in, pool, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32, &f);
                setenv("ONNXRUN_RNN_FOLD", "0", 1);
                or_graph *plain =
                    build_with(&c, &in, pool, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32, &f);
                unsetenv("ONNXRUN_RNN_FOLD");
                folded += or_rnn_folds(rnn_node(g));
                teamed += uses_team(g);
                /* the tables replace W's pack; W, read by this node alone, is given back */
                cr_assert(g->tensors[or_graph_find_tensor(g, "W")].released);
                doubles += c.f64;
                cr_assert(!or_rnn_folds(rnn_node(plain)));
                for (int run = 0; run < 2; run++) {
                    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
                    expect_ref(&c, g, &ref, 2e-5, run ? "folded rerun" : "folded");
                }
                cr_assert_eq(or_graph_run(plain), ONNXRUN_OK, "%s", plain->errmsg);
                expect_same(&c, g, plain, 2e-6, "folded vs unfolded");
                or_graph_free(g);
                or_graph_free(plain);
                free_fold_case(&ref, &f, &in);
            }
        or_threadpool_destroy(pool);
    }
    cr_assert_eq(folded, i, "folded %d of %d cases", folded, i);
    cr_assert(teamed > 0 || !simd(), "the team engine never ran");
    cr_assert(doubles > 0);
}

/* New indices between runs of the same plan are looked up afresh. */
Test(recurrent_fold, reads_the_indices_of_each_run) {
    rng_state = 31;
    tcase c = sweep_case(3, 3, 20, 3); /* LSTM */
    tdata in = make_data(&c);
    emb_front f = make_front(&c, &in, 11, true, false);
    or_graph *g = build_with(&c, &in, NULL, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32, &f);
    cr_assert(or_rnn_folds(rnn_node(g)));
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    int64_t *bound = g->tensors[or_graph_find_tensor(g, "idx")].data;
    for (int64_t j = 0; j < c.T * c.B; j++) f.idx[j] = bound[j] = (f.idx[j] + 4) % f.V;
    look_up(&c, &in, &f);
    ref_out ref = reference(&c, &in);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    expect_ref(&c, g, &ref, 2e-5, "new indices");
    or_graph_free(g);
    free_fold_case(&ref, &f, &in);
}

/* Once the node reads X·Wᵀ from its tables, the lookup (Gather, Transpose)
 * does not run and X gets no memory; made a graph output, X is looked up
 * again. */
Test(recurrent_fold, lookup_nodes_do_not_run) {
    rng_state = 12;
    tcase c = sweep_case(3, 3, 20, 3); /* LSTM */
    tdata in = make_data(&c);
    emb_front f = make_front(&c, &in, 11, true, false);
    ref_out ref = reference(&c, &in);
    or_graph *g = build_with(&c, &in, NULL, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32, &f);
    cr_assert(or_rnn_folds(rnn_node(g)));
    cr_assert_eq(g->n_nodes, 3);
    for (int i = 0; i < g->n_nodes; i++)
        cr_assert_eq(g->nodes[i].dead, i < 2, "%s", g->nodes[i].name);
    int x = or_graph_find_tensor(g, "X"), looked_up = or_graph_find_tensor(g, "looked_up");
    cr_assert_null(g->tensors[x].data);
    cr_assert_null(g->tensors[looked_up].data);
    for (int run = 0; run < 2; run++) {
        cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
        expect_ref(&c, g, &ref, 2e-5, "lookup skipped");
    }
    g->tensors[x].is_graph_output = true;
    g->outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
    g->outputs[g->n_outputs++] = x;
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert(or_rnn_folds(rnn_node(g)));
    for (int i = 0; i < g->n_nodes; i++) cr_assert_not(g->nodes[i].dead, "%s", g->nodes[i].name);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    expect_ref(&c, g, &ref, 2e-5, "X an output");
    const float *xv = g->tensors[x].data;
    for (int64_t k = 0; k < c.T * c.B * c.I; k++)
        cr_assert_eq(xv[k], in.x[k], "X[%lld]", (long long)k);
    or_graph_free(g);
    free_fold_case(&ref, &f, &in);
}

/* X read by another node too: the lookup runs, and X's bytes live until
 * that reader, not until the recurrent node scheduled after it, which reads
 * its tables instead (or_node.unread_inputs). */
Test(recurrent_fold, x_lives_until_its_last_reader) {
    rng_state = 14;
    tcase c = sweep_case(3, 3, 20, 3); /* LSTM */
    tdata in = make_data(&c);
    emb_front f = make_front(&c, &in, 11, true, false);
    ref_out ref = reference(&c, &in);
    or_graph *g = build_with(&c, &in, NULL, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32, &f);
    add_plain_node(g, "Neg", "negate", "X", NULL, "minus_x");
    int neg = or_graph_find_tensor(g, "minus_x"), x = or_graph_find_tensor(g, "X");
    g->tensors[neg].is_graph_output = true;
    g->outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
    g->outputs[g->n_outputs++] = neg;
    /* listed before the recurrent node, Neg is scheduled before it */
    or_node rnn = g->nodes[g->n_nodes - 2];
    g->nodes[g->n_nodes - 2] = g->nodes[g->n_nodes - 1];
    g->nodes[g->n_nodes - 1] = rnn;
    cr_assert_eq(or_graph_sort(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_check_ops(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    int reader = g->tensors[neg].producer, last = g->n_nodes - 1;
    cr_assert(or_rnn_folds(&g->nodes[last]), "%s", g->nodes[last].name);
    cr_assert_lt(reader, last);
    cr_assert_eq(g->tensors[x].last_use, reader);
    for (int i = 0; i < g->n_nodes; i++) cr_assert_not(g->nodes[i].dead, "%s", g->nodes[i].name);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    expect_ref(&c, g, &ref, 2e-5, "X also negated");
    const float *got = g->tensors[neg].data;
    for (int64_t k = 0; k < c.T * c.B * c.I; k++)
        cr_assert_eq(got[k], -in.x[k], "minus_x[%lld]", (long long)k);
    or_graph_free(g);
    free_fold_case(&ref, &f, &in);
}

/* Indices outside [-V, V) fail the run naming the indices and the element,
 * though the Gather that would have checked them no longer runs. */
Test(recurrent_fold, bad_index_fails_the_run) {
    rng_state = 13;
    tcase c = sweep_case(1, 3, 20, 4); /* GRU */
    tdata in = make_data(&c);
    emb_front f = make_front(&c, &in, 9, false, true);
    or_graph *g = build_with(&c, &in, NULL, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32, &f);
    cr_assert(or_rnn_folds(rnn_node(g)));
    cr_assert(g->nodes[0].dead);
    int32_t *bound = g->tensors[or_graph_find_tensor(g, "idx")].data;
    static const int32_t bad[2] = {9, -10};
    for (int i = 0; i < 2; i++) {
        int32_t keep = bound[5];
        bound[5] = bad[i];
        cr_assert_eq(or_graph_run(g), ONNXRUN_ERR_INPUT);
        cr_assert(strstr(g->errmsg, "(element 5 of 'idx')") && strstr(g->errmsg, "outside [-9, 9)"),
                  "%s", g->errmsg);
        bound[5] = keep;
        cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    }
    or_graph_free(g);
    free_fold_case(NULL, &f, &in);
}

/* No fold when E is a graph input (it may change between runs); the node
 * still matches the reference. */
Test(recurrent_fold, embedding_from_a_graph_input_does_not_fold) {
    rng_state = 5;
    tcase c = sweep_case(1, 3, 20, 4); /* GRU */
    tdata in = make_data(&c);
    emb_front f = make_front(&c, &in, 9, true, false);
    f.e_input = true;
    ref_out ref = reference(&c, &in);
    or_graph *g = build_with(&c, &in, NULL, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32, &f);
    cr_assert(!or_rnn_folds(rnn_node(g)));
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    expect_ref(&c, g, &ref, 2e-5, "E an input");
    or_graph_free(g);
    free_fold_case(&ref, &f, &in);
}

/* A session with a memory cap does not fold (the table would take memory
 * the cap may need for the rest of the model). */
Test(recurrent_fold, no_fold_under_a_memory_cap) {
    rng_state = 6;
    tcase c = sweep_case(3, 3, 20, 6); /* LSTM */
    tdata in = make_data(&c);
    emb_front f = make_front(&c, &in, 9, true, true);
    or_graph *g = build_with(&c, &in, NULL, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32, &f);
    or_node *n = rnn_node(g);
    cr_assert(or_rnn_folds(n));
    or_rnn_fold found;
    cr_assert(or_rnn_fold_find(g, n, n->state, &found));
    or_mem *mem = or_mem_new(NULL, (size_t)64 << 20);
    cr_assert_not_null(mem);
    or_mem *previous = or_mem_enter(mem);
    bool capped = or_rnn_fold_find(g, n, n->state, &found);
    or_mem_leave(previous);
    or_mem_release(mem);
    cr_assert(!capped);
    or_graph_free(g);
    free_fold_case(NULL, &f, &in);
}

/* A table of 2 MiB per direction goes on huge pages (recurrent_fold.c); the
 * node still matches the reference, forward and backward. */
Test(recurrent_fold, table_of_whole_huge_pages) {
    rng_state = 8;
    tcase c = {.op = "LSTM", .T = 4, .B = 2, .I = 3, .H = 128, .dirs = 2, .lens = {4, 3}};
    tdata in = make_data(&c);
    emb_front f = make_front(&c, &in, 1024, true, false); /* 1024 x 512 floats */
    ref_out ref = reference(&c, &in);
    or_graph *g = build_with(&c, &in, NULL, TEAM_DEFAULT, ONNXRUN_PRECISION_FP32, &f);
    cr_assert(or_rnn_folds(rnn_node(g)));
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    expect_ref(&c, g, &ref, 2e-5, "2 MiB table");
    or_graph_free(g);
    free_fold_case(&ref, &f, &in);
}

/* ---- stacked layers pipelined across threads (ops/recurrent_pipe.c) ---- */

#define MAX_LAYERS 4

/* A stack of forward layers, layout 0, no sequence_lens: layer l reads X
 * (l = 0) or Squeeze(Y<l-1>, axes [1]), and gives Y<l>, Yh<l>, Yc<l>. The
 * last Y and every Yh/Yc are graph outputs. */
typedef struct stack {
    int layers;
    tcase c[MAX_LAYERS]; /* c[l].I = c[l-1].H */
    tdata in[MAX_LAYERS];
    bool x_static;  /* X an initializer: the whole stack runs while planning */
    bool y0_output; /* Y0 a graph output too */
    int h0_neg;     /* 1 + l: initial_h of layer l = Neg(graph input), listed after layer 0 */
    bool h0_input;  /* initial_h (and c) of layer 1 are graph inputs */
} stack;

static void add_output(or_graph *g, const char *name) {
    int t = or_graph_tensor(g, name);
    g->tensors[t].is_graph_output = true;
    g->outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
    g->outputs[g->n_outputs++] = t;
}

static void add_layer(or_graph *g, const stack *st, int l, const char *x, const char *h0,
                      const char *c0) {
    const tcase *c = &st->c[l];
    const tdata *in = &st->in[l];
    const int64_t G = gates_of(c), H = c->H;
    int64_t wd[3] = {1, G * H, c->I}, rd[3] = {1, G * H, H}, bd[2] = {1, 2 * G * H};
    char w[16], r[16], b[16], y[16], yh[16], yc[16];
    snprintf(w, sizeof w, "W%d", l), snprintf(r, sizeof r, "R%d", l);
    snprintf(b, sizeof b, "B%d", l), snprintf(y, sizeof y, "Y%d", l);
    snprintf(yh, sizeof yh, "Yh%d", l), snprintf(yc, sizeof yc, "Yc%d", l);
    add_tensor(g, w, 3, wd, OR_FLOAT, in->w, OR_T_INITIALIZER);
    add_tensor(g, r, 3, rd, OR_FLOAT, in->r, OR_T_INITIALIZER);
    add_tensor(g, b, 2, bd, OR_FLOAT, in->b, OR_T_INITIALIZER);
    const char *names[7] = {x, w, r, b, NULL, h0, c0};
    const char *outs[3] = {y, yh, yc};
    bool lstm = G == 4;
    or_node *n = or_graph_add_node(g);
    n->name = strdup(y);
    n->op_type = strdup(c->op);
    n->domain = strdup("");
    n->opset = 14;
    n->n_inputs = lstm ? 7 : 6;
    n->inputs = calloc(7, sizeof(int));
    for (int i = 0; i < n->n_inputs; i++)
        n->inputs[i] = names[i] ? or_graph_tensor(g, names[i]) : -1;
    n->n_outputs = lstm ? 3 : 2;
    n->outputs = calloc(3, sizeof(int));
    for (int i = 0; i < n->n_outputs; i++) n->outputs[i] = or_graph_tensor(g, outs[i]);
    attr(n, "hidden_size", OR_ATTR_INT)->i = H;
    if (c->reverse) {
        or_attr *dir = attr(n, "direction", OR_ATTR_STRING);
        dir->s = strdup("reverse");
        dir->s_len = strlen(dir->s);
    }
    if (c->clip) attr(n, "clip", OR_ATTR_FLOAT)->f = 0.75f;
    if (c->lbr) attr(n, "linear_before_reset", OR_ATTR_INT)->i = 1;
    if (c->input_forget && lstm) attr(n, "input_forget", OR_ATTR_INT)->i = 1;
    for (int i = 1; i < n->n_outputs; i++) add_output(g, outs[i]);
    if (l == st->layers - 1 || (l == 0 && st->y0_output)) add_output(g, y);
}

/* Builds and plans the stack; pipe: ONNXRUN_RNN_PIPE ("0", "1" or NULL for
 * unset), chunk: ONNXRUN_RNN_CHUNK or NULL. */
static or_graph *build_stack(const stack *st, or_threadpool *pool, const char *pipe,
                             const char *chunk, int precision) {
    if (pipe) setenv("ONNXRUN_RNN_PIPE", pipe, 1);
    if (chunk) setenv("ONNXRUN_RNN_CHUNK", chunk, 1);
    or_graph *g = or_graph_new();
    g->opset = 14;
    g->pool = pool;
    g->num_threads = or_threadpool_size(pool);
    g->weight_precision = precision;
    const tcase *c0 = &st->c[0];
    int64_t xd[3] = {c0->T, c0->B, c0->I}, one = 1, axes = 1;
    add_tensor(g, "X", 3, xd, OR_FLOAT, st->in[0].x, st->x_static ? OR_T_INITIALIZER : OR_T_INPUT);
    add_tensor(g, "axes", 1, &one, OR_INT64, &axes, OR_T_INITIALIZER);
    for (int l = 0; l < st->layers; l++) {
        char x[16], y[16], h0[16] = "", c0n[16] = "";
        snprintf(x, sizeof x, "X%d", l), snprintf(y, sizeof y, "Y%d", l - 1);
        if (l > 0) add_plain_node(g, "Squeeze", x, y, "axes", x);
        int64_t hd[3] = {1, st->c[l].B, st->c[l].H};
        if (st->h0_neg == l + 1 || (st->h0_input && l == 1)) {
            snprintf(h0, sizeof h0, "h%d", l), snprintf(c0n, sizeof c0n, "c%d", l);
            add_tensor(g, st->h0_neg ? "h0_raw" : h0, 3, hd, OR_FLOAT, st->in[l].h0, OR_T_INPUT);
            add_tensor(g, c0n, 3, hd, OR_FLOAT, st->in[l].c0, OR_T_INPUT);
        }
        add_layer(g, st, l, l ? x : "X", h0[0] ? h0 : NULL, c0n[0] ? c0n : NULL);
        /* listed after layer 0, a Neg feeding layer l's initial_h is scheduled after it */
        if (st->h0_neg == l + 1 && l > 0) {
            or_node last = g->nodes[g->n_nodes - 1];
            g->nodes[g->n_nodes - 1] = g->nodes[g->n_nodes - 2];
            g->nodes[g->n_nodes - 2] = last;
            add_plain_node(g, "Neg", "neg", "h0_raw", NULL, h0);
            or_node neg = g->nodes[g->n_nodes - 1];
            memmove(&g->nodes[2], &g->nodes[1], sizeof(or_node) * (size_t)(g->n_nodes - 2));
            g->nodes[1] = neg;
        }
    }
    int status = or_graph_sort(g);
    if (!status) status = or_graph_check_ops(g);
    if (!status) status = or_graph_plan(g);
    unsetenv("ONNXRUN_RNN_PIPE");
    unsetenv("ONNXRUN_RNN_CHUNK");
    cr_assert_eq(status, ONNXRUN_OK, "%s", g->errmsg);
    return g;
}

/* Layer l's node (named Y<l>). */
static int layer_node(const or_graph *g, int l) {
    char name[16];
    snprintf(name, sizeof name, "Y%d", l);
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0) return i;
    cr_assert_fail("no node %s", name);
    return -1;
}

static bool pipelined(const or_graph *g, int l) {
    return g->nodes[layer_node(g, l)].run_by == layer_node(g, l - 1);
}

static stack make_stack(const char *const *ops, int layers, int64_t T, int64_t B, int64_t I,
                        const int64_t *H, int variant) {
    stack st = {.layers = layers};
    for (int l = 0; l < layers; l++) {
        tcase *c = &st.c[l];
        *c = (tcase){.op = ops[l], .T = T, .B = B, .I = l ? H[l - 1] : I, .H = H[l], .dirs = 1};
        c->lbr = strcmp(ops[l], "GRU") == 0 && (variant + l) % 2;
        c->clip = (variant + l) % 3 == 1;
        c->input_forget = (variant + l) % 4 == 2;
        c->h0 = true;
        for (int64_t b = 0; b < B; b++) c->lens[b] = (int32_t)T;
        st.in[l] = make_data(c);
    }
    return st;
}

static void free_stack(stack *st) {
    for (int l = 0; l < st->layers; l++) free_data(&st->in[l]);
}

/* Each layer's reference, layer l's X the float of layer l-1's Y. Without
 * initial states unless the stack gives some (h0_neg: negated). */
static void stack_reference(stack *st, ref_out *ref) {
    float *x = NULL;
    for (int l = 0; l < st->layers; l++) {
        tcase c = st->c[l];
        tdata in = st->in[l];
        c.h0 = st->h0_neg == l + 1 || (st->h0_input && l == 1);
        float *h0 = NULL, *c0 = NULL;
        if (st->h0_neg == l + 1) {
            int64_t n = c.B * c.H;
            h0 = malloc(sizeof(float) * (size_t)n), c0 = malloc(sizeof(float) * (size_t)n);
            for (int64_t k = 0; k < n; k++) h0[k] = -in.h0[k], c0[k] = in.c0[k];
            in.h0 = h0, in.c0 = c0;
        }
        if (l > 0) in.x = x;
        ref[l] = reference(&c, &in);
        free(h0), free(c0), free(x);
        int64_t n = c.T * c.B * c.H;
        x = malloc(sizeof(float) * (size_t)n);
        for (int64_t k = 0; k < n; k++) x[k] = (float)ref[l].y[k];
    }
    free(x);
}

static void expect_stack(const stack *st, or_graph *g, const ref_out *ref, double tol,
                         const char *tag) {
    for (int l = 0; l < st->layers; l++) {
        const tcase *c = &st->c[l];
        char names[3][16];
        snprintf(names[0], 16, "Y%d", l), snprintf(names[1], 16, "Yh%d", l);
        snprintf(names[2], 16, "Yc%d", l);
        const double *want[3] = {ref[l].y, ref[l].yh, ref[l].yc};
        for (int i = l == st->layers - 1 ? 0 : 1; i < (gates_of(c) == 4 ? 3 : 2); i++) {
            const float *got = g->tensors[or_graph_find_tensor(g, names[i])].data;
            int64_t n = (i == 0 ? c->T : 1) * c->B * c->H;
            for (int64_t j = 0; j < n; j++)
                cr_assert(fabs(got[j] - want[i][j]) <= tol, "%s layer %d %s %s[%ld]: %.7g vs %.7g",
                          tag, l, c->op, names[i], (long)j, got[j], want[i][j]);
        }
    }
}

static void free_refs(ref_out *ref, int layers) {
    for (int l = 0; l < layers; l++) free(ref[l].y), free(ref[l].yh), free(ref[l].yc);
}

/* Every pair of kinds, batch 3 and 16, one thread (a chunk of A, then of B) and two,
 * chunks of 1, 3 and the default: the pair pipelined, against the double
 * reference and the same stack not pipelined (other kernels, so within
 * float rounding). */
Test(recurrent_pipe, pairs_match_reference_and_unpipelined) {
    if (!simd()) cr_skip_test("pipelining needs the team engine (AVX2 or AVX-512)");
    static const char *const kinds[4] = {"RNN", "GRU", "LSTM", "GRU"};
    const char *chunks[3] = {NULL, "1", "3"};
    const int64_t H[2] = {37, 20};
    int i = 0;
    rng_state = 77;
    for (int threads = 1; threads <= 2; threads++) {
        or_threadpool *pool = threads > 1 ? or_threadpool_create(threads) : NULL;
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++, i++) {
                const char *ops[2] = {kinds[a], kinds[b]};
                stack st = make_stack(ops, 2, 9, i % 2 ? 16 : 3, 5, H, i);
                ref_out ref[2];
                stack_reference(&st, ref);
                or_graph *piped = build_stack(&st, pool, "1", chunks[i % 3], 0);
                or_graph *plain = build_stack(&st, pool, "0", NULL, 0);
                cr_assert(pipelined(piped, 1), "%s -> %s", ops[0], ops[1]);
                cr_assert_not(pipelined(plain, 1));
                for (int run = 0; run < 2; run++) {
                    cr_assert_eq(or_graph_run(piped), ONNXRUN_OK, "%s", piped->errmsg);
                    expect_stack(&st, piped, ref, 3e-5, "pipelined");
                }
                cr_assert_eq(or_graph_run(plain), ONNXRUN_OK, "%s", plain->errmsg);
                for (int t = 0; t < piped->n_tensors; t++) {
                    const or_tensor *x = &piped->tensors[t];
                    if (!x->is_graph_output) continue;
                    const float *p = x->data,
                                *q = plain->tensors[or_graph_find_tensor(plain, x->name)].data;
                    for (size_t k = 0; k < x->nbytes / sizeof(float); k++)
                        cr_assert(fabs(p[k] - q[k]) <= 2e-6 * (1 + fabs(q[k])),
                                  "%s -> %s: %s[%zu] %.9g vs %.9g", ops[0], ops[1], x->name, k,
                                  p[k], q[k]);
                }
                or_graph_free(piped);
                or_graph_free(plain);
                free_refs(ref, 2);
                free_stack(&st);
            }
        or_threadpool_destroy(pool);
    }
}

/* Pairs are taken from the bottom of a stack: of three layers the first
 * two, of four 1+2 and 3+4; when the first layer cannot pair (it runs in
 * reverse), the second and third do. Pools of 2 and 3 threads. */
Test(recurrent_pipe, stacks_pair_from_the_bottom) {
    if (!simd()) cr_skip_test("pipelining needs the team engine (AVX2 or AVX-512)");
    static const char *const ops[4] = {"LSTM", "GRU", "LSTM", "RNN"};
    const int64_t H[4] = {24, 33, 17, 40};
    struct {
        int layers;
        bool first_reverse;
        int second[4]; /* 1: layer l is run by layer l - 1 */
    } cases[3] = {{3, false, {0, 1, 0}}, {4, false, {0, 1, 0, 1}}, {3, true, {0, 0, 1}}};
    rng_state = 78;
    for (int threads = 2; threads <= 3; threads++) {
        or_threadpool *pool = or_threadpool_create(threads);
        for (int i = 0; i < 3; i++) {
            stack st = make_stack(ops, cases[i].layers, 11, 16, 6, H, i);
            st.c[0].reverse = cases[i].first_reverse;
            ref_out ref[MAX_LAYERS];
            stack_reference(&st, ref);
            or_graph *g = build_stack(&st, pool, "1", NULL, 0);
            for (int l = 1; l < cases[i].layers; l++)
                cr_assert_eq(pipelined(g, l), cases[i].second[l], "case %d layer %d", i, l);
            cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
            expect_stack(&st, g, ref, 3e-5, "stack");
            or_graph_free(g);
            free_refs(ref, cases[i].layers);
            free_stack(&st);
        }
        or_threadpool_destroy(pool);
    }
}

/* The second layer's X·Wᵀ is a ring of 8 hand-overs (one step each at
 * batch 16; or 3, forced while planning and unset for the runs), filled 5
 * times over 40 steps (2 and a bit with 3); the first layer's holds the
 * whole sequence. Two runs each, against the double reference. */
Test(recurrent_pipe, second_layer_xw_is_a_ring) {
    if (!simd()) cr_skip_test("pipelining needs the team engine (AVX2 or AVX-512)");
    static const char *const ops[2] = {"GRU", "LSTM"};
    const int64_t H[2] = {24, 20};
    unsetenv("ONNXRUN_RNN_CHUNK");
    or_threadpool *two = or_threadpool_create(2);
    rng_state = 808;
    stack st = make_stack(ops, 2, 40, 16, 5, H, 1);
    ref_out ref[2];
    stack_reference(&st, ref);
    const char *forced[2] = {NULL, "3"};
    for (int f = 0; f < 2; f++) {
        /* paired although each layer would split its 16 rows (default_plan) */
        or_graph *g = build_stack(&st, two, "1", forced[f], 0);
        unsetenv("ONNXRUN_RNN_CHUNK");
        cr_assert(pipelined(g, 1));
        const or_rnn_state *a = g->nodes[layer_node(g, 0)].state;
        const or_rnn_state *b = g->nodes[layer_node(g, 1)].state;
        cr_assert_eq(a->chunk, 40);
        cr_assert_eq(b->pipe_chunk, f ? 3 : 1);
        cr_assert_eq(b->chunk, f ? 24 : 8);
        for (int run = 0; run < 2; run++) {
            cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
            expect_stack(&st, g, ref, 3e-5, "ring");
        }
        or_graph_free(g);
    }
    free_refs(ref, 2);
    free_stack(&st);
    or_threadpool_destroy(two);
}

/* Unset, a pair is pipelined on exactly two threads whose cores have L3s of
 * their own (ONNXRUN_L3_SHARED=0 here), with fp32 weights,
 * at batch 4 or more, when the sequence has at least 8 chunks (16 rows of
 * batch × steps each), unless either layer would split its batch rows
 * instead (batch 8 or more here: 4 rows a thread and a small R). Never under
 * a memory cap, even forced; not when the first layer's X·Wᵀ for the whole
 * sequence outgrows OR_RNN_PIPE_XW_BYTES. On one shared L3, only forced. */
Test(recurrent_pipe, default_plan) {
    if (!simd()) cr_skip_test("pipelining needs the team engine (AVX2 or AVX-512)");
    static const char *const ops[2] = {"LSTM", "LSTM"};
    const int64_t H[2] = {20, 20};
    or_threadpool *two = or_threadpool_create(2), *four = or_threadpool_create(4);
    struct {
        int64_t T, B;
        or_threadpool *pool;
        const char *pipe, *team;
        int precision;
        bool want;
    } cases[] = {
        {24, 6, two, NULL, NULL, 0, true},   /* chunks of 3 steps */
        {32, 4, two, NULL, NULL, 0, true},   /* chunks of 4 steps */
        {31, 4, two, NULL, NULL, 0, false},  /* under 8 chunks */
        {23, 6, two, NULL, NULL, 0, false},  /* under 8 chunks */
        {200, 1, two, NULL, NULL, 0, false}, /* batch 1 */
        {24, 6, four, NULL, NULL, 0, false}, /* four threads: the split */
        {24, 6, NULL, NULL, NULL, 0, false}, /* one thread */
        {24, 6, NULL, "1", NULL, 0, true},   /* forced */
        {24, 6, two, "0", NULL, 0, false},   /* off */
        {24, 6, two, NULL, "0", 0, false},   /* team engine off */
        {24, 6, two, NULL, "2", 0, false},   /* team engine splitting units */
        {24, 6, two, NULL, "4", 0, false},   /* team engine splitting rows */
        {8, 16, two, NULL, NULL, 0, false},  /* each layer splits its rows instead */
        {16, 8, two, NULL, NULL, 0, false},  /* so it does 4 rows a thread of a small R */
        {8, 16, two, "1", NULL, 0, true},    /* forced */
        {24, 6, two, "1", NULL, ONNXRUN_PRECISION_BF16, false},
        /* The first layer's X·Wᵀ for the whole sequence (1920 bytes a step)
         * within OR_RNN_PIPE_XW_BYTES, and just past it. */
        {8738, 6, two, NULL, NULL, 0, true},
        {8739, 6, two, NULL, NULL, 0, false},
    };
    rng_state = 79;
    char *l3_saved = swap_env("ONNXRUN_L3_SHARED", "0");
    or_cpu_reset();
    {
        /* Under a memory cap (its arena would grow by the second layer's
         * scratch) the first layer takes no part. Only the decision runs
         * under the cap: the graph's blocks come from malloc, not from it. */
        stack st = make_stack(ops, 2, 8, 16, 3, H, 0);
        or_graph *g = build_stack(&st, two, "1", NULL, 0);
        cr_assert(pipelined(g, 1));
        or_node *a = &g->nodes[layer_node(g, 0)];
        int partner, uncapped, capped;
        setenv("ONNXRUN_RNN_PIPE", "1", 1);
        uncapped = or_rnn_pipe_role(g, a, a->state, &partner);
        or_mem *mem = or_mem_new(NULL, (size_t)1 << 30);
        cr_assert_not_null(mem);
        or_mem *previous = or_mem_enter(mem);
        capped = or_rnn_pipe_role(g, a, a->state, &partner);
        or_mem_leave(previous);
        or_mem_release(mem);
        unsetenv("ONNXRUN_RNN_PIPE");
        cr_expect_eq(uncapped, 1);
        cr_expect_eq(capped, 0, "under a memory cap");
        or_graph_free(g);
        free_stack(&st);
    }
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        stack st = make_stack(ops, 2, cases[i].T, cases[i].B, 3, H, (int)i);
        if (cases[i].team) setenv("ONNXRUN_RNN_TEAM", cases[i].team, 1);
        or_graph *g = build_stack(&st, cases[i].pool, cases[i].pipe, NULL, cases[i].precision);
        unsetenv("ONNXRUN_RNN_TEAM");
        cr_expect_eq(pipelined(g, 1), cases[i].want, "case %zu", i);
        if (cases[i].precision == 0) {
            ref_out ref[2];
            stack_reference(&st, ref);
            cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
            expect_stack(&st, g, ref, 3e-5, "default plan");
            free_refs(ref, 2);
        }
        or_graph_free(g);
        free_stack(&st);
    }
    /* One L3 for both cores: not by default, whatever the batch; forced, yes. */
    setenv("ONNXRUN_L3_SHARED", "1", 1);
    or_cpu_reset();
    for (int forced = 0; forced < 2; forced++) {
        stack st = make_stack(ops, 2, 24, 6, 3, H, 7);
        or_graph *g = build_stack(&st, two, forced ? "1" : NULL, NULL, 0);
        cr_expect_eq(pipelined(g, 1), forced == 1, "shared L3, forced %d", forced);
        or_graph_free(g);
        free_stack(&st);
    }
    restore_env("ONNXRUN_L3_SHARED", l3_saved);
    or_cpu_reset();
    or_threadpool_destroy(two);
    or_threadpool_destroy(four);
}

/* Not pipelined: Y of the first layer is also a graph output; the second
 * layer's initial_h is computed from a graph input by a node scheduled
 * after the first layer. Pipelined: its initial states are graph inputs.
 * The whole stack runs while planning when X is an initializer. */
Test(recurrent_pipe, inputs_decide_the_pair) {
    if (!simd()) cr_skip_test("pipelining needs the team engine (AVX2 or AVX-512)");
    static const char *const ops[2] = {"GRU", "LSTM"};
    const int64_t H[2] = {18, 21};
    or_threadpool *pool = or_threadpool_create(2);
    for (int v = 0; v < 4; v++) {
        rng_state = 80 + (uint32_t)v;
        stack st = make_stack(ops, 2, 10, 16, 4, H, v);
        st.y0_output = v == 0;
        st.h0_neg = v == 1 ? 2 : 0;
        st.h0_input = v == 2;
        st.x_static = v == 3;
        ref_out ref[2];
        stack_reference(&st, ref);
        or_graph *g = build_stack(&st, pool, "1", NULL, 0);
        if (v == 1) cr_assert_gt(layer_node(g, 1) - layer_node(g, 0), 2, "Neg between the layers");
        cr_expect_eq(pipelined(g, 1), v == 2, "variant %d", v);
        if (v == 3)
            cr_assert(g->nodes[layer_node(g, 0)].folded && g->nodes[layer_node(g, 1)].folded);
        cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
        expect_stack(&st, g, ref, 3e-5, "variant");
        if (v == 0) {
            const float *y0 = g->tensors[or_graph_find_tensor(g, "Y0")].data;
            for (int64_t j = 0; j < 10 * 16 * 18; j++)
                cr_assert(fabs(y0[j] - ref[0].y[j]) <= 3e-5, "Y0[%ld]", (long)j);
        }
        or_graph_free(g);
        free_refs(ref, 2);
        free_stack(&st);
    }
    or_threadpool_destroy(pool);
}
