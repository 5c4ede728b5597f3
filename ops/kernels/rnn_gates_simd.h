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
 * integral n with 2^n normal; EXP_LO (the clamp keeping 2^n normal),
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

/* For x <= 0 (or NaN, which passes through): x = n ln2 + r with |r| <= ln2/2
 * (after raising x to EXP_LO); returns 2^n in *scale and e^r - 1 in *em1, so
 * that e^x = scale + scale * em1 and e^x - 1 = scale * em1 + (scale - 1), both
 * without cancellation. The truncated series is below 0.2 ulp on |r| <= ln2/2
 * (EXP_NC = 6 for float, 12 for double). Sigmoid and Tanh only ever need e^-|x|
 * and e^-2|x|: taking no upper clamp, -|x| as one copysign and tanh's quotient
 * without a negation cut the LSTM gate kernel from 1.81 to 1.62 us per step
 * (AVX-512 on Zen 5, hidden 128, 16 rows; the outputs are bit-identical). */
/* The functions below take N (up to 8, a constant after inlining) vectors
 * and interleave their N independent dependency chains statement by
 * statement: one chain of exp is ~70 cycles of latency, which the core
 * overlaps only within its reorder window. Measured on Zen 1, LSTM gate
 * kernel, hidden 128: 1.46 us per step one vector at a time, 1.16 two,
 * 1.05 four (i and f together: eight chains, despite the spills). */
#define EACH(u) _Pragma("GCC unroll 8") for (int u = 0; u < N; u++)

AI void v_exp_parts(const V *x_in, V *scale, V *em1, const int N) {
    V x[8], n[8], r[8], p[8];
    EACH(u) x[u] = vmax(vset1((T)EXP_LO), x_in[u]);
    EACH(u) n[u] = vround(vmul(x[u], vset1((T)1.44269504088896340736)));
    EACH(u) r[u] = vfma(n[u], vset1(-(T)LN2_HI), x[u]);
    EACH(u) r[u] = vfma(n[u], vset1(-(T)LN2_LO), r[u]);
    EACH(u) p[u] = vset1(rnn_exp_coef[EXP_NC - 1]);
#pragma GCC unroll 12
    for (int k = EXP_NC - 2; k >= 0; k--) EACH(u) p[u] = vfma(p[u], r[u], vset1(rnn_exp_coef[k]));
    EACH(u) em1[u] = vfma(vmul(r[u], r[u]), p[u], r[u]);
    EACH(u) scale[u] = vpow2n(n[u]);
}

/* 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, both from e = e^-|x|. */
AI void v_sigmoid(V *x, const int N) {
    V a[8], s[8], p[8];
    EACH(u) a[u] = vcopysign(x[u], vset1((T)-0.0));
    v_exp_parts(a, s, p, N);
    EACH(u) {
        V e = vfma(s[u], p[u], s[u]);
        V q = vdiv(vset1((T)1), vadd(vset1((T)1), e));
        x[u] = vsel_ge0(x[u], q, vmul(e, q));
    }
}

/* tanh|x| = -t / (t + 2) with t = e^{-2|x|} - 1 in (-1, 0]: no cancellation
 * near 0, and exactly 1 once t rounds to -1. */
AI void v_tanh(V *x, const int N) {
    V a[8], s[8], p[8];
    EACH(u) a[u] = vmul(vset1((T)-2), vabs(x[u]));
    v_exp_parts(a, s, p, N);
    EACH(u) {
        V t = vfma(s[u], p[u], vsub(s[u], vset1((T)1)));
        V th = vdiv(t, vsub(vset1((T)-2), t));
        x[u] = vcopysign(th, x[u]);
    }
}

/* x[0..N) = act(x[0..N)) in place. */
AI void v_act_n(int kind, V *x, const int N) {
    switch (kind) {
    case OR_ACT_RELU:
        EACH(u) x[u] = vmax(vzero(), x[u]);
        break;
    case OR_ACT_SIGMOID:
        v_sigmoid(x, N);
        break;
    default:
        v_tanh(x, N);
        break;
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

/* The gate functions below take columns [j, j + N * VL) (N = 1 or 4), the
 * last vector's first n lanes. FOR_VECTORS(H, fn, args...) runs
 * fn(args..., j, n, N) over [0, H): four full vectors at a time, then one,
 * then one masked tail. */
#define FOR_VECTORS(H, fn, ...)                                                                    \
    do {                                                                                           \
        int64_t j_ = 0;                                                                            \
        for (; j_ + 4 * VL <= (H); j_ += 4 * VL) fn(__VA_ARGS__, j_, VL, 4);                       \
        for (; j_ + VL <= (H); j_ += VL) fn(__VA_ARGS__, j_, VL, 1);                               \
        if (j_ < (H)) fn(__VA_ARGS__, j_, (int)((H)-j_), 1);                                       \
    } while (0)

/* Pre-activation of gate row block q at column j: H·Rᵀ + X·Wᵀ + bias
 * (LSTM q: 0 i, 1 o, 2 f, 3 c; GRU: 0 z, 1 r; RNN: 0). */
AI V gate_pre(const CELL *cl, const T *rg, const T *xw, int q, int64_t j, int n) {
    int64_t o = (int64_t)q * cl->hidden + j;
    return vadd(vadd(ld(rg + o, n), ld(xw + (int64_t)q * cl->xw_gate + j, n)), ld(cl->bias + o, n));
}

AI void rnn_chunks(const CELL *cl, const T *rg, const T *xw, T *h, T *y, int64_t j, int n,
                   const int N) {
    V hi = vset1(cl->clip), lo = vset1(-cl->clip), v[4];
    EACH(u) v[u] = v_clip(gate_pre(cl, rg, xw, 0, j + u * VL, n), lo, hi);
    v_act_n(cl->f.kind, v, N);
    EACH(u) {
        st(h + j + u * VL, v[u], n);
        if (y) st(y + j + u * VL, v[u], n);
    }
}

static inline void simd_rnn(const CELL *cl, const T *rg, const T *xw, T *h, T *y) {
    FOR_VECTORS(cl->hidden, rnn_chunks, cl, rg, xw, h, y);
}

AI void lstm_chunks(const CELL *cl, const T *rg, const T *xw, T *c, T *h, T *y, int64_t j, int n,
                    const int N) {
    const int64_t H = cl->hidden;
    const T *p = cl->peep;
    V hi = vset1(cl->clip), lo = vset1(-cl->clip);
    V cp[4], i_f[8], g[4], o[4], cn[4]; /* i_f: i then f */
    V *i = i_f, *f = i_f + N;
    EACH(u) {
        int64_t ju = j + u * VL;
        cp[u] = ld(c + ju, n);
        i[u] = gate_pre(cl, rg, xw, 0, ju, n);
        f[u] = gate_pre(cl, rg, xw, 2, ju, n);
        g[u] = v_clip(gate_pre(cl, rg, xw, 3, ju, n), lo, hi);
        if (p) {
            i[u] = vfma(ld(p + ju, n), cp[u], i[u]);
            f[u] = vfma(ld(p + 2 * H + ju, n), cp[u], f[u]);
        }
        i[u] = v_clip(i[u], lo, hi);
        f[u] = v_clip(f[u], lo, hi);
    }
    if (cl->input_forget) {
        v_act_n(cl->f.kind, i, N);
        EACH(u) f[u] = vsub(vset1((T)1), i[u]);
    } else {
        v_act_n(cl->f.kind, i_f, 2 * N);
    }
    v_act_n(cl->g.kind, g, N);
    EACH(u) {
        int64_t ju = j + u * VL;
        cn[u] = vfma(f[u], cp[u], vmul(i[u], g[u]));
        o[u] = gate_pre(cl, rg, xw, 1, ju, n);
        if (p) o[u] = vfma(ld(p + H + ju, n), cn[u], o[u]);
        o[u] = v_clip(o[u], lo, hi);
        st(c + ju, cn[u], n);
    }
    v_act_n(cl->f.kind, o, N);
    v_act_n(cl->h.kind, cn, N);
    EACH(u) {
        int64_t ju = j + u * VL;
        V hn = vmul(o[u], cn[u]);
        st(h + ju, hn, n);
        if (y) st(y + ju, hn, n);
    }
}

static inline void simd_lstm(const CELL *cl, const T *rg, const T *xw, T *c, T *h, T *y) {
    FOR_VECTORS(cl->hidden, lstm_chunks, cl, rg, xw, c, h, y);
}

AI void gru_reset_chunks(const CELL *cl, const T *rg, const T *xw, const T *hp, T *rh, int64_t j,
                         int n, const int N) {
    V hi = vset1(cl->clip), lo = vset1(-cl->clip), r[4];
    EACH(u) r[u] = v_clip(gate_pre(cl, rg, xw, 1, j + u * VL, n), lo, hi);
    v_act_n(cl->f.kind, r, N);
    EACH(u) st(rh + j + u * VL, vmul(r[u], ld(hp + j + u * VL, n)), n);
}

static inline void simd_gru_reset(const CELL *cl, const T *rg, const T *xw, const T *hp, T *rh) {
    FOR_VECTORS(cl->hidden, gru_reset_chunks, cl, rg, xw, hp, rh);
}

AI void gru_chunks(const CELL *cl, const T *rg, const T *rgh, const T *xw, T *h, T *y, int64_t j,
                   int n, const int N) {
    const int64_t H = cl->hidden, X = cl->xw_gate;
    const T *b = cl->bias;
    const bool lbr = cl->linear_before_reset;
    V hi = vset1(cl->clip), lo = vset1(-cl->clip);
    V z_r[8], ph[4]; /* z then (linear_before_reset) r */
    V *z = z_r, *r = z_r + N;
    EACH(u) {
        int64_t ju = j + u * VL;
        z[u] = v_clip(gate_pre(cl, rg, xw, 0, ju, n), lo, hi);
        /* r set either way: GCC 12 cannot tell it is read only with lbr */
        r[u] = lbr ? v_clip(gate_pre(cl, rg, xw, 1, ju, n), lo, hi) : z[u];
    }
    if (lbr)
        v_act_n(cl->f.kind, z_r, 2 * N);
    else
        v_act_n(cl->f.kind, z, N);
    EACH(u) {
        int64_t ju = j + u * VL;
        ph[u] = vadd(ld(xw + 2 * X + ju, n), ld(b + 2 * H + ju, n));
        if (lbr)
            ph[u] = vfma(r[u], vadd(ld(rgh + ju, n), ld(cl->rbh + ju, n)), ph[u]);
        else
            ph[u] = vadd(ph[u], ld(rgh + ju, n));
        ph[u] = v_clip(ph[u], lo, hi);
    }
    v_act_n(cl->g.kind, ph, N);
    EACH(u) {
        int64_t ju = j + u * VL;
        V ht = ph[u], hn = vfma(z[u], vsub(ld(h + ju, n), ht), ht); /* (1 - z) ht + z hp */
        st(h + ju, hn, n);
        if (y) st(y + ju, hn, n);
    }
}

static inline void simd_gru(const CELL *cl, const T *rg, const T *rgh, const T *xw, T *h, T *y) {
    FOR_VECTORS(cl->hidden, gru_chunks, cl, rg, rgh, xw, h, y);
}

AI void act_chunks(int kind, const T *x, T *y, int64_t j, int n, const int N) {
    V v[4];
    EACH(u) v[u] = ld(x + j + u * VL, n);
    v_act_n(kind, v, N);
    EACH(u) st(y + j + u * VL, v[u], n);
}

static inline void simd_act_array(int kind, const T *x, T *y, int64_t n) {
    FOR_VECTORS(n, act_chunks, kind, x, y);
}
