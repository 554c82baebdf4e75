/* Unit tests: the subsets policy (Thompson sampling over arm subsets). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "bandit.h"
#include "bstats.h"
#include "rng.h"

enum { LEX = 0, POP = 1, STRUCT = 2, FUZZY = 3, SEM = 4, MEM = 5 };

static const char *const names[] = {"lexical", "popular",  "structured",
                                    "fuzzy",   "semantic", "memory"};

/* Six arms, budgets {10, 25, 50, 100}, total 100, no always-on arm. */
static void space_make(ltrr_bandit_space_t *sp)
{
        size_t a;

        memset(sp, 0, sizeof(*sp));
        sp->n_arms = 6;
        for (a = 0; a < sp->n_arms; a++)
                strcpy(sp->arm_names[a], names[a]);
        sp->n_budgets = 4;
        sp->budgets[0] = 10;
        sp->budgets[1] = 25;
        sp->budgets[2] = 50;
        sp->budgets[3] = 100;
        sp->total_budget = 100;
        sp->feature_version = 2;
}

static ltrr_policy_t *make(const char *menu, unsigned mc, char *errstr,
                           size_t size)
{
        ltrr_policy_conf_t conf;

        ltrr_policy_conf_init(&conf, LTRR_POLICY_SUBSETS);
        space_make(&conf.space);
        conf.subsets = menu;
        conf.mc_samples = mc;
        return ltrr_policy_new(&conf, errstr, size);
}

/* Bad menus are refused with a reason; unknown arms drop their entry. */
static void test_menu_errors(void **state)
{
        static const struct {
                const char *menu, *why;
        } bad[] = {
            {"lexical:50;fuzzy:50;lexical:50", "same arms"},
            {"lexical:30", "not a level"},
            {"lexical:100+fuzzy:10", "over the total"},
            {"lexical50", "bad pair"},
            {":50", "bad pair"},
            {"lexical:50+lexical:10", "twice in one entry"},
            {"nosuch:50", "no entry"},
            {"", "no entry"},
            {"*:10+lexical:25", "alone"},
            {"lexical:25+*:10", "alone"},
            {"*:10;lexical:10+popular:10+structured:10+fuzzy:10+"
             "semantic:10+memory:10",
             "same arms"},
        };
        char errstr[160];
        ltrr_policy_t *pol;
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                errstr[0] = '\0';
                pol = make(bad[i].menu, 16, errstr, sizeof(errstr));
                if (pol)
                        fail_msg("menu '%s' accepted", bad[i].menu);
                if (!strstr(errstr, bad[i].why))
                        fail_msg("menu '%s': '%s' lacks '%s'", bad[i].menu,
                                 errstr, bad[i].why);
        }
}

/* Unknown arms drop their entry; the built-in menu fits the space. */
static void test_menu_default(void **state)
{
        char errstr[160];
        ltrr_policy_kind_t kind;
        ltrr_policy_t *pol;

        (void)state;
        /* An entry with an arm the space lacks is left out, not fatal. */
        pol = make("nosuch:50+lexical:50;fuzzy:100", 16, errstr,
                   sizeof(errstr));
        assert_non_null(pol);
        ltrr_policy_destroy(pol);
        /* The default menu fits this space (it names semantic-less arms
         * the space lacks, which drop out). */
        pol = make(NULL, 16, errstr, sizeof(errstr));
        if (!pol)
                fail_msg("default menu: %s", errstr);
        assert_null(ltrr_policy_conf(pol)->subsets);
        assert_string_equal(ltrr_policy_name(pol), "subsets");
        ltrr_policy_destroy(pol);
        ltrr_policy_destroy(NULL);
        /* The built-in menu drops what exceeds a small total; a given
         * menu must fit (above). */
        {
                ltrr_policy_conf_t conf;

                ltrr_policy_conf_init(&conf, LTRR_POLICY_SUBSETS);
                space_make(&conf.space);
                conf.space.total_budget = 60; /* 6 arms x 10 fit */
                pol = ltrr_policy_new(&conf, errstr, sizeof(errstr));
                if (!pol)
                        fail_msg("default menu, total 60: %s", errstr);
                ltrr_policy_destroy(pol);
        }
        assert_int_equal(ltrr_policy_kind_parse("subsets", &kind), LTRR_OK);
        assert_int_equal(kind, LTRR_POLICY_SUBSETS);
        assert_string_equal(ltrr_policy_kind2str(LTRR_POLICY_SUBSETS),
                            "subsets");
}

/* An always-on arm cannot be honoured by a fixed menu: refused. */
static void test_baseline_refused(void **state)
{
        ltrr_policy_conf_t conf;
        char errstr[160] = "";

        (void)state;
        ltrr_policy_conf_init(&conf, LTRR_POLICY_SUBSETS);
        space_make(&conf.space);
        conf.space.min_budget[LEX] = 10;
        assert_null(ltrr_policy_new(&conf, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "always-on"));
}

static ltrr_bstats_t *stats_make(void)
{
        ltrr_bandit_space_t sp;
        char errstr[128];
        ltrr_bstats_t *st;

        space_make(&sp);
        st = ltrr_bstats_new(&sp, 0.0, 0.0, errstr, sizeof(errstr));
        if (!st)
                fail_msg("bstats_new: %s", errstr);
        return st;
}

static void decide(ltrr_policy_t *pol, ltrr_bstats_t *st, uint32_t avail,
                   uint64_t seed, ltrr_decision_t *dec)
{
        ltrr_bandit_ctx_t ctx = {0};
        char errstr[128];

        ctx.feature_version = 2;
        ctx.available = avail;
        ctx.seed = seed;
        if (ltrr_policy_decide(pol, &ctx, st, dec, errstr, sizeof(errstr)))
                fail_msg("decide: %s", errstr);
}

#define MENU "lexical:50+popular:50;fuzzy:100;memory:50+fuzzy:50;" \
             "structured:100"

/* Id of the set of arms @p a1 at level @p l1 and @p a2 at @p l2 (a2 -1:
 * none) in the test space. */
static uint64_t sid(int a1, int l1, int a2, int l2)
{
        ltrr_bandit_space_t sp;
        int lvl[LTRR_BANDIT_MAX_ARMS];
        size_t a;

        space_make(&sp);
        for (a = 0; a < LTRR_BANDIT_MAX_ARMS; a++)
                lvl[a] = -1;
        lvl[a1] = l1;
        if (a2 >= 0)
                lvl[a2] = l2;
        return ltrr_bstats_set_id(&sp, lvl);
}

/* Files one impression of arm set @p set with whole reward @p r, as the
 * learner does (set deltas plus the version). */
static void observe_set(ltrr_bstats_t *st, uint64_t set, double r)
{
        ltrr_bstats_delta_t d[3];

        assert_int_equal(ltrr_bstats_set_deltas(st, set, r, d, NULL, 0),
                         LTRR_OK);
        strcpy(d[2].field, "v");
        d[2].value = 1.0;
        d[2].decays = 0;
        assert_int_equal(ltrr_bstats_apply(st, d, 3, 0.0, NULL, 0), LTRR_OK);
}

/* One impression of every MENU entry, each worth 0.5: the bucket is no
 * longer cold and every posterior is Beta(1.5, 1.5). */
static void warm(ltrr_bstats_t *st)
{
        observe_set(st, sid(LEX, 2, POP, 2), 0.5);
        observe_set(st, sid(FUZZY, 3, -1, 0), 0.5);
        observe_set(st, sid(MEM, 2, FUZZY, 2), 0.5);
        observe_set(st, sid(STRUCT, 3, -1, 0), 0.5);
}

/* A bucket without rewards runs the first runnable entry, exactly; "*"
 * runs every available arm at its budget. */
static void test_cold_start(void **state)
{
        ltrr_bstats_t *st = stats_make();
        ltrr_policy_t *pol;
        ltrr_decision_t dec;
        char errstr[160];
        size_t a;

        (void)state;
        pol = make(MENU, 64, errstr, sizeof(errstr));
        assert_non_null(pol);
        decide(pol, st, 0x3f, 3, &dec);
        assert_int_equal(dec.mc_samples, 0);
        assert_true(dec.arms[LEX].ran && dec.arms[POP].ran);
        assert_true(dec.arms[LEX].prob == 1.0);
        assert_false(dec.arms[FUZZY].ran);
        assert_true(dec.arms[FUZZY].prob == 0.0);
        /* lexical unavailable: the first runnable entry is fuzzy:100 */
        decide(pol, st, 0x3f & ~(1u << LEX), 3, &dec);
        assert_true(dec.arms[FUZZY].ran);
        assert_int_equal(dec.arms[FUZZY].budget, 100);
        ltrr_policy_destroy(pol);

        pol = make("*:10;fuzzy:100", 64, errstr, sizeof(errstr));
        assert_non_null(pol);
        decide(pol, st, 0x3f & ~(1u << SEM), 9, &dec);
        for (a = 0; a < 6; a++) {
                assert_int_equal(dec.arms[a].ran, a != SEM);
                assert_int_equal(dec.arms[a].budget, a != SEM ? 10 : 0);
        }
        assert_int_equal(dec.total, 50);
        /* once the bucket has a reward, Thompson sampling takes over */
        observe_set(st, sid(FUZZY, 3, -1, 0), 1.0);
        decide(pol, st, 0x3f & ~(1u << SEM), 9, &dec);
        assert_int_equal(dec.mc_samples, 64);
        assert_true(dec.arms[SEM].prob == 0.0);
        ltrr_policy_destroy(pol);
        ltrr_bstats_destroy(st);
}

/* A decision runs exactly one entry, with the entry's budgets; the
 * probabilities of an entry's arms agree, and sum as the menu says. */
static void test_decision_shape(void **state)
{
        ltrr_bstats_t *st = stats_make();
        ltrr_policy_t *pol;
        ltrr_decision_t dec;
        char errstr[160];
        uint64_t s;

        (void)state;
        pol = make(MENU, 256, errstr, sizeof(errstr));
        assert_non_null(pol);
        warm(st);
        for (s = 1; s <= 50; s++) {
                decide(pol, st, 0x3f, s, &dec);
                assert_string_equal(dec.policy, "subsets");
                assert_int_equal(dec.mc_samples, 256);
                if (dec.arms[LEX].ran) {
                        assert_int_equal(dec.arms[LEX].budget, 50);
                        assert_int_equal(dec.arms[POP].budget, 50);
                        assert_false(dec.arms[FUZZY].ran);
                        assert_true(dec.arms[LEX].prob_budget ==
                                    dec.arms[POP].prob_budget);
                } else if (dec.arms[MEM].ran) {
                        assert_int_equal(dec.arms[MEM].budget, 50);
                        assert_int_equal(dec.arms[FUZZY].budget, 50);
                        assert_true(dec.arms[MEM].prob_budget ==
                                    dec.arms[FUZZY].prob_budget);
                } else if (dec.arms[FUZZY].ran) {
                        assert_int_equal(dec.arms[FUZZY].budget, 100);
                        assert_false(dec.arms[MEM].ran);
                } else {
                        assert_true(dec.arms[STRUCT].ran);
                        assert_int_equal(dec.arms[STRUCT].budget, 100);
                }
                assert_true(dec.total <= 100);
                assert_false(dec.arms[SEM].ran);
                assert_true(dec.arms[SEM].prob == 0.0);
                /* fuzzy is in two entries: P(run) is their sum, above
                 * P(this budget) when it ran */
                if (dec.arms[FUZZY].ran)
                        assert_true(dec.arms[FUZZY].prob >=
                                    dec.arms[FUZZY].prob_budget);
                /* lexical and popular always run together */
                assert_true(dec.arms[LEX].prob == dec.arms[POP].prob);
        }
        ltrr_policy_destroy(pol);
        ltrr_bstats_destroy(st);
}

/* Files one impression of the entry run in @p dec, as the learner does:
 * every arm that ran gets a reward, the value split among the arms that
 * found the engaged item (here: all of the entry's arms), and the set
 * they form gets the whole value. */
static void file_reward(ltrr_bstats_t *st, const ltrr_decision_t *dec,
                        double value)
{
        ltrr_bstats_obs_t o = {0};
        size_t a, n = 0, j;
        int lvl[LTRR_BANDIT_MAX_ARMS];

        for (a = 0; a < dec->n_arms; a++) {
                n += dec->arms[a].ran;
                lvl[a] = -1;
        }
        for (a = 0; a < dec->n_arms; a++) {
                if (!dec->arms[a].ran)
                        continue;
                for (j = 0; j < 4 && ltrr_bstats_space(st)->budgets[j] !=
                                         dec->arms[a].budget;
                     j++)
                        ;
                o.arm = a;
                o.budget_idx = j;
                o.reward = value / (double)n;
                assert_int_equal(ltrr_bstats_observe(st, &o, NULL, 0),
                                 LTRR_OK);
                lvl[a] = (int)j;
        }
        observe_set(st, ltrr_bstats_set_id(ltrr_bstats_space(st), lvl),
                    value);
}

/* Success rate of the entry run in @p dec, by its arms: lexical,
 * memory, fuzzy alone, or anything else. */
typedef struct rates_s {
        double lex, mem, fuzzy, other;
} rates_t;

/*
 * Runs @p n decisions of a policy on @p menu in a world where each entry
 * succeeds at its rate, filing every reward as the learner does; returns
 * how often memory + fuzzy ran in the last @p late decisions.
 */
static unsigned simulate(const char *menu, const rates_t *r, unsigned n,
                         unsigned late, uint64_t seed)
{
        ltrr_bstats_t *st = stats_make();
        ltrr_policy_t *pol;
        ltrr_decision_t dec;
        ltrr_rng_t env;
        char errstr[160];
        unsigned best = 0, s;
        double p;

        if (!(pol = make(menu, 16, errstr, sizeof(errstr))))
                fail_msg("menu: %s", errstr);
        ltrr_rng_seed(&env, seed);
        for (s = 0; s < n; s++) {
                decide(pol, st, 0x3f, 1000 + s, &dec);
                p = dec.arms[LEX].ran     ? r->lex
                    : dec.arms[MEM].ran   ? r->mem
                    : dec.arms[FUZZY].ran ? r->fuzzy
                                          : r->other;
                /* one entry per decision, even where cells are shared */
                if (dec.arms[FUZZY].ran && dec.arms[FUZZY].budget == 50)
                        assert_true(dec.arms[LEX].ran + dec.arms[MEM].ran <=
                                    1);
                if (s >= n - late)
                        best += dec.arms[MEM].ran;
                file_reward(st, &dec, ltrr_rng_uniform(&env) < p);
        }
        ltrr_policy_destroy(pol);
        ltrr_bstats_destroy(st);
        return best;
}

/*
 * Learning from the learner's statistics: lexical + popular succeed 50%
 * of the time, fuzzy alone 60%, memory + fuzzy 75%. The policy must end
 * on memory + fuzzy.
 */
static void test_learns_best_subset(void **state)
{
        const rates_t r = {0.50, 0.75, 0.60, 0.10};
        unsigned best = simulate(MENU, &r, 3000, 1000, 99);

        (void)state;
        if (best < 900)
                fail_msg("memory + fuzzy in %u of the last 1000", best);
}

/*
 * Entries may share a cell: fuzzy:50 is in lexical + fuzzy (20%) and in
 * memory + fuzzy (75%), whose cells alone cannot tell them apart; the
 * sets' own rewards can, and the policy ends on memory + fuzzy.
 */
static void test_shared_cells(void **state)
{
        const rates_t r = {0.20, 0.75, 0.40, 0.0};
        unsigned best = simulate(
            "lexical:50+fuzzy:50;memory:50+fuzzy:50;fuzzy:100", &r, 2000,
            500, 7);

        (void)state;
        if (best < 450)
                fail_msg("memory + fuzzy in %u of the last 500", best);
}

/* Entries with an unavailable arm never run; with none left, every
 * available arm runs at the smallest budget, deterministically. */
static void test_availability(void **state)
{
        ltrr_bstats_t *st = stats_make();
        ltrr_policy_t *pol;
        ltrr_decision_t dec;
        char errstr[160];
        uint64_t s;

        (void)state;
        pol = make(MENU, 32, errstr, sizeof(errstr));
        assert_non_null(pol);
        warm(st);
        for (s = 1; s <= 40; s++) {
                decide(pol, st, 0x3f & ~(1u << FUZZY), s, &dec);
                assert_false(dec.arms[FUZZY].ran);
                assert_false(dec.arms[MEM].ran);
                assert_true(dec.arms[LEX].ran || dec.arms[STRUCT].ran);
                assert_true(dec.arms[FUZZY].prob == 0.0);
        }
        decide(pol, st, 1u << SEM, 7, &dec); /* no entry is available */
        assert_int_equal(dec.mc_samples, 0);
        assert_true(dec.arms[SEM].ran);
        assert_int_equal(dec.arms[SEM].budget, 10);
        assert_true(dec.arms[SEM].prob == 1.0);
        assert_false(dec.arms[LEX].ran);
        assert_true(dec.arms[LEX].prob == 0.0);
        ltrr_policy_destroy(pol);
        ltrr_bstats_destroy(st);
}

/* Same seed and statistics, same decision and probabilities; and the
 * logged P(run) tracks the frequency of running over many seeds. */
static void test_determinism_and_frequency(void **state)
{
        ltrr_bstats_t *st = stats_make();
        ltrr_policy_t *pol;
        ltrr_decision_t a, b;
        char errstr[160];
        double mean = 0.0, freq = 0.0;
        uint64_t s;
        const unsigned n = 4000;

        (void)state;
        pol = make(MENU, 64, errstr, sizeof(errstr));
        assert_non_null(pol);
        warm(st);
        decide(pol, st, 0x3f, 42, &a);
        decide(pol, st, 0x3f, 42, &b);
        assert_memory_equal(a.arms, b.arms, sizeof(a.arms));
        for (s = 0; s < n; s++) {
                decide(pol, st, 0x3f, 5000 + s, &a);
                mean += a.arms[FUZZY].prob;
                freq += a.arms[FUZZY].ran;
        }
        mean /= n;
        freq /= n;
        /* fuzzy is in 2 of 4 equally likely entries */
        assert_true(mean > 0.45 && mean < 0.55);
        assert_true(freq > 0.45 && freq < 0.55);
        assert_true(mean - freq < 0.03 && freq - mean < 0.03);
        ltrr_policy_destroy(pol);
        ltrr_bstats_destroy(st);
}

/* The propensity cache: the same choice as an uncached decision; a hit
 * draws once and logs M + 1 samples; a cold bucket bypasses it. */
static void test_cache(void **state)
{
        ltrr_bstats_t *st = stats_make();
        ltrr_policy_mc_cache_t *c;
        ltrr_policy_t *pol;
        ltrr_decision_t a, b;
        ltrr_bandit_ctx_t ctx = {0};
        char errstr[160];
        uint64_t hits, misses, s;
        size_t k;

        (void)state;
        pol = make(MENU, 64, errstr, sizeof(errstr));
        assert_non_null(pol);
        c = ltrr_policy_mc_cache_new(errstr, sizeof(errstr));
        assert_non_null(c);
        ctx.feature_version = 2;
        ctx.available = 0x3f;
        ctx.bucket = 5;
        ctx.seed = 11;
        assert_int_equal(ltrr_policy_decide_cached(pol, c, &ctx, st, &a,
                                                   errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(a.mc_samples, 0); /* cold: fixed, not cached */
        ltrr_policy_mc_cache_stats(c, &hits, &misses);
        assert_true(hits == 0 && misses == 0);
        warm(st);
        for (s = 1; s <= 20; s++) {
                ctx.seed = s;
                assert_int_equal(ltrr_policy_decide_cached(
                                     pol, c, &ctx, st, &a, errstr,
                                     sizeof(errstr)),
                                 LTRR_OK);
                decide(pol, st, 0x3f, s, &b);
                for (k = 0; k < 6; k++) {
                        assert_int_equal(a.arms[k].ran, b.arms[k].ran);
                        assert_int_equal(a.arms[k].budget, b.arms[k].budget);
                        if (a.arms[k].ran)
                                assert_true(a.arms[k].prob > 0.0);
                }
                assert_int_equal(a.mc_samples, s == 1 ? 64 : 65);
        }
        ltrr_policy_mc_cache_stats(c, &hits, &misses);
        assert_true(hits == 19 && misses == 1);
        ltrr_policy_mc_cache_destroy(c);
        ltrr_policy_destroy(pol);
        ltrr_bstats_destroy(st);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_menu_errors),
            cmocka_unit_test(test_menu_default),
            cmocka_unit_test(test_baseline_refused),
            cmocka_unit_test(test_cold_start),
            cmocka_unit_test(test_decision_shape),
            cmocka_unit_test(test_learns_best_subset),
            cmocka_unit_test(test_shared_cells),
            cmocka_unit_test(test_availability),
            cmocka_unit_test(test_determinism_and_frequency),
            cmocka_unit_test(test_cache),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
