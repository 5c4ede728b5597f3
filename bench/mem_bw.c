/* Measures this machine's single-core streaming read bandwidth from memory
 * (GB/s) and prints one line:
 *   read_gbs X
 * With --curve it prints instead one line per buffer size, 256 KiB to
 * 256 MiB ("size_kib 4096 read_gbs 124.7"): the bandwidth of each cache
 * level, which bounds a batch-1 step whose R that level holds.
 * A batch-1 recurrent step reads all of R once and does two FLOPs per weight,
 * so for R larger than the caches an engine's time per step is bounded below
 * by bytes(R) / this bandwidth, whatever its kernels. Reads a 256 MiB buffer
 * (past any cache) with eight independent sums of 32-byte vectors, best
 * of 12 passes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BYTES ((size_t)256 << 20)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 32-byte vectors (GCC's vector extension: one AVX register, two SSE ones)
 * in eight independent sums. Four scalar sums had measured 27-29 GB/s at
 * every size on an AVX2 Zen 3, whose L2 a vector loop reads at 100: the
 * loop, not the cache, was the bound (and GCC 12 moved 64-byte vectors
 * through the stack there). */
typedef uint64_t u64x4 __attribute__((vector_size(32)));

static uint64_t sum_pass(const uint64_t *p, size_t n) {
    const u64x4 *v = (const u64x4 *)p;
    u64x4 s[8] = {{0}};
    for (size_t i = 0; i + 8 <= n / 4; i += 8)
        for (int k = 0; k < 8; k++) s[k] += v[i + k];
    uint64_t x = 0;
    for (int k = 0; k < 8; k++)
        for (int e = 0; e < 4; e++) x ^= s[k][e];
    return x;
}

/* Best of `passes` reads of the first `bytes` of p, in GB/s. */
static double best_gbs(const uint64_t *p, size_t bytes, int passes) {
    volatile uint64_t sink = 0;
    double best = 0;
    for (int pass = 0; pass < passes; pass++) {
        double t0 = now_s();
        sink ^= sum_pass(p, bytes / sizeof(uint64_t));
        double gbs = (double)bytes / (now_s() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    (void)sink;
    return best;
}

int main(int argc, char **argv) {
    bool curve = argc > 1 && strcmp(argv[1], "--curve") == 0;
    size_t n = BYTES / sizeof(uint64_t);
    uint64_t *p = aligned_alloc(64, BYTES);
    if (!p) {
        printf("read_gbs 0\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) p[i] = i; /* fault every page in first */
    if (curve) {
        for (size_t bytes = (size_t)256 << 10; bytes <= BYTES; bytes *= 2) {
            /* About 2 GB read per size, at least 3 passes. */
            int passes = (int)(((size_t)2 << 30) / bytes);
            printf("size_kib %zu read_gbs %.1f\n", bytes >> 10,
                   best_gbs(p, bytes, passes < 3 ? 3 : passes));
        }
    } else {
        printf("read_gbs %.1f\n", best_gbs(p, BYTES, 12));
    }
    free(p);
    return 0;
}
