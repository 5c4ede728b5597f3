/* GRU gate kernels (reset phase and update), single precision, scalar reference. */
#define T float
#define CELL or_rnn_cell_f32
#include "rnn_gates_ref.h"

void or_f32_gru_reset__scalar(const or_rnn_cell_f32 *cell, const T *rg, const T *xw,
                              const T *h_prev, T *rh) {
    ref_gru_reset(cell, rg, xw, h_prev, rh);
}

void or_f32_gru_gates__scalar(const or_rnn_cell_f32 *cell, const T *rg, const T *rgh, const T *xw,
                              T *h, T *y) {
    ref_gru(cell, rg, rgh, xw, h, y);
}
