/* Reference int8 weight kernel (layout and scheme in qgemm.h): exact int32
 * dot products of offset-u8 activations and s8 weights, then the scales. */
#include "qgemm.h"

#include <math.h>

void or_s8_qgemm__scalar(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                         int64_t p0, int64_t p1, float *c, int64_t ldc) {
    const uint8_t *a8 = a;
    const int8_t *w = q->data;
    const int64_t kq = q->kpad / 4;
    for (int64_t i = 0; i < m; i++) {
        const uint8_t *ar = a8 + i * q->kpad;
        for (int64_t p = p0; p < p1; p++) {
            int32_t acc[OR_Q_PANEL] = {0};
            const int8_t *wp = w + p * kq * OR_Q_PANEL * 4;
            for (int64_t kk = 0; kk < kq; kk++) {
                const int8_t *wk = wp + kk * OR_Q_PANEL * 4;
                for (int j = 0; j < OR_Q_PANEL; j++)
                    for (int e = 0; e < 4; e++) acc[j] += (int32_t)ar[4 * kk + e] * wk[4 * j + e];
            }
            for (int j = 0; j < OR_Q_PANEL && p * OR_Q_PANEL + j < q->N; j++) {
                int64_t n = p * OR_Q_PANEL + j;
                float dot = (float)(acc[j] - (q->a_max + 1) * q->rowsum[n]);
                c[i * ldc + n] = dot * (q->scale[n] * ascale[i]);
            }
        }
    }
}

/* A compare, not fmaxf, which would skip a NaN and leave its row a finite
 * scale; once m is NaN, a > m is false and m stays NaN. */
float or_s8_abs_max__scalar(const float *x, int64_t n) {
    float m = 0;
    for (int64_t k = 0; k < n; k++) {
        float a = fabsf(x[k]);
        m = a > m || a != a ? a : m;
    }
    return m;
}

void or_s8_quantize__scalar(const float *x, int64_t n, float inv, int a_max, uint8_t *d) {
    const float top = (float)a_max;
    for (int64_t k = 0; k < n; k++) d[k] = (uint8_t)((int)or_s8_round(x[k], inv, top) + a_max + 1);
}
