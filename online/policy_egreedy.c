/*
 * ltrr - epsilon-greedy policy.
 *
 * Scores each (arm, budget) cell by its posterior mean reward under a
 * Beta(prior_alpha, prior_beta) prior: (prior_alpha + s) / (prior_alpha +
 * prior_beta + n), with n and s decayed to the decision time. The greedy
 * allocation and the epsilon exploration are done in bandit.c, where the
 * exact probabilities are computed.
 */
#include <stdlib.h>

#include "bandit.h"
#include "bstats.h"

typedef struct egreedy_s {
        ltrr_bandit_scores_t mean; /* cell means for the current decision */
} egreedy_t;

static ltrr_err_t egreedy_init(void **impl, const ltrr_policy_conf_t *conf,
                               char *errstr, size_t errstr_size)
{
        *impl = calloc(1, sizeof(egreedy_t));
        if (!*impl)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "egreedy: out of memory");
        return LTRR_OK;
}

static void egreedy_destroy(void *impl)
{
        free(impl);
}

static ltrr_err_t egreedy_prepare(void *impl, const ltrr_policy_conf_t *conf,
                                  const ltrr_bandit_ctx_t *ctx,
                                  const ltrr_bstats_t *st, char *errstr,
                                  size_t errstr_size)
{
        egreedy_t *eg = impl;
        ltrr_bstats_cell_t c;
        size_t a, j;

        for (a = 0; a < conf->space.n_arms; a++)
                for (j = 0; j < conf->space.n_budgets; j++) {
                        ltrr_bstats_cell_get(st, a, j, ctx->now, &c);
                        eg->mean[a][j] =
                                (conf->prior_alpha + c.s) /
                                (conf->prior_alpha + conf->prior_beta + c.n);
                }
        return LTRR_OK;
}

static void egreedy_score(void *impl, const ltrr_policy_conf_t *conf,
                          ltrr_rng_t *rng, ltrr_bandit_scores_t scores)
{
        const egreedy_t *eg = impl;
        size_t a, j;

        for (a = 0; a < conf->space.n_arms; a++)
                for (j = 0; j < conf->space.n_budgets; j++)
                        scores[a][j] = eg->mean[a][j];
}

const ltrr_policy_ops_t ltrr_policy_egreedy_ops = {
        .name = "egreedy",
        .mode = LTRR_POLICY_MODE_EPSILON,
        .init = egreedy_init,
        .destroy = egreedy_destroy,
        .prepare = egreedy_prepare,
        .score = egreedy_score,
};
