/* Unit tests: training examples for the ranker from impressions and
 * rewards. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ranker_train.h"

#define NIMP 600
#define NRES 5

/* One synthetic impression with its backing storage. */
typedef struct t_imp_s {
        char ids[NRES][16];
        ltrr_candidate_t cands[NRES];
        ltrr_arm_decision_t arm;
        ltrr_result_t res[NRES];
        ltrr_impression_t imp;
        double lex[NRES];
} t_imp_t;

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

static void t_id(ltrr_id128_t *id, uint32_t k)
{
        memset(id, 0, sizeof(*id));
        id->b[12] = (uint8_t)(k >> 24);
        id->b[13] = (uint8_t)(k >> 16);
        id->b[14] = (uint8_t)(k >> 8);
        id->b[15] = (uint8_t)k;
}

/* Impression @k: NRES results at random positions, the lexical arm
 * scoring each. */
static void t_imp_make(t_imp_t *t, uint32_t k, uint64_t *rng)
{
        int j;

        memset(t, 0, sizeof(*t));
        for (j = 0; j < NRES; j++) {
                snprintf(t->ids[j], sizeof(t->ids[j]), "e%u", (unsigned)(k * NRES + j));
                t->lex[j] = t_unif(rng);
                t->cands[j].entity_id = t->ids[j];
                t->cands[j].score = (float)(10 * t->lex[j]);
                t->res[j].entity_id = t->ids[j];
                t->res[j].position = j;
                t->res[j].arm_mask = 1;
        }
        t->arm.arm = "lexical";
        t->arm.ran = true;
        t->arm.candidates = t->cands;
        t->arm.candidate_cnt = NRES;
        t_id(&t->imp.impression_id, k);
        t->imp.query_norm = "q";
        t->imp.arms = &t->arm;
        t->imp.arm_cnt = 1;
        t->imp.results = t->res;
        t->imp.result_cnt = NRES;
}

static void t_rew_make(ltrr_reward_t *r, uint32_t k, const char *ent,
                       int pos, double value)
{
        memset(r, 0, sizeof(*r));
        t_id(&r->impression_id, k);
        r->engaged_entity = ent;
        r->has_position = pos >= 0;
        r->position = pos;
        r->value = value;
}

/* Fills @rt with NIMP impressions where the result with the highest
 * lexical score is the one clicked (when the user looked that far). */
static size_t t_fill(ltrr_ranker_train_t *rt, uint64_t seed)
{
        static t_imp_t t;
        ltrr_reward_t r;
        uint64_t rng = seed;
        size_t clicks = 0;
        uint32_t k;

        for (k = 1; k <= NIMP; k++) {
                int j, best = 0;

                t_imp_make(&t, k, &rng);
                assert_int_equal(ltrr_ranker_train_add_impression(rt, &t.imp,
                                                                  NULL, 0),
                                 LTRR_OK);
                for (j = 1; j < NRES; j++)
                        if (t.lex[j] > t.lex[best])
                                best = j;
                if (t_unif(&rng) < 1.0 / (best + 1)) {
                        t_rew_make(&r, k, t.ids[best], best, 1.0);
                        clicks++;
                } else {
                        t_rew_make(&r, k, NULL, -1, 0.0);
                }
                assert_int_equal(ltrr_ranker_train_add_reward(rt, &r, NULL, 0),
                                 LTRR_OK);
        }
        return clicks;
}

static void test_destroy_null(void **state)
{
        (void)state;
        ltrr_ranker_train_destroy(NULL);
}

static void test_conf_errors(void **state)
{
        ltrr_ranker_train_conf_t c;
        char err[128] = "";

        (void)state;
        ltrr_ranker_train_conf_default(&c);
        c.max_impressions = 0;
        assert_null(ltrr_ranker_train_new(&c, err, sizeof(err)));
        assert_true(strlen(err) > 0);
        ltrr_ranker_train_conf_default(&c);
        c.pbias_npos = LTRR_PBIAS_MAX_POS + 1;
        assert_null(ltrr_ranker_train_new(&c, err, sizeof(err)));
        ltrr_ranker_train_conf_default(&c);
        c.pbias_floor = 0;
        assert_null(ltrr_ranker_train_new(&c, err, sizeof(err)));
}

/* The fitted model ranks the engaged entity above the others far more
 * often than the zero model, and beats it on AUC and log loss. */
static void test_fit_learns(void **state)
{
        ltrr_ranker_train_t *rt = ltrr_ranker_train_new(NULL, NULL, 0);
        ltrr_ranker_train_stats_t st;
        ltrr_ranker_fit_opts_t o = {10, 5, NULL};
        const ltrr_ranker_example_t *ex;
        ltrr_ranker_t *rk = ltrr_ranker_new(NULL, NULL, 0);
        double l0, a0, l1, a1;
        size_t n, clicks;

        (void)state;
        assert_non_null(rt);
        assert_non_null(rk);
        clicks = t_fill(rt, 42);
        assert_int_equal(ltrr_ranker_train_build(rt, NULL, 0), LTRR_OK);
        ltrr_ranker_train_stats(rt, &st);
        ex = ltrr_ranker_train_examples(rt, &n);
        assert_int_equal(n, NIMP * NRES);
        assert_int_equal(st.positives, clicks);
        assert_true(clicks > 100);
        assert_non_null(ltrr_ranker_train_pbias(rt));
        assert_true(ltrr_ranker_train_pbias(rt)->prop[NRES - 1] < 1.0);
        o.pbias = ltrr_ranker_train_pbias(rt);
        assert_int_equal(ltrr_ranker_train_eval(rk, ex, n, &l0, &a0), LTRR_OK);
        assert_int_equal(ltrr_ranker_fit(rk, ex, n, &o, NULL, NULL, 0),
                         LTRR_OK);
        assert_int_equal(ltrr_ranker_train_eval(rk, ex, n, &l1, &a1), LTRR_OK);
        assert_true(fabs(a0 - 0.5) < 1e-9);
        assert_true(a1 > 0.75);
        assert_true(l1 < l0);
        /* the lexical score carries positive weight */
        float w[LTRR_RANKER_NFEAT];
        ltrr_ranker_weights_get(rk, w);
        assert_true(w[LTRR_RANKER_F_ARM_SCORE + 0] > 0);
        ltrr_ranker_destroy(rk);
        ltrr_ranker_train_destroy(rt);
}

/* Rewards before impressions, orphans, replays, unrewarded impressions,
 * a negative value and an entity not shown. */
static void test_join(void **state)
{
        static t_imp_t t;
        ltrr_ranker_train_t *rt = ltrr_ranker_train_new(NULL, NULL, 0);
        ltrr_ranker_train_stats_t st;
        const ltrr_ranker_example_t *ex;
        ltrr_reward_t r;
        uint64_t rng = 1;
        size_t n, j;

        (void)state;
        t_imp_make(&t, 1, &rng); /* ids e5..e9 */
        t_rew_make(&r, 1, "e7", 2, 2.5); /* before its impression */
        assert_int_equal(ltrr_ranker_train_add_reward(rt, &r, NULL, 0), 0);
        assert_int_equal(ltrr_ranker_train_add_reward(rt, &r, NULL, 0), 0);
        t_rew_make(&r, 1, "zzz", 4, 1.0); /* not shown */
        assert_int_equal(ltrr_ranker_train_add_reward(rt, &r, NULL, 0), 0);
        t_rew_make(&r, 1, "e8", 3, -1.0); /* a skip: not a positive */
        assert_int_equal(ltrr_ranker_train_add_reward(rt, &r, NULL, 0), 0);
        t_rew_make(&r, 77, "e5", 0, 1.0); /* orphan */
        assert_int_equal(ltrr_ranker_train_add_reward(rt, &r, NULL, 0), 0);
        assert_int_equal(ltrr_ranker_train_add_impression(rt, &t.imp, NULL, 0),
                         0);
        assert_int_equal(ltrr_ranker_train_add_impression(rt, &t.imp, NULL, 0),
                         0); /* duplicate id: ignored */
        t_imp_make(&t, 2, &rng); /* no reward: no example */
        assert_int_equal(ltrr_ranker_train_add_impression(rt, &t.imp, NULL, 0),
                         0);
        r.value = NAN;
        assert_int_equal(ltrr_ranker_train_add_reward(rt, &r, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_ranker_train_build(rt, NULL, 0), LTRR_OK);
        ltrr_ranker_train_stats(rt, &st);
        assert_int_equal(st.impressions, 2);
        assert_int_equal(st.dup_impressions, 1);
        assert_int_equal(st.rewards, 5);
        assert_int_equal(st.rewarded, 1);
        assert_int_equal(st.orphan_rewards, 1);
        assert_int_equal(st.dup_rewards, 1);
        assert_int_equal(st.unmatched_rewards, 1);
        assert_int_equal(st.positives, 1);
        ex = ltrr_ranker_train_examples(rt, &n);
        assert_int_equal(n, NRES);
        for (j = 0; j < n; j++) {
                assert_int_equal(ex[j].position, j + 1);
                assert_true(ex[j].label == (j == 2 ? 1.0f : 0.0f));
        }
        /* the top lexical score of the query normalizes to 1 */
        assert_true(ex[0].x[LTRR_RANKER_F_FOUND_BY + 0] == 1.0f);
        assert_int_equal(ltrr_ranker_train_build(rt, NULL, 0), LTRR_ERR_STATE);
        assert_int_equal(ltrr_ranker_train_add_impression(rt, &t.imp, NULL, 0),
                         LTRR_ERR_STATE);
        ltrr_ranker_train_destroy(rt);
}

static void test_limits(void **state)
{
        static t_imp_t t;
        ltrr_ranker_train_conf_t c;
        ltrr_ranker_train_t *rt;
        ltrr_reward_t r;
        uint64_t rng = 3;
        char err[128];

        (void)state;
        ltrr_ranker_train_conf_default(&c);
        c.max_impressions = 1;
        c.max_rewards = 1;
        rt = ltrr_ranker_train_new(&c, err, sizeof(err));
        assert_non_null(rt);
        t_imp_make(&t, 1, &rng);
        assert_int_equal(ltrr_ranker_train_add_impression(rt, &t.imp, NULL, 0),
                         0);
        t_imp_make(&t, 2, &rng);
        assert_int_equal(ltrr_ranker_train_add_impression(rt, &t.imp, err,
                                                          sizeof(err)),
                         LTRR_ERR_NOSPACE);
        t_rew_make(&r, 1, NULL, -1, 0);
        assert_int_equal(ltrr_ranker_train_add_reward(rt, &r, NULL, 0), 0);
        assert_int_equal(ltrr_ranker_train_add_reward(rt, &r, NULL, 0),
                         LTRR_ERR_NOSPACE);
        /* no click at all: examples, but no propensity table */
        assert_int_equal(ltrr_ranker_train_build(rt, NULL, 0), LTRR_OK);
        assert_null(ltrr_ranker_train_pbias(rt));
        ltrr_ranker_train_destroy(rt);
}

/* Framed records: a good impression and reward, then a bad frame. */
static void test_read_framed(void **state)
{
        static t_imp_t t;
        static uint8_t buf[65536];
        ltrr_avro_decoder_t *dec = ltrr_avro_decoder_new(NULL, NULL, 0);
        ltrr_ranker_train_t *rt = ltrr_ranker_train_new(NULL, NULL, 0);
        ltrr_ranker_train_stats_t st;
        ltrr_reward_t r;
        uint64_t rng = 9;
        size_t off = 0, len;
        char err[256];

        (void)state;
        assert_non_null(dec);
        t_imp_make(&t, 1, &rng);
        t.imp.schema_version = 1;
        t.imp.node_id = t.imp.user_id = t.imp.query_raw = "x";
        t.imp.lang = "en";
        t.imp.policy = t.imp.model_version = "p";
        t.imp.context.query_type = t.imp.context.user_segment = "s";
        assert_int_equal(ltrr_avro_encode_impression(&t.imp, buf + 4,
                                                     sizeof(buf) - 4, &len,
                                                     err, sizeof(err)), 0);
        buf[0] = buf[1] = 0;
        buf[2] = (uint8_t)(len >> 8);
        buf[3] = (uint8_t)len;
        off = 4 + len;
        t_rew_make(&r, 1, "e6", 1, 1.0);
        r.node_id = r.user_id = r.query_norm = r.policy = "x";
        r.model_version = "m";
        r.impression_ref.topic = "t";
        r.context.query_type = r.context.user_segment = "s";
        assert_int_equal(ltrr_avro_encode_reward(&r, buf + off + 4,
                                                 sizeof(buf) - off - 4, &len,
                                                 err, sizeof(err)), 0);
        buf[off] = buf[off + 1] = 0;
        buf[off + 2] = (uint8_t)(len >> 8);
        buf[off + 3] = (uint8_t)len;
        off += 4 + len;
        memcpy(buf + off, "\0\0\0\3abc", 7);
        assert_int_not_equal(ltrr_ranker_train_read(rt, dec, buf, off + 7, 0,
                                                    err, sizeof(err)), 0);
        ltrr_ranker_train_destroy(rt);
        rt = ltrr_ranker_train_new(NULL, NULL, 0);
        assert_int_equal(ltrr_ranker_train_read(rt, dec, buf, off + 7, 1, err,
                                                sizeof(err)), LTRR_OK);
        assert_int_equal(ltrr_ranker_train_read(rt, dec, buf, 3, 1, err,
                                                sizeof(err)),
                         LTRR_ERR_TRUNCATED);
        assert_int_equal(ltrr_ranker_train_build(rt, NULL, 0), LTRR_OK);
        ltrr_ranker_train_stats(rt, &st);
        assert_int_equal(st.bad_records, 1);
        assert_int_equal(st.impressions, 1);
        assert_int_equal(st.positives, 1);
        assert_int_equal(st.examples, NRES);
        ltrr_ranker_train_destroy(rt);
        ltrr_avro_decoder_destroy(dec);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_destroy_null),
            cmocka_unit_test(test_conf_errors),
            cmocka_unit_test(test_fit_learns),
            cmocka_unit_test(test_join),
            cmocka_unit_test(test_limits),
            cmocka_unit_test(test_read_framed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
