/* Unit tests: the per-bucket Monte-Carlo propensity cache
 * (ltrr_policy_decide_cached). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bandit.h"
#include "bstats.h"
#include "rng.h"

#define M 128
#define HALF_LIFE 86400.0

typedef struct fx_s {
        ltrr_bandit_space_t sp;
        ltrr_policy_t *pol;
        ltrr_bstats_t *st;
        ltrr_policy_mc_cache_t *c;
        char errstr[256];
} fx_t;

/* Four arms, budgets {10, 25, 50}, total 60; arm 0 always on. */
static void space_make(ltrr_bandit_space_t *sp)
{
        static const char *const names[] = {"lexical", "popular", "memory",
                                            "fresh"};
        size_t a;

        memset(sp, 0, sizeof(*sp));
        sp->n_arms = 4;
        for (a = 0; a < 4; a++)
                strcpy(sp->arm_names[a], names[a]);
        sp->min_budget[0] = 10;
        sp->n_budgets = 3;
        sp->budgets[0] = 10;
        sp->budgets[1] = 25;
        sp->budgets[2] = 50;
        sp->total_budget = 60;
        sp->feature_version = 2;
}

static ltrr_policy_t *policy_make(const ltrr_bandit_space_t *sp,
                                  ltrr_policy_kind_t kind, unsigned mc)
{
        ltrr_policy_conf_t conf;
        char errstr[128];
        ltrr_policy_t *pol;

        ltrr_policy_conf_init(&conf, kind);
        conf.space = *sp;
        conf.mc_samples = mc;
        pol = ltrr_policy_new(&conf, errstr, sizeof(errstr));
        if (!pol)
                fail_msg("policy_new: %s", errstr);
        return pol;
}

/* Observations where arm a succeeds with probability (a + 1) / 6. */
static void observe(ltrr_bstats_t *st, size_t n, uint64_t seed)
{
        ltrr_bstats_obs_t o = {0};
        ltrr_rng_t rng;
        size_t k;

        ltrr_rng_seed(&rng, seed);
        for (k = 0; k < n; k++) {
                o.arm = ltrr_rng_below(&rng, 4);
                o.budget_idx = ltrr_rng_below(&rng, 3);
                o.reward = ltrr_rng_uniform(&rng) < (o.arm + 1) / 6.0;
                o.t = 500.0;
                assert_int_equal(ltrr_bstats_observe(st, &o, NULL, 0), LTRR_OK);
        }
}

static void ctx_make(ltrr_bandit_ctx_t *ctx, uint64_t seed)
{
        memset(ctx, 0, sizeof(*ctx));
        ctx->feature_version = 2;
        ctx->bucket = 7;
        ctx->available = 0xf;
        ctx->now = 1000.0;
        ctx->seed = seed;
}

static int setup(void **state)
{
        fx_t *fx = calloc(1, sizeof(*fx));

        assert_non_null(fx);
        space_make(&fx->sp);
        fx->pol = policy_make(&fx->sp, LTRR_POLICY_THOMPSON, M);
        fx->st = ltrr_bstats_new(&fx->sp, HALF_LIFE, 0.0, fx->errstr,
                                 sizeof(fx->errstr));
        assert_non_null(fx->st);
        observe(fx->st, 300, 11);
        fx->c = ltrr_policy_mc_cache_new(fx->errstr, sizeof(fx->errstr));
        assert_non_null(fx->c);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        fx_t *fx = *state;

        ltrr_policy_mc_cache_destroy(fx->c);
        ltrr_bstats_destroy(fx->st);
        ltrr_policy_destroy(fx->pol);
        free(fx);
        return 0;
}

static ltrr_decision_t decide(fx_t *fx, ltrr_policy_mc_cache_t *c,
                              const ltrr_bandit_ctx_t *ctx)
{
        ltrr_decision_t dec;

        assert_int_equal(ltrr_policy_decide_cached(fx->pol, c, ctx, fx->st,
                                                   &dec, fx->errstr,
                                                   sizeof(fx->errstr)),
                         LTRR_OK);
        return dec;
}

static void hits_are(const fx_t *fx, uint64_t hits, uint64_t misses)
{
        uint64_t h, m;

        ltrr_policy_mc_cache_stats(fx->c, &h, &m);
        assert_int_equal(h, hits);
        assert_int_equal(m, misses);
}

/* A miss is exactly the uncached decision; the next query of the bucket
 * makes the uncached choice too, with probabilities from M + 1 draws. */
static void test_miss_then_hit(void **state)
{
        fx_t *fx = *state;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t plain, cached;
        size_t a;

        ctx_make(&ctx, 42);
        plain = decide(fx, NULL, &ctx);
        cached = decide(fx, fx->c, &ctx);
        hits_are(fx, 0, 1);
        assert_int_equal(cached.mc_samples, M);
        assert_memory_equal(plain.arms, cached.arms, sizeof(plain.arms));

        ctx_make(&ctx, 4242);
        plain = decide(fx, NULL, &ctx);
        cached = decide(fx, fx->c, &ctx);
        hits_are(fx, 1, 1);
        assert_int_equal(cached.mc_samples, M + 1);
        assert_int_equal(cached.total, plain.total);
        for (a = 0; a < fx->sp.n_arms; a++) {
                const ltrr_decision_arm_t *d = &cached.arms[a];

                assert_int_equal(d->ran, plain.arms[a].ran);
                assert_int_equal(d->budget, plain.arms[a].budget);
                /* the chosen option is one of the M + 1 draws */
                assert_true(d->prob_budget >= 1.0 / (M + 1) - 1e-12);
                if (d->ran)
                        assert_true(d->prob >= d->prob_budget - 1e-12);
                else
                        assert_true(fabs(d->prob_budget - (1.0 - d->prob)) <
                                    1e-12);
                /* counts over M + 1 draws */
                assert_true(fabs(d->prob * (M + 1) -
                                 round(d->prob * (M + 1))) < 1e-9);
        }
        assert_true(cached.arms[0].ran);
        assert_true(fabs(cached.arms[0].prob - 1.0) < 1e-12);
}

/* The cached probabilities estimate the same quantity as a large
 * Monte-Carlo run: within 4 standard errors of M draws. */
static void test_accuracy(void **state)
{
        fx_t *fx = *state;
        ltrr_policy_t *big = policy_make(&fx->sp, LTRR_POLICY_THOMPSON,
                                         65536);
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t ref, dec;
        size_t a;

        ctx_make(&ctx, 1);
        assert_int_equal(ltrr_policy_decide(big, &ctx, fx->st, &ref,
                                            fx->errstr, sizeof(fx->errstr)),
                         LTRR_OK);
        decide(fx, fx->c, &ctx);
        ctx_make(&ctx, 2);
        dec = decide(fx, fx->c, &ctx);
        hits_are(fx, 1, 1);
        for (a = 0; a < fx->sp.n_arms; a++) {
                double p = ref.arms[a].prob;
                double se = sqrt(p * (1.0 - p) / M) + 1.0 / M;

                assert_true(fabs(dec.arms[a].prob - p) <= 4.0 * se);
        }
        ltrr_policy_destroy(big);
}

/* New statistics, other arms or time past the drift bound: a miss. */
static void test_invalidation(void **state)
{
        fx_t *fx = *state;
        ltrr_bandit_ctx_t ctx;
        double dt;

        ctx_make(&ctx, 5);
        decide(fx, fx->c, &ctx);
        ctx.seed = 6;
        decide(fx, fx->c, &ctx);
        hits_are(fx, 1, 1);

        observe(fx->st, 1, 99);
        ctx.seed = 7;
        decide(fx, fx->c, &ctx);
        hits_are(fx, 1, 2);

        ctx.available = 0x7;
        decide(fx, fx->c, &ctx);
        hits_are(fx, 1, 3);

        /* decay of 0.05% since the entry: still a hit; 0.2%: a miss */
        dt = HALF_LIFE * log2(1.0 + LTRR_POLICY_MC_CACHE_DRIFT / 2);
        ctx.now += dt;
        decide(fx, fx->c, &ctx);
        hits_are(fx, 2, 3);
        ctx.now += 3.0 * dt;
        decide(fx, fx->c, &ctx);
        hits_are(fx, 2, 4);

        /* another bucket in another slot keeps this one */
        ctx.bucket = 8;
        decide(fx, fx->c, &ctx);
        hits_are(fx, 2, 5);
        ctx.bucket = 7;
        decide(fx, fx->c, &ctx);
        hits_are(fx, 3, 5);
        /* the same slot (bucket + slots) replaces it */
        ctx.bucket = 7 + LTRR_POLICY_MC_CACHE_SLOTS;
        decide(fx, fx->c, &ctx);
        ctx.bucket = 7;
        decide(fx, fx->c, &ctx);
        hits_are(fx, 3, 7);
}

/* Other policies never use the cache; a bad context still fails. */
static void test_other_policies_and_errors(void **state)
{
        fx_t *fx = *state;
        ltrr_policy_t *eg = policy_make(&fx->sp, LTRR_POLICY_EGREEDY, M);
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t a, b;

        ctx_make(&ctx, 9);
        assert_int_equal(ltrr_policy_decide(eg, &ctx, fx->st, &a, fx->errstr,
                                            sizeof(fx->errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_policy_decide_cached(eg, fx->c, &ctx, fx->st,
                                                   &b, fx->errstr,
                                                   sizeof(fx->errstr)),
                         LTRR_OK);
        assert_memory_equal(a.arms, b.arms, sizeof(a.arms));
        hits_are(fx, 0, 0);
        ltrr_policy_destroy(eg);

        ctx.feature_version = 3;
        assert_int_equal(ltrr_policy_decide_cached(fx->pol, fx->c, &ctx,
                                                   fx->st, &b, fx->errstr,
                                                   sizeof(fx->errstr)),
                         LTRR_ERR_SCHEMA);
        ctx.feature_version = 2;
        assert_int_equal(ltrr_policy_decide_cached(fx->pol, fx->c, &ctx, NULL,
                                                   &b, fx->errstr,
                                                   sizeof(fx->errstr)),
                         LTRR_ERR_INVALID_ARG);
        hits_are(fx, 0, 0);
}

/* Logged probabilities stay calibrated: over many queries of one bucket
 * the share that ran each arm matches the mean logged probability. */
static void test_calibration(void **state)
{
        fx_t *fx = *state;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec;
        double ran[4] = {0}, prob[4] = {0};
        size_t a, i, n = 3000;

        for (i = 0; i < n; i++) {
                ctx_make(&ctx, 1000 + i);
                dec = decide(fx, fx->c, &ctx);
                for (a = 0; a < 4; a++) {
                        ran[a] += dec.arms[a].ran;
                        prob[a] += dec.arms[a].prob;
                }
        }
        hits_are(fx, n - 1, 1);
        for (a = 0; a < 4; a++) {
                double p = ran[a] / n, se = sqrt(p * (1.0 - p) / n);

                /* the cached estimate has its own error, sqrt(p(1-p)/M) */
                assert_true(fabs(prob[a] / n - p) <=
                            4.0 * (se + sqrt(p * (1.0 - p) / M)) + 1e-9);
        }
}

static void test_null(void **state)
{
        uint64_t h = 1, m = 1;

        (void)state;
        ltrr_policy_mc_cache_destroy(NULL);
        ltrr_policy_mc_cache_stats(NULL, &h, &m);
        assert_int_equal(h, 0);
        assert_int_equal(m, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_miss_then_hit, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_accuracy, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_invalidation, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_other_policies_and_errors,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_calibration, setup,
                                                teardown),
                cmocka_unit_test(test_null),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
