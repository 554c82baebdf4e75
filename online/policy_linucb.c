/*
 * ltrr - disjoint LinUCB.
 *
 * One ridge regression per (arm, budget) cell over the context vector:
 * A = sum x x^T and b = sum r x (decayed, from bstats), A' = A + lambda I.
 * The cell's score is the upper confidence bound
 * mu + alpha * sigma with mu = b^T A'^-1 x and sigma^2 = x^T A'^-1 x.
 * The allocation maximising the summed bounds runs with probability 1.
 */
#include <math.h>
#include <stdlib.h>

#include "bandit.h"
#include "bstats.h"
#include "linalg.h"

/* Moments of one cell from its statistics. a and l are dim x dim
 * scratch, x the context, w and z dim-vector scratch. */
static ltrr_err_t cell_moments(const ltrr_policy_conf_t *conf,
                               const ltrr_bstats_t *st, size_t arm,
                               size_t lvl, double now, const double *x,
                               double *a, double *l, double *w, double *z,
                               double *mu, double *sigma, char *errstr,
                               size_t errstr_size)
{
        size_t d = conf->space.dim, i;
        ltrr_err_t err;

        ltrr_bstats_linear_get(st, arm, lvl, now, a, z);
        for (i = 0; i < d; i++)
                a[i * d + i] += conf->lambda;
        err = ltrr_linalg_cholesky(a, l, d, errstr, errstr_size);
        if (err != LTRR_OK)
                return err;
        ltrr_linalg_solve_lower(l, x, w, d);
        ltrr_linalg_solve_lower(l, z, z, d);
        *mu = ltrr_linalg_dot(z, w, d);
        *sigma = sqrt(ltrr_linalg_dot(w, w, d));
        return LTRR_OK;
}

ltrr_err_t ltrr_bandit_linear_moments(const ltrr_policy_conf_t *conf,
                                      const ltrr_bandit_ctx_t *ctx,
                                      const ltrr_bstats_t *st,
                                      ltrr_bandit_scores_t mu,
                                      ltrr_bandit_scores_t sigma,
                                      char *errstr, size_t errstr_size)
{
        enum { D = LTRR_BANDIT_MAX_DIM };
        double a[D * D], l[D * D], x[D], w[D], z[D];
        size_t arm, lvl;
        ltrr_err_t err;

        ltrr_bandit_ctx_vector(ctx, x);
        for (arm = 0; arm < conf->space.n_arms; arm++)
                for (lvl = 0; lvl < conf->space.n_budgets; lvl++) {
                        err = cell_moments(conf, st, arm, lvl, ctx->now, x,
                                           a, l, w, z, &mu[arm][lvl],
                                           &sigma[arm][lvl], errstr,
                                           errstr_size);
                        if (err != LTRR_OK)
                                return err;
                }
        return LTRR_OK;
}

typedef struct linucb_s {
        ltrr_bandit_scores_t mu;    /* posterior mean reward per cell */
        ltrr_bandit_scores_t sigma; /* its standard deviation scale */
} linucb_t;

static ltrr_err_t linucb_init(void **impl, const ltrr_policy_conf_t *conf,
                              char *errstr, size_t errstr_size)
{
        *impl = calloc(1, sizeof(linucb_t));
        if (!*impl)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "linucb: out of memory");
        return LTRR_OK;
}

static void linucb_destroy(void *impl)
{
        free(impl);
}

static ltrr_err_t linucb_prepare(void *impl, const ltrr_policy_conf_t *conf,
                                 const ltrr_bandit_ctx_t *ctx,
                                 const ltrr_bstats_t *st, char *errstr,
                                 size_t errstr_size)
{
        linucb_t *lu = impl;

        return ltrr_bandit_linear_moments(conf, ctx, st, lu->mu, lu->sigma,
                                          errstr, errstr_size);
}

static void linucb_score(void *impl, const ltrr_policy_conf_t *conf,
                         ltrr_rng_t *rng, ltrr_bandit_scores_t scores)
{
        const linucb_t *lu = impl;
        size_t a, j;

        for (a = 0; a < conf->space.n_arms; a++)
                for (j = 0; j < conf->space.n_budgets; j++)
                        scores[a][j] =
                                lu->mu[a][j] + conf->alpha * lu->sigma[a][j];
}

const ltrr_policy_ops_t ltrr_policy_linucb_ops = {
        .name = "linucb",
        .mode = LTRR_POLICY_MODE_DETERMINISTIC,
        .init = linucb_init,
        .destroy = linucb_destroy,
        .prepare = linucb_prepare,
        .score = linucb_score,
};
