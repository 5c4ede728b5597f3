/* MT19937, the Mersenne Twister of Matsumoto and Nishimura (1998), seeded and
 * read the way numpy's legacy RandomState does, so that ops with a `seed`
 * attribute (Dropout in training mode) reproduce the ONNX reference, which
 * draws with np.random.seed(seed) then np.random.uniform:
 *   - or_mt_seed is init_genrand: mt[0] = seed, mt[i] = 1812433253 *
 *     (mt[i-1] ^ (mt[i-1] >> 30)) + i (mod 2^32), what np.random.seed(int)
 *     does for a seed in [0, 2^32);
 *   - or_mt_double is random_sample: 53 random bits from two draws,
 *     ((a >> 5) * 2^26 + (b >> 6)) / 2^53, in [0, 1).
 * The state is a plain struct so that ops keep it in n->state and drawing
 * never allocates. */
#ifndef OR_MT19937_H
#define OR_MT19937_H

#include <stdint.h>

#define OR_MT_N 624

typedef struct or_mt19937 {
    uint32_t mt[OR_MT_N];
    int index; /* next word of mt to temper; OR_MT_N: regenerate first */
} or_mt19937;

void or_mt_seed(or_mt19937 *s, uint32_t seed);
/* The next 32-bit output. */
uint32_t or_mt_next(or_mt19937 *s);
/* A double uniform in [0, 1), numpy's random_sample. */
double or_mt_double(or_mt19937 *s);

#endif
