/* SIMD recurrent gate kernels (see rnn_kernels.h), written once over a small
 * vector vocabulary. Each <dtype>_<kernel>__<isa>.c includes its
 * <dtype>_rnn_vec__<isa>.h (the vocabulary), then this file, then exports the
 * wrappers. Only Relu, Tanh and Sigmoid are implemented; the driver routes
 * any other activation to the scalar reference.
 *
 * The vocabulary defines: T, V, VL, CELL; vzero, vset1, vload, vstore,
 * vloadn/vstoren (first n lanes, 0 < n < VL, zero-filled), vadd, vsub, vmul,
 * vdiv, vfma(a, b, c) = a * b + c, vmin/vmax (return the SECOND operand when
 * either is NaN, so vmax(lo, x) keeps a NaN x), vabs, vcopysign(mag, sgn),
 * vsel_ge0(x, a, b) = x >= 0 ? a : b, vround (to nearest), vpow2n(n) = 2^n for
 * integral n with 2^n normal; EXP_LO/EXP_HI (the clamp keeping 2^n normal),
 * LN2_HI/LN2_LO (Cody-Waite split of ln 2) and EXP_NC (Taylor terms used).
 *
 * Accuracy against libm in long double (identical for AVX2 and AVX-512):
 *   f32 tanh     max relative error 1.78e-7 (3.0 ulp), every float in [-87, 87]
 *   f32 sigmoid  max relative error 2.01e-7 (3.4 ulp), every float in [-87, 87]
 *   f64 tanh     max relative error 3.67e-16 (3.3 ulp), 2e7 samples in [-700, 700]
 *   f64 sigmoid  max relative error 3.63e-16 (3.3 ulp), same samples
 * Stated bounds: 2.5e-7 (f32) and 5e-16 (f64); tests/unit/test_recurrent.c
 * asserts them on a dense sweep. Below the clamp (sigmoid(x) for x < -87 in
 * f32, x < -708 in f64) the result stays at e^-87 (1.6e-38) / e^-708
 * (3.3e-308): an absolute error under that, relative error unbounded.
 * Relu is exact.
 */
#include "rnn_kernels.h"

#define AI static inline __attribute__((always_inline))

/* 1/k! for k = 2..13: the Taylor coefficients of (e^r - 1 - r) / r^2. */
static const T rnn_exp_coef[12] = {
    (T)(1.0 / 2),       (T)(1.0 / 6),        (T)(1.0 / 24),        (T)(1.0 / 120),
    (T)(1.0 / 720),     (T)(1.0 / 5040),     (T)(1.0 / 40320),     (T)(1.0 / 362880),
    (T)(1.0 / 3628800), (T)(1.0 / 39916800), (T)(1.0 / 479001600), (T)(1.0 / 6227020800),
};

/* x = n ln2 + r with |r| <= ln2/2 (after clamping x to [EXP_LO, EXP_HI]);
 * returns 2^n in *scale and e^r - 1 in *em1, so that
 * e^x = scale + scale * em1 and e^x - 1 = scale * em1 + (scale - 1), both
 * without cancellation. The truncated series is below 0.2 ulp on |r| <= ln2/2
 * (EXP_NC = 6 for float, 12 for double). */
AI void v_exp_parts(V x, V *scale, V *em1) {
    x = vmin(vset1((T)EXP_HI), vmax(vset1((T)EXP_LO), x));
    V n = vround(vmul(x, vset1((T)1.44269504088896340736)));
    V r = vfma(n, vset1(-(T)LN2_HI), x);
    r = vfma(n, vset1(-(T)LN2_LO), r);
    V p = vset1(rnn_exp_coef[EXP_NC - 1]);
#pragma GCC unroll 12
    for (int k = EXP_NC - 2; k >= 0; k--) p = vfma(p, r, vset1(rnn_exp_coef[k]));
    *em1 = vfma(vmul(r, r), p, r);
    *scale = vpow2n(n);
}

/* 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, both from e = e^-|x|. */
AI V v_sigmoid(V x) {
    V s, p;
    v_exp_parts(vsub(vzero(), vabs(x)), &s, &p);
    V e = vfma(s, p, s);
    V q = vdiv(vset1((T)1), vadd(vset1((T)1), e));
    return vsel_ge0(x, q, vmul(e, q));
}

/* tanh|x| = -t / (t + 2) with t = e^{-2|x|} - 1 in (-1, 0]: no cancellation
 * near 0, and exactly 1 once t rounds to -1. */
AI V v_tanh(V x) {
    V s, p;
    v_exp_parts(vmul(vset1((T)-2), vabs(x)), &s, &p);
    V t = vfma(s, p, vsub(s, vset1((T)1)));
    V th = vdiv(vsub(vzero(), t), vadd(t, vset1((T)2)));
    return vcopysign(th, x);
}

AI V v_act(int kind, V x) {
    switch (kind) {
    case OR_ACT_RELU:
        return vmax(vzero(), x);
    case OR_ACT_SIGMOID:
        return v_sigmoid(x);
    default:
        return v_tanh(x);
    }
}

AI V v_clip(V x, V lo, V hi) {
    return vmin(hi, vmax(lo, x));
}

/* n == VL at the full-vector call sites (a constant after inlining). */
AI V ld(const T *p, int n) {
    return n == VL ? vload(p) : vloadn(p, n);
}
AI void st(T *p, V v, int n) {
    if (n == VL)
        vstore(p, v);
    else
        vstoren(p, v, n);
}

/* Runs chunk(j, lanes) over [0, H) in full vectors, then one masked tail. */
#define FOR_CHUNKS(H, chunk)                                                                       \
    do {                                                                                           \
        int64_t j_ = 0;                                                                            \
        for (; j_ + VL <= (H); j_ += VL) chunk(j_, VL);                                            \
        if (j_ < (H)) chunk(j_, (int)((H)-j_));                                                    \
    } while (0)

AI void rnn_chunk(const CELL *cl, const T *rg, const T *xw, T *h, T *y, int64_t j, int n) {
    V hi = vset1(cl->clip), lo = vset1(-cl->clip);
    V pre = vadd(vadd(ld(rg + j, n), ld(xw + j, n)), ld(cl->bias + j, n));
    V v = v_act(cl->f.kind, v_clip(pre, lo, hi));
    st(h + j, v, n);
    if (y) st(y + j, v, n);
}

static inline void simd_rnn(const CELL *cl, const T *rg, const T *xw, T *h, T *y) {
#define CHUNK(j, n) rnn_chunk(cl, rg, xw, h, y, j, n)
    FOR_CHUNKS(cl->hidden, CHUNK);
#undef CHUNK
}

/* Pre-activation of LSTM gate q (0 i, 1 o, 2 f, 3 c) at column j. */
AI V lstm_pre(const CELL *cl, const T *rg, const T *xw, int q, int64_t j, int n) {
    int64_t o = (int64_t)q * cl->hidden + j;
    return vadd(vadd(ld(rg + o, n), ld(xw + o, n)), ld(cl->bias + o, n));
}

AI void lstm_chunk(const CELL *cl, const T *rg, const T *xw, T *c, T *h, T *y, int64_t j, int n) {
    const int64_t H = cl->hidden;
    const T *p = cl->peep;
    V hi = vset1(cl->clip), lo = vset1(-cl->clip);
    V cp = ld(c + j, n);
    V pi = lstm_pre(cl, rg, xw, 0, j, n), pf = lstm_pre(cl, rg, xw, 2, j, n);
    if (p) {
        pi = vfma(ld(p + j, n), cp, pi);
        pf = vfma(ld(p + 2 * H + j, n), cp, pf);
    }
    V i = v_act(cl->f.kind, v_clip(pi, lo, hi));
    V f = cl->input_forget ? vsub(vset1((T)1), i) : v_act(cl->f.kind, v_clip(pf, lo, hi));
    V g = v_act(cl->g.kind, v_clip(lstm_pre(cl, rg, xw, 3, j, n), lo, hi));
    V cn = vfma(f, cp, vmul(i, g));
    V po = lstm_pre(cl, rg, xw, 1, j, n);
    if (p) po = vfma(ld(p + H + j, n), cn, po);
    V o = v_act(cl->f.kind, v_clip(po, lo, hi));
    V hn = vmul(o, v_act(cl->h.kind, cn));
    st(c + j, cn, n);
    st(h + j, hn, n);
    if (y) st(y + j, hn, n);
}

static inline void simd_lstm(const CELL *cl, const T *rg, const T *xw, T *c, T *h, T *y) {
#define CHUNK(j, n) lstm_chunk(cl, rg, xw, c, h, y, j, n)
    FOR_CHUNKS(cl->hidden, CHUNK);
#undef CHUNK
}

AI void gru_reset_chunk(const CELL *cl, const T *rg, const T *xw, const T *hp, T *rh, int64_t j,
                        int n) {
    const int64_t o = cl->hidden + j;
    V hi = vset1(cl->clip), lo = vset1(-cl->clip);
    V pre = vadd(vadd(ld(rg + o, n), ld(xw + o, n)), ld(cl->bias + o, n));
    V r = v_act(cl->f.kind, v_clip(pre, lo, hi));
    st(rh + j, vmul(r, ld(hp + j, n)), n);
}

static inline void simd_gru_reset(const CELL *cl, const T *rg, const T *xw, const T *hp, T *rh) {
#define CHUNK(j, n) gru_reset_chunk(cl, rg, xw, hp, rh, j, n)
    FOR_CHUNKS(cl->hidden, CHUNK);
#undef CHUNK
}

AI void gru_chunk(const CELL *cl, const T *rg, const T *rgh, const T *xw, T *h, T *y, int64_t j,
                  int n) {
    const int64_t H = cl->hidden;
    const T *b = cl->bias;
    V hi = vset1(cl->clip), lo = vset1(-cl->clip);
    V pz = vadd(vadd(ld(rg + j, n), ld(xw + j, n)), ld(b + j, n));
    V z = v_act(cl->f.kind, v_clip(pz, lo, hi));
    V ph = vadd(ld(xw + 2 * H + j, n), ld(b + 2 * H + j, n));
    if (cl->linear_before_reset) {
        V pr = vadd(vadd(ld(rg + H + j, n), ld(xw + H + j, n)), ld(b + H + j, n));
        V r = v_act(cl->f.kind, v_clip(pr, lo, hi));
        ph = vfma(r, vadd(ld(rgh + j, n), ld(cl->rbh + j, n)), ph);
    } else {
        ph = vadd(ph, ld(rgh + j, n));
    }
    V ht = v_act(cl->g.kind, v_clip(ph, lo, hi));
    V hp = ld(h + j, n);
    V hn = vfma(z, vsub(hp, ht), ht); /* (1 - z) ht + z hp */
    st(h + j, hn, n);
    if (y) st(y + j, hn, n);
}

static inline void simd_gru(const CELL *cl, const T *rg, const T *rgh, const T *xw, T *h, T *y) {
#define CHUNK(j, n) gru_chunk(cl, rg, rgh, xw, h, y, j, n)
    FOR_CHUNKS(cl->hidden, CHUNK);
#undef CHUNK
}

AI void act_chunk(int kind, const T *x, T *y, int64_t j, int n) {
    st(y + j, v_act(kind, ld(x + j, n)), n);
}

static inline void simd_act_array(int kind, const T *x, T *y, int64_t n) {
#define CHUNK(j, m) act_chunk(kind, x, y, j, m)
    FOR_CHUNKS(n, CHUNK);
#undef CHUNK
}
