/* RNN (opsets 1, 7, 14, 22; layout from 14), float and double:
 *   H_t = f(X_t·Wᵀ + H_{t-1}·Rᵀ + Wb + Rb), f = Tanh by default.
 * Everything but the step lives in recurrent.c. As in onnxruntime, a
 * negative clip means no clip, and an activations list of 2 with one
 * direction (the schema default [Tanh, Tanh]) uses its first entry. */
#include "recurrent.h"

static const or_rnn_spec rnn_spec = {
    .kind = OR_RNN_SIMPLE,
    .gates = 1,
    .n_acts = 1,
    .default_acts = {"Tanh"},
    .max_inputs = 6,
    .max_outputs = 2,
};

static void rnn_row(or_rnn_state *s, int d, int64_t b, const void *xw, void *y) {
    int64_t rg = b * s->gh, st = or_rnn_state_off(s, d, b);
    if (s->dtype == OR_FLOAT)
        s->k.f32.rnn(&s->cell32[d], (const float *)s->rg + rg, xw, (float *)s->h + st, y);
    else
        s->k.f64.rnn(&s->cell64[d], (const double *)s->rg + rg, xw, (double *)s->h + st, y);
}

static void rnn_step(or_graph *g, or_node *n, or_rnn_state *s, int d, int64_t k) {
    const void *h = s->h + (size_t)or_rnn_state_off(s, d, 0) * s->esz;
    or_rnn_gemm_r(g, n, s, d, k, 0, 0, s->gh, h, s->rg);
    or_rnn_rows(g, s, d, k, rnn_row, true);
}

static int rnn_run(or_graph *g, or_node *n) {
    return or_rnn_run(g, n, rnn_step);
}

int rnn_prepare(or_graph *g, or_node *n) {
    or_rnn_state *s;
    int status = or_rnn_setup(g, n, &rnn_spec, &s);
    if (status) return status;
    return or_rnn_finish(g, n, s, rnn_run);
}
