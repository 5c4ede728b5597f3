/* LSTM gate kernel, double precision, AArch64 NEON (error bounds of the fast
 * Tanh/Sigmoid in rnn_gates_simd.h). */
#include "f64_rnn_vec__neon.h"

#include "rnn_gates_simd.h"

void or_f64_lstm_gates__neon(const CELL *cell, const T *rg, const T *xw, T *c, T *h, T *y) {
    simd_lstm(cell, rg, xw, c, h, y);
}
