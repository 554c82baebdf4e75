/*
 * ltrr - Open Bandit Dataset (OBD) logs, the Bernoulli-TS prior and the
 * action distributions of the policies evaluated on them.
 *
 * An OBD log row is one impression: the item shown at a slot (position
 * 1..3 in the file, 0-based here), whether it was clicked, and the logging
 * policy's probability of showing that item at that slot. Evaluation
 * treats the position as the context: a target policy is a distribution
 * over items for each position (ltrr_obd_dist_t), and the reward model is
 * a smoothed mean click rate per (item, position), cross-fitted on folds.
 * ltrr_obd_fill() turns a log, a target and that model into the rows of
 * an ltrr_ope_t. docs/OPE.md has the details and the measured results.
 */
#ifndef LTRR_OBD_H
#define LTRR_OBD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "ope.h"

/** Most items (actions) in a log or prior. */
#define LTRR_OBD_ITEMS_MAX 4096
/** Most positions (slots) in a log. */
#define LTRR_OBD_POSITIONS_MAX 16
/** Most rows in one log; a longer log fails with LTRR_ERR_NOSPACE. */
#define LTRR_OBD_ROWS_MAX ((size_t)50 * 1000 * 1000)
/** Longest line in bytes, newline included; longer lines are bad rows. */
#define LTRR_OBD_LINE_MAX (256 * 1024)
/** Longest remembered bad-row reason. */
#define LTRR_OBD_REASON_MAX 160
/** Default Monte-Carlo draws for the Bernoulli-TS distribution. */
#define LTRR_OBD_SIMS_DEFAULT 100000
/** Default seed of those draws. */
#define LTRR_OBD_SIM_SEED_DEFAULT 12345u
/** Default cross-fitting folds of the reward model. */
#define LTRR_OBD_FOLDS_DEFAULT 5
/** Most cross-fitting folds. */
#define LTRR_OBD_FOLDS_MAX 20
/** Default pseudo-count shrinking each cell towards its position's mean. */
#define LTRR_OBD_SMOOTHING_DEFAULT 10.0

/** @brief One impression of a log. */
typedef struct ltrr_obd_row_s {
        uint32_t item;     /**< item id, < the log's item count */
        uint16_t position; /**< 0-based slot (file value minus 1) */
        uint8_t click;     /**< 1 if clicked */
        double propensity; /**< logging probability, in (0, 1] */
} ltrr_obd_row_t;

/** @brief What a read saw. */
typedef struct ltrr_obd_stats_s {
        uint64_t lines;          /**< lines read, header included */
        uint64_t rows;           /**< rows kept */
        uint64_t bad;            /**< rows rejected */
        uint64_t first_bad_line; /**< 1-based line of the first, 0 if none */
        char first_bad[LTRR_OBD_REASON_MAX]; /**< its reason, "" if none */
} ltrr_obd_stats_t;

/** @brief Reward-model settings; ltrr_obd_model_conf_init() gives defaults. */
typedef struct ltrr_obd_model_conf_s {
        uint32_t folds;   /**< cross-fitting folds, 1 = fit on every row */
        double smoothing; /**< pseudo-count towards the position mean, >= 0 */
} ltrr_obd_model_conf_t;

typedef struct ltrr_obd_log_s ltrr_obd_log_t;     /**< opaque log */
typedef struct ltrr_obd_prior_s ltrr_obd_prior_t; /**< opaque Beta prior */
typedef struct ltrr_obd_dist_s ltrr_obd_dist_t;   /**< opaque pi(item|pos) */

/** @brief Creates an empty log, or NULL (out of memory) with errstr set. */
ltrr_obd_log_t *ltrr_obd_log_new(char *errstr, size_t errstr_size);

/** @brief Frees @p log; NULL is a no-op. */
void ltrr_obd_log_destroy(ltrr_obd_log_t *log);

/**
 * @brief Reads an OBD log CSV from @p fp into an empty @p log.
 *
 * Columns are found by header name (item_id, position, click,
 * propensity_score); the number of user-item_affinity_* columns, when
 * present, fixes the item count, otherwise it is the largest id plus one.
 * A bad row (missing field, non-numeric value, position outside 1..16,
 * click not 0/1, propensity outside (0, 1], item out of range, line too
 * long) is skipped and counted; the first is recorded in @p st.
 * @param max_bad  bad rows tolerated; one more fails the read
 * @param st       filled in, also on error; may not be NULL
 * @returns LTRR_OK; LTRR_ERR_PARSE for a missing header column, an empty
 *          log, or too many bad rows (errstr names the line and reason);
 *          LTRR_ERR_IO; LTRR_ERR_NOSPACE past LTRR_OBD_ROWS_MAX;
 *          LTRR_ERR_STATE if @p log is not empty; LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_obd_log_read(ltrr_obd_log_t *log, FILE *fp, uint64_t max_bad,
                             ltrr_obd_stats_t *st, char *errstr,
                             size_t errstr_size);

/** @brief Rows in @p log. */
size_t ltrr_obd_log_count(const ltrr_obd_log_t *log);

/** @brief Row @p i (< count); valid until the log is destroyed. */
const ltrr_obd_row_t *ltrr_obd_log_row(const ltrr_obd_log_t *log, size_t i);

/** @brief Item count (actions). */
size_t ltrr_obd_log_items(const ltrr_obd_log_t *log);

/** @brief Position count: the largest position seen. */
size_t ltrr_obd_log_positions(const ltrr_obd_log_t *log);

/** @brief Mean click: the on-policy value of the logging policy. */
double ltrr_obd_log_ctr(const ltrr_obd_log_t *log);

/**
 * @brief Reads a Beta prior TSV (header item_id, alpha, beta; one row per
 * item, ids 0..n-1 each exactly once, alpha and beta > 0).
 * @returns the prior, or NULL with "line N: reason" in @p errstr.
 */
ltrr_obd_prior_t *ltrr_obd_prior_new(FILE *fp, char *errstr,
                                     size_t errstr_size);

/** @brief Frees @p prior; NULL is a no-op. */
void ltrr_obd_prior_destroy(ltrr_obd_prior_t *prior);

/** @brief Items in @p prior. */
size_t ltrr_obd_prior_items(const ltrr_obd_prior_t *prior);

/**
 * @brief Creates a distribution over @p n_items items for each of
 * @p n_positions positions, initially uniform.
 * @returns NULL for sizes outside the bounds (or n_positions > n_items)
 *          or out of memory, with errstr set.
 */
ltrr_obd_dist_t *ltrr_obd_dist_new(size_t n_items, size_t n_positions,
                                   char *errstr, size_t errstr_size);

/** @brief Frees @p d; NULL is a no-op. */
void ltrr_obd_dist_destroy(ltrr_obd_dist_t *d);

/**
 * @brief Sets the uniform-random policy: pi(item|pos) = 1 / n_items for
 * every position, the propensity the OBD random logs carry.
 */
void ltrr_obd_dist_uniform(ltrr_obd_dist_t *d);

/**
 * @brief Sets the Bernoulli Thompson sampling policy by simulation.
 *
 * Each of @p n_sim draws samples theta_i ~ Beta(alpha_i, beta_i) for every
 * item and shows the items with the k largest samples at positions
 * 0..k-1 (ties to the lower id); pi(item|pos) is the share of draws that
 * put the item at that position. Deterministic for a given seed.
 * @returns LTRR_OK, or LTRR_ERR_INVALID_ARG when the prior's item count
 *          differs from @p d's or n_sim is 0.
 */
ltrr_err_t ltrr_obd_dist_bts(ltrr_obd_dist_t *d,
                             const ltrr_obd_prior_t *prior, uint32_t n_sim,
                             uint64_t seed, char *errstr, size_t errstr_size);

/** @brief pi(item|pos); 0 outside the bounds. */
double ltrr_obd_dist_get(const ltrr_obd_dist_t *d, size_t item, size_t pos);

/** @brief Fills @p mc with the documented defaults. */
void ltrr_obd_model_conf_init(ltrr_obd_model_conf_t *mc);

/**
 * @brief Adds one OPE row per log row to @p ope: the logged click and
 * propensity, pi(item|pos) of @p d, and the cross-fitted reward model.
 *
 * Row i belongs to fold i mod folds; its model is fitted on the other
 * folds: q(item, pos) = (clicks + s * m_pos) / (shows + s), with m_pos the
 * mean click at that position and s the smoothing.
 * @param mc  NULL for the defaults
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG when @p d's item count differs
 *          from the log's, the log has more positions than @p d, or mc is
 *          out of range; the error of ltrr_ope_add() (e.g. NOSPACE).
 */
ltrr_err_t ltrr_obd_fill(const ltrr_obd_log_t *log, const ltrr_obd_dist_t *d,
                         const ltrr_obd_model_conf_t *mc, ltrr_ope_t *ope,
                         char *errstr, size_t errstr_size);

#endif /* LTRR_OBD_H */
