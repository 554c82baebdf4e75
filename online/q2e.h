/*
 * ltrr - Q2E memory: per normalized query, the entities users engaged
 * with, and how often the query was shown.
 *
 * Redis layout (one hash slot per query, tag `{q:<query>}`):
 *
 *   ltrr:q2e:{q:<query>}       sorted set: entity -> observed engagement
 *                              (sum of reward values of engagements)
 *   ltrr:q2e:{q:<query>}:meta  hash: n -> impressions of the query
 *
 * The read side blends observed engagement with the predicted score of
 * the entity: score = (observed + alpha * predicted) / (n + alpha), so a
 * prediction fades as evidence arrives (ltrr_q2e_blend()). Only sums are
 * stored, so updates commute and replays in any order give one state.
 * The sorted set keeps the q2e.max entities with the largest observed
 * sums (the lowest are trimmed); both keys expire after q2e.ttl without
 * updates. <query> is escaped with ltrr_learn_key_escape().
 */
#ifndef LTRR_Q2E_H
#define LTRR_Q2E_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/** Longest normalized query accepted, in bytes before escaping. */
#define LTRR_Q2E_QUERY_MAX 256

/** @brief Q2E settings (learn config q2e.*). */
typedef struct ltrr_q2e_conf_s {
        int max;        /**< entities kept per query, >= 1 */
        int64_t ttl_s;  /**< idle expiry of a query's keys, seconds */
} ltrr_q2e_conf_t;

/**
 * @brief Blends observed engagement with a predicted score.
 * @param observed   sum of engagement values (the sorted set score).
 * @param predicted  the model's score of the entity for the query.
 * @param impressions impressions of the query (the meta hash's n).
 * @param alpha      prior strength, >= 0.
 * @returns (observed + alpha * predicted) / (impressions + alpha), or
 *          0 when the denominator is not positive or an input is not
 *          finite.
 */
double ltrr_q2e_blend(double observed, double predicted, double impressions,
                      double alpha);

/**
 * @brief Formats the hash tag `{q:<escaped query>}` of @p query.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG for an empty query;
 *          LTRR_ERR_RANGE for one longer than LTRR_Q2E_QUERY_MAX;
 *          LTRR_ERR_NOSPACE if @p size is too small.
 */
ltrr_err_t ltrr_q2e_tag(char *buf, size_t size, const char *query,
                        char *errstr, size_t errstr_size);

/**
 * @brief Formats the sorted set key (@p meta 0) or the meta hash key
 * (@p meta 1) of @p query.
 * @returns as ltrr_q2e_tag().
 */
ltrr_err_t ltrr_q2e_key(char *buf, size_t size, const char *query, int meta,
                        char *errstr, size_t errstr_size);

#endif /* LTRR_Q2E_H */
