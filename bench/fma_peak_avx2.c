/* FMA throughput loop, AVX2 (built with -mavx2 -mfma, for this file only). */
#include <immintrin.h>
#include <stdint.h>

/* 12 independent accumulators in named registers (an array would be spilled to
 * the stack at -O2) cover FMA latency x ports on current x86 cores. Each
 * iteration issues 12 FMAs; the result keeps the loop from being removed. */
float fma_loop_avx2(int64_t iters) {
    __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    __m256 c0 = _mm256_set1_ps(0.0f);
    __m256 c1 = _mm256_set1_ps(1.0f);
    __m256 c2 = _mm256_set1_ps(2.0f);
    __m256 c3 = _mm256_set1_ps(3.0f);
    __m256 c4 = _mm256_set1_ps(4.0f);
    __m256 c5 = _mm256_set1_ps(5.0f);
    __m256 c6 = _mm256_set1_ps(6.0f);
    __m256 c7 = _mm256_set1_ps(7.0f);
    __m256 c8 = _mm256_set1_ps(8.0f);
    __m256 c9 = _mm256_set1_ps(9.0f);
    __m256 c10 = _mm256_set1_ps(10.0f);
    __m256 c11 = _mm256_set1_ps(11.0f);
    for (int64_t i = 0; i < iters; i++) {
        c0 = _mm256_fmadd_ps(c0, a, b);
        c1 = _mm256_fmadd_ps(c1, a, b);
        c2 = _mm256_fmadd_ps(c2, a, b);
        c3 = _mm256_fmadd_ps(c3, a, b);
        c4 = _mm256_fmadd_ps(c4, a, b);
        c5 = _mm256_fmadd_ps(c5, a, b);
        c6 = _mm256_fmadd_ps(c6, a, b);
        c7 = _mm256_fmadd_ps(c7, a, b);
        c8 = _mm256_fmadd_ps(c8, a, b);
        c9 = _mm256_fmadd_ps(c9, a, b);
        c10 = _mm256_fmadd_ps(c10, a, b);
        c11 = _mm256_fmadd_ps(c11, a, b);
    }
    __m256 s = c0;
    s = _mm256_add_ps(s, c1);
    s = _mm256_add_ps(s, c2);
    s = _mm256_add_ps(s, c3);
    s = _mm256_add_ps(s, c4);
    s = _mm256_add_ps(s, c5);
    s = _mm256_add_ps(s, c6);
    s = _mm256_add_ps(s, c7);
    s = _mm256_add_ps(s, c8);
    s = _mm256_add_ps(s, c9);
    s = _mm256_add_ps(s, c10);
    s = _mm256_add_ps(s, c11);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
