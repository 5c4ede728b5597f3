/* Shared machinery of RNN, GRU and LSTM (see recurrent.h): validation,
 * activations, packing, scratch and the time loop. The ops themselves
 * (rnn.c, gru.c, lstm.c) add their own inputs and the per-step GEMMs. */
#include "../runtime/alloc.h"
#include "../runtime/env.h"
#include "recurrent.h"

#include "../runtime/weights.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCRATCH_ALIGN 64

/* ---- activations ---- */

/* Which activations take alpha/beta, and their defaults when the lists run
 * out: onnxruntime's rule (entries are consumed in list order, only by the
 * activations that take them; defaults LeakyRelu 0.01, HardSigmoid 0.2/0.5,
 * Elu 1.0, everything else 0, so ThresholdedRelu, ScaledTanh and Affine
 * default to 0 as in onnxruntime). */
static const struct {
    const char *name;
    int kind;
    bool takes_alpha, takes_beta;
    float alpha, beta;
} act_table[] = {
    {"relu", OR_ACT_RELU, false, false, 0, 0},
    {"tanh", OR_ACT_TANH, false, false, 0, 0},
    {"sigmoid", OR_ACT_SIGMOID, false, false, 0, 0},
    {"affine", OR_ACT_AFFINE, true, true, 0, 0},
    {"leakyrelu", OR_ACT_LEAKYRELU, true, false, 0.01f, 0},
    {"thresholdedrelu", OR_ACT_THRESHOLDEDRELU, true, false, 0, 0},
    {"scaledtanh", OR_ACT_SCALEDTANH, true, true, 0, 0},
    {"hardsigmoid", OR_ACT_HARDSIGMOID, true, true, 0.2f, 0.5f},
    {"elu", OR_ACT_ELU, true, false, 1.0f, 0},
    {"softsign", OR_ACT_SOFTSIGN, false, false, 0, 0},
    {"softplus", OR_ACT_SOFTPLUS, false, false, 0, 0},
};

static int act_lookup(const char *name) {
    for (size_t i = 0; i < sizeof act_table / sizeof act_table[0]; i++) {
        const char *a = act_table[i].name, *b = name;
        while (*a && tolower((unsigned char)*b) == *a) a++, b++;
        if (!*a && !*b) return (int)i;
    }
    return -1;
}

static int parse_acts(or_graph *g, const or_node *n, const or_rnn_spec *spec, or_rnn_state *s) {
    const or_attr *attr = or_attr_find(n, "activations");
    size_t want = (size_t)spec->n_acts * (size_t)s->dirs, count = want;
    const char *const *names = NULL;
    if (attr) {
        if (attr->type != OR_ATTR_STRINGS)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                                "attribute 'activations' is not a list of strings");
        names = (const char *const *)attr->strings;
        count = attr->n;
        /* RNN's schema default is [Tanh, Tanh]; one direction takes the first. */
        if (spec->kind == OR_RNN_SIMPLE && s->dirs == 1 && count == 2) count = 1;
        if (count != want)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                                "'activations' has %zu entries; expected %zu (%d per direction)",
                                attr->n, want, spec->n_acts);
    }
    size_t n_alpha = 0, n_beta = 0, ia = 0, ib = 0;
    const float *alphas = or_attr_floats(n, "activation_alpha", &n_alpha);
    const float *betas = or_attr_floats(n, "activation_beta", &n_beta);
    for (size_t i = 0; i < count; i++) {
        const char *name = names ? names[i] : spec->default_acts[i % (size_t)spec->n_acts];
        int e = act_lookup(name ? name : "");
        if (e < 0)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unknown activation '%s'",
                                name ? name : "");
        or_rnn_act a = {act_table[e].kind, act_table[e].alpha, act_table[e].beta};
        if (act_table[e].takes_alpha && ia < n_alpha) a.alpha = alphas[ia++];
        if (act_table[e].takes_beta && ib < n_beta) a.beta = betas[ib++];
        s->act[i / (size_t)spec->n_acts][i % (size_t)spec->n_acts] = a;
    }
    return ONNXRUN_OK;
}

/* ---- attributes ---- */

/* onnxruntime: RNN ignores a negative clip, GRU/LSTM reject clip <= 0. */
static int parse_clip(or_graph *g, const or_node *n, const or_rnn_spec *spec, or_rnn_state *s) {
    s->clip = INFINITY;
    if (!or_attr_find(n, "clip")) return ONNXRUN_OK;
    float clip = or_attr_float(n, "clip", 0);
    if (spec->kind != OR_RNN_SIMPLE && !(clip > 0))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "clip must be positive (got %g)",
                            (double)clip);
    if (!(clip < 0)) s->clip = clip;
    return ONNXRUN_OK;
}

static int parse_attrs(or_graph *g, const or_node *n, const or_rnn_spec *spec, or_rnn_state *s) {
    const char *dir = or_attr_string(n, "direction", "forward");
    if (strcmp(dir, "forward") == 0)
        s->dirs = 1;
    else if (strcmp(dir, "reverse") == 0)
        s->dirs = 1, s->reverse = true;
    else if (strcmp(dir, "bidirectional") == 0)
        s->dirs = 2;
    else
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "direction '%s' is not forward, reverse or bidirectional", dir);

    int64_t layout = or_attr_int(n, "layout", 0);
    if (layout != 0 && n->opset < 14)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "attribute 'layout' needs opset 14 (node has %d)", n->opset);
    if (layout != 0 && layout != 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "layout %lld is not 0 or 1",
                            (long long)layout);
    s->layout = (int)layout;

    int status = parse_clip(g, n, spec, s);
    if (status) return status;
    s->input_forget = spec->kind == OR_RNN_LSTM && or_attr_int(n, "input_forget", 0) != 0;
    s->linear_before_reset =
        spec->kind == OR_RNN_GRU && or_attr_int(n, "linear_before_reset", 0) != 0;
    return parse_acts(g, n, spec, s);
}

/* ---- shapes ---- */

int or_rnn_shape_fail(or_graph *g, const or_node *n, const or_tensor *t, const char *what, int rank,
                      const int64_t *want) {
    char have[96], expect[96];
    or_shape_str(t->rank, t->dims, have, sizeof have);
    or_shape_str(rank, want, expect, sizeof expect);
    return or_node_fail(g, n, t->kind == OR_T_INPUT ? ONNXRUN_ERR_INPUT : ONNXRUN_ERR_MODEL,
                        "input %s '%s' has shape %s; expected %s", what, t->name, have, expect);
}

static bool shape_is(const or_tensor *t, int rank, const int64_t *dims) {
    if (t->rank != rank) return false;
    for (int i = 0; i < rank; i++)
        if (t->dims[i] != dims[i]) return false;
    return true;
}

static int check_dtype(or_graph *g, const or_node *n, const or_tensor *t, const char *what,
                       int dtype) {
    if (t->dtype == dtype) return ONNXRUN_OK;
    return or_node_fail(g, n, t->kind == OR_T_INPUT ? ONNXRUN_ERR_INPUT : ONNXRUN_ERR_MODEL,
                        "input %s '%s' is %s; expected %s", what, t->name, or_dtype_name(t->dtype),
                        or_dtype_name(dtype));
}

/* The hidden_size attribute, or R's last dimension when it is absent. */
static int resolve_hidden(or_graph *g, const or_node *n, or_rnn_state *s) {
    const or_tensor *r = or_input(g, n, 2);
    int64_t hidden = or_attr_int(n, "hidden_size", -1);
    if (or_attr_find(n, "hidden_size") && hidden <= 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "hidden_size %lld is not positive",
                            (long long)hidden);
    if (hidden < 0) {
        if (r->rank != 3 || r->dims[2] <= 0)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                                "no hidden_size attribute and R '%s' does not give one", r->name);
        hidden = r->dims[2];
    }
    if (hidden > INT32_MAX / 4)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "hidden_size %lld is too large",
                            (long long)hidden);
    s->hidden = hidden;
    s->gh = hidden * s->spec->gates;
    return ONNXRUN_OK;
}

/* X gives dtype, seq, batch and input size; W and R must agree with them. */
static int check_x_w_r(or_graph *g, const or_node *n, or_rnn_state *s) {
    const or_tensor *x = or_input(g, n, 0), *w = or_input(g, n, 1), *r = or_input(g, n, 2);
    if (x->rank != 3 || or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input X '%s' must have a known rank-3 shape",
                            x->name);
    if (x->dtype != OR_FLOAT && x->dtype != OR_DOUBLE)
        return or_node_fail(g, n, x->kind == OR_T_INPUT ? ONNXRUN_ERR_INPUT : ONNXRUN_ERR_MODEL,
                            "input X is %s; only float and double are supported",
                            or_dtype_name(x->dtype));
    s->dtype = x->dtype;
    s->esz = or_dtype_size(x->dtype);
    s->seq = x->dims[s->layout ? 1 : 0];
    s->batch = x->dims[s->layout ? 0 : 1];
    s->input = x->dims[2];
    int status;
    if ((status = check_dtype(g, n, w, "W", s->dtype)) ||
        (status = check_dtype(g, n, r, "R", s->dtype)) || (status = resolve_hidden(g, n, s)))
        return status;
    int64_t wd[3] = {s->dirs, s->gh, s->input}, rd[3] = {s->dirs, s->gh, s->hidden};
    if (w->rank == 3 && w->dims[0] == s->dirs && w->dims[1] == s->gh && w->dims[2] != s->input)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                            "input X '%s' has input size %lld but W '%s' expects %lld", x->name,
                            (long long)s->input, w->name, (long long)w->dims[2]);
    if (!shape_is(w, 3, wd)) return or_rnn_shape_fail(g, n, w, "W", 3, wd);
    if (!shape_is(r, 3, rd)) return or_rnn_shape_fail(g, n, r, "R", 3, rd);
    return ONNXRUN_OK;
}

/* B, sequence_lens, initial_h: the optional inputs every op has. */
static int check_optional(or_graph *g, const or_node *n, or_rnn_state *s) {
    const or_tensor *b = or_input(g, n, 3), *lens = or_input(g, n, 4), *h0 = or_input(g, n, 5);
    int status;
    if (b) {
        int64_t bd[2] = {s->dirs, 2 * s->gh};
        if ((status = check_dtype(g, n, b, "B", s->dtype))) return status;
        if (!shape_is(b, 2, bd)) return or_rnn_shape_fail(g, n, b, "B", 2, bd);
    }
    if (lens) {
        if ((status = check_dtype(g, n, lens, "sequence_lens", OR_INT32))) return status;
        if (!shape_is(lens, 1, &s->batch))
            return or_rnn_shape_fail(g, n, lens, "sequence_lens", 1, &s->batch);
    }
    if (h0) {
        if ((status = check_dtype(g, n, h0, "initial_h", s->dtype))) return status;
        int64_t hd[3] = {s->layout ? s->batch : s->dirs, s->layout ? s->dirs : s->batch, s->hidden};
        if (!shape_is(h0, 3, hd)) return or_rnn_shape_fail(g, n, h0, "initial_h", 3, hd);
    }
    return ONNXRUN_OK;
}

static int set_outputs(or_graph *g, or_node *n, const or_rnn_state *s) {
    int64_t yd[4] = {s->seq, s->dirs, s->batch, s->hidden};
    int64_t hd[3] = {s->dirs, s->batch, s->hidden};
    if (s->layout) {
        yd[0] = s->batch, yd[1] = s->seq, yd[2] = s->dirs;
        hd[0] = s->batch, hd[1] = s->dirs;
    }
    int status = or_set_output(g, n, 0, s->dtype, 4, yd);
    for (int i = 1; i < n->n_outputs && status == ONNXRUN_OK; i++)
        status = or_set_output(g, n, i, s->dtype, 3, hd);
    return status;
}

static void state_free(void *p) {
    or_rnn_state *s = p;
    if (!s) return;
    or_rnn_team_free(s->team);
    or_free(s);
}

void or_rnn_free(or_rnn_state *s) {
    state_free(s);
}

int or_rnn_setup(or_graph *g, or_node *n, const or_rnn_spec *spec, or_rnn_state **out) {
    *out = NULL;
    if (n->n_inputs < 3 || n->n_inputs > spec->max_inputs)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "has %d inputs; expected 3 to %d", n->n_inputs,
                            spec->max_inputs);
    if (n->n_outputs > spec->max_outputs)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "has %d outputs; expected at most %d",
                            n->n_outputs, spec->max_outputs);
    for (int i = 0; i < 3; i++)
        if (!or_input(g, n, i))
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input %d (%s) is required", i,
                                i == 0   ? "X"
                                : i == 1 ? "W"
                                         : "R");
    or_rnn_state *s = or_calloc(1, sizeof *s);
    if (!s) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    s->spec = spec;
    int status = parse_attrs(g, n, spec, s);
    if (!status) status = check_x_w_r(g, n, s);
    if (!status) status = check_optional(g, n, s);
    if (!status) status = set_outputs(g, n, s);
    if (status) {
        state_free(s);
        return status;
    }
    *out = s;
    return ONNXRUN_OK;
}

/* ---- kernels ---- */

#define PICK(S, ISA)                                                                               \
    do {                                                                                           \
        s->k.S.rnn = or_##S##_rnn_gates__##ISA;                                                    \
        s->k.S.lstm = or_##S##_lstm_gates__##ISA;                                                  \
        s->k.S.gru_reset = or_##S##_gru_reset__##ISA;                                              \
        s->k.S.gru = or_##S##_gru_gates__##ISA;                                                    \
    } while (0)

static void pick_kernels(or_rnn_state *s) {
    s->isa = or_cpu_isa();
    for (int d = 0; d < s->dirs; d++)
        for (int i = 0; i < s->spec->n_acts; i++)
            if (!or_rnn_simd_act(&s->act[d][i])) s->isa = OR_ISA_SCALAR;
    bool f32 = s->dtype == OR_FLOAT;
#ifdef OR_HAVE_X86_KERNELS
    if (s->isa == OR_ISA_AVX512) {
        if (f32)
            PICK(f32, avx512);
        else
            PICK(f64, avx512);
        return;
    }
    if (s->isa == OR_ISA_AVX2) {
        if (f32)
            PICK(f32, avx2);
        else
            PICK(f64, avx2);
        return;
    }
#elif defined(OR_HAVE_NEON_KERNELS)
    if (s->isa == OR_ISA_NEON) {
        if (f32)
            PICK(f32, neon);
        else
            PICK(f64, neon);
        return;
    }
#endif
    s->isa = OR_ISA_SCALAR;
    if (f32)
        PICK(f32, scalar);
    else
        PICK(f64, scalar);
}

/* ---- packed weights (n->cache) ---- */

struct or_rnn_cache {
    const void *w_src, *r_src; /* what was packed; NULL when not packed */
    int dtype;
    int64_t dirs, gh, input, hidden;
    bool split_r;         /* GRU without linear_before_reset: R's h rows apart */
    or_packed_b *w[2];    /* per direction W_dᵀ: [input, gh] */
    or_packed_b *r[2][2]; /* per direction: R_dᵀ (or its z r rows), then its h rows */
    int precision;        /* onnxrun_precision; not FP32: qw/qr replace w/r */
    bool r_panels;        /* FP32 on AVX-512, see or_rnn_f32_panels: R in float panels (qr) */
    int isa;              /* or_cpu_isa() when packed */
    or_qmat *qw[2];       /* per direction W_d [gh, input] */
    or_qmat *qr[2][2];    /* as r */
    int team_members;     /* recurrent_team.h: with `team`, R is packed only there, for this
                             plan (or_rnn_team_pack_plan) */
    or_rnn_team_pack *team;
    /* How steps read R (mark_r_reads) */
    or_pack_source r_source;
    bool one_stream;
    bool alternate_sweep; /* odd steps sweep R back (alternate_sweep, or_rnn_gemm_r) */
    or_rnn_fold fold;     /* X an embedding lookup: X·Wᵀ from its tables (recurrent_fold.c) */
};

static void cache_free(void *p) {
    or_rnn_cache *c = p;
    if (!c) return;
    for (int d = 0; d < 2; d++) {
        or_packed_b_free(c->w[d]);
        or_qmat_free(c->qw[d]);
    }
    for (int d = 0; d < 2; d++)
        for (int b = 0; b < 2; b++) {
            or_packed_b_free(c->r[d][b]);
            or_qmat_free(c->qr[d][b]);
        }
    or_rnn_team_pack_free(c->team);
    or_rnn_fold_free(&c->fold);
    or_free(c);
}

bool or_rnn_r_reads_one_stream(const or_node *n) {
    const or_rnn_cache *c = n->free_cache == cache_free ? n->cache : NULL;
    return c && c->qr[0][0] && c->qr[0][0]->one_stream;
}

int or_rnn_w_kind(const or_node *n) {
    const or_rnn_cache *c = n->free_cache == cache_free ? n->cache : NULL;
    return c && c->qw[0] ? (int)c->qw[0]->kind : 0;
}

bool or_rnn_r_float_panels(const or_node *n) {
    const or_rnn_cache *c = n->free_cache == cache_free ? n->cache : NULL;
    return c && c->r_panels && c->qr[0][0]; /* r_panels: fp32 only (or_rnn_f32_panels) */
}

bool or_rnn_r_sweeps_back(const or_node *n) {
    const or_rnn_cache *c = n->free_cache == cache_free ? n->cache : NULL;
    if (c && c->team) return or_rnn_team_pack_sweeps_back(c->team);
    return c && c->alternate_sweep;
}

int or_rnn_r_copy_count(const or_node *n) {
    const or_rnn_cache *c = n->free_cache == cache_free ? n->cache : NULL;
    return c && c->r[0][0] ? or_packed_b_copies(c->r[0][0]) : 0;
}

bool or_rnn_folds(const or_node *n) {
    const or_rnn_cache *c = n->free_cache == cache_free ? n->cache : NULL;
    return c && c->fold.indices >= 0 && c->fold.table[0];
}

/* Known while planning and never rebound: initializers and folded values. */
static const void *static_weight(or_graph *g, or_node *n, int i) {
    const or_tensor *t = or_input(g, n, i);
    if (!t || !t->is_static || t->kind == OR_T_INPUT) return NULL;
    return or_input_value(g, n, i);
}

/* A folded value may be recomputed at the same address with new contents on
 * a re-plan; only initializers are trusted by address. */
static bool is_initializer(or_graph *g, const or_node *n, int i) {
    const or_tensor *t = or_input(g, n, i);
    return t && t->kind == OR_T_INITIALIZER;
}

static or_packed_b *pack(const or_rnn_state *s, int64_t K, int64_t N, const void *B,
                         bool huge_pages, or_src_release *rel) {
    if (s->dtype == OR_FLOAT) return or_sgemm_pack_bt_from(K, N, B, K, huge_pages, rel);
    return or_dgemm_pack_bt_from(K, N, B, K, huge_pages, rel);
}

/* What a plan wants of its node's cache. */
typedef struct cache_want {
    const or_rnn_state *s;
    const void *w, *r; /* the initializers' data */
    bool split;
    int precision;
    bool r_panels;
    int team;
    const or_rnn_fold *fold;
} cache_want;

/* The weights' shapes and what they are packed as, whichever layout. */
static bool shape_matches(const or_rnn_cache *c, const or_rnn_state *s, bool split, int precision) {
    return c->dtype == s->dtype && c->dirs == s->dirs && c->gh == s->gh && c->input == s->input &&
           c->hidden == s->hidden && c->split_r == split && c->precision == precision &&
           c->isa == (int)or_cpu_isa();
}

/* Everything the packing depends on. */
static bool layout_matches(const or_rnn_cache *c, const cache_want *k) {
    return c->w_src == k->w && c->r_src == k->r && shape_matches(c, k->s, k->split, k->precision) &&
           c->r_panels == k->r_panels && c->team_members == k->team &&
           or_rnn_fold_same(&c->fold, k->fold);
}

/* Reduced precision applies to float weights only; double stays exact. */
static int weight_precision(const or_graph *g, const or_rnn_state *s) {
    int p = g->weight_precision;
    if (s->dtype != OR_FLOAT || (p != ONNXRUN_PRECISION_BF16 && p != ONNXRUN_PRECISION_INT8))
        return ONNXRUN_PRECISION_FP32;
    return p;
}

/* On AVX-512, float R may use the panels of qgemm.h (one weight load per
 * FMA row group, no K blocking). Measured per call on Zen 5 (best of N,
 * batch x gates*hidden x hidden): 15-35% faster than the blocked GEMM once
 * R_d is 16 MiB (any batch); while R_d fits L2 at batch 1 the blocked GEMM is
 * ~10% faster end to end (LSTM hidden 128), so it keeps those. At batch 1
 * with R_d in the L3 (up to a quarter of it, or_rnn_r_one_stream), the
 * panels' one-row kernel reads it faster than the blocked GEMM: 2026-12-05,
 * one pinned core, 8-10 alternating process pairs, pair medians 0.95-0.96
 * (2-layer LSTM hidden 512 of bench/), 0.92 (bidirectional GRU hidden 512),
 * 0.92 (2-layer RNN hidden 1024), 0.955-0.966 (char GRU generator); with
 * two threads 0.94-0.96. At batch 3-16, since the panels' row groups read
 * each weight once for up to 8 rows (qgemm_simd.h's qkernel), end to end
 * against the blocked GEMM on 2026-12-06 (6 alternating process pairs, pair
 * medians, one thread and two): 2-layer LSTM hidden 512 batch 16 0.978 and
 * 0.970, GRU hidden 384 batch 8 0.965, LSTM hidden 256 batch 12 0.979, the
 * Embedding→biLSTM classifier (hidden 128, batch 16) 0.996 and 0.956, LSTM
 * hidden 256 3 layers bidirectional and RNN hidden 256 2 layers
 * bidirectional (batch 16) 0.99-1.00; at batch 32 (LSTM hidden 512) 1.03,
 * hence PANEL_MAX_BATCH. W keeps the blocked GEMM (the panels gained only
 * 5-10% on the input product). */
#define PANEL_MIN_BYTES (8 << 20)
#define PANEL_MAX_BATCH 16

bool or_rnn_f32_panels(const or_rnn_state *s, int precision) {
    if (precision != ONNXRUN_PRECISION_FP32 || s->dtype != OR_FLOAT ||
        or_cpu_isa() != OR_ISA_AVX512)
        return false;
    bool big = (double)s->gh * (double)s->hidden * sizeof(float) >= PANEL_MIN_BYTES;
    bool one_row = or_rnn_r_one_stream(s, OR_Q_F32, or_rnn_r_source(s, OR_Q_F32));
    return big || one_row || (s->batch > 2 && s->batch <= PANEL_MAX_BATCH);
}

double or_rnn_r_bytes(const or_rnn_state *s, or_qkind kind) {
    double per_weight = kind == OR_Q_BF16 ? 2 : kind == OR_Q_S8 ? 1 : (double)s->esz;
    return (double)s->gh * (double)s->hidden * per_weight;
}

/* Float panels of an R_d read from the L3 at batch 1 (one-row products): one
 * panel at a time up to a quarter of the L3, 8 at once beyond (qgemm_simd.h's
 * qpanel_row). Measured on Zen 5 (32 MiB of L3), one pinned core, 100
 * back-to-back sweeps, 10 alternating rounds: one panel at a time 8% faster
 * over 4-8 MiB, even at 12 MiB, 17% slower at 16 MiB; end to end, LSTM
 * hidden 1024 (16 MiB) one panel at a time took 1.17x the time with one
 * thread and 1.20x with two (their halves of R are read at once), so the
 * team engine decides on the whole R too. */
bool or_rnn_r_one_stream_on(const or_rnn_state *s, or_qkind kind, or_pack_source src,
                            size_t l3_bytes) {
    return kind == OR_Q_F32 && src == OR_PACK_L3 && s->batch == 1 &&
           or_rnn_r_bytes(s, kind) <= (double)l3_bytes / 4;
}

/* Only AVX-512 has float panels (f32_qgemm__avx512.c). Elsewhere the mark
 * changed nothing but told batch 1 from other batches, so that a session
 * sharing its weights with clones packed R again when re-planned between
 * them (found on a Zen 3, AVX2 with a 32 MiB L3). */
bool or_rnn_r_one_stream(const or_rnn_state *s, or_qkind kind, or_pack_source src) {
    return or_cpu_isa() == OR_ISA_AVX512 && or_rnn_r_one_stream_on(s, kind, src, or_cpu_l3_bytes());
}

/* A step reads all of one direction's R once (directions run one after the
 * other); when that is more than 3/4 of the L3 it comes from memory on each
 * step, and at batches up to 16 the products prefetch it ahead
 * (OR_PACK_MEMORY, or_qmat.streamed). Measured on Zen 1 (L3
 * 8 MiB, of which one core keeps about 4-5 MiB: reading 6 MiB in a loop
 * runs at 14-19 GB/s, 3 MiB at 45, memory at 11): LSTM hidden 1024 batch 1,
 * fp32 R 16 MiB, 100 -> 72 ms with one thread, 60 -> 50 ms with two; bf16
 * R 8 MiB, 37.7 -> 31.2 ms; GRU hidden 1024 batch 16, R 12 MiB, 230 -> 213
 * ms, 119 -> 105 ms with two threads. The same prefetch on a 4 MiB R (RNN
 * hidden 1024) was 1.5x slower. Between the L2 and that, R comes from the
 * L3 (OR_PACK_L3: measured in gemm_template.h's ukr_l3). ONNXRUN_STREAM_R
 * forces the choice: 0 cached (no prefetch), 1 memory, 2 L3. */
or_pack_source or_rnn_r_source(const or_rnn_state *s, or_qkind kind) {
    int64_t forced = or_env_value(OR_ENV_STREAM_R);
    if (forced >= 0)
        return forced == 1 ? OR_PACK_MEMORY : forced == 2 ? OR_PACK_L3 : OR_PACK_CACHED;
    if (s->batch > 16) return OR_PACK_CACHED; /* measured up to 16; more rows reuse each line */
    double bytes = or_rnn_r_bytes(s, kind);
    size_t l2 = or_cpu_l2_bytes(), l3 = or_cpu_l3_bytes();
    if (l3 > 0 && bytes > 0.75 * (double)l3) return OR_PACK_MEMORY;
    return l2 > 0 && bytes > (double)l2 ? OR_PACK_L3 : OR_PACK_CACHED;
}

/* A float R that a one- or two-row step product reads from the L2 (batch
 * <= 2, OR_PACK_CACHED) is read whole on each step, bandwidth-bound, so it
 * must sit in the L2 whole. On 4 KiB pages that depends on which physical
 * pages the kernel hands out, since some L2 sets may get more of R's lines
 * than they have ways (those lines then come from the L3 on every step):
 * the one-row product over a 768 KiB R ran at 139-142 GB/s in some
 * processes and 190-198 in others. Huge pages spread R evenly over the sets,
 * for up to 2 MiB of extra resident memory per pack, so only an R of half
 * the L2 or more gets them. Measured on Zen 5 (1 MiB L2), one pinned core:
 * the bare product 6-8% faster over 768 KiB and 1 MiB, the same over 512
 * KiB; the 2-layer GRU of hidden 256 at batch 1 in bench/ (two 768 KiB Rs),
 * three rounds of 20-30 processes of each alternating, medians of the
 * processes' medians 1.31 -> 1.18, 1.26 -> 1.19 and 1.40 -> 1.33 ms, the
 * slowest 1.66 -> 1.63, 1.52 -> 1.38 and 1.54 -> 1.41. INT8 Rs of 768 KiB-1
 * MiB ran the same either way (4 models) and keep 4 KiB pages, as do bf16
 * and double (not measured). An R of OR_RNN_HUGE_R_TLB_BYTES or more gets
 * them too (or_rnn_huge_for_tlb). ONNXRUN_HUGE_R forces the choice: 0 never,
 * 1 always. */
bool or_rnn_r_huge_pages(const or_rnn_state *s, or_qkind kind, or_pack_source src) {
    int64_t forced = or_env_value(OR_ENV_HUGE_R);
    if (forced >= 0) return forced == 1;
    double l2 = (double)or_cpu_l2_bytes(), bytes = or_rnn_r_bytes(s, kind);
    if (or_rnn_huge_for_tlb(bytes)) return true;
    return s->dtype == OR_FLOAT && kind == OR_Q_F32 && src == OR_PACK_CACHED && s->batch <= 2 &&
           l2 > 0 && bytes >= l2 / 2 && bytes <= l2;
}

/* On 4 KiB pages a step's sweep over a large R misses the TLB: the Zen 3's
 * L2 TLB (2048 entries) maps 8 MiB. Huge pages map such an R in a few
 * entries, for at most 2 MiB of rounding per pack. Measured on the Zen 3
 * (AVX2), one pinned core, huge pages against not (16-20 alternating
 * single-run pairs of two live processes): LSTM hidden 1024 batch 1 (16 MiB
 * of float R) 0.84-0.89 of the time, in bf16 (8 MiB) 0.95; Rs of 3-4 MiB
 * 0.98-1.00 (four batch-1 models), int8's 4 MiB 0.99, GRU hidden 1024 batch
 * 16 (12 MiB, compute-bound) 0.99. */
bool or_rnn_huge_for_tlb(double bytes) {
    int64_t forced = or_env_value(OR_ENV_HUGE_R);
    if (forced >= 0) return forced == 1;
    return bytes >= (double)OR_RNN_HUGE_R_TLB_BYTES;
}

/* A batch-1 step reads all of R, and an R the L2 holds is read at the L2's
 * speed; on the Zen 5 (1 MiB L2) that speed depends on how much is read
 * between two reads of the same line. A read loop over one buffer again and
 * again ran at 190-210 GB/s up to 496 KiB and at 245-257 GB/s from 512 KiB
 * (to 640 KiB; 237 at 768, 130 at 896), and read as 2-4 buffers taken in
 * turn, 512-576 KiB in all ran as fast (the cause is not known: perhaps a
 * prefetcher that remembers about 512 KiB of recent lines). So the steps
 * take turns over copies of R when that brings the lines read between two
 * reads of one line to 1/2-9/16 of the L2, with R at least 1/8 of it (2-4
 * copies). Measured per model, 10-16 pairs of processes, one pinned core:
 * LSTM hidden 128 (R 256 KiB, 2 copies) 0.86-0.90x the time, RNN hidden 256
 * (256 KiB, 2) 0.87-0.91x, GRU hidden 128 (192 KiB, 3) 0.88x, LSTM hidden 96
 * (144 KiB, 4) 0.96x; outside the rule, GRU hidden 128 with 2 copies 0.98x,
 * LSTM hidden 112 (196 KiB) with 3 1.05x, LSTM hidden 144 (324 KiB) with 2
 * 1.12x, LSTM hidden 64 (64 KiB) with 8 1.02-1.04x. Measured on this L2 size
 * only, so the rule applies to no other; with two threads the steps take the
 * team engine (recurrent_team.h), where copies changed nothing. */
#define R_COPIES_L2 (1u << 20)

int or_rnn_r_copies_for(double r_bytes, size_t l2_bytes) {
    if (l2_bytes != R_COPIES_L2 || !(r_bytes >= (double)l2_bytes / 8)) return 1;
    double want = (double)l2_bytes / 2, most = (double)l2_bytes * 9 / 16;
    int copies = (int)ceil(want / r_bytes);
    return copies >= 2 && copies * r_bytes <= most ? copies : 1;
}

/* ONNXRUN_R_COPIES=N (1-8) forces N copies of any float R read by the blocked
 * GEMM, at any batch (tests; 1: never). */
int or_rnn_r_copies_on(const or_rnn_state *s, or_qkind kind, or_pack_source src, size_t l2_bytes) {
    int64_t forced = or_env_value(OR_ENV_R_COPIES);
    bool plain = s->dtype == OR_FLOAT && kind == OR_Q_F32;
    if (forced > 0) return plain ? (int)forced : 1;
    /* A capped session wants memory more than speed. */
    if (!plain || src != OR_PACK_CACHED || s->batch != 1 || or_mem_cap(or_mem_current()) > 0)
        return 1;
    return or_rnn_r_copies_for(or_rnn_r_bytes(s, kind), l2_bytes);
}

int or_rnn_r_copies(const or_rnn_state *s, or_qkind kind, or_pack_source src) {
    return or_rnn_r_copies_on(s, kind, src, or_cpu_l2_bytes());
}

/* The input product X·Wᵀ runs over a chunk of steps at once, so it is
 * compute-bound, not bandwidth-bound like the batch-1 recurrent product:
 * reduced precision pays off there only with the dot-product instructions.
 * With AVX512-VNNI and no BF16, INT8 keeps W in int8; otherwise INT8 keeps W
 * in bf16 where the CPU has AVX512-BF16 (measured on LSTM hidden 1024 it cuts
 * the error vs fp32 4x, max 0.010 -> 0.0027, at the same speed). On AVX2
 * (and no AVX-512), INT8 keeps W in int8 against 16-bit activations
 * (OR_Q_S16: VPMADDWD, twice float FMA's multiply-adds per instruction);
 * S8's 7-bit activations there had grown the error 1.4-5x. Otherwise (plain
 * AVX-512F, where float FMA is as fast, and BF16 without AVX512-BF16) W
 * stays float on the blocked GEMM (OR_Q_F32 here): faster than widening
 * bf16 per product and exact. */
static or_qkind w_kind(or_qkind kind, int64_t input) {
    if (kind == OR_Q_F32) return OR_Q_F32;
    bool s8_fast = or_cpu_has(OR_CPU_AVX512_VNNI), bf16_fast = or_cpu_has(OR_CPU_AVX512_BF16);
    bool ints = input <= OR_Q_INT_MAX_K;
    if (kind == OR_Q_S8 && ints && s8_fast && !bf16_fast) return OR_Q_S8;
    if (bf16_fast) return OR_Q_BF16;
    return kind == OR_Q_S8 && ints && or_cpu_isa() == OR_ISA_AVX2 ? OR_Q_S16 : OR_Q_F32;
}

or_qkind or_rnn_precision_kind(int precision) {
    return precision == ONNXRUN_PRECISION_BF16   ? OR_Q_BF16
           : precision == ONNXRUN_PRECISION_INT8 ? OR_Q_S8
                                                 : OR_Q_F32;
}

static or_qkind r_kind(const or_rnn_cache *c) {
    return or_rnn_precision_kind(c->precision);
}

/* Whether one thread's odd steps sweep R back (or_rnn_gemm_r; the team
 * engine keeps its own rule, or_rnn_team_pack_mark): an R read as from the
 * L3 or memory (larger than the L2 at batches up to 16, or so forced), and
 * one of over half the L2 up to the L2 (why that pays is not known: the
 * bare product shows it with nothing else read between calls). Measured on
 * a Zen 5 VM (1 MiB L2), one pinned core, the bare batch-1 float product
 * over a packed R, best of 7 x 5000 calls, alternating / forward: 768 KiB
 * 4.3 / 5.0-5.2 us, 1 MiB 7.2 / 8.2-8.5 us; 576 KiB 3.0 / 2.9-3.3 (no gain
 * yet: the bound is approximate), 256-384 KiB the same; batches 2 and 16
 * within 5% either way; bf16 and int8 Rs not measured. End to end, 8
 * alternating process pairs: batch-1 LSTM hidden 240, RNN hidden 480, GRU
 * hidden 288 (900-972 KiB) 0.87-0.88x the time, LSTM hidden 208 (676 KiB)
 * 0.99x. */
static bool alternate_sweep(const or_rnn_state *s, or_qkind kind, or_pack_source src) {
    double l2 = (double)or_cpu_l2_bytes(), bytes = or_rnn_r_bytes(s, kind);
    return src != OR_PACK_CACHED || (l2 > 0 && bytes > l2 / 2 && bytes <= l2);
}

/* How a plan's steps read R (from where, which sweep order, one panel at a
 * time or not) follows its own batch, not that of the plan that packed R:
 * so that a session re-planned from batch 3 to batch 1 sums exactly as one
 * created at batch 1. The marks are in the packs, which the kernels read. */
static bool reads_match(const or_rnn_cache *c, const or_rnn_state *s) {
    or_qkind kind = r_kind(c);
    or_pack_source src = or_rnn_r_source(s, kind);
    return c->r_source == src && c->one_stream == or_rnn_r_one_stream(s, kind, src) &&
           c->alternate_sweep == alternate_sweep(s, kind, src);
}

static void mark_r_reads(or_rnn_cache *c, const or_rnn_state *s) {
    or_qkind kind = r_kind(c);
    c->r_source = or_rnn_r_source(s, kind);
    c->one_stream = or_rnn_r_one_stream(s, kind, c->r_source);
    c->alternate_sweep = alternate_sweep(s, kind, c->r_source);
    if (c->team) or_rnn_team_pack_mark(c->team, c->r_source, c->one_stream);
    for (int d = 0; d < 2; d++)
        for (int b = 0; b < 2; b++)
            or_rnn_mark_source(c->r[d][b], c->qr[d][b], c->r_source, c->one_stream);
}

/* A cache that only this plan reads is marked again for it; one a clone may
 * be running with is not touched, and fits only with the same marks. */
static bool reads_fit(or_graph *g, or_node *n, or_rnn_cache *c, const or_rnn_state *s) {
    if (reads_match(c, s)) return true;
    if (n->cache_borrowed || g->caches_lent) return false;
    mark_r_reads(c, s);
    return true;
}

static bool cache_wanted(const void *c, const void *k) {
    const cache_want *want = k;
    return layout_matches(c, want) && reads_match(c, want->s);
}

/* Packs W and the R blocks either for the float GEMM or as reduced-precision
 * rows (qgemm.h), handing back source pages to wrel/rrel as it goes; false
 * when memory ran out. */
static bool pack_all(or_rnn_cache *c, const or_rnn_state *s, const void *w, const void *r,
                     bool split, or_src_release *wrel, or_src_release *rrel) {
    or_qkind kind = r_kind(c);
    bool q = c->precision != ONNXRUN_PRECISION_FP32, ok = true;
    or_pack_source r_source = or_rnn_r_source(s, kind);
    bool r_huge = or_rnn_r_huge_pages(s, kind, r_source);
    int r_copies = or_rnn_r_copies(s, kind, r_source);
    /* An embedding lookup's tables replace W's pack. Without memory for
     * them, X·Wᵀ stays a GEMM. */
    for (int d = 0; w && c->fold.indices >= 0 && d < s->dirs; d++)
        if (!or_rnn_fold_build(&c->fold, s, d,
                               (const unsigned char *)w +
                                   (size_t)(d * s->gh * s->input) * s->esz)) {
            or_rnn_fold_free(&c->fold);
            c->fold.indices = -1;
        }
    for (int d = 0; w && s->input > 0 && ok && c->fold.indices < 0 && d < s->dirs; d++) {
        /* Per direction: a chunk of steps computes one direction's X·Wᵀ at a time. */
        const unsigned char *wd =
            (const unsigned char *)w + (size_t)(d * s->gh * s->input) * s->esz;
        or_qkind wk = w_kind(kind, s->input);
        if (wk != OR_Q_F32)
            ok = (c->qw[d] = or_qmat_pack_from(wk, s->gh, s->input, (const float *)wd, s->input, 0,
                                               false, wrel)) != NULL;
        else
            ok = (c->w[d] = pack(s, s->input, s->gh, wd, false, wrel)) != NULL;
    }
    if (r && ok && c->team_members)
        ok = (c->team = or_rnn_team_pack_new(s, c->team_members, kind, r, rrel)) != NULL;
    for (int d = 0; r && ok && !c->team_members && d < s->dirs; d++) {
        const unsigned char *rd =
            (const unsigned char *)r + (size_t)(d * s->gh * s->hidden) * s->esz;
        int64_t rows[2] = {split ? 2 * s->hidden : s->gh, s->hidden};
        for (int b = 0; ok && b < (split ? 2 : 1); b++) {
            const unsigned char *src = rd + (size_t)(b * rows[0] * s->hidden) * s->esz;
            if (q || c->r_panels)
                ok = (c->qr[d][b] = or_qmat_pack_from(kind, rows[b], s->hidden, (const float *)src,
                                                      s->hidden, 0, r_huge, rrel)) != NULL;
            else
                ok = (c->r[d][b] = pack(s, s->hidden, rows[b], src, r_huge, rrel)) != NULL;
            /* Copies only speed steps up: without memory for them, none. */
            if (ok && c->r[d][b]) or_packed_b_replicate(c->r[d][b], r_copies);
        }
    }
    if (ok) mark_r_reads(c, s);
    return ok;
}

/* A cache whose sources were released is the only copy of the weights: it
 * is kept whichever R layout this batch would prefer (and, lent to a clone,
 * however this batch would read R). */
static int reuse_released(or_graph *g, or_node *n, or_rnn_state *s, bool split, int precision) {
    or_rnn_cache *c = n->cache;
    if (c && n->free_cache == cache_free && shape_matches(c, s, split, precision)) {
        reads_fit(g, n, c, s);
        s->cache = c;
        return ONNXRUN_OK;
    }
    return or_node_fail(g, n, ONNXRUN_ERR_NOMEM,
                        "W or R was handed back while packing ran out of memory; create the "
                        "session again");
}

/* Packs, then releases W and R where this node is their only reader
 * (runtime/weights.h), returning their pages while it packs. */
static bool pack_and_release(or_graph *g, or_node *n, or_rnn_cache *c, const or_rnn_state *s,
                             bool split) {
    const void *w = c->w_src, *r = c->r_src;
    const or_tensor *wt = or_input(g, n, 1), *rt = or_input(g, n, 2);
    or_src_release *wrel =
        w && or_weight_releasable(g, n, 1) ? or_src_release_begin(w, wt->nbytes) : NULL;
    or_src_release *rrel =
        r && or_weight_releasable(g, n, 2) ? or_src_release_begin(r, rt->nbytes) : NULL;
    bool ok = pack_all(c, s, w, r, split, wrel, rrel);
    bool w_gone = or_src_release_end(wrel), r_gone = or_src_release_end(rrel);
    /* A failed pack may already have handed back pages: never read them again. */
    if (ok ? w && (c->w[0] || c->qw[0] || c->fold.table[0]) : w_gone) or_weight_release(g, n, 1);
    if (ok ? r != NULL : r_gone) or_weight_release(g, n, 2);
    return ok;
}

static int pack_weights(or_graph *g, or_node *n, or_rnn_state *s) {
    bool split = s->spec->kind == OR_RNN_GRU && !s->linear_before_reset;
    int precision = weight_precision(g, s);
    if (or_weight_released(g, n, 1) || or_weight_released(g, n, 2))
        return reuse_released(g, n, s, split, precision);
    const void *w = static_weight(g, n, 1), *r = static_weight(g, n, 2);
    or_rnn_cache *c = n->cache;
    bool reusable = (!w || is_initializer(g, n, 1)) && (!r || is_initializer(g, n, 2));
    bool r_panels = or_rnn_f32_panels(s, precision);
    int team = r ? or_rnn_team_pack_plan(g, s, s->team_plan) : 0;
    or_rnn_fold fold = {.indices = -1};
    if (w) or_rnn_fold_find(g, n, s, &fold);
    cache_want want = {s, w, r, split, precision, r_panels, team, &fold};
    bool ours = c && n->free_cache == cache_free;
    if (reusable && ours && layout_matches(c, &want) && reads_fit(g, n, c, s)) {
        s->cache = c;
        return ONNXRUN_OK;
    }
    if (reusable && (c = or_node_revive_cache(g, n, cache_free, cache_wanted, &want))) {
        s->cache = c;
        return ONNXRUN_OK;
    }
    if (!reusable) /* packed from folded values: never lent to a clone (session_clone.c) */
        or_node_drop_cache(n);
    else if (!or_node_retire_cache(g, n))
        return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    if (!w && !r) return ONNXRUN_OK;
    c = or_calloc(1, sizeof *c);
    if (!c) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    *c = (or_rnn_cache){.w_src = w,
                        .r_src = r,
                        .dtype = s->dtype,
                        .dirs = s->dirs,
                        .gh = s->gh,
                        .input = s->input,
                        .hidden = s->hidden,
                        .split_r = split,
                        .precision = precision,
                        .r_panels = r_panels,
                        .team_members = team,
                        .isa = (int)or_cpu_isa(),
                        .fold = fold};
    n->cache = c;
    n->free_cache = cache_free;
    if (!pack_and_release(g, n, c, s, split)) {
        cache_free(c); /* a half-filled cache must not be taken for a finished one */
        n->cache = NULL;
        n->free_cache = NULL;
        return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory packing the weights");
    }
    s->cache = c;
    return ONNXRUN_OK;
}

/* ---- scratch ---- */

/* a * b * c elements of esz bytes rounded up to SCRATCH_ALIGN; false on overflow. */
static bool region(int64_t a, int64_t b, int64_t c, size_t esz, size_t *bytes) {
    int64_t ab, abc;
    size_t raw;
    if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc) ||
        __builtin_mul_overflow((size_t)abc, esz, &raw) || raw > SIZE_MAX / 2)
        return false;
    *bytes = (raw + SCRATCH_ALIGN - 1) / SCRATCH_ALIGN * SCRATCH_ALIGN;
    return true;
}

/* Activation buffer of the reduced-precision products: the input product's
 * seq * batch rows or a step's batch rows; SIZE_MAX on overflow. */
static size_t qwork_size(const or_rnn_state *s, int64_t rows) {
    const or_rnn_cache *c = s->cache;
    if (!c || (c->precision == ONNXRUN_PRECISION_FP32 && !c->r_panels)) return 0;
    size_t need = 0;
    const or_qmat *all[6] = {c->qw[0],    c->qw[1],    c->qr[0][0],
                             c->qr[0][1], c->qr[1][0], c->qr[1][1]};
    for (int i = 0; i < 6; i++) {
        if (!all[i] || all[i]->kind == OR_Q_F32) continue; /* read in place (lda == K) */
        size_t one = or_qmat_work_size(all[i], i < 2 ? rows : s->batch);
        if (one == 0 || one > SIZE_MAX / 2) return SIZE_MAX;
        if (one > need) need = one;
    }
    return (need + SCRATCH_ALIGN - 1) / SCRATCH_ALIGN * SCRATCH_ALIGN;
}

/* X·Wᵀ of a chunk of steps: about this much, unless that is under 4 steps.
 * Measured at batch 16 (LSTM hidden 512, GRU hidden 1024): chunks of 4 steps
 * cost 1-2% against one product for the whole sequence, whose buffer was the
 * largest allocation of the run. */
#define XW_CHUNK_BYTES (512u << 10)
#define XW_CHUNK_MIN_STEPS 4
/* Steps per chunk of the input product. The team engine's chunks (an input
 * phase each, recurrent_team.c) are larger, OR_RNN_TEAM_XW_BYTES unless a
 * memory cap says memory matters more. Measured on the 2-core Zen 5, 2
 * threads, against one product for the whole sequence (6-8 alternating
 * process pairs, pair medians): split units, each member computing its own
 * units' columns, GRU hidden 1024 batch 16 (50 steps) 1.011 in chunks of 4
 * steps and 1.004 in chunks of 16 (with the rows split instead: 1.059 and
 * 1.044), 2-layer LSTM hidden 512 batch 16 0.977 in chunks of 4; by
 * direction, LSTM hidden 256 3 layers bidirectional batch 16 1.023 in
 * chunks of 512 KiB and 1.004 in chunks of 2 MiB. A pipelined pair's are
 * its own (recurrent_pipe.c: the first layer's whole sequence, the
 * second's ring of hand-overs). */
int64_t or_rnn_chunk_steps(const or_rnn_state *s) {
    int64_t all = s->seq > 0 ? s->seq : 1;
    if (s->pipe_role) return or_rnn_pipe_xw_steps(s);
    int64_t forced = or_env_value(OR_ENV_RNN_CHUNK); /* tests: any chunk size, down to 1 */
    if (forced > 0) return forced < all ? forced : all;
    bool team = s->cache && s->cache->team && or_mem_cap(or_mem_current()) == 0;
    size_t budget = team ? OR_RNN_TEAM_XW_BYTES : XW_CHUNK_BYTES;
    /* Members of split rows each compute their rows' share, as one thread would. */
    int plan = s->team_plan;
    if (team && (plan & OR_RNN_TEAM_BY_ROWS))
        budget = XW_CHUNK_BYTES * (plan & OR_RNN_TEAM_MEMBERS);
    double step_bytes = (double)s->batch * (double)s->gh * (double)s->esz;
    int64_t steps = step_bytes > 0 ? (int64_t)(budget / step_bytes) : s->seq;
    if (steps < XW_CHUNK_MIN_STEPS) steps = XW_CHUNK_MIN_STEPS;
    return steps < all ? steps : all;
}

bool or_rnn_xw_up_front(const or_rnn_state *s) {
    const or_rnn_cache *c = s->cache;
    return c && c->team && !(s->team_plan & (OR_RNN_TEAM_BY_DIR | OR_RNN_TEAM_BY_ROWS)) &&
           s->chunk >= s->seq;
}

static int alloc_scratch(or_graph *g, or_node *n, or_rnn_state *s) {
    bool lstm = s->spec->kind == OR_RNN_LSTM, gru = s->spec->kind == OR_RNN_GRU;
    int64_t D = s->dirs, B = s->batch, H = s->hidden, rows;
    size_t sz[9];
    s->pipe_chunk = s->pipe_role ? or_rnn_pipe_handover(s->batch) : 0;
    s->chunk = or_rnn_chunk_steps(s);
    /* The team engine by direction (both at once) or with its X·Wᵀ up front
     * (every direction's): a buffer per direction. */
    bool team = s->cache && s->cache->team, up_front = or_rnn_xw_up_front(s);
    bool by_dir = team && (s->team_plan & OR_RNN_TEAM_BY_DIR);
    s->xw_dirs = by_dir || up_front ? (int)D : 1;
    bool fold = s->cache && s->cache->fold.indices >= 0; /* X·Wᵀ read from its tables */
    /* Members splitting the rows keep their rows' X·Wᵀ in buffers of their
     * own (recurrent_team.c), of at most this many bytes together: checked
     * here, not allocated. */
    bool own_xw = team && (s->team_plan & OR_RNN_TEAM_BY_ROWS);
    size_t members_xw;
    bool ok = !__builtin_mul_overflow(s->chunk, B, &rows) &&
              region(fold ? 0 : rows, 1, s->gh, s->esz, &members_xw) &&
              region(fold || own_xw ? 0 : rows, s->xw_dirs, s->gh, s->esz, &sz[0]) && /* xw */
              region(B, s->gh, 1, s->esz, &sz[1]) &&                                  /* rg */
              region(gru && !s->linear_before_reset ? B : 0, H, 1, s->esz, &sz[2]) && /* rh */
              region(D, B, H, s->esz, &sz[3]) &&                                      /* h */
              region(lstm ? D : 0, B, H, s->esz, &sz[4]) &&                           /* c */
              region(D, s->gh, 1, s->esz, &sz[5]) &&                                  /* bias */
              region(gru && s->linear_before_reset ? D : 0, H, 1, s->esz, &sz[6]) &&  /* rbh */
              region(B, 1, 1, sizeof(int32_t), &sz[7]);                               /* lens */
    /* The team engine converts activations in its members' buffers, but for
     * an input product computed up front. */
    sz[8] = ok && (!team || up_front) ? qwork_size(s, rows) : 0;
    ok = ok && sz[8] != SIZE_MAX;
    size_t total = 0;
    for (int i = 0; ok && i < 9; i++) ok = !__builtin_add_overflow(total, sz[i], &total);
    if (!ok) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "scratch size overflows");
    memcpy(s->parts, sz, sizeof sz);
    or_request_scratch(n, total);
    return ONNXRUN_OK;
}

/* Points the scratch regions into this run's n->scratch (SCRATCH_ALIGN-aligned). */
static void carve_scratch(or_rnn_state *s, unsigned char *p) {
    unsigned char **dst[7] = {&s->xw, &s->rg, &s->rh, &s->h, &s->c, &s->bias, &s->rbh};
    for (int i = 0; i < 7; i++) {
        *dst[i] = s->parts[i] ? p : NULL;
        p += s->parts[i];
    }
    s->lens = (int32_t *)p;
    s->qwork = s->parts[8] ? p + s->parts[7] : NULL;
}

int or_rnn_finish(or_graph *g, or_node *n, or_rnn_state *s, or_run_fn run) {
    pick_kernels(s);
    s->pipe_role = or_rnn_pipe_role(g, n, s, &s->pipe_partner);
    s->team_plan = s->pipe_role ? OR_RNN_TEAM_PIPE_PLAN : or_rnn_team_members(g, s);
    int status = pack_weights(g, n, s); /* for that plan */
    /* No team without its pack (R not static). On a pack made for another
     * plan (a clone's pool of another size, the weights handed back) the
     * pack's own plan runs; every plan runs on the pack of a pool of the same
     * size. A layer of a pair runs on the team engine, one member owning
     * every unit. */
    const or_rnn_cache *c = s->cache;
    if (!c || !c->team)
        s->team_plan = 0;
    else if (or_rnn_team_pack_plan(g, s, s->team_plan) != c->team_members)
        s->team_plan = c->team_members;
    if (s->team_plan != OR_RNN_TEAM_PIPE_PLAN) s->pipe_role = 0;
    if (!status) status = alloc_scratch(g, n, s);
    if (!status && s->cache && s->cache->team) status = or_rnn_team_setup(g, n, s, s->cache->team);
    if (status) {
        state_free(s);
        return status;
    }
    n->state = s;
    n->free_state = state_free;
    n->run = run;
    if (s->pipe_role == 2) n->run_by = s->pipe_partner;
    /* X·Wᵀ from the tables: X's producers (the lookup) need not run. */
    if (s->cache && s->cache->fold.indices >= 0) n->unread_inputs |= 1u;
    return ONNXRUN_OK;
}

/* ---- run ---- */

/* Element offset of [d, b, :] (layout 0) or [b, d, :] (layout 1): Y_h, Y_c, initial_h/c. */
static inline int64_t final_off(const or_rnn_state *s, int d, int64_t b) {
    return (s->layout ? b * s->dirs + d : d * s->batch + b) * s->hidden;
}

static int read_lens(or_graph *g, or_node *n, or_rnn_state *s) {
    const or_tensor *t = or_input(g, n, 4);
    s->max_len = 0;
    for (int64_t b = 0; b < s->batch; b++) {
        int32_t len = t ? ((const int32_t *)t->data)[b] : (int32_t)s->seq;
        if (len < 0 || len > s->seq)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "sequence_lens[%lld] = %ld is outside [0, %lld]", (long long)b,
                                (long)len, (long long)s->seq);
        s->lens[b] = len;
        if (len > s->max_len) s->max_len = len;
    }
    return ONNXRUN_OK;
}

#define BIAS_LOOP(T)                                                                               \
    do {                                                                                           \
        const T *src = bt ? (const T *)bt->data : NULL;                                            \
        T *bias = (T *)s->bias, *rbh = (T *)s->rbh;                                                \
        for (int64_t d = 0; d < s->dirs; d++)                                                      \
            for (int64_t j = 0; j < gh; j++) {                                                     \
                T wb = src ? src[d * 2 * gh + j] : 0, rb = src ? src[d * 2 * gh + gh + j] : 0;     \
                bool apart = lbr && j >= 2 * H; /* GRU: Rbh applied inside r ⊙ (...) */          \
                bias[d * gh + j] = apart ? wb : wb + rb;                                           \
                if (apart) rbh[d * H + j - 2 * H] = rb;                                            \
            }                                                                                      \
    } while (0)

/* Wb + Rb per gate, except GRU's h gate with linear_before_reset. */
static void build_biases(or_graph *g, const or_node *n, or_rnn_state *s) {
    const or_tensor *bt = or_input(g, n, 3);
    const int64_t gh = s->gh, H = s->hidden;
    const bool lbr = s->spec->kind == OR_RNN_GRU && s->linear_before_reset;
    if (s->dtype == OR_FLOAT)
        BIAS_LOOP(float);
    else
        BIAS_LOOP(double);
}

#define CELL_INIT(S, T, d, peep_src)                                                               \
    (or_rnn_cell_##S) {                                                                            \
        .hidden = s->hidden, .xw_gate = s->hidden, .clip = (T)s->clip,                             \
        .bias = (const T *)s->bias + (d)*s->gh,                                                    \
        .rbh = s->rbh ? (const T *)s->rbh + (d)*s->hidden : NULL,                                  \
        .peep = (peep_src) ? (const T *)(peep_src) + (d)*3 * s->hidden : NULL,                     \
        .input_forget = s->input_forget, .linear_before_reset = s->linear_before_reset,            \
        .f = s->act[d][0], .g = s->act[d][1], .h = s->act[d][2],                                   \
    }

static void build_cells(or_graph *g, const or_node *n, or_rnn_state *s) {
    const or_tensor *p = s->spec->kind == OR_RNN_LSTM ? or_input(g, n, 7) : NULL;
    const void *peep = p ? p->data : NULL;
    for (int d = 0; d < s->dirs; d++) {
        if (s->dtype == OR_FLOAT)
            s->cell32[d] = CELL_INIT(f32, float, d, peep);
        else
            s->cell64[d] = CELL_INIT(f64, double, d, peep);
    }
}

/* One input product: C[M, cols] = X_rows · W_dᵀ[cols], X_rows the M rows
 * row0, row0 + row_step, ... of X seen as [dims 0 and 1, input], cols the
 * columns [col0, col0 + ncols) of [0, gh) (C points at column 0, row stride
 * ldc; a part of the columns only where or_rnn_input_cols_ok). */
typedef struct w_product {
    int d;
    int64_t M, row0, row_step;
    void *C;
    int64_t ldc, col0, ncols;
    void *work; /* reduced-precision W's activation buffer (NULL: s->qwork) */
    or_threadpool *pool;
} w_product;

static void gemm_w(or_graph *g, const or_node *n, or_rnn_state *s, const w_product *p) {
    const int64_t K = s->input, N = p->ncols, M = p->M, ldc = p->ldc;
    const or_rnn_cache *c = s->cache;
    if (M == 0 || N == 0) return;
    const void *A = (const unsigned char *)or_input(g, n, 0)->data + (size_t)(p->row0 * K) * s->esz;
    const int64_t lda = p->row_step * K;
    const bool all = p->col0 == 0 && N == s->gh;
    void *C = (unsigned char *)p->C + (size_t)p->col0 * s->esz; /* the first column computed */
    if (K == 0) {
        for (int64_t i = 0; i < M; i++)
            memset((unsigned char *)C + (size_t)(i * ldc) * s->esz, 0, (size_t)N * s->esz);
        return;
    }
    if (c && c->qw[p->d]) { /* all columns: or_rnn_input_cols_ok */
        or_qmat_gemm(c->qw[p->d], M, A, lda, p->C, ldc, p->work ? p->work : s->qwork, p->pool);
        return;
    }
    or_packed_b *pw = c ? c->w[p->d] : NULL;
    /* Unpacked W (a graph input) is read in place; a packed one may be released. */
    const unsigned char *w = pw ? NULL
                                : (const unsigned char *)or_input(g, n, 1)->data +
                                      (size_t)((p->d * s->gh + p->col0) * K) * s->esz;
    if (s->dtype == OR_FLOAT) {
        if (pw && all)
            or_sgemm_packed(M, N, K, 1, A, lda, pw, 0, C, ldc, p->pool);
        else if (pw) /* col0 on a panel edge: or_rnn_input_cols_ok */
            or_sgemm_packed_cols(M, p->col0, N, K, 1, A, lda, pw, 0, C, ldc, p->pool);
        else
            or_sgemm(false, true, M, N, K, 1, A, lda, (const float *)w, K, 0, C, ldc, p->pool);
    } else {
        if (pw) /* all columns: or_rnn_input_cols_ok */
            or_dgemm_packed(M, N, K, 1, A, lda, pw, 0, C, ldc, p->pool);
        else
            or_dgemm(false, true, M, N, K, 1, A, lda, (const double *)w, K, 0, C, ldc, p->pool);
    }
}

bool or_rnn_input_cols_ok(const or_rnn_state *s, int64_t col0, int64_t ncols) {
    const or_rnn_cache *c = s->cache;
    int64_t end = col0 + ncols;
    if (col0 < 0 || ncols < 0 || end > s->gh) return false;
    if (col0 == 0 && end == s->gh) return true;
    /* Reduced-precision W converts X per product: not by parts of it. */
    if (c && (c->qw[0] || c->qw[1])) return false;
    for (int d = 0; c && d < 2; d++)
        if (c->w[d] && (s->dtype != OR_FLOAT || col0 % or_packed_b_col_align(c->w[d]) != 0))
            return false;
    return true; /* W read in place, any columns */
}

void or_rnn_input_all(or_graph *g, const or_node *n) {
    or_rnn_state *s = n->state;
    w_product p = {.M = s->seq * s->batch,
                   .row_step = 1,
                   .C = s->xw,
                   .ldc = s->gh,
                   .ncols = s->gh,
                   .pool = g->pool};
    gemm_w(g, n, s, &p);
}

void or_rnn_input_rows(or_graph *g, const or_node *n, int64_t row0, int64_t rows) {
    or_rnn_state *s = n->state;
    int64_t at = row0 % (s->chunk * s->batch);
    w_product p = {.M = rows,
                   .row0 = row0,
                   .row_step = 1,
                   .C = s->xw + (size_t)(at * s->gh) * s->esz,
                   .ldc = s->gh,
                   .ncols = s->gh};
    gemm_w(g, n, s, &p);
}

/* Last iteration (exclusive) of [k0, k1) that row b takes part in. */
static inline int64_t row_end(const or_rnn_state *s, int64_t b, int64_t k1) {
    return s->lens[b] < k1 ? s->lens[b] : k1;
}

size_t or_rnn_input_work_size(const or_rnn_state *s, int64_t rows) {
    const or_qmat *qw = s->cache ? s->cache->qw[0] : NULL;
    return qw && qw->kind != OR_Q_F32 ? or_qmat_work_size(qw, rows) : 0;
}

/* One product per batch row b of [b0, b1) over its steps of [k0, k1), its
 * first step into C + (b - b0) * gh, a step's rows `row_stride` rows apart. */
static void per_row_products(or_graph *g, const or_node *n, int d, int64_t k0, int64_t k1,
                             int64_t b0, int64_t b1, unsigned char *C, int64_t row_stride,
                             w_product *p) {
    or_rnn_state *s = n->state;
    for (int64_t b = b0; b < b1; b++) {
        int64_t kb = row_end(s, b, k1);
        if (kb <= k0) continue;
        int64_t t0 = or_rnn_reversed(s, d) ? s->lens[b] - kb : k0;
        p->M = kb - k0, p->row0 = or_rnn_x_row(s, t0, b), p->row_step = s->layout ? 1 : s->batch;
        p->C = C + (size_t)((b - b0) * s->gh) * s->esz, p->ldc = row_stride * s->gh;
        gemm_w(g, n, s, p);
    }
}

/* The batch rows [b0, b0 + nb) of part `part` of a chunk of iterations
 * [k0, k1), into its own buffer, [chunk][nb][gh]: with rows of equal
 * length in layout 0, one product per step over the part's rows (adjacent
 * in X), else one per row over its steps. */
static void own_rows_chunk(or_graph *g, const or_node *n, int d, int64_t k0, int64_t k1,
                           const or_rnn_part *part, w_product *p) {
    or_rnn_state *s = n->state;
    const int64_t b0 = s->batch * part->index / part->parts;
    const int64_t nb = s->batch * (part->index + 1) / part->parts - b0;
    unsigned char *own = part->own_xw;
    if (s->lens_equal && !s->layout) {
        for (int64_t k = k0; k < k1; k++) {
            int64_t t = or_rnn_reversed(s, d) ? s->max_len - 1 - k : k;
            int64_t local = or_rnn_reversed(s, d) ? k1 - 1 - k : k - k0;
            p->M = nb, p->row0 = t * s->batch + b0, p->row_step = 1;
            p->C = own + (size_t)(local * nb * s->gh) * s->esz;
            gemm_w(g, n, s, p);
        }
        return;
    }
    per_row_products(g, n, d, k0, k1, b0, b0 + nb, own, nb, p);
}

/* Row b's chunk starting at k0 holds iterations [k0, kb), kb = row_end;
 * rows of equal length in layout 0 (or the whole sequence in one chunk)
 * make one product over contiguous X rows (split by rows), otherwise one
 * per batch row over X's strided rows (split by batch rows); either only
 * for the part's columns. Each row's steps are stored in time order, so
 * iteration k sits at k - k0 (forward) or kb - 1 - k (reverse). */
void or_rnn_input_chunk(or_graph *g, const or_node *n, int d, int64_t k0, const or_rnn_part *part,
                        or_threadpool *pool) {
    or_rnn_state *s = n->state;
    int64_t k1 = k0 + s->chunk < s->max_len ? k0 + s->chunk : s->max_len;
    w_product p = {.d = d,
                   .ldc = s->gh,
                   .col0 = part->col0,
                   .ncols = part->ncols,
                   .work = part->work,
                   .pool = pool};
    if (part->own_xw) { /* s->xw may be absent (split rows) */
        own_rows_chunk(g, n, d, k0, k1, part, &p);
        return;
    }
    unsigned char *xw =
        s->xw + (size_t)((s->xw_dirs > 1 ? d : 0) * s->chunk * s->batch * s->gh) * s->esz;
    const int parts = part->parts, i = part->index;
    /* One chunk of the whole sequence in layout 0 holds time t of row b at
     * t * batch + b whatever the lengths: one product over all of X. */
    bool whole = k0 == 0 && s->chunk >= s->seq;
    if ((s->lens_equal || whole) && !s->layout) {
        if (whole) k1 = s->seq;
        int64_t rows = (k1 - k0) * s->batch, r0 = rows * i / parts, r1 = rows * (i + 1) / parts;
        int64_t t0 = or_rnn_reversed(s, d) && !whole ? s->max_len - k1 : k0;
        p.M = r1 - r0, p.row0 = t0 * s->batch + r0, p.row_step = 1;
        p.C = xw + (size_t)(r0 * s->gh) * s->esz;
        gemm_w(g, n, s, &p);
        return;
    }
    int64_t b0 = s->batch * i / parts;
    per_row_products(g, n, d, k0, k1, b0, s->batch * (i + 1) / parts,
                     xw + (size_t)(b0 * s->gh) * s->esz, s->batch, &p);
}

/* Copies initial_h / initial_c (or zeros) into a [dirs, batch, hidden] state. */
static void init_state(const or_rnn_state *s, const or_tensor *src, unsigned char *dst) {
    size_t row = (size_t)s->hidden * s->esz;
    for (int d = 0; d < s->dirs; d++)
        for (int64_t b = 0; b < s->batch; b++) {
            unsigned char *to = dst + (size_t)or_rnn_state_off(s, d, b) * s->esz;
            if (src)
                memcpy(to, (const unsigned char *)src->data + (size_t)final_off(s, d, b) * s->esz,
                       row);
            else
                memset(to, 0, row);
        }
}

/* Y_h / Y_c from a state: zeros for empty sequences (as onnxruntime). */
static void write_final(const or_rnn_state *s, const unsigned char *state, or_tensor *out) {
    if (!out) return;
    size_t row = (size_t)s->hidden * s->esz;
    for (int d = 0; d < s->dirs; d++)
        for (int64_t b = 0; b < s->batch; b++) {
            unsigned char *to = (unsigned char *)out->data + (size_t)final_off(s, d, b) * s->esz;
            if (s->lens[b] == 0)
                memset(to, 0, row);
            else
                memcpy(to, state + (size_t)or_rnn_state_off(s, d, b) * s->esz, row);
        }
}

static void zero_y_step(or_rnn_state *s, int d, int64_t k) {
    if (!s->y) return;
    for (int64_t b = 0; b < s->batch; b++)
        memset(s->y + (size_t)or_rnn_y_off(s, k, d, b) * s->esz, 0, (size_t)s->hidden * s->esz);
}

static bool lens_equal(const or_rnn_state *s) {
    for (int64_t b = 0; b < s->batch; b++)
        if (s->lens[b] != s->max_len) return false;
    return true;
}

/* Batch rows whose fold-table rows are asked for ahead of their gate kernel
 * (the first ones before the step's product). */
#define FOLD_AHEAD 2

/* The time loop, direction by direction (they are independent), in chunks
 * of s->chunk iterations: the chunk's X·Wᵀ, then its steps. One direction's
 * R stays in the caches for its whole sequence: measured on Zen 1
 * (bidirectional GRU hidden 512, batch 1, R 3 MiB per direction, one core's
 * share of the L3 about 4 MiB), alternating directions every chunk was 7%
 * slower. */
static void run_chunks(or_graph *g, or_node *n, or_rnn_state *s, or_rnn_step_fn step) {
    const or_rnn_part all = or_rnn_part_all(s);
    for (int d = 0; d < s->dirs; d++)
        for (int64_t k = 0; k < s->max_len; k++) {
            if (k % s->chunk == 0 && !s->fold) or_rnn_input_chunk(g, n, d, k, &all, g->pool);
            if (s->fold) or_rnn_fold_prefetch(s, d, k, 0, FOLD_AHEAD);
            step(g, n, s, d, k);
        }
}

int or_rnn_run_begin(or_graph *g, or_node *n) {
    or_rnn_state *s = n->state;
    carve_scratch(s, n->scratch);
    int status = read_lens(g, n, s);
    s->lens_equal = !status && lens_equal(s);
    s->fold = s->cache && s->cache->fold.indices >= 0 ? &s->cache->fold : NULL;
    if (!status && s->fold) {
        s->fold_idx = g->tensors[s->fold->indices].data;
        status = or_rnn_fold_check(g, n, s->fold);
    }
    if (status) return status;
    or_tensor *y = or_output(g, n, 0);
    s->y = y ? y->data : NULL;
    build_biases(g, n, s);
    build_cells(g, n, s);
    init_state(s, or_input(g, n, 5), s->h);
    if (s->c) init_state(s, or_input(g, n, 6), s->c);
    return ONNXRUN_OK;
}

void or_rnn_run_end(or_graph *g, or_node *n) {
    or_rnn_state *s = n->state;
    for (int d = 0; d < s->dirs; d++)
        for (int64_t k = s->max_len; k < s->seq; k++) zero_y_step(s, d, k);
    write_final(s, s->h, or_output(g, n, 1));
    if (s->c) write_final(s, s->c, or_output(g, n, 2));
}

int or_rnn_run(or_graph *g, or_node *n, or_rnn_step_fn step) {
    or_rnn_state *s = n->state;
    or_node *next = s->pipe_role == 1 ? &g->nodes[s->pipe_partner] : NULL;
    if (next && next->run_by == (int)(n - g->nodes) && !next->dead && !next->folded)
        return or_rnn_pipe_run(g, n, next);
    int status = or_rnn_run_begin(g, n);
    if (status) return status;
    if (s->team) {
        or_rnn_team_run(g, n);
    } else {
        run_chunks(g, n, s, step);
    }
    or_rnn_run_end(g, n);
    return ONNXRUN_OK;
}

typedef struct rows_task {
    or_rnn_state *s;
    int d;
    int64_t k;
    or_rnn_row_fn row;
    bool zero_y;
} rows_task;

static void rows_run(void *ctx, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const rows_task *task = ctx;
    or_rnn_state *s = task->s;
    const int d = task->d;
    const int64_t k = task->k;
    for (int64_t b = begin; b < end; b++) {
        if (s->fold) or_rnn_fold_prefetch(s, d, k, b + FOLD_AHEAD, b + FOLD_AHEAD + 1);
        int64_t t = or_rnn_row_time(s, d, k, b);
        if (t >= 0) {
            const unsigned char *xw = or_rnn_xw_at(s, d, k, b, t);
            void *y = s->y ? s->y + (size_t)or_rnn_y_off(s, t, d, b) * s->esz : NULL;
            task->row(s, d, b, xw, y);
        } else if (task->zero_y && s->y) {
            memset(s->y + (size_t)or_rnn_y_off(s, k, d, b) * s->esz, 0, (size_t)s->hidden * s->esz);
        }
    }
}

/* Rows per task: enough gate work (~8K pre-activations) to pay for a handoff. */
#define ROWS_WORK_GRAIN 8192

void or_rnn_rows(or_graph *g, or_rnn_state *s, int d, int64_t k, or_rnn_row_fn row, bool zero_y) {
    rows_task task = {s, d, k, row, zero_y};
    int64_t grain = ROWS_WORK_GRAIN / (s->gh > 0 ? s->gh : 1);
    if (grain < 1) grain = 1;
    if (!g->pool || s->batch <= grain)
        rows_run(&task, 0, s->batch, 0);
    else
        or_parallel_for(g->pool, s->batch, grain, rows_run, &task);
}

/* The products alternate the direction of their sweep over R's columns
 * step by step (odd iterations sweep back, as in the team engine; gemm.h's
 * or_sgemm_packed_sweep), so that a step starts on the panels the previous
 * one read last, which the L2 still holds. Measured
 * on Zen 5 with an R larger than L2 (median of 5 alternating rounds), one
 * thread: 2-layer LSTM hidden 512 (R 4 MiB) -4%, bidirectional GRU hidden
 * 512 (3 MiB) -6%, 2-layer RNN hidden 1024 (4 MiB, 1 MiB per 256-column
 * tile) the same; two threads (half of R per core): -5%, -9%, the char-level
 * GRU generator -6%. So does an R of over half the L2 up to it (alternate_sweep:
 * 2-layer GRU hidden 256, R 768 KiB, 0.87x the time); a smaller one keeps
 * the forward sweep (within 2% either way, LSTM hidden 128; the team
 * engine's 384 KiB slices of that GRU 3% slower alternating). */
void or_rnn_gemm_r(or_graph *g, or_node *n, or_rnn_state *s, int d, int64_t k, int block,
                   int64_t r0, int64_t nrows, const void *A, void *C) {
    const int64_t M = s->batch, K = s->hidden;
    const or_packed_b *pr = s->cache ? or_packed_b_copy(s->cache->r[d][block], k) : NULL;
    if (M == 0) return;
    const bool back = s->cache && s->cache->alternate_sweep && k % 2 != 0;
    if (s->cache && s->cache->qr[d][block]) {
        or_qmat_gemm_sweep(s->cache->qr[d][block], M, A, K, C, s->gh, s->qwork, g->pool, back);
        return;
    }
    /* Unpacked R (a graph input) is read in place; a packed one may be released. */
    const unsigned char *r = pr ? NULL
                                : (const unsigned char *)or_input(g, n, 2)->data +
                                      (size_t)((d * s->gh + r0) * K) * s->esz;
    if (s->dtype == OR_FLOAT) {
        if (pr)
            or_sgemm_packed_sweep(M, nrows, K, 1, A, K, pr, 0, C, s->gh, g->pool, back);
        else
            or_sgemm(false, true, M, nrows, K, 1, A, K, (const float *)r, K, 0, C, s->gh, g->pool);
    } else {
        if (pr)
            or_dgemm_packed_sweep(M, nrows, K, 1, A, K, pr, 0, C, s->gh, g->pool, back);
        else
            or_dgemm(false, true, M, nrows, K, 1, A, K, (const double *)r, K, 0, C, s->gh, g->pool);
    }
}
