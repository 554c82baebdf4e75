/*
 * ltrr - off-policy evaluation: IPS, SNIPS, DM, DR and Switch-DR.
 *
 * The caller reduces each logged decision to five numbers (an
 * ltrr_ope_row_t): the observed reward, the logging policy's propensity of
 * the logged action, the target policy's probability of that same action,
 * and, for the model-based estimators, the reward model's prediction for
 * the logged action and its expectation under the target policy. The
 * estimators then need no knowledge of actions, contexts or the model.
 *
 * Each estimate comes with a percentile bootstrap confidence interval
 * (rows resampled with replacement, seeded, the reward model held fixed)
 * and the weight diagnostics: effective sample size and largest weight.
 * docs/OPE.md describes the method and the measured accuracy.
 *
 * No I/O. Memory is sized once: the rows at ltrr_ope_new(), the bootstrap
 * replicates for the length of one ltrr_ope_evaluate() call.
 */
#ifndef LTRR_OPE_H
#define LTRR_OPE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rng.h"

/** Most rows one evaluator holds. */
#define LTRR_OPE_ROWS_MAX ((size_t)100 * 1000 * 1000)
/** Most bootstrap resamples per evaluation. */
#define LTRR_OPE_BOOTSTRAP_MAX 100000
/** Default bootstrap resamples. */
#define LTRR_OPE_BOOTSTRAP_DEFAULT 1000
/** Default bootstrap seed. */
#define LTRR_OPE_SEED_DEFAULT 20261124u
/** Default Switch-DR threshold on the importance weight. */
#define LTRR_OPE_SWITCH_TAU_DEFAULT 100.0
/** Default confidence level of the intervals. */
#define LTRR_OPE_LEVEL_DEFAULT 0.95

/** @brief The estimators, in report order. */
typedef enum {
        LTRR_OPE_IPS = 0,       /**< inverse propensity scoring */
        LTRR_OPE_SNIPS = 1,     /**< self-normalised IPS */
        LTRR_OPE_DM = 2,        /**< direct method (reward model only) */
        LTRR_OPE_DR = 3,        /**< doubly robust */
        LTRR_OPE_SWITCH_DR = 4, /**< DR with weights above tau switched to DM */
        LTRR_OPE__CNT = 5
} ltrr_ope_est_t;

/** @brief One logged decision, reduced to what the estimators need. */
typedef struct ltrr_ope_row_s {
        double reward;      /**< observed reward r_i */
        double propensity;  /**< logging policy's p(a_i|x_i), in (0, 1] */
        double target_prob; /**< target policy's pi(a_i|x_i), in [0, 1] */
        double q_logged;    /**< reward model q(x_i, a_i) */
        double q_target;    /**< sum over a of pi(a|x_i) q(x_i, a) */
} ltrr_ope_row_t;

/** @brief Evaluation settings; ltrr_ope_conf_init() gives the defaults. */
typedef struct ltrr_ope_conf_s {
        uint32_t bootstrap; /**< resamples B; 0 = no interval (ci = value) */
        uint64_t seed;      /**< bootstrap seed */
        double switch_tau;  /**< Switch-DR weight threshold, > 0 */
        double level;       /**< interval level, in (0, 1) */
} ltrr_ope_conf_t;

/** @brief A point estimate and its interval. */
typedef struct ltrr_ope_estimate_s {
        double value;   /**< estimated policy value */
        double ci_low;  /**< lower percentile bound */
        double ci_high; /**< upper percentile bound */
} ltrr_ope_estimate_t;

/** @brief Everything one evaluation returns. */
typedef struct ltrr_ope_report_s {
        ltrr_ope_estimate_t est[LTRR_OPE__CNT]; /**< by ltrr_ope_est_t */
        size_t n;            /**< rows evaluated */
        double ess;          /**< effective sample size (sum w)^2 / sum w^2 */
        double max_weight;   /**< largest importance weight pi/p */
        double mean_weight;  /**< mean weight, near 1 when supports match */
        size_t n_switched;   /**< rows whose weight exceeds switch_tau */
} ltrr_ope_report_t;

/** @brief Opaque evaluator: a bounded array of rows. */
typedef struct ltrr_ope_s ltrr_ope_t;

/** @brief "ips", "snips", "dm", "dr", "switch_dr"; "unknown" otherwise. */
const char *ltrr_ope_est_name(ltrr_ope_est_t est);

/** @brief Fills @p conf with the documented defaults. */
void ltrr_ope_conf_init(ltrr_ope_conf_t *conf);

/**
 * @brief Fills the policy and model fields of @p row from full vectors.
 *
 * Sets target_prob = pi[action], q_logged = qhat[action] and
 * q_target = sum pi[a] qhat[a]. reward and propensity are left alone.
 * @param pi       target distribution over @p n_actions actions: entries in
 *                 [0, 1] summing to 1 within 1e-6
 * @param qhat     reward model for every action
 * @returns LTRR_OK or LTRR_ERR_INVALID_ARG (bad distribution, action out
 *          of range, non-finite value).
 */
ltrr_err_t ltrr_ope_row_model(ltrr_ope_row_t *row, const double *pi,
                              const double *qhat, size_t n_actions,
                              size_t action, char *errstr,
                              size_t errstr_size);

/**
 * @brief Creates an evaluator for at most @p capacity rows.
 * @returns the evaluator, or NULL (capacity 0 or above LTRR_OPE_ROWS_MAX,
 *          out of memory) with the reason in @p errstr.
 */
ltrr_ope_t *ltrr_ope_new(size_t capacity, char *errstr, size_t errstr_size);

/** @brief Frees @p ope; NULL is a no-op. */
void ltrr_ope_destroy(ltrr_ope_t *ope);

/**
 * @brief Appends one row (copied).
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG when a value is not finite, the
 *          propensity is not in (0, 1] or target_prob not in [0, 1] (the
 *          row is not added); LTRR_ERR_NOSPACE when the evaluator is full.
 */
ltrr_err_t ltrr_ope_add(ltrr_ope_t *ope, const ltrr_ope_row_t *row,
                        char *errstr, size_t errstr_size);

/** @brief Rows added so far. */
size_t ltrr_ope_count(const ltrr_ope_t *ope);

/**
 * @brief Runs every estimator with its bootstrap interval.
 *
 * Deterministic for a given row sequence and conf. SNIPS of a bootstrap
 * resample whose weights sum to zero counts as 0.
 * @param conf  NULL for the defaults
 * @returns LTRR_OK; LTRR_ERR_STATE with no rows; LTRR_ERR_INVALID_ARG for a
 *          bad conf; LTRR_ERR_RANGE when every weight is zero (the target
 *          policy never takes a logged action); LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_ope_evaluate(const ltrr_ope_t *ope, const ltrr_ope_conf_t *conf,
                             ltrr_ope_report_t *rep, char *errstr,
                             size_t errstr_size);

#endif /* LTRR_OPE_H */
