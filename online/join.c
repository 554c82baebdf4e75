/*
 * ltrr - the join state machine: pending impressions, held actions,
 * watermarks, window close and the replay-safe commit point.
 *
 * Everything is per partition. Impressions live in a ring in offset order
 * (the head is the oldest, hence the impressions commit point) and in an
 * open-addressing hash by impression_id. Windows are closed and entries
 * retired from the head of the ring only ("head of line"): within a
 * partition impressions come nearly in time order, and a late close only
 * holds state a little longer, it never changes a decision for records
 * within the allowed lateness (decision 0015).
 */
#include "join.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Counters of the held-action filter, indexed by impression id hash. */
#define HELD_FILTER 4096
/* Initial ring and hash sizes; both double as needed. */
#define RING_INIT 64
#define TAB_INIT 128

/* A pending impression. */
struct jimp {
        ltrr_join_snap_t *snap;  /* owned copy of the impression */
        ltrr_id128_t id;         /* impression_id */
        int64_t offset;          /* impressions offset */
        int64_t time_ms;         /* event time */
        int64_t first_act;       /* lowest offset of an action met, or -1 */
        bool decided;            /* the bandit reward was emitted */
        bool closed;             /* the window closed */
        uint8_t act_cnt;         /* entries of acts */
        ltrr_id128_t acts[LTRR_JOIN_IMP_ACTIONS_MAX]; /* action ids met */
};

/* An action held until its impression comes; strings follow it. */
struct jheld {
        ltrr_action_t act; /* copy; strings point after the struct */
        int64_t offset;    /* actions offset */
        uint32_t fslot;    /* held filter slot */
};

/* A FIFO of pointers that grows by doubling. */
struct ring {
        void **v;    /* cap slots */
        size_t cap;  /* power of two or 0 */
        size_t head; /* index of the oldest */
        size_t cnt;  /* entries */
};

struct jpart {
        struct ring imps;      /* struct jimp *, offset order */
        size_t closed_cnt;     /* leading entries of imps that are closed */
        struct jimp **tab;     /* hash by id; NULL = empty slot */
        size_t tab_cap;        /* power of two */
        struct ring held;      /* struct jheld * or NULL (consumed) */
        size_t held_live;      /* non-NULL entries of held */
        uint16_t filter[HELD_FILTER]; /* held actions per id hash */
        int64_t wm_imp;        /* impressions watermark */
        int64_t wm_act;        /* actions watermark */
        int64_t imp_next;      /* next impression offset, -1 none read */
        int64_t act_next;      /* next action offset, -1 none read */
        int64_t last_wall_ms;  /* wall clock of the last record */
};

struct ltrr_join_s {
        ltrr_join_conf_t conf;              /* strings point to the copies */
        char *node_id;                      /* owned */
        char *imp_topic;                    /* owned */
        char *act_topic;                    /* owned */
        ltrr_join_emit_cb_t *cb;            /* reward sink */
        void *opaque;                       /* for cb */
        struct jpart *parts[LTRR_JOIN_PARTITIONS_MAX]; /* lazily made */
        ltrr_join_stats_t st;               /* counters */
        ltrr_arm_reward_t arms[LTRR_JOIN_ARMS_MAX]; /* reward scratch */
        ltrr_rank_example_t rex[LTRR_JOIN_RANK_EXAMPLES_MAX]; /* scratch */
};

/* ---- ring ---- */

static void *ring_at(const struct ring *r, size_t i)
{
        return r->v[(r->head + i) & (r->cap - 1)];
}

static void ring_set(struct ring *r, size_t i, void *p)
{
        r->v[(r->head + i) & (r->cap - 1)] = p;
}

/* Appends @p; -1 when out of memory. */
static int ring_push(struct ring *r, void *p)
{
        if (r->cnt == r->cap) {
                size_t ncap = r->cap ? r->cap * 2 : RING_INIT, i;
                void **nv = malloc(ncap * sizeof(*nv));

                if (!nv)
                        return -1;
                for (i = 0; i < r->cnt; i++)
                        nv[i] = ring_at(r, i);
                free(r->v);
                r->v = nv;
                r->cap = ncap;
                r->head = 0;
        }
        r->v[(r->head + r->cnt) & (r->cap - 1)] = p;
        r->cnt++;
        return 0;
}

static void *ring_pop(struct ring *r)
{
        void *p = r->v[r->head];

        r->head = (r->head + 1) & (r->cap - 1);
        r->cnt--;
        return p;
}

/* ---- hash of pending impressions (linear probing) ---- */

static uint64_t id_hash(const ltrr_id128_t *id)
{
        uint64_t a, b;

        memcpy(&a, id->b, 8);
        memcpy(&b, id->b + 8, 8);
        a ^= b * 0x9e3779b97f4a7c15ULL;
        a ^= a >> 31;
        a *= 0xbf58476d1ce4e5b9ULL;
        return a ^ (a >> 29);
}

static bool id_eq(const ltrr_id128_t *a, const ltrr_id128_t *b)
{
        return !memcmp(a->b, b->b, sizeof(a->b));
}

static struct jimp *tab_find(const struct jpart *jp, const ltrr_id128_t *id)
{
        size_t mask = jp->tab_cap - 1, i = id_hash(id) & mask;

        for (; jp->tab[i]; i = (i + 1) & mask)
                if (id_eq(&jp->tab[i]->id, id))
                        return jp->tab[i];
        return NULL;
}

static void tab_put(struct jimp **tab, size_t cap, struct jimp *e)
{
        size_t i = id_hash(&e->id) & (cap - 1);

        while (tab[i])
                i = (i + 1) & (cap - 1);
        tab[i] = e;
}

/* Inserts @e, growing so the load stays under one half; -1: no memory. */
static int tab_insert(struct jpart *jp, struct jimp *e)
{
        if ((jp->imps.cnt + 1) * 2 > jp->tab_cap) {
                size_t ncap = jp->tab_cap * 2, i;
                struct jimp **nt = calloc(ncap, sizeof(*nt));

                if (!nt)
                        return -1;
                for (i = 0; i < jp->tab_cap; i++)
                        if (jp->tab[i])
                                tab_put(nt, ncap, jp->tab[i]);
                free(jp->tab);
                jp->tab = nt;
                jp->tab_cap = ncap;
        }
        tab_put(jp->tab, jp->tab_cap, e);
        return 0;
}

/* Removes @e with backward-shift deletion (no tombstones). */
static void tab_remove(struct jpart *jp, const struct jimp *e)
{
        size_t mask = jp->tab_cap - 1, i = id_hash(&e->id) & mask, j;

        while (jp->tab[i] != e)
                i = (i + 1) & mask;
        jp->tab[i] = NULL;
        for (j = (i + 1) & mask; jp->tab[j]; j = (j + 1) & mask) {
                size_t home = id_hash(&jp->tab[j]->id) & mask;

                /* Move j back to the hole unless its home lies in (i, j]. */
                if (((j - home) & mask) >= ((j - i) & mask)) {
                        jp->tab[i] = jp->tab[j];
                        jp->tab[j] = NULL;
                        i = j;
                }
        }
}

/* ---- partitions ---- */

static void part_free(struct jpart *jp)
{
        size_t i;

        if (!jp)
                return;
        for (i = 0; i < jp->imps.cnt; i++) {
                struct jimp *e = ring_at(&jp->imps, i);

                ltrr_join_snap_destroy(e->snap);
                free(e);
        }
        for (i = 0; i < jp->held.cnt; i++)
                free(ring_at(&jp->held, i));
        free(jp->imps.v);
        free(jp->held.v);
        free(jp->tab);
        free(jp);
}

/* The state of @p, created on first use; NULL when out of memory. */
static struct jpart *part_get(ltrr_join_t *j, int32_t p)
{
        struct jpart *jp = j->parts[p];

        if (jp)
                return jp;
        if (!(jp = calloc(1, sizeof(*jp))))
                return NULL;
        if (!(jp->tab = calloc(TAB_INIT, sizeof(*jp->tab)))) {
                free(jp);
                return NULL;
        }
        jp->tab_cap = TAB_INIT;
        jp->wm_imp = jp->wm_act = INT64_MIN;
        jp->imp_next = jp->act_next = -1;
        j->parts[p] = jp;
        return jp;
}

/* ---- emission ---- */

/* Builds and hands out one reward of @e on partition @p. */
static void emit(ltrr_join_t *j, int32_t p, const struct jimp *e,
                 const ltrr_action_t *act, int64_t act_off,
                 ltrr_outcome_t outcome, bool bandit)
{
        ltrr_kafka_ref_t iref = {j->imp_topic, p, e->offset};
        ltrr_kafka_ref_t aref = {j->act_topic, p, act_off};
        ltrr_reward_t rew;

        ltrr_join_snap_reward(e->snap, &j->conf, &iref, act, &aref, outcome,
                              bandit, j->arms, &rew);
        /* Ranker examples only for engagements in the window (a late
         * action's results may have been replaced long since). */
        if (outcome == LTRR_OUTCOME_MATCHED && act) {
                rew.ranker_example_cnt = ltrr_join_snap_rank_examples(
                    e->snap, act, rew.value, j->rex,
                    LTRR_JOIN_RANK_EXAMPLES_MAX);
                rew.ranker_examples = j->rex;
        }
        j->st.rewards[outcome]++;
        j->cb(j->opaque, p, &rew);
}

/* Closes the window of @e: the no_action reward unless already decided. */
static void imp_close(ltrr_join_t *j, int32_t p, struct jimp *e)
{
        if (!e->decided) {
                e->decided = true;
                emit(j, p, e, NULL, -1, LTRR_OUTCOME_NO_ACTION, true);
        }
        e->closed = true;
}

/* Retires the oldest impression of @jp. */
static void imp_pop(struct jpart *jp)
{
        struct jimp *e = ring_pop(&jp->imps);

        tab_remove(jp, e);
        if (jp->closed_cnt)
                jp->closed_cnt--;
        ltrr_join_snap_destroy(e->snap);
        free(e);
}

/* Frees the oldest held slot (consumed, expired or evicted). */
static void held_pop(struct jpart *jp)
{
        struct jheld *h = ring_pop(&jp->held);

        if (!h)
                return;
        jp->filter[h->fslot]--;
        jp->held_live--;
        free(h);
}

/*
 * Closes windows the actions watermark has passed, retires impressions
 * past the late horizon and expires held actions the impressions
 * watermark has passed (dangling). All from the head only.
 */
static void advance(ltrr_join_t *j, int32_t p, struct jpart *jp)
{
        const ltrr_join_conf_t *c = &j->conf;

        while (jp->closed_cnt < jp->imps.cnt) {
                struct jimp *e = ring_at(&jp->imps, jp->closed_cnt);

                if (e->time_ms + c->window_ms >= jp->wm_act)
                        break;
                imp_close(j, p, e);
                jp->closed_cnt++;
        }
        while (jp->closed_cnt > 0) {
                struct jimp *e = ring_at(&jp->imps, 0);

                if (e->time_ms + c->window_ms + c->late_horizon_ms >=
                    jp->wm_act)
                        break;
                imp_pop(jp);
        }
        while (jp->held.cnt > 0) {
                struct jheld *h = ring_at(&jp->held, 0);

                if (h && h->act.event_time_ms + c->tolerance_ms >= jp->wm_imp)
                        break;
                if (h)
                        j->st.dangling++;
                held_pop(jp);
        }
}

/* ---- actions meeting impressions ---- */

/* True when @e already met action @id; otherwise records it if room. */
static bool imp_seen(const struct jimp *e, const ltrr_id128_t *id)
{
        size_t i;

        for (i = 0; i < e->act_cnt; i++)
                if (id_eq(&e->acts[i], id))
                        return true;
        return false;
}

/*
 * Applies action @act (read at @off) to impression @e: dedup, the
 * tolerance and horizon bounds, then matched / late.
 */
static void imp_meet(ltrr_join_t *j, int32_t p, struct jimp *e,
                     const ltrr_action_t *act, int64_t off)
{
        const ltrr_join_conf_t *c = &j->conf;
        int64_t t = act->event_time_ms;

        if (imp_seen(e, &act->action_id)) {
                j->st.duplicates++;
                return;
        }
        if (t < e->time_ms - c->tolerance_ms ||
            t > e->time_ms + c->window_ms + c->late_horizon_ms) {
                j->st.dangling++;
                return;
        }
        if (e->act_cnt == LTRR_JOIN_IMP_ACTIONS_MAX) {
                j->st.overflow++;
                return;
        }
        e->acts[e->act_cnt++] = act->action_id;
        if (e->first_act < 0 || off < e->first_act)
                e->first_act = off;
        if (t <= e->time_ms + c->window_ms && !e->closed) {
                emit(j, p, e, act, off, LTRR_OUTCOME_MATCHED, !e->decided);
                e->decided = true;
                return;
        }
        j->st.late++;
        emit(j, p, e, act, off, LTRR_OUTCOME_LATE, false);
}

/* Copies @act into a held entry; NULL when out of memory. */
static struct jheld *held_new(const ltrr_action_t *act, int64_t off)
{
        size_t ul = strlen(act->user_id) + 1, el = strlen(act->entity_id) + 1;
        struct jheld *h = malloc(sizeof(*h) + ul + el);
        char *s;

        if (!h)
                return NULL;
        s = (char *)(h + 1);
        h->act = *act;
        memcpy(s, act->user_id, ul);
        memcpy(s + ul, act->entity_id, el);
        h->act.user_id = s;
        h->act.entity_id = s + ul;
        h->act.node_id = "";
        h->act.idempotency_key = NULL;
        h->act.app_id = NULL;
        h->offset = off;
        h->fslot = (uint32_t)(id_hash(&act->impression_id) % HELD_FILTER);
        return h;
}

/* True when a held action has the same action_id as @act. */
static bool held_dup(const struct jpart *jp, const ltrr_action_t *act,
                     uint32_t slot)
{
        size_t i;

        if (!jp->filter[slot])
                return false;
        for (i = 0; i < jp->held.cnt; i++) {
                const struct jheld *h = ring_at(&jp->held, i);

                if (h && id_eq(&h->act.action_id, &act->action_id))
                        return true;
        }
        return false;
}

/* Drops consumed slots at the head of the held ring. */
static void held_trim(struct jpart *jp)
{
        while (jp->held.cnt && !ring_at(&jp->held, 0))
                ring_pop(&jp->held);
}

/*
 * Evicts the oldest live held action (dangling); for the cap, which
 * counts ring slots (consumed ones included) so memory is strictly bound.
 */
static void held_evict(ltrr_join_t *j, struct jpart *jp)
{
        held_trim(jp);
        if (!jp->held.cnt)
                return;
        j->st.held_evicted++;
        j->st.dangling++;
        held_pop(jp);
        held_trim(jp);
}

/* Holds @act until its impression comes; LTRR_ERR_NOMEM on failure. */
static ltrr_err_t held_add(ltrr_join_t *j, struct jpart *jp,
                           const ltrr_action_t *act, int64_t off)
{
        uint32_t slot = (uint32_t)(id_hash(&act->impression_id) % HELD_FILTER);
        struct jheld *h;

        if (held_dup(jp, act, slot)) {
                j->st.duplicates++;
                return LTRR_OK;
        }
        if (jp->held.cnt >= j->conf.held_max)
                held_evict(j, jp);
        if (!(h = held_new(act, off)) || ring_push(&jp->held, h)) {
                free(h);
                return LTRR_ERR_NOMEM;
        }
        jp->filter[slot]++;
        jp->held_live++;
        return LTRR_OK;
}

/* Meets impression @e with the actions held for it, in offset order. */
static void held_meet(ltrr_join_t *j, int32_t p, struct jpart *jp,
                      struct jimp *e)
{
        uint32_t slot = (uint32_t)(id_hash(&e->id) % HELD_FILTER);
        size_t i;

        if (!jp->filter[slot])
                return;
        for (i = 0; i < jp->held.cnt; i++) {
                struct jheld *h = ring_at(&jp->held, i);

                if (!h || !id_eq(&h->act.impression_id, &e->id))
                        continue;
                imp_meet(j, p, e, &h->act, h->offset);
                jp->filter[h->fslot]--;
                jp->held_live--;
                free(h);
                ring_set(&jp->held, i, NULL);
        }
}

/* ---- public ---- */

/* Copies a string for the join; NULL becomes "". */
static char *dup_str(const char *s)
{
        return strdup(s ? s : "");
}

/* Checks @jc; LTRR_OK or LTRR_ERR_INVALID_ARG with the reason. */
static ltrr_err_t conf_check(const ltrr_join_conf_t *jc, char *errstr,
                             size_t errstr_size)
{
        int i;

        if (jc->window_ms <= 0 || jc->idle_ms <= 0 || jc->tolerance_ms < 0 ||
            jc->lateness_ms < 0 || jc->late_horizon_ms < 0 ||
            jc->window_ms > LTRR_JOIN_TIME_MAX ||
            jc->idle_ms > LTRR_JOIN_TIME_MAX ||
            jc->tolerance_ms > LTRR_JOIN_TIME_MAX ||
            jc->lateness_ms > LTRR_JOIN_TIME_MAX ||
            jc->late_horizon_ms > LTRR_JOIN_TIME_MAX)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "window and idle must be in 1..2^48 ms; "
                                 "tolerance, lateness and late horizon in "
                                 "0..2^48 ms");
        if (!jc->pending_max || jc->pending_max > LTRR_JOIN_PENDING_LIMIT ||
            !jc->held_max || jc->held_max > LTRR_JOIN_PENDING_LIMIT)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "pending and held caps must be in 1..%d",
                                 LTRR_JOIN_PENDING_LIMIT);
        for (i = 0; i < LTRR_ACTION__CNT; i++)
                if (!isfinite(jc->values[i]))
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size,
                                         "value of action type %d not finite",
                                         i);
        return LTRR_OK;
}

ltrr_join_t *ltrr_join_new(const ltrr_join_conf_t *jc, ltrr_join_emit_cb_t *cb,
                           void *opaque, char *errstr, size_t errstr_size)
{
        ltrr_join_t *j;

        if (!jc || !cb) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "conf and callback are required");
                return NULL;
        }
        if (conf_check(jc, errstr, errstr_size))
                return NULL;
        if (!(j = calloc(1, sizeof(*j))))
                goto nomem;
        j->conf = *jc;
        j->node_id = dup_str(jc->node_id);
        j->imp_topic = dup_str(jc->imp_topic);
        j->act_topic = dup_str(jc->act_topic);
        if (!j->node_id || !j->imp_topic || !j->act_topic)
                goto nomem;
        j->conf.node_id = j->node_id;
        j->conf.imp_topic = j->imp_topic;
        j->conf.act_topic = j->act_topic;
        j->cb = cb;
        j->opaque = opaque;
        return j;
nomem:
        ltrr_join_destroy(j);
        ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return NULL;
}

void ltrr_join_destroy(ltrr_join_t *j)
{
        int p;

        if (!j)
                return;
        for (p = 0; p < LTRR_JOIN_PARTITIONS_MAX; p++)
                part_free(j->parts[p]);
        free(j->node_id);
        free(j->imp_topic);
        free(j->act_topic);
        free(j);
}

/* Common checks of a record at (@p, @off); LTRR_OK or INVALID_ARG. */
static ltrr_err_t pos_check(int32_t p, int64_t off, char *errstr,
                            size_t errstr_size)
{
        if (p < 0 || p >= LTRR_JOIN_PARTITIONS_MAX || off < 0)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "partition %d offset %lld out of range",
                                 (int)p, (long long)off);
        return LTRR_OK;
}

/* Raises @wm to @t - lateness. */
static void wm_raise(int64_t *wm, int64_t t, int64_t lateness)
{
        if (t - lateness > *wm)
                *wm = t - lateness;
}

/* Evicts the oldest impression for the cap, deciding it at once. */
static void imp_evict(ltrr_join_t *j, int32_t p, struct jpart *jp)
{
        struct jimp *e = ring_at(&jp->imps, 0);

        if (!e->closed) {
                imp_close(j, p, e);
                jp->closed_cnt++;
        }
        j->st.evicted++;
        imp_pop(jp);
}

/* Creates the pending entry of @imp and meets held actions. */
static ltrr_err_t imp_add(ltrr_join_t *j, int32_t p, struct jpart *jp,
                          int64_t off, const ltrr_impression_t *imp,
                          const ltrr_ranker_input_t *rankers, char *errstr,
                          size_t errstr_size)
{
        struct jimp *e = calloc(1, sizeof(*e));

        if (!e)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        if (!(e->snap = ltrr_join_snap_new(imp, rankers, errstr,
                                           errstr_size))) {
                free(e);
                return imp->arm_cnt > LTRR_JOIN_ARMS_MAX ? LTRR_ERR_RANGE
                                                        : LTRR_ERR_NOMEM;
        }
        e->id = imp->impression_id;
        e->offset = off;
        e->time_ms = imp->event_time_ms;
        e->first_act = -1;
        if (jp->imps.cnt >= j->conf.pending_max)
                imp_evict(j, p, jp);
        if (tab_insert(jp, e))
                goto nomem;
        if (ring_push(&jp->imps, e)) {
                tab_remove(jp, e);
                goto nomem;
        }
        held_meet(j, p, jp, e);
        return LTRR_OK;
nomem:
        ltrr_join_snap_destroy(e->snap);
        free(e);
        return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
}
ltrr_err_t ltrr_join_impression(ltrr_join_t *j, int32_t p, int64_t off,
                                const ltrr_impression_t *imp, int64_t now_ms,
                                char *errstr, size_t errstr_size)
{
        return ltrr_join_impression_ranked(j, p, off, imp, NULL, now_ms,
                                           errstr, errstr_size);
}

ltrr_err_t ltrr_join_impression_ranked(ltrr_join_t *j, int32_t p,
                                       int64_t off,
                                       const ltrr_impression_t *imp,
                                       const ltrr_ranker_input_t *rankers,
                                       int64_t now_ms, char *errstr,
                                       size_t errstr_size)
{
        struct jpart *jp;
        ltrr_err_t err;

        if ((err = pos_check(p, off, errstr, errstr_size)))
                return err;
        if (imp->arm_cnt > LTRR_JOIN_ARMS_MAX || imp->event_time_ms <= 0 ||
            imp->event_time_ms > LTRR_JOIN_TIME_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "impression with %zu arms (max %d) or "
                                 "event time %lld",
                                 imp->arm_cnt, LTRR_JOIN_ARMS_MAX,
                                 (long long)imp->event_time_ms);
        if (!(jp = part_get(j, p)))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        if (off < jp->imp_next) {
                j->st.replayed++;
                return LTRR_OK;
        }
        jp->imp_next = off + 1;
        jp->last_wall_ms = now_ms;
        wm_raise(&jp->wm_imp, imp->event_time_ms, j->conf.lateness_ms);
        if (tab_find(jp, &imp->impression_id)) {
                j->st.duplicates++;
                return LTRR_OK;
        }
        if ((err = imp_add(j, p, jp, off, imp, rankers, errstr,
                           errstr_size)))
                return err;
        j->st.impressions++;
        advance(j, p, jp);
        return LTRR_OK;
}

ltrr_err_t ltrr_join_action(ltrr_join_t *j, int32_t p, int64_t off,
                            const ltrr_action_t *act, int64_t now_ms,
                            char *errstr, size_t errstr_size)
{
        struct jpart *jp;
        struct jimp *e;
        ltrr_err_t err;

        if ((err = pos_check(p, off, errstr, errstr_size)))
                return err;
        if (act->event_time_ms <= 0 ||
            act->event_time_ms > LTRR_JOIN_TIME_MAX || (int)act->type < 0 ||
            act->type >= LTRR_ACTION__CNT)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "action with event time %lld, type %d",
                                 (long long)act->event_time_ms,
                                 (int)act->type);
        if (!(jp = part_get(j, p)))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        if (off < jp->act_next) {
                j->st.replayed++;
                return LTRR_OK;
        }
        jp->act_next = off + 1;
        jp->last_wall_ms = now_ms;
        wm_raise(&jp->wm_act, act->event_time_ms, j->conf.lateness_ms);
        j->st.actions++;
        if ((e = tab_find(jp, &act->impression_id)))
                imp_meet(j, p, e, act, off);
        else if (act->event_time_ms + j->conf.tolerance_ms < jp->wm_imp)
                j->st.dangling++;
        else if (held_add(j, jp, act, off))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        advance(j, p, jp);
        return LTRR_OK;
}

ltrr_err_t ltrr_join_skip(ltrr_join_t *j, int32_t p, int64_t off,
                          int action)
{
        struct jpart *jp;
        int64_t *next;

        if (pos_check(p, off, NULL, 0))
                return LTRR_ERR_INVALID_ARG;
        if (!(jp = part_get(j, p)))
                return LTRR_ERR_NOMEM;
        next = action ? &jp->act_next : &jp->imp_next;
        if (off >= *next)
                *next = off + 1;
        return LTRR_OK;
}

void ltrr_join_tick(ltrr_join_t *j, int64_t now_ms)
{
        int64_t back = j->conf.idle_ms;
        int p;

        for (p = 0; p < LTRR_JOIN_PARTITIONS_MAX; p++) {
                struct jpart *jp = j->parts[p];

                if (!jp || now_ms - jp->last_wall_ms < back)
                        continue;
                wm_raise(&jp->wm_imp, now_ms - back, j->conf.lateness_ms);
                wm_raise(&jp->wm_act, now_ms - back, j->conf.lateness_ms);
                advance(j, p, jp);
        }
}

/* Lowest offset among @a and @b where -1 means none. */
static int64_t off_min(int64_t a, int64_t b)
{
        if (a < 0)
                return b;
        if (b < 0)
                return a;
        return a < b ? a : b;
}

ltrr_err_t ltrr_join_commit_point(const ltrr_join_t *j, int32_t p,
                                  int64_t *imp_next, int64_t *act_next)
{
        const struct jpart *jp;
        int64_t a;
        size_t i;

        *imp_next = *act_next = -1;
        if (p < 0 || p >= LTRR_JOIN_PARTITIONS_MAX)
                return LTRR_ERR_INVALID_ARG;
        if (!(jp = j->parts[p]))
                return LTRR_OK;
        *imp_next = jp->imps.cnt
                        ? ((struct jimp *)ring_at(&jp->imps, 0))->offset
                        : jp->imp_next;
        a = jp->act_next;
        for (i = 0; i < jp->held.cnt; i++) {
                const struct jheld *h = ring_at(&jp->held, i);

                if (h) {
                        a = off_min(a, h->offset);
                        break;
                }
        }
        for (i = 0; i < jp->imps.cnt; i++) {
                const struct jimp *e = ring_at(&jp->imps, i);

                a = off_min(a, e->first_act);
        }
        *act_next = a;
        return LTRR_OK;
}

void ltrr_join_drop_partition(ltrr_join_t *j, int32_t p)
{
        if (p < 0 || p >= LTRR_JOIN_PARTITIONS_MAX)
                return;
        part_free(j->parts[p]);
        j->parts[p] = NULL;
}

void ltrr_join_stats(const ltrr_join_t *j, ltrr_join_stats_t *st)
{
        int p;

        *st = j->st;
        st->pending = st->held = 0;
        for (p = 0; p < LTRR_JOIN_PARTITIONS_MAX; p++) {
                if (!j->parts[p])
                        continue;
                st->pending += j->parts[p]->imps.cnt;
                st->held += j->parts[p]->held_live;
        }
}
