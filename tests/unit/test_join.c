/* Unit tests: the join state machine, with a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "join.h"

#define T0 1700000000000LL /* a plausible event time, ms */
#define W 5000             /* window of the tests */
#define TOL 2000           /* tolerance */
#define LATE 1000          /* lateness */
#define HOR 8000           /* late horizon */
#define IDLE 3000          /* idle */
#define REC_MAX 8192

/* One emitted reward, reduced to what identifies its effect. */
struct rec {
        int64_t imp_off;  /* impression_ref.offset */
        int64_t act_off;  /* action_ref.offset or -1 */
        int outcome;      /* ltrr_outcome_t */
        double value;     /* value */
        int bandit;       /* apply_bandit */
        int engagement;   /* apply_engagement */
        double arm0;      /* arm_rewards[0].reward (0 without arms) */
        int64_t ev_time;  /* event_time_ms */
        size_t rex;       /* ranker examples */
        float rex_last;   /* label of the last example */
};

struct sink {
        struct rec r[REC_MAX]; /* rewards in emission order */
        size_t n;              /* entries of r */
};

static void on_emit(void *opaque, int32_t p, const ltrr_reward_t *rew)
{
        struct sink *s = opaque;
        struct rec *r;

        assert_true(s->n < REC_MAX);
        r = &s->r[s->n++];
        r->imp_off = rew->impression_ref.offset;
        r->act_off = rew->has_action_ref ? rew->action_ref.offset : -1;
        r->outcome = rew->outcome;
        r->value = rew->value;
        r->bandit = rew->apply_bandit;
        r->engagement = rew->apply_engagement;
        r->arm0 = rew->arm_reward_cnt ? rew->arm_rewards[0].reward : 0.0;
        r->ev_time = rew->event_time_ms;
        r->rex = rew->ranker_example_cnt;
        r->rex_last = rew->ranker_example_cnt
                          ? rew->ranker_examples[rew->ranker_example_cnt - 1]
                                .label
                          : -1.0f;
        assert_int_equal(rew->impression_ref.partition, p);
        assert_non_null(rew->user_id);
        assert_non_null(rew->query_norm);
}

static void make_id(ltrr_id128_t *id, int tag, int64_t n)
{
        memset(id, 0, sizeof(*id));
        id->b[0] = (uint8_t)tag;
        memcpy(id->b + 8, &n, sizeof(n));
}

static const ltrr_candidate_t cands0[] = {{"e1", 1.0f}, {"e2", 0.5f}};
static const ltrr_candidate_t cands1[] = {{"e3", 0.9f}};
static const ltrr_arm_decision_t arms2[] = {
    {"bm25", true, 10, 0.7, cands0, 2},
    {"q2e", false, 5, 0.3, cands1, 1},
};
static const float feats[] = {0.25f, 0.5f};

static void make_imp(ltrr_impression_t *imp, int64_t id, int64_t t)
{
        memset(imp, 0, sizeof(*imp));
        imp->schema_version = 1;
        imp->event_time_ms = t;
        imp->node_id = "serve-1";
        make_id(&imp->impression_id, 1, id);
        imp->user_id = "user-1";
        imp->query_raw = "Some Query";
        imp->query_norm = "some query";
        imp->lang = "en";
        imp->k = 10;
        imp->context.features = feats;
        imp->context.feature_cnt = 2;
        imp->context.query_type = "entity";
        imp->context.user_segment = "casual";
        imp->policy = "linucb";
        imp->model_version = "v1";
        imp->arms = arms2;
        imp->arm_cnt = 2;
}

static void make_act(ltrr_action_t *act, int64_t id, int64_t imp_id,
                     int64_t t, ltrr_action_type_t type)
{
        memset(act, 0, sizeof(*act));
        act->schema_version = 1;
        act->event_time_ms = t;
        act->node_id = "collect-1";
        make_id(&act->action_id, 2, id);
        make_id(&act->impression_id, 1, imp_id);
        act->user_id = "user-1";
        act->entity_id = "e1";
        act->position = 0;
        act->type = type;
}

static ltrr_join_t *join_with(struct sink *s, size_t pending, size_t held)
{
        ltrr_join_conf_t jc;
        char err[256];
        ltrr_join_t *j;

        ltrr_join_conf_defaults(&jc);
        jc.window_ms = W;
        jc.tolerance_ms = TOL;
        jc.lateness_ms = LATE;
        jc.late_horizon_ms = HOR;
        jc.idle_ms = IDLE;
        jc.pending_max = pending;
        jc.held_max = held;
        jc.node_id = "join-test";
        j = ltrr_join_new(&jc, on_emit, s, err, sizeof(err));
        assert_non_null(j);
        return j;
}

static void feed_imp(ltrr_join_t *j, int64_t off, int64_t id, int64_t t)
{
        ltrr_impression_t imp;
        char err[256];

        make_imp(&imp, id, t);
        assert_int_equal(ltrr_join_impression(j, 0, off, &imp, 0, err,
                                              sizeof(err)),
                         LTRR_OK);
}

static void feed_act(ltrr_join_t *j, int64_t off, int64_t id, int64_t imp,
                     int64_t t, ltrr_action_type_t type)
{
        ltrr_action_t act;
        char err[256];

        make_act(&act, id, imp, t, type);
        assert_int_equal(ltrr_join_action(j, 0, off, &act, 0, err,
                                          sizeof(err)),
                         LTRR_OK);
}

static struct sink *sink_new(void)
{
        struct sink *s = calloc(1, sizeof(*s));

        assert_non_null(s);
        return s;
}

static void test_lifecycle_and_bad_conf(void **state)
{
        ltrr_join_conf_t jc;
        struct sink *s = sink_new();
        char err[256];

        ltrr_join_destroy(NULL);
        ltrr_join_snap_destroy(NULL);
        ltrr_join_conf_defaults(&jc);
        assert_null(ltrr_join_new(&jc, NULL, s, err, sizeof(err)));
        assert_null(ltrr_join_new(NULL, on_emit, s, err, sizeof(err)));
        jc.window_ms = 0;
        err[0] = 0;
        assert_null(ltrr_join_new(&jc, on_emit, s, err, sizeof(err)));
        assert_non_null(strstr(err, "window"));
        ltrr_join_conf_defaults(&jc);
        jc.pending_max = 0;
        assert_null(ltrr_join_new(&jc, on_emit, s, err, sizeof(err)));
        ltrr_join_conf_defaults(&jc);
        jc.values[LTRR_ACTION_PLAY] = NAN;
        assert_null(ltrr_join_new(&jc, on_emit, s, err, sizeof(err)));
        ltrr_join_conf_defaults(&jc);
        jc.lateness_ms = -1;
        assert_null(ltrr_join_new(&jc, on_emit, s, err, sizeof(err)));
        free(s);
}

static void test_values_and_names(void **state)
{
        ltrr_join_conf_t jc;

        ltrr_join_conf_defaults(&jc);
        assert_true(ltrr_join_value(&jc, LTRR_ACTION_PLAY) >
                    ltrr_join_value(&jc, LTRR_ACTION_LIKE));
        assert_true(ltrr_join_value(&jc, LTRR_ACTION_LIKE) >
                    ltrr_join_value(&jc, LTRR_ACTION_CLICK));
        assert_true(ltrr_join_value(&jc, LTRR_ACTION_SKIP) < 0);
        assert_true(ltrr_join_value(&jc, (ltrr_action_type_t)99) == 0.0);
        assert_string_equal(ltrr_join_outcome_name(LTRR_OUTCOME_LATE), "late");
        assert_null(ltrr_join_outcome_name((ltrr_outcome_t)7));
}

/* An action's value is split equally among the arms that returned the
 * engaged entity; an arm that alone found it earns the whole value. */
static void test_reward_split_among_finders(void **state)
{
        static const ltrr_candidate_t ca[] = {{"e1", 1.0f}, {"e2", 0.5f}};
        static const ltrr_candidate_t cb[] = {{"e1", 0.9f}};
        static const ltrr_candidate_t cc[] = {{"e1", 0.8f}, {"e4", 0.1f}};
        static const ltrr_arm_decision_t three[] = {
            {"lexical", true, 10, 0.5, ca, 2},
            {"fuzzy", true, 10, 0.5, cb, 1},
            {"fresh", true, 10, 0.5, cc, 2},
            {"popular", false, 0, 0.5, NULL, 0},
        };
        ltrr_kafka_ref_t ref = {0};
        ltrr_arm_reward_t arms[4];
        ltrr_join_conf_t jc;
        ltrr_impression_t imp;
        ltrr_action_t act;
        ltrr_reward_t rew;
        ltrr_join_snap_t *snap;
        char errstr[128];

        (void)state;
        ltrr_join_conf_defaults(&jc);
        make_imp(&imp, 1, 1000);
        imp.arms = three;
        imp.arm_cnt = 4;
        snap = ltrr_join_snap_new(&imp, NULL, errstr, sizeof(errstr));
        assert_non_null(snap);
        make_act(&act, 1, 1, 1100, LTRR_ACTION_PLAY); /* value 3, e1 */
        ltrr_join_snap_reward(snap, &jc, &ref, &act, &ref,
                              LTRR_OUTCOME_MATCHED, true, arms, &rew);
        assert_true(rew.value == 3.0);
        assert_int_equal(rew.arm_reward_cnt, 4);
        assert_true(fabs(arms[0].reward - 1.0) < 1e-12);
        assert_true(fabs(arms[1].reward - 1.0) < 1e-12);
        assert_true(fabs(arms[2].reward - 1.0) < 1e-12);
        assert_true(arms[3].reward == 0.0);
        act.entity_id = "e2"; /* found by lexical alone */
        ltrr_join_snap_reward(snap, &jc, &ref, &act, &ref,
                              LTRR_OUTCOME_MATCHED, true, arms, &rew);
        assert_true(arms[0].reward == 3.0);
        assert_true(arms[1].reward == 0.0 && arms[2].reward == 0.0);
        act.entity_id = "e4"; /* fresh alone; a skip is split the same way */
        act.type = LTRR_ACTION_SKIP;
        ltrr_join_snap_reward(snap, &jc, &ref, &act, &ref,
                              LTRR_OUTCOME_MATCHED, true, arms, &rew);
        assert_true(arms[2].reward == -1.0 && arms[0].reward == 0.0);
        act.entity_id = "e9"; /* no arm found it */
        ltrr_join_snap_reward(snap, &jc, &ref, &act, &ref,
                              LTRR_OUTCOME_MATCHED, true, arms, &rew);
        assert_true(arms[0].reward == 0.0 && arms[1].reward == 0.0 &&
                    arms[2].reward == 0.0 && arms[3].reward == 0.0);
        ltrr_join_snap_reward(snap, &jc, &ref, NULL, &ref,
                              LTRR_OUTCOME_NO_ACTION, true, arms, &rew);
        assert_true(arms[0].reward == 0.0 && rew.value == 0.0);
        ltrr_join_snap_destroy(snap);
        ltrr_join_snap_destroy(NULL);
}

static void test_snapshot_is_deep(void **state)
{
        ltrr_impression_t imp;
        char user[16] = "user-9";
        ltrr_join_snap_t *snap;
        const ltrr_impression_t *c;
        char err[128];

        make_imp(&imp, 1, T0);
        imp.user_id = user;
        snap = ltrr_join_snap_new(&imp, NULL, err, sizeof(err));
        assert_non_null(snap);
        strcpy(user, "changed");
        c = ltrr_join_snap_impression(snap);
        assert_string_equal(c->user_id, "user-9");
        assert_int_equal(c->arm_cnt, 2);
        assert_string_equal(c->arms[0].candidates[1].entity_id, "e2");
        assert_true(c->context.features[1] == 0.5f);
        assert_int_equal(c->result_cnt, 0);
        ltrr_join_snap_destroy(snap);
}

/* First action: matched with bandit; a second: engagement only. */
/* Results r0..r11 at positions 0..11, each with a ranker vector whose
 * first value is its position, except r2 (no ranker input). */
#define RK_RESULTS 12
static char rk_ids[RK_RESULTS][8];
static float rk_feats[RK_RESULTS][32];
static ltrr_result_t rk_results[RK_RESULTS];
static ltrr_ranker_input_t rk_in[RK_RESULTS];

static void make_ranked(ltrr_impression_t *imp, int64_t id, int64_t t)
{
        int i;

        make_imp(imp, id, t);
        for (i = 0; i < RK_RESULTS; i++) {
                snprintf(rk_ids[i], sizeof(rk_ids[i]), "r%d", i);
                memset(rk_feats[i], 0, sizeof(rk_feats[i]));
                rk_feats[i][0] = (float)i;
                memset(&rk_results[i], 0, sizeof(rk_results[i]));
                rk_results[i].entity_id = rk_ids[i];
                rk_results[i].position = i;
                memset(&rk_in[i], 0, sizeof(rk_in[i]));
                rk_in[i].present = i != 2;
                rk_in[i].features = rk_feats[i];
                rk_in[i].feature_cnt = 32;
                rk_in[i].margin = 0.5f * (float)i;
        }
        imp->results = rk_results;
        imp->result_cnt = RK_RESULTS;
}

/* The examples of an engagement: the results above a positive one
 * (label 0, by position, the one without a ranker input left out), then
 * the engaged one (label 1); a skip only itself (label 0); nothing for
 * value 0, a result past the first 10 positions or a mismatch. The
 * snapshot owns copies of the vectors. */
static void test_rank_examples(void **state)
{
        ltrr_rank_example_t ex[LTRR_JOIN_RANK_EXAMPLES_MAX];
        ltrr_impression_t imp;
        ltrr_join_snap_t *snap;
        ltrr_action_t act;
        char errstr[128];
        size_t n, i;

        (void)state;
        make_ranked(&imp, 1, T0);
        snap = ltrr_join_snap_new(&imp, rk_in, errstr, sizeof(errstr));
        assert_non_null(snap);
        memset(rk_feats, 0x7f, sizeof(rk_feats)); /* the source goes away */
        make_act(&act, 1, 1, T0 + 10, LTRR_ACTION_CLICK);
        act.entity_id = "r4";
        act.position = 4;
        n = ltrr_join_snap_rank_examples(snap, &act, 1.0, ex, 10);
        assert_int_equal(n, 4);
        assert_int_equal(ex[0].position, 0);
        assert_int_equal(ex[1].position, 1);
        assert_int_equal(ex[2].position, 3);
        assert_int_equal(ex[3].position, 4);
        for (i = 0; i < 3; i++)
                assert_true(ex[i].label == 0.0f);
        assert_true(ex[3].label == 1.0f);
        assert_true(ex[2].features[0] == 3.0f);
        assert_int_equal(ex[3].feature_cnt, 32);
        assert_true(ex[3].margin == 2.0f);
        /* The cap keeps the engaged result. */
        n = ltrr_join_snap_rank_examples(snap, &act, 1.0, ex, 2);
        assert_int_equal(n, 2);
        assert_int_equal(ex[0].position, 0);
        assert_int_equal(ex[1].position, 4);
        assert_true(ex[1].label == 1.0f);
        /* A skip: itself, label 0. */
        n = ltrr_join_snap_rank_examples(snap, &act, -1.0, ex, 10);
        assert_int_equal(n, 1);
        assert_int_equal(ex[0].position, 4);
        assert_true(ex[0].label == 0.0f);
        assert_int_equal(ltrr_join_snap_rank_examples(snap, &act, 0.0, ex,
                                                      10),
                         0);
        act.position = 5; /* position and entity disagree */
        assert_int_equal(ltrr_join_snap_rank_examples(snap, &act, 1.0, ex,
                                                      10),
                         0);
        act.entity_id = "r2"; /* no ranker input */
        act.position = 2;
        assert_int_equal(ltrr_join_snap_rank_examples(snap, &act, 1.0, ex,
                                                      10),
                         0);
        act.entity_id = "r10"; /* past the first 10 positions */
        act.position = 10;
        assert_int_equal(ltrr_join_snap_rank_examples(snap, &act, 1.0, ex,
                                                      10),
                         0);
        act.entity_id = "r9"; /* the deepest kept: 8 above it, then it */
        act.position = 9;
        n = ltrr_join_snap_rank_examples(snap, &act, 2.0, ex, 10);
        assert_int_equal(n, 9);
        assert_int_equal(ex[8].position, 9);
        assert_int_equal(ltrr_join_snap_rank_examples(snap, NULL, 1.0, ex,
                                                      10),
                         0);
        ltrr_join_snap_destroy(snap);
}

/* Through the join: a matched engagement carries examples; no_action
 * and late rewards carry none. */
static void test_rank_examples_emitted(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);
        ltrr_impression_t imp;
        ltrr_action_t act;
        char err[256];

        (void)state;
        make_ranked(&imp, 1, T0);
        assert_int_equal(ltrr_join_impression_ranked(j, 0, 0, &imp, rk_in, 0,
                                                     err, sizeof(err)),
                         LTRR_OK);
        make_act(&act, 10, 1, T0 + 100, LTRR_ACTION_PLAY);
        act.entity_id = "r3";
        act.position = 3;
        assert_int_equal(ltrr_join_action(j, 0, 0, &act, 0, err, sizeof(err)),
                         LTRR_OK);
        assert_int_equal(s->n, 1);
        assert_int_equal(s->r[0].rex, 3); /* r0, r1, then r3 */
        assert_true(s->r[0].rex_last == 1.0f);
        make_ranked(&imp, 2, T0 + 10);
        assert_int_equal(ltrr_join_impression_ranked(j, 0, 1, &imp, rk_in, 0,
                                                     err, sizeof(err)),
                         LTRR_OK);
        /* A late action on impression 1; then impression 2 closes. */
        make_act(&act, 11, 1, T0 + W + 500, LTRR_ACTION_CLICK);
        act.entity_id = "r1";
        act.position = 1;
        assert_int_equal(ltrr_join_action(j, 0, 1, &act, 0, err, sizeof(err)),
                         LTRR_OK);
        ltrr_join_tick(j, T0 + 10 * W);
        assert_true(s->n >= 3);
        assert_int_equal(s->r[1].outcome, LTRR_OUTCOME_LATE);
        assert_int_equal(s->r[1].rex, 0);
        assert_int_equal(s->r[2].outcome, LTRR_OUTCOME_NO_ACTION);
        assert_int_equal(s->r[2].rex, 0);
        ltrr_join_destroy(j);
        free(s);
}

static void test_matched_then_engagement(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);
        ltrr_join_stats_t st;

        feed_imp(j, 0, 1, T0);
        feed_act(j, 0, 10, 1, T0 + 100, LTRR_ACTION_CLICK);
        assert_int_equal(s->n, 1);
        assert_int_equal(s->r[0].outcome, LTRR_OUTCOME_MATCHED);
        assert_int_equal(s->r[0].bandit, 1);
        assert_int_equal(s->r[0].engagement, 1);
        assert_int_equal(s->r[0].act_off, 0);
        assert_true(s->r[0].value == 1.0);
        assert_true(s->r[0].arm0 == 1.0); /* e1 is a candidate of arm 0 */
        assert_int_equal(s->r[0].ev_time, T0 + 100);
        feed_act(j, 1, 11, 1, T0 + 200, LTRR_ACTION_PLAY);
        assert_int_equal(s->n, 2);
        assert_int_equal(s->r[1].outcome, LTRR_OUTCOME_MATCHED);
        assert_int_equal(s->r[1].bandit, 0);
        assert_int_equal(s->r[1].engagement, 1);
        assert_true(s->r[1].value == 3.0);
        /* Window close after a match emits nothing more. */
        ltrr_join_tick(j, T0 + 60000);
        assert_int_equal(s->n, 2);
        ltrr_join_stats(j, &st);
        assert_int_equal(st.rewards[LTRR_OUTCOME_MATCHED], 2);
        assert_int_equal(st.pending, 0);
        ltrr_join_destroy(j);
        free(s);
}

/* No action: the actions watermark closes the window, value 0. */
static void test_no_action_on_watermark(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);

        feed_imp(j, 0, 1, T0);
        feed_imp(j, 1, 2, T0 + W + LATE + 1);
        /* The impressions watermark does not close windows. */
        assert_int_equal(s->n, 0);
        feed_act(j, 0, 10, 2, T0 + W + LATE, LTRR_ACTION_CLICK);
        assert_int_equal(s->n, 1); /* wm_act = T0 + W: not yet past */
        feed_act(j, 1, 11, 2, T0 + W + LATE + 1, LTRR_ACTION_CLICK);
        assert_int_equal(s->n, 3);
        assert_int_equal(s->r[2].imp_off, 0);
        assert_int_equal(s->r[2].outcome, LTRR_OUTCOME_NO_ACTION);
        assert_int_equal(s->r[2].bandit, 1);
        assert_int_equal(s->r[2].engagement, 0);
        assert_int_equal(s->r[2].act_off, -1);
        assert_true(s->r[2].value == 0.0);
        assert_true(s->r[2].arm0 == 0.0);
        assert_int_equal(s->r[2].ev_time, T0 + W);
        ltrr_join_destroy(j);
        free(s);
}

/* After the window: late (no second bandit reward). */
static void test_late_actions(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);
        ltrr_join_stats_t st;

        feed_imp(j, 0, 1, T0);
        feed_act(j, 0, 10, 1, T0 + W + 500, LTRR_ACTION_LIKE);
        assert_int_equal(s->n, 1); /* late by event time, window open */
        assert_int_equal(s->r[0].outcome, LTRR_OUTCOME_LATE);
        assert_int_equal(s->r[0].bandit, 0);
        assert_int_equal(s->r[0].engagement, 1);
        feed_act(j, 1, 11, 1, T0 + W + LATE + 10, LTRR_ACTION_LIKE);
        /* wm_act passes T0 + W: no_action, then a late one */
        assert_int_equal(s->n, 3);
        assert_int_equal(s->r[1].outcome, LTRR_OUTCOME_LATE);
        assert_int_equal(s->r[2].outcome, LTRR_OUTCOME_NO_ACTION);
        assert_int_equal(s->r[2].bandit, 1);
        /* An in-window action arriving after the close is late too. */
        feed_act(j, 2, 12, 1, T0 + 10, LTRR_ACTION_CLICK);
        assert_int_equal(s->n, 4);
        assert_int_equal(s->r[3].outcome, LTRR_OUTCOME_LATE);
        assert_int_equal(s->r[3].bandit, 0);
        /* Beyond the late horizon: dangling, nothing emitted. */
        feed_act(j, 3, 13, 1, T0 + W + HOR + 1, LTRR_ACTION_CLICK);
        assert_int_equal(s->n, 4);
        ltrr_join_stats(j, &st);
        assert_int_equal(st.late, 3);
        assert_int_equal(st.dangling, 1);
        ltrr_join_destroy(j);
        free(s);
}

/* Actions read before their impression are held and met in offset order. */
static void test_early_actions_held(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);
        ltrr_join_stats_t st;
        int64_t ic, ac;

        feed_act(j, 0, 10, 1, T0 + 300, LTRR_ACTION_SKIP);
        feed_act(j, 1, 11, 1, T0 - TOL + 1, LTRR_ACTION_PLAY);
        feed_act(j, 2, 12, 1, T0 - TOL - 1, LTRR_ACTION_PLAY);
        assert_int_equal(s->n, 0);
        ltrr_join_stats(j, &st);
        assert_int_equal(st.held, 3);
        assert_int_equal(ltrr_join_commit_point(j, 0, &ic, &ac), LTRR_OK);
        assert_int_equal(ic, -1);
        assert_int_equal(ac, 0);
        feed_imp(j, 0, 1, T0);
        assert_int_equal(s->n, 2);
        /* offset 0 first although its event time is later */
        assert_int_equal(s->r[0].act_off, 0);
        assert_int_equal(s->r[0].bandit, 1);
        assert_true(s->r[0].value < 0); /* skip is negative */
        assert_int_equal(s->r[1].act_off, 1);
        assert_int_equal(s->r[1].bandit, 0);
        ltrr_join_stats(j, &st);
        assert_int_equal(st.held, 0);
        assert_int_equal(st.dangling, 1); /* before the tolerance */
        ltrr_join_destroy(j);
        free(s);
}

/* Actions that never meet an impression are dangling and sent nowhere. */
static void test_dangling(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);
        ltrr_join_stats_t st;
        int64_t ic, ac;

        feed_act(j, 0, 10, 99, T0, LTRR_ACTION_CLICK);
        feed_imp(j, 0, 1, T0 + TOL + LATE); /* wm_imp = T0 + TOL: held */
        ltrr_join_stats(j, &st);
        assert_int_equal(st.held, 1);
        assert_int_equal(ltrr_join_commit_point(j, 0, &ic, &ac), LTRR_OK);
        assert_int_equal(ac, 0);
        feed_imp(j, 1, 2, T0 + TOL + LATE + 1); /* passes T0 + TOL */
        ltrr_join_stats(j, &st);
        assert_int_equal(st.held, 0);
        assert_int_equal(st.dangling, 1);
        assert_int_equal(ltrr_join_commit_point(j, 0, &ic, &ac), LTRR_OK);
        assert_int_equal(ic, 0);
        assert_int_equal(ac, 1);
        /* With the watermark already past, no holding at all. */
        feed_act(j, 1, 11, 98, T0, LTRR_ACTION_CLICK);
        ltrr_join_stats(j, &st);
        assert_int_equal(st.held, 0);
        assert_int_equal(st.dangling, 2);
        assert_int_equal(s->n, 0);
        ltrr_join_destroy(j);
        free(s);
}

/* Repeated action_id (met or held) and repeated impressions are dropped. */
static void test_duplicates(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);
        ltrr_join_stats_t st;

        feed_act(j, 0, 10, 1, T0 + 5, LTRR_ACTION_CLICK);
        feed_act(j, 1, 10, 1, T0 + 5, LTRR_ACTION_CLICK); /* held dup */
        feed_imp(j, 0, 1, T0);
        feed_act(j, 2, 10, 1, T0 + 5, LTRR_ACTION_CLICK); /* met dup */
        feed_imp(j, 1, 1, T0);                            /* imp dup */
        assert_int_equal(s->n, 1);
        ltrr_join_stats(j, &st);
        assert_int_equal(st.duplicates, 3);
        assert_int_equal(st.impressions, 1);
        assert_int_equal(st.pending, 1);
        ltrr_join_destroy(j);
        free(s);
}

/* More than LTRR_JOIN_IMP_ACTIONS_MAX actions: the rest is dropped. */
static void test_actions_per_impression_cap(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);
        ltrr_join_stats_t st;
        int i;

        feed_imp(j, 0, 1, T0);
        for (i = 0; i < LTRR_JOIN_IMP_ACTIONS_MAX + 3; i++)
                feed_act(j, i, 100 + i, 1, T0 + 1, LTRR_ACTION_CLICK);
        assert_int_equal(s->n, LTRR_JOIN_IMP_ACTIONS_MAX);
        ltrr_join_stats(j, &st);
        assert_int_equal(st.overflow, 3);
        ltrr_join_destroy(j);
        free(s);
}

/* Pending cap: the oldest is evicted and decided as no_action at once. */
static void test_pending_eviction(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 2, 1);
        ltrr_join_stats_t st;

        feed_imp(j, 0, 1, T0);
        feed_imp(j, 1, 2, T0 + 1);
        feed_act(j, 0, 10, 2, T0 + 2, LTRR_ACTION_CLICK);
        feed_imp(j, 2, 3, T0 + 2);
        assert_int_equal(s->n, 2);
        assert_int_equal(s->r[1].imp_off, 0);
        assert_int_equal(s->r[1].outcome, LTRR_OUTCOME_NO_ACTION);
        feed_imp(j, 3, 4, T0 + 3); /* evicts offset 1, already decided */
        assert_int_equal(s->n, 2);
        ltrr_join_stats(j, &st);
        assert_int_equal(st.evicted, 2);
        assert_int_equal(st.pending, 2);
        /* Held cap 1: a second held action evicts the first (dangling). */
        feed_act(j, 1, 11, 50, T0 + 3, LTRR_ACTION_CLICK);
        feed_act(j, 2, 12, 51, T0 + 3, LTRR_ACTION_CLICK);
        ltrr_join_stats(j, &st);
        assert_int_equal(st.held, 1);
        assert_int_equal(st.held_evicted, 1);
        assert_int_equal(st.dangling, 1);
        ltrr_join_destroy(j);
        free(s);
}

/* A quiet partition advances by wall clock after idle_ms only. */
static void test_idle_advance(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);
        ltrr_impression_t imp;
        char err[64];

        make_imp(&imp, 1, T0);
        assert_int_equal(ltrr_join_impression(j, 0, 0, &imp, T0, err,
                                              sizeof(err)),
                         LTRR_OK);
        ltrr_join_tick(j, T0 + IDLE - 1);
        ltrr_join_tick(j, T0 + W + IDLE + LATE); /* wm = T0 + W: not past */
        assert_int_equal(s->n, 0);
        ltrr_join_tick(j, T0 + W + IDLE + LATE + 1);
        assert_int_equal(s->n, 1);
        assert_int_equal(s->r[0].outcome, LTRR_OUTCOME_NO_ACTION);
        ltrr_join_destroy(j);
        free(s);
}

/* Out-of-order impressions: windows close head of line, decisions hold. */
static void test_out_of_order_impressions(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);

        feed_imp(j, 0, 1, T0 + 500);
        feed_imp(j, 1, 2, T0); /* earlier, within lateness */
        feed_act(j, 0, 10, 2, T0 + W, LTRR_ACTION_CLICK);
        assert_int_equal(s->n, 1);
        assert_int_equal(s->r[0].outcome, LTRR_OUTCOME_MATCHED);
        feed_act(j, 1, 11, 1, T0 + W + 500, LTRR_ACTION_CLICK);
        assert_int_equal(s->n, 2);
        assert_int_equal(s->r[1].imp_off, 0);
        assert_int_equal(s->r[1].outcome, LTRR_OUTCOME_MATCHED);
        ltrr_join_tick(j, T0 + 100000);
        assert_int_equal(s->n, 2);
        ltrr_join_destroy(j);
        free(s);
}

/* Malformed input and bad positions. */
static void test_failure_paths(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);
        ltrr_arm_decision_t many[LTRR_JOIN_ARMS_MAX + 1];
        ltrr_impression_t imp;
        ltrr_action_t act;
        int64_t ic, ac;
        char err[256];

        make_imp(&imp, 1, T0);
        assert_int_equal(ltrr_join_impression(j, -1, 0, &imp, 0, err,
                                              sizeof(err)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_join_impression(j, 0, -5, &imp, 0, err,
                                              sizeof(err)),
                         LTRR_ERR_INVALID_ARG);
        memset(many, 0, sizeof(many));
        imp.arms = many;
        imp.arm_cnt = LTRR_JOIN_ARMS_MAX + 1;
        err[0] = 0;
        assert_int_equal(ltrr_join_impression(j, 0, 0, &imp, 0, err,
                                              sizeof(err)),
                         LTRR_ERR_RANGE);
        assert_non_null(strstr(err, "arms"));
        assert_null(ltrr_join_snap_new(&imp, NULL, err, sizeof(err)));
        make_imp(&imp, 1, 0);
        assert_int_equal(ltrr_join_impression(j, 0, 0, &imp, 0, err,
                                              sizeof(err)),
                         LTRR_ERR_RANGE);
        make_act(&act, 1, 1, T0, (ltrr_action_type_t)42);
        assert_int_equal(ltrr_join_action(j, 0, 0, &act, 0, err, sizeof(err)),
                         LTRR_ERR_RANGE);
        make_act(&act, 1, 1, LTRR_JOIN_TIME_MAX + 1, LTRR_ACTION_CLICK);
        assert_int_equal(ltrr_join_action(j, 0, 0, &act, 0, err, sizeof(err)),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_join_commit_point(j, LTRR_JOIN_PARTITIONS_MAX,
                                                &ic, &ac),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(s->n, 0);
        ltrr_join_destroy(j);
        free(s);
}

/* Skipped (DLQ) records, replays below the read position, dropping. */
static void test_positions(void **state)
{
        struct sink *s = sink_new();
        ltrr_join_t *j = join_with(s, 100, 100);
        ltrr_join_stats_t st;
        int64_t ic, ac;

        /* A record sent to the DLQ moves the read position past it. */
        assert_int_equal(ltrr_join_skip(j, 0, 4, 0), LTRR_OK);
        assert_int_equal(ltrr_join_skip(j, -2, 4, 1), LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_join_commit_point(j, 0, &ic, &ac), LTRR_OK);
        assert_int_equal(ic, 5);
        assert_int_equal(ac, -1);
        assert_int_equal(ltrr_join_skip(j, 0, 2, 1), LTRR_OK);
        assert_int_equal(ltrr_join_commit_point(j, 0, &ic, &ac), LTRR_OK);
        assert_int_equal(ac, 3);
        feed_imp(j, 5, 1, T0);
        feed_imp(j, 3, 2, T0); /* below the read position: a replay */
        ltrr_join_stats(j, &st);
        assert_int_equal(st.replayed, 1);
        assert_int_equal(st.pending, 1);
        ltrr_join_drop_partition(j, 0);
        ltrr_join_drop_partition(j, -1);
        assert_int_equal(ltrr_join_commit_point(j, 0, &ic, &ac), LTRR_OK);
        assert_int_equal(ic, -1);
        assert_int_equal(ac, -1);
        ltrr_join_stats(j, &st);
        assert_int_equal(st.pending, 0);
        assert_int_equal(s->n, 0);
        ltrr_join_destroy(j);
        free(s);
}

/* ---- replay determinism ---- */

#define NIMP 150
#define NACT_MAX (NIMP * 5)

struct ev {
        int64_t id, imp, t; /* action id (or impression id), imp, time */
        int type;           /* action type */
        int64_t key;        /* sort key of the actions stream */
};

struct stream {
        struct ev imps[NIMP];    /* impressions by offset */
        struct ev acts[NACT_MAX]; /* actions by offset */
        size_t nact;             /* entries of acts */
};

static int64_t rnd(uint64_t *x, int64_t n)
{
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        return (int64_t)(*x % (uint64_t)n);
}

static int ev_cmp(const void *a, const void *b)
{
        const struct ev *x = a, *y = b;

        return x->key < y->key ? -1 : x->key > y->key;
}

/* Adds one action of impression @i of kind @kind (0..5). */
static void gen_act(struct stream *st, uint64_t *x, int64_t i, int kind)
{
        struct ev *a = &st->acts[st->nact];
        int64_t t = st->imps[i].t;

        a->id = (int64_t)st->nact + 1;
        a->imp = i;
        a->type = 1 + (int)rnd(x, 6);
        if (kind == 0)
                a->t = t + rnd(x, W + 1); /* in the window */
        else if (kind == 1)
                a->t = t - rnd(x, TOL + 1); /* early, within tolerance */
        else if (kind == 2)
                a->t = t + W + 1 + rnd(x, HOR); /* late */
        else if (kind == 3)
                a->t = t - TOL - 1 - rnd(x, 1000); /* too early: dangling */
        else if (kind == 4)
                a->t = t + rnd(x, W), a->imp = 100000 + i; /* no impression */
        else
                a->t = t + W + HOR + 1 + rnd(x, 2000); /* expired */
        a->key = a->t + rnd(x, LATE / 2);
        st->nact++;
}

/* A stream whose records all keep within the allowed lateness. */
static void gen_stream(struct stream *st, uint64_t seed)
{
        uint64_t x = seed;
        size_t i, n0;
        int k, n;

        memset(st, 0, sizeof(*st));
        for (i = 0; i < NIMP; i++) {
                st->imps[i].id = (int64_t)i;
                st->imps[i].t = T0 + 1000 * (int64_t)i + rnd(&x, 400);
        }
        for (i = 0; i < NIMP; i++) {
                n = (int)rnd(&x, 4);
                for (k = 0; k < n; k++)
                        gen_act(st, &x, (int64_t)i,
                                rnd(&x, 10) < 6 ? (int)rnd(&x, 3)
                                                : 3 + (int)rnd(&x, 3));
        }
        n0 = st->nact;
        for (i = 0; i < n0 / 6; i++) { /* duplicates of random actions */
                st->acts[st->nact] = st->acts[rnd(&x, (int64_t)n0)];
                st->acts[st->nact].key += rnd(&x, LATE / 2);
                st->nact++;
        }
        qsort(st->acts, st->nact, sizeof(st->acts[0]), ev_cmp);
}

/* Feeds impressions from *@ii and actions from *@ai, interleaved by @x,
 * until @steps records were fed or both are exhausted. */
static void feed_mixed(ltrr_join_t *j, const struct stream *st, size_t *ii,
                       size_t *ai, uint64_t *x, int bias, size_t steps)
{
        for (; steps && (*ii < NIMP || *ai < st->nact); steps--) {
                int imp_turn = *ai >= st->nact ||
                               (*ii < NIMP && rnd(x, 100) < bias);

                if (imp_turn) {
                        feed_imp(j, (int64_t)*ii, st->imps[*ii].id,
                                 st->imps[*ii].t);
                        (*ii)++;
                } else {
                        const struct ev *a = &st->acts[*ai];

                        feed_act(j, (int64_t)*ai, a->id, a->imp, a->t,
                                 (ltrr_action_type_t)a->type);
                        (*ai)++;
                }
        }
}

static int rec_cmp(const void *a, const void *b)
{
        const struct rec *x = a, *y = b;

        if (x->imp_off != y->imp_off)
                return x->imp_off < y->imp_off ? -1 : 1;
        if (x->act_off != y->act_off)
                return x->act_off < y->act_off ? -1 : 1;
        if (x->outcome != y->outcome)
                return x->outcome - y->outcome;
        if (x->bandit != y->bandit)
                return x->bandit - y->bandit;
        if (x->value != y->value)
                return x->value < y->value ? -1 : 1;
        return x->engagement - y->engagement;
}

/* Sorts and removes identical records: the learner's view. */
static void sink_dedup(struct sink *s)
{
        size_t i, n = 0;

        for (i = 0; i < s->n; i++)
                s->r[i].ev_time = 0, s->r[i].arm0 = 0;
        qsort(s->r, s->n, sizeof(s->r[0]), rec_cmp);
        for (i = 0; i < s->n; i++)
                if (!n || rec_cmp(&s->r[n - 1], &s->r[i]))
                        s->r[n++] = s->r[i];
        s->n = n;
}

/* Exactly one bandit reward per impression offset in a deduped sink. */
static void assert_one_bandit_each(const struct sink *s)
{
        int cnt[NIMP] = {0};
        size_t i;

        for (i = 0; i < s->n; i++)
                if (s->r[i].bandit)
                        cnt[s->r[i].imp_off]++;
        for (i = 0; i < NIMP; i++)
                assert_int_equal(cnt[i], 1);
}

static void run_full(const struct stream *st, uint64_t seed, int bias,
                     struct sink *out)
{
        ltrr_join_t *j = join_with(out, 100000, 100000);
        size_t ii = 0, ai = 0;
        uint64_t x = seed;

        feed_mixed(j, st, &ii, &ai, &x, bias, SIZE_MAX);
        ltrr_join_tick(j, LTRR_JOIN_TIME_MAX);
        ltrr_join_destroy(j);
        sink_dedup(out);
}

/* Runs to @cut, restarts from the commit point taken at @commit, replays
 * with another interleaving; the union of rewards goes to @out. */
static void run_crash(const struct stream *st, size_t commit, size_t cut,
                      uint64_t seed, struct sink *out)
{
        ltrr_join_t *j = join_with(out, 100000, 100000);
        size_t ii = 0, ai = 0;
        int64_t ic, ac;
        uint64_t x = seed;

        feed_mixed(j, st, &ii, &ai, &x, 50, commit);
        assert_int_equal(ltrr_join_commit_point(j, 0, &ic, &ac), LTRR_OK);
        feed_mixed(j, st, &ii, &ai, &x, 50, cut - commit);
        ltrr_join_destroy(j); /* crash: state lost */
        j = join_with(out, 100000, 100000);
        ii = ic < 0 ? 0 : (size_t)ic;
        ai = ac < 0 ? 0 : (size_t)ac;
        x = seed * 7 + 3;
        feed_mixed(j, st, &ii, &ai, &x, (int)(seed % 90) + 5, SIZE_MAX);
        ltrr_join_tick(j, LTRR_JOIN_TIME_MAX);
        ltrr_join_destroy(j);
        sink_dedup(out);
}

static void assert_same(const struct sink *a, const struct sink *b)
{
        size_t i;

        assert_int_equal(a->n, b->n);
        for (i = 0; i < a->n; i++)
                assert_int_equal(rec_cmp(&a->r[i], &b->r[i]), 0);
}

static void test_replay_determinism(void **state)
{
        struct stream *st = calloc(1, sizeof(*st));
        struct sink *ref = sink_new(), *other = sink_new();
        uint64_t seed;
        size_t cut, total, cuts = 0;

        assert_non_null(st);
        for (seed = 1; seed <= 8; seed++) {
                gen_stream(st, seed * 0x9e3779b97f4a7c15ULL);
                total = NIMP + st->nact;
                ref->n = 0;
                run_full(st, seed, 50, ref);
                assert_one_bandit_each(ref);
                /* Another interleaving of the same streams agrees. */
                other->n = 0;
                run_full(st, seed + 100, 90, other);
                assert_same(ref, other);
                for (cut = 1; cut < total; cut += 7) {
                        other->n = 0;
                        run_crash(st, cut - cut / 3, cut, seed + cut, other);
                        assert_same(ref, other);
                        assert_one_bandit_each(other);
                        cuts++;
                }
        }
        assert_true(cuts > 400);
        free(st);
        free(ref);
        free(other);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_lifecycle_and_bad_conf),
            cmocka_unit_test(test_values_and_names),
            cmocka_unit_test(test_snapshot_is_deep),
            cmocka_unit_test(test_reward_split_among_finders),
            cmocka_unit_test(test_matched_then_engagement),
            cmocka_unit_test(test_no_action_on_watermark),
            cmocka_unit_test(test_late_actions),
            cmocka_unit_test(test_early_actions_held),
            cmocka_unit_test(test_dangling),
            cmocka_unit_test(test_duplicates),
            cmocka_unit_test(test_actions_per_impression_cap),
            cmocka_unit_test(test_pending_eviction),
            cmocka_unit_test(test_idle_advance),
            cmocka_unit_test(test_out_of_order_impressions),
            cmocka_unit_test(test_failure_paths),
            cmocka_unit_test(test_positions),
            cmocka_unit_test(test_replay_determinism),
            cmocka_unit_test(test_rank_examples),
            cmocka_unit_test(test_rank_examples_emitted),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
