/*
 * ltrr - off-policy estimators with bootstrap intervals.
 *
 * Per row i, with weight w_i = pi(a_i|x_i) / p(a_i|x_i):
 *
 *   IPS       (1/n) sum w_i r_i
 *   SNIPS     sum w_i r_i / sum w_i
 *   DM        (1/n) sum q_target_i
 *   DR        (1/n) sum [q_target_i + w_i (r_i - q_logged_i)]
 *   Switch-DR (1/n) sum [q_target_i + 1{w_i <= tau} w_i (r_i - q_logged_i)]
 *
 * Sums use Neumaier's compensated summation: weights on real logs span
 * six orders of magnitude, so plain accumulation loses digits.
 */
#include "ope.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ltrr_ope_s {
        ltrr_ope_row_t *rows; /* cnt rows in use, capacity allocated */
        size_t cnt;           /* rows added */
        size_t capacity;      /* fixed at creation */
};

/* Compensated running sum. */
typedef struct ksum_s {
        double s; /* running sum */
        double c; /* accumulated rounding error */
} ksum_t;

/* The five sums every estimator is derived from. */
struct ope_acc {
        ksum_t wr; /* sum w r */
        ksum_t w;  /* sum w */
        ksum_t dm; /* sum q_target */
        ksum_t dr; /* sum of DR terms */
        ksum_t sw; /* sum of Switch-DR terms */
};

/* --- names and defaults ------------------------------------------------ */

static const char *const est_names[LTRR_OPE__CNT] = {
        "ips", "snips", "dm", "dr", "switch_dr"};

const char *ltrr_ope_est_name(ltrr_ope_est_t est)
{
        if ((int)est < 0 || est >= LTRR_OPE__CNT)
                return "unknown";
        return est_names[est];
}

void ltrr_ope_conf_init(ltrr_ope_conf_t *conf)
{
        conf->bootstrap = LTRR_OPE_BOOTSTRAP_DEFAULT;
        conf->seed = LTRR_OPE_SEED_DEFAULT;
        conf->switch_tau = LTRR_OPE_SWITCH_TAU_DEFAULT;
        conf->level = LTRR_OPE_LEVEL_DEFAULT;
}

/* --- rows --------------------------------------------------------------- */

static void ksum_add(ksum_t *k, double x)
{
        double t = k->s + x;

        if (fabs(k->s) >= fabs(x))
                k->c += (k->s - t) + x;
        else
                k->c += (x - t) + k->s;
        k->s = t;
}

static double ksum_get(const ksum_t *k)
{
        return k->s + k->c;
}

ltrr_err_t ltrr_ope_row_model(ltrr_ope_row_t *row, const double *pi,
                              const double *qhat, size_t n_actions,
                              size_t action, char *errstr,
                              size_t errstr_size)
{
        ksum_t mass = {0, 0}, expect = {0, 0};
        size_t a;

        if (action >= n_actions)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "action %zu out of range (%zu actions)",
                                 action, n_actions);
        for (a = 0; a < n_actions; a++) {
                if (!(pi[a] >= 0.0 && pi[a] <= 1.0) || !isfinite(qhat[a]))
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size,
                                         "action %zu: probability %g or "
                                         "model value %g invalid",
                                         a, pi[a], qhat[a]);
                ksum_add(&mass, pi[a]);
                ksum_add(&expect, pi[a] * qhat[a]);
        }
        if (fabs(ksum_get(&mass) - 1.0) > 1e-6)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "target distribution sums to %.9g, not 1",
                                 ksum_get(&mass));
        row->target_prob = pi[action];
        row->q_logged = qhat[action];
        row->q_target = ksum_get(&expect);
        return LTRR_OK;
}

ltrr_ope_t *ltrr_ope_new(size_t capacity, char *errstr, size_t errstr_size)
{
        ltrr_ope_t *ope;

        if (capacity == 0 || capacity > LTRR_OPE_ROWS_MAX) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "capacity %zu not in [1, %zu]", capacity,
                          LTRR_OPE_ROWS_MAX);
                return NULL;
        }
        if (!(ope = calloc(1, sizeof(*ope))))
                goto nomem;
        if (!(ope->rows = malloc(capacity * sizeof(*ope->rows))))
                goto nomem;
        ope->capacity = capacity;
        return ope;
nomem:
        ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                  "cannot allocate %zu rows", capacity);
        ltrr_ope_destroy(ope);
        return NULL;
}

void ltrr_ope_destroy(ltrr_ope_t *ope)
{
        if (!ope)
                return;
        free(ope->rows);
        free(ope);
}

ltrr_err_t ltrr_ope_add(ltrr_ope_t *ope, const ltrr_ope_row_t *row,
                        char *errstr, size_t errstr_size)
{
        if (!isfinite(row->reward) || !isfinite(row->q_logged) ||
            !isfinite(row->q_target))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "row %zu: reward or model value not finite",
                                 ope->cnt);
        if (!(row->propensity > 0.0 && row->propensity <= 1.0))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "row %zu: propensity %g not in (0, 1]",
                                 ope->cnt, row->propensity);
        if (!(row->target_prob >= 0.0 && row->target_prob <= 1.0))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "row %zu: target probability %g not in "
                                 "[0, 1]", ope->cnt, row->target_prob);
        if (ope->cnt == ope->capacity)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "evaluator full (%zu rows)", ope->capacity);
        ope->rows[ope->cnt++] = *row;
        return LTRR_OK;
}

size_t ltrr_ope_count(const ltrr_ope_t *ope)
{
        return ope->cnt;
}

/* --- estimation --------------------------------------------------------- */

/* Adds row @r's contribution to every sum. */
static void acc_add(struct ope_acc *acc, const ltrr_ope_row_t *r, double tau)
{
        double w = r->target_prob / r->propensity;
        double corr = w * (r->reward - r->q_logged);

        ksum_add(&acc->wr, w * r->reward);
        ksum_add(&acc->w, w);
        ksum_add(&acc->dm, r->q_target);
        ksum_add(&acc->dr, r->q_target + corr);
        ksum_add(&acc->sw, r->q_target + (w <= tau ? corr : 0.0));
}

/* Turns the sums over @n rows into the five estimates. */
static void acc_values(const struct ope_acc *acc, size_t n,
                       double out[LTRR_OPE__CNT])
{
        double sw = ksum_get(&acc->w);

        out[LTRR_OPE_IPS] = ksum_get(&acc->wr) / (double)n;
        out[LTRR_OPE_SNIPS] = sw > 0.0 ? ksum_get(&acc->wr) / sw : 0.0;
        out[LTRR_OPE_DM] = ksum_get(&acc->dm) / (double)n;
        out[LTRR_OPE_DR] = ksum_get(&acc->dr) / (double)n;
        out[LTRR_OPE_SWITCH_DR] = ksum_get(&acc->sw) / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* Quantile @q of the sorted @v[0..n-1], interpolating linearly between
 * order statistics (h = (n - 1) q). */
static double quantile_sorted(const double *v, size_t n, double q)
{
        double h = (double)(n - 1) * q;
        size_t lo = (size_t)floor(h);

        if (lo + 1 >= n)
                return v[n - 1];
        return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* Point estimates and weight diagnostics over all rows. */
static ltrr_err_t ope_point(const ltrr_ope_t *ope, double tau,
                            ltrr_ope_report_t *rep, char *errstr,
                            size_t errstr_size)
{
        struct ope_acc acc;
        ksum_t w2 = {0, 0};
        double vals[LTRR_OPE__CNT], sw;
        size_t i;
        int e;

        memset(&acc, 0, sizeof(acc));
        memset(rep, 0, sizeof(*rep));
        for (i = 0; i < ope->cnt; i++) {
                const ltrr_ope_row_t *r = &ope->rows[i];
                double w = r->target_prob / r->propensity;

                acc_add(&acc, r, tau);
                ksum_add(&w2, w * w);
                if (w > rep->max_weight)
                        rep->max_weight = w;
                if (w > tau)
                        rep->n_switched++;
        }
        if (!((sw = ksum_get(&acc.w)) > 0.0))
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "every importance weight is zero: the "
                                 "target policy never takes a logged action");
        acc_values(&acc, ope->cnt, vals);
        for (e = 0; e < LTRR_OPE__CNT; e++)
                rep->est[e].value = rep->est[e].ci_low =
                        rep->est[e].ci_high = vals[e];
        rep->n = ope->cnt;
        rep->ess = sw * sw / ksum_get(&w2);
        rep->mean_weight = sw / (double)ope->cnt;
        return LTRR_OK;
}

/* Draws conf->bootstrap resamples of the rows; replicate b of estimator e
 * goes to reps[e * B + b]. */
static void ope_resample(const ltrr_ope_t *ope, const ltrr_ope_conf_t *conf,
                         double *reps)
{
        ltrr_rng_t rng;
        double vals[LTRR_OPE__CNT];
        struct ope_acc acc;
        size_t b, j, B = conf->bootstrap;
        int e;

        ltrr_rng_seed(&rng, conf->seed);
        for (b = 0; b < B; b++) {
                memset(&acc, 0, sizeof(acc));
                for (j = 0; j < ope->cnt; j++) {
                        uint64_t i = ltrr_rng_below(&rng, ope->cnt);

                        acc_add(&acc, &ope->rows[i], conf->switch_tau);
                }
                acc_values(&acc, ope->cnt, vals);
                for (e = 0; e < LTRR_OPE__CNT; e++)
                        reps[(size_t)e * B + b] = vals[e];
        }
}

static ltrr_err_t conf_check(const ltrr_ope_conf_t *conf, char *errstr,
                             size_t errstr_size)
{
        if (conf->bootstrap > LTRR_OPE_BOOTSTRAP_MAX)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bootstrap %u above %d", conf->bootstrap,
                                 LTRR_OPE_BOOTSTRAP_MAX);
        if (!(conf->switch_tau > 0.0))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "switch_tau %g must be > 0",
                                 conf->switch_tau);
        if (!(conf->level > 0.0 && conf->level < 1.0))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "level %g not in (0, 1)", conf->level);
        return LTRR_OK;
}

ltrr_err_t ltrr_ope_evaluate(const ltrr_ope_t *ope, const ltrr_ope_conf_t *conf,
                             ltrr_ope_report_t *rep, char *errstr,
                             size_t errstr_size)
{
        ltrr_ope_conf_t defaults;
        double *reps = NULL, tail;
        size_t B;
        ltrr_err_t err;
        int e;

        if (!conf) {
                ltrr_ope_conf_init(&defaults);
                conf = &defaults;
        }
        if ((err = conf_check(conf, errstr, errstr_size)))
                return err;
        if (ope->cnt == 0)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "no rows to evaluate");
        if ((err = ope_point(ope, conf->switch_tau, rep, errstr, errstr_size)))
                return err;
        if ((B = conf->bootstrap) == 0)
                return LTRR_OK;
        if (!(reps = malloc(B * LTRR_OPE__CNT * sizeof(*reps))))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "cannot allocate %zu bootstrap replicates",
                                 B * LTRR_OPE__CNT);
        ope_resample(ope, conf, reps);
        tail = (1.0 - conf->level) / 2.0;
        for (e = 0; e < LTRR_OPE__CNT; e++) {
                double *v = reps + (size_t)e * B;

                qsort(v, B, sizeof(*v), cmp_double);
                rep->est[e].ci_low = quantile_sorted(v, B, tail);
                rep->est[e].ci_high = quantile_sorted(v, B, 1.0 - tail);
        }
        free(reps);
        return LTRR_OK;
}
