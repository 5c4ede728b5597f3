/* Reference BF16 weight kernel (layout in qgemm.h): plain float sums of
 * bfloat16 products, pair by pair as VDPBF16PS adds them. */
#include "qgemm.h"

void or_bf16_qgemm__scalar(const or_qmat *q, int64_t m, const void *a, const float *ascale,
                           int64_t p0, int64_t p1, float *c, int64_t ldc) {
    (void)ascale;
    const uint16_t *a16 = a, *w = q->data;
    const int64_t kq = q->kpad / 2;
    for (int64_t i = 0; i < m; i++) {
        const uint16_t *ar = a16 + i * q->kpad;
        for (int64_t p = p0; p < p1; p++) {
            float acc[OR_Q_PANEL] = {0};
            const uint16_t *wp = w + p * kq * OR_Q_PANEL * 2;
            for (int64_t kk = 0; kk < kq; kk++) {
                float x0 = or_bf16_to_f32(ar[2 * kk]), x1 = or_bf16_to_f32(ar[2 * kk + 1]);
                const uint16_t *wk = wp + kk * OR_Q_PANEL * 2;
                for (int j = 0; j < OR_Q_PANEL; j++)
                    acc[j] += x0 * or_bf16_to_f32(wk[2 * j]) + x1 * or_bf16_to_f32(wk[2 * j + 1]);
            }
            for (int j = 0; j < OR_Q_PANEL && p * OR_Q_PANEL + j < q->N; j++)
                c[i * ldc + p * OR_Q_PANEL + j] = acc[j];
        }
    }
}
