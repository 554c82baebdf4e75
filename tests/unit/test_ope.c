/* Unit tests: off-policy estimators, bootstrap intervals, generator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ope.h"

#define EPS 1e-12

/* cmocka 1.1.5 has no double comparison; this one prints both values. */
static void check_close(double got, double want, double eps, int line)
{
        if (!(fabs(got - want) <= eps))
                fail_msg("line %d: got %.17g, want %.17g (eps %g)", line, got,
                         want, eps);
}
#define assert_close(got, want, eps) \
        check_close((got), (want), (eps), __LINE__)

/* Four rows whose estimates are worked out by hand below. */
static const ltrr_ope_row_t tiny[4] = {
        /* reward, propensity, target_prob, q_logged, q_target; w */
        {1.0, 0.50, 0.5, 0.50, 0.4}, /* w = 1 */
        {0.0, 0.25, 0.5, 0.50, 0.4}, /* w = 2 */
        {1.0, 0.50, 1.0, 0.25, 0.8}, /* w = 2 */
        {0.0, 1.00, 0.0, 0.50, 0.2}, /* w = 0 */
};

static ltrr_ope_t *tiny_ope(void)
{
        char errstr[128];
        ltrr_ope_t *ope = ltrr_ope_new(4, errstr, sizeof(errstr));
        int i;

        assert_non_null(ope);
        for (i = 0; i < 4; i++)
                assert_int_equal(ltrr_ope_add(ope, &tiny[i], errstr,
                                              sizeof(errstr)), LTRR_OK);
        return ope;
}

static void test_tiny_exact(void **state)
{
        ltrr_ope_t *ope = tiny_ope();
        ltrr_ope_conf_t conf;
        ltrr_ope_report_t rep;
        char errstr[128];
        int e;

        ltrr_ope_conf_init(&conf);
        conf.bootstrap = 0;
        conf.switch_tau = 1.5;
        assert_int_equal(ltrr_ope_evaluate(ope, &conf, &rep, errstr,
                                           sizeof(errstr)), LTRR_OK);
        /* IPS (1 + 0 + 2 + 0) / 4; SNIPS 3 / 5; DM 1.8 / 4 */
        assert_close(rep.est[LTRR_OPE_IPS].value, 0.75, EPS);
        assert_close(rep.est[LTRR_OPE_SNIPS].value, 0.6, EPS);
        assert_close(rep.est[LTRR_OPE_DM].value, 0.45, EPS);
        /* DR terms 0.9, -0.6, 2.3, 0.2; Switch-DR drops both w = 2
         * corrections: 0.9, 0.4, 0.8, 0.2 */
        assert_close(rep.est[LTRR_OPE_DR].value, 0.7, EPS);
        assert_close(rep.est[LTRR_OPE_SWITCH_DR].value, 0.575, EPS);
        assert_close(rep.ess, 25.0 / 9.0, EPS);
        assert_close(rep.max_weight, 2.0, EPS);
        assert_close(rep.mean_weight, 1.25, EPS);
        assert_int_equal(rep.n_switched, 2);
        assert_int_equal(rep.n, 4);
        for (e = 0; e < LTRR_OPE__CNT; e++) { /* no bootstrap: ci = value */
                assert_close(rep.est[e].ci_low, rep.est[e].value, 0);
                assert_close(rep.est[e].ci_high, rep.est[e].value, 0);
        }
        /* a tau above every weight makes Switch-DR equal DR */
        conf.switch_tau = 2.0;
        assert_int_equal(ltrr_ope_evaluate(ope, &conf, &rep, errstr,
                                           sizeof(errstr)), LTRR_OK);
        assert_close(rep.est[LTRR_OPE_SWITCH_DR].value, 0.7, EPS);
        assert_int_equal(rep.n_switched, 0);
        ltrr_ope_destroy(ope);
}

static void test_row_model(void **state)
{
        const double pi[3] = {0.2, 0.3, 0.5}, q[3] = {1.0, 2.0, 3.0};
        const double short_pi[3] = {0.2, 0.3, 0.4};
        const double neg_pi[3] = {-0.1, 0.6, 0.5};
        const double nan_q[3] = {1.0, NAN, 3.0};
        ltrr_ope_row_t row = {1.0, 0.5, 0, 0, 0};
        char errstr[128];

        assert_int_equal(ltrr_ope_row_model(&row, pi, q, 3, 1, errstr,
                                            sizeof(errstr)), LTRR_OK);
        assert_close(row.target_prob, 0.3, EPS);
        assert_close(row.q_logged, 2.0, EPS);
        assert_close(row.q_target, 2.3, EPS);
        assert_close(row.reward, 1.0, 0);
        assert_int_equal(ltrr_ope_row_model(&row, pi, q, 3, 3, errstr,
                                            sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, "out of range"));
        assert_int_equal(ltrr_ope_row_model(&row, short_pi, q, 3, 0, errstr,
                                            sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, "sums to"));
        assert_int_equal(ltrr_ope_row_model(&row, neg_pi, q, 3, 0, errstr,
                                            sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_ope_row_model(&row, pi, nan_q, 3, 0, errstr,
                                            sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
}

static void test_bad_inputs(void **state)
{
        ltrr_ope_row_t row = {1.0, 0.0, 0.5, 0.5, 0.5};
        ltrr_ope_conf_t conf;
        ltrr_ope_report_t rep;
        char errstr[128];
        ltrr_ope_t *ope;

        assert_null(ltrr_ope_new(0, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "capacity"));
        assert_null(ltrr_ope_new(LTRR_OPE_ROWS_MAX + 1, errstr,
                                 sizeof(errstr)));
        ltrr_ope_destroy(NULL);
        assert_non_null(ope = ltrr_ope_new(1, errstr, sizeof(errstr)));
        assert_int_equal(ltrr_ope_evaluate(ope, NULL, &rep, errstr,
                                           sizeof(errstr)), LTRR_ERR_STATE);
        /* zero propensity is refused and nothing is added */
        assert_int_equal(ltrr_ope_add(ope, &row, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, "propensity"));
        row.propensity = 1.5;
        assert_int_equal(ltrr_ope_add(ope, &row, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        row.propensity = 0.5;
        row.target_prob = 1.01;
        assert_int_equal(ltrr_ope_add(ope, &row, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        row.target_prob = 0.5;
        row.reward = NAN;
        assert_int_equal(ltrr_ope_add(ope, &row, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_ope_count(ope), 0);
        /* the target never takes the logged action: no estimate */
        row.reward = 1.0;
        row.target_prob = 0.0;
        assert_int_equal(ltrr_ope_add(ope, &row, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_ope_add(ope, &row, errstr, sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_ope_evaluate(ope, NULL, &rep, errstr,
                                           sizeof(errstr)), LTRR_ERR_RANGE);
        ltrr_ope_conf_init(&conf);
        conf.level = 1.0;
        assert_int_equal(ltrr_ope_evaluate(ope, &conf, &rep, errstr,
                                           sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        ltrr_ope_conf_init(&conf);
        conf.switch_tau = 0.0;
        assert_int_equal(ltrr_ope_evaluate(ope, &conf, &rep, errstr,
                                           sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        ltrr_ope_conf_init(&conf);
        conf.bootstrap = LTRR_OPE_BOOTSTRAP_MAX + 1;
        assert_int_equal(ltrr_ope_evaluate(ope, &conf, &rep, errstr,
                                           sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        ltrr_ope_destroy(ope);
}

static void test_bootstrap_deterministic(void **state)
{
        ltrr_ope_t *ope = tiny_ope();
        ltrr_ope_report_t a, b, c;
        ltrr_ope_conf_t conf;
        char errstr[128];
        int e;

        ltrr_ope_conf_init(&conf);
        conf.bootstrap = 500;
        conf.seed = 42;
        assert_int_equal(ltrr_ope_evaluate(ope, &conf, &a, errstr,
                                           sizeof(errstr)), LTRR_OK);
        assert_int_equal(ltrr_ope_evaluate(ope, &conf, &b, errstr,
                                           sizeof(errstr)), LTRR_OK);
        assert_memory_equal(&a, &b, sizeof(a));
        conf.seed = 43;
        assert_int_equal(ltrr_ope_evaluate(ope, &conf, &c, errstr,
                                           sizeof(errstr)), LTRR_OK);
        assert_true(memcmp(a.est, c.est, sizeof(a.est)) != 0);
        for (e = 0; e < LTRR_OPE__CNT; e++) {
                assert_close(a.est[e].value, c.est[e].value, 0);
                assert_true(a.est[e].ci_low <= a.est[e].ci_high);
                assert_true(a.est[e].ci_low < a.est[e].ci_high ||
                            e == LTRR_OPE_SNIPS);
        }
        /* IPS of a resample lies in [0, 2]: rewards are 0/1 and w <= 2 */
        assert_true(a.est[LTRR_OPE_IPS].ci_low >= 0.0);
        assert_true(a.est[LTRR_OPE_IPS].ci_high <= 2.0);
        ltrr_ope_destroy(ope);
}

/* --- synthetic bandit with a known target value --------------------------- */

#define SYN_CTX 4
#define SYN_ACT 3
#define SYN_ROWS 600
#define SYN_REPS 200

static const double syn_mu[SYN_CTX][SYN_ACT] = { /* click probabilities */
        {0.10, 0.50, 0.30}, {0.70, 0.20, 0.40},
        {0.25, 0.25, 0.60}, {0.05, 0.80, 0.15}};
static const double syn_log[SYN_CTX][SYN_ACT] = { /* logging policy */
        {0.6, 0.2, 0.2}, {0.2, 0.5, 0.3},
        {0.3, 0.4, 0.3}, {0.5, 0.25, 0.25}};
static const double syn_tgt[SYN_CTX][SYN_ACT] = { /* target policy */
        {0.1, 0.7, 0.2}, {0.8, 0.1, 0.1},
        {0.1, 0.1, 0.8}, {0.0, 0.9, 0.1}};

static double syn_truth(void)
{
        double v = 0;
        int x, a;

        for (x = 0; x < SYN_CTX; x++)
                for (a = 0; a < SYN_ACT; a++)
                        v += syn_tgt[x][a] * syn_mu[x][a] / SYN_CTX;
        return v;
}

static size_t draw_action(ltrr_rng_t *rng, const double *p)
{
        double u = ltrr_rng_uniform(rng), c = 0;
        size_t a;

        for (a = 0; a + 1 < SYN_ACT; a++)
                if (u < (c += p[a]))
                        return a;
        return SYN_ACT - 1;
}

/* One replication; the reward model is off by +0.1 everywhere, so DM is
 * biased while DR stays unbiased. */
static void syn_replicate(uint64_t seed, ltrr_ope_report_t *rep)
{
        ltrr_rng_t rng;
        ltrr_ope_conf_t conf;
        ltrr_ope_row_t row;
        double q[SYN_ACT];
        char errstr[128];
        ltrr_ope_t *ope = ltrr_ope_new(SYN_ROWS, errstr, sizeof(errstr));
        size_t i, x, a;

        assert_non_null(ope);
        ltrr_rng_seed(&rng, seed);
        for (i = 0; i < SYN_ROWS; i++) {
                x = ltrr_rng_below(&rng, SYN_CTX);
                a = draw_action(&rng, syn_log[x]);
                for (size_t k = 0; k < SYN_ACT; k++)
                        q[k] = syn_mu[x][k] + 0.1;
                row.reward = ltrr_rng_uniform(&rng) < syn_mu[x][a];
                row.propensity = syn_log[x][a];
                assert_int_equal(ltrr_ope_row_model(&row, syn_tgt[x], q,
                                                    SYN_ACT, a, errstr,
                                                    sizeof(errstr)), LTRR_OK);
                assert_int_equal(ltrr_ope_add(ope, &row, errstr,
                                              sizeof(errstr)), LTRR_OK);
        }
        ltrr_ope_conf_init(&conf);
        conf.bootstrap = 200;
        conf.seed = seed ^ 0x5eed;
        assert_int_equal(ltrr_ope_evaluate(ope, &conf, rep, errstr,
                                           sizeof(errstr)), LTRR_OK);
        ltrr_ope_destroy(ope);
}

static void test_synthetic_coverage(void **state)
{
        int covered[LTRR_OPE__CNT] = {0}, r, e;
        double truth = syn_truth(), dm_mean = 0;
        ltrr_ope_report_t rep;

        for (r = 0; r < SYN_REPS; r++) {
                syn_replicate(1000 + (uint64_t)r, &rep);
                for (e = 0; e < LTRR_OPE__CNT; e++)
                        covered[e] += rep.est[e].ci_low <= truth &&
                                      truth <= rep.est[e].ci_high;
                dm_mean += rep.est[LTRR_OPE_DM].value / SYN_REPS;
        }
        print_message("truth %.4f coverage ips %d snips %d dm %d dr %d "
                      "switch_dr %d of %d\n", truth, covered[0], covered[1],
                      covered[2], covered[3], covered[4], SYN_REPS);
        assert_true(covered[LTRR_OPE_IPS] >= SYN_REPS * 85 / 100);
        assert_true(covered[LTRR_OPE_SNIPS] >= SYN_REPS * 85 / 100);
        assert_true(covered[LTRR_OPE_DR] >= SYN_REPS * 85 / 100);
        assert_true(covered[LTRR_OPE_SWITCH_DR] >= SYN_REPS * 85 / 100);
        /* the biased model shows: DM sits 0.1 above and rarely covers */
        assert_close(dm_mean, truth + 0.1, 0.01);
        assert_true(covered[LTRR_OPE_DM] < SYN_REPS / 10);
}

static void test_rng_and_names(void **state)
{
        ltrr_rng_t a, b;
        int i, hist[5] = {0};

        ltrr_rng_seed(&a, 7);
        ltrr_rng_seed(&b, 7);
        for (i = 0; i < 100; i++)
                assert_true(ltrr_rng_next(&a) == ltrr_rng_next(&b));
        ltrr_rng_seed(&b, 8);
        assert_true(ltrr_rng_next(&a) != ltrr_rng_next(&b));
        for (i = 0; i < 50000; i++) {
                double u = ltrr_rng_uniform(&a);

                assert_true(u >= 0.0 && u < 1.0);
                hist[ltrr_rng_below(&a, 5)]++;
        }
        for (i = 0; i < 5; i++) /* 10000 expected, sd ~ 89 */
                assert_in_range(hist[i], 9500, 10500);
        assert_int_equal(ltrr_rng_below(&a, 0), 0);
        assert_int_equal(ltrr_rng_below(&a, 1), 0);
        assert_string_equal(ltrr_ope_est_name(LTRR_OPE_IPS), "ips");
        assert_string_equal(ltrr_ope_est_name(LTRR_OPE_SNIPS), "snips");
        assert_string_equal(ltrr_ope_est_name(LTRR_OPE_DM), "dm");
        assert_string_equal(ltrr_ope_est_name(LTRR_OPE_DR), "dr");
        assert_string_equal(ltrr_ope_est_name(LTRR_OPE_SWITCH_DR),
                            "switch_dr");
        assert_string_equal(ltrr_ope_est_name(LTRR_OPE__CNT), "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tiny_exact),
                cmocka_unit_test(test_row_model),
                cmocka_unit_test(test_bad_inputs),
                cmocka_unit_test(test_bootstrap_deterministic),
                cmocka_unit_test(test_synthetic_coverage),
                cmocka_unit_test(test_rng_and_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
