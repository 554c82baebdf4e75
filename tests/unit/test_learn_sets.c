/* Unit tests: the learner files arm-set rewards of the subsets policy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bstats.h"
#include "feature.h"
#include "learn_plan.h"
#include "learn_testlib.h"

static ltrr_learn_conf_t conf(void)
{
        static const char *const names[] = {"lexical", "popular", "fuzzy"};

        return learn_test_conf(names, 3, 60);
}

/* lexical:10 and fuzzy:20 ran and share a play (worth 3: each arm's
 * reward clips to 1, their sum too); popular did not run; an arm the
 * space lacks is left out of the set as out of the cells. */
static const ltrr_arm_reward_t arms[] = {
    {"lexical", true, 10, 0.5, 1.5},
    {"popular", false, 0, 0.5, 0.0},
    {"fuzzy", true, 20, 0.5, 0.25},
    {"semantic", true, 10, 0.5, 1.0},
};

static ltrr_reward_t reward(const char *policy)
{
        ltrr_reward_t r;

        memset(&r, 0, sizeof(r));
        r.event_time_ms = 1700000005000;
        r.impression_ref.topic = "ltrr.impressions";
        r.impression_ref.partition = 3;
        r.impression_ref.offset = 11;
        r.user_id = "u7";
        r.query_norm = "daft punk";
        r.apply_bandit = true;
        r.arm_rewards = arms;
        r.arm_reward_cnt = 4;
        r.impression_time_ms = 1700000000000;
        r.policy = policy;
        return r;
}

/* The bandit call's one record: its values and their count. */
static char *const *bandit_record(ltrr_learn_plan_t *pl, size_t *nv)
{
        const ltrr_learn_call_t *c;
        size_t i, at;

        assert_int_equal(ltrr_learn_plan_seal(pl, NULL, 0), LTRR_OK);
        for (i = 0; i < ltrr_learn_plan_count(pl); i++) {
                c = ltrr_learn_plan_call(pl, i);
                if (strcmp(c->kind, LTRR_LEARN_KIND_BANDIT) != 0)
                        continue;
                /* keys, kind, m, ttl, f, f fixed, then bitmap, bit, v */
                at = c->key_cnt + 4 + (size_t)atoi(c->argv[c->key_cnt + 3]);
                *nv = (size_t)atoi(c->argv[at + 2]);
                return (char *const *)&c->argv[at + 3];
        }
        fail_msg("no bandit call");
        return NULL;
}

/* A subsets reward ends with the set's n and s deltas; the set is the
 * cells that ran, named as serving names them. */
static void test_subsets_files_set(void **state)
{
        ltrr_learn_conf_t c = conf();
        ltrr_learn_plan_t *pl = ltrr_learn_plan_new(&c, NULL, 0);
        ltrr_reward_t r = reward("subsets");
        int lvl[LTRR_BANDIT_MAX_ARMS] = {0, -1, 1};
        char *const *v;
        char want[40];
        size_t nv;

        (void)state;
        assert_non_null(pl);
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        v = bandit_record(pl, &nv);
        /* t, epoch, 5 fields per arm (n s q c v) x 2 arms, 2 set fields */
        assert_int_equal(nv, 2 + 2 * (5 * 2 + 2));
        snprintf(want, sizeof(want), "n:@%" PRIx64 ":0",
                 ltrr_bstats_set_id(&c.space, lvl));
        assert_string_equal(v[nv - 4], want);
        assert_true(strtod(v[nv - 3], NULL) == 1.0);
        want[0] = 's';
        assert_string_equal(v[nv - 2], want);
        assert_true(strtod(v[nv - 1], NULL) == 1.0); /* 1 + 0.25, clipped */
        ltrr_learn_plan_destroy(pl);
}

/* Other policies' sets are not filed: their number is not bounded. */
static void test_other_policies_no_set(void **state)
{
        static const char *const pols[] = {"thompson", "uniform", ""};
        ltrr_learn_conf_t c = conf();
        ltrr_learn_plan_t *pl;
        ltrr_reward_t r;
        size_t nv, i, k;
        char *const *v;

        (void)state;
        for (i = 0; i < 4; i++) {
                pl = ltrr_learn_plan_new(&c, NULL, 0);
                assert_non_null(pl);
                r = reward(i < 3 ? pols[i] : NULL);
                assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0),
                                 LTRR_OK);
                v = bandit_record(pl, &nv);
                assert_int_equal(nv, 2 + 2 * (5 * 2));
                for (k = 2; k < nv; k += 2)
                        assert_null(strchr(v[k], '@'));
                ltrr_learn_plan_destroy(pl);
        }
}

/* The bandit key of reward @p r's one bandit call. */
static const char *bandit_key(const ltrr_reward_t *r)
{
        static char key[LTRR_BSTATS_KEY_MAX];
        ltrr_learn_conf_t c = conf();
        ltrr_learn_plan_t *pl = ltrr_learn_plan_new(&c, NULL, 0);
        const ltrr_learn_call_t *call;
        size_t i;

        assert_non_null(pl);
        assert_int_equal(ltrr_learn_plan_add(pl, r, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_learn_plan_seal(pl, NULL, 0), LTRR_OK);
        key[0] = '\0';
        for (i = 0; i < ltrr_learn_plan_count(pl); i++) {
                call = ltrr_learn_plan_call(pl, i);
                if (!strcmp(call->kind, LTRR_LEARN_KIND_BANDIT))
                        snprintf(key, sizeof(key), "%s",
                                 call->argv[call->key_cnt - 1]);
        }
        ltrr_learn_plan_destroy(pl);
        return key;
}

/* A subsets reward goes to the bucket with the query's length class in
 * the language slot, as serving decides it; another policy's to the
 * query's own bucket. */
static void test_subsets_pools_languages(void **state)
{
        float x[LTRR_FEATURE_CTX_DIM];
        const ltrr_feature_fdesc_t *rows;
        ltrr_reward_t r = reward("subsets");
        size_t nrow, i;
        uint32_t b;
        char want[64];

        (void)state;
        memset(x, 0, sizeof(x));
        rows = ltrr_feature_layout(&nrow);
        for (i = 0; i < nrow; i++)
                if (rows[i].group == LTRR_FEATURE_GROUP_CTX &&
                    !strcmp(rows[i].name, "lang_other"))
                        x[rows[i].index] = 1.0f;
        r.context.features = x;
        r.context.feature_cnt = LTRR_FEATURE_CTX_DIM;
        r.context.query_type = "artist";
        assert_int_equal(ltrr_learn_reward_bucket(&r.context, &b), LTRR_OK);
        assert_int_equal(b, (1 * 3 + 2) * 2); /* group 2 */
        snprintf(want, sizeof(want), "ltrr:bandit:{b%u}:v1",
                 (unsigned)ltrr_feature_bucket_subsets(
                     b, x, LTRR_FEATURE_CTX_DIM));
        assert_string_equal(bandit_key(&r), want);
        assert_string_equal(want, "ltrr:bandit:{b6}:v1");
        /* a query of four or more tokens: length class 2 in the slot */
        for (i = 0; i < nrow; i++)
                if (rows[i].group == LTRR_FEATURE_GROUP_CTX &&
                    !strcmp(rows[i].name, "qlen_4plus"))
                        x[rows[i].index] = 1.0f;
        assert_string_equal(bandit_key(&r), "ltrr:bandit:{b10}:v1");
        r.policy = "thompson";
        snprintf(want, sizeof(want), "ltrr:bandit:{b%u}:v1", (unsigned)b);
        assert_string_equal(bandit_key(&r), want);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_subsets_files_set),
            cmocka_unit_test(test_other_policies_no_set),
            cmocka_unit_test(test_subsets_pools_languages),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
