/*
 * Unit tests for the search pipeline (online/search.c) and the request
 * parser (online/search_request.c): validation refusals, a full run on
 * a small index (results, provenance, the Impression record), Q2E state
 * moving an entity to the top, degraded state, static and uniform arm
 * choice, Redis keys, and query-string / JSON parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arm.h"
#include "arm_state.h"
#include "catalog.h"
#include "feature.h"
#include "index.h"
#include "search.h"

static const char *const docs[][2] = {
    {"Red Apple", "Ann"},  {"Green Apple Pie", "Bob"}, {"Blue Sky", "Ann"},
    {"Apple", "Cat"},      {"Red Red Wine", "Ann"},    {"Apple Tree", "Dan"},
};
#define NDOCS (sizeof(docs) / sizeof(docs[0]))

typedef struct fx_s {
        ltrr_index_t *ix;          /* small index */
        ltrr_search_t *se;         /* pipeline */
        ltrr_search_query_t *sq;   /* one query */
        ltrr_search_state_t *st;   /* its state */
        ltrr_search_req_t req;     /* the request */
        char errstr[256];          /* last error */
} fx_t;

static ltrr_index_t *build(void)
{
        char errstr[256], id[16], path[256];
        const char *dir = getenv("LTRR_TEST_OUT");
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        ltrr_index_t *ix;
        size_t i;

        assert_non_null(cat);
        snprintf(path, sizeof(path), "%s/test_search.%d.idx",
                 dir && access(dir, W_OK) == 0 ? dir : "/tmp", (int)getpid());
        for (i = 0; i < NDOCS; i++) {
                ltrr_entity_in_t in;

                ltrr_entity_in_init(&in);
                snprintf(id, sizeof(id), "e%zu", i);
                in.id = id;
                in.name = docs[i][0];
                in.artists = &docs[i][1];
                in.artists_cnt = 1;
                assert_int_equal(
                    ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                    LTRR_OK);
        }
        assert_int_equal(ltrr_index_build(cat, NULL, path, errstr,
                                          sizeof(errstr)),
                         LTRR_OK);
        ltrr_catalog_destroy(cat);
        ix = ltrr_index_open(path, errstr, sizeof(errstr));
        assert_non_null(ix);
        unlink(path);
        return ix;
}

static void req_set(ltrr_search_req_t *r, const char *q, unsigned k)
{
        memset(r, 0, sizeof(*r));
        r->q = q;
        r->q_len = strlen(q);
        r->k = k;
        r->user_id = "u1";
        r->session_id = "s1";
        r->lang = "en";
        r->now_ms = 1700000000000LL;
        memset(r->impression_id.b, 0x5a, sizeof(r->impression_id.b));
}

static int setup(void **state)
{
        ltrr_search_conf_t conf;
        fx_t *fx = calloc(1, sizeof(*fx));

        assert_non_null(fx);
        ltrr_search_conf_init(&conf);
        conf.shadow_share = 0;
        conf.node_id = "node-t";
        fx->ix = build();
        fx->se = ltrr_search_new(&conf, fx->errstr, sizeof(fx->errstr));
        assert_non_null(fx->se);
        fx->sq = ltrr_search_query_new(fx->se, fx->errstr,
                                       sizeof(fx->errstr));
        assert_non_null(fx->sq);
        fx->st = ltrr_search_state_new(ltrr_search_space(fx->se), 1.0,
                                       fx->errstr, sizeof(fx->errstr));
        assert_non_null(fx->st);
        req_set(&fx->req, "apple", 5);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        fx_t *fx = *state;

        ltrr_search_state_destroy(fx->st);
        ltrr_search_query_destroy(fx->sq);
        ltrr_search_destroy(fx->se);
        ltrr_index_destroy(fx->ix);
        free(fx);
        return 0;
}

static ltrr_err_t prep(fx_t *fx)
{
        fx->errstr[0] = '\0';
        return ltrr_search_prepare(fx->se, fx->ix, NULL, &fx->req, fx->sq,
                                   fx->errstr, sizeof(fx->errstr));
}

/* Prepares and runs fx->req, both successfully; returns the output. */
static const ltrr_search_out_t *run_ok(fx_t *fx)
{
        assert_int_equal(prep(fx), LTRR_OK);
        assert_int_equal(ltrr_search_run(fx->se, fx->ix, fx->sq, fx->st,
                                         fx->errstr, sizeof(fx->errstr)),
                         LTRR_OK);
        return ltrr_search_out(fx->sq);
}

static void test_destroy_null(void **state)
{
        ltrr_search_conf_t conf;
        char errstr[128];

        (void)state;
        ltrr_search_destroy(NULL);
        ltrr_search_query_destroy(NULL);
        ltrr_search_state_destroy(NULL);
        ltrr_search_conf_init(&conf);
        conf.n_budgets = 0;
        assert_null(ltrr_search_new(&conf, errstr, sizeof(errstr)));
        ltrr_search_conf_init(&conf);
        conf.shadow_share = 2;
        assert_null(ltrr_search_new(&conf, errstr, sizeof(errstr)));
        ltrr_search_conf_init(&conf);
        conf.total_budget = 0;
        assert_null(ltrr_search_new(&conf, errstr, sizeof(errstr)));
        assert_null(ltrr_search_new(NULL, errstr, sizeof(errstr)));
}

static void test_prepare_refusals(void **state)
{
        fx_t *fx = *state;
        char longq[LTRR_SEARCH_Q_MAX + 2], longid[300];

        fx->req.q_len = 0;
        assert_int_equal(prep(fx), LTRR_ERR_INVALID_ARG);
        assert_string_equal(fx->errstr, "missing or empty q");
        fx->req.q = NULL;
        assert_int_equal(prep(fx), LTRR_ERR_INVALID_ARG);
        memset(longq, 'a', sizeof(longq));
        req_set(&fx->req, "x", 5);
        fx->req.q = longq;
        fx->req.q_len = sizeof(longq);
        assert_int_equal(prep(fx), LTRR_ERR_RANGE);
        fx->req.q_len = 20;
        fx->req.q_max = 10; /* a request may set less */
        assert_int_equal(prep(fx), LTRR_ERR_RANGE);
        req_set(&fx->req, "\xff\xfe", 5);
        assert_int_equal(prep(fx), LTRR_ERR_PARSE);
        req_set(&fx->req, "a\xc3", 5); /* truncated sequence */
        assert_int_equal(prep(fx), LTRR_ERR_PARSE);
        req_set(&fx->req, "\xed\xa0\x80", 5); /* surrogate */
        assert_int_equal(prep(fx), LTRR_ERR_PARSE);
        req_set(&fx->req, "apple", 0);
        assert_int_equal(prep(fx), LTRR_ERR_RANGE);
        req_set(&fx->req, "apple", LTRR_SEARCH_K_MAX + 1);
        assert_int_equal(prep(fx), LTRR_ERR_RANGE);
        req_set(&fx->req, "apple", 20);
        fx->req.k_max = 10;
        assert_int_equal(prep(fx), LTRR_ERR_RANGE);
        req_set(&fx->req, "apple", 5);
        memset(longid, 'u', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';
        fx->req.user_id = longid;
        assert_int_equal(prep(fx), LTRR_ERR_RANGE);
        req_set(&fx->req, "apple", 5);
        fx->req.user_id = "\xff";
        assert_int_equal(prep(fx), LTRR_ERR_PARSE);
        req_set(&fx->req, "apple", 5);
        fx->req.mode = LTRR_SEARCH_MODE_STATIC;
        fx->req.arms = 0;
        assert_int_equal(prep(fx), LTRR_ERR_INVALID_ARG);
        req_set(&fx->req, "!!! ???", 5);
        assert_int_equal(prep(fx), LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_search_prepare(NULL, NULL, NULL, &fx->req,
                                             fx->sq, fx->errstr,
                                             sizeof(fx->errstr)),
                         LTRR_ERR_INVALID_ARG);
}

static void test_run(void **state)
{
        fx_t *fx = *state;
        const ltrr_search_out_t *out;
        const ltrr_impression_t *imp;
        size_t i;

        assert_int_equal(prep(fx), LTRR_OK);
        assert_string_equal(ltrr_search_query_norm(fx->sq), "apple");
        assert_int_equal(ltrr_search_run(fx->se, fx->ix, fx->sq, fx->st,
                                         fx->errstr, sizeof(fx->errstr)),
                         LTRR_OK);
        out = ltrr_search_out(fx->sq);
        assert_true(out->hit_cnt >= 3 && out->hit_cnt <= 5);
        assert_int_equal(out->degraded, 0);
        assert_int_equal(out->shadow, 0);
        for (i = 0; i < out->hit_cnt; i++) {
                assert_true(out->hits[i].arms != 0);
                if (i)
                        assert_true(out->hits[i].score <=
                                    out->hits[i - 1].score);
        }
        /* The exact name wins under the built-in ranker. */
        {
                ltrr_index_entity_t e;

                assert_int_equal(ltrr_index_entity(fx->ix, out->hits[0].ent,
                                                   &e),
                                 0);
                assert_string_equal(e.id, "e3");
        }
        imp = out->imp;
        assert_string_equal(imp->node_id, "node-t");
        assert_string_equal(imp->user_id, "u1");
        assert_string_equal(imp->session_id, "s1");
        assert_string_equal(imp->query_raw, "apple");
        assert_string_equal(imp->query_norm, "apple");
        assert_int_equal(imp->k, 5);
        assert_int_equal(imp->event_time_ms, 1700000000000LL);
        assert_int_equal(imp->result_cnt, out->hit_cnt);
        assert_string_equal(imp->results[0].entity_id, "e3");
        assert_int_equal(imp->arm_cnt, ltrr_search_space(fx->se)->n_arms);
        assert_memory_equal(imp->impression_id.b, fx->req.impression_id.b,
                            16);
        assert_int_equal(imp->exploration_seed, (int64_t)out->dec->seed);
        assert_true(imp->arms[0].ran); /* the baseline always runs */
        assert_true(imp->arms[0].candidate_cnt > 0);
        assert_true(imp->total_budget > 0);
}

/* Same impression id, same decision: replayable. */
static void test_replay(void **state)
{
        fx_t *fx = *state;
        uint32_t first[LTRR_BANDIT_MAX_ARMS];
        size_t i, n;

        run_ok(fx);
        n = ltrr_search_out(fx->sq)->dec->n_arms;
        for (i = 0; i < n; i++)
                first[i] = ltrr_search_out(fx->sq)->dec->arms[i].budget;
        run_ok(fx);
        for (i = 0; i < n; i++)
                assert_int_equal(first[i],
                                 ltrr_search_out(fx->sq)->dec->arms[i].budget);
}

static void test_q2e_and_degraded(void **state)
{
        fx_t *fx = *state;
        const char *mv[] = {"e5", "5"};
        const ltrr_search_out_t *out;
        ltrr_index_entity_t e;

        assert_int_equal(ltrr_search_state_q2e(fx->st, mv, 2, NULL,
                                               fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_OK);
        ltrr_search_state_set_degraded(fx->st, 1);
        out = run_ok(fx);
        assert_int_equal(out->degraded, 1);
        assert_int_equal(ltrr_index_entity(fx->ix, out->hits[0].ent, &e), 0);
        assert_string_equal(e.id, "e5");
        assert_float_equal(out->hits[0].q2e, 1.0, 1e-6);
}

static void test_ids(void **state)
{
        fx_t *fx = *state;
        ltrr_search_ids_t *ids;
        char id[16];
        size_t i;

        ltrr_search_ids_destroy(NULL); /* no-op */
        assert_null(ltrr_search_ids_new(NULL, fx->errstr,
                                        sizeof(fx->errstr)));
        assert_true(fx->errstr[0] != '\0');
        ids = ltrr_search_ids_new(fx->ix, fx->errstr, sizeof(fx->errstr));
        assert_non_null(ids);
        for (i = 0; i < NDOCS; i++) {
                snprintf(id, sizeof(id), "e%zu", i);
                assert_int_equal(ltrr_search_ids_find(ids, id), (int64_t)i);
        }
        assert_int_equal(ltrr_search_ids_find(ids, "e6"), -1);
        assert_int_equal(ltrr_search_ids_find(ids, ""), -1);
        assert_int_equal(ltrr_search_ids_find(ids, NULL), -1);
        assert_int_equal(ltrr_search_ids_find(NULL, "e1"), -1);
        ltrr_search_ids_destroy(ids);
}

/* The arms see the parsed Q2E, affinities and recent entities only
 * through the id map: unknown ids are skipped, the impressions and prior
 * carry over, and the profile gets its entities' artists. */
static void test_arm_fill(void **state)
{
        fx_t *fx = *state;
        const char *q2e[] = {"e3", "4", "nope", "9", "e1", "2"};
        const char *recent[] = {"e0", "1700000000000", "zz", "1"};
        ltrr_search_ids_t *ids;
        ltrr_q2e_state_t *qs = ltrr_q2e_state_new();
        ltrr_user_profile_t *pr = ltrr_user_profile_new();

        assert_non_null(qs);
        assert_non_null(pr);
        ids = ltrr_search_ids_new(fx->ix, fx->errstr, sizeof(fx->errstr));
        assert_non_null(ids);
        assert_int_equal(ltrr_search_state_q2e(fx->st, q2e, 6, "10",
                                               fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_search_state_recent(fx->st, recent, 4,
                                                  fx->errstr,
                                                  sizeof(fx->errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_search_state_arm_fill(fx->st, fx->ix, ids, qs,
                                                    pr),
                         3);
        assert_int_equal(qs->cnt, 2);
        assert_float_equal(qs->impressions, 10.0, 0);
        assert_float_equal(qs->alpha, 1.0, 0);
        assert_float_equal(qs->obs[0].observed + qs->obs[1].observed, 6.0,
                           1e-6);
        assert_int_equal(pr->ents_cnt, 1);
        assert_int_equal(pr->ents[0].key, 0);
        assert_true(ltrr_user_profile_weight(
                        pr, 1, ltrr_arm_artist_hash("Ann", 3)) > 0);
        /* Without a map nothing resolves; the parts are still reset. */
        assert_int_equal(ltrr_search_state_arm_fill(fx->st, fx->ix, NULL, qs,
                                                    pr),
                         0);
        assert_int_equal(qs->cnt, 0);
        assert_int_equal(pr->ents_cnt, 0);
        /* With affinities read, they are the profile, weighted by their
         * sums (non-positive ones left out); recent only says "seen". */
        {
                const char *aff[] = {"e2", "3.5", "e4", "0", "e5", "1.25"};

                assert_int_equal(ltrr_search_state_affinity(
                                     fx->st, aff, 6, fx->errstr,
                                     sizeof(fx->errstr)),
                                 LTRR_OK);
                assert_int_equal(ltrr_search_state_arm_fill(fx->st, fx->ix,
                                                            ids, qs, pr),
                                 2 + 2);
                assert_int_equal(pr->ents_cnt, 2);
                assert_float_equal(ltrr_user_profile_weight(pr, 0, 2), 3.5,
                                   1e-6);
                assert_float_equal(ltrr_user_profile_weight(pr, 0, 5), 1.25,
                                   1e-6);
                assert_float_equal(ltrr_user_profile_weight(pr, 0, 0), 0, 0);
                assert_float_equal(ltrr_user_profile_weight(pr, 0, 4), 0, 0);
                /* Ann: e2; Dan: e5 */
                assert_float_equal(ltrr_user_profile_weight(
                                       pr, 1, ltrr_arm_artist_hash("Ann", 3)),
                                   3.5, 1e-6);
                assert_true(ltrr_search_state_seen(fx->st, "e0"));
                assert_false(ltrr_search_state_seen(fx->st, "e2"));
                assert_int_equal(ltrr_search_state_affinity(
                                     fx->st, aff, 5, fx->errstr,
                                     sizeof(fx->errstr)),
                                 LTRR_ERR_PARSE);
                /* a bad reply leaves it empty: recent again */
                assert_int_equal(ltrr_search_state_arm_fill(fx->st, fx->ix,
                                                            ids, qs, pr),
                                 2 + 1);
                assert_int_equal(pr->ents_cnt, 1);
                assert_int_equal(pr->ents[0].key, 0);
        }
        ltrr_search_ids_destroy(ids);
        ltrr_user_profile_destroy(pr);
        ltrr_q2e_state_destroy(qs);
}

/* The memory arm alone: with no predicted Q2E in the index it finds
 * nothing unless the observed state reaches it through the id map. */
static void test_memory_arm_state(void **state)
{
        fx_t *fx = *state;
        const char *mv[] = {"e2", "3"};
        const ltrr_search_out_t *out;
        ltrr_index_entity_t e;
        ltrr_search_ids_t *ids;
        int mem = ltrr_arm_find("memory");

        assert_true(mem >= 0);
        ids = ltrr_search_ids_new(fx->ix, fx->errstr, sizeof(fx->errstr));
        assert_non_null(ids);
        assert_int_equal(ltrr_search_state_q2e(fx->st, mv, 2, "1",
                                               fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_OK);
        fx->req.mode = LTRR_SEARCH_MODE_STATIC;
        fx->req.arms = 1u << mem;
        run_ok(fx);
        assert_int_equal(ltrr_search_out(fx->sq)->hit_cnt, 0);
        ltrr_search_set_ids(fx->se, ids);
        out = run_ok(fx);
        assert_int_equal(out->hit_cnt, 1);
        assert_int_equal(ltrr_index_entity(fx->ix, out->hits[0].ent, &e), 0);
        assert_string_equal(e.id, "e2"); /* "Blue Sky": no "apple" in it */
        assert_int_equal(out->hits[0].arms, 1u << mem);
        assert_true(out->hits[0].q2e > 0);
        ltrr_search_set_ids(fx->se, NULL);
        ltrr_search_ids_destroy(ids);
}

/* The ranker sees the user's affinities: each result's logged vector
 * carries its artist's affinity scaled by the largest (Ann 2, Cat 1),
 * 0 for the others, and none without a user. */
static void test_ranker_affinity(void **state)
{
        fx_t *fx = *state;
        const char *aff[] = {"e0", "2", "e3", "1"};
        const ltrr_search_out_t *out;
        ltrr_search_ids_t *ids;
        int lex = ltrr_arm_find("lexical"), seen = 0;

        assert_true(lex >= 0);
        ids = ltrr_search_ids_new(fx->ix, fx->errstr, sizeof(fx->errstr));
        assert_non_null(ids);
        assert_int_equal(ltrr_search_state_affinity(fx->st, aff, 4,
                                                    fx->errstr,
                                                    sizeof(fx->errstr)),
                         LTRR_OK);
        ltrr_search_set_ids(fx->se, ids);
        fx->req.mode = LTRR_SEARCH_MODE_STATIC;
        fx->req.arms = 1u << lex;
        for (int anon = 0; anon < 2; anon++) {
                fx->req.user_id = anon ? "" : "u1";
                out = run_ok(fx);
                assert_int_equal(out->hit_cnt, 4); /* the four apples */
                assert_non_null(out->rankers);
                for (size_t i = 0; i < out->hit_cnt; i++) {
                        const ltrr_ranker_input_t *r = &out->rankers[i];
                        const char *id = out->imp->results[i].entity_id;
                        float want = anon                   ? 0.0f
                                     : !strcmp(id, "e0")    ? 1.0f
                                     : !strcmp(id, "e3")    ? 0.5f
                                                            : 0.0f;
                        assert_true(r->present);
                        assert_float_equal(
                            r->features[LTRR_RANKER_F_USER_ARTIST], want,
                            1e-6);
                        seen += want > 0;
                }
        }
        assert_int_equal(seen, 2);
        fx->req.user_id = "u1";
        ltrr_search_set_ids(fx->se, NULL);
        ltrr_search_ids_destroy(ids);
}

static void test_static_uniform(void **state)
{
        fx_t *fx = *state;
        const ltrr_search_out_t *out;
        size_t i;

        fx->req.mode = LTRR_SEARCH_MODE_STATIC;
        fx->req.arms = 1u; /* the first registered arm only */
        out = run_ok(fx);
        assert_string_equal(out->imp->policy, "static");
        assert_true(out->dec->arms[0].ran);
        assert_float_equal(out->dec->arms[0].prob, 1.0, 0);
        for (i = 1; i < out->dec->n_arms; i++)
                assert_false(out->dec->arms[i].ran);
        for (i = 0; i < out->hit_cnt; i++)
                assert_int_equal(out->hits[i].arms, 1u);
        fx->req.mode = LTRR_SEARCH_MODE_UNIFORM;
        out = run_ok(fx);
        assert_string_equal(out->imp->policy, "uniform");
        assert_true(out->dec->arms[0].prob > 0 && out->dec->arms[0].prob < 1);
        assert_int_equal(ltrr_search_run(NULL, fx->ix, fx->sq, fx->st,
                                         fx->errstr, sizeof(fx->errstr)),
                         LTRR_ERR_INVALID_ARG);
}

/* Runs the static arm set @p arms; returns the output. */
static const ltrr_search_out_t *run_static(fx_t *fx, uint32_t arms)
{
        fx->req.mode = LTRR_SEARCH_MODE_STATIC;
        fx->req.arms = arms;
        return run_ok(fx);
}

/* The merge keeps each member's first result near the top of a union
 * (reciprocal-rank fusion), and results come in decreasing fused score.
 * Counts the pairs of arms checked over query @p q. */
static size_t merge_check(fx_t *fx, const char *q)
{
        const ltrr_search_out_t *out;
        uint32_t first[LTRR_BANDIT_MAX_ARMS], both;
        size_t a, b, i, n = ltrr_search_space(fx->se)->n_arms, pairs = 0;
        int got[LTRR_BANDIT_MAX_ARMS] = {0};

        req_set(&fx->req, q, 5);
        for (a = 0; a < n; a++) {
                out = run_static(fx, 1u << a);
                if (out->dec->arms[a].ran && out->hit_cnt) {
                        got[a] = 1;
                        first[a] = out->hits[0].ent;
                }
        }
        for (a = 0; a < n; a++)
                for (b = a + 1; b < n; b++) {
                        if (!got[a] || !got[b] || first[a] == first[b])
                                continue;
                        out = run_static(fx, (1u << a) | (1u << b));
                        assert_true(out->hit_cnt >= 2);
                        for (i = 1; i < out->hit_cnt; i++)
                                assert_true(out->hits[i - 1].score >=
                                            out->hits[i].score);
                        for (both = 0, i = 0; i < 3 && i < out->hit_cnt; i++)
                                both += out->hits[i].ent == first[a] ||
                                        out->hits[i].ent == first[b];
                        assert_int_equal(both, 2);
                        pairs++;
                }
        return pairs;
}

static void test_merge_keeps_members_first(void **state)
{
        static const char *const qs[] = {"apple", "red", "apple pie"};
        const char *mv[] = {"e2", "3"}; /* memory: "Blue Sky" */
        fx_t *fx = *state;
        ltrr_search_ids_t *ids;
        size_t i, pairs = 0;

        /* One arm, no Q2E: "Apple" is first for the arm and the ranker;
         * its fused score is 1 / (10 + 1) + 0.5 / (10 + 1). */
        req_set(&fx->req, "apple", 5);
        assert_float_equal(run_static(fx, 1u)->hits[0].score, 1.5 / 11,
                           1e-6);
        ids = ltrr_search_ids_new(fx->ix, fx->errstr, sizeof(fx->errstr));
        assert_non_null(ids);
        assert_int_equal(ltrr_search_state_q2e(fx->st, mv, 2, "1",
                                               fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_OK);
        ltrr_search_set_ids(fx->se, ids);
        for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
                pairs += merge_check(fx, qs[i]);
        assert_true(pairs >= 3); /* the check ran */
        ltrr_search_set_ids(fx->se, NULL);
        ltrr_search_ids_destroy(ids);
}

/* policy.budget_cost and policy.baseline reach the bandit space. */
static void test_policy_settings(void **state)
{
        ltrr_search_conf_t conf;
        const ltrr_bandit_space_t *sp;
        ltrr_search_t *se;
        char errstr[128];
        size_t a;

        (void)state;
        ltrr_search_conf_init(&conf);
        assert_true(conf.budget_cost > 0); /* a price by default */
        assert_null(conf.baseline);        /* no always-on arm */
        se = ltrr_search_new(&conf, errstr, sizeof(errstr));
        assert_non_null(se);
        sp = ltrr_search_space(se);
        for (a = 0; a < sp->n_arms; a++)
                assert_int_equal(sp->min_budget[a], 0);
        ltrr_search_destroy(se);
        conf.baseline = "none";
        se = ltrr_search_new(&conf, errstr, sizeof(errstr));
        assert_non_null(se);
        assert_int_equal(ltrr_search_space(se)->min_budget[0], 0);
        ltrr_search_destroy(se);
        conf.baseline = "fuzzy";
        se = ltrr_search_new(&conf, errstr, sizeof(errstr));
        assert_non_null(se);
        sp = ltrr_search_space(se);
        for (a = 0; a < sp->n_arms; a++)
                assert_int_equal(sp->min_budget[a],
                                 strcmp(sp->arm_names[a], "fuzzy")
                                     ? 0
                                     : conf.budgets[0]);
        ltrr_search_destroy(se);
        conf.baseline = "nope";
        errstr[0] = '\0';
        assert_null(ltrr_search_new(&conf, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "nope"));
        conf.baseline = NULL;
        conf.budget_cost = -0.1;
        assert_null(ltrr_search_new(&conf, errstr, sizeof(errstr)));
        conf.budget_cost = 1.5;
        assert_null(ltrr_search_new(&conf, errstr, sizeof(errstr)));
}

/* With no statistics and the default price the learned policy may run
 * few arms, but never none. */
static void test_learned_never_empty(void **state)
{
        fx_t *fx = *state;
        const ltrr_search_out_t *out;
        size_t a, ran;
        int i;

        for (i = 0; i < 20; i++) {
                memset(fx->req.impression_id.b, i + 1,
                       sizeof(fx->req.impression_id.b));
                out = run_ok(fx);
                for (a = ran = 0; a < out->dec->n_arms; a++)
                        ran += out->dec->arms[a].ran;
                assert_true(ran >= 1);
        }
}

static void test_keys(void **state)
{
        fx_t *fx = *state;
        ltrr_search_keys_t k;

        assert_int_equal(prep(fx), LTRR_OK);
        assert_int_equal(ltrr_search_keys(fx->se, fx->sq, &k, fx->errstr,
                                          sizeof(fx->errstr)),
                         LTRR_OK);
        assert_string_equal(k.q2e, "ltrr:q2e:{q:apple}");
        assert_non_null(strstr(k.q2e_meta, "{q:apple}"));
        assert_true(strcmp(k.q2e_meta, k.q2e) != 0);
        assert_non_null(strstr(k.recent, "u1"));
        assert_non_null(strstr(k.affinity, "{u:u1}:aff"));
        assert_true(k.bandit[0] != '\0');
        fx->req.user_id = NULL; /* anonymous: no profile key */
        assert_int_equal(prep(fx), LTRR_OK);
        assert_int_equal(ltrr_search_keys(fx->se, fx->sq, &k, fx->errstr,
                                          sizeof(fx->errstr)),
                         LTRR_OK);
        assert_string_equal(k.recent, "");
        assert_string_equal(k.affinity, "");
}

/* q_unknown_word: the last context position is 1 when a query word is
 * not in the index's dictionary; the last word may be the start of one. */
static float unknown_flag(fx_t *fx, const char *q)
{
        const ltrr_impression_t *imp;

        req_set(&fx->req, q, 5);
        run_ok(fx);
        imp = ltrr_search_out(fx->sq)->imp;
        assert_int_equal(imp->context.feature_cnt, LTRR_FEATURE_CTX_DIM);
        return imp->context.features[LTRR_FEATURE_CTX_DIM - 1];
}

/* The subsets bucket of @p q on a subsets handle. */
static uint32_t subsets_bucket(fx_t *fx, ltrr_search_t *se, const char *q)
{
        req_set(&fx->req, q, 5);
        assert_int_equal(ltrr_search_prepare(se, fx->ix, NULL, &fx->req,
                                             fx->sq, fx->errstr,
                                             sizeof(fx->errstr)),
                         LTRR_OK);
        return ltrr_search_query_bucket(fx->sq);
}

static void test_unknown_word(void **state)
{
        fx_t *fx = *state;
        ltrr_search_conf_t conf;
        ltrr_search_t *se;

        assert_true(unknown_flag(fx, "apple") == 0.0f);
        assert_true(unknown_flag(fx, "red apple") == 0.0f);
        assert_true(unknown_flag(fx, "apples") == 0.0f); /* stemmed */
        assert_true(unknown_flag(fx, "red app") == 0.0f); /* a prefix */
        assert_true(unknown_flag(fx, "appel") == 1.0f);
        assert_true(unknown_flag(fx, "red appel") == 1.0f);
        assert_true(unknown_flag(fx, "app red") == 1.0f); /* not last */
        assert_true(unknown_flag(fx, "red a") == 1.0f); /* one byte */
        /* recency words are read by the shape, not looked up */
        assert_true(unknown_flag(fx, "new red apple") == 0.0f);
        assert_true(unknown_flag(fx, "latest appel") == 1.0f);
        /* no index: every word counts as known */
        req_set(&fx->req, "appel", 5);
        assert_int_equal(ltrr_search_prepare(fx->se, NULL, NULL, &fx->req,
                                             fx->sq, fx->errstr,
                                             sizeof(fx->errstr)),
                         LTRR_OK);
        assert_true(ltrr_index_knows(NULL, "apple", 5, 0) == 0);
        assert_true(ltrr_index_knows(fx->ix, "appl", 4, 0) == 1); /* stem */
        assert_true(ltrr_index_knows(fx->ix, "app", 3, 1) == 1);
        assert_true(ltrr_index_knows(fx->ix, "app", 3, 0) == 0);
        assert_true(ltrr_index_knows(fx->ix, "zzz", 3, 1) == 0);
        /* subsets splits its buckets on the flag (the day-off slot) */
        ltrr_search_conf_init(&conf);
        conf.policy = LTRR_POLICY_SUBSETS;
        se = ltrr_search_new(&conf, fx->errstr, sizeof(fx->errstr));
        assert_non_null(se);
        assert_int_equal(subsets_bucket(fx, se, "red appel"),
                         subsets_bucket(fx, se, "red apple") + 1);
        assert_int_equal(subsets_bucket(fx, se, "red app") % 2, 0);
        ltrr_search_destroy(se);
}

static void test_params_query(void **state)
{
        ltrr_search_params_t p;
        char err[128];

        (void)state;
        assert_int_equal(ltrr_search_params_query(
                             "q=red+apple%21&user=u%201&session=&k=7&lang=en"
                             "&debug=1&q=ignored",
                             &p, 10, err, sizeof(err)),
                         LTRR_OK);
        assert_true(p.has_q);
        assert_string_equal(p.q, "red apple!");
        assert_int_equal(p.q_len, 10);
        assert_string_equal(p.user, "u 1");
        assert_true(p.has_session);
        assert_string_equal(p.session, "");
        assert_int_equal(p.k, 7);
        assert_string_equal(p.lang, "en");
        assert_int_equal(p.debug, 1);
        assert_int_equal(p.mode, LTRR_SEARCH_MODE_LEARNED);
        assert_int_equal(ltrr_search_params_query(NULL, &p, 10, err,
                                                  sizeof(err)),
                         LTRR_OK);
        assert_false(p.has_q);
        assert_int_equal(p.k, 10);
        assert_int_equal(ltrr_search_params_query("q=%zz", &p, 10, err,
                                                  sizeof(err)),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_search_params_query("q=a%4", &p, 10, err,
                                                  sizeof(err)),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_search_params_query("q=a&k=1x", &p, 10, err,
                                                  sizeof(err)),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_search_params_query("q=a&policy=nope", &p, 10,
                                                  err, sizeof(err)),
                         LTRR_ERR_UNKNOWN_KEY);
        assert_int_equal(ltrr_search_params_query("q=a&arms=nope", &p, 10,
                                                  err, sizeof(err)),
                         LTRR_ERR_UNKNOWN_KEY);
        assert_int_equal(ltrr_search_params_query("q=a&policy=static", &p,
                                                  10, err, sizeof(err)),
                         LTRR_ERR_INVALID_ARG);
}

static void test_params_bounds(void **state)
{
        ltrr_search_params_t p;
        char err[128], buf[2200];
        char name[64];

        (void)state;
        snprintf(name, sizeof(name), "%s", ltrr_arm_get(0)->name);
        snprintf(buf, sizeof(buf), "q=a&arms=%s", name);
        assert_int_equal(ltrr_search_params_query(buf, &p, 10, err,
                                                  sizeof(err)),
                         LTRR_OK);
        assert_int_equal(p.mode, LTRR_SEARCH_MODE_STATIC);
        assert_int_equal(p.arms, 1u);
        memcpy(buf, "q=", 2);
        memset(buf + 2, 'a', 2000);
        buf[2002] = '\0';
        assert_int_equal(ltrr_search_params_query(buf, &p, 10, err,
                                                  sizeof(err)),
                         LTRR_OK);
        assert_int_equal(p.q_len, 2000); /* kept long: the pipeline says */
        assert_int_equal(strlen(p.q), LTRR_SEARCH_Q_MAX + 1);
        memcpy(buf, "user=", 5);
        memset(buf + 5, 'u', 300);
        buf[305] = '\0';
        assert_int_equal(ltrr_search_params_query(buf, &p, 10, err,
                                                  sizeof(err)),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_search_params_query("k=99999999999999999999",
                                                  &p, 10, err, sizeof(err)),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_search_params_query("k=5000000", &p, 10, err,
                                                  sizeof(err)),
                         LTRR_OK);
        assert_int_equal(p.k, LTRR_SEARCH_K_PARSE_MAX);
}

static void test_params_json(void **state)
{
        static const char *const bad[] = {
            "{\"q\":",          "[1]",
            "{\"q\":5}",        "{\"q\":\"a\\u0000b\"}",
            "{\"q\":\"a\",\"q\":\"b\"}", "{\"q\":\"a\",\"k\":\"5\"}",
            "{\"q\":\"a\",\"policy\":3}", "{\"q\":\"a\",\"arms\":\"nope\"}",
            "{\"q\":\"a\",\"user\":7}",   ""};
        const char *ok = "{\"q\":\"love\",\"user\":\"u1\",\"session\":\"s\","
                         "\"k\":3,\"lang\":\"en\",\"debug\":true,"
                         "\"policy\":\"uniform\"}";
        ltrr_search_params_t p;
        char err[128];
        size_t i;

        (void)state;
        assert_int_equal(ltrr_search_params_json(ok, strlen(ok), &p, 10, err,
                                                 sizeof(err)),
                         LTRR_OK);
        assert_string_equal(p.q, "love");
        assert_string_equal(p.user, "u1");
        assert_true(p.has_session);
        assert_int_equal(p.k, 3);
        assert_int_equal(p.debug, 1);
        assert_int_equal(p.mode, LTRR_SEARCH_MODE_UNIFORM);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                err[0] = '\0';
                assert_int_not_equal(ltrr_search_params_json(
                                         bad[i], strlen(bad[i]), &p, 10, err,
                                         sizeof(err)),
                                     LTRR_OK);
                assert_true(err[0] != '\0');
        }
        assert_int_not_equal(ltrr_search_params_json(NULL, 0, &p, 10, err,
                                                     sizeof(err)),
                             LTRR_OK);
        assert_int_equal(ltrr_search_params_json("{\"k\":-5}", 8, &p, 10,
                                                 err, sizeof(err)),
                         LTRR_OK);
        assert_int_equal(p.k, 0);
        assert_false(p.has_q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_destroy_null),
            cmocka_unit_test_setup_teardown(test_prepare_refusals, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_run, setup, teardown),
            cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
            cmocka_unit_test_setup_teardown(test_q2e_and_degraded, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_ids, setup, teardown),
            cmocka_unit_test_setup_teardown(test_arm_fill, setup, teardown),
            cmocka_unit_test_setup_teardown(test_memory_arm_state, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_ranker_affinity, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_static_uniform, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
            cmocka_unit_test_setup_teardown(test_merge_keeps_members_first,
                                            setup, teardown),
            cmocka_unit_test(test_policy_settings),
            cmocka_unit_test_setup_teardown(test_learned_never_empty, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_unknown_word, setup,
                                            teardown),
            cmocka_unit_test(test_params_query),
            cmocka_unit_test(test_params_bounds),
            cmocka_unit_test(test_params_json),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
