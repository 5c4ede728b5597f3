/* Reference kernel of int8 weights held as int16 against 16-bit activations
 * (S16 in qgemm.h): exact int32 dot products, then the scales. */
#include "qgemm.h"

void or_s16_qgemm__scalar(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                          int64_t p0, int64_t p1, float *c, int64_t ldc) {
    const int16_t *a16 = a, *w = q->data;
    const int64_t kq = q->kpad / 2;
    for (int64_t i = 0; i < m; i++) {
        const int16_t *ar = a16 + i * q->kpad;
        for (int64_t p = p0; p < p1; p++) {
            int32_t acc[OR_Q_PANEL] = {0};
            const int16_t *wp = w + p * kq * OR_Q_PANEL * 2;
            for (int64_t kk = 0; kk < kq; kk++) {
                const int16_t *wk = wp + kk * OR_Q_PANEL * 2;
                for (int j = 0; j < OR_Q_PANEL; j++)
                    for (int e = 0; e < 2; e++) acc[j] += (int32_t)ar[2 * kk + e] * wk[2 * j + e];
            }
            for (int j = 0; j < OR_Q_PANEL && p * OR_Q_PANEL + j < q->N; j++) {
                int64_t n = p * OR_Q_PANEL + j;
                c[i * ldc + n] = (float)acc[j] * (q->scale[n] * ascale[i]);
            }
        }
    }
}

void or_s16_quantize__scalar(const float *x, int64_t n, float inv, int a_max, int16_t *d) {
    const float top = (float)a_max;
    for (int64_t k = 0; k < n; k++) d[k] = (int16_t)or_s8_round(x[k], inv, top);
}
