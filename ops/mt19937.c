/* MT19937 (see mt19937.h): the 624-word generator with the standard
 * tempering; the constants are those of the 1998 paper. */
#include "mt19937.h"

#define MT_M 397
#define MATRIX_A 0x9908b0dfu
#define UPPER_MASK 0x80000000u
#define LOWER_MASK 0x7fffffffu

void or_mt_seed(or_mt19937 *s, uint32_t seed) {
    s->mt[0] = seed;
    for (uint32_t i = 1; i < OR_MT_N; i++) {
        uint32_t prev = s->mt[i - 1];
        s->mt[i] = 1812433253u * (prev ^ (prev >> 30)) + i;
    }
    s->index = OR_MT_N;
}

/* Regenerates all 624 words (the "twist"). */
static void twist(or_mt19937 *s) {
    for (int i = 0; i < OR_MT_N; i++) {
        uint32_t y = (s->mt[i] & UPPER_MASK) | (s->mt[(i + 1) % OR_MT_N] & LOWER_MASK);
        s->mt[i] = s->mt[(i + MT_M) % OR_MT_N] ^ (y >> 1) ^ ((y & 1u) ? MATRIX_A : 0u);
    }
    s->index = 0;
}

uint32_t or_mt_next(or_mt19937 *s) {
    if (s->index >= OR_MT_N) twist(s);
    uint32_t y = s->mt[s->index++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

double or_mt_double(or_mt19937 *s) {
    uint32_t a = or_mt_next(s) >> 5, b = or_mt_next(s) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}
