/*
 * ltrr - training examples for the ranker from logged impressions and
 * rewards (see ranker_train.h and docs/TRAIN_RANKER.md).
 *
 * Nothing of a record is kept as a string: entity ids are kept as their
 * FNV-1a 64 hash, which is all the join needs (an engaged entity is
 * matched among one impression's results, where a collision is
 * negligible), and (query, entity) pairs for the propensity EM are
 * hashed the same way.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arm.h"
#include "ranker_train.h"

#define RT_EMPTY UINT32_MAX
#define RT_DAY_MS 86400000LL

/* Open-addressing map from a 64-bit key to a 32-bit value. */
typedef struct rt_map_s {
        uint64_t *keys;  /* cap entries */
        uint32_t *vals;  /* cap entries; RT_EMPTY marks a free slot */
        size_t cap;      /* power of two */
        size_t cnt;      /* slots used */
} rt_map_t;

/* One shown result of an impression. */
typedef struct rt_res_s {
        uint64_t ent;                        /* FNV-1a 64 of entity id */
        uint64_t pair;                       /* hash of (query, entity) */
        float arm_score[LTRR_RANKER_NARMS];  /* score per arm slot */
        float popularity;                    /* from the index, or 0 */
        float age_days;                      /* from the index, or -1 */
        uint16_t position;                   /* 1-based */
        uint8_t found_mask;                  /* logged arm mask, 8 bits */
        uint8_t label;                       /* 1 once engaged */
} rt_res_t;

/* One impression. */
typedef struct rt_imp_s {
        ltrr_id128_t id;   /* impression id */
        size_t first;      /* index of its first result */
        uint16_t nres;     /* results kept */
        uint8_t rewarded;  /* 1 once a reward joined */
} rt_imp_t;

/* One reward, as much of it as the join needs. */
typedef struct rt_rew_s {
        ltrr_id128_t imp;   /* impression id */
        uint64_t ent;       /* engaged entity hash; 0 if none */
        int32_t position;   /* engaged position (0-based), -1 if none */
        double value;       /* engagement strength */
} rt_rew_t;

struct ltrr_ranker_train_s {
        ltrr_ranker_train_conf_t conf;   /* copied at _new() */
        rt_map_t ents;                   /* index id hash -> entity */
        rt_map_t imps_by_id;             /* impression id hash -> imp */
        rt_imp_t *imps;                  /* conf.max_impressions max */
        size_t nimps, imps_cap;          /* used, allocated */
        rt_res_t *res;                   /* results of all impressions */
        size_t nres, res_cap;            /* used, allocated */
        rt_rew_t *rews;                  /* conf.max_rewards max */
        size_t nrews, rews_cap;          /* used, allocated */
        ltrr_ranker_example_t *ex;       /* built examples */
        size_t nex;                      /* examples */
        ltrr_pbias_table_t pbias;        /* estimated table */
        int built;                       /* 1 after _build() */
        ltrr_ranker_train_stats_t st;    /* counts */
};

static uint64_t rt_fnv(uint64_t h, const void *p, size_t len)
{
        const uint8_t *b = p;
        size_t i;

        for (i = 0; i < len; i++) {
                h ^= b[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

static uint64_t rt_str_hash(const char *s)
{
        return rt_fnv(0xcbf29ce484222325ULL, s, strlen(s));
}

static uint64_t rt_mix(uint64_t k)
{
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdULL;
        k ^= k >> 33;
        return k;
}

static void rt_map_free(rt_map_t *m)
{
        free(m->keys);
        free(m->vals);
        memset(m, 0, sizeof(*m));
}

/* Slot of @key: its own, or the free slot where it would go. */
static size_t rt_map_slot(const rt_map_t *m, uint64_t key)
{
        size_t i = (size_t)rt_mix(key) & (m->cap - 1);

        while (m->vals[i] != RT_EMPTY && m->keys[i] != key)
                i = (i + 1) & (m->cap - 1);
        return i;
}

/* Value of @key, or RT_EMPTY. */
static uint32_t rt_map_get(const rt_map_t *m, uint64_t key)
{
        return m->cap ? m->vals[rt_map_slot(m, key)] : RT_EMPTY;
}

/* Resizes to @cap slots (a power of two above cnt). -1 out of memory. */
static int rt_map_grow(rt_map_t *m, size_t cap)
{
        rt_map_t n = {NULL, NULL, cap, 0};
        size_t i;

        n.keys = malloc(cap * sizeof(*n.keys));
        n.vals = malloc(cap * sizeof(*n.vals));
        if (!n.keys || !n.vals) {
                rt_map_free(&n);
                return -1;
        }
        memset(n.vals, 0xff, cap * sizeof(*n.vals));
        for (i = 0; i < m->cap; i++) {
                if (m->vals[i] == RT_EMPTY)
                        continue;
                size_t s = rt_map_slot(&n, m->keys[i]);
                n.keys[s] = m->keys[i];
                n.vals[s] = m->vals[i];
                n.cnt++;
        }
        rt_map_free(m);
        *m = n;
        return 0;
}

/* Sets @key to @val unless present; *old receives the value found or
 * RT_EMPTY. -1 out of memory. */
static int rt_map_put(rt_map_t *m, uint64_t key, uint32_t val,
                      uint32_t *old)
{
        size_t s;

        if ((m->cnt + 1) * 2 > m->cap &&
            rt_map_grow(m, m->cap ? m->cap * 2 : 64))
                return -1;
        s = rt_map_slot(m, key);
        *old = m->vals[s];
        if (*old == RT_EMPTY) {
                m->keys[s] = key;
                m->vals[s] = val;
                m->cnt++;
        }
        return 0;
}

/* Makes room for one more element of @size bytes in *arr (cap doubling).
 * -1 out of memory. */
static int rt_reserve(void **arr, size_t *cap, size_t used, size_t add,
                      size_t size)
{
        size_t ncap = *cap ? *cap : 256;
        void *p;

        if (used + add <= *cap)
                return 0;
        while (ncap < used + add)
                ncap *= 2;
        p = realloc(*arr, ncap * size);
        if (!p)
                return -1;
        *arr = p;
        *cap = ncap;
        return 0;
}

void ltrr_ranker_train_conf_default(ltrr_ranker_train_conf_t *conf)
{
        memset(conf, 0, sizeof(*conf));
        conf->max_impressions = 1000000;
        conf->max_rewards = 4000000;
        conf->pbias_npos = 10;
        conf->pbias_floor = LTRR_PBIAS_DEFAULT_FLOOR;
        conf->pbias_iters = 50;
}

/* Hashes every entity id of the index into rt->ents. */
static ltrr_err_t rt_index_load(ltrr_ranker_train_t *rt, char *errstr,
                                size_t errstr_size)
{
        uint32_t i, n = ltrr_index_count(rt->conf.index), old;
        ltrr_index_entity_t e;

        for (i = 0; i < n; i++) {
                if (ltrr_index_entity(rt->conf.index, i, &e))
                        continue;
                if (rt_map_put(&rt->ents, rt_str_hash(e.id), i, &old))
                        return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                         "out of memory hashing the index");
        }
        return LTRR_OK;
}

ltrr_ranker_train_t *ltrr_ranker_train_new(const ltrr_ranker_train_conf_t *conf,
                                           char *errstr, size_t errstr_size)
{
        ltrr_ranker_train_t *rt;
        ltrr_ranker_train_conf_t c;

        if (conf)
                c = *conf;
        else
                ltrr_ranker_train_conf_default(&c);
        if (c.max_impressions < 1 ||
            c.max_impressions > LTRR_RANKER_TRAIN_MAX_RECORDS ||
            c.max_rewards < 1 || c.max_rewards > LTRR_RANKER_TRAIN_MAX_RECORDS ||
            c.pbias_npos < 1 || c.pbias_npos > LTRR_PBIAS_MAX_POS ||
            !(c.pbias_floor > 0 && c.pbias_floor <= 1) ||
            c.pbias_iters < 1 || c.pbias_iters > 10000) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "ranker_train: limits out of range");
                return NULL;
        }
        if (!(rt = calloc(1, sizeof(*rt)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "ranker_train: out of memory");
                return NULL;
        }
        rt->conf = c;
        if (c.index && rt_index_load(rt, errstr, errstr_size)) {
                ltrr_ranker_train_destroy(rt);
                return NULL;
        }
        return rt;
}

void ltrr_ranker_train_destroy(ltrr_ranker_train_t *rt)
{
        if (!rt)
                return;
        rt_map_free(&rt->ents);
        rt_map_free(&rt->imps_by_id);
        free(rt->imps);
        free(rt->res);
        free(rt->rews);
        free(rt->ex);
        free(rt);
}

/* Score of @ent among the candidates of arm decision @ad, or 0. */
static float rt_cand_score(const ltrr_arm_decision_t *ad, const char *ent)
{
        size_t i;

        for (i = 0; i < ad->candidate_cnt; i++)
                if (ad->candidates[i].entity_id &&
                    !strcmp(ad->candidates[i].entity_id, ent))
                        return isfinite(ad->candidates[i].score) &&
                                       ad->candidates[i].score > 0
                                   ? ad->candidates[i].score
                                   : 0.0f;
        return 0.0f;
}

/* Fills the entity features of @r from the index. */
static void rt_res_entity(ltrr_ranker_train_t *rt, const ltrr_impression_t *imp,
                          rt_res_t *r)
{
        ltrr_index_entity_t e;
        uint32_t idx;

        r->popularity = 0;
        r->age_days = -1;
        if (!rt->conf.index)
                return;
        idx = rt_map_get(&rt->ents, r->ent);
        if (idx == RT_EMPTY || ltrr_index_entity(rt->conf.index, idx, &e)) {
                rt->st.index_misses++;
                return;
        }
        r->popularity = e.popularity > 0 ? e.popularity : 0;
        if (e.release_days > 0)
                r->age_days = (float)(imp->event_time_ms / RT_DAY_MS -
                                      e.release_days);
}

/* Fills result @r from logged result @lr of @imp. The arm slot of a
 * decision is the arm's registry id, as serving uses it (search.c). */
static void rt_res_fill(ltrr_ranker_train_t *rt, const ltrr_impression_t *imp,
                        const ltrr_result_t *lr, rt_res_t *r)
{
        const char *q = imp->query_norm ? imp->query_norm : "";
        size_t a;

        memset(r, 0, sizeof(*r));
        r->ent = rt_str_hash(lr->entity_id);
        r->pair = rt_fnv(rt_fnv(rt_str_hash(q), "\0", 1), lr->entity_id,
                         strlen(lr->entity_id));
        r->position = (uint16_t)(lr->position >= 0 ? lr->position + 1 : 1);
        r->found_mask = (uint8_t)(lr->arm_mask & 0xff);
        for (a = 0; a < imp->arm_cnt; a++) {
                const ltrr_arm_decision_t *ad = &imp->arms[a];
                int slot = ad->arm ? ltrr_arm_find(ad->arm) : -1;

                if (slot < 0 || slot >= LTRR_RANKER_NARMS || !ad->ran)
                        continue;
                r->arm_score[slot] = rt_cand_score(ad, lr->entity_id);
        }
        rt_res_entity(rt, imp, r);
}

ltrr_err_t ltrr_ranker_train_add_impression(ltrr_ranker_train_t *rt,
                                            const ltrr_impression_t *imp,
                                            char *errstr, size_t errstr_size)
{
        size_t i, n = imp->result_cnt;
        uint32_t old;
        rt_imp_t *ti;

        if (rt->built)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "ranker_train: examples already built");
        if (rt->nimps >= rt->conf.max_impressions)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "ranker_train: more than %zu impressions",
                                 rt->conf.max_impressions);
        if (n > LTRR_RANKER_TRAIN_MAX_RESULTS) {
                rt->st.results_dropped += n - LTRR_RANKER_TRAIN_MAX_RESULTS;
                n = LTRR_RANKER_TRAIN_MAX_RESULTS;
        }
        if (rt_reserve((void **)&rt->imps, &rt->imps_cap, rt->nimps, 1,
                       sizeof(*rt->imps)) ||
            rt_reserve((void **)&rt->res, &rt->res_cap, rt->nres, n,
                       sizeof(*rt->res)) ||
            rt_map_put(&rt->imps_by_id,
                       rt_fnv(0xcbf29ce484222325ULL, imp->impression_id.b, 16),
                       (uint32_t)rt->nimps, &old))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "ranker_train: out of memory");
        if (old != RT_EMPTY) {
                rt->st.dup_impressions++;
                return LTRR_OK;
        }
        ti = &rt->imps[rt->nimps++];
        ti->id = imp->impression_id;
        ti->first = rt->nres;
        ti->nres = 0;
        ti->rewarded = 0;
        for (i = 0; i < n; i++) {
                if (!imp->results[i].entity_id)
                        continue;
                rt_res_fill(rt, imp, &imp->results[i], &rt->res[rt->nres++]);
                ti->nres++;
        }
        rt->st.impressions = rt->nimps;
        return LTRR_OK;
}

ltrr_err_t ltrr_ranker_train_add_reward(ltrr_ranker_train_t *rt,
                                        const ltrr_reward_t *rew,
                                        char *errstr, size_t errstr_size)
{
        rt_rew_t *r;

        if (rt->built)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "ranker_train: examples already built");
        if (!isfinite(rew->value))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "ranker_train: reward value not finite");
        if (rt->nrews >= rt->conf.max_rewards)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "ranker_train: more than %zu rewards",
                                 rt->conf.max_rewards);
        if (rt_reserve((void **)&rt->rews, &rt->rews_cap, rt->nrews, 1,
                       sizeof(*rt->rews)))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "ranker_train: out of memory");
        r = &rt->rews[rt->nrews++];
        r->imp = rew->impression_id;
        r->ent = rew->engaged_entity ? rt_str_hash(rew->engaged_entity) : 0;
        r->position = rew->has_position ? rew->position : -1;
        r->value = rew->value;
        rt->st.rewards = rt->nrews;
        return LTRR_OK;
}

/* Decodes and adds one framed record; counts it bad on a decode error. */
static ltrr_err_t rt_read_one(ltrr_ranker_train_t *rt, ltrr_avro_decoder_t *dec,
                              const uint8_t *p, size_t len, char *errstr,
                              size_t errstr_size)
{
        ltrr_avro_record_t rec;
        ltrr_err_t err;

        err = ltrr_avro_decode(dec, p, len, &rec, errstr, errstr_size);
        if (err) {
                rt->st.bad_records++;
                return err;
        }
        if (rec.type == LTRR_AVRO_IMPRESSION)
                return ltrr_ranker_train_add_impression(rt, &rec.u.imp,
                                                        errstr, errstr_size);
        if (rec.type == LTRR_AVRO_REWARD)
                return ltrr_ranker_train_add_reward(rt, &rec.u.rew, errstr,
                                                    errstr_size);
        return LTRR_OK;
}

ltrr_err_t ltrr_ranker_train_read(ltrr_ranker_train_t *rt,
                                  ltrr_avro_decoder_t *dec,
                                  const uint8_t *data, size_t len,
                                  size_t max_bad, char *errstr,
                                  size_t errstr_size)
{
        const uint8_t *rec;
        size_t off = 0, bad = 0, rec_len, bad0;
        ltrr_err_t err;

        while (off < len) {
                if ((err = ltrr_avro_frame_next(data, len, &off,
                                                LTRR_RANKER_TRAIN_FRAME_MAX,
                                                &rec, &rec_len, errstr,
                                                errstr_size)))
                        return err;
                bad0 = rt->st.bad_records;
                err = rt_read_one(rt, dec, rec, rec_len, errstr, errstr_size);
                if (err && rt->st.bad_records == bad0)
                        return err; /* a trainer error, not a bad record */
                if (err && ++bad > max_bad)
                        return err;
        }
        return LTRR_OK;
}

/* Result of @imp engaged by reward @rw: by entity, else by position;
 * NULL when none. */
static rt_res_t *rt_engaged(ltrr_ranker_train_t *rt, const rt_imp_t *imp,
                            const rt_rew_t *rw)
{
        size_t j;

        if (rw->ent)
                for (j = 0; j < imp->nres; j++)
                        if (rt->res[imp->first + j].ent == rw->ent)
                                return &rt->res[imp->first + j];
        if (!rw->ent && rw->position >= 0)
                for (j = 0; j < imp->nres; j++)
                        if (rt->res[imp->first + j].position ==
                            rw->position + 1)
                                return &rt->res[imp->first + j];
        return NULL;
}

/* Applies every reward to its impression. */
static void rt_join(ltrr_ranker_train_t *rt)
{
        size_t i;

        for (i = 0; i < rt->nrews; i++) {
                const rt_rew_t *rw = &rt->rews[i];
                uint32_t k = rt_map_get(
                    &rt->imps_by_id,
                    rt_fnv(0xcbf29ce484222325ULL, rw->imp.b, 16));
                rt_res_t *r;

                if (k == RT_EMPTY ||
                    memcmp(rt->imps[k].id.b, rw->imp.b, 16)) {
                        rt->st.orphan_rewards++;
                        continue;
                }
                if (!rt->imps[k].rewarded)
                        rt->st.rewarded++;
                rt->imps[k].rewarded = 1;
                if (!(rw->value > 0))
                        continue;
                if (!(r = rt_engaged(rt, &rt->imps[k], rw)))
                        rt->st.unmatched_rewards++;
                else if (r->label)
                        rt->st.dup_rewards++;
                else
                        r->label = 1;
        }
}

/* Writes the examples of impression @imp at rt->ex + rt->nex. */
static void rt_examples_one(ltrr_ranker_train_t *rt, const rt_imp_t *imp,
                            ltrr_ranker_cand_t *cands, float *x)
{
        int lex = ltrr_arm_find("lexical");
        size_t j, f;

        for (j = 0; j < imp->nres; j++) {
                const rt_res_t *r = &rt->res[imp->first + j];
                ltrr_ranker_cand_t *c = &cands[j];

                memset(c, 0, sizeof(*c));
                memcpy(c->arm_score, r->arm_score, sizeof(c->arm_score));
                c->found_mask = r->found_mask;
                if (lex >= 0 && lex < LTRR_RANKER_NARMS)
                        c->bm25 = r->arm_score[lex];
                c->popularity = r->popularity;
                c->age_days = r->age_days;
        }
        (void)ltrr_ranker_features_build(cands, imp->nres, x);
        for (j = 0; j < imp->nres; j++) {
                const rt_res_t *r = &rt->res[imp->first + j];
                ltrr_ranker_example_t *e = &rt->ex[rt->nex++];

                for (f = 0; f < LTRR_RANKER_NFEAT; f++)
                        e->x[f] = x[j * LTRR_RANKER_NFEAT + f];
                e->label = r->label ? 1.0f : 0.0f;
                e->position = r->position;
                e->weight = 1.0f;
                rt->st.positives += r->label;
        }
}

/* Estimates the propensity table by EM over the examples' results. */
static void rt_pbias(ltrr_ranker_train_t *rt)
{
        ltrr_pbias_obs_t *obs = NULL;
        rt_map_t pairs = {NULL, NULL, 0, 0};
        size_t i, j, n = 0;
        int npos = 1;

        if (!rt->nex || !(obs = malloc(rt->nex * sizeof(*obs))))
                goto done;
        for (i = 0; i < rt->nimps; i++) {
                if (!rt->imps[i].rewarded)
                        continue;
                for (j = 0; j < rt->imps[i].nres; j++) {
                        const rt_res_t *r = &rt->res[rt->imps[i].first + j];
                        uint32_t old;

                        if (rt_map_put(&pairs, r->pair, (uint32_t)pairs.cnt,
                                       &old))
                                goto done;
                        obs[n].pair = old != RT_EMPTY ? old
                                                      : (uint32_t)pairs.cnt - 1;
                        obs[n].position = r->position;
                        obs[n].clicked = r->label;
                        obs[n].randomized = 0;
                        if (r->position > npos)
                                npos = r->position;
                        n++;
                }
        }
        if (npos > rt->conf.pbias_npos)
                npos = rt->conf.pbias_npos;
        rt->st.pbias_ok =
            ltrr_pbias_estimate_em(obs, n, pairs.cnt, npos,
                                   rt->conf.pbias_floor, rt->conf.pbias_iters,
                                   &rt->pbias, NULL, 0) == LTRR_OK;
done:
        rt_map_free(&pairs);
        free(obs);
}

ltrr_err_t ltrr_ranker_train_build(ltrr_ranker_train_t *rt, char *errstr,
                                   size_t errstr_size)
{
        ltrr_ranker_cand_t *cands = NULL;
        float *x = NULL;
        size_t i;

        if (rt->built)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "ranker_train: examples already built");
        /* Room for every result, allocated before the join so that a
         * failure leaves the trainer as it was. */
        cands = malloc(LTRR_RANKER_TRAIN_MAX_RESULTS * sizeof(*cands));
        x = malloc(LTRR_RANKER_TRAIN_MAX_RESULTS * LTRR_RANKER_NFEAT *
                   sizeof(*x));
        rt->ex = malloc((rt->nres ? rt->nres : 1) * sizeof(*rt->ex));
        if (!cands || !x || !rt->ex) {
                free(cands);
                free(x);
                free(rt->ex);
                rt->ex = NULL;
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "ranker_train: out of memory for %zu "
                                 "examples", rt->nres);
        }
        rt_join(rt);
        for (i = 0; i < rt->nimps; i++)
                if (rt->imps[i].rewarded)
                        rt_examples_one(rt, &rt->imps[i], cands, x);
        free(cands);
        free(x);
        rt->st.examples = rt->nex;
        rt_pbias(rt);
        rt->built = 1;
        return LTRR_OK;
}

const ltrr_ranker_example_t *
ltrr_ranker_train_examples(const ltrr_ranker_train_t *rt, size_t *n)
{
        *n = rt->nex;
        return rt->ex;
}

const ltrr_pbias_table_t *ltrr_ranker_train_pbias(const ltrr_ranker_train_t *rt)
{
        return rt->st.pbias_ok ? &rt->pbias : NULL;
}

void ltrr_ranker_train_stats(const ltrr_ranker_train_t *rt,
                             ltrr_ranker_train_stats_t *st)
{
        *st = rt->st;
}

ltrr_err_t ltrr_ranker_train_eval(const ltrr_ranker_t *rk,
                                  const ltrr_ranker_example_t *ex, size_t n,
                                  double *logloss, double *auc)
{
        float *s = NULL, *y = NULL;
        double loss = 0;
        size_t i;

        *logloss = 0;
        *auc = 0.5;
        if (!n)
                return LTRR_OK;
        s = malloc(n * sizeof(*s));
        y = malloc(n * sizeof(*y));
        if (!s || !y) {
                free(s);
                free(y);
                return LTRR_ERR_NOMEM;
        }
        for (i = 0; i < n; i++) {
                double p = ltrr_ranker_predict(rk, ex[i].x);

                p = p < 1e-12 ? 1e-12 : p > 1 - 1e-12 ? 1 - 1e-12 : p;
                loss -= ex[i].label > 0 ? log(p) : log(1 - p);
                ltrr_ranker_score(rk, ex[i].x, 1, &s[i]);
                y[i] = ex[i].label;
        }
        *logloss = loss / (double)n;
        *auc = ltrr_ranker_auc(s, y, n);
        free(s);
        free(y);
        return *auc < 0 ? LTRR_ERR_NOMEM : LTRR_OK;
}
