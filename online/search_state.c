/*
 * ltrr - the fresh state of one query, parsed from Redis replies.
 *
 * Pure: the serving adapter hands in each reply as a flat string array
 * and this file turns it into what the pipeline reads. Entity lists are
 * kept sorted by id in a bounded arena, so lookups are binary searches
 * and nothing grows with the reply.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arm_state.h"
#include "q2e.h"
#include "search.h"

/* Bytes of entity ids kept per list; entries that do not fit are
 * dropped (the list is ordered best first, so the tail goes). */
#define STATE_ARENA_MAX 16384

_Static_assert(LTRR_SEARCH_PROFILE_READ <= LTRR_ARM_PROFILE_ENTS_MAX,
               "the profile takes every affinity read");
_Static_assert(LTRR_SEARCH_PROFILE_READ <= LTRR_SEARCH_STATE_LIST_MAX,
               "a state list holds every affinity read");

/* One entity with a number. */
typedef struct state_ent_s {
        const char *id; /* in the list's arena */
        double value;   /* score from the reply */
} state_ent_t;

/* A bounded list of entities sorted by id. */
typedef struct state_list_s {
        state_ent_t ents[LTRR_SEARCH_STATE_LIST_MAX]; /* sorted by id */
        size_t cnt;                                    /* entries used */
        char arena[STATE_ARENA_MAX];                   /* id bytes */
        size_t used;                                   /* arena bytes used */
} state_list_t;

struct ltrr_search_state_s {
        ltrr_bstats_t *bs;    /* bandit statistics of the query's context */
        state_list_t q2e;     /* Q2E: entity -> observed engagement */
        double q2e_n;         /* impressions of the query */
        state_list_t q2e_alt; /* the same of its spelling correction */
        double q2e_alt_n;     /* impressions of the correction */
        double q2e_alpha;     /* prior strength */
        state_list_t recent;  /* user's recent entities */
        state_list_t aff;     /* user's largest entity affinities */
        int degraded;         /* 1: stale or missing */
};

ltrr_search_state_t *ltrr_search_state_new(const ltrr_bandit_space_t *sp,
                                           double q2e_alpha, char *errstr,
                                           size_t errstr_size)
{
        ltrr_search_state_t *st;

        if (!sp || !(q2e_alpha >= 0)) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "bad state arguments");
                return NULL;
        }
        if (!(st = calloc(1, sizeof(*st)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "no memory");
                return NULL;
        }
        st->q2e_alpha = q2e_alpha;
        if (!(st->bs = ltrr_bstats_new(sp, 0, 0, errstr, errstr_size))) {
                free(st);
                return NULL;
        }
        return st;
}

void ltrr_search_state_destroy(ltrr_search_state_t *st)
{
        if (!st)
                return;
        ltrr_bstats_destroy(st->bs);
        free(st);
}

void ltrr_search_state_reset(ltrr_search_state_t *st)
{
        ltrr_bstats_reset(st->bs);
        st->q2e.cnt = st->q2e.used = 0;
        st->q2e_alt.cnt = st->q2e_alt.used = 0;
        st->recent.cnt = st->recent.used = 0;
        st->aff.cnt = st->aff.used = 0;
        st->q2e_n = st->q2e_alt_n = 0;
        st->degraded = 0;
}

ltrr_err_t ltrr_search_state_bandit(ltrr_search_state_t *st,
                                    const char *const *fv, size_t n,
                                    char *errstr, size_t errstr_size)
{
        return ltrr_bstats_parse(st->bs, fv, n, errstr, errstr_size);
}

/* Parses a finite double; 0 on success. */
static int parse_num(const char *s, double *out)
{
        char *end;

        if (!s || !*s)
                return -1;
        errno = 0;
        *out = strtod(s, &end);
        if (*end || errno || !isfinite(*out))
                return -1;
        return 0;
}

static int ent_cmp(const void *a, const void *b)
{
        return strcmp(((const state_ent_t *)a)->id,
                      ((const state_ent_t *)b)->id);
}

/* Fills @l from (member, score, ...) pairs; empty on error. */
static ltrr_err_t list_parse(state_list_t *l, const char *const *mv,
                             size_t n, const char *what, char *errstr,
                             size_t errstr_size)
{
        size_t i;

        l->cnt = l->used = 0;
        if (n % 2)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "%s: odd reply length %zu", what, n);
        for (i = 0; i + 1 < n && l->cnt < LTRR_SEARCH_STATE_LIST_MAX; i += 2) {
                size_t len = mv[i] ? strlen(mv[i]) + 1 : 0;
                state_ent_t *e = &l->ents[l->cnt];

                if (!len || parse_num(mv[i + 1], &e->value)) {
                        l->cnt = l->used = 0;
                        return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                         "%s: bad entry %zu", what, i / 2);
                }
                if (l->used + len > sizeof(l->arena))
                        break; /* full: keep the best entries */
                memcpy(l->arena + l->used, mv[i], len);
                e->id = l->arena + l->used;
                l->used += len;
                l->cnt++;
        }
        qsort(l->ents, l->cnt, sizeof(l->ents[0]), ent_cmp);
        return LTRR_OK;
}

static const state_ent_t *list_find(const state_list_t *l, const char *id)
{
        state_ent_t key = {id, 0};

        if (!id || !l->cnt)
                return NULL;
        return bsearch(&key, l->ents, l->cnt, sizeof(l->ents[0]), ent_cmp);
}

/* Fills a Q2E list and its impression count; both empty on error. */
static ltrr_err_t q2e_parse(state_list_t *l, double *np,
                            const char *const *mv, size_t n,
                            const char *impressions, const char *what,
                            char *errstr, size_t errstr_size)
{
        ltrr_err_t err;

        *np = 0;
        if ((err = list_parse(l, mv, n, what, errstr, errstr_size)))
                return err;
        if (impressions && (parse_num(impressions, np) || *np < 0)) {
                l->cnt = l->used = 0;
                *np = 0;
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "%s: bad impression count", what);
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_search_state_q2e(ltrr_search_state_t *st,
                                 const char *const *mv, size_t n,
                                 const char *impressions, char *errstr,
                                 size_t errstr_size)
{
        return q2e_parse(&st->q2e, &st->q2e_n, mv, n, impressions, "q2e",
                         errstr, errstr_size);
}

ltrr_err_t ltrr_search_state_q2e_alt(ltrr_search_state_t *st,
                                     const char *const *mv, size_t n,
                                     const char *impressions, char *errstr,
                                     size_t errstr_size)
{
        return q2e_parse(&st->q2e_alt, &st->q2e_alt_n, mv, n, impressions,
                         "q2e_alt", errstr, errstr_size);
}

ltrr_err_t ltrr_search_state_recent(ltrr_search_state_t *st,
                                    const char *const *mv, size_t n,
                                    char *errstr, size_t errstr_size)
{
        return list_parse(&st->recent, mv, n, "recent", errstr, errstr_size);
}

ltrr_err_t ltrr_search_state_affinity(ltrr_search_state_t *st,
                                      const char *const *mv, size_t n,
                                      char *errstr, size_t errstr_size)
{
        return list_parse(&st->aff, mv, n, "affinity", errstr, errstr_size);
}

void ltrr_search_state_set_degraded(ltrr_search_state_t *st, int degraded)
{
        st->degraded = degraded ? 1 : 0;
}

int ltrr_search_state_degraded(const ltrr_search_state_t *st)
{
        return st ? st->degraded : 0;
}

const ltrr_bstats_t *ltrr_search_state_bstats(const ltrr_search_state_t *st)
{
        return st->bs;
}

/* The observed sum is blended with a zero prediction: it fades in as the
 * query gathers impressions (q2e.h). The spelling correction's memory is
 * pooled with the query's: sums and impressions add up, as if both were
 * one query. Clamped to [0, 1] for the ranker. */
float ltrr_search_state_q2e_score(const ltrr_search_state_t *st,
                                  const char *id)
{
        const state_ent_t *e, *a;
        double v;

        if (!st)
                return 0.0f;
        e = list_find(&st->q2e, id);
        a = list_find(&st->q2e_alt, id);
        if (!e && !a)
                return 0.0f;
        v = ltrr_q2e_blend((e ? e->value : 0.0) + (a ? a->value : 0.0), 0.0,
                           st->q2e_n + st->q2e_alt_n, st->q2e_alpha);
        if (v > 1.0)
                v = 1.0;
        return v > 0.0 ? (float)v : 0.0f;
}

size_t ltrr_search_state_q2e_count(const ltrr_search_state_t *st)
{
        size_t i, n;

        if (!st)
                return 0;
        n = st->q2e.cnt;
        for (i = 0; i < st->q2e_alt.cnt; i++)
                n += !list_find(&st->q2e, st->q2e_alt.ents[i].id);
        return n;
}

int ltrr_search_state_seen(const ltrr_search_state_t *st, const char *id)
{
        return st && list_find(&st->recent, id) != NULL;
}

/* ---- entity id map ------------------------------------------------------ */

/* Most entities a map takes (keeps the slot count a 32-bit power of 2). */
#define IDS_ENTS_MAX ((uint32_t)1 << 30)

/* One slot: entity index plus one (0 = empty) and the id's hash. */
typedef struct ids_slot_s {
        uint32_t ent1; /* entity + 1, 0 empty */
        uint32_t hash; /* ltrr_text_hash32() of its id */
} ids_slot_t;

struct ltrr_search_ids_s {
        const ltrr_index_t *ix; /* borrowed */
        uint32_t mask;          /* slots - 1 */
        ids_slot_t *slots;      /* open addressing, linear probing */
};

/* Inserts entity @p ent with id hash @p h (the table has room). */
static void ids_put(ltrr_search_ids_t *ids, uint32_t ent, uint32_t h)
{
        uint32_t i = h & ids->mask;

        while (ids->slots[i].ent1)
                i = (i + 1) & ids->mask;
        ids->slots[i].ent1 = ent + 1;
        ids->slots[i].hash = h;
}

ltrr_search_ids_t *ltrr_search_ids_new(const ltrr_index_t *ix, char *errstr,
                                       size_t errstr_size)
{
        ltrr_search_ids_t *ids = NULL;
        uint32_t n = ix ? ltrr_index_count(ix) : 0, cap = 16, i;
        ltrr_index_entity_t e;

        if (!ix || n > IDS_ENTS_MAX) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "bad index for the id map");
                return NULL;
        }
        while (cap < 2 * (uint64_t)n)
                cap <<= 1;
        if (!(ids = calloc(1, sizeof(*ids))) ||
            !(ids->slots = calloc(cap, sizeof(*ids->slots)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "no memory");
                goto err;
        }
        ids->ix = ix;
        ids->mask = cap - 1;
        for (i = 0; i < n; i++) {
                if (ltrr_index_entity(ix, i, &e)) {
                        ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                  "entity %" PRIu32 " unreadable", i);
                        goto err;
                }
                ids_put(ids, i, ltrr_text_hash32(e.id, strlen(e.id)));
        }
        return ids;
err:
        ltrr_search_ids_destroy(ids);
        return NULL;
}

void ltrr_search_ids_destroy(ltrr_search_ids_t *ids)
{
        if (!ids)
                return;
        free(ids->slots);
        free(ids);
}

int64_t ltrr_search_ids_find(const ltrr_search_ids_t *ids, const char *id)
{
        uint32_t h, i;
        ltrr_index_entity_t e;

        if (!ids || !id)
                return -1;
        h = ltrr_text_hash32(id, strlen(id));
        for (i = h & ids->mask; ids->slots[i].ent1; i = (i + 1) & ids->mask) {
                uint32_t ent = ids->slots[i].ent1 - 1;

                if (ids->slots[i].hash == h &&
                    !ltrr_index_entity(ids->ix, ent, &e) && !strcmp(e.id, id))
                        return ent;
        }
        return -1;
}

/* The profile: the user's affinities weighted by their sums (what the
 * user keeps coming back to), or without any, the recent entities at
 * weight 1. The recent ones alone follow whatever the last searches
 * were about (a decade, a new release) and crowd out the taste a short
 * ambiguous query needs (decision 0046). */
static size_t profile_fill(const ltrr_search_state_t *st,
                           const ltrr_search_ids_t *ids,
                           struct ltrr_user_profile_s *prof)
{
        const state_list_t *l = st->aff.cnt ? &st->aff : &st->recent;
        size_t i, got = 0;
        int64_t ent;

        for (i = 0; prof && i < l->cnt; i++) {
                float w = l == &st->aff ? (float)l->ents[i].value : 1.0f;

                ent = ltrr_search_ids_find(ids, l->ents[i].id);
                if (ent >= 0 && w > 0 &&
                    !ltrr_user_profile_add(prof, 0, (uint32_t)ent, w))
                        got++;
        }
        return got;
}

/* Hands the entities of @p l to the memory arm, each with its sum plus
 * that of @p other (the pooled list); with @p second set, an entity
 * @p other holds too was handed over with @p other already. */
static size_t q2e_fill(const state_list_t *l, const state_list_t *other,
                       int second, const ltrr_search_ids_t *ids,
                       struct ltrr_q2e_state_s *q2e)
{
        size_t i, got = 0;
        int64_t ent;

        for (i = 0; i < l->cnt; i++) {
                const state_ent_t *e = &l->ents[i];
                const state_ent_t *o = list_find(other, e->id);
                double v = e->value;

                if (o && second)
                        continue;
                if (o)
                        v += o->value;
                if ((ent = ltrr_search_ids_find(ids, e->id)) >= 0 &&
                    !ltrr_q2e_state_add(q2e, (uint32_t)ent, v))
                        got++;
        }
        return got;
}

size_t ltrr_search_state_arm_fill(const ltrr_search_state_t *st,
                                  const ltrr_index_t *ix,
                                  const ltrr_search_ids_t *ids,
                                  struct ltrr_q2e_state_s *q2e,
                                  struct ltrr_user_profile_s *prof)
{
        size_t got = 0;

        if (q2e) {
                ltrr_q2e_state_reset(q2e, st->q2e_n + st->q2e_alt_n,
                                     st->q2e_alpha);
                got += q2e_fill(&st->q2e, &st->q2e_alt, 0, ids, q2e);
                got += q2e_fill(&st->q2e_alt, &st->q2e, 1, ids, q2e);
        }
        if (prof)
                ltrr_user_profile_reset(prof);
        got += profile_fill(st, ids, prof);
        if (prof && prof->ents_cnt)
                ltrr_user_profile_derive(prof, ix); /* NOSPACE: a partial
                                                       profile still helps */
        return got;
}
