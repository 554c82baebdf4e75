/*
 * ltrr - a small, reproducible pseudo-random number generator.
 *
 * xoshiro256** (Blackman and Vigna) seeded through splitmix64, plus the
 * samplers the bandit policies need: uniform doubles, standard normal
 * (Marsaglia's polar method), Gamma (Marsaglia and Tsang) and Beta.
 * The generator is a plain value type so a decision can keep one on the
 * stack; the same seed gives the same stream on every machine (integer
 * arithmetic only, samplers use IEEE sqrt and libm log/pow).
 */
#ifndef LTRR_RNG_H
#define LTRR_RNG_H

#include <stdint.h>

/** @brief Generator state: four 64-bit words, never all zero. */
typedef struct ltrr_rng_s {
        uint64_t s[4]; /**< xoshiro256** state */
} ltrr_rng_t;

/**
 * @brief One splitmix64 step: advances @p state by the golden gamma and
 * returns the mixed output. Used to expand seeds.
 */
uint64_t ltrr_rng_splitmix64(uint64_t *state);

/**
 * @brief Seeds @p rng from a 64-bit seed: the four state words are four
 * successive splitmix64 outputs starting from @p seed.
 */
void ltrr_rng_seed(ltrr_rng_t *rng, uint64_t seed);

/**
 * @brief Derives the 64-bit exploration seed from a 128-bit impression
 * id given as 16 bytes, most significant first:
 * `splitmix64(hi) ^ lo`, mixed once more by splitmix64.
 */
uint64_t ltrr_rng_seed_from_id(const uint8_t id[16]);

/** @brief Next 64-bit output of xoshiro256**. */
uint64_t ltrr_rng_next(ltrr_rng_t *rng);

/** @brief Uniform double in [0, 1) with 53 random bits. */
double ltrr_rng_uniform(ltrr_rng_t *rng);

/** @brief Uniform integer in [0, n), n > 0 (Lemire's nearly-divisionless
 *  method with rejection, so it is unbiased). Returns 0 when n == 0. */
uint64_t ltrr_rng_below(ltrr_rng_t *rng, uint64_t n);

/** @brief Standard normal N(0, 1) (polar method; consumes two or more
 *  uniforms, keeps no spare so the state alone defines the stream). */
double ltrr_rng_gauss(ltrr_rng_t *rng);

/**
 * @brief Gamma(shape, 1).
 * @param shape > 0; shapes below 1 use Gamma(shape + 1) * U^(1/shape).
 * @returns the sample, or 0 for a non-positive or non-finite shape.
 */
double ltrr_rng_gamma(ltrr_rng_t *rng, double shape);

/**
 * @brief Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
 * @returns the sample in [0, 1], or 0.5 for invalid parameters.
 */
double ltrr_rng_beta(ltrr_rng_t *rng, double a, double b);

#endif /* LTRR_RNG_H */
