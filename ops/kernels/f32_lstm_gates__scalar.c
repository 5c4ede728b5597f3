/* LSTM gate kernel, single precision, scalar reference. */
#define T float
#define CELL or_rnn_cell_f32
#include "rnn_gates_ref.h"

void or_f32_lstm_gates__scalar(const or_rnn_cell_f32 *cell, const T *rg, const T *xw, T *c, T *h,
                               T *y) {
    ref_lstm(cell, rg, xw, c, h, y);
}
