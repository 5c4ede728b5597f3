/* Reference for the float panel kernel (layout in qgemm.h): plain float sums
 * in k order. */
#include "qgemm.h"

void or_f32_qgemm__scalar(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                          int64_t p0, int64_t p1, float *c, int64_t ldc) {
    (void)ascale;
    const float *af = a, *w = q->data;
    for (int64_t i = 0; i < m; i++) {
        const float *ar = af + i * q->kpad;
        for (int64_t p = p0; p < p1; p++) {
            float acc[OR_Q_PANEL] = {0};
            const float *wp = w + p * q->kpad * OR_Q_PANEL;
            for (int64_t k = 0; k < q->K; k++)
                for (int j = 0; j < OR_Q_PANEL; j++) acc[j] += ar[k] * wp[k * OR_Q_PANEL + j];
            for (int j = 0; j < OR_Q_PANEL && p * OR_Q_PANEL + j < q->N; j++)
                c[i * ldc + p * OR_Q_PANEL + j] = acc[j];
        }
    }
}
