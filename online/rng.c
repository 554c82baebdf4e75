/*
 * ltrr - xoshiro256** generator, splitmix64 seeding and samplers.
 */
#include "rng.h"

#include <math.h>

/* Rejection loops stop after this many rounds; with valid parameters the
 * expected number of rounds is below 1.1, so this bound is never reached
 * in practice and only guards against NaN input. */
#define RNG_MAX_ROUNDS 1000

uint64_t ltrr_rng_splitmix64(uint64_t *state)
{
        uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

void ltrr_rng_seed(ltrr_rng_t *rng, uint64_t seed)
{
        int i;

        for (i = 0; i < 4; i++)
                rng->s[i] = ltrr_rng_splitmix64(&seed);
}

uint64_t ltrr_rng_seed_from_id(const uint8_t id[16])
{
        uint64_t hi = 0, lo = 0, st;
        int i;

        for (i = 0; i < 8; i++) {
                hi = (hi << 8) | id[i];
                lo = (lo << 8) | id[8 + i];
        }
        st = hi;
        st = ltrr_rng_splitmix64(&st) ^ lo;
        return ltrr_rng_splitmix64(&st);
}

static inline uint64_t rotl(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

uint64_t ltrr_rng_next(ltrr_rng_t *rng)
{
        uint64_t *s = rng->s;
        uint64_t result = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
}

double ltrr_rng_uniform(ltrr_rng_t *rng)
{
        return (double)(ltrr_rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t ltrr_rng_below(ltrr_rng_t *rng, uint64_t n)
{
        unsigned __int128 m;
        uint64_t lo, thresh;

        if (n == 0)
                return 0;
        m = (unsigned __int128)ltrr_rng_next(rng) * n;
        lo = (uint64_t)m;
        if (lo < n) {
                thresh = -n % n;
                while (lo < thresh) {
                        m = (unsigned __int128)ltrr_rng_next(rng) * n;
                        lo = (uint64_t)m;
                }
        }
        return (uint64_t)(m >> 64);
}

double ltrr_rng_gauss(ltrr_rng_t *rng)
{
        double u, v, s;
        int i;

        for (i = 0; i < RNG_MAX_ROUNDS; i++) {
                u = 2.0 * ltrr_rng_uniform(rng) - 1.0;
                v = 2.0 * ltrr_rng_uniform(rng) - 1.0;
                s = u * u + v * v;
                if (s > 0.0 && s < 1.0)
                        return u * sqrt(-2.0 * log(s) / s);
        }
        return 0.0;
}

/* Marsaglia and Tsang (2000) for shape >= 1. */
static double gamma_large(ltrr_rng_t *rng, double shape)
{
        double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
        double x, v, u;
        int i;

        for (i = 0; i < RNG_MAX_ROUNDS; i++) {
                x = ltrr_rng_gauss(rng);
                v = 1.0 + c * x;
                if (v <= 0.0)
                        continue;
                v = v * v * v;
                u = ltrr_rng_uniform(rng);
                if (u < 1.0 - 0.0331 * x * x * x * x)
                        return d * v;
                if (u > 0.0 && log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
                        return d * v;
        }
        return d;
}

double ltrr_rng_gamma(ltrr_rng_t *rng, double shape)
{
        double u;

        if (!(shape > 0.0) || !isfinite(shape))
                return 0.0;
        if (shape >= 1.0)
                return gamma_large(rng, shape);
        u = ltrr_rng_uniform(rng);
        return gamma_large(rng, shape + 1.0) * pow(u, 1.0 / shape);
}

double ltrr_rng_beta(ltrr_rng_t *rng, double a, double b)
{
        double x, y;

        if (!(a > 0.0) || !(b > 0.0) || !isfinite(a) || !isfinite(b))
                return 0.5;
        x = ltrr_rng_gamma(rng, a);
        y = ltrr_rng_gamma(rng, b);
        if (x + y <= 0.0)
                return a / (a + b);
        return x / (x + y);
}
