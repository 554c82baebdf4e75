/* Unit tests: examination propensity per position. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "position_bias.h"

#define K 10            /* positions shown */
#define DOCS 10         /* candidates per query */

/* splitmix64, local to the test so it depends on nothing else. */
static uint64_t t_rand(uint64_t *st)
{
        uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static double t_unif(uint64_t *st)
{
        return (double)(t_rand(st) >> 11) / 9007199254740992.0;
}

static double t_gauss(uint64_t *st)
{
        double u = t_unif(st), v = t_unif(st);

        return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* True examination probability of the simulated users: 1 / p^0.9. */
static double true_theta(int p)
{
        return pow((double)p, -0.9);
}

static void test_init_and_lookup(void **state)
{
        ltrr_pbias_table_t tab;
        char errstr[128] = "";

        assert_int_equal(ltrr_pbias_table_init(&tab, 0, 0.1, errstr,
                                               sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, "npos"));
        assert_int_equal(ltrr_pbias_table_init(&tab, LTRR_PBIAS_MAX_POS + 1,
                                               0.1, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_pbias_table_init(&tab, 5, 0.0, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_pbias_table_init(&tab, 5, 1.5, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_pbias_table_init(&tab, 3, 0.1, NULL, 0),
                         LTRR_OK);
        tab.prop[1] = 0.5;
        tab.prop[2] = 0.01; /* below the floor: lookups floor it */
        assert_float_equal(ltrr_pbias_propensity(&tab, 1), 1.0, 1e-12);
        assert_float_equal(ltrr_pbias_propensity(&tab, 0), 1.0, 1e-12);
        assert_float_equal(ltrr_pbias_propensity(&tab, 2), 0.5, 1e-12);
        assert_float_equal(ltrr_pbias_propensity(&tab, 3), 0.1, 1e-12);
        assert_float_equal(ltrr_pbias_propensity(&tab, 50), 0.1, 1e-12);
        assert_float_equal(ltrr_pbias_ipw_label(&tab, 2, 1, 10), 2.0, 1e-12);
        assert_float_equal(ltrr_pbias_ipw_label(&tab, 2, 0, 10), 0.0, 1e-12);
        assert_float_equal(ltrr_pbias_ipw_label(&tab, 3, 1, 4), 4.0, 1e-12);
}

/*
 * Randomized traffic: each impression shows DOCS random-relevance
 * documents in a random order; clicks follow the position-based model.
 * Every 4th impression is not randomized (ranked by relevance) and must
 * be ignored by the randomized estimator.
 */
static ltrr_pbias_obs_t *sim_randomized(size_t imps, size_t *n, uint64_t seed)
{
        ltrr_pbias_obs_t *obs = calloc(imps * K, sizeof(*obs));
        uint64_t st = seed;
        size_t i, m = 0;
        int p, rnd;
        double rel;

        assert_non_null(obs);
        for (i = 0; i < imps; i++) {
                rnd = i % 4 != 0;
                for (p = 1; p <= K; p++) {
                        /* Non-randomized: relevance falls with position. */
                        rel = rnd ? 0.1 + 0.8 * t_unif(&st)
                                  : 0.9 - 0.08 * (p - 1);
                        obs[m].position = (uint16_t)p;
                        obs[m].randomized = (uint8_t)rnd;
                        obs[m].clicked =
                            t_unif(&st) < true_theta(p) * rel ? 1 : 0;
                        m++;
                }
        }
        *n = m;
        return obs;
}

static void test_randomized_recovers_truth(void **state)
{
        ltrr_pbias_table_t tab;
        ltrr_pbias_obs_t *obs;
        char errstr[128];
        double maxerr = 0, e;
        size_t n;
        int p;

        obs = sim_randomized(200000, &n, 42);
        assert_int_equal(ltrr_pbias_estimate_randomized(obs, n, K, 0.05, &tab,
                                                        errstr,
                                                        sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(tab.npos, K);
        assert_float_equal(tab.prop[0], 1.0, 1e-12);
        assert_int_equal(tab.shown[0], 150000);
        for (p = 1; p <= K; p++) {
                e = fabs(tab.prop[p - 1] - true_theta(p));
                if (e > maxerr)
                        maxerr = e;
        }
        print_message("randomized estimator: max |error| %.4f\n", maxerr);
        assert_true(maxerr < 0.02);
        free(obs);
}

/*
 * Logged traffic without shuffles: each query has DOCS documents with a
 * fixed relevance; each impression ranks them by relevance plus noise
 * (standing in for the bandit's varying choice of arms), so each
 * (query, document) pair is seen at several positions.
 */
static ltrr_pbias_obs_t *sim_logged(size_t queries, size_t imps_per_q,
                                    size_t *n, uint64_t seed)
{
        ltrr_pbias_obs_t *obs = calloc(queries * imps_per_q * K, sizeof(*obs));
        double rel[DOCS], key[DOCS], t;
        int order[DOCS], a, b, p, ti;
        uint64_t st = seed;
        size_t q, i, m = 0;

        assert_non_null(obs);
        for (q = 0; q < queries; q++) {
                for (a = 0; a < DOCS; a++)
                        rel[a] = 0.05 + 0.9 * t_unif(&st);
                for (i = 0; i < imps_per_q; i++) {
                        for (a = 0; a < DOCS; a++) {
                                key[a] = rel[a] + 0.35 * t_gauss(&st);
                                order[a] = a;
                        }
                        for (a = 1; a < DOCS; a++) /* insertion sort */
                                for (b = a; b > 0 &&
                                     key[order[b]] > key[order[b - 1]]; b--) {
                                        ti = order[b];
                                        order[b] = order[b - 1];
                                        order[b - 1] = ti;
                                }
                        for (p = 1; p <= K; p++) {
                                a = order[p - 1];
                                t = true_theta(p) * rel[a];
                                obs[m].pair = (uint32_t)(q * DOCS + (size_t)a);
                                obs[m].position = (uint16_t)p;
                                obs[m].clicked = t_unif(&st) < t ? 1 : 0;
                                m++;
                        }
                }
        }
        *n = m;
        return obs;
}

static void test_em_recovers_truth(void **state)
{
        ltrr_pbias_table_t tab, naive;
        ltrr_pbias_obs_t *obs;
        char errstr[128];
        double maxerr = 0, nerr = 0, e;
        size_t n;
        int p;

        obs = sim_logged(2000, 60, &n, 7);
        assert_int_equal(ltrr_pbias_estimate_em(obs, n, 2000 * DOCS, K, 0.05,
                                                100, &tab, errstr,
                                                sizeof(errstr)),
                         LTRR_OK);
        /* Treating logged traffic as if it were randomized is biased:
         * relevant documents sit on top, so CTR falls faster than
         * examination. The EM estimate must do much better. */
        for (p = 0; p < (int)n; p++)
                obs[p].randomized = 1;
        assert_int_equal(ltrr_pbias_estimate_randomized(obs, n, K, 0.05,
                                                        &naive, NULL, 0),
                         LTRR_OK);
        for (p = 1; p <= K; p++) {
                e = fabs(tab.prop[p - 1] - true_theta(p));
                maxerr = e > maxerr ? e : maxerr;
                e = fabs(naive.prop[p - 1] - true_theta(p));
                nerr = e > nerr ? e : nerr;
        }
        print_message("EM estimator: max |error| %.4f (CTR ratio %.4f)\n",
                      maxerr, nerr);
        assert_true(maxerr < 0.03);
        assert_true(nerr > 3 * maxerr);
        free(obs);
}

static void test_floor_and_missing_positions(void **state)
{
        ltrr_pbias_obs_t obs[] = {
            {0, 1, 1, 1}, {0, 1, 1, 1}, {0, 1, 0, 1}, {0, 1, 0, 1},
            {0, 2, 1, 1}, {0, 2, 0, 1}, {0, 2, 0, 1}, {0, 2, 0, 1},
            {0, 4, 0, 1}, {0, 4, 0, 1}, {0, 3, 1, 0}, /* not randomized */
        };
        ltrr_pbias_table_t tab;

        assert_int_equal(ltrr_pbias_estimate_randomized(
                             obs, sizeof(obs) / sizeof(obs[0]), 5, 0.1, &tab,
                             NULL, 0),
                         LTRR_OK);
        assert_float_equal(tab.prop[0], 1.0, 1e-12);
        assert_float_equal(tab.prop[1], 0.5, 1e-12);  /* 0.25 / 0.5 */
        assert_float_equal(tab.prop[2], 0.5, 1e-12);  /* no data: above */
        assert_float_equal(tab.prop[3], 0.1, 1e-12);  /* 0 clicks: floor */
        assert_float_equal(tab.prop[4], 0.1, 1e-12);  /* no data: above */
        assert_int_equal(tab.shown[2], 0);
        assert_int_equal(tab.shown[3], 2);
}

static void test_failure_paths(void **state)
{
        ltrr_pbias_obs_t noclick[] = {{0, 1, 0, 1}, {1, 2, 0, 1}};
        ltrr_pbias_obs_t badpair[] = {{0, 1, 1, 1}, {5, 2, 0, 1}};
        ltrr_pbias_table_t tab;
        char errstr[128] = "";

        assert_int_equal(ltrr_pbias_estimate_randomized(noclick, 2, 5, 0.1,
                                                        &tab, errstr,
                                                        sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_non_null(strstr(errstr, "position 1"));
        assert_int_equal(ltrr_pbias_estimate_randomized(NULL, 0, 5, 0.1, &tab,
                                                        NULL, 0),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_pbias_estimate_randomized(noclick, 2, 0, 0.1,
                                                        &tab, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_pbias_estimate_em(noclick, 2, 2, 5, 0.1, 10,
                                                &tab, NULL, 0),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_pbias_estimate_em(badpair, 2, 2, 5, 0.1, 10,
                                                &tab, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, "pair 5"));
        assert_int_equal(ltrr_pbias_estimate_em(badpair, 1, 0, 5, 0.1, 10,
                                                &tab, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_pbias_estimate_em(badpair, 1, 1, 5, 0.1, 0,
                                                &tab, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_pbias_estimate_em(badpair, 1, SIZE_MAX, 5, 0.1,
                                                10, &tab, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_init_and_lookup),
            cmocka_unit_test(test_randomized_recovers_truth),
            cmocka_unit_test(test_em_recovers_truth),
            cmocka_unit_test(test_floor_and_missing_positions),
            cmocka_unit_test(test_failure_paths),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
