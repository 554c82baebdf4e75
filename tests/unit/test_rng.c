/* Unit tests: PRNG and samplers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "rng.h"

#define N_MOMENTS 200000

/* Published splitmix64 outputs for seed 0. */
static void test_splitmix64_vectors(void **state)
{
        uint64_t s = 0;

        assert_true(ltrr_rng_splitmix64(&s) == 0xe220a8397b1dcdafULL);
        assert_true(ltrr_rng_splitmix64(&s) == 0x6e789e6aa1b965f4ULL);
        assert_true(ltrr_rng_splitmix64(&s) == 0x06c45d188009454fULL);
        assert_true(ltrr_rng_splitmix64(&s) == 0xf88bb8a8724c81ecULL);
}

/* Reference xoshiro256** outputs from the state {1, 2, 3, 4}, and the
 * stream of ltrr_rng_seed(0) and (42). */
static void test_xoshiro_vectors(void **state)
{
        ltrr_rng_t rng = {{1, 2, 3, 4}};

        assert_true(ltrr_rng_next(&rng) == 11520ULL);
        assert_true(ltrr_rng_next(&rng) == 0ULL);
        assert_true(ltrr_rng_next(&rng) == 1509978240ULL);
        assert_true(ltrr_rng_next(&rng) == 1215971899390074240ULL);
        ltrr_rng_seed(&rng, 0);
        assert_true(rng.s[0] == 0xe220a8397b1dcdafULL);
        assert_true(ltrr_rng_next(&rng) == 0x99ec5f36cb75f2b4ULL);
        assert_true(ltrr_rng_next(&rng) == 0xbf6e1f784956452aULL);
        ltrr_rng_seed(&rng, 42);
        assert_true(ltrr_rng_next(&rng) == 0x15780b2e0c2ec716ULL);
        assert_true(ltrr_rng_next(&rng) == 0x6104d9866d113a7eULL);
        assert_true(ltrr_rng_next(&rng) == 0xae17533239e499a1ULL);
}

static void test_seed_from_id(void **state)
{
        uint8_t id[16];
        int i;

        for (i = 0; i < 16; i++)
                id[i] = (uint8_t)i;
        assert_true(ltrr_rng_seed_from_id(id) == 0x3c182ffb4c30fe82ULL);
        id[15] ^= 1; /* one bit of the low half changes the seed */
        assert_true(ltrr_rng_seed_from_id(id) != 0x3c182ffb4c30fe82ULL);
}

static void test_reproducible(void **state)
{
        ltrr_rng_t a, b, c;
        int i, differ = 0;

        ltrr_rng_seed(&a, 12345);
        ltrr_rng_seed(&b, 12345);
        ltrr_rng_seed(&c, 12346);
        for (i = 0; i < 1000; i++) {
                uint64_t x = ltrr_rng_next(&a);

                assert_true(x == ltrr_rng_next(&b));
                differ += x != ltrr_rng_next(&c);
        }
        assert_true(differ > 990);
        ltrr_rng_seed(&a, 7);
        ltrr_rng_seed(&b, 7);
        for (i = 0; i < 100; i++) {
                double ga = ltrr_rng_beta(&a, 0.7, 3.0);
                double gb = ltrr_rng_beta(&b, 0.7, 3.0);

                assert_memory_equal(&ga, &gb, sizeof(ga));
        }
}

static void test_uniform_and_below(void **state)
{
        ltrr_rng_t rng;
        double sum = 0, sq = 0, u;
        unsigned cnt[7] = {0};
        int i;

        ltrr_rng_seed(&rng, 1);
        for (i = 0; i < N_MOMENTS; i++) {
                u = ltrr_rng_uniform(&rng);
                assert_true(u >= 0.0 && u < 1.0);
                sum += u;
                sq += u * u;
                cnt[ltrr_rng_below(&rng, 7)]++;
        }
        assert_true(fabs(sum / N_MOMENTS - 0.5) < 0.003);
        assert_true(fabs(sq / N_MOMENTS - sum * sum / N_MOMENTS / N_MOMENTS -
                         1.0 / 12) < 0.002);
        for (i = 0; i < 7; i++)
                assert_true(fabs(cnt[i] / (double)N_MOMENTS - 1.0 / 7) < 0.004);
        assert_true(ltrr_rng_below(&rng, 0) == 0);
        assert_true(ltrr_rng_below(&rng, 1) == 0);
}

/* Sample mean and variance of n draws of f. */
typedef double (*sampler_fn)(ltrr_rng_t *, double, double);

static void moments(sampler_fn f, double p1, double p2, double *mean,
                    double *var, double *m4)
{
        ltrr_rng_t rng;
        double s = 0, s2 = 0, s4 = 0, x;
        int i;

        ltrr_rng_seed(&rng, 99);
        for (i = 0; i < N_MOMENTS; i++) {
                x = f(&rng, p1, p2);
                s += x;
                s2 += x * x;
                s4 += x * x * x * x;
        }
        *mean = s / N_MOMENTS;
        *var = s2 / N_MOMENTS - *mean * *mean;
        *m4 = s4 / N_MOMENTS;
}

static double gauss2(ltrr_rng_t *r, double a, double b)
{
        return ltrr_rng_gauss(r);
}

static double gamma2(ltrr_rng_t *r, double a, double b)
{
        return ltrr_rng_gamma(r, a);
}

static void test_gauss_moments(void **state)
{
        double mean, var, m4;

        moments(gauss2, 0, 0, &mean, &var, &m4);
        assert_true(fabs(mean) < 0.01);
        assert_true(fabs(var - 1.0) < 0.015);
        assert_true(fabs(m4 - 3.0) < 0.08);
}

static void test_gamma_moments(void **state)
{
        static const double shapes[] = {0.3, 1.0, 2.5, 10.0};
        double mean, var, m4;
        size_t i;

        for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
                moments(gamma2, shapes[i], 0, &mean, &var, &m4);
                assert_true(fabs(mean - shapes[i]) < 0.02 * shapes[i] + 0.005);
                assert_true(fabs(var - shapes[i]) < 0.04 * shapes[i] + 0.01);
        }
}

static void test_beta_moments(void **state)
{
        static const double ab[][2] = {{2, 5}, {0.5, 0.5}, {30, 10}, {1, 1}};
        double mean, var, m4, a, b;
        size_t i;

        for (i = 0; i < sizeof(ab) / sizeof(ab[0]); i++) {
                a = ab[i][0];
                b = ab[i][1];
                moments(ltrr_rng_beta, a, b, &mean, &var, &m4);
                assert_true(fabs(mean - a / (a + b)) < 0.003);
                assert_true(fabs(var - a * b / ((a + b) * (a + b) *
                                                 (a + b + 1))) < 0.002);
        }
}

static void test_invalid_parameters(void **state)
{
        ltrr_rng_t rng;

        ltrr_rng_seed(&rng, 3);
        assert_true(ltrr_rng_gamma(&rng, 0.0) == 0.0);
        assert_true(ltrr_rng_gamma(&rng, -1.0) == 0.0);
        assert_true(ltrr_rng_gamma(&rng, NAN) == 0.0);
        assert_true(ltrr_rng_gamma(&rng, INFINITY) == 0.0);
        assert_true(ltrr_rng_beta(&rng, 0.0, 1.0) == 0.5);
        assert_true(ltrr_rng_beta(&rng, 1.0, NAN) == 0.5);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_splitmix64_vectors),
                cmocka_unit_test(test_xoshiro_vectors),
                cmocka_unit_test(test_seed_from_id),
                cmocka_unit_test(test_reproducible),
                cmocka_unit_test(test_uniform_and_below),
                cmocka_unit_test(test_gauss_moments),
                cmocka_unit_test(test_gamma_moments),
                cmocka_unit_test(test_beta_moments),
                cmocka_unit_test(test_invalid_parameters),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
