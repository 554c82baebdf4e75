/* Unit tests: Reward -> Redis script invocations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bstats.h"
#include "feature.h"
#include "learn_plan.h"
#include "learn_testlib.h"
#include "ranker_online.h"

static ltrr_learn_conf_t conf(void)
{
        static const char *const names[] = {"lexical", "popular"};

        return learn_test_conf(names, 2, 30);
}

static const ltrr_arm_reward_t arms[] = {
    {"lexical", true, 10, 0.5, 1.0},
    {"popular", false, 0, 0.5, 0.0},
    {"semantic", true, 10, 0.5, 1.0}, /* not in the space: skipped */
};

static ltrr_reward_t reward(int64_t imp_off, int64_t act_off)
{
        ltrr_reward_t r;

        memset(&r, 0, sizeof(r));
        r.event_time_ms = 1700000005000;
        r.impression_ref.topic = "ltrr.impressions";
        r.impression_ref.partition = 3;
        r.impression_ref.offset = imp_off;
        r.has_action_ref = act_off >= 0;
        r.action_ref.topic = "ltrr.actions";
        r.action_ref.partition = 1;
        r.action_ref.offset = act_off;
        r.user_id = "u7";
        r.query_norm = "daft punk";
        r.apply_bandit = true;
        r.apply_engagement = act_off >= 0;
        r.engaged_entity = "e:42";
        r.value = 3.0;
        r.arm_rewards = arms;
        r.arm_reward_cnt = 3;
        r.impression_time_ms = 1700000000000;
        r.has_action_time_ms = true;
        r.action_time_ms = 1700000004000;
        return r;
}

/* Every key of @p c hashes to c->slot. */
static void assert_one_slot(const ltrr_learn_call_t *c)
{
        size_t k;

        assert_true(c->key_cnt >= 1);
        for (k = 0; k < c->key_cnt; k++)
                assert_int_equal(ltrr_learn_key_slot(c->argv[k],
                                                     strlen(c->argv[k])),
                                 c->slot);
}

static const ltrr_learn_call_t *find(ltrr_learn_plan_t *pl, const char *kind)
{
        size_t i;

        for (i = 0; i < ltrr_learn_plan_count(pl); i++)
                if (!strcmp(ltrr_learn_plan_call(pl, i)->kind, kind))
                        return ltrr_learn_plan_call(pl, i);
        return NULL;
}

/* Known CRC16 slots from the Redis Cluster specification. */
static void test_slot_vectors(void **state)
{
        assert_int_equal(ltrr_learn_key_slot("123456789", 9), 0x31C3);
        assert_int_equal(ltrr_learn_key_slot("foo", 3), 12182);
        assert_int_equal(ltrr_learn_key_slot("{user1000}.following", 20),
                         ltrr_learn_key_slot("{user1000}.followers", 20));
        assert_int_equal(ltrr_learn_key_slot("{user1000}.following", 20),
                         ltrr_learn_key_slot("user1000", 8));
        /* An empty tag hashes the whole key. */
        assert_int_equal(ltrr_learn_key_slot("foo{}{bar}", 10),
                         ltrr_learn_key_slot("foo{}{bar}x", 10));
        assert_int_not_equal(ltrr_learn_key_slot("foo{}{bar}", 10),
                             ltrr_learn_key_slot("bar", 3));
        /* The tag ends at the first '}' after the first '{'. */
        assert_int_equal(ltrr_learn_key_slot("foo{{bar}}zap", 13),
                         ltrr_learn_key_slot("{bar", 4));
}

/* Argument index of record @p r of group call @p c (its bitmap index). */
static size_t record_at(const ltrr_learn_call_t *c, size_t r)
{
        size_t i = c->key_cnt + 4 + (size_t)atoi(c->argv[c->key_cnt + 3]);

        while (r--)
                i += 3 + (size_t)atoi(c->argv[i + 2]);
        return i;
}

/* Seals and checks that every record of every call lies inside argv. */
static void seal(ltrr_learn_plan_t *pl)
{
        const ltrr_learn_call_t *c;
        size_t i;

        assert_int_equal(ltrr_learn_plan_seal(pl, NULL, 0), LTRR_OK);
        for (i = 0; i < ltrr_learn_plan_count(pl); i++) {
                c = ltrr_learn_plan_call(pl, i);
                assert_one_slot(c);
                if (c->records)
                        assert_int_equal(record_at(c, c->records), c->argc);
        }
}

static void test_full_reward(void **state)
{
        ltrr_learn_conf_t c = conf();
        ltrr_learn_plan_t *pl = ltrr_learn_plan_new(&c, NULL, 0);
        ltrr_reward_t r = reward(5000, 2049);
        const ltrr_learn_call_t *b, *q, *qn, *p, *u;
        ltrr_learn_plan_stats_t st;

        assert_non_null(pl);
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        seal(pl);
        assert_int_equal(ltrr_learn_plan_count(pl), 5);
        b = find(pl, LTRR_LEARN_KIND_BANDIT);
        qn = find(pl, LTRR_LEARN_KIND_Q2E_COUNT);
        q = find(pl, LTRR_LEARN_KIND_Q2E);
        p = find(pl, LTRR_LEARN_KIND_POP);
        u = find(pl, LTRR_LEARN_KIND_PROFILE);
        assert_true(b && qn && q && p && u);
        /* Bandit: bitmap of the impression ref, 5000 = 4 * 1024 + 904. */
        assert_int_equal(b->key_cnt, 2);
        assert_string_equal(b->argv[0], "ltrr:dedup:{b0}:i:3:4");
        assert_string_equal(b->argv[1], "ltrr:bandit:{b0}:v1");
        assert_string_equal(b->argv[2], "b");
        assert_string_equal(b->argv[3], "1");     /* bitmaps */
        assert_string_equal(b->argv[4], "86400"); /* bitmap TTL */
        assert_string_equal(b->argv[5], "1");     /* fixed arguments */
        assert_string_equal(b->argv[6], "3600");  /* half-life */
        assert_string_equal(b->argv[7], "1");     /* bitmap index */
        assert_string_equal(b->argv[8], "904");   /* bit */
        assert_string_equal(b->argv[9], "12");    /* t, epoch, 5 pairs */
        assert_string_equal(b->argv[10], "1700000000");
        /* Five deltas (n, s, q, c, v) of the one known arm that ran. */
        assert_int_equal(b->argc, 10 + 12);
        assert_int_equal(b->records, 1);
        /* Engagement parts: bitmap of the action ref, 2049 = 2 * 1024 + 1. */
        assert_string_equal(q->argv[0], "ltrr:dedup:{q:daft%20punk}:a:1:2");
        assert_string_equal(q->argv[1], "ltrr:q2e:{q:daft%20punk}");
        assert_string_equal(q->argv[7], "600");
        assert_string_equal(q->argv[8], "10");
        assert_string_equal(q->argv[10], "1");
        assert_string_equal(q->argv[12], "e:42");
        assert_string_equal(q->argv[13], "3");
        assert_string_equal(qn->argv[0], "ltrr:dedup:{q:daft%20punk}:i:3:4");
        assert_int_equal(qn->slot, q->slot);
        assert_string_equal(p->argv[1], "ltrr:pop:{pop}");
        assert_string_equal(u->argv[1], "ltrr:user:{u:u7}:recent");
        assert_string_equal(u->argv[0], "ltrr:dedup:{u:u7}:a:1:2");
        assert_string_equal(u->argv[14], "1700000004000");
        ltrr_learn_plan_stats(pl, &st);
        assert_int_equal(st.rewards, 1);
        assert_int_equal(st.arms_skipped, 1);
        assert_int_equal(st.bucket_unknown, 1); /* no logged vector */
        /* Sealed: more rewards need a clear first. */
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0),
                         LTRR_ERR_STATE);
        ltrr_learn_plan_clear(pl);
        assert_int_equal(ltrr_learn_plan_count(pl), 0);
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        seal(pl);
        assert_int_equal(ltrr_learn_plan_count(pl), 5);
        ltrr_learn_plan_destroy(pl);
}

/* The decaying fields as the script recognizes them (apply.lua). */
static int lua_decays(const char *f)
{
        return !strncmp(f, "n:", 2) || !strncmp(f, "s:", 2) ||
               !strncmp(f, "q:", 2) || !strncmp(f, "b:", 2) ||
               !strncmp(f, "A:", 2);
}

/* The bandit deltas are bstats' deltas for the arm, field by field, and
 * the script's decay rule agrees with bstats' flags. */
static void test_bandit_deltas(void **state)
{
        ltrr_learn_conf_t c = conf();
        ltrr_learn_plan_t *pl = ltrr_learn_plan_new(&c, NULL, 0);
        ltrr_bstats_t *st = ltrr_bstats_new(&c.space, 3600, 0, NULL, 0);
        ltrr_bstats_obs_t obs = {0, 0, 1.0, NULL, 1700000000.0};
        ltrr_bstats_delta_t d[8];
        ltrr_reward_t r = reward(7, -1);
        const ltrr_learn_call_t *b;
        size_t n, i, at;

        assert_int_equal(ltrr_bstats_deltas(st, &obs, d, 8, &n, NULL, 0),
                         LTRR_OK);
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        seal(pl);
        assert_int_equal(ltrr_learn_plan_count(pl), 2); /* no engagement */
        b = find(pl, LTRR_LEARN_KIND_BANDIT);
        assert_non_null(b);
        at = record_at(b, 0);
        assert_int_equal(atoi(b->argv[at + 2]), 2 + 2 * n);
        for (i = 0; i < n; i++) {
                assert_string_equal(b->argv[at + 5 + 2 * i], d[i].field);
                assert_true(strtod(b->argv[at + 6 + 2 * i], NULL) ==
                            d[i].value);
                assert_int_equal(lua_decays(d[i].field), d[i].decays);
        }
        ltrr_bstats_destroy(st);
        ltrr_learn_plan_destroy(pl);
}

/* Arm rewards beyond [-1, 1] (a play is worth 3 by default) are applied
 * clipped, as a full success or failure, never skipped. */
static void test_arm_reward_clipped(void **state)
{
        static const double vals[] = {3.0, -2.5};
        ltrr_learn_conf_t c = conf();
        ltrr_bstats_t *st = ltrr_bstats_new(&c.space, 3600, 0, NULL, 0);
        size_t v;

        (void)state;
        assert_non_null(st);
        for (v = 0; v < 2; v++) {
                ltrr_learn_plan_t *pl = ltrr_learn_plan_new(&c, NULL, 0);
                ltrr_bstats_obs_t obs = {0, 0, vals[v] > 0 ? 1.0 : -1.0,
                                         NULL, 1700000000.0};
                ltrr_bstats_delta_t d[8];
                ltrr_reward_t r = reward(7, -1);
                ltrr_learn_plan_stats_t ps;
                const ltrr_learn_call_t *b;
                size_t n, i, at;

                assert_non_null(pl);
                ltrr_arm_reward_t a[3];

                memcpy(a, arms, sizeof(a));
                for (i = 0; i < 3; i++)
                        a[i].reward = vals[v];
                r.arm_rewards = a;
                assert_int_equal(ltrr_bstats_deltas(st, &obs, d, 8, &n,
                                                     NULL, 0), LTRR_OK);
                assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0),
                                 LTRR_OK);
                seal(pl);
                b = find(pl, LTRR_LEARN_KIND_BANDIT);
                assert_non_null(b);
                at = record_at(b, 0);
                assert_int_equal(atoi(b->argv[at + 2]), 2 + 2 * n);
                for (i = 0; i < n; i++)
                        assert_true(strtod(b->argv[at + 6 + 2 * i], NULL) ==
                                    d[i].value);
                ltrr_learn_plan_stats(pl, &ps);
                assert_int_equal(ps.arms_skipped, 1); /* the unknown arm */
                ltrr_learn_plan_destroy(pl);
        }
        ltrr_bstats_destroy(st);
}

/* Grouping: one call per group, a record per reference, bitmaps shared
 * by index; the same source reference maps to the same key and bit. */
static void test_grouping(void **state)
{
        ltrr_learn_conf_t c = conf();
        ltrr_learn_plan_t *pl = ltrr_learn_plan_new(&c, NULL, 0);
        ltrr_reward_t r1 = reward(1023, 10), r2 = reward(1023, 11),
                      r3 = reward(1024, 10);
        const ltrr_learn_call_t *a;
        size_t at;

        assert_int_equal(ltrr_learn_plan_add(pl, &r1, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_learn_plan_add(pl, &r2, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_learn_plan_add(pl, &r3, NULL, 0), LTRR_OK);
        seal(pl);
        assert_int_equal(ltrr_learn_plan_count(pl), 5);
        a = find(pl, LTRR_LEARN_KIND_BANDIT);
        assert_int_equal(a->records, 3);
        assert_int_equal(a->key_cnt, 3); /* segments 0 and 1, stats */
        assert_string_equal(a->argv[0], "ltrr:dedup:{b0}:i:3:0");
        assert_string_equal(a->argv[1], "ltrr:dedup:{b0}:i:3:1");
        /* r1 and r2: one impression, so the same bitmap and bit... */
        at = record_at(a, 0);
        assert_string_equal(a->argv[at], "1");
        assert_string_equal(a->argv[at + 1], "1023");
        at = record_at(a, 1);
        assert_string_equal(a->argv[at], "1");
        assert_string_equal(a->argv[at + 1], "1023");
        /* ...r3: offset 1024 starts the next segment at bit 0. */
        at = record_at(a, 2);
        assert_string_equal(a->argv[at], "2");
        assert_string_equal(a->argv[at + 1], "0");
        /* Engagement: two actions (10 and 11), r3 repeats action 10. */
        a = find(pl, LTRR_LEARN_KIND_Q2E);
        assert_int_equal(a->records, 3);
        assert_int_equal(a->key_cnt, 3);
        assert_string_equal(a->argv[record_at(a, 0) + 1], "10");
        assert_string_equal(a->argv[record_at(a, 1) + 1], "11");
        assert_string_equal(a->argv[record_at(a, 2) + 1], "10");
        ltrr_learn_plan_destroy(pl);
}

/* Big groups are split: by record count and by distinct bitmaps. */
static void test_chunks(void **state)
{
        ltrr_learn_conf_t c = conf();
        ltrr_learn_plan_t *pl = ltrr_learn_plan_new(&c, NULL, 0);
        const ltrr_learn_call_t *k;
        ltrr_reward_t r;
        size_t i, recs = 0, calls = 0;

        for (i = 0; i < 1500; i++) {
                r = reward((int64_t)i, -1);
                assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0),
                                 LTRR_OK);
        }
        seal(pl);
        for (i = 0; i < ltrr_learn_plan_count(pl); i++) {
                k = ltrr_learn_plan_call(pl, i);
                if (strcmp(k->kind, LTRR_LEARN_KIND_BANDIT))
                        continue;
                assert_true(k->records <= 1024);
                recs += k->records;
                calls++;
        }
        assert_int_equal(recs, 1500);
        assert_int_equal(calls, 2);
        /* 100 segments: at most 64 bitmaps per call. */
        ltrr_learn_plan_clear(pl);
        for (i = 0; i < 100; i++) {
                r = reward((int64_t)i * 1024, -1);
                assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0),
                                 LTRR_OK);
        }
        seal(pl);
        k = find(pl, LTRR_LEARN_KIND_BANDIT);
        assert_int_equal(k->records, 64);
        assert_int_equal(k->key_cnt, 65);
        ltrr_learn_plan_destroy(pl);
}

/* The bucket comes from the logged context as serving computes it. */
static void test_bucket(void **state)
{
        ltrr_learn_conf_t c = conf();
        ltrr_learn_plan_t *pl = ltrr_learn_plan_new(&c, NULL, 0);
        float x[LTRR_FEATURE_CTX_DIM];
        const ltrr_feature_fdesc_t *rows;
        ltrr_reward_t r = reward(3, -1);
        const ltrr_learn_call_t *b;
        size_t nrow, i;
        uint32_t bk;

        memset(x, 0, sizeof(x));
        rows = ltrr_feature_layout(&nrow);
        for (i = 0; i < nrow; i++)
                if (rows[i].group == LTRR_FEATURE_GROUP_CTX &&
                    !strcmp(rows[i].name, "lang_2"))
                        x[rows[i].index] = 1.0f;
        r.context.features = x;
        r.context.feature_cnt = LTRR_FEATURE_CTX_DIM;
        r.context.query_type = "artist";
        r.context.holiday = true;
        assert_int_equal(ltrr_learn_reward_bucket(&r.context, &bk), LTRR_OK);
        assert_int_equal(bk, (1 * 3 + 1) * 2 + 1);
        r.context.query_type = "something else"; /* ambiguous, as serving */
        r.context.holiday = false;
        assert_int_equal(ltrr_learn_reward_bucket(&r.context, &bk), LTRR_OK);
        assert_int_equal(bk, (3 * 3 + 1) * 2 + 0);
        assert_int_equal(ltrr_feature_bucket_parts(bk, NULL, NULL, NULL),
                         LTRR_OK);
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        seal(pl);
        b = find(pl, LTRR_LEARN_KIND_BANDIT);
        assert_string_equal(b->argv[1], "ltrr:bandit:{b20}:v1");
        /* No language in the vector, or no vector: unknown. */
        memset(x, 0, sizeof(x));
        assert_int_equal(ltrr_learn_reward_bucket(&r.context, &bk),
                         LTRR_ERR_UNKNOWN_KEY);
        r.context.feature_cnt = 3;
        assert_int_equal(ltrr_learn_reward_bucket(&r.context, &bk),
                         LTRR_ERR_UNKNOWN_KEY);
        ltrr_learn_plan_destroy(pl);
}

static void test_skips(void **state)
{
        ltrr_learn_conf_t c = conf();
        ltrr_learn_plan_t *pl = ltrr_learn_plan_new(&c, NULL, 0);
        ltrr_reward_t r = reward(1, 2);
        ltrr_learn_plan_stats_t st;
        char longq[LTRR_Q2E_QUERY_MAX + 10];

        memset(longq, 'q', sizeof(longq) - 1);
        longq[sizeof(longq) - 1] = '\0';
        r.query_norm = longq; /* no Q2E parts */
        r.engaged_entity = "e1";
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        seal(pl);
        assert_null(find(pl, LTRR_LEARN_KIND_Q2E));
        assert_null(find(pl, LTRR_LEARN_KIND_Q2E_COUNT));
        assert_non_null(find(pl, LTRR_LEARN_KIND_BANDIT));
        assert_non_null(find(pl, LTRR_LEARN_KIND_POP));
        ltrr_learn_plan_stats(pl, &st);
        assert_int_equal(st.parts_skipped, 2);
        /* No arm of the space ran: no bandit call at all. */
        ltrr_learn_plan_clear(pl);
        r = reward(1, -1);
        r.arm_rewards = &arms[2];
        r.arm_reward_cnt = 1;
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        seal(pl);
        assert_null(find(pl, LTRR_LEARN_KIND_BANDIT));
        assert_int_equal(ltrr_learn_plan_count(pl), 1);
        /* Engagement without an entity: skipped. */
        ltrr_learn_plan_clear(pl);
        r = reward(1, 5);
        r.apply_bandit = false;
        r.engaged_entity = NULL;
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        seal(pl);
        assert_int_equal(ltrr_learn_plan_count(pl), 0);
        ltrr_learn_plan_destroy(pl);
}

static void test_offsets_and_group(void **state)
{
        ltrr_learn_conf_t c = conf();
        ltrr_learn_plan_t *pl = ltrr_learn_plan_new(&c, NULL, 0);
        ltrr_kafka_ref_t refs[2] = {{"ltrr.rewards", 0, 41},
                                    {"ltrr.rewards", 5, 7}};
        ltrr_reward_t r = reward(9, 9);
        const ltrr_learn_call_t *o, *prev;
        char errstr[128];
        size_t i, n;

        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_learn_plan_add_offsets(pl, "g1", refs, 2, errstr,
                                                     sizeof(errstr)),
                         LTRR_OK);
        o = find(pl, LTRR_LEARN_KIND_OFFSETS);
        assert_non_null(o);
        assert_int_equal(o->key_cnt, 1);
        assert_string_equal(o->argv[0], "ltrr:learn:{off}:g1");
        assert_string_equal(o->argv[2], "ltrr.rewards:0");
        assert_string_equal(o->argv[3], "41");
        assert_string_equal(o->argv[5], "7");
        assert_int_equal(ltrr_learn_plan_add_offsets(pl, "", refs, 2, errstr,
                                                     sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_learn_plan_add_offsets(pl, "g", refs, 0, errstr,
                                                     sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        /* The offsets call is the last one. */
        n = ltrr_learn_plan_count(pl);
        assert_int_equal(n, 6);
        assert_ptr_equal(ltrr_learn_plan_call(pl, n - 1), o);
        /* Grouping orders by slot and keeps addition order within one;
         * the offsets call stays last. */
        ltrr_learn_plan_clear(pl);
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        r.user_id = "another user";
        r.query_norm = "another query";
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_learn_plan_add_offsets(pl, "g1", refs, 2, errstr,
                                                     sizeof(errstr)),
                         LTRR_OK);
        ltrr_learn_plan_group(pl);
        n = ltrr_learn_plan_count(pl);
        assert_int_equal(n, 9); /* b, p, 2 x (qn, q, u), offsets */
        for (i = 1; i + 1 < n; i++) {
                prev = ltrr_learn_plan_call(pl, i - 1);
                o = ltrr_learn_plan_call(pl, i);
                assert_true(prev->slot < o->slot ||
                            (prev->slot == o->slot && prev->seq < o->seq));
        }
        assert_string_equal(ltrr_learn_plan_call(pl, n - 1)->kind,
                            LTRR_LEARN_KIND_OFFSETS);
        assert_null(ltrr_learn_plan_call(pl, n));
        ltrr_learn_plan_destroy(pl);
}

static void test_new_errors(void **state)
{
        ltrr_learn_conf_t c = conf();
        char errstr[128] = "";

        c.q2e.max = 0;
        assert_null(ltrr_learn_plan_new(&c, errstr, sizeof(errstr)));
        assert_true(errstr[0] != '\0');
        c = conf();
        c.space.n_arms = 0; /* the space is refused by bstats */
        errstr[0] = '\0';
        assert_null(ltrr_learn_plan_new(&c, errstr, sizeof(errstr)));
        assert_true(errstr[0] != '\0');
        assert_null(ltrr_learn_plan_new(NULL, errstr, sizeof(errstr)));
        ltrr_learn_plan_destroy(NULL);
}

static void test_escape(void **state)
{
        char buf[16], errstr[64];

        assert_int_equal(ltrr_learn_key_escape(buf, sizeof(buf), "a:b%{}",
                                               errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_string_equal(buf, "a%3Ab%25%7B%7D");
        assert_int_equal(ltrr_learn_key_escape(buf, 4, "a b", errstr,
                                               sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_learn_key_escape(buf, 4, "abc", errstr,
                                               sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_learn_key_escape(buf, 3, "abc", errstr,
                                               sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
}

/* Ranker examples: one "r" record on the {ranker} slot with the
 * fixed-point deltas ltrr_ranker_online_delta() computes; a reward of
 * another action groups into the same call; bad examples are counted. */
static void test_ranker_part(void **state)
{
        ltrr_learn_conf_t c = conf();
        ltrr_learn_plan_t *pl = ltrr_learn_plan_new(&c, NULL, 0);
        float x[2][LTRR_RANKER_NFEAT] = {{0}};
        ltrr_rank_example_t ex[3];
        ltrr_reward_t r = reward(7, 1030), r2;
        const ltrr_learn_call_t *k;
        ltrr_learn_plan_stats_t st;
        ltrr_ranker_delta_t d;
        ltrr_pbias_table_t pb;
        size_t i, a, pairs = 0;

        (void)state;
        assert_non_null(pl);
        x[0][0] = x[1][0] = 1.0f;
        x[0][18] = 0.5f;
        x[1][24] = 1.0f;
        ex[0] = (ltrr_rank_example_t){0, 0.0f, x[0], LTRR_RANKER_NFEAT, 0.3f};
        ex[1] = (ltrr_rank_example_t){1, 1.0f, x[1], LTRR_RANKER_NFEAT, -0.2f};
        ex[2] = (ltrr_rank_example_t){2, 1.0f, x[1], 5, 0.0f}; /* bad */
        r.ranker_examples = ex;
        r.ranker_example_cnt = 3;
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        seal(pl);
        assert_int_equal(ltrr_learn_plan_count(pl), 6);
        k = find(pl, LTRR_LEARN_KIND_RANKER);
        assert_non_null(k);
        assert_int_equal(k->key_cnt, 3);
        assert_string_equal(k->argv[0], "ltrr:dedup:{ranker}:a:1:1");
        assert_string_equal(k->argv[1], LTRR_RANKER_ONLINE_KEY);
        assert_string_equal(k->argv[2], LTRR_RANKER_ONLINE_COUNT_KEY);
        assert_string_equal(k->argv[3], "r");
        assert_string_equal(k->argv[6], "1"); /* the sum of the records */
        assert_string_equal(k->argv[9], "6"); /* bit: 1030 % 1024 */
        assert_int_equal(ltrr_ranker_online_pbias(&pb, 1.0, NULL, 0),
                         LTRR_OK);
        ltrr_ranker_online_delta(ex, 3, &pb, 10.0, &d);
        assert_int_equal(d.used, 2);
        assert_int_equal(d.skipped, 1);
        a = record_at(k, 0);
        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                pairs += (d.z[i] != 0) + (d.n[i] != 0);
        assert_int_equal(pairs, 6); /* bias, bm25, exact_name: z and n */
        /* One value: z then n, little-endian int64s. */
        assert_string_equal(k->argv[a + 2], "1");
        assert_int_equal(k->argvlen[a + 3], 2 * LTRR_RANKER_NFEAT * 8);
        for (i = 0; i < 2 * LTRR_RANKER_NFEAT; i++) {
                const unsigned char *p =
                    (const unsigned char *)k->argv[a + 3] + 8 * i;
                uint64_t u = 0;
                int b;

                for (b = 7; b >= 0; b--)
                        u = u << 8 | p[b];
                assert_true((int64_t)u == (i < LTRR_RANKER_NFEAT
                                               ? d.z[i]
                                               : d.n[i - LTRR_RANKER_NFEAT]));
        }
        ltrr_learn_plan_stats(pl, &st);
        assert_int_equal(st.ranker_examples, 2);
        assert_int_equal(st.ranker_skipped, 1);
        /* One record: the sum is its value. */
        assert_int_equal(k->argvlen[7], k->argvlen[a + 3]);
        assert_memory_equal(k->argv[7], k->argv[a + 3], k->argvlen[7]);
        /* Two rewards: one call, two records. */
        ltrr_learn_plan_clear(pl);
        r2 = reward(8, 1031);
        r2.ranker_examples = ex;
        r2.ranker_example_cnt = 1;
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_learn_plan_add(pl, &r2, NULL, 0), LTRR_OK);
        seal(pl);
        k = find(pl, LTRR_LEARN_KIND_RANKER);
        assert_int_equal(k->records, 2);
        /* The sum: z[0] of both rewards (bias 1 in every example). */
        {
                const unsigned char *p = (const unsigned char *)k->argv[7];
                const unsigned char *q1 =
                    (const unsigned char *)k->argv[record_at(k, 0) + 3];
                const unsigned char *q2 =
                    (const unsigned char *)k->argv[record_at(k, 1) + 3];
                int64_t sum = 0, r1 = 0, r2v = 0;
                int b;

                for (b = 7; b >= 0; b--) {
                        sum = (int64_t)((uint64_t)sum << 8 | p[b]);
                        r1 = (int64_t)((uint64_t)r1 << 8 | q1[b]);
                        r2v = (int64_t)((uint64_t)r2v << 8 | q2[b]);
                }
                assert_true(r1 != 0 && r2v != 0);
                assert_true(sum == r1 + r2v);
        }
        /* Only bad examples, or none: no ranker call. */
        ltrr_learn_plan_clear(pl);
        r.ranker_examples = &ex[2];
        r.ranker_example_cnt = 1;
        assert_int_equal(ltrr_learn_plan_add(pl, &r, NULL, 0), LTRR_OK);
        seal(pl);
        assert_null(find(pl, LTRR_LEARN_KIND_RANKER));
        assert_int_equal(ltrr_learn_plan_count(pl), 5);
        ltrr_learn_plan_destroy(pl);
        /* A bad clip is refused at creation. */
        c.ranker_ipw_clip = 0.5;
        assert_null(ltrr_learn_plan_new(&c, NULL, 0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_slot_vectors),
            cmocka_unit_test(test_full_reward),
            cmocka_unit_test(test_bandit_deltas),
        cmocka_unit_test(test_arm_reward_clipped),
            cmocka_unit_test(test_grouping),
            cmocka_unit_test(test_chunks),
            cmocka_unit_test(test_bucket),
            cmocka_unit_test(test_skips),
            cmocka_unit_test(test_offsets_and_group),
            cmocka_unit_test(test_new_errors),
            cmocka_unit_test(test_escape),
            cmocka_unit_test(test_ranker_part),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
