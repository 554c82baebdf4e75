/*
 * ltrr - examination propensity per result position (see position_bias.h).
 */
#include "position_bias.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Keeps EM probabilities away from 0 and 1 so no ratio divides by 0. */
#define PBIAS_EPS 1e-6

/* Largest EM iteration count accepted. */
#define PBIAS_MAX_ITERS 10000

static ltrr_err_t pbias_check_args(int npos, double floor, char *errstr,
                                   size_t errstr_size)
{
        if (npos < 1 || npos > LTRR_PBIAS_MAX_POS)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "npos %d outside 1..%d", npos,
                                 LTRR_PBIAS_MAX_POS);
        if (!(floor > 0.0 && floor <= 1.0))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "floor %g outside (0, 1]", floor);
        return LTRR_OK;
}

ltrr_err_t ltrr_pbias_table_init(ltrr_pbias_table_t *tab, int npos,
                                 double floor, char *errstr,
                                 size_t errstr_size)
{
        ltrr_err_t err;
        int p;

        err = pbias_check_args(npos, floor, errstr, errstr_size);
        if (err)
                return err;
        memset(tab, 0, sizeof(*tab));
        tab->npos = npos;
        tab->floor = floor;
        for (p = 0; p < npos; p++)
                tab->prop[p] = 1.0;
        return LTRR_OK;
}

/*
 * Turns raw per-position examination estimates est[0..npos-1] (with
 * est[0] > 0) into the table: divides by est[0], clamps to [floor, 1],
 * and gives positions without observations the value of the one above.
 */
static void pbias_finish(ltrr_pbias_table_t *tab, const double *est)
{
        double v;
        int p;

        tab->prop[0] = 1.0;
        for (p = 1; p < tab->npos; p++) {
                if (tab->shown[p] == 0) {
                        tab->prop[p] = tab->prop[p - 1];
                        continue;
                }
                v = est[p] / est[0];
                if (v > 1.0)
                        v = 1.0;
                if (v < tab->floor)
                        v = tab->floor;
                tab->prop[p] = v;
        }
}

ltrr_err_t ltrr_pbias_estimate_randomized(const ltrr_pbias_obs_t *obs,
                                          size_t n, int npos, double floor,
                                          ltrr_pbias_table_t *tab,
                                          char *errstr, size_t errstr_size)
{
        uint64_t clicks[LTRR_PBIAS_MAX_POS] = {0};
        double ctr[LTRR_PBIAS_MAX_POS] = {0};
        ltrr_err_t err;
        size_t i;
        int p;

        err = ltrr_pbias_table_init(tab, npos, floor, errstr, errstr_size);
        if (err)
                return err;
        for (i = 0; i < n; i++) {
                p = obs[i].position;
                if (!obs[i].randomized || p < 1 || p > npos)
                        continue;
                tab->shown[p - 1]++;
                clicks[p - 1] += obs[i].clicked ? 1 : 0;
        }
        if (clicks[0] == 0)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "no randomized click at position 1 "
                                 "(%llu shown)",
                                 (unsigned long long)tab->shown[0]);
        for (p = 0; p < npos; p++)
                if (tab->shown[p])
                        ctr[p] = (double)clicks[p] / (double)tab->shown[p];
        pbias_finish(tab, ctr);
        return LTRR_OK;
}

static double pbias_clamp01(double v)
{
        if (v < PBIAS_EPS)
                return PBIAS_EPS;
        if (v > 1.0 - PBIAS_EPS)
                return 1.0 - PBIAS_EPS;
        return v;
}

/* Workspace of one EM run: per-pair relevance and its accumulators. */
typedef struct pbias_em_s {
        double *gamma;   /* npairs: P(relevant | pair) */
        double *sum_r;   /* npairs: expected relevant count */
        double *cnt_r;   /* npairs: observations */
        double theta[LTRR_PBIAS_MAX_POS];  /* P(examined | position) */
        double sum_e[LTRR_PBIAS_MAX_POS];  /* expected examined count */
} pbias_em_t;

/*
 * One EM iteration: the E-step gives, for each observation, the
 * posterior of "examined" and of "relevant" given the click; the M-step
 * sets each theta and gamma to the mean of its posteriors.
 */
static void pbias_em_step(pbias_em_t *em, const ltrr_pbias_obs_t *obs,
                          size_t n, size_t npairs, const ltrr_pbias_table_t *tab)
{
        double th, ga, den, e, r;
        size_t i;
        int p;

        memset(em->sum_e, 0, sizeof(em->sum_e));
        memset(em->sum_r, 0, npairs * sizeof(double));
        for (i = 0; i < n; i++) {
                p = obs[i].position;
                if (p < 1 || p > tab->npos)
                        continue;
                th = em->theta[p - 1];
                ga = em->gamma[obs[i].pair];
                if (obs[i].clicked) {
                        e = r = 1.0;
                } else {
                        den = 1.0 - th * ga;
                        e = th * (1.0 - ga) / den;
                        r = (1.0 - th) * ga / den;
                }
                em->sum_e[p - 1] += e;
                em->sum_r[obs[i].pair] += r;
        }
        for (p = 0; p < tab->npos; p++)
                if (tab->shown[p])
                        em->theta[p] = pbias_clamp01(em->sum_e[p] /
                                                     (double)tab->shown[p]);
        for (i = 0; i < npairs; i++)
                if (em->cnt_r[i] > 0)
                        em->gamma[i] = pbias_clamp01(em->sum_r[i] /
                                                     em->cnt_r[i]);
}

/*
 * Validates the observations for EM and counts them per position and
 * per pair. Returns LTRR_ERR_INVALID_ARG on a pair id out of range and
 * LTRR_ERR_RANGE if nothing in range was clicked.
 */
static ltrr_err_t pbias_em_count(pbias_em_t *em, const ltrr_pbias_obs_t *obs,
                                 size_t n, size_t npairs,
                                 ltrr_pbias_table_t *tab, char *errstr,
                                 size_t errstr_size)
{
        uint64_t clicks = 0;
        size_t i;
        int p;

        for (i = 0; i < n; i++) {
                if (obs[i].pair >= npairs)
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size,
                                         "observation %zu: pair %u >= %zu",
                                         i, (unsigned)obs[i].pair, npairs);
                p = obs[i].position;
                if (p < 1 || p > tab->npos)
                        continue;
                tab->shown[p - 1]++;
                em->cnt_r[obs[i].pair] += 1.0;
                clicks += obs[i].clicked ? 1 : 0;
        }
        if (clicks == 0 || tab->shown[0] == 0)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "EM needs clicks and observations at "
                                 "position 1");
        return LTRR_OK;
}

ltrr_err_t ltrr_pbias_estimate_em(const ltrr_pbias_obs_t *obs, size_t n,
                                  size_t npairs, int npos, double floor,
                                  int iters, ltrr_pbias_table_t *tab,
                                  char *errstr, size_t errstr_size)
{
        pbias_em_t em;
        ltrr_err_t err;
        size_t i;
        int p;

        memset(&em, 0, sizeof(em));
        err = ltrr_pbias_table_init(tab, npos, floor, errstr, errstr_size);
        if (err)
                return err;
        if (npairs == 0 || npairs > SIZE_MAX / (3 * sizeof(double)) ||
            iters < 1 || iters > PBIAS_MAX_ITERS)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "npairs %zu or iters %d out of range",
                                 npairs, iters);
        em.gamma = calloc(3 * npairs, sizeof(double));
        if (!em.gamma)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "EM workspace for %zu pairs", npairs);
        em.sum_r = em.gamma + npairs;
        em.cnt_r = em.sum_r + npairs;
        err = pbias_em_count(&em, obs, n, npairs, tab, errstr, errstr_size);
        if (err)
                goto done;
        for (p = 0; p < npos; p++)
                em.theta[p] = 1.0 / (double)(p + 1);
        for (i = 0; i < npairs; i++)
                em.gamma[i] = 0.5;
        while (iters-- > 0)
                pbias_em_step(&em, obs, n, npairs, tab);
        pbias_finish(tab, em.theta);
done:
        free(em.gamma);
        return err;
}

double ltrr_pbias_propensity(const ltrr_pbias_table_t *tab, int position)
{
        double v;

        if (position < 1)
                position = 1;
        if (position > tab->npos)
                position = tab->npos;
        v = tab->prop[position - 1];
        return v < tab->floor ? tab->floor : v;
}

double ltrr_pbias_ipw_label(const ltrr_pbias_table_t *tab, int position,
                            int clicked, double clip)
{
        double v;

        if (!clicked)
                return 0.0;
        v = 1.0 / ltrr_pbias_propensity(tab, position);
        return v > clip ? clip : v;
}
