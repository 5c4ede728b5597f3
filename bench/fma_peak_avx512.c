/* FMA throughput loop, AVX512 (built with -mavx512f -mfma, for this file only). */
#include <immintrin.h>
#include <stdint.h>

/* 12 independent accumulators in named registers (an array would be spilled to
 * the stack at -O2) cover FMA latency x ports on current x86 cores. Each
 * iteration issues 12 FMAs; the result keeps the loop from being removed. */
float fma_loop_avx512(int64_t iters) {
    __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    __m512 c0 = _mm512_set1_ps(0.0f);
    __m512 c1 = _mm512_set1_ps(1.0f);
    __m512 c2 = _mm512_set1_ps(2.0f);
    __m512 c3 = _mm512_set1_ps(3.0f);
    __m512 c4 = _mm512_set1_ps(4.0f);
    __m512 c5 = _mm512_set1_ps(5.0f);
    __m512 c6 = _mm512_set1_ps(6.0f);
    __m512 c7 = _mm512_set1_ps(7.0f);
    __m512 c8 = _mm512_set1_ps(8.0f);
    __m512 c9 = _mm512_set1_ps(9.0f);
    __m512 c10 = _mm512_set1_ps(10.0f);
    __m512 c11 = _mm512_set1_ps(11.0f);
    for (int64_t i = 0; i < iters; i++) {
        c0 = _mm512_fmadd_ps(c0, a, b);
        c1 = _mm512_fmadd_ps(c1, a, b);
        c2 = _mm512_fmadd_ps(c2, a, b);
        c3 = _mm512_fmadd_ps(c3, a, b);
        c4 = _mm512_fmadd_ps(c4, a, b);
        c5 = _mm512_fmadd_ps(c5, a, b);
        c6 = _mm512_fmadd_ps(c6, a, b);
        c7 = _mm512_fmadd_ps(c7, a, b);
        c8 = _mm512_fmadd_ps(c8, a, b);
        c9 = _mm512_fmadd_ps(c9, a, b);
        c10 = _mm512_fmadd_ps(c10, a, b);
        c11 = _mm512_fmadd_ps(c11, a, b);
    }
    __m512 s = c0;
    s = _mm512_add_ps(s, c1);
    s = _mm512_add_ps(s, c2);
    s = _mm512_add_ps(s, c3);
    s = _mm512_add_ps(s, c4);
    s = _mm512_add_ps(s, c5);
    s = _mm512_add_ps(s, c6);
    s = _mm512_add_ps(s, c7);
    s = _mm512_add_ps(s, c8);
    s = _mm512_add_ps(s, c9);
    s = _mm512_add_ps(s, c10);
    s = _mm512_add_ps(s, c11);
    return _mm512_reduce_add_ps(s);
}
