/* Unit tests: bandit policies, allocation and probabilities. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bandit.h"
#include "bstats.h"
#include "rng.h"

static const char *const arm8[] = {"lexical", "popular",  "structured",
                                   "fuzzy",   "semantic", "memory",
                                   "personal", "fresh"};
static const ltrr_policy_kind_t kinds[] = {
        LTRR_POLICY_EGREEDY, LTRR_POLICY_THOMPSON, LTRR_POLICY_LINUCB,
        LTRR_POLICY_LINTS};
#define N_KINDS 4

/* n arms named after the product's arms, budgets {10,25,50,100}, total
 * 200, lexical always on with at least 10. */
static void space_make(ltrr_bandit_space_t *sp, size_t n, size_t dim)
{
        size_t a;

        memset(sp, 0, sizeof(*sp));
        sp->n_arms = n;
        for (a = 0; a < n && a < LTRR_BANDIT_MAX_ARMS; a++)
                strcpy(sp->arm_names[a], arm8[a]);
        sp->min_budget[0] = 10;
        sp->n_budgets = 4;
        sp->budgets[0] = 10;
        sp->budgets[1] = 25;
        sp->budgets[2] = 50;
        sp->budgets[3] = 100;
        sp->total_budget = 200;
        sp->dim = dim;
        sp->feature_version = 2;
}

static ltrr_policy_t *policy_make(ltrr_policy_kind_t kind,
                                  const ltrr_bandit_space_t *sp, unsigned mc)
{
        ltrr_policy_conf_t conf;
        ltrr_policy_t *pol;
        char errstr[128];

        ltrr_policy_conf_init(&conf, kind);
        conf.space = *sp;
        conf.mc_samples = mc;
        pol = ltrr_policy_new(&conf, errstr, sizeof(errstr));
        if (!pol)
                fail_msg("policy_new: %s", errstr);
        return pol;
}

/* Random observations: arm a succeeds with probability (a + 1) / 10 at
 * budget level 0 and a bit more at higher levels. */
static void stats_fill(ltrr_bstats_t *st, size_t n, uint64_t seed)
{
        const ltrr_bandit_space_t *sp = ltrr_bstats_space(st);
        float x[LTRR_BANDIT_MAX_DIM];
        ltrr_bstats_obs_t o;
        ltrr_rng_t rng;
        size_t k, i;

        ltrr_rng_seed(&rng, seed);
        for (k = 0; k < n; k++) {
                for (i = 0; i < sp->dim; i++)
                        x[i] = (float)ltrr_rng_uniform(&rng);
                o.arm = ltrr_rng_below(&rng, sp->n_arms);
                o.budget_idx = ltrr_rng_below(&rng, sp->n_budgets);
                o.reward = ltrr_rng_uniform(&rng) <
                                   (o.arm + 1) / 10.0 + 0.05 * o.budget_idx
                           ? 1.0
                           : 0.0;
                o.x = x;
                o.t = (double)k;
                assert_int_equal(ltrr_bstats_observe(st, &o, NULL, 0), LTRR_OK);
        }
}

static void ctx_make(ltrr_bandit_ctx_t *ctx, const ltrr_bandit_space_t *sp,
                     const float *x, uint64_t seed)
{
        memset(ctx, 0, sizeof(*ctx));
        ctx->x = x;
        ctx->dim = sp->dim;
        ctx->feature_version = sp->feature_version;
        ctx->available = (1u << sp->n_arms) - 1;
        ctx->now = 1000.0;
        ctx->seed = seed;
}

/* Invariants of every decision. */
static void check_decision(const ltrr_decision_t *dec,
                           const ltrr_bandit_space_t *sp, uint32_t avail)
{
        unsigned total = 0;
        size_t a;

        assert_int_equal(dec->n_arms, sp->n_arms);
        for (a = 0; a < sp->n_arms; a++) {
                const ltrr_decision_arm_t *d = &dec->arms[a];

                assert_true(d->prob >= 0.0 && d->prob <= 1.0 + 1e-12);
                assert_true(d->prob_budget > 0.0 &&
                            d->prob_budget <= 1.0 + 1e-12);
                if (!d->ran) {
                        assert_int_equal(d->budget, 0);
                        assert_true(d->prob < 1.0);
                        assert_true(!(sp->min_budget[a] && (avail >> a & 1)));
                        continue;
                }
                assert_true(avail >> a & 1);
                assert_true(d->prob > 0.0);
                assert_true(d->prob_budget <= d->prob + 1e-12);
                assert_true(ltrr_bandit_space_budget(sp, d->budget) >= 0);
                assert_true(d->budget >= sp->min_budget[a]);
                total += d->budget;
        }
        assert_int_equal(total, dec->total);
        assert_true(total <= sp->total_budget);
}

static void test_space_check(void **state)
{
        ltrr_bandit_space_t sp;
        char errstr[128];

        space_make(&sp, 8, 0);
        assert_int_equal(ltrr_bandit_space_check(&sp, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_bandit_space_arm(&sp, "memory"), 5);
        assert_int_equal(ltrr_bandit_space_arm(&sp, "nosuch"), -1);
        assert_int_equal(ltrr_bandit_space_budget(&sp, 50), 2);
        assert_int_equal(ltrr_bandit_space_budget(&sp, 11), -1);
        strcpy(sp.arm_names[3], "lexical");
        assert_int_equal(ltrr_bandit_space_check(&sp, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, "twice"));
        strcpy(sp.arm_names[3], "Fuzzy");
        assert_int_equal(ltrr_bandit_space_check(&sp, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        space_make(&sp, 8, 0);
        sp.budgets[2] = 25;
        assert_int_equal(ltrr_bandit_space_check(&sp, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        space_make(&sp, 8, 0);
        sp.min_budget[1] = sp.min_budget[2] = 100; /* 10 + 200 > 200 */
        assert_int_equal(ltrr_bandit_space_check(&sp, NULL, 0), LTRR_ERR_RANGE);
        sp.min_budget[1] = sp.min_budget[2] = 0;
        sp.min_budget[3] = 101;
        assert_int_equal(ltrr_bandit_space_check(&sp, NULL, 0), LTRR_ERR_RANGE);
        space_make(&sp, 8, 0);
        sp.budgets[0] = 1;
        sp.total_budget = 5000; /* 5000 units */
        assert_int_equal(ltrr_bandit_space_check(&sp, NULL, 0), LTRR_ERR_RANGE);
        space_make(&sp, 9, 0);
        assert_int_equal(ltrr_bandit_space_check(&sp, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        space_make(&sp, 8, LTRR_BANDIT_MAX_DIM + 1);
        assert_int_equal(ltrr_bandit_space_check(&sp, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_bandit_space_check(NULL, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
}

static void test_kind_names(void **state)
{
        ltrr_policy_kind_t k;
        int i;

        for (i = 0; i < N_KINDS; i++) {
                assert_int_equal(ltrr_policy_kind_parse(
                                         ltrr_policy_kind2str(kinds[i]), &k),
                                 LTRR_OK);
                assert_int_equal(k, kinds[i]);
        }
        assert_string_equal(ltrr_policy_kind2str(LTRR_POLICY__CNT), "unknown");
        assert_int_equal(ltrr_policy_kind_parse("ucb", &k),
                         LTRR_ERR_UNKNOWN_KEY);
        assert_int_equal(ltrr_policy_kind_parse(NULL, &k),
                         LTRR_ERR_UNKNOWN_KEY);
}

static void test_policy_new_errors(void **state)
{
        ltrr_policy_conf_t conf;
        char errstr[128];

        ltrr_policy_destroy(NULL);
        assert_null(ltrr_policy_new(NULL, errstr, sizeof(errstr)));
        ltrr_policy_conf_init(&conf, LTRR_POLICY_EGREEDY);
        space_make(&conf.space, 8, 0);
        conf.epsilon = 1.5;
        assert_null(ltrr_policy_new(&conf, errstr, sizeof(errstr)));
        conf.epsilon = 0.1;
        conf.mc_samples = 0;
        assert_null(ltrr_policy_new(&conf, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "mc_samples"));
        conf.mc_samples = 16;
        conf.lambda = 0.0;
        assert_null(ltrr_policy_new(&conf, errstr, sizeof(errstr)));
        conf.lambda = 1.0;
        conf.kind = LTRR_POLICY_LINUCB; /* dim 0 */
        assert_null(ltrr_policy_new(&conf, errstr, sizeof(errstr)));
        conf.kind = (ltrr_policy_kind_t)9;
        assert_null(ltrr_policy_new(&conf, errstr, sizeof(errstr)));
        conf.kind = LTRR_POLICY_THOMPSON;
        conf.space.n_arms = 0;
        assert_null(ltrr_policy_new(&conf, errstr, sizeof(errstr)));
}

static void test_decide_errors(void **state)
{
        ltrr_bandit_space_t sp, other;
        ltrr_bstats_t *st, *st_other;
        ltrr_policy_t *pol;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec;
        float x[4] = {1, 1, 1, 1};
        const char *fv[] = {"A:popular:25:0:0", "-100"};
        char errstr[128];

        space_make(&sp, 4, 4);
        other = sp;
        strcpy(other.arm_names[3], "fresh");
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        st_other = ltrr_bstats_new(&other, 0.0, 0.0, NULL, 0);
        pol = policy_make(LTRR_POLICY_LINUCB, &sp, 16);
        assert_string_equal(ltrr_policy_name(pol), "linucb");
        assert_int_equal(ltrr_policy_conf(pol)->space.dim, 4);
        ctx_make(&ctx, &sp, x, 1);
        assert_int_equal(ltrr_policy_decide(pol, &ctx, st, &dec, NULL, 0),
                         LTRR_OK);
        ctx.dim = 3;
        assert_int_equal(ltrr_policy_decide(pol, &ctx, st, &dec, errstr,
                                            sizeof(errstr)),
                         LTRR_ERR_SCHEMA);
        ctx.dim = 4;
        ctx.feature_version = 1;
        assert_int_equal(ltrr_policy_decide(pol, &ctx, st, &dec, NULL, 0),
                         LTRR_ERR_SCHEMA);
        ctx.feature_version = 2;
        assert_int_equal(ltrr_policy_decide(pol, &ctx, st_other, &dec, NULL,
                                            0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_policy_decide(pol, &ctx, NULL, &dec, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_bstats_parse(st, fv, 2, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_policy_decide(pol, &ctx, st, &dec, errstr,
                                            sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_non_null(strstr(errstr, "positive definite"));
        ltrr_policy_destroy(pol);
        ltrr_bstats_destroy(st);
        ltrr_bstats_destroy(st_other);
}

static int same_decision(const ltrr_decision_t *x, const ltrr_decision_t *y)
{
        return x->n_arms == y->n_arms && x->total == y->total &&
               x->model_version == y->model_version &&
               x->mc_samples == y->mc_samples && x->seed == y->seed &&
               strcmp(x->policy, y->policy) == 0 &&
               memcmp(x->arms, y->arms, x->n_arms * sizeof(x->arms[0])) == 0;
}

/* Same inputs, same decision, bit for bit; another seed changes sampled
 * decisions. */
static void test_deterministic(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        ltrr_policy_t *pol;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t d1, d2;
        float x[6] = {0.5f, 0.1f, 0.9f, 0.3f, 0.7f, 0.2f};
        int k, differ;
        uint64_t s;

        space_make(&sp, 8, 6);
        st = ltrr_bstats_new(&sp, 3600.0, 0.0, NULL, 0);
        stats_fill(st, 300, 4);
        for (k = 0; k < N_KINDS; k++) {
                pol = policy_make(kinds[k], &sp, 64);
                differ = 0;
                for (s = 1; s <= 40; s++) {
                        ctx_make(&ctx, &sp, x, s * 0x9e3779b97f4a7c15ULL);
                        assert_int_equal(ltrr_policy_decide(pol, &ctx, st, &d1,
                                                            NULL, 0),
                                         LTRR_OK);
                        assert_int_equal(ltrr_policy_decide(pol, &ctx, st, &d2,
                                                            NULL, 0),
                                         LTRR_OK);
                        assert_true(same_decision(&d1, &d2));
                        assert_true(d1.model_version == 300);
                        assert_string_equal(d1.policy,
                                            ltrr_policy_kind2str(kinds[k]));
                        if (s > 1) {
                                ctx.seed = (s - 1) * 0x9e3779b97f4a7c15ULL;
                                ltrr_policy_decide(pol, &ctx, st, &d2, NULL, 0);
                                differ += memcmp(d1.arms, d2.arms,
                                                 sizeof(d1.arms)) != 0;
                        }
                }
                if (kinds[k] == LTRR_POLICY_LINUCB)
                        assert_int_equal(differ, 0);
                else
                        assert_true(differ > 0);
                ltrr_policy_destroy(pol);
        }
        ltrr_bstats_destroy(st);
}

/* Random availability, random statistics, every policy: the budget cap,
 * always-on arms and probability ranges hold in every decision. */
static void test_budget_constraint(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        ltrr_policy_t *pol;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec;
        ltrr_rng_t rng;
        float x[8];
        int k, t, i;

        space_make(&sp, 8, 8);
        sp.min_budget[4] = 25; /* semantic also always on, at least 25 */
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        ltrr_rng_seed(&rng, 77);
        for (k = 0; k < N_KINDS; k++) {
                pol = policy_make(kinds[k], &sp, 32);
                for (t = 0; t < 300; t++) {
                        if (t % 50 == 0) {
                                ltrr_bstats_reset(st);
                                stats_fill(st, 20 * t, ltrr_rng_next(&rng));
                        }
                        for (i = 0; i < 8; i++)
                                x[i] = (float)ltrr_rng_gauss(&rng);
                        ctx_make(&ctx, &sp, x, ltrr_rng_next(&rng));
                        ctx.available = (uint32_t)ltrr_rng_below(&rng, 256);
                        assert_int_equal(ltrr_policy_decide(pol, &ctx, st,
                                                            &dec, NULL, 0),
                                         LTRR_OK);
                        check_decision(&dec, &sp, ctx.available);
                }
                ltrr_policy_destroy(pol);
        }
        ltrr_bstats_destroy(st);
}

/* With epsilon = 1 the egreedy probabilities are the marginals of the
 * uniform distribution over feasible allocations: check them against a
 * brute-force enumeration. */
static void test_uniform_marginals_exact(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_policy_conf_t conf;
        ltrr_bstats_t *st;
        ltrr_policy_t *pol;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec;
        /* options per arm: 0 = off, 1 = 10, 2 = 20; arm 0 always on */
        double run[3] = {0}, at10[3] = {0}, at20[3] = {0}, z = 0;
        int o0, o1, o2, o[3], a;

        memset(&sp, 0, sizeof(sp));
        sp.n_arms = 3;
        strcpy(sp.arm_names[0], "lexical");
        strcpy(sp.arm_names[1], "fuzzy");
        strcpy(sp.arm_names[2], "fresh");
        sp.min_budget[0] = 10;
        sp.n_budgets = 2;
        sp.budgets[0] = 10;
        sp.budgets[1] = 20;
        sp.total_budget = 30;
        for (o0 = 1; o0 <= 2; o0++)
                for (o1 = 0; o1 <= 2; o1++)
                        for (o2 = 0; o2 <= 2; o2++) {
                                if (10 * (o0 + o1 + o2) > 30)
                                        continue;
                                o[0] = o0, o[1] = o1, o[2] = o2;
                                z++;
                                for (a = 0; a < 3; a++) {
                                        run[a] += o[a] > 0;
                                        at10[a] += o[a] == 1;
                                        at20[a] += o[a] == 2;
                                }
                        }
        ltrr_policy_conf_init(&conf, LTRR_POLICY_EGREEDY);
        conf.space = sp;
        conf.epsilon = 1.0;
        pol = ltrr_policy_new(&conf, NULL, 0);
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        ctx_make(&ctx, &sp, NULL, 5);
        assert_int_equal(ltrr_policy_decide(pol, &ctx, st, &dec, NULL, 0),
                         LTRR_OK);
        assert_int_equal(dec.mc_samples, 0);
        for (a = 0; a < 3; a++) {
                assert_true(fabs(dec.arms[a].prob - run[a] / z) < 1e-12);
                if (dec.arms[a].ran)
                        assert_true(fabs(dec.arms[a].prob_budget -
                                         (dec.arms[a].budget == 10 ? at10[a]
                                                                   : at20[a]) /
                                                 z) < 1e-12);
                else
                        assert_true(fabs(dec.arms[a].prob_budget -
                                         (1.0 - run[a] / z)) < 1e-12);
        }
        assert_true(fabs(dec.arms[0].prob - 1.0) < 1e-12);
        ltrr_policy_destroy(pol);
        ltrr_bstats_destroy(st);
}

/* With every arm optional the uniform part leaves the empty allocation
 * out, and its exact marginals match the brute-force count of the
 * non-empty feasible allocations. */
static void test_uniform_marginals_nonempty(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_policy_conf_t conf;
        ltrr_bstats_t *st;
        ltrr_policy_t *pol;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec;
        double run[3] = {0}, z = 0;
        int o[3], a, i;

        (void)state;
        memset(&sp, 0, sizeof(sp));
        sp.n_arms = 3;
        strcpy(sp.arm_names[0], "lexical");
        strcpy(sp.arm_names[1], "fuzzy");
        strcpy(sp.arm_names[2], "fresh");
        sp.n_budgets = 2;
        sp.budgets[0] = 10;
        sp.budgets[1] = 20;
        sp.total_budget = 30;
        for (o[0] = 0; o[0] <= 2; o[0]++)
                for (o[1] = 0; o[1] <= 2; o[1]++)
                        for (o[2] = 0; o[2] <= 2; o[2]++) {
                                if (10 * (o[0] + o[1] + o[2]) > 30 ||
                                    o[0] + o[1] + o[2] == 0)
                                        continue;
                                z++;
                                for (a = 0; a < 3; a++)
                                        run[a] += o[a] > 0;
                        }
        ltrr_policy_conf_init(&conf, LTRR_POLICY_EGREEDY);
        conf.space = sp;
        conf.epsilon = 1.0;
        conf.budget_cost = 1.0; /* the greedy part alone would pick nothing */
        pol = ltrr_policy_new(&conf, NULL, 0);
        assert_non_null(pol);
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        for (i = 0; i < 2000; i++) {
                ctx_make(&ctx, &sp, NULL, (uint64_t)i);
                assert_int_equal(
                    ltrr_policy_decide(pol, &ctx, st, &dec, NULL, 0), LTRR_OK);
                assert_true(dec.arms[0].ran || dec.arms[1].ran ||
                            dec.arms[2].ran);
                for (a = 0; a < 3; a++)
                        assert_true(fabs(dec.arms[a].prob - run[a] / z) <
                                    1e-12);
        }
        ltrr_policy_destroy(pol);
        ltrr_bstats_destroy(st);
}

/* No baseline and a price above every score: each policy still runs one
 * arm (the best single option), never zero. */
static void test_never_zero_arms(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_policy_conf_t conf;
        ltrr_bstats_t *st;
        ltrr_policy_t *pol;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec;
        const float x[4] = {0.2f, 0.4f, 0.6f, 0.8f};
        size_t k, a, ran;
        int i;

        (void)state;
        for (k = 0; k < N_KINDS; k++) {
                space_make(&sp, 4, 4);
                sp.min_budget[0] = 0; /* no baseline */
                ltrr_policy_conf_init(&conf, kinds[k]);
                conf.space = sp;
                conf.budget_cost = 1.0;
                conf.mc_samples = 16;
                pol = ltrr_policy_new(&conf, NULL, 0);
                assert_non_null(pol);
                st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
                for (i = 0; i < 50; i++) {
                        ctx_make(&ctx, &sp, x, (uint64_t)i);
                        ctx.available = 0x6; /* arms 1 and 2 only */
                        assert_int_equal(ltrr_policy_decide(pol, &ctx, st,
                                                            &dec, NULL, 0),
                                         LTRR_OK);
                        for (a = ran = 0; a < 4; a++)
                                ran += dec.arms[a].ran;
                        assert_true(ran >= 1);
                        assert_false(dec.arms[0].ran || dec.arms[3].ran);
                        check_decision(&dec, &sp, ctx.available);
                }
                ltrr_policy_destroy(pol);
                ltrr_bstats_destroy(st);
        }
}

#define N_FREQ 40000

/* A small space for the frequency tests: 4 arms, budgets {10, 25},
 * total 50, lexical always on. */
static void space_small(ltrr_bandit_space_t *sp)
{
        space_make(sp, 4, 4);
        sp->n_budgets = 2;
        sp->total_budget = 50;
}

/* Egreedy's exact probabilities equal the observed frequencies of the
 * decisions over many seeds. */
static void test_egreedy_frequency(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_policy_conf_t conf;
        ltrr_bstats_t *st;
        ltrr_policy_t *pol;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec, first;
        const float x[4] = {0.2f, 0.4f, 0.6f, 0.8f};
        double ran[4] = {0}, same[4] = {0};
        int i, a;

        space_small(&sp);
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        stats_fill(st, 400, 8);
        ltrr_policy_conf_init(&conf, LTRR_POLICY_EGREEDY);
        conf.space = sp;
        conf.epsilon = 0.3;
        pol = ltrr_policy_new(&conf, NULL, 0);
        ctx_make(&ctx, &sp, x, 0);
        ltrr_policy_decide(pol, &ctx, st, &first, NULL, 0);
        for (i = 0; i < N_FREQ; i++) {
                ctx.seed = (uint64_t)i;
                assert_int_equal(ltrr_policy_decide(pol, &ctx, st, &dec, NULL,
                                                    0),
                                 LTRR_OK);
                for (a = 0; a < 4; a++) {
                        /* exact: the same for every seed */
                        assert_true(dec.arms[a].prob == first.arms[a].prob);
                        ran[a] += dec.arms[a].ran;
                        same[a] += dec.arms[a].ran &&
                                   dec.arms[a].budget == 25;
                }
        }
        for (a = 0; a < 4; a++) {
                assert_true(fabs(ran[a] / N_FREQ - first.arms[a].prob) < 0.012);
                if (first.arms[a].ran && first.arms[a].budget == 25)
                        assert_true(fabs(same[a] / N_FREQ -
                                         first.arms[a].prob_budget) < 0.012);
        }
        assert_true(first.arms[0].prob == 1.0); /* always on */
        ltrr_policy_destroy(pol);
        ltrr_bstats_destroy(st);
}

/* Monte-Carlo probabilities: the estimate from M = N_FREQ draws at one
 * seed matches the frequency of decisions over N_FREQ seeds (M = 1, so
 * each decision is one draw), within 1.5 points; the mean of the logged
 * estimates at M = 64 matches too, and no logged value is 0 for an arm
 * that ran. */
static void check_mc_frequency(ltrr_policy_kind_t kind)
{
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        ltrr_policy_t *one, *many, *mid;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec, big;
        const float x[4] = {0.9f, 0.1f, 0.5f, 0.3f};
        double ran[4] = {0}, logged[4] = {0}, ran_mid[4] = {0};
        int i, a, nontrivial = 0;

        space_small(&sp);
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        stats_fill(st, 60, 9);
        one = policy_make(kind, &sp, 1);
        many = policy_make(kind, &sp, N_FREQ);
        mid = policy_make(kind, &sp, 64);
        ctx_make(&ctx, &sp, x, 12345);
        assert_int_equal(ltrr_policy_decide(many, &ctx, st, &big, NULL, 0),
                         LTRR_OK);
        assert_int_equal(big.mc_samples, N_FREQ);
        for (i = 0; i < N_FREQ; i++) {
                ctx.seed = 1000003ULL * (uint64_t)i;
                ltrr_policy_decide(one, &ctx, st, &dec, NULL, 0);
                for (a = 0; a < 4; a++)
                        ran[a] += dec.arms[a].ran;
                if (i % 10)
                        continue;
                ltrr_policy_decide(mid, &ctx, st, &dec, NULL, 0);
                for (a = 0; a < 4; a++) {
                        logged[a] += dec.arms[a].prob;
                        ran_mid[a] += dec.arms[a].ran;
                        if (dec.arms[a].ran)
                                assert_true(dec.arms[a].prob >= 1.0 / 64);
                }
        }
        for (a = 0; a < 4; a++) {
                assert_true(fabs(ran[a] / N_FREQ - big.arms[a].prob) < 0.015);
                assert_true(fabs(logged[a] - ran_mid[a]) / (N_FREQ / 10) <
                            0.03);
                nontrivial += big.arms[a].prob > 0.05 &&
                              big.arms[a].prob < 0.95;
        }
        assert_true(nontrivial >= 1); /* the test exercises real randomness */
        ltrr_policy_destroy(one);
        ltrr_policy_destroy(many);
        ltrr_policy_destroy(mid);
        ltrr_bstats_destroy(st);
}

static void test_thompson_frequency(void **state)
{
        check_mc_frequency(LTRR_POLICY_THOMPSON);
}

static void test_lints_frequency(void **state)
{
        check_mc_frequency(LTRR_POLICY_LINTS);
}

/* Synthetic environment: 3 contexts, 4 arms, budgets {10, 20}, total 20.
 * An arm at budget 20 succeeds with probability P[c][a], at budget 10
 * with 0.55 P[c][a]. In every context one arm alone at 20 is optimal
 * (expected reward 0.8; the best pair at 10 + 10 earns 0.605). */
#define ENV_CTX 3
#define ENV_DIM 6
#define ENV_STEPS 4000
static const double env_p[ENV_CTX][4] = {{0.8, 0.2, 0.2, 0.1},
                                         {0.1, 0.8, 0.3, 0.2},
                                         {0.2, 0.1, 0.3, 0.8}};
static const int env_best[ENV_CTX] = {0, 1, 3};

typedef struct learn_result_s {
        double regret_first;  /* mean regret, first 500 steps */
        double regret_last;   /* mean regret, last 1000 steps */
        double cum_regret;    /* total expected regret */
        double best_share;    /* share of optimal decisions, last 1000 */
} learn_result_t;

static void env_space(ltrr_bandit_space_t *sp)
{
        space_make(sp, 4, ENV_DIM);
        sp->min_budget[0] = 0;
        sp->n_budgets = 2;
        sp->budgets[0] = 10;
        sp->budgets[1] = 20;
        sp->total_budget = 20;
}

/* Expected reward of a decision in context c. */
static double env_value(const ltrr_decision_t *dec, int c)
{
        double v = 0;
        size_t a;

        for (a = 0; a < 4; a++)
                if (dec->arms[a].ran)
                        v += env_p[c][a] *
                             (dec->arms[a].budget == 20 ? 1.0 : 0.55);
        return v;
}

/* Feeds the rewards of a decision back into the statistics. */
static void env_feedback(ltrr_bstats_t *st, const ltrr_decision_t *dec,
                         int c, const float *x, double t, ltrr_rng_t *rng)
{
        ltrr_bstats_obs_t o;
        double p;
        size_t a;

        for (a = 0; a < 4; a++) {
                if (!dec->arms[a].ran)
                        continue;
                p = env_p[c][a] * (dec->arms[a].budget == 20 ? 1.0 : 0.55);
                o.arm = a;
                o.budget_idx = dec->arms[a].budget == 20 ? 1 : 0;
                o.reward = ltrr_rng_uniform(rng) < p ? 1.0 : 0.0;
                o.x = ltrr_bstats_space(st)->dim ? x : NULL;
                o.t = t;
                assert_int_equal(ltrr_bstats_observe(st, &o, NULL, 0), LTRR_OK);
        }
}

static int env_is_best(const ltrr_decision_t *dec, int c)
{
        size_t a;

        for (a = 0; a < 4; a++)
                if (dec->arms[a].ran != ((int)a == env_best[c]) ||
                    (dec->arms[a].ran && dec->arms[a].budget != 20))
                        return 0;
        return 1;
}

static void env_run(ltrr_policy_kind_t kind, learn_result_t *res)
{
        ltrr_bandit_space_t sp, sp0;
        ltrr_bstats_t *st[ENV_CTX], *lin;
        ltrr_policy_t *pol;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec;
        ltrr_rng_t rng;
        float x[ENV_DIM];
        int t, c, i, linear = kind >= LTRR_POLICY_LINUCB;
        double r;

        env_space(&sp);
        sp0 = sp;
        sp0.dim = 0; /* bucket statistics carry no vectors */
        for (c = 0; c < ENV_CTX; c++)
                st[c] = ltrr_bstats_new(&sp0, 0.0, 0.0, NULL, 0);
        lin = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        pol = policy_make(kind, &sp, 1); /* the decision is draw 0 */
        memset(res, 0, sizeof(*res));
        ltrr_rng_seed(&rng, 2024 + kind);
        for (t = 0; t < ENV_STEPS; t++) {
                c = (int)ltrr_rng_below(&rng, ENV_CTX);
                x[0] = 1.0f;
                for (i = 0; i < ENV_CTX; i++)
                        x[1 + i] = i == c ? 1.0f : 0.0f;
                x[4] = (float)(ltrr_rng_uniform(&rng) - 0.5);
                x[5] = (float)(ltrr_rng_uniform(&rng) - 0.5);
                ctx_make(&ctx, &sp, x, ltrr_rng_next(&rng));
                ctx.bucket = (uint32_t)c;
                ctx.now = t;
                assert_int_equal(ltrr_policy_decide(pol, &ctx,
                                                    linear ? lin : st[c],
                                                    &dec, NULL, 0),
                                 LTRR_OK);
                r = 0.8 - env_value(&dec, c);
                res->cum_regret += r;
                if (t < 500)
                        res->regret_first += r / 500;
                if (t >= ENV_STEPS - 1000) {
                        res->regret_last += r / 1000;
                        res->best_share += env_is_best(&dec, c) / 1000.0;
                }
                env_feedback(linear ? lin : st[c], &dec, c, x, t, &rng);
        }
        print_message("%-8s regret first %.3f last %.3f cumulative %.1f "
                      "best share %.3f\n", ltrr_policy_kind2str(kind),
                      res->regret_first, res->regret_last, res->cum_regret,
                      res->best_share);
        ltrr_policy_destroy(pol);
        for (c = 0; c < ENV_CTX; c++)
                ltrr_bstats_destroy(st[c]);
        ltrr_bstats_destroy(lin);
}

/* Every policy's regret falls and it settles on the best arm; Thompson
 * sampling and LinUCB end with less cumulative regret than egreedy. */
static void test_learning(void **state)
{
        learn_result_t res[N_KINDS];
        int k;

        for (k = 0; k < N_KINDS; k++) {
                env_run(kinds[k], &res[k]);
                assert_true(res[k].regret_last < 0.5 * res[k].regret_first);
                assert_true(res[k].regret_last < 0.1);
                assert_true(res[k].best_share > 0.85);
        }
        assert_true(res[1].cum_regret < res[0].cum_regret);
        assert_true(res[2].cum_regret < res[0].cum_regret);
}

/* decide() latency with 8 arms, 4 budgets, d = 16, default M (128). */
static void test_latency(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        ltrr_policy_t *pol;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec;
        struct timespec t0, t1;
        float x[16];
        int k, i, n = 2000;
        double us;

        space_make(&sp, 8, 16);
        for (i = 0; i < 16; i++)
                x[i] = (float)(i % 3) * 0.25f;
        st = ltrr_bstats_new(&sp, 86400.0, 0.0, NULL, 0);
        stats_fill(st, 5000, 3);
        for (k = 0; k < N_KINDS; k++) {
                pol = policy_make(kinds[k], &sp, 128);
                clock_gettime(CLOCK_MONOTONIC, &t0);
                for (i = 0; i < n; i++) {
                        ctx_make(&ctx, &sp, x, (uint64_t)i);
                        assert_int_equal(ltrr_policy_decide(pol, &ctx, st,
                                                            &dec, NULL, 0),
                                         LTRR_OK);
                        check_decision(&dec, &sp, ctx.available);
                }
                clock_gettime(CLOCK_MONOTONIC, &t1);
                us = ((t1.tv_sec - t0.tv_sec) * 1e9 +
                      (t1.tv_nsec - t0.tv_nsec)) / 1e3 / n;
                print_message("decide %-8s %.1f us (8 arms, 4 budgets, d=16, "
                              "M=%u)\n", ltrr_policy_name(pol), us,
                              dec.mc_samples);
                ltrr_policy_destroy(pol);
        }
        ltrr_bstats_destroy(st);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_space_check),
                cmocka_unit_test(test_kind_names),
                cmocka_unit_test(test_policy_new_errors),
                cmocka_unit_test(test_decide_errors),
                cmocka_unit_test(test_deterministic),
                cmocka_unit_test(test_budget_constraint),
                cmocka_unit_test(test_uniform_marginals_exact),
                cmocka_unit_test(test_uniform_marginals_nonempty),
                cmocka_unit_test(test_never_zero_arms),
                cmocka_unit_test(test_egreedy_frequency),
                cmocka_unit_test(test_thompson_frequency),
                cmocka_unit_test(test_lints_frequency),
                cmocka_unit_test(test_learning),
                cmocka_unit_test(test_latency),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
