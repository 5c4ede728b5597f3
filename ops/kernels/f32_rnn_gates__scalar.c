/* RNN gate kernel and activation array, single precision, scalar reference. */
#define T float
#define CELL or_rnn_cell_f32
#include "rnn_gates_ref.h"

void or_f32_rnn_gates__scalar(const or_rnn_cell_f32 *cell, const T *rg, const T *xw, T *h, T *y) {
    ref_rnn(cell, rg, xw, h, y);
}

void or_f32_rnn_act__scalar(const or_rnn_act *act, const T *x, T *y, int64_t n) {
    ref_act_array(act, x, y, n);
}
