// rng.h — small, reproducible random numbers, safe to use from many threads (no global state).
//
// rn_rng is a xoshiro256** generator seeded through splitmix64. rn_rng_seed3 derives an
// independent stream from up to three integers (e.g. seed, epoch, sample index), so a sample's
// augmentation does not depend on which thread draws it or in what order.
#ifndef RN_RNG_H
#define RN_RNG_H

#include <stdint.h>

typedef struct rn_rng {
    uint64_t s[4];
} rn_rng;

void rn_rng_seed(rn_rng *r, uint64_t seed);
void rn_rng_seed3(rn_rng *r, uint64_t a, uint64_t b, uint64_t c);
uint64_t rn_rng_u64(rn_rng *r);
double rn_rng_uniform(rn_rng *r);              // [0, 1)
double rn_rng_range(rn_rng *r, double lo, double hi);  // [lo, hi)
uint32_t rn_rng_below(rn_rng *r, uint32_t n);   // [0, n), unbiased
double rn_rng_normal(rn_rng *r);               // standard normal (Box-Muller)

#endif
