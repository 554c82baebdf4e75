/*
 * ltrr - impression snapshots and reward construction for the join.
 *
 * A snapshot is one allocation holding the impression fields a reward
 * needs, laid out by a bump allocator in two passes: the first pass only
 * measures, the second copies. Rewards are built from a snapshot and an
 * action without allocating.
 */
#include "join.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A shown result that logged a ranker input, as an example template. */
struct snap_kept {
        const char *entity_id;  /* the result's entity */
        ltrr_rank_example_t ex; /* position, features, margin; label 0 */
};

struct ltrr_join_snap_s {
        ltrr_impression_t imp;   /* pointers into the bytes that follow */
        struct snap_kept *kept;  /* results with a ranker input, shown
                                    order; kept_cnt entries */
        size_t kept_cnt;         /* entries in kept */
};

/* Bump allocator over one block; with base NULL it only measures. */
struct bump {
        char *base; /* block or NULL when measuring */
        size_t used; /* bytes handed out so far */
};

/* Hands out @size bytes aligned for any field type. */
static void *bump_take(struct bump *b, size_t size)
{
        size_t at = (b->used + 7) & ~(size_t)7;

        b->used = at + size;
        return b->base ? b->base + at : NULL;
}

/* Copies string @s (NULL stays NULL). */
static const char *bump_str(struct bump *b, const char *s)
{
        size_t n;
        char *d;

        if (!s)
                return NULL;
        n = strlen(s) + 1;
        d = bump_take(b, n);
        if (d)
                memcpy(d, s, n);
        return d;
}

/* Copies one arm decision into @dst (when not measuring). */
static void bump_arm(struct bump *b, const ltrr_arm_decision_t *src,
                     ltrr_arm_decision_t *dst)
{
        ltrr_candidate_t *c;
        ltrr_arm_decision_t tmp = *src;
        size_t i;

        tmp.arm = bump_str(b, src->arm);
        c = bump_take(b, src->candidate_cnt * sizeof(*c));
        for (i = 0; i < src->candidate_cnt; i++) {
                const char *e = bump_str(b, src->candidates[i].entity_id);

                if (c) {
                        c[i].entity_id = e;
                        c[i].score = src->candidates[i].score;
                }
        }
        tmp.candidates = c;
        if (dst)
                *dst = tmp;
}

/* 1 when result @p r with ranker input @p rk is kept in a snapshot:
 * it logged one and was shown within the first
 * LTRR_JOIN_RANK_EXAMPLES_MAX positions. */
static bool snap_keeps(const ltrr_result_t *r, const ltrr_ranker_input_t *rk)
{
        return rk->present && r->entity_id && r->position >= 0 &&
               r->position < LTRR_JOIN_RANK_EXAMPLES_MAX &&
               rk->feature_cnt <= LTRR_JOIN_RANK_FEATURES_MAX &&
               (rk->features || !rk->feature_cnt);
}

/* Copies the results that carry a ranker input (see snap_keeps()), in
 * the impression's order, as example templates (label 0). */
static void bump_kept(struct bump *b, const ltrr_impression_t *src,
                      const ltrr_ranker_input_t *rankers,
                      ltrr_join_snap_t *snap)
{
        struct snap_kept *kept;
        size_t i, n = 0, k = 0;
        float *f;

        for (i = 0; rankers && i < src->result_cnt; i++)
                n += snap_keeps(&src->results[i], &rankers[i]);
        kept = bump_take(b, n * sizeof(*kept));
        for (i = 0; rankers && i < src->result_cnt && k < n; i++) {
                const ltrr_ranker_input_t *rk = &rankers[i];
                const char *e;

                if (!snap_keeps(&src->results[i], rk))
                        continue;
                e = bump_str(b, src->results[i].entity_id);
                f = bump_take(b, rk->feature_cnt * sizeof(*f));
                if (kept) {
                        kept[k].entity_id = e;
                        kept[k].ex.position = src->results[i].position;
                        kept[k].ex.label = 0.0f;
                        kept[k].ex.features = f;
                        kept[k].ex.feature_cnt = rk->feature_cnt;
                        kept[k].ex.margin = rk->margin;
                        if (rk->feature_cnt)
                                memcpy(f, rk->features,
                                       rk->feature_cnt * sizeof(*f));
                }
                k++;
        }
        if (snap) {
                snap->kept = kept;
                snap->kept_cnt = n;
        }
}

/* Lays out the copy of @src; fills @dst when the bump has a block. */
static void bump_impression(struct bump *b, const ltrr_impression_t *src,
                            ltrr_impression_t *dst)
{
        ltrr_impression_t tmp = *src;
        ltrr_arm_decision_t *arms;
        float *f;
        size_t i;

        tmp.node_id = bump_str(b, src->node_id);
        tmp.user_id = bump_str(b, src->user_id);
        tmp.session_id = bump_str(b, src->session_id);
        tmp.query_raw = NULL;
        tmp.query_norm = bump_str(b, src->query_norm);
        tmp.lang = bump_str(b, src->lang);
        tmp.policy = bump_str(b, src->policy);
        tmp.model_version = bump_str(b, src->model_version);
        tmp.context.query_type = bump_str(b, src->context.query_type);
        tmp.context.user_segment = bump_str(b, src->context.user_segment);
        f = bump_take(b, src->context.feature_cnt * sizeof(*f));
        if (f && src->context.feature_cnt)
                memcpy(f, src->context.features,
                       src->context.feature_cnt * sizeof(*f));
        tmp.context.features = f;
        arms = bump_take(b, src->arm_cnt * sizeof(*arms));
        for (i = 0; i < src->arm_cnt; i++)
                bump_arm(b, &src->arms[i], arms ? &arms[i] : NULL);
        tmp.arms = arms;
        tmp.results = NULL;
        tmp.result_cnt = 0;
        if (dst)
                *dst = tmp;
}

ltrr_join_snap_t *ltrr_join_snap_new(const ltrr_impression_t *imp,
                                     const ltrr_ranker_input_t *rankers,
                                     char *errstr, size_t errstr_size)
{
        struct bump b = {NULL, sizeof(ltrr_join_snap_t)};
        ltrr_join_snap_t *snap;

        if (imp->arm_cnt > LTRR_JOIN_ARMS_MAX) {
                ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                          "impression has %zu arms, at most %d",
                          imp->arm_cnt, LTRR_JOIN_ARMS_MAX);
                return NULL;
        }
        bump_impression(&b, imp, NULL);
        bump_kept(&b, imp, rankers, NULL);
        if (!(snap = malloc(b.used))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "out of memory (%zu bytes)", b.used);
                return NULL;
        }
        b.base = (char *)snap;
        b.used = sizeof(*snap);
        bump_impression(&b, imp, &snap->imp);
        bump_kept(&b, imp, rankers, snap);
        return snap;
}

void ltrr_join_snap_destroy(ltrr_join_snap_t *snap)
{
        free(snap);
}

const ltrr_impression_t *ltrr_join_snap_impression(
    const ltrr_join_snap_t *snap)
{
        return &snap->imp;
}

double ltrr_join_value(const ltrr_join_conf_t *jc, ltrr_action_type_t type)
{
        if ((int)type < 0 || type >= LTRR_ACTION__CNT)
                return 0.0;
        return jc->values[type];
}

const char *ltrr_join_outcome_name(ltrr_outcome_t outcome)
{
        static const char *const names[LTRR_OUTCOME__CNT] = {
            "matched", "no_action", "late"};

        if ((int)outcome < 0 || outcome >= LTRR_OUTCOME__CNT)
                return NULL;
        return names[outcome];
}

void ltrr_join_conf_defaults(ltrr_join_conf_t *jc)
{
        memset(jc, 0, sizeof(*jc));
        jc->window_ms = 10 * 60 * 1000;
        jc->tolerance_ms = 2 * 60 * 1000;
        jc->lateness_ms = 5 * 1000;
        jc->late_horizon_ms = 10 * 60 * 1000;
        jc->idle_ms = 30 * 1000;
        jc->pending_max = 100000;
        jc->held_max = 10000;
        jc->values[LTRR_ACTION_UNKNOWN] = 0.0;
        jc->values[LTRR_ACTION_CLICK] = 1.0;
        jc->values[LTRR_ACTION_PLAY] = 3.0;
        jc->values[LTRR_ACTION_LIKE] = 2.0;
        jc->values[LTRR_ACTION_ADD_TO_PLAYLIST] = 2.5;
        jc->values[LTRR_ACTION_SHARE] = 2.5;
        jc->values[LTRR_ACTION_SKIP] = -1.0;
        jc->node_id = "";
        jc->imp_topic = "ltrr.impressions";
        jc->act_topic = "ltrr.actions";
}

/* True when @entity is among the candidates of @arm. */
static bool arm_has(const ltrr_arm_decision_t *arm, const char *entity)
{
        size_t i;

        for (i = 0; i < arm->candidate_cnt; i++)
                if (!strcmp(arm->candidates[i].entity_id, entity))
                        return true;
        return false;
}

/* Fills the action fields of @rew from @act (or clears them). */
static void reward_action(ltrr_reward_t *rew, const ltrr_action_t *act,
                          const ltrr_kafka_ref_t *act_ref, double value)
{
        rew->has_action_ref = act != NULL;
        rew->has_action_id = act != NULL;
        rew->has_action_type = act != NULL;
        rew->has_position = act != NULL;
        rew->has_action_time_ms = act != NULL;
        rew->value = act ? value : 0.0;
        if (!act)
                return;
        rew->action_ref = *act_ref;
        rew->action_id = act->action_id;
        rew->action_type = act->type;
        rew->engaged_entity = act->entity_id;
        rew->position = act->position;
        rew->action_time_ms = act->event_time_ms;
}

void ltrr_join_snap_reward(const ltrr_join_snap_t *snap,
                           const ltrr_join_conf_t *jc,
                           const ltrr_kafka_ref_t *imp_ref,
                           const ltrr_action_t *act,
                           const ltrr_kafka_ref_t *act_ref,
                           ltrr_outcome_t outcome, bool apply_bandit,
                           ltrr_arm_reward_t *arms, ltrr_reward_t *rew)
{
        const ltrr_impression_t *imp = &snap->imp;
        double value = act ? ltrr_join_value(jc, act->type) : 0.0;
        size_t i, finders = 0;

        memset(rew, 0, sizeof(*rew));
        rew->schema_version = LTRR_RECORDS_SCHEMA_VERSION;
        rew->event_time_ms =
            act ? act->event_time_ms : imp->event_time_ms + jc->window_ms;
        rew->node_id = jc->node_id;
        rew->impression_id = imp->impression_id;
        rew->impression_ref = *imp_ref;
        reward_action(rew, act, act_ref, value);
        rew->user_id = imp->user_id;
        rew->query_norm = imp->query_norm;
        rew->outcome = outcome;
        rew->apply_bandit = apply_bandit;
        rew->apply_engagement = act != NULL;
        for (i = 0; i < imp->arm_cnt; i++) {
                const ltrr_arm_decision_t *a = &imp->arms[i];

                arms[i].arm = a->arm;
                arms[i].ran = a->ran;
                arms[i].budget = a->budget;
                arms[i].propensity = a->propensity;
                arms[i].reward =
                    act && arm_has(a, act->entity_id) ? 1.0 : 0.0;
                finders += arms[i].reward > 0.0;
        }
        /* Shapley split of "any finder suffices": each of the n arms that
         * returned the engaged entity is pivotal in 1/n of the orders. */
        for (i = 0; i < imp->arm_cnt; i++)
                arms[i].reward = arms[i].reward > 0.0
                                     ? value / (double)finders
                                     : 0.0;
        rew->arm_rewards = arms;
        rew->arm_reward_cnt = imp->arm_cnt;
        rew->context = imp->context;
        rew->policy = imp->policy;
        rew->model_version = imp->model_version;
        rew->impression_time_ms = imp->event_time_ms;
}

/* The kept result shown at @p position with @p entity, or NULL. */
static const struct snap_kept *snap_find(const ltrr_join_snap_t *snap,
                                         int32_t position, const char *entity)
{
        size_t i;

        for (i = 0; i < snap->kept_cnt; i++)
                if (snap->kept[i].ex.position == position &&
                    !strcmp(snap->kept[i].entity_id, entity))
                        return &snap->kept[i];
        return NULL;
}

size_t ltrr_join_snap_rank_examples(const ltrr_join_snap_t *snap,
                                    const ltrr_action_t *act, double value,
                                    ltrr_rank_example_t *ex, size_t cap)
{
        const struct snap_kept *hit;
        size_t i, n = 0;

        if (!act || !act->entity_id || value == 0.0 || !isfinite(value) ||
            !cap || !(hit = snap_find(snap, act->position, act->entity_id)))
                return 0;
        /* Cascade: a positive engagement at p means the results above p
         * were examined and passed over. Kept results are in shown
         * order, so they come out by ascending position. */
        for (i = 0; value > 0.0 && i < snap->kept_cnt && n + 1 < cap; i++)
                if (snap->kept[i].ex.position < hit->ex.position)
                        ex[n++] = snap->kept[i].ex;
        ex[n] = hit->ex;
        ex[n++].label = value > 0.0 ? 1.0f : 0.0f;
        return n;
}
