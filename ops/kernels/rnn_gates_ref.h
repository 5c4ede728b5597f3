/* Scalar reference of the recurrent gate kernels (see rnn_kernels.h), written
 * once over an element type. Every activation goes through libm (type-generic
 * via <tgmath.h>), so this is the accuracy baseline the SIMD variants are
 * tested against.
 *
 * The including file defines T (float or double) and CELL (the matching
 * or_rnn_cell_* type), includes this file, and exports the wrappers it needs;
 * everything here is static inline so unused kernels cost nothing.
 */
#include "rnn_kernels.h"

#include <tgmath.h>

/* Activation formulas follow onnxruntime's CPU kernels (ThresholdedRelu is
 * strict, Softplus/Elu use the overflow-safe forms of the same functions). */
static inline T ref_act(const or_rnn_act *a, T x) {
    T alpha = (T)a->alpha, beta = (T)a->beta;
    switch (a->kind) {
    case OR_ACT_RELU:
        return x < 0 ? 0 : x;
    case OR_ACT_TANH:
        return tanh(x);
    case OR_ACT_SIGMOID:
        if (x >= 0) return 1 / (1 + exp(-x));
        return exp(x) / (1 + exp(x));
    case OR_ACT_AFFINE:
        return alpha * x + beta;
    case OR_ACT_LEAKYRELU:
        return x >= 0 ? x : alpha * x;
    case OR_ACT_THRESHOLDEDRELU:
        return x > alpha ? x : 0;
    case OR_ACT_SCALEDTANH:
        return alpha * tanh(beta * x);
    case OR_ACT_HARDSIGMOID: {
        T v = alpha * x + beta;
        return v < 0 ? 0 : (v > 1 ? 1 : v);
    }
    case OR_ACT_ELU:
        return x >= 0 ? x : alpha * expm1(x);
    case OR_ACT_SOFTSIGN:
        return x / (1 + fabs(x));
    case OR_ACT_SOFTPLUS:
        return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    default:
        return x;
    }
}

/* NaN passes through unchanged. */
static inline T ref_clip(T x, T c) {
    return x > c ? c : (x < -c ? -c : x);
}

static inline void ref_rnn(const CELL *cl, const T *rg, const T *xw, T *h, T *y) {
    for (int64_t j = 0; j < cl->hidden; j++) {
        T v = ref_act(&cl->f, ref_clip(rg[j] + xw[j] + cl->bias[j], cl->clip));
        h[j] = v;
        if (y) y[j] = v;
    }
}

static inline void ref_lstm(const CELL *cl, const T *rg, const T *xw, T *c, T *h, T *y) {
    const int64_t H = cl->hidden, X = cl->xw_gate;
    const T *b = cl->bias, *p = cl->peep;
    for (int64_t j = 0; j < H; j++) {
        T cp = c[j];
        T pi = rg[j] + xw[j] + b[j];
        T po = rg[H + j] + xw[X + j] + b[H + j];
        T pf = rg[2 * H + j] + xw[2 * X + j] + b[2 * H + j];
        T pc = rg[3 * H + j] + xw[3 * X + j] + b[3 * H + j];
        if (p) {
            pi += p[j] * cp;
            pf += p[2 * H + j] * cp;
        }
        T i = ref_act(&cl->f, ref_clip(pi, cl->clip));
        T f = cl->input_forget ? 1 - i : ref_act(&cl->f, ref_clip(pf, cl->clip));
        T g = ref_act(&cl->g, ref_clip(pc, cl->clip));
        T cn = f * cp + i * g;
        if (p) po += p[H + j] * cn; /* the output gate peeks at the new cell */
        T o = ref_act(&cl->f, ref_clip(po, cl->clip));
        T hn = o * ref_act(&cl->h, cn);
        c[j] = cn;
        h[j] = hn;
        if (y) y[j] = hn;
    }
}

static inline void ref_gru_reset(const CELL *cl, const T *rg, const T *xw, const T *h_prev, T *rh) {
    const int64_t H = cl->hidden, X = cl->xw_gate;
    for (int64_t j = 0; j < H; j++) {
        T r = ref_act(&cl->f, ref_clip(rg[H + j] + xw[X + j] + cl->bias[H + j], cl->clip));
        rh[j] = r * h_prev[j];
    }
}

static inline void ref_gru(const CELL *cl, const T *rg, const T *rgh, const T *xw, T *h, T *y) {
    const int64_t H = cl->hidden, X = cl->xw_gate;
    const T *b = cl->bias;
    for (int64_t j = 0; j < H; j++) {
        T z = ref_act(&cl->f, ref_clip(rg[j] + xw[j] + b[j], cl->clip));
        T ph;
        if (cl->linear_before_reset) {
            T r = ref_act(&cl->f, ref_clip(rg[H + j] + xw[X + j] + b[H + j], cl->clip));
            ph = xw[2 * X + j] + b[2 * H + j] + r * (rgh[j] + cl->rbh[j]);
        } else {
            ph = xw[2 * X + j] + rgh[j] + b[2 * H + j];
        }
        T ht = ref_act(&cl->g, ref_clip(ph, cl->clip));
        T hn = (1 - z) * ht + z * h[j];
        h[j] = hn;
        if (y) y[j] = hn;
    }
}

static inline void ref_act_array(const or_rnn_act *a, const T *x, T *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = ref_act(a, x[i]);
}
