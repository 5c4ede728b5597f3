/* LSTM gate kernel, double precision, scalar reference. */
#define T double
#define CELL or_rnn_cell_f64
#include "rnn_gates_ref.h"

void or_f64_lstm_gates__scalar(const or_rnn_cell_f64 *cell, const T *rg, const T *xw, T *c, T *h,
                               T *y) {
    ref_lstm(cell, rg, xw, c, h, y);
}
