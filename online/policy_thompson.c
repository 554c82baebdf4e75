/*
 * ltrr - Beta-Bernoulli Thompson sampling per (context bucket, arm,
 * budget).
 *
 * The statistics passed to a decision are the bucket's. Each cell's
 * posterior is Beta(prior_alpha + k, prior_beta + n - k) with the decayed
 * count n and k = s clamped to [0, n] (negative rewards count as
 * failures). A draw samples every cell, available or not, so the number
 * of random numbers used per draw never depends on availability.
 */
#include <stdlib.h>

#include "bandit.h"
#include "bstats.h"

typedef struct thompson_s {
        ltrr_bandit_scores_t a; /* posterior alpha per cell */
        ltrr_bandit_scores_t b; /* posterior beta per cell */
} thompson_t;

static ltrr_err_t thompson_init(void **impl, const ltrr_policy_conf_t *conf,
                                char *errstr, size_t errstr_size)
{
        *impl = calloc(1, sizeof(thompson_t));
        if (!*impl)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "thompson: out of memory");
        return LTRR_OK;
}

static void thompson_destroy(void *impl)
{
        free(impl);
}

static ltrr_err_t thompson_prepare(void *impl, const ltrr_policy_conf_t *conf,
                                   const ltrr_bandit_ctx_t *ctx,
                                   const ltrr_bstats_t *st, char *errstr,
                                   size_t errstr_size)
{
        thompson_t *ts = impl;
        ltrr_bstats_cell_t c;
        double k, n;
        size_t a, j;

        for (a = 0; a < conf->space.n_arms; a++)
                for (j = 0; j < conf->space.n_budgets; j++) {
                        ltrr_bstats_cell_get(st, a, j, ctx->now, &c);
                        n = c.n > 0.0 ? c.n : 0.0;
                        k = c.s < 0.0 ? 0.0 : c.s > n ? n : c.s;
                        ts->a[a][j] = conf->prior_alpha + k;
                        ts->b[a][j] = conf->prior_beta + (n - k);
                }
        return LTRR_OK;
}

static void thompson_score(void *impl, const ltrr_policy_conf_t *conf,
                           ltrr_rng_t *rng, ltrr_bandit_scores_t scores)
{
        const thompson_t *ts = impl;
        size_t a, j;

        for (a = 0; a < conf->space.n_arms; a++)
                for (j = 0; j < conf->space.n_budgets; j++)
                        scores[a][j] = ltrr_rng_beta(rng, ts->a[a][j],
                                                     ts->b[a][j]);
}

const ltrr_policy_ops_t ltrr_policy_thompson_ops = {
        .name = "thompson",
        .mode = LTRR_POLICY_MODE_SAMPLED,
        .init = thompson_init,
        .destroy = thompson_destroy,
        .prepare = thompson_prepare,
        .score = thompson_score,
};
