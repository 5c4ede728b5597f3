/* GRU gate kernels (reset phase and update), double precision, AArch64 NEON (error
 * bounds of the fast Tanh/Sigmoid in rnn_gates_simd.h). */
#include "f64_rnn_vec__neon.h"

#include "rnn_gates_simd.h"

void or_f64_gru_reset__neon(const CELL *cell, const T *rg, const T *xw, const T *h_prev, T *rh) {
    simd_gru_reset(cell, rg, xw, h_prev, rh);
}

void or_f64_gru_gates__neon(const CELL *cell, const T *rg, const T *rgh, const T *xw, T *h, T *y) {
    simd_gru(cell, rg, rgh, xw, h, y);
}
