/* RNN gate kernel and activation array, single precision, AArch64 NEON (error bounds of
 * the fast Tanh/Sigmoid in rnn_gates_simd.h). */
#include "f32_rnn_vec__neon.h"

#include "rnn_gates_simd.h"

void or_f32_rnn_gates__neon(const CELL *cell, const T *rg, const T *xw, T *h, T *y) {
    simd_rnn(cell, rg, xw, h, y);
}

/* Kinds without a vector form fall back to the reference. */
void or_f32_rnn_act__neon(const or_rnn_act *act, const T *x, T *y, int64_t n) {
    if (or_rnn_simd_act(act))
        simd_act_array(act->kind, x, y, n);
    else
        or_f32_rnn_act__scalar(act, x, y, n);
}
