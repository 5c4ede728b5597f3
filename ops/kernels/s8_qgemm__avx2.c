/* int8 weight kernel for AVX2 (CPUs without AVX512-VNNI). Activations are
 * quantized to 7 bits for this kernel (a_max 63, qgemm.h), so VPMADDUBSW's
 * int16 pair sums (a + 64) q cannot saturate; VPMADDWD by ones then adds
 * the pairs into one int32 per output row. Per 32 weight bytes: those two and
 * an add, against a multiply-add per weight for float. The int32 sums equal
 * the scalar reference's on the same pack exactly; only the final float
 * scaling may round differently. Blocking in qgemm_avx2.h. */
#include <math.h>
#include <string.h>

#define QA_ROW_BYTES(q) ((q)->kpad)
#include "qgemm_avx2.h"

/* acc[r][b][h]: outputs 8h..8h+7 of panel p + b for row r. */
AI void block(const or_qmat *q, const uint8_t *a, const float *ascale, int64_t p, float *c,
              int64_t ldc, const int R, const int PB, const bool STREAM) {
    const int64_t kq = q->kpad / 4, pstride = kq * OR_Q_PANEL * 4;
    const int8_t *w = (const int8_t *)q->data + p * pstride;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[4][4][2];
    zero_acc(acc, R, PB);
    for (int64_t kk = 0; kk < kq; kk++) {
        if (STREAM) prefetch_panels(w + kk * OR_Q_PANEL * 4, pstride, PB);
        __m256i av[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            int32_t quad;
            memcpy(&quad, a + r * QA_ROW_BYTES(q) + 4 * kk, 4);
            av[r] = _mm256_set1_epi32(quad);
        }
#pragma GCC unroll 4
        for (int b = 0; b < PB; b++)
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                __m256i wv = _mm256_load_si256(
                    (const __m256i *)(w + b * pstride + (kk * OR_Q_PANEL + 8 * h) * 4));
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    __m256i pairs = _mm256_maddubs_epi16(av[r], wv);
                    acc[r][b][h] = _mm256_add_epi32(acc[r][b][h], _mm256_madd_epi16(pairs, ones));
                }
            }
    }
    store_int_acc(q, acc, ascale, p, c, ldc, R, PB, true);
}

void or_s8_qgemm__avx2(const or_qmat *q, int64_t m, const void *a, const float *ascale, int64_t p0,
                       int64_t p1, float *c, int64_t ldc) {
    run_blocks(q, m, a, ascale, p0, p1, c, ldc);
}

/* Activation conversion (qgemm.h's or_s8_abs_max_fn / or_s8_quantize_fn),
 * 32 floats at a time with the scalar reference's tail: the same bytes, as
 * VCVTPS2DQ rounds to nearest even like rintf and turns NaN into INT_MIN,
 * which the clamp takes to -a_max. */
float or_s8_abs_max__avx2(const float *x, int64_t n) {
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + k), magnitude);
        m = _mm256_max_ps(a, m); /* a NaN a leaves m */
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float tail = or_s8_abs_max__scalar(x + k, n - k), head = _mm_cvtss_f32(h);
    if (_mm256_movemask_ps(nan)) return tail + NAN;
    return tail > head || tail != tail ? tail : head;
}

void or_s8_quantize__avx2(const float *x, int64_t n, float inv, int a_max, uint8_t *d) {
    const __m256 scale = _mm256_set1_ps(inv);
    const __m256i lo = _mm256_set1_epi32(-a_max), hi = _mm256_set1_epi32(a_max);
    const __m256i offset = _mm256_set1_epi32(a_max + 1);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7); /* undoes the packs' lanes */
    int64_t k = 0;
    for (; k + 32 <= n; k += 32) {
        __m256i v[4];
#pragma GCC unroll 4
        for (int u = 0; u < 4; u++) {
            __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * u), scale));
            v[u] = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, lo), hi), offset);
        }
        __m256i bytes =
            _mm256_packus_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
        _mm256_storeu_si256((__m256i *)(d + k), _mm256_permutevar8x32_epi32(bytes, order));
    }
    or_s8_quantize__scalar(x + k, n - k, inv, a_max, d + k);
}
