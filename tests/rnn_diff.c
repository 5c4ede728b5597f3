/* rnn_diff: seeded differential test of RNN, GRU and LSTM against onnxruntime.
 *
 *   rnn_diff gen DIR [--seed S] [--count N]
 *       writes N single-node models (DIR/cNNNN/model.onnx plus input .npy
 *       files), DIR/ort_list.txt (cases for `node tools/ort_ref.js --batch`)
 *       and DIR/run_list.txt (lines "CASEDIR MODEL INPUT..." for onnxrun).
 *   rnn_diff check DIR SUBDIR...
 *       compares each case's onnxrun outputs in CASEDIR/SUBDIR with
 *       onnxruntime's in CASEDIR/ref; ends with "rnn_diff: N passed, M failed".
 *
 * Models are written with the project's protobuf-c bindings. Every case is
 * drawn from its own random stream (seed, case index), so `check` rebuilds the
 * case list from DIR/seed.txt without a metadata file.
 *
 * onnxruntime rejects layout=1 and has no double kernel for these ops, so such
 * cases also get a "twin": the same values as a float32, layout=0 model. The
 * reference runs the twin; check transposes its outputs to the case's layout
 * and, for double, uses the looser DOUBLE_* tolerance (the reference itself
 * then carries float32 rounding).
 */
#include "npy.h"
#include "onnx.pb-c.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ATOL 1e-5
#define RTOL 1e-3
#define DOUBLE_ATOL 2e-5
#define DOUBLE_RTOL 2e-3
#define DEFAULT_SEED 20240607u
#define DEFAULT_COUNT 540
#define PATH_LEN 1024

enum { OP_RNN, OP_GRU, OP_LSTM };
enum { DIR_FORWARD, DIR_REVERSE, DIR_BIDI };
enum { IN_X, IN_W, IN_R, IN_B, IN_SEQ, IN_H0, IN_C0, IN_P, IN_COUNT };
enum { OUT_Y, OUT_YH, OUT_YC, OUT_COUNT };

static const char *const OP_NAMES[] = {"RNN", "GRU", "LSTM"};
static const char *const DIR_NAMES[] = {"forward", "reverse", "bidirectional"};
static const char *const IN_NAMES[] = {"X",         "W",         "R", "B", "sequence_lens",
                                       "initial_h", "initial_c", "P"};
static const int OPSETS[] = {7, 14, 22};

/* ---- activations: the 11 the spec lists ---- */

enum {
    A_RELU,
    A_TANH,
    A_SIGMOID,
    A_AFFINE,
    A_LEAKYRELU,
    A_THRESHOLDEDRELU,
    A_SCALEDTANH,
    A_HARDSIGMOID,
    A_ELU,
    A_SOFTSIGN,
    A_SOFTPLUS,
    A_COUNT
};
static const char *const ACT_NAMES[] = {
    "Relu",       "Tanh",        "Sigmoid", "Affine",   "LeakyRelu", "ThresholdedRelu",
    "ScaledTanh", "HardSigmoid", "Elu",     "Softsign", "Softplus"};
static bool act_needs_alpha(int a) {
    return a == A_AFFINE || a == A_LEAKYRELU || a == A_THRESHOLDEDRELU || a == A_SCALEDTANH ||
           a == A_HARDSIGMOID || a == A_ELU;
}
static bool act_needs_beta(int a) {
    return a == A_AFFINE || a == A_SCALEDTANH || a == A_HARDSIGMOID;
}
/* Only these have a default everybody agrees on (the standalone ops'); the
 * others get explicit alpha/beta lists. */
static bool act_has_default(int a) {
    return a == A_LEAKYRELU || a == A_HARDSIGMOID || a == A_ELU || !act_needs_alpha(a);
}

/* Unbounded activations in a multiplicative gate (or anywhere in an LSTM) can
 * make the state grow without limit; such cases get a clip and short
 * sequences so both sides stay finite and well-conditioned. */
static bool act_bounded(int a) {
    return a == A_TANH || a == A_SIGMOID || a == A_HARDSIGMOID || a == A_SCALEDTANH ||
           a == A_SOFTSIGN;
}

/* ---- random numbers: splitmix64, one stream per (seed, case, purpose) ---- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static rng rng_make(uint64_t seed, uint64_t a, uint64_t b) {
    rng r = {seed * 0x100000001B3ull ^ (a << 20) ^ (b << 52)};
    for (int i = 0; i < 4; i++) rng_next(&r);
    return r;
}
static int rng_int(rng *r, int lo, int hi) { /* inclusive */
    return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}
static double rng_unit(rng *r) {
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}
static bool rng_chance(rng *r, double p) {
    return rng_unit(r) < p;
}
/* Uniform in [lo, hi), rounded to float so double cases have an exact float32 twin. */
static double rng_float(rng *r, double lo, double hi) {
    return (double)(float)(lo + (hi - lo) * rng_unit(r));
}
/* Sizes 1..40, weighted to small and SIMD-edge values. */
static int rng_size(rng *r) {
    static const int edge[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 40};
    int k = rng_int(r, 0, 9);
    if (k < 5) return rng_int(r, 1, 8);
    if (k < 8) return edge[rng_int(r, 0, (int)(sizeof edge / sizeof edge[0]) - 1)];
    return rng_int(r, 9, 40);
}

/* ---- a case ---- */

typedef struct spec {
    int id;
    int op, opset, dtype, layout, dir;
    int T, B, I, H;
    bool layout_attr, dir_attr, hidden_attr;
    int n_act;     /* activations per direction: 1, 2 or 3 */
    bool act_attr; /* activations attribute present */
    int act[6];
    bool alpha_attr, beta_attr;
    int n_alpha, n_beta;
    float alpha[6], beta[6];
    bool clip_attr;
    float clip;
    int input_forget, linear_before_reset;
    bool if_attr, lbr_attr;
    bool has_in[IN_COUNT];   /* optional inputs present */
    bool init_in[IN_COUNT];  /* given as initializer rather than graph input */
    bool has_out[OUT_COUNT]; /* optional outputs present */
    char out_name[OUT_COUNT][24];
    bool pad_inputs;    /* trailing absent inputs spelled "" */
    bool typed_fields;  /* initializers in float_data/double_data, not raw_data */
    bool symbolic_dims; /* graph inputs declare T and B as dim_params */
    bool out_shapes;    /* graph outputs declare their shapes */
    int seq_kind;       /* 0 mixed, 1 all full, 2 includes zeros */
    double wscale;
} spec;

static int spec_dirs(const spec *s) {
    return s->dir == DIR_BIDI ? 2 : 1;
}
static int spec_gates(const spec *s) {
    return s->op == OP_LSTM ? 4 : s->op == OP_GRU ? 3 : 1;
}
static bool spec_needs_twin(const spec *s) {
    return s->layout == 1 || s->dtype == ONNXRUN_DOUBLE;
}
static int spec_max_inputs(const spec *s) {
    return s->op == OP_LSTM ? IN_COUNT : IN_C0;
}
static int spec_max_outputs(const spec *s) {
    return s->op == OP_LSTM ? OUT_COUNT : OUT_YC;
}

static void pick_activations(spec *s, rng *r) {
    static const int defaults[3][3] = {{A_TANH}, {A_SIGMOID, A_TANH}, {A_SIGMOID, A_TANH, A_TANH}};
    int total = s->n_act * spec_dirs(s);
    bool all_default = true;
    for (int i = 0; i < total; i++) {
        int slot = i % s->n_act;
        s->act[i] = rng_chance(r, 0.3) ? defaults[s->op][slot] : rng_int(r, 0, A_COUNT - 1);
        if (!act_has_default(s->act[i])) all_default = false;
    }
    /* alpha/beta are consumed only by activations that use them (onnxruntime's
     * reading of the spec), in order. */
    bool give_lists = !all_default || rng_chance(r, 0.7);
    s->n_alpha = s->n_beta = 0;
    for (int i = 0; i < total; i++) {
        int a = s->act[i];
        float al = 0, be = 0;
        switch (a) {
        case A_AFFINE:
            al = (float)rng_float(r, 0.3, 1.1);
            be = (float)rng_float(r, -0.5, 0.5);
            break;
        case A_LEAKYRELU:
            al = (float)rng_float(r, 0.01, 0.5);
            break;
        case A_THRESHOLDEDRELU:
            al = (float)rng_float(r, 0.0, 0.8);
            break;
        case A_SCALEDTANH:
            al = (float)rng_float(r, 0.5, 1.5);
            be = (float)rng_float(r, 0.5, 1.5);
            break;
        case A_HARDSIGMOID:
            al = (float)rng_float(r, 0.1, 0.5);
            be = (float)rng_float(r, 0.3, 0.7);
            break;
        case A_ELU:
            al = (float)rng_float(r, 0.5, 1.5);
            break;
        default:
            break;
        }
        if (act_needs_alpha(a)) s->alpha[s->n_alpha++] = al;
        if (act_needs_beta(a)) s->beta[s->n_beta++] = be;
    }
    s->alpha_attr = give_lists && s->n_alpha > 0;
    s->beta_attr = give_lists && s->n_beta > 0;
}

static void pick_io(spec *s, rng *r) {
    for (int i = IN_B; i < spec_max_inputs(s); i++) s->has_in[i] = rng_chance(r, 0.55);
    bool weights_init = rng_chance(r, 0.5);
    for (int i = IN_W; i < spec_max_inputs(s); i++)
        s->init_in[i] = (i == IN_W || i == IN_R || i == IN_B || i == IN_P) ? weights_init
                        : i == IN_SEQ                                      ? rng_chance(r, 0.3)
                                                                           : false;
    s->has_in[IN_X] = s->has_in[IN_W] = s->has_in[IN_R] = true;
    s->seq_kind = rng_int(r, 0, 2);
    s->pad_inputs = rng_chance(r, 0.5);

    static const char *const odd[OUT_COUNT] = {"Y:0", "state/h", "cell c"};
    static const char *const plain[OUT_COUNT] = {"Y", "Y_h", "Y_c"};
    bool any = false;
    for (int o = 0; o < spec_max_outputs(s); o++) {
        s->has_out[o] = rng_chance(r, 0.7);
        any |= s->has_out[o];
        snprintf(s->out_name[o], sizeof s->out_name[o], "%s",
                 rng_chance(r, 0.15) ? odd[o] : plain[o]);
    }
    if (!any) s->has_out[rng_int(r, 0, spec_max_outputs(s) - 1)] = true;
}

/* Activations outside the usual ones can make the state grow geometrically:
 * unbounded ones anywhere in an LSTM or in a GRU gate, or gates that leave
 * [0, 1] where that lets |1 - gate| exceed 1 (which also amplifies rounding
 * when the weights are scaled up). Such cases get a small clip, at
 * most 8 steps and unscaled weights, so that both sides stay finite and the
 * comparison stays well-conditioned. */
static void tame_growth(spec *s, rng *r) {
    bool unbounded[3] = {false, false, false}, off_unit[3] = {false, false, false};
    for (int i = 0; s->act_attr && i < s->n_act * spec_dirs(s); i++) {
        unbounded[i % s->n_act] |= !act_bounded(s->act[i]);
        off_unit[i % s->n_act] |= s->act[i] != A_SIGMOID && s->act[i] != A_HARDSIGMOID;
    }
    bool any = unbounded[0] || unbounded[1] || unbounded[2], risky = false;
    if (s->op == OP_LSTM) risky = any || (s->input_forget && off_unit[0]);
    if (s->op == OP_GRU) risky = unbounded[0] || (off_unit[0] && (unbounded[1] || s->wscale > 1));
    if (any) s->wscale = 1.0;
    if (!risky) return;
    s->wscale = 1.0;
    s->clip_attr = true;
    s->clip = (float)rng_float(r, 0.5, 1.0);
    if (s->T > 8) s->T = rng_int(r, 1, 8);
}

static void spec_make(spec *s, uint64_t seed, int id) {
    rng r = rng_make(seed, (uint64_t)id, 1);
    memset(s, 0, sizeof *s);
    s->id = id;
    /* Cycle through op x direction x opset x dtype so every combination
     * appears; everything else is drawn. */
    s->op = id % 3;
    s->dir = (id / 3) % 3;
    s->opset = OPSETS[(id / 9) % 3];
    s->dtype = (id / 27) % 2 ? ONNXRUN_DOUBLE : ONNXRUN_FLOAT;
    s->layout = s->opset >= 14 && (id / 54) % 3 == 1;
    s->layout_attr = s->layout || (s->opset >= 14 && rng_chance(&r, 0.2));
    s->dir_attr = s->dir != DIR_FORWARD || rng_chance(&r, 0.3);
    s->hidden_attr = true; /* onnxruntime requires it */
    s->T = rng_size(&r);
    s->B = rng_size(&r);
    s->I = rng_size(&r);
    s->H = rng_size(&r);
    s->wscale = rng_chance(&r, 0.15) ? 2.0 : 1.0;
    s->n_act = s->op == OP_LSTM ? 3 : s->op == OP_GRU ? 2 : 1;
    s->act_attr = rng_chance(&r, 0.6);
    if (s->act_attr) pick_activations(s, &r);
    s->clip_attr = rng_chance(&r, 0.3);
    s->clip = (float)rng_float(&r, 0.5, 4.0);
    if (s->op == OP_LSTM) {
        s->if_attr = rng_chance(&r, 0.6);
        s->input_forget = s->if_attr && rng_chance(&r, 0.5);
    }
    if (s->op == OP_GRU) {
        s->lbr_attr = rng_chance(&r, 0.7);
        s->linear_before_reset = s->lbr_attr && rng_chance(&r, 0.6);
    }
    tame_growth(s, &r);
    pick_io(s, &r);
    s->typed_fields = rng_chance(&r, 0.3);
    s->symbolic_dims = rng_chance(&r, 0.3);
    s->out_shapes = rng_chance(&r, 0.5);
}

static void spec_describe(const spec *s, char *buf, size_t len) {
    size_t n = 0;
#define PUT(...) n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__)
    PUT("%s opset=%d %s layout=%d direction=%s T=%d B=%d I=%d H=%d", OP_NAMES[s->op], s->opset,
        s->dtype == ONNXRUN_DOUBLE ? "f64" : "f32", s->layout, DIR_NAMES[s->dir], s->T, s->B, s->I,
        s->H);
    if (s->act_attr) {
        PUT(" activations=");
        for (int i = 0; i < s->n_act * spec_dirs(s); i++)
            PUT("%s%s", i ? "," : "", ACT_NAMES[s->act[i]]);
    }
    if (s->alpha_attr) {
        PUT(" alpha=");
        for (int i = 0; i < s->n_alpha; i++) PUT("%s%g", i ? "," : "", s->alpha[i]);
    }
    if (s->beta_attr) {
        PUT(" beta=");
        for (int i = 0; i < s->n_beta; i++) PUT("%s%g", i ? "," : "", s->beta[i]);
    }
    if (s->clip_attr) PUT(" clip=%g", s->clip);
    if (s->if_attr) PUT(" input_forget=%d", s->input_forget);
    if (s->lbr_attr) PUT(" linear_before_reset=%d", s->linear_before_reset);
    PUT(" inputs=");
    for (int i = IN_B; i < spec_max_inputs(s); i++)
        if (s->has_in[i]) PUT("%s%s", IN_NAMES[i], s->init_in[i] ? "(init)," : ",");
    if (s->has_in[IN_SEQ]) PUT("seq_kind=%d,", s->seq_kind);
    PUT(" outputs=");
    for (int o = 0; o < spec_max_outputs(s); o++)
        if (s->has_out[o]) PUT("'%s',", s->out_name[o]);
    if (s->init_in[IN_W]) PUT(" weights=initializers%s", s->typed_fields ? "(typed)" : "");
    if (s->wscale != 1.0) PUT(" wscale=%g", s->wscale);
#undef PUT
}

/* ---- case data: every tensor in layout-0 order as float-representable doubles ---- */

typedef struct arr {
    int rank;
    int64_t dims[4];
    double *v;
} arr;

static int64_t arr_numel(const arr *a) {
    int64_t n = 1;
    for (int i = 0; i < a->rank; i++) n *= a->dims[i];
    return n;
}

static arr arr_make(int rank, int64_t d0, int64_t d1, int64_t d2) {
    arr a = {rank, {d0, d1, d2, 0}, NULL};
    a.v = calloc((size_t)(arr_numel(&a) > 0 ? arr_numel(&a) : 1), sizeof(double));
    if (!a.v) {
        fprintf(stderr, "rnn_diff: out of memory\n");
        exit(2);
    }
    return a;
}

static void arr_fill(arr *a, rng *r, double lo, double hi) {
    for (int64_t i = 0; i < arr_numel(a); i++) a->v[i] = rng_float(r, lo, hi);
}

typedef struct case_data {
    arr in[IN_COUNT];
} case_data;

static void seq_lengths(const spec *s, rng *r, arr *a) {
    for (int b = 0; b < s->B; b++) {
        int k = rng_int(r, 0, 9), len;
        if (s->seq_kind == 1 || k < 3)
            len = s->T;
        else if (s->seq_kind == 2 && k < 6)
            len = 0;
        else
            len = rng_int(r, 0, s->T);
        a->v[b] = len;
    }
    if (s->seq_kind == 2 && s->B > 1) a->v[0] = 0; /* make sure a zero and a full one meet */
    if (s->seq_kind == 2 && s->B > 1) a->v[s->B - 1] = s->T;
}

static void data_make(const spec *s, uint64_t seed, case_data *d) {
    rng r = rng_make(seed, (uint64_t)s->id, 2);
    int D = spec_dirs(s), G = spec_gates(s);
    double ws = s->wscale / sqrt((double)s->I), rs = s->wscale / sqrt((double)s->H);
    memset(d, 0, sizeof *d);
    d->in[IN_X] = arr_make(3, s->T, s->B, s->I);
    arr_fill(&d->in[IN_X], &r, -1, 1);
    d->in[IN_W] = arr_make(3, D, G * s->H, s->I);
    arr_fill(&d->in[IN_W], &r, -ws, ws);
    d->in[IN_R] = arr_make(3, D, G * s->H, s->H);
    arr_fill(&d->in[IN_R], &r, -rs, rs);
    d->in[IN_B] = arr_make(2, D, 2 * G * s->H, 0);
    arr_fill(&d->in[IN_B], &r, -0.5, 0.5);
    d->in[IN_SEQ] = arr_make(1, s->B, 0, 0);
    seq_lengths(s, &r, &d->in[IN_SEQ]);
    d->in[IN_H0] = arr_make(3, D, s->B, s->H);
    arr_fill(&d->in[IN_H0], &r, -1, 1);
    if (s->op == OP_LSTM) {
        d->in[IN_C0] = arr_make(3, D, s->B, s->H);
        arr_fill(&d->in[IN_C0], &r, -1, 1);
        d->in[IN_P] = arr_make(2, D, 3 * s->H, 0);
        arr_fill(&d->in[IN_P], &r, -0.5, 0.5);
    }
}

static void data_free(case_data *d) {
    for (int i = 0; i < IN_COUNT; i++) free(d->in[i].v);
}

/* Layout 1 swaps the first two axes of X, initial_h and initial_c. */
static arr arr_swap01(const arr *a) {
    arr t = arr_make(a->rank, a->dims[1], a->dims[0], a->dims[2]);
    int64_t d0 = a->dims[0], d1 = a->dims[1], inner = a->dims[2];
    for (int64_t i = 0; i < d0; i++)
        for (int64_t j = 0; j < d1; j++)
            memcpy(t.v + (j * d0 + i) * inner, a->v + (i * d1 + j) * inner,
                   (size_t)inner * sizeof(double));
    return t;
}

/* snprintf for paths: a truncated path is a hard error, not a silent one. */
static void pathf(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pathf(char *out, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len) {
        fprintf(stderr, "rnn_diff: path too long: %s...\n", out);
        exit(2);
    }
}

static const char *dtype_name(int dtype) {
    return dtype == ONNXRUN_FLOAT    ? "float32"
           : dtype == ONNXRUN_DOUBLE ? "float64"
           : dtype == ONNXRUN_INT32  ? "int32"
                                     : "other";
}

/* ---- a tiny allocation pool so a model's protobuf tree frees in one go ---- */

typedef struct pool {
    void **p;
    size_t n, cap;
} pool;

static void *pool_alloc(pool *pl, size_t size) {
    if (pl->n == pl->cap) {
        pl->cap = pl->cap ? 2 * pl->cap : 64;
        pl->p = realloc(pl->p, pl->cap * sizeof *pl->p);
        if (!pl->p) exit(2);
    }
    void *q = calloc(1, size ? size : 1);
    if (!q) {
        fprintf(stderr, "rnn_diff: out of memory\n");
        exit(2);
    }
    return pl->p[pl->n++] = q;
}
static char *pool_str(pool *pl, const char *s) {
    char *c = pool_alloc(pl, strlen(s) + 1);
    memcpy(c, s, strlen(s) + 1);
    return c;
}
static void pool_free(pool *pl) {
    for (size_t i = 0; i < pl->n; i++) free(pl->p[i]);
    free(pl->p);
}

/* ---- protobuf construction ---- */

static Onnx__TensorProto *pb_tensor(pool *pl, const char *name, int dtype, const arr *a,
                                    bool typed) {
    Onnx__TensorProto *t = pool_alloc(pl, sizeof *t);
    onnx__tensor_proto__init(t);
    int64_t n = arr_numel(a);
    t->name = pool_str(pl, name);
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = (size_t)a->rank;
    t->dims = pool_alloc(pl, sizeof(int64_t) * 4);
    memcpy(t->dims, a->dims, sizeof(int64_t) * (size_t)a->rank);
    if (dtype == ONNXRUN_INT32) {
        t->n_int32_data = (size_t)n;
        t->int32_data = pool_alloc(pl, sizeof(int32_t) * (size_t)n);
        for (int64_t i = 0; i < n; i++) t->int32_data[i] = (int32_t)a->v[i];
        return t;
    }
    size_t es = dtype == ONNXRUN_DOUBLE ? 8 : 4;
    void *buf = pool_alloc(pl, es * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        if (es == 8)
            ((double *)buf)[i] = a->v[i];
        else
            ((float *)buf)[i] = (float)a->v[i];
    }
    if (typed && es == 8) {
        t->n_double_data = (size_t)n;
        t->double_data = buf;
    } else if (typed) {
        t->n_float_data = (size_t)n;
        t->float_data = buf;
    } else {
        t->has_raw_data = 1;
        t->raw_data.len = es * (size_t)n;
        t->raw_data.data = buf;
    }
    return t;
}

/* dims[i] < 0 becomes dim_param names[i]; rank < 0 leaves the shape out. */
static Onnx__ValueInfoProto *pb_value_info(pool *pl, const char *name, int dtype, int rank,
                                           const int64_t *dims, const char *const *names) {
    Onnx__ValueInfoProto *v = pool_alloc(pl, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = pool_str(pl, name);
    Onnx__TypeProto *tp = pool_alloc(pl, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = pool_alloc(pl, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = dtype;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->type = tp;
    if (rank < 0) return v;
    Onnx__TensorShapeProto *sh = pool_alloc(pl, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)rank;
    sh->dim = pool_alloc(pl, sizeof *sh->dim * (size_t)(rank ? rank : 1));
    for (int i = 0; i < rank; i++) {
        Onnx__TensorShapeProto__Dimension *d = pool_alloc(pl, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if (dims[i] < 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = pool_str(pl, names[i]);
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        }
        sh->dim[i] = d;
    }
    tt->shape = sh;
    return v;
}

static Onnx__AttributeProto *pb_attr(pool *pl, const char *name,
                                     Onnx__AttributeProto__AttributeType type) {
    Onnx__AttributeProto *a = pool_alloc(pl, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = pool_str(pl, name);
    a->has_type = 1;
    a->type = type;
    return a;
}
static Onnx__AttributeProto *pb_attr_int(pool *pl, const char *name, int64_t v) {
    Onnx__AttributeProto *a = pb_attr(pl, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
    return a;
}
static Onnx__AttributeProto *pb_attr_float(pool *pl, const char *name, float v) {
    Onnx__AttributeProto *a = pb_attr(pl, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
    return a;
}
static Onnx__AttributeProto *pb_attr_string(pool *pl, const char *name, const char *v) {
    Onnx__AttributeProto *a = pb_attr(pl, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.data = (uint8_t *)pool_str(pl, v);
    a->s.len = strlen(v);
    return a;
}
static Onnx__AttributeProto *pb_attr_floats(pool *pl, const char *name, const float *v, int n) {
    Onnx__AttributeProto *a = pb_attr(pl, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = (size_t)n;
    a->floats = pool_alloc(pl, sizeof(float) * (size_t)n);
    memcpy(a->floats, v, sizeof(float) * (size_t)n);
    return a;
}
static Onnx__AttributeProto *pb_attr_strings(pool *pl, const char *name, const int *acts, int n) {
    Onnx__AttributeProto *a = pb_attr(pl, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    a->n_strings = (size_t)n;
    a->strings = pool_alloc(pl, sizeof *a->strings * (size_t)n);
    for (int i = 0; i < n; i++) {
        a->strings[i].data = (uint8_t *)pool_str(pl, ACT_NAMES[acts[i]]);
        a->strings[i].len = strlen(ACT_NAMES[acts[i]]);
    }
    return a;
}

static int node_attributes(pool *pl, const spec *s, bool twin, Onnx__AttributeProto **at) {
    int n = 0;
    at[n++] = pb_attr_int(pl, "hidden_size", s->H);
    if (s->dir_attr) at[n++] = pb_attr_string(pl, "direction", DIR_NAMES[s->dir]);
    if (s->layout_attr && !twin) at[n++] = pb_attr_int(pl, "layout", s->layout);
    if (s->act_attr) at[n++] = pb_attr_strings(pl, "activations", s->act, s->n_act * spec_dirs(s));
    if (s->alpha_attr) at[n++] = pb_attr_floats(pl, "activation_alpha", s->alpha, s->n_alpha);
    if (s->beta_attr) at[n++] = pb_attr_floats(pl, "activation_beta", s->beta, s->n_beta);
    if (s->clip_attr) at[n++] = pb_attr_float(pl, "clip", s->clip);
    if (s->if_attr) at[n++] = pb_attr_int(pl, "input_forget", s->input_forget);
    if (s->lbr_attr) at[n++] = pb_attr_int(pl, "linear_before_reset", s->linear_before_reset);
    return n;
}

/* The shape of output o as the model (layout) declares it. */
static int output_shape(const spec *s, int o, int layout, int64_t *dims) {
    int64_t D = spec_dirs(s);
    if (o == OUT_Y) {
        int64_t l0[4] = {s->T, D, s->B, s->H}, l1[4] = {s->B, s->T, D, s->H};
        memcpy(dims, layout ? l1 : l0, sizeof l0);
        return 4;
    }
    int64_t l0[3] = {D, s->B, s->H}, l1[3] = {s->B, D, s->H};
    memcpy(dims, layout ? l1 : l0, sizeof l0);
    return 3;
}

/* An input tensor as the model sees it (transposed for layout 1). */
static arr input_view(const spec *s, const case_data *d, int i, int layout) {
    const arr *a = &d->in[i];
    if (layout && (i == IN_X || i == IN_H0 || i == IN_C0)) return arr_swap01(a);
    arr c = arr_make(a->rank, a->dims[0], a->dims[1], a->dims[2]);
    memcpy(c.v, a->v, sizeof(double) * (size_t)arr_numel(a));
    (void)s;
    return c;
}

static int input_dtype(const spec *s, int i, bool twin) {
    if (i == IN_SEQ) return ONNXRUN_INT32;
    return twin ? ONNXRUN_FLOAT : s->dtype;
}

static Onnx__ValueInfoProto *input_value_info(pool *pl, const spec *s, int i, int dtype,
                                              const arr *a, int layout) {
    int64_t dims[4];
    memcpy(dims, a->dims, sizeof dims);
    const char *names[4] = {"", "", "", ""};
    if (s->symbolic_dims && (i == IN_X || i == IN_SEQ || i == IN_H0 || i == IN_C0)) {
        /* Mark the sequence and batch axes symbolic. */
        if (i == IN_X) {
            dims[layout ? 1 : 0] = -1;
            names[layout ? 1 : 0] = "seq";
            dims[layout ? 0 : 1] = -1;
            names[layout ? 0 : 1] = "batch";
        } else if (i == IN_SEQ) {
            dims[0] = -1;
            names[0] = "batch";
        } else {
            dims[layout ? 0 : 1] = -1;
            names[layout ? 0 : 1] = "batch";
        }
    }
    return pb_value_info(pl, IN_NAMES[i], dtype, a->rank, dims, names);
}

static int write_file(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "rnn_diff: cannot write %s: %s\n", path, strerror(errno));
        if (f) fclose(f);
        return -1;
    }
    return 0;
}

static int write_npy(const char *path, const arr *a, int dtype) {
    int64_t n = arr_numel(a);
    size_t es = dtype == ONNXRUN_DOUBLE ? 8 : 4;
    unsigned char *buf = malloc(es * (size_t)(n ? n : 1));
    if (!buf) return -1;
    for (int64_t i = 0; i < n; i++) {
        if (dtype == ONNXRUN_DOUBLE)
            ((double *)buf)[i] = a->v[i];
        else if (dtype == ONNXRUN_FLOAT)
            ((float *)buf)[i] = (float)a->v[i];
        else
            ((int32_t *)buf)[i] = (int32_t)a->v[i];
    }
    char err[256];
    onnxrun_status st = or_npy_write_file(path, (onnxrun_dtype)dtype, a->rank, a->dims, buf,
                                          es * (size_t)n, err, sizeof err);
    free(buf);
    if (st != ONNXRUN_OK) fprintf(stderr, "rnn_diff: %s\n", err);
    return st == ONNXRUN_OK ? 0 : -1;
}

/* Writes CASEDIR/<prefix>model.onnx and the graph-input .npy files; appends
 * " NAME=FILE" for each graph input to args. twin: float32, layout 0. */
static int write_model(const spec *s, const case_data *d, const char *cdir, bool twin, char *args,
                       size_t args_len) {
    pool pl = {0};
    int layout = twin ? 0 : s->layout;
    const char *prefix = twin ? "twin_" : "";
    Onnx__NodeProto *node = pool_alloc(&pl, sizeof *node);
    onnx__node_proto__init(node);
    node->op_type = pool_str(&pl, OP_NAMES[s->op]);
    node->name = pool_str(&pl, "rnn_node");
    node->input = pool_alloc(&pl, sizeof(char *) * IN_COUNT);
    node->output = pool_alloc(&pl, sizeof(char *) * OUT_COUNT);
    node->attribute = pool_alloc(&pl, sizeof(void *) * 12);
    node->n_attribute = (size_t)node_attributes(&pl, s, twin, node->attribute);

    Onnx__GraphProto *g = pool_alloc(&pl, sizeof *g);
    onnx__graph_proto__init(g);
    g->name = pool_str(&pl, "rnn_diff");
    g->n_node = 1;
    g->node = pool_alloc(&pl, sizeof(void *));
    g->node[0] = node;
    g->input = pool_alloc(&pl, sizeof(void *) * IN_COUNT);
    g->initializer = pool_alloc(&pl, sizeof(void *) * IN_COUNT);
    g->output = pool_alloc(&pl, sizeof(void *) * OUT_COUNT);

    int last_in = 0;
    for (int i = 0; i < spec_max_inputs(s); i++)
        if (s->has_in[i]) last_in = i;
    int n_in = s->pad_inputs ? spec_max_inputs(s) : last_in + 1;
    int rc = 0;
    for (int i = 0; i < n_in && rc == 0; i++) {
        if (!s->has_in[i]) {
            node->input[node->n_input++] = pool_str(&pl, "");
            continue;
        }
        node->input[node->n_input++] = pool_str(&pl, IN_NAMES[i]);
        int dt = input_dtype(s, i, twin);
        arr a = input_view(s, d, i, layout);
        if (s->init_in[i]) {
            g->initializer[g->n_initializer++] =
                pb_tensor(&pl, IN_NAMES[i], dt, &a, s->typed_fields);
        } else {
            char path[PATH_LEN];
            g->input[g->n_input++] = input_value_info(&pl, s, i, dt, &a, layout);
            pathf(path, sizeof path, "%s/%s%s.npy", cdir, prefix, IN_NAMES[i]);
            rc = write_npy(path, &a, dt);
            size_t used = strlen(args);
            snprintf(args + used, args_len - used, " %s=%s", IN_NAMES[i], path);
        }
        free(a.v);
    }
    int last_out = 0;
    for (int o = 0; o < spec_max_outputs(s); o++)
        if (s->has_out[o]) last_out = o;
    for (int o = 0; o <= last_out; o++) {
        node->output[node->n_output++] = pool_str(&pl, s->has_out[o] ? s->out_name[o] : "");
        if (!s->has_out[o]) continue;
        int64_t dims[4];
        int rank = output_shape(s, o, layout, dims);
        g->output[g->n_output++] =
            pb_value_info(&pl, s->out_name[o], twin ? ONNXRUN_FLOAT : s->dtype,
                          s->out_shapes ? rank : -1, dims, NULL);
    }

    Onnx__OperatorSetIdProto *os = pool_alloc(&pl, sizeof *os);
    onnx__operator_set_id_proto__init(os);
    os->domain = pool_str(&pl, "");
    os->has_version = 1;
    os->version = s->opset;
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1;
    m.ir_version = s->opset >= 22 ? 10 : s->opset >= 14 ? 7 : 4;
    m.producer_name = pool_str(&pl, "rnn_diff");
    m.n_opset_import = 1;
    m.opset_import = pool_alloc(&pl, sizeof(void *));
    m.opset_import[0] = os;
    m.graph = g;

    if (rc == 0) {
        size_t len = onnx__model_proto__get_packed_size(&m);
        uint8_t *buf = malloc(len);
        char path[PATH_LEN];
        pathf(path, sizeof path, "%s/%smodel.onnx", cdir, prefix);
        rc = buf ? write_file(path, buf, onnx__model_proto__pack(&m, buf)) : -1;
        free(buf);
    }
    pool_free(&pl);
    return rc;
}

/* ---- gen ---- */

static int make_dir(const char *path) {
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "rnn_diff: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void case_dir(const char *dir, int id, char *out, size_t len) {
    pathf(out, len, "%s/c%04d", dir, id);
}

typedef struct coverage {
    int combo[3][3][3][2][2]; /* op, dir, opset index, dtype, layout */
    int act[3][3][A_COUNT];   /* op, slot, activation */
    int in_present[IN_COUNT][2], out_present[OUT_COUNT][2];
    int clip, input_forget[2], lbr[2], alpha_default, seq_zero, seq_full, seq_partial;
} coverage;

static void coverage_add(coverage *c, const spec *s, const case_data *d) {
    int oi = s->opset == 7 ? 0 : s->opset == 14 ? 1 : 2;
    c->combo[s->op][s->dir][oi][s->dtype == ONNXRUN_DOUBLE][s->layout]++;
    for (int i = 0; s->act_attr && i < s->n_act * spec_dirs(s); i++)
        c->act[s->op][i % s->n_act][s->act[i]]++;
    for (int i = IN_B; i < spec_max_inputs(s); i++) c->in_present[i][s->has_in[i]]++;
    for (int o = 0; o < spec_max_outputs(s); o++) c->out_present[o][s->has_out[o]]++;
    c->clip += s->clip_attr;
    if (s->op == OP_LSTM) c->input_forget[s->input_forget]++;
    if (s->op == OP_GRU) c->lbr[s->linear_before_reset]++;
    c->alpha_default += s->act_attr && !s->alpha_attr && s->n_alpha > 0;
    for (int b = 0; s->has_in[IN_SEQ] && b < s->B; b++) {
        double len = d->in[IN_SEQ].v[b];
        if (len == 0)
            c->seq_zero++;
        else if (len == s->T)
            c->seq_full++;
        else
            c->seq_partial++;
    }
}

/* Prints the tally and returns the number of holes. */
static int coverage_report(const coverage *c) {
    int holes = 0, combos = 0;
    for (int op = 0; op < 3; op++)
        for (int dir = 0; dir < 3; dir++)
            for (int oi = 0; oi < 3; oi++)
                for (int dt = 0; dt < 2; dt++)
                    for (int lay = 0; lay < (oi ? 2 : 1); lay++) {
                        combos++;
                        if (c->combo[op][dir][oi][dt][lay] == 0) {
                            holes++;
                            printf("coverage hole: %s %s opset=%d %s layout=%d\n", OP_NAMES[op],
                                   DIR_NAMES[dir], OPSETS[oi], dt ? "f64" : "f32", lay);
                        }
                    }
    for (int op = 0; op < 3; op++)
        for (int slot = 0; slot < op + 1; slot++)
            for (int a = 0; a < A_COUNT; a++)
                if (c->act[op][slot][a] == 0) {
                    holes++;
                    printf("coverage hole: %s activation slot %d never %s\n", OP_NAMES[op], slot,
                           ACT_NAMES[a]);
                }
    printf("coverage: %d op/direction/opset/dtype/layout combinations and 11 activations per "
           "gate slot (%d holes); clip %d; input_forget 0/1 %d/%d; linear_before_reset 0/1 "
           "%d/%d; default alpha/beta %d; sequence_lens entries zero/partial/full %d/%d/%d\n",
           combos, holes, c->clip, c->input_forget[0], c->input_forget[1], c->lbr[0], c->lbr[1],
           c->alpha_default, c->seq_zero, c->seq_partial, c->seq_full);
    printf("coverage: optional inputs absent/present:");
    for (int i = IN_B; i < IN_COUNT; i++)
        printf(" %s %d/%d", IN_NAMES[i], c->in_present[i][0], c->in_present[i][1]);
    printf("; outputs absent/present: Y %d/%d Y_h %d/%d Y_c %d/%d\n", c->out_present[0][0],
           c->out_present[0][1], c->out_present[1][0], c->out_present[1][1], c->out_present[2][0],
           c->out_present[2][1]);
    if (!c->clip || !c->input_forget[1] || !c->lbr[1] || !c->lbr[0] || !c->seq_zero ||
        !c->seq_full || !c->seq_partial)
        holes++;
    return holes;
}

static int gen_case(const char *dir, uint64_t seed, int id, FILE *ort_list, FILE *run_list,
                    coverage *cov) {
    spec s;
    case_data d;
    char cdir[PATH_LEN], args[4 * PATH_LEN] = "", twin_args[4 * PATH_LEN] = "";
    spec_make(&s, seed, id);
    data_make(&s, seed, &d);
    coverage_add(cov, &s, &d);
    case_dir(dir, id, cdir, sizeof cdir);
    int rc = make_dir(cdir);
    if (rc == 0) rc = write_model(&s, &d, cdir, false, args, sizeof args);
    if (rc == 0 && spec_needs_twin(&s))
        rc = write_model(&s, &d, cdir, true, twin_args, sizeof twin_args);
    if (rc == 0) {
        fprintf(run_list, "%s %s/model.onnx%s\n", cdir, cdir, args);
        if (spec_needs_twin(&s))
            fprintf(ort_list, "%s/twin_model.onnx %s/ref%s\n", cdir, cdir, twin_args);
        else
            fprintf(ort_list, "%s/model.onnx %s/ref%s\n", cdir, cdir, args);
    }
    data_free(&d);
    return rc;
}

static int cmd_gen(const char *dir, uint64_t seed, int count) {
    if (make_dir(dir) != 0) return 2;
    char path[PATH_LEN];
    pathf(path, sizeof path, "%s/seed.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) return 2;
    fprintf(f, "%llu %d\n", (unsigned long long)seed, count);
    fclose(f);
    pathf(path, sizeof path, "%s/ort_list.txt", dir);
    FILE *ort_list = fopen(path, "w");
    pathf(path, sizeof path, "%s/run_list.txt", dir);
    FILE *run_list = fopen(path, "w");
    if (!ort_list || !run_list) return 2;
    coverage cov;
    memset(&cov, 0, sizeof cov);
    int rc = 0;
    for (int id = 0; id < count && rc == 0; id++)
        rc = gen_case(dir, seed, id, ort_list, run_list, &cov);
    fclose(ort_list);
    fclose(run_list);
    if (rc != 0) return 2;
    printf("rnn_diff: generated %d cases (seed %llu) in %s\n", count, (unsigned long long)seed,
           dir);
    int holes = coverage_report(&cov);
    if (holes && count >= DEFAULT_COUNT) {
        fprintf(stderr, "rnn_diff: %d coverage holes for seed %llu\n", holes,
                (unsigned long long)seed);
        return 2;
    }
    return 0;
}

/* ---- check ---- */

static void read_first_line(const char *path, char *out, size_t len) {
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(out, (int)len, f)) out[strcspn(out, "\n")] = 0;
    fclose(f);
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void sanitize(const char *name, char *out, size_t len) {
    size_t i = 0;
    for (; name[i] && i + 1 < len; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        out[i] = ok ? c : '_';
    }
    out[i] = 0;
}

static double npy_get(const or_npy *a, int64_t i) {
    switch (a->dtype) {
    case ONNXRUN_FLOAT:
        return ((const float *)a->data)[i];
    case ONNXRUN_DOUBLE:
        return ((const double *)a->data)[i];
    default:
        return NAN;
    }
}

static const char *shape_str(int rank, const int64_t *dims, char *buf, size_t len) {
    size_t n = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < rank && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (n < len) snprintf(buf + n, len - n, "]");
    return buf;
}

/* Index into the layout-0 reference of element i of an output in `layout`. */
static int64_t ref_index(int rank, const int64_t *dims, int layout, int64_t i) {
    if (!layout) return i;
    if (rank == 4) { /* [B,T,D,H] -> [T,D,B,H] */
        int64_t B = dims[0], T = dims[1], D = dims[2], H = dims[3];
        int64_t h = i % H, dd = (i / H) % D, t = (i / (H * D)) % T, b = i / (H * D * T);
        return ((t * D + dd) * B + b) * H + h;
    }
    int64_t B = dims[0], D = dims[1], H = dims[2]; /* [B,D,H] -> [D,B,H] */
    int64_t h = i % H, dd = (i / H) % D, b = i / (H * D);
    (void)B;
    return (dd * dims[0] + b) * H + h;
}

typedef struct verdict {
    bool ok;
    char why[512];
    double max_abs, max_rel;
} verdict;

static void compare_output(const spec *s, int o, const or_npy *got, const or_npy *want,
                           verdict *v) {
    int64_t dims[4];
    int rank = output_shape(s, o, s->layout, dims);
    int want_dtype = s->dtype;
    char sname[64];
    sanitize(s->out_name[o], sname, sizeof sname);
    if ((int)got->dtype != want_dtype || got->rank != rank ||
        memcmp(got->dims, dims, sizeof(int64_t) * (size_t)rank)) {
        char a[96], b[96];
        snprintf(v->why, sizeof v->why, "%s: got %s %s, want %s %s", sname,
                 dtype_name((int)got->dtype), shape_str(got->rank, got->dims, a, sizeof a),
                 dtype_name(want_dtype), shape_str(rank, dims, b, sizeof b));
        v->ok = false;
        return;
    }
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    double atol = s->dtype == ONNXRUN_DOUBLE ? DOUBLE_ATOL : ATOL;
    double rtol = s->dtype == ONNXRUN_DOUBLE ? DOUBLE_RTOL : RTOL;
    int64_t bad = 0, first_bad = -1;
    for (int64_t i = 0; i < n; i++) {
        double a = npy_get(got, i), e = npy_get(want, ref_index(rank, dims, s->layout, i));
        double err = fabs(a - e);
        bool both_nan = isnan(a) && isnan(e);
        if (both_nan) continue;
        if (!(err <= atol + rtol * fabs(e))) {
            if (first_bad < 0) first_bad = i;
            bad++;
        }
        if (isnan(err)) err = INFINITY;
        if (err > v->max_abs) v->max_abs = err;
        if (fabs(e) > atol / rtol && err / fabs(e) > v->max_rel) v->max_rel = err / fabs(e);
    }
    if (bad) {
        double a = npy_get(got, first_bad),
               e = npy_get(want, ref_index(rank, dims, s->layout, first_bad));
        size_t used = strlen(v->why);
        snprintf(
            v->why + used, sizeof v->why - used,
            "%s%s: %lld of %lld elements out of tolerance, first at flat index %lld: got %.9g want "
            "%.9g; max abs err %.3g",
            used ? "; " : "", sname, (long long)bad, (long long)n, (long long)first_bad, a, e,
            v->max_abs);
        v->ok = false;
    }
}

static bool load_npy(const char *path, const char *what, or_npy *out, char *why, size_t len) {
    char err[256];
    if (or_npy_load_file(path, out, err, sizeof err) == ONNXRUN_OK) return true;
    const char *base = strrchr(path, '/');
    snprintf(why, len, "%s %s: %s", what, base ? base + 1 : path, err);
    return false;
}

/* The reference must be the layout-0 shape in float32 (twin) or the case dtype. */
static bool ref_ok(const spec *s, int o, const or_npy *want, verdict *v) {
    int64_t dims[4];
    int rank = output_shape(s, o, 0, dims);
    int dtype = spec_needs_twin(s) ? ONNXRUN_FLOAT : s->dtype;
    if ((int)want->dtype == dtype && want->rank == rank &&
        memcmp(want->dims, dims, sizeof(int64_t) * (size_t)rank) == 0)
        return true;
    char a[96];
    snprintf(v->why, sizeof v->why, "reference %s has unexpected %s %s", s->out_name[o],
             dtype_name((int)want->dtype), shape_str(want->rank, want->dims, a, sizeof a));
    v->ok = false;
    return false;
}

static void check_case(const spec *s, const char *cdir, const char *sub, verdict *v) {
    char path[PATH_LEN], line[400];
    memset(v, 0, sizeof *v);
    v->ok = true;
    pathf(path, sizeof path, "%s/ref/error.txt", cdir);
    if (file_exists(path)) {
        read_first_line(path, line, sizeof line);
        snprintf(v->why, sizeof v->why, "no reference: %s", line);
        v->ok = false;
        return;
    }
    pathf(path, sizeof path, "%s/%s/error.txt", cdir, sub);
    if (file_exists(path)) {
        read_first_line(path, line, sizeof line);
        snprintf(v->why, sizeof v->why, "onnxrun failed: %s", line);
        v->ok = false;
        return;
    }
    for (int o = 0; o < spec_max_outputs(s) && v->ok; o++) {
        if (!s->has_out[o]) continue;
        char sname[64], gp[PATH_LEN], wp[PATH_LEN];
        sanitize(s->out_name[o], sname, sizeof sname);
        pathf(gp, sizeof gp, "%s/%s/%s.npy", cdir, sub, sname);
        pathf(wp, sizeof wp, "%s/ref/%s.npy", cdir, sname);
        or_npy got = {0}, want = {0};
        if (!load_npy(wp, "reference", &want, v->why, sizeof v->why))
            v->ok = false;
        else if (!load_npy(gp, "onnxrun output", &got, v->why, sizeof v->why))
            v->ok = false;
        else if (ref_ok(s, o, &want, v))
            compare_output(s, o, &got, &want, v);
        or_npy_free(&got);
        or_npy_free(&want);
    }
}

typedef struct stats {
    double worst_abs, worst_rel;
    char worst_abs_case[32], worst_rel_case[32];
    int passed, failed;
} stats;

static void stats_add(stats *st, const spec *s, const verdict *v) {
    if (v->ok)
        st->passed++;
    else
        st->failed++;
    if (v->max_abs > st->worst_abs) {
        st->worst_abs = v->max_abs;
        snprintf(st->worst_abs_case, sizeof st->worst_abs_case, "c%04d", s->id);
    }
    if (v->max_rel > st->worst_rel) {
        st->worst_rel = v->max_rel;
        snprintf(st->worst_rel_case, sizeof st->worst_rel_case, "c%04d", s->id);
    }
}

static void stats_print(const char *sub, const char *what, const stats *st) {
    int n = st->passed + st->failed;
    if (!n) return;
    printf("  %-14s %-22s %4d/%-4d within tolerance; worst abs err %.3g (%s), worst rel err "
           "%.3g (%s)\n",
           sub, what, st->passed, n, st->worst_abs,
           st->worst_abs_case[0] ? st->worst_abs_case : "-", st->worst_rel,
           st->worst_rel_case[0] ? st->worst_rel_case : "-");
}

static int read_seed(const char *dir, uint64_t *seed, int *count) {
    char path[PATH_LEN];
    unsigned long long s;
    pathf(path, sizeof path, "%s/seed.txt", dir);
    FILE *f = fopen(path, "r");
    int ok = f && fscanf(f, "%llu %d", &s, count) == 2;
    if (f) fclose(f);
    if (!ok) {
        fprintf(stderr, "rnn_diff: cannot read %s (run `rnn_diff gen %s` first)\n", path, dir);
        return -1;
    }
    *seed = s;
    return 0;
}

static int cmd_check(const char *dir, char **subs, int n_subs) {
    uint64_t seed;
    int count, passed = 0, failed = 0;
    if (read_seed(dir, &seed, &count) != 0) return 2;
    printf("rnn_diff: %d cases (seed %llu) x %d variant(s); tolerance |a-e| <= %g + %g*|e| "
           "(f64 cases against the float32 twin: %g + %g*|e|)\n",
           count, (unsigned long long)seed, n_subs, ATOL, RTOL, DOUBLE_ATOL, DOUBLE_RTOL);
    for (int k = 0; k < n_subs; k++) {
        stats st[2];
        memset(st, 0, sizeof st);
        for (int id = 0; id < count; id++) {
            spec s;
            verdict v;
            char cdir[PATH_LEN], desc[1024];
            spec_make(&s, seed, id);
            case_dir(dir, id, cdir, sizeof cdir);
            check_case(&s, cdir, subs[k], &v);
            stats_add(&st[s.dtype == ONNXRUN_DOUBLE], &s, &v);
            if (v.ok) continue;
            spec_describe(&s, desc, sizeof desc);
            printf("FAIL %s c%04d: %s\n     %s\n", subs[k], id, v.why, desc);
        }
        stats_print(subs[k], "float32 cases:", &st[0]);
        stats_print(subs[k], "float64 vs f32 twin:", &st[1]);
        passed += st[0].passed + st[1].passed;
        failed += st[0].failed + st[1].failed;
    }
    printf("rnn_diff: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

static int usage(void) {
    fprintf(stderr, "usage: rnn_diff gen DIR [--seed S] [--count N]\n"
                    "       rnn_diff check DIR SUBDIR...\n"
                    "       rnn_diff describe DIR CASE_ID\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "gen") == 0) {
        uint64_t seed = DEFAULT_SEED;
        int count = DEFAULT_COUNT;
        for (int i = 3; i + 1 < argc; i += 2) {
            if (strcmp(argv[i], "--seed") == 0)
                seed = strtoull(argv[i + 1], NULL, 10);
            else if (strcmp(argv[i], "--count") == 0)
                count = atoi(argv[i + 1]);
            else
                return usage();
        }
        if ((argc - 3) % 2 || count <= 0 || count > 9999) return usage();
        return cmd_gen(argv[2], seed, count);
    }
    if (argc >= 4 && strcmp(argv[1], "check") == 0) return cmd_check(argv[2], argv + 3, argc - 3);
    if (argc == 4 && strcmp(argv[1], "describe") == 0) {
        uint64_t seed;
        int count;
        if (read_seed(argv[2], &seed, &count) != 0) return 2;
        spec s;
        char desc[1024];
        spec_make(&s, seed, atoi(argv[3]));
        spec_describe(&s, desc, sizeof desc);
        printf("c%04d: %s\n", s.id, desc);
        return 0;
    }
    return usage();
}
