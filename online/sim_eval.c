/*
 * ltrr - evaluation of simulated searches: success@1/@10, nDCG@10,
 * candidates retrieved and per-arm traffic, in total, per intent kind and
 * as a time series of buckets over query numbers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

struct ltrr_sim_eval_s {
        uint64_t width;                                 /* queries per bucket */
        size_t used;                                    /* buckets in use */
        ltrr_sim_stats_t buckets[LTRR_SIM_BUCKETS_MAX]; /* time series */
        ltrr_sim_stats_t total;                         /* every query */
        ltrr_sim_stats_t kinds[LTRR_SIM_KIND__CNT];     /* per intent kind */
};

/* DCG of the first @k of @n grades. */
static double dcg(const uint8_t *g, size_t n, size_t k)
{
        double s = 0;
        size_t i;

        for (i = 0; i < n && i < k; i++)
                s += (pow(2.0, g[i]) - 1.0) / log2((double)i + 2.0);
        return s;
}

double ltrr_sim_ndcg(const uint8_t *grades, size_t n, const uint8_t *ideal,
                     size_t ideal_n, size_t k)
{
        double best = dcg(ideal, ideal_n, k);

        return best > 0 ? dcg(grades, n, k) / best : 0.0;
}

int ltrr_sim_success(const uint8_t *grades, size_t n, size_t k)
{
        size_t i;

        for (i = 0; i < n && i < k; i++)
                if (grades[i] >= LTRR_SIM_GRADE_GOOD)
                        return 1;
        return 0;
}

ltrr_sim_eval_t *ltrr_sim_eval_new(uint64_t bucket_queries, char *errstr,
                                   size_t errstr_size)
{
        ltrr_sim_eval_t *ev;

        if (!bucket_queries) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "sim: bucket width must be > 0");
                return NULL;
        }
        if (!(ev = calloc(1, sizeof(*ev)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "sim: out of memory");
                return NULL;
        }
        ev->width = bucket_queries;
        return ev;
}

void ltrr_sim_eval_destroy(ltrr_sim_eval_t *ev)
{
        free(ev);
}

/* Adds @b into @a. */
static void stats_merge(ltrr_sim_stats_t *a, const ltrr_sim_stats_t *b)
{
        int i;

        if (!b->queries)
                return;
        if (!a->queries || b->first_seq < a->first_seq)
                a->first_seq = b->first_seq;
        a->queries += b->queries;
        a->success1 += b->success1;
        a->success10 += b->success10;
        a->ndcg_sum += b->ndcg_sum;
        a->cand_queries += b->cand_queries;
        a->cand_sum += b->cand_sum;
        a->actions += b->actions;
        for (i = 0; i < LTRR_SIM_ARM__CNT; i++)
                a->arm_queries[i] += b->arm_queries[i];
}

/* Doubles the bucket width, merging neighbours, until @seq fits. */
static void widen(ltrr_sim_eval_t *ev, uint64_t seq)
{
        size_t i;

        while (seq / ev->width >= LTRR_SIM_BUCKETS_MAX) {
                for (i = 0; i < LTRR_SIM_BUCKETS_MAX / 2; i++) {
                        ev->buckets[i] = ev->buckets[2 * i];
                        stats_merge(&ev->buckets[i], &ev->buckets[2 * i + 1]);
                }
                memset(&ev->buckets[LTRR_SIM_BUCKETS_MAX / 2], 0,
                       sizeof(ev->buckets) / 2);
                ev->width *= 2;
                ev->used = (ev->used + 1) / 2;
        }
}

void ltrr_sim_eval_add(ltrr_sim_eval_t *ev, const ltrr_sim_obs_t *obs)
{
        ltrr_sim_stats_t one;
        size_t b;
        int i;

        memset(&one, 0, sizeof(one));
        one.queries = 1;
        one.first_seq = obs->seq;
        one.success1 = (uint64_t)ltrr_sim_success(obs->grades, obs->n, 1);
        one.success10 =
            (uint64_t)ltrr_sim_success(obs->grades, obs->n, LTRR_SIM_K);
        one.ndcg_sum = ltrr_sim_ndcg(obs->grades, obs->n, obs->ideal,
                                     obs->ideal_n, LTRR_SIM_K);
        if (obs->candidates >= 0) {
                one.cand_queries = 1;
                one.cand_sum = obs->candidates;
        }
        one.actions = obs->actions;
        for (i = 0; i < LTRR_SIM_ARM__CNT; i++)
                one.arm_queries[i] = (obs->arms >> i) & 1u;
        widen(ev, obs->seq);
        b = (size_t)(obs->seq / ev->width);
        stats_merge(&ev->buckets[b], &one);
        if (b + 1 > ev->used)
                ev->used = b + 1;
        stats_merge(&ev->total, &one);
        if ((unsigned)obs->kind < LTRR_SIM_KIND__CNT)
                stats_merge(&ev->kinds[obs->kind], &one);
}

void ltrr_sim_eval_total(const ltrr_sim_eval_t *ev, int kind,
                         ltrr_sim_stats_t *out)
{
        if (kind < 0)
                *out = ev->total;
        else if (kind < LTRR_SIM_KIND__CNT)
                *out = ev->kinds[kind];
        else
                memset(out, 0, sizeof(*out));
}

size_t ltrr_sim_eval_buckets(const ltrr_sim_eval_t *ev)
{
        return ev->used;
}

uint64_t ltrr_sim_eval_bucket_width(const ltrr_sim_eval_t *ev)
{
        return ev->width;
}

void ltrr_sim_eval_bucket(const ltrr_sim_eval_t *ev, size_t i,
                          ltrr_sim_stats_t *out)
{
        if (i < ev->used)
                *out = ev->buckets[i];
        else
                memset(out, 0, sizeof(*out));
}
