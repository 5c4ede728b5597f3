/* Gate kernels of the recurrent ops (RNN, GRU, LSTM): one call handles one
 * batch row of one time step of one direction, after the driver in
 * ops/recurrent.c has run the GEMMs. Each kernel exists as a scalar reference
 * (__scalar, libm, every activation) and as SIMD variants (__avx2, __avx512, __neon)
 * that only implement Relu, Tanh and Sigmoid (fast approximations, error
 * bounds in rnn_gates_simd.h); or_rnn_simd_acts() says whether a cell may use them.
 *
 * Notation: H = hidden size. "rg" is the recurrent product H_{t-1}·Rᵀ, "xw"
 * the input product X_t·Wᵀ of the same row, both in ONNX gate order
 * (LSTM i o f c, GRU z r h). Pre-activations are clipped to [-clip, clip]
 * after the biases (and peepholes) are added; clip = +inf means no clip.
 * State pointers may alias the row's previous state (updates are in place,
 * element by element).
 */
#ifndef OR_RNN_KERNELS_H
#define OR_RNN_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/* The eleven ONNX recurrent activations. */
typedef enum or_rnn_act_kind {
    OR_ACT_RELU,
    OR_ACT_TANH,
    OR_ACT_SIGMOID,
    OR_ACT_AFFINE,          /* alpha * x + beta */
    OR_ACT_LEAKYRELU,       /* x >= 0 ? x : alpha * x */
    OR_ACT_THRESHOLDEDRELU, /* x > alpha ? x : 0 */
    OR_ACT_SCALEDTANH,      /* alpha * tanh(beta * x) */
    OR_ACT_HARDSIGMOID,     /* min(1, max(0, alpha * x + beta)) */
    OR_ACT_ELU,             /* x >= 0 ? x : alpha * (e^x - 1) */
    OR_ACT_SOFTSIGN,        /* x / (1 + |x|) */
    OR_ACT_SOFTPLUS,        /* log(1 + e^x) */
    OR_ACT_COUNT
} or_rnn_act_kind;

typedef struct or_rnn_act {
    int kind; /* or_rnn_act_kind */
    float alpha, beta;
} or_rnn_act;

/* What stays constant for one direction of one op. Bias layout per op:
 *   RNN  bias [H]  = Wb + Rb
 *   LSTM bias [4H] = Wb + Rb (i o f c); peep [3H] = P (i o f) or NULL
 *   GRU  bias [3H] = z: Wbz + Rbz, r: Wbr + Rbr,
 *                    h: Wbh (linear_before_reset) or Wbh + Rbh (otherwise);
 *        rbh  [H]  = Rbh (linear_before_reset only)
 * Activations: f, g, h as in the ONNX equations (RNN uses f only, GRU f, g). */
#define OR_RNN_CELL_FIELDS(T)                                                                      \
    int64_t hidden;                                                                                \
    int64_t xw_gate; /* xw's gate row blocks start this far apart: hidden, or more when the cell   \
                        covers a slice of the units of a wider X·Wᵀ row (recurrent_team.c) */   \
    T clip;                                                                                        \
    const T *bias;                                                                                 \
    const T *rbh;                                                                                  \
    const T *peep;                                                                                 \
    bool input_forget;                                                                             \
    bool linear_before_reset;                                                                      \
    or_rnn_act f, g, h;

typedef struct or_rnn_cell_f32 {
    OR_RNN_CELL_FIELDS(float)
} or_rnn_cell_f32;
typedef struct or_rnn_cell_f64 {
    OR_RNN_CELL_FIELDS(double)
} or_rnn_cell_f64;

/* Whether every activation the cell uses is one the SIMD kernels implement. */
static inline bool or_rnn_simd_act(const or_rnn_act *a) {
    return a->kind == OR_ACT_RELU || a->kind == OR_ACT_TANH || a->kind == OR_ACT_SIGMOID;
}

/* Kernel signatures, per dtype (S = f32 float, f64 double):
 *
 * rnn:  h[H] = f(clip(rg + xw + bias)); y (NULL when absent) gets a copy.
 * lstm: rg, xw [4H]; c [H] holds C_{t-1} and receives C_t; h [H] receives H_t.
 * gru_reset (linear_before_reset = 0 only): rh[H] = r ⊙ h_prev, where
 *       r = f(clip(rg[H..2H) + xw[H..2H) + bias_r)); rg is [2H] (z r).
 * gru:  rg [2H] (z r parts), rgh [H]: H_{t-1}·Rhᵀ with linear_before_reset,
 *       (r ⊙ H_{t-1})·Rhᵀ without; xw [3H]; h [H] holds H_{t-1} and receives
 *       H_t = (1 - z) ⊙ g(...) + z ⊙ H_{t-1}.
 * act:  y[i] = act(x[i]) for n values (used by tests to measure error bounds).
 */
#define OR_RNN_KERNEL_DECLS(S, T, ISA)                                                             \
    void or_##S##_rnn_gates__##ISA(const or_rnn_cell_##S *cell, const T *rg, const T *xw, T *h,    \
                                   T *y);                                                          \
    void or_##S##_lstm_gates__##ISA(const or_rnn_cell_##S *cell, const T *rg, const T *xw, T *c,   \
                                    T *h, T *y);                                                   \
    void or_##S##_gru_reset__##ISA(const or_rnn_cell_##S *cell, const T *rg, const T *xw,          \
                                   const T *h_prev, T *rh);                                        \
    void or_##S##_gru_gates__##ISA(const or_rnn_cell_##S *cell, const T *rg, const T *rgh,         \
                                   const T *xw, T *h, T *y);                                       \
    void or_##S##_rnn_act__##ISA(const or_rnn_act *act, const T *x, T *y, int64_t n);

OR_RNN_KERNEL_DECLS(f32, float, scalar)
OR_RNN_KERNEL_DECLS(f64, double, scalar)
#if defined(OR_HAVE_X86_KERNELS)
OR_RNN_KERNEL_DECLS(f32, float, avx2)
OR_RNN_KERNEL_DECLS(f64, double, avx2)
OR_RNN_KERNEL_DECLS(f32, float, avx512)
OR_RNN_KERNEL_DECLS(f64, double, avx512)
#endif
#if defined(OR_HAVE_NEON_KERNELS)
OR_RNN_KERNEL_DECLS(f32, float, neon)
OR_RNN_KERNEL_DECLS(f64, double, neon)
#endif

typedef void (*or_f32_rnn_gates_fn)(const or_rnn_cell_f32 *, const float *, const float *, float *,
                                    float *);
typedef void (*or_f32_lstm_gates_fn)(const or_rnn_cell_f32 *, const float *, const float *, float *,
                                     float *, float *);
typedef void (*or_f32_gru_reset_fn)(const or_rnn_cell_f32 *, const float *, const float *,
                                    const float *, float *);
typedef void (*or_f32_gru_gates_fn)(const or_rnn_cell_f32 *, const float *, const float *,
                                    const float *, float *, float *);
typedef void (*or_f64_rnn_gates_fn)(const or_rnn_cell_f64 *, const double *, const double *,
                                    double *, double *);
typedef void (*or_f64_lstm_gates_fn)(const or_rnn_cell_f64 *, const double *, const double *,
                                     double *, double *, double *);
typedef void (*or_f64_gru_reset_fn)(const or_rnn_cell_f64 *, const double *, const double *,
                                    const double *, double *);
typedef void (*or_f64_gru_gates_fn)(const or_rnn_cell_f64 *, const double *, const double *,
                                    const double *, double *, double *);

#endif
