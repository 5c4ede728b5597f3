/* LSTM (opsets 1, 7, 14, 22; layout from 14), float and double, gate order
 * i o f c, activations f g h (default Sigmoid Tanh Tanh):
 *   i = f(X·Wiᵀ + H·Riᵀ + P_i ⊙ C + Wbi + Rbi)     (f gate alike with P_f)
 *   c~ = g(X·Wcᵀ + H·Rcᵀ + Wbc + Rbc)
 *   C' = f ⊙ C + i ⊙ c~          (input_forget: f = 1 - i)
 *   o = f(X·Woᵀ + H·Roᵀ + P_o ⊙ C' + Wbo + Rbo)    H' = o ⊙ h(C')
 * Extra inputs: initial_c [dirs, batch, hidden] (layout 1: [batch, dirs,
 * hidden]) and peepholes P [dirs, 3 * hidden] ordered i o f; extra output
 * Y_c shaped like Y_h. */
#include "recurrent.h"

static const or_rnn_spec lstm_spec = {
    .kind = OR_RNN_LSTM,
    .gates = 4,
    .n_acts = 3,
    .default_acts = {"Sigmoid", "Tanh", "Tanh"},
    .max_inputs = 8,
    .max_outputs = 3,
};

static void lstm_row(or_rnn_state *s, int d, int64_t b, const void *xw, void *y) {
    int64_t rg = b * s->gh, st = or_rnn_state_off(s, d, b);
    if (s->dtype == OR_FLOAT)
        s->k.f32.lstm(&s->cell32[d], (const float *)s->rg + rg, xw, (float *)s->c + st,
                      (float *)s->h + st, y);
    else
        s->k.f64.lstm(&s->cell64[d], (const double *)s->rg + rg, xw, (double *)s->c + st,
                      (double *)s->h + st, y);
}

static void lstm_step(or_graph *g, or_node *n, or_rnn_state *s, int d, int64_t k) {
    const void *h = s->h + (size_t)or_rnn_state_off(s, d, 0) * s->esz;
    or_rnn_gemm_r(g, n, s, d, k, 0, 0, s->gh, h, s->rg);
    or_rnn_rows(g, s, d, k, lstm_row, true);
}

static int lstm_run(or_graph *g, or_node *n) {
    return or_rnn_run(g, n, lstm_step);
}

static int check_lstm_inputs(or_graph *g, or_node *n, const or_rnn_state *s) {
    const or_tensor *c0 = or_input(g, n, 6), *p = or_input(g, n, 7);
    const char *what[2] = {"initial_c", "P"};
    const or_tensor *t[2] = {c0, p};
    for (int i = 0; i < 2; i++)
        if (t[i] && t[i]->dtype != s->dtype)
            return or_node_fail(g, n,
                                t[i]->kind == OR_T_INPUT ? ONNXRUN_ERR_INPUT : ONNXRUN_ERR_MODEL,
                                "input %s '%s' is %s; expected %s", what[i], t[i]->name,
                                or_dtype_name(t[i]->dtype), or_dtype_name(s->dtype));
    int64_t cd[3] = {s->layout ? s->batch : s->dirs, s->layout ? s->dirs : s->batch, s->hidden};
    int64_t pd[2] = {s->dirs, 3 * s->hidden};
    bool c_ok = !c0 || (c0->rank == 3 && c0->dims[0] == cd[0] && c0->dims[1] == cd[1] &&
                        c0->dims[2] == cd[2]);
    if (!c_ok) return or_rnn_shape_fail(g, n, c0, "initial_c", 3, cd);
    if (p && !(p->rank == 2 && p->dims[0] == pd[0] && p->dims[1] == pd[1]))
        return or_rnn_shape_fail(g, n, p, "P", 2, pd);
    return ONNXRUN_OK;
}

int lstm_prepare(or_graph *g, or_node *n) {
    or_rnn_state *s;
    int status = or_rnn_setup(g, n, &lstm_spec, &s);
    if (status) return status;
    status = check_lstm_inputs(g, n, s);
    if (status) {
        or_rnn_free(s);
        return status;
    }
    return or_rnn_finish(g, n, s, lstm_run);
}
