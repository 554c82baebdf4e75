/*
 * The learning loop without the daemons: serving's context features and
 * decisions, the learner's bucket and bandit key for the logged context,
 * and the statistics the next decision of the same context reads.
 *
 * A stream where one arm always wins in one context must move serving's
 * decisions for that context to that arm, and only for that context.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bandit.h"
#include "bstats.h"
#include "feature.h"
#include "learn_plan.h"

#define DAY_MS   86400000LL
#define T0_MS    (20417LL * DAY_MS + 15 * 3600000LL) /* 2025-11-25 15h */
#define ROUNDS   1500
#define TAIL     200

/* Serving's arms, budgets and baseline (online/search.c). */
static const char *const arm_names[] = {"lexical",  "popular", "structured",
                                        "fresh",    "personal", "memory",
                                        "fuzzy",    "semantic"};
enum { LEXICAL = 0, FRESH = 3, FUZZY = 6, SEMANTIC = 7, N_ARMS = 8 };

typedef struct loop_s {
        ltrr_bandit_space_t sp;
        ltrr_feature_t *fx;
        ltrr_policy_t *pol;
        ltrr_learn_plan_t *pl;
        ltrr_bstats_t *st[LTRR_FEATURE_BUCKETS]; /* Redis, one per key */
        int64_t offset;                          /* impression offsets */
} loop_t;

static void space_init(ltrr_bandit_space_t *sp)
{
        static const unsigned budgets[] = {10, 25, 50, 100};
        size_t i;

        memset(sp, 0, sizeof(*sp));
        sp->n_arms = N_ARMS;
        for (i = 0; i < N_ARMS; i++)
                snprintf(sp->arm_names[i], sizeof(sp->arm_names[i]), "%s",
                         arm_names[i]);
        sp->n_budgets = 4;
        memcpy(sp->budgets, budgets, sizeof(budgets));
        sp->min_budget[LEXICAL] = 10;
        sp->total_budget = 100;
}

static int setup(void **state)
{
        loop_t *lp = calloc(1, sizeof(*lp));
        ltrr_feature_conf_t fc;
        ltrr_learn_conf_t lc;
        char errstr[256] = "";
        size_t b;

        assert_non_null(lp);
        ltrr_feature_conf_init(&fc);
        assert_non_null(lp->fx = ltrr_feature_new(&fc, errstr, sizeof(errstr)));
        space_init(&lp->sp);
        lp->sp.feature_version = ltrr_feature_version(lp->fx);
        memset(&lc, 0, sizeof(lc));
        lc.space = lp->sp;
        lc.bandit_half_life = 0;
        lc.dedup_ttl_s = 86400;
        lc.q2e.max = 10;
        lc.q2e.ttl_s = 600;
        lc.profile.recent_max = 5;
        lc.profile.affinity_max = 7;
        lc.profile.ttl_s = 900;
        lc.profile.pop_max = 100;
        lc.profile.pop_half_life = 86400;
        assert_non_null(lp->pl =
                            ltrr_learn_plan_new(&lc, errstr, sizeof(errstr)));
        for (b = 0; b < LTRR_FEATURE_BUCKETS; b++)
                assert_non_null(lp->st[b] = ltrr_bstats_new(
                                    &lp->sp, 0, 0, errstr, sizeof(errstr)));
        *state = lp;
        return 0;
}

static int teardown(void **state)
{
        loop_t *lp = *state;
        size_t b;

        for (b = 0; b < LTRR_FEATURE_BUCKETS; b++)
                ltrr_bstats_destroy(lp->st[b]);
        ltrr_learn_plan_destroy(lp->pl);
        ltrr_policy_destroy(lp->pol);
        ltrr_feature_destroy(lp->fx);
        free(lp);
        return 0;
}

/* Serving's context for @p text (QU intent @p intent, English). */
static void context(const loop_t *lp, const char *text,
                    ltrr_feature_intent_t intent, int64_t now_ms,
                    ltrr_feature_ctx_t *out)
{
        ltrr_feature_in_t in;
        char errstr[256] = "";

        memset(&in, 0, sizeof(in));
        in.lang = "en";
        in.n_tokens = 2;
        in.n_chars = strlen(text);
        in.intent = intent;
        in.time_ms = now_ms;
        in.utc_offset_min = LTRR_FEATURE_OFFSET_DEFAULT;
        in.text = text;
        assert_int_equal(ltrr_feature_context(lp->fx, &in, out, errstr,
                                              sizeof(errstr)),
                         LTRR_OK);
}

/* Serving: reads the statistics under the context's bucket and decides. */
static void decide(loop_t *lp, const ltrr_feature_ctx_t *fc, uint64_t seed,
                   double now, ltrr_decision_t *dec)
{
        ltrr_bandit_ctx_t bc;
        char errstr[256] = "";

        memset(&bc, 0, sizeof(bc));
        ltrr_feature_to_bandit(fc, &bc);
        bc.x = NULL; /* Beta-Bernoulli: per bucket, no vector */
        bc.dim = 0;
        bc.available = (1u << N_ARMS) - 1 - (1u << SEMANTIC);
        bc.now = now;
        bc.seed = seed;
        assert_int_equal(ltrr_policy_decide(lp->pol, &bc, lp->st[fc->bucket],
                                            dec, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(dec->arms[SEMANTIC].ran, 0); /* unavailable */
}

/* The learner: files the reward of @p dec (arm @p winner earns 1, every
 * other arm that ran 0) under the bucket it derives from the logged
 * context, after checking that the plan writes that bucket's key, the key
 * serving reads for @p fc. */
static void learn(loop_t *lp, const ltrr_feature_ctx_t *fc,
                  const ltrr_decision_t *dec, int winner, double now)
{
        ltrr_arm_reward_t ar[N_ARMS];
        char want[LTRR_BSTATS_KEY_MAX], ns[16];
        const ltrr_learn_call_t *c;
        ltrr_bstats_obs_t obs;
        ltrr_reward_t r;
        uint32_t bucket;
        size_t i, k, n = 0, found = 0;

        memset(&r, 0, sizeof(r));
        for (i = 0; i < N_ARMS; i++) {
                ar[n].arm = arm_names[i];
                ar[n].ran = dec->arms[i].ran;
                ar[n].budget = (int32_t)dec->arms[i].budget;
                ar[n].propensity = dec->arms[i].prob;
                ar[n].reward = (int)i == winner ? 1.0 : 0.0;
                n++;
        }
        ltrr_feature_to_record(fc, &r.context);
        r.impression_ref.topic = "ltrr.impressions";
        r.impression_ref.offset = lp->offset++;
        r.user_id = "sim-u00001";
        r.query_norm = "q";
        r.apply_bandit = true;
        r.arm_rewards = ar;
        r.arm_reward_cnt = n;
        r.impression_time_ms = (int64_t)(now * 1000);
        r.event_time_ms = r.impression_time_ms;
        assert_int_equal(ltrr_learn_reward_bucket(&r.context, &bucket),
                         LTRR_OK);
        assert_int_equal(bucket, fc->bucket);
        snprintf(ns, sizeof(ns), "b%u", (unsigned)fc->bucket);
        assert_int_equal(ltrr_bstats_key(want, sizeof(want), ns, NULL, 0),
                         LTRR_OK);
        ltrr_learn_plan_clear(lp->pl);
        assert_int_equal(ltrr_learn_plan_add(lp->pl, &r, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_learn_plan_seal(lp->pl, NULL, 0), LTRR_OK);
        for (i = 0; i < ltrr_learn_plan_count(lp->pl); i++) {
                c = ltrr_learn_plan_call(lp->pl, i);
                for (k = 0; k < c->key_cnt; k++)
                        if (!strncmp(c->argv[k], "ltrr:bandit:", 12)) {
                                assert_string_equal(c->argv[k], want);
                                found++;
                        }
        }
        assert_int_equal(found, 1);
        for (i = 0; i < N_ARMS; i++) {
                int bidx;

                if (!dec->arms[i].ran)
                        continue;
                bidx = ltrr_bandit_space_budget(&lp->sp, dec->arms[i].budget);
                assert_true(bidx >= 0);
                obs.arm = i;
                obs.budget_idx = (size_t)bidx;
                obs.reward = (int)i == winner ? 1.0 : 0.0;
                obs.x = NULL;
                obs.t = now;
                assert_int_equal(ltrr_bstats_observe(lp->st[bucket], &obs,
                                                     NULL, 0),
                                 LTRR_OK);
        }
}

/* Thompson sampling over serving's space with a price per candidate. */
static void policy_make(loop_t *lp, double budget_cost)
{
        ltrr_policy_conf_t pc;
        char errstr[256] = "";

        ltrr_policy_conf_init(&pc, LTRR_POLICY_THOMPSON);
        pc.space = lp->sp;
        pc.mc_samples = 16;
        pc.budget_cost = budget_cost;
        assert_non_null(lp->pol = ltrr_policy_new(&pc, errstr, sizeof(errstr)));
}

/* Per context (0: "new <artist>", fresh always wins; 1: "<title>", fuzzy
 * always wins): how often each arm ran and its mean budget over the
 * first and the last TAIL decisions (TAIL / 2 per context). */
typedef struct tally_s {
        double ran[2][2][N_ARMS];    /* [early/late][context][arm] */
        double budget[2][2][N_ARMS]; /* idem, mean budget */
        uint32_t bucket[2];
} tally_t;

static void run_loop(loop_t *lp, tally_t *t)
{
        ltrr_feature_ctx_t fc[2];
        ltrr_decision_t dec;
        size_t r, i;

        memset(t, 0, sizeof(*t));
        context(lp, "new taylor swift", LTRR_FEATURE_INTENT_ENTITY, T0_MS,
                &fc[0]);
        context(lp, "love story", LTRR_FEATURE_INTENT_ENTITY, T0_MS, &fc[1]);
        /* Same intent, language and day: only the shape separates them. */
        assert_int_not_equal(fc[0].bucket, fc[1].bucket);
        assert_int_equal(fc[0].bucket % LTRR_FEATURE_BUCKETS_SHAPE,
                         fc[1].bucket % LTRR_FEATURE_BUCKETS_SHAPE);
        for (r = 0; r < ROUNDS; r++) {
                double now = (double)T0_MS / 1000.0 + (double)r;
                int c = (int)(r % 2), late = r >= ROUNDS - TAIL;

                decide(lp, &fc[c], 0x9e3779b97f4a7c15ULL * (r + 1), now, &dec);
                if (r < TAIL || late)
                        for (i = 0; i < N_ARMS; i++) {
                                t->ran[late][c][i] +=
                                    (dec.arms[i].ran != 0) / (TAIL / 2.0);
                                t->budget[late][c][i] +=
                                    dec.arms[i].budget / (TAIL / 2.0);
                        }
                learn(lp, &fc[c], &dec, c ? FUZZY : FRESH, now);
        }
        t->bucket[0] = fc[0].bucket;
        t->bucket[1] = fc[1].bucket;
}

/* Nothing was filed under any bucket but the two contexts'. */
static void assert_only_buckets(const loop_t *lp, const tally_t *t)
{
        ltrr_bstats_cell_t cell;
        size_t b, a, j;

        for (b = 0; b < LTRR_FEATURE_BUCKETS; b++) {
                if (b == t->bucket[0] || b == t->bucket[1])
                        continue;
                for (a = 0; a < N_ARMS; a++)
                        for (j = 0; j < lp->sp.n_budgets; j++) {
                                assert_int_equal(ltrr_bstats_cell_get(
                                                     lp->st[b], a, j, 0, &cell),
                                                 LTRR_OK);
                                assert_true(cell.c == 0.0);
                        }
        }
}

/* With a price per candidate (bandit_freq's 0.012), arms that never win
 * stop running: each context ends up with its winner and the baseline.
 * (Without a price every arm keeps a positive score and the knapsack
 * keeps running them all at the smallest budget: see
 * docs/decisions/0030-query-shape-bucket.md.) */
static void test_loop_priced_drops_losers(void **state)
{
        loop_t *lp = *state;
        tally_t t;
        int c, a;

        policy_make(lp, 0.012);
        run_loop(lp, &t);
        for (c = 0; c < 2; c++) {
                int win = c ? FUZZY : FRESH;

                assert_true(t.ran[1][c][win] >= 0.9);
                assert_true(t.ran[1][c][LEXICAL] > 0.999); /* min budget */
                for (a = 0; a < N_ARMS; a++)
                        if (a != win && a != LEXICAL)
                                assert_true(t.ran[1][c][a] <= 0.1);
                assert_true(t.ran[0][c][c ? FRESH : FUZZY] >
                            t.ran[1][c][c ? FRESH : FUZZY]);
        }
        assert_only_buckets(lp, &t);
}

/* A context logged without the shape slot (an older layout, or a vector
 * of another length) is not filed under a shaped bucket. */
static void test_learner_bucket_without_vector(void **state)
{
        loop_t *lp = *state;
        ltrr_feature_ctx_t fc;
        ltrr_context_t rec;
        uint32_t b;

        policy_make(lp, 0.0);
        context(lp, "latest daft punk", LTRR_FEATURE_INTENT_ARTIST, T0_MS,
                &fc);
        assert_int_equal(ltrr_feature_bucket_shape(fc.bucket),
                         LTRR_FEATURE_SHAPE_FRESH);
        ltrr_feature_to_record(&fc, &rec);
        assert_int_equal(ltrr_learn_reward_bucket(&rec, &b), LTRR_OK);
        assert_int_equal(b, fc.bucket);
        rec.feature_cnt = LTRR_FEATURE_CTX_DIM - 1;
        assert_int_equal(ltrr_learn_reward_bucket(&rec, &b),
                         LTRR_ERR_UNKNOWN_KEY);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_loop_priced_drops_losers,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_learner_bucket_without_vector,
                                            setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
