/* Unit tests: bandit propensities against selection frequencies over
 * 100k seeded decisions, and golden decisions pinned bit for bit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "bandit.h"
#include "bstats.h"
#include "rng.h"

#define N_ARMS 4
#define DIM 4
#define N_CTX 4
#define N_DRAWS 100000
/* Monte-Carlo samples per logged decision in the frequency test. */
#define MC_LOGGED 16

static const char *const arm_names[N_ARMS] = {"lexical", "popular",
                                              "fuzzy", "fresh"};
static const float ctx_x[N_CTX][DIM] = {{0.9f, 0.1f, 0.5f, 0.3f},
                                        {0.2f, 0.8f, 0.1f, 0.6f},
                                        {0.5f, 0.5f, 0.9f, 0.0f},
                                        {0.1f, 0.3f, 0.3f, 0.9f}};

/* 4 arms, budgets {10, 25}, total 50, lexical always on with >= 10. */
static void space_init(ltrr_bandit_space_t *sp)
{
        size_t a;

        memset(sp, 0, sizeof(*sp));
        sp->n_arms = N_ARMS;
        for (a = 0; a < N_ARMS; a++)
                strcpy(sp->arm_names[a], arm_names[a]);
        sp->min_budget[0] = 10;
        sp->n_budgets = 2;
        sp->budgets[0] = 10;
        sp->budgets[1] = 25;
        sp->total_budget = 50;
        sp->dim = DIM;
        sp->feature_version = 3;
}

/* n observations: arm a at level j succeeds with probability
 * 0.15 + 0.1 a + 0.05 j, contexts drawn uniformly; no decay, so the
 * state involves no libm call. */
static ltrr_bstats_t *stats_make(const ltrr_bandit_space_t *sp, size_t n)
{
        ltrr_bstats_t *st = ltrr_bstats_new(sp, 0.0, 0.0, NULL, 0);
        float x[DIM];
        ltrr_bstats_obs_t o;
        ltrr_rng_t rng;
        size_t k, i;

        assert_non_null(st);
        ltrr_rng_seed(&rng, 2024);
        for (k = 0; k < n; k++) {
                for (i = 0; i < DIM; i++)
                        x[i] = (float)ltrr_rng_uniform(&rng);
                o.arm = ltrr_rng_below(&rng, N_ARMS);
                o.budget_idx = ltrr_rng_below(&rng, 2);
                o.reward = ltrr_rng_uniform(&rng) <
                                           0.15 + 0.1 * o.arm +
                                                   0.05 * o.budget_idx
                                   ? 1.0
                                   : 0.0;
                o.x = x;
                o.t = (double)k;
                assert_int_equal(ltrr_bstats_observe(st, &o, NULL, 0), 0);
        }
        return st;
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
        conf.epsilon = 0.2;
        conf.alpha = 0.5;
        conf.budget_cost = 0.012; /* running is not free: arms compete */
        pol = ltrr_policy_new(&conf, errstr, sizeof(errstr));
        if (!pol)
                fail_msg("policy_new: %s", errstr);
        return pol;
}

/* The context of decision i: context i % N_CTX, seed from impression
 * id i (16 bytes, big-endian counter). */
static void ctx_make(ltrr_bandit_ctx_t *ctx, const ltrr_bandit_space_t *sp,
                     uint64_t i)
{
        uint8_t id[16] = {0};
        int k;

        for (k = 0; k < 8; k++)
                id[15 - k] = (uint8_t)(i >> (8 * k));
        id[0] = 0x5a;
        memset(ctx, 0, sizeof(*ctx));
        ctx->x = ctx_x[i % N_CTX];
        ctx->dim = sp->dim;
        ctx->feature_version = sp->feature_version;
        ctx->bucket = (uint32_t)(i % N_CTX);
        ctx->available = (1u << N_ARMS) - 1;
        ctx->now = 5000.0;
        ctx->seed = ltrr_rng_seed_from_id(id);
}

/* For one policy: over N_DRAWS decisions (contexts cycling), the mean
 * logged P(run) of each arm matches the arm's empirical frequency within
 * 1% absolute; for sampled policies both also match the exact
 * propensity, approximated per context with the most Monte-Carlo draws
 * allowed (65536: standard error <= 0.002). */
static void check_frequency(ltrr_policy_kind_t kind)
{
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        ltrr_policy_t *pol, *ref;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec;
        double logged[N_ARMS] = {0}, ran[N_ARMS] = {0}, exact[N_ARMS] = {0};
        int a, c, nontrivial = 0;
        uint64_t i;

        space_init(&sp);
        st = stats_make(&sp, 80);
        pol = policy_make(kind, &sp, MC_LOGGED);
        ref = policy_make(kind, &sp, LTRR_BANDIT_MAX_MC);
        for (c = 0; c < N_CTX; c++) {
                ctx_make(&ctx, &sp, (uint64_t)c + 1000000007ULL * 4);
                assert_int_equal(ltrr_policy_decide(ref, &ctx, st, &dec, NULL,
                                                    0),
                                 LTRR_OK);
                for (a = 0; a < N_ARMS; a++)
                        exact[a] += dec.arms[a].prob / N_CTX;
        }
        for (i = 0; i < N_DRAWS; i++) {
                ctx_make(&ctx, &sp, i);
                assert_int_equal(ltrr_policy_decide(pol, &ctx, st, &dec, NULL,
                                                    0),
                                 LTRR_OK);
                for (a = 0; a < N_ARMS; a++) {
                        logged[a] += dec.arms[a].prob;
                        ran[a] += dec.arms[a].ran;
                }
        }
        for (a = 0; a < N_ARMS; a++) {
                logged[a] /= N_DRAWS;
                ran[a] /= N_DRAWS;
                print_message("%-8s %-8s logged %.4f frequency %.4f "
                              "exact %.4f\n", ltrr_policy_name(pol),
                              arm_names[a], logged[a], ran[a], exact[a]);
                assert_true(fabs(logged[a] - ran[a]) < 0.01);
                assert_true(fabs(exact[a] - ran[a]) < 0.01);
                nontrivial += ran[a] > 0.05 && ran[a] < 0.95;
        }
        assert_true(ran[0] == 1.0); /* always on */
        if (kind != LTRR_POLICY_LINUCB)
                assert_true(nontrivial >= 1);
        ltrr_policy_destroy(pol);
        ltrr_policy_destroy(ref);
        ltrr_bstats_destroy(st);
}

static void test_freq_egreedy(void **state)
{
        check_frequency(LTRR_POLICY_EGREEDY);
}

static void test_freq_thompson(void **state)
{
        check_frequency(LTRR_POLICY_THOMPSON);
}

static void test_freq_linucb(void **state)
{
        check_frequency(LTRR_POLICY_LINUCB);
}

static void test_freq_lints(void **state)
{
        check_frequency(LTRR_POLICY_LINTS);
}

/* One pinned decision: budgets and the bit patterns of prob and
 * prob_budget of every arm. */
typedef struct golden_s {
        unsigned budget[N_ARMS];
        uint64_t prob[N_ARMS];
        uint64_t prob_budget[N_ARMS];
} golden_t;

#define N_GOLDEN_IDS 4
#define N_KINDS 4

static const ltrr_policy_kind_t golden_kinds[N_KINDS] = {
        LTRR_POLICY_EGREEDY, LTRR_POLICY_THOMPSON, LTRR_POLICY_LINUCB,
        LTRR_POLICY_LINTS};

/* Generated once on x86-64 glibc; see docs/BANDIT.md "Reproducibility". */
static const golden_t golden[N_KINDS][N_GOLDEN_IDS] = {
        {
                /* egreedy id 0 */
                {{10, 10, 10, 10},
                 {0x3ff0000000000000ULL,
                  0x3fecae759203cae8ULL,
                  0x3fecae759203cae8ULL,
                  0x3fecae759203cae8ULL},
                 {0x3feda12f684bda14ULL,
                  0x3febbbbbbbbbbbbcULL,
                  0x3febbbbbbbbbbbbcULL,
                  0x3febbbbbbbbbbbbcULL}},
                /* egreedy id 1 */
                {{10, 10, 10, 10},
                 {0x3ff0000000000000ULL,
                  0x3fecae759203cae8ULL,
                  0x3fecae759203cae8ULL,
                  0x3fecae759203cae8ULL},
                 {0x3feda12f684bda14ULL,
                  0x3febbbbbbbbbbbbcULL,
                  0x3febbbbbbbbbbbbcULL,
                  0x3febbbbbbbbbbbbcULL}},
                /* egreedy id 2 */
                {{10, 0, 10, 10},
                 {0x3ff0000000000000ULL,
                  0x3fecae759203cae8ULL,
                  0x3fecae759203cae8ULL,
                  0x3fecae759203cae8ULL},
                 {0x3feda12f684bda14ULL,
                  0x3fba8c536fe1a8c0ULL,
                  0x3febbbbbbbbbbbbcULL,
                  0x3febbbbbbbbbbbbcULL}},
                /* egreedy id 3 */
                {{10, 10, 10, 10},
                 {0x3ff0000000000000ULL,
                  0x3fecae759203cae8ULL,
                  0x3fecae759203cae8ULL,
                  0x3fecae759203cae8ULL},
                 {0x3feda12f684bda14ULL,
                  0x3febbbbbbbbbbbbcULL,
                  0x3febbbbbbbbbbbbcULL,
                  0x3febbbbbbbbbbbbcULL}},
        },
        {
                /* thompson id 0 */
                {{25, 10, 0, 10},
                 {0x3ff0000000000000ULL,
                  0x3fef000000000000ULL,
                  0x3fea000000000000ULL,
                  0x3ff0000000000000ULL},
                 {0x3fb8000000000000ULL,
                  0x3fef000000000000ULL,
                  0x3fc8000000000000ULL,
                  0x3fee000000000000ULL}},
                /* thompson id 1 */
                {{10, 10, 10, 10},
                 {0x3ff0000000000000ULL,
                  0x3fef000000000000ULL,
                  0x3fef000000000000ULL,
                  0x3fef000000000000ULL},
                 {0x3fef000000000000ULL,
                  0x3fef000000000000ULL,
                  0x3fed000000000000ULL,
                  0x3fef000000000000ULL}},
                /* thompson id 2 */
                {{10, 10, 10, 10},
                 {0x3ff0000000000000ULL,
                  0x3fee000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3fef000000000000ULL},
                 {0x3ff0000000000000ULL,
                  0x3fee000000000000ULL,
                  0x3fed000000000000ULL,
                  0x3fef000000000000ULL}},
                /* thompson id 3 */
                {{10, 10, 10, 10},
                 {0x3ff0000000000000ULL,
                  0x3fef000000000000ULL,
                  0x3fef000000000000ULL,
                  0x3fee000000000000ULL},
                 {0x3ff0000000000000ULL,
                  0x3fef000000000000ULL,
                  0x3fed000000000000ULL,
                  0x3fed000000000000ULL}},
        },
        {
                /* linucb id 0 */
                {{10, 10, 0, 10},
                 {0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x0000000000000000ULL,
                  0x3ff0000000000000ULL},
                 {0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL}},
                /* linucb id 1 */
                {{10, 10, 10, 10},
                 {0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL},
                 {0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL}},
                /* linucb id 2 */
                {{10, 10, 10, 10},
                 {0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL},
                 {0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL}},
                /* linucb id 3 */
                {{10, 10, 10, 10},
                 {0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL},
                 {0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL,
                  0x3ff0000000000000ULL}},
        },
        {
                /* lints id 0 */
                {{10, 10, 0, 10},
                 {0x3ff0000000000000ULL,
                  0x3fe9000000000000ULL,
                  0x3fda000000000000ULL,
                  0x3fe3000000000000ULL},
                 {0x3feb000000000000ULL,
                  0x3fe9000000000000ULL,
                  0x3fe3000000000000ULL,
                  0x3fe0000000000000ULL}},
                /* lints id 1 */
                {{10, 10, 0, 25},
                 {0x3ff0000000000000ULL,
                  0x3fea000000000000ULL,
                  0x3fde000000000000ULL,
                  0x3fe8000000000000ULL},
                 {0x3fe9000000000000ULL,
                  0x3fe9000000000000ULL,
                  0x3fe1000000000000ULL,
                  0x3fd0000000000000ULL}},
                /* lints id 2 */
                {{10, 10, 25, 0},
                 {0x3ff0000000000000ULL,
                  0x3fda000000000000ULL,
                  0x3fea000000000000ULL,
                  0x3fed000000000000ULL},
                 {0x3fe8000000000000ULL,
                  0x3fda000000000000ULL,
                  0x3fd8000000000000ULL,
                  0x3fb8000000000000ULL}},
                /* lints id 3 */
                {{10, 10, 10, 10},
                 {0x3ff0000000000000ULL,
                  0x3feb000000000000ULL,
                  0x3fed000000000000ULL,
                  0x3fed000000000000ULL},
                 {0x3fee000000000000ULL,
                  0x3fe7000000000000ULL,
                  0x3fed000000000000ULL,
                  0x3fed000000000000ULL}},
        },
};

static uint64_t bits(double d)
{
        uint64_t u;

        memcpy(&u, &d, sizeof(u));
        return u;
}

/* Prints the observed row in the table's syntax. */
static void golden_print(const ltrr_decision_t *dec)
{
        int a;

        print_message("{{%u, %u, %u, %u},\n {", dec->arms[0].budget,
                      dec->arms[1].budget, dec->arms[2].budget,
                      dec->arms[3].budget);
        for (a = 0; a < N_ARMS; a++)
                print_message("0x%016" PRIx64 "ULL%s", bits(dec->arms[a].prob),
                              a + 1 < N_ARMS ? ", " : "},\n {");
        for (a = 0; a < N_ARMS; a++)
                print_message("0x%016" PRIx64 "ULL%s",
                              bits(dec->arms[a].prob_budget),
                              a + 1 < N_ARMS ? ", " : "}},\n");
}

static int golden_match(const golden_t *g, const ltrr_decision_t *dec)
{
        int a;

        for (a = 0; a < N_ARMS; a++)
                if (g->budget[a] != dec->arms[a].budget ||
                    g->prob[a] != bits(dec->arms[a].prob) ||
                    g->prob_budget[a] != bits(dec->arms[a].prob_budget))
                        return 0;
        return 1;
}

/* Fixed state, fixed impression ids: every policy's decisions equal the
 * pinned ones bit for bit (M = 32 for the sampled policies). */
static void test_golden(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        ltrr_policy_t *pol;
        ltrr_bandit_ctx_t ctx;
        ltrr_decision_t dec;
        int k, i, bad = 0;

        space_init(&sp);
        st = stats_make(&sp, 200);
        for (k = 0; k < N_KINDS; k++) {
                pol = policy_make(golden_kinds[k], &sp, 32);
                for (i = 0; i < N_GOLDEN_IDS; i++) {
                        ctx_make(&ctx, &sp, (uint64_t)i * 977 + 3);
                        assert_int_equal(ltrr_policy_decide(pol, &ctx, st,
                                                            &dec, NULL, 0),
                                         LTRR_OK);
                        assert_int_equal(dec.model_version, 200);
                        if (!golden_match(&golden[k][i], &dec)) {
                                print_message("mismatch %s id %d:\n",
                                              ltrr_policy_name(pol), i);
                                golden_print(&dec);
                                bad++;
                        }
                }
                ltrr_policy_destroy(pol);
        }
        ltrr_bstats_destroy(st);
        assert_int_equal(bad, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_freq_egreedy),
                cmocka_unit_test(test_freq_thompson),
                cmocka_unit_test(test_freq_linucb),
                cmocka_unit_test(test_freq_lints),
                cmocka_unit_test(test_golden),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
