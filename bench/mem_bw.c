/* Measures this machine's single-core streaming read bandwidth from memory
 * (GB/s) and prints one line:
 *   read_gbs X
 * A batch-1 recurrent step reads all of R once and does two FLOPs per weight,
 * so for R larger than the caches an engine's time per step is bounded below
 * by bytes(R) / this bandwidth, whatever its kernels. Reads a 256 MiB buffer
 * (past any cache) with four independent integer sums (vectorized at -O2 on
 * any ISA), best of 12 passes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BYTES ((size_t)256 << 20)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t sum_pass(const uint64_t *p, size_t n) {
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i < n; i += 4) {
        a += p[i];
        b += p[i + 1];
        c += p[i + 2];
        d += p[i + 3];
    }
    return a ^ b ^ c ^ d;
}

int main(void) {
    size_t n = BYTES / sizeof(uint64_t);
    uint64_t *p = malloc(BYTES);
    if (!p) {
        printf("read_gbs 0\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) p[i] = i; /* fault every page in first */
    volatile uint64_t sink = 0;
    double best = 0;
    for (int pass = 0; pass < 12; pass++) {
        double t0 = now_s();
        sink ^= sum_pass(p, n);
        double gbs = (double)BYTES / (now_s() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    (void)sink;
    free(p);
    printf("read_gbs %.1f\n", best);
    return 0;
}
