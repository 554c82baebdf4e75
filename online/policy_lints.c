/*
 * ltrr - linear Thompson sampling.
 *
 * Same statistics as LinUCB. Sampling theta ~ N(theta_hat, v^2 A'^-1)
 * and scoring theta^T x gives a normal score with mean mu = theta_hat^T x
 * and variance v^2 x^T A'^-1 x = (v sigma)^2, so a draw samples that
 * scalar directly: mu + v sigma g with g ~ N(0, 1). This is the same
 * distribution as sampling the full vector, at O(1) per cell and draw.
 * Every cell is drawn, available or not.
 */
#include <stdlib.h>

#include "bandit.h"
#include "bstats.h"

typedef struct lints_s {
        ltrr_bandit_scores_t mu;    /* posterior mean reward per cell */
        ltrr_bandit_scores_t sigma; /* sqrt(x^T A'^-1 x) per cell */
} lints_t;

static ltrr_err_t lints_init(void **impl, const ltrr_policy_conf_t *conf,
                             char *errstr, size_t errstr_size)
{
        *impl = calloc(1, sizeof(lints_t));
        if (!*impl)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "lints: out of memory");
        return LTRR_OK;
}

static void lints_destroy(void *impl)
{
        free(impl);
}

static ltrr_err_t lints_prepare(void *impl, const ltrr_policy_conf_t *conf,
                                const ltrr_bandit_ctx_t *ctx,
                                const ltrr_bstats_t *st, char *errstr,
                                size_t errstr_size)
{
        lints_t *lt = impl;

        return ltrr_bandit_linear_moments(conf, ctx, st, lt->mu, lt->sigma,
                                          errstr, errstr_size);
}

static void lints_score(void *impl, const ltrr_policy_conf_t *conf,
                        ltrr_rng_t *rng, ltrr_bandit_scores_t scores)
{
        const lints_t *lt = impl;
        size_t a, j;

        for (a = 0; a < conf->space.n_arms; a++)
                for (j = 0; j < conf->space.n_budgets; j++)
                        scores[a][j] = lt->mu[a][j] +
                                       conf->v * lt->sigma[a][j] *
                                               ltrr_rng_gauss(rng);
}

const ltrr_policy_ops_t ltrr_policy_lints_ops = {
        .name = "lints",
        .mode = LTRR_POLICY_MODE_SAMPLED,
        .init = lints_init,
        .destroy = lints_destroy,
        .prepare = lints_prepare,
        .score = lints_score,
};
