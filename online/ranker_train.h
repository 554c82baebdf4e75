/*
 * ltrr - training examples for the ranker, from logged impressions and
 * rewards.
 *
 * Impressions and rewards are added in any order; ltrr_ranker_train_build()
 * joins them by impression id and makes one example per shown result of
 * every impression that has at least one reward: label 1 when a reward
 * with a positive value engaged that entity, 0 otherwise. Features come
 * from what the impression logged (per-arm candidate scores, the arm mask
 * of each result, its position) and, when an index is given, from the
 * entity (popularity, release date). Examination propensities per
 * position are estimated from the same logs by EM (position_bias.h).
 *
 * Memory is bounded: LTRR_RANKER_TRAIN_* maxima below and the limits of
 * ltrr_ranker_train_conf_t; a full table is an error, never a silent
 * drop. No I/O: framed files are read by the caller and handed in as
 * bytes. See docs/TRAIN_RANKER.md.
 */
#ifndef LTRR_RANKER_TRAIN_H
#define LTRR_RANKER_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "avro_codec.h"
#include "err.h"
#include "index.h"
#include "position_bias.h"
#include "ranker.h"
#include "records.h"

/** Results kept per impression; later ones are ignored and counted. */
#define LTRR_RANKER_TRAIN_MAX_RESULTS 100

/** Hard ceiling of conf.max_impressions and conf.max_rewards. */
#define LTRR_RANKER_TRAIN_MAX_RECORDS 10000000

/** Longest framed record accepted by ltrr_ranker_train_read(), bytes. */
#define LTRR_RANKER_TRAIN_FRAME_MAX (1 << 24)

/** @brief Limits and estimator settings. */
typedef struct ltrr_ranker_train_conf_s {
        size_t max_impressions;   /**< impressions kept (default 1000000) */
        size_t max_rewards;       /**< rewards kept (default 4000000) */
        int pbias_npos;           /**< positions estimated, 1..100 (10) */
        double pbias_floor;       /**< lowest propensity (0.05) */
        int pbias_iters;          /**< EM iterations (50) */
        const ltrr_index_t *index; /**< entity features; NULL: none.
                                        Borrowed: must outlive the
                                        trainer's calls to _add_impression */
} ltrr_ranker_train_conf_t;

/** @brief Counts of what was read, joined and built. */
typedef struct ltrr_ranker_train_stats_s {
        size_t impressions;      /**< impressions kept */
        size_t dup_impressions;  /**< impressions whose id was seen */
        size_t results_dropped;  /**< results past the per-impression max */
        size_t rewards;          /**< rewards kept */
        size_t rewarded;         /**< impressions with >= 1 reward */
        size_t orphan_rewards;   /**< rewards of an unknown impression */
        size_t dup_rewards;      /**< positive rewards on a result
                                      already labelled positive */
        size_t unmatched_rewards; /**< positive rewards whose entity was
                                       not among the shown results */
        size_t examples;         /**< examples built */
        size_t positives;        /**< examples with label 1 */
        size_t index_misses;     /**< results absent from the index */
        size_t bad_records;      /**< records _read() could not use */
        int pbias_ok;            /**< 1 if the propensity table is set */
} ltrr_ranker_train_stats_t;

typedef struct ltrr_ranker_train_s ltrr_ranker_train_t;

/** @brief Fills @p conf with the documented defaults. */
void ltrr_ranker_train_conf_default(ltrr_ranker_train_conf_t *conf);

/**
 * @brief Creates an empty trainer.
 * @param conf  copied; NULL for defaults. With an index, its entity ids
 *              are hashed once here.
 * @returns the trainer, or NULL with the reason in @p errstr (bad limits,
 *          out of memory).
 */
ltrr_ranker_train_t *ltrr_ranker_train_new(const ltrr_ranker_train_conf_t *conf,
                                           char *errstr, size_t errstr_size);

/** @brief Frees the trainer; NULL is a no-op. */
void ltrr_ranker_train_destroy(ltrr_ranker_train_t *rt);

/**
 * @brief Adds one impression: its id, time, query and shown results with
 * their per-arm scores. @p imp is only read (a decoder's record is fine).
 * @returns LTRR_OK (a repeated id is counted and ignored);
 *          LTRR_ERR_STATE after _build(); LTRR_ERR_NOSPACE when
 *          max_impressions are kept; LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_ranker_train_add_impression(ltrr_ranker_train_t *rt,
                                            const ltrr_impression_t *imp,
                                            char *errstr, size_t errstr_size);

/**
 * @brief Adds one reward (the impression id, engaged entity and position,
 * value). @p rew is only read.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG for a non-finite value;
 *          LTRR_ERR_STATE after _build(); LTRR_ERR_NOSPACE when
 *          max_rewards are kept; LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_ranker_train_add_reward(ltrr_ranker_train_t *rt,
                                        const ltrr_reward_t *rew,
                                        char *errstr, size_t errstr_size);

/**
 * @brief Reads framed records (4-byte big-endian length, single-object
 * Avro record), adding Impression and Reward records; Action records
 * are skipped. Records that do not decode count as bad.
 * @param max_bad  bad records tolerated before the read fails.
 * @returns LTRR_OK; LTRR_ERR_TRUNCATED on a partial frame;
 *          LTRR_ERR_RANGE for a frame above LTRR_RANKER_TRAIN_FRAME_MAX;
 *          the decode error past @p max_bad; an error of _add_*().
 */
ltrr_err_t ltrr_ranker_train_read(ltrr_ranker_train_t *rt,
                                  ltrr_avro_decoder_t *dec,
                                  const uint8_t *data, size_t len,
                                  size_t max_bad, char *errstr,
                                  size_t errstr_size);

/**
 * @brief Joins rewards to impressions, builds the examples and estimates
 * the propensity table. Call once; adding afterwards is refused.
 * @returns LTRR_OK (also when no example results: check the stats);
 *          LTRR_ERR_STATE on a second call; LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_ranker_train_build(ltrr_ranker_train_t *rt, char *errstr,
                                   size_t errstr_size);

/**
 * @brief The examples built, in impression order then position order.
 * @param n  receives their count (0 before _build()).
 * @remark Owned by the trainer, valid until _destroy().
 */
const ltrr_ranker_example_t *
ltrr_ranker_train_examples(const ltrr_ranker_train_t *rt, size_t *n);

/**
 * @brief The propensity table estimated by _build(), or NULL when it
 * could not be (no click, no example). Owned by the trainer.
 */
const ltrr_pbias_table_t *ltrr_ranker_train_pbias(const ltrr_ranker_train_t *rt);

/** @brief Copies the counts into @p st. */
void ltrr_ranker_train_stats(const ltrr_ranker_train_t *rt,
                             ltrr_ranker_train_stats_t *st);

/**
 * @brief Unweighted log loss (raw clicks) and AUC of @p rk's scores over
 * @p n examples. With n == 0 both are 0 and 0.5.
 * @returns LTRR_OK or LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_ranker_train_eval(const ltrr_ranker_t *rk,
                                  const ltrr_ranker_example_t *ex, size_t n,
                                  double *logloss, double *auc);

#endif /* LTRR_RANKER_TRAIN_H */
