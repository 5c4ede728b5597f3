/* GRU (opsets 1, 3, 7, 14, 22; linear_before_reset from 3, layout from 14),
 * float and double, gate order z r h:
 *   z = f(X·Wzᵀ + H·Rzᵀ + Wbz + Rbz)      r = f(X·Wrᵀ + H·Rrᵀ + Wbr + Rbr)
 *   h = g(X·Whᵀ + (r ⊙ H)·Rhᵀ + Rbh + Wbh)       linear_before_reset = 0
 *   h = g(X·Whᵀ + r ⊙ (H·Rhᵀ + Rbh) + Wbh)       linear_before_reset != 0
 *   H' = (1 - z) ⊙ h + z ⊙ H
 * With linear_before_reset one GEMM per step covers all three gates; without
 * it, r must be known before the h product, so a step is GEMM (z r rows),
 * reset kernel, GEMM (h rows of R on r ⊙ H), update kernel. */
#include "recurrent.h"

static const or_rnn_spec gru_spec = {
    .kind = OR_RNN_GRU,
    .gates = 3,
    .n_acts = 2,
    .default_acts = {"Sigmoid", "Tanh"},
    .max_inputs = 6,
    .max_outputs = 2,
};

static void gru_reset_row(or_rnn_state *s, int d, int64_t b, const void *xw, void *y) {
    (void)y;
    int64_t rg = b * s->gh, st = or_rnn_state_off(s, d, b), rh = b * s->hidden;
    if (s->dtype == OR_FLOAT)
        s->k.f32.gru_reset(&s->cell32[d], (const float *)s->rg + rg, xw, (const float *)s->h + st,
                           (float *)s->rh + rh);
    else
        s->k.f64.gru_reset(&s->cell64[d], (const double *)s->rg + rg, xw, (const double *)s->h + st,
                           (double *)s->rh + rh);
}

static void gru_row(or_rnn_state *s, int d, int64_t b, const void *xw, void *y) {
    int64_t rg = b * s->gh, st = or_rnn_state_off(s, d, b), H = s->hidden;
    if (s->dtype == OR_FLOAT) {
        const float *r = (const float *)s->rg + rg;
        s->k.f32.gru(&s->cell32[d], r, r + 2 * H, xw, (float *)s->h + st, y);
    } else {
        const double *r = (const double *)s->rg + rg;
        s->k.f64.gru(&s->cell64[d], r, r + 2 * H, xw, (double *)s->h + st, y);
    }
}

static void gru_step(or_graph *g, or_node *n, or_rnn_state *s, int d, int64_t k) {
    const int64_t H = s->hidden;
    const void *h = s->h + (size_t)or_rnn_state_off(s, d, 0) * s->esz;
    if (s->linear_before_reset) {
        or_rnn_gemm_r(g, n, s, d, k, 0, 0, s->gh, h, s->rg);
    } else {
        or_rnn_gemm_r(g, n, s, d, k, 0, 0, 2 * H, h, s->rg);
        or_rnn_rows(g, s, d, k, gru_reset_row, false);
        or_rnn_gemm_r(g, n, s, d, k, 1, 2 * H, H, s->rh, s->rg + (size_t)(2 * H) * s->esz);
    }
    or_rnn_rows(g, s, d, k, gru_row, true);
}

static int gru_run(or_graph *g, or_node *n) {
    return or_rnn_run(g, n, gru_step);
}

int gru_prepare(or_graph *g, or_node *n) {
    or_rnn_state *s;
    int status = or_rnn_setup(g, n, &gru_spec, &s);
    if (status) return status;
    return or_rnn_finish(g, n, s, gru_run);
}
