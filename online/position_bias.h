/*
 * ltrr - examination propensity per result position.
 *
 * Estimates P(examined | position) for positions 1..K from logged clicks,
 * under the position-based click model: a result is clicked when it is
 * examined (depends on position only) and relevant (depends on the query
 * and entity only). Two pure estimators over arrays of observations:
 *
 *  - randomized: on impressions whose top K were shuffled (result swaps),
 *    relevance is independent of position, so CTR(p) / CTR(1) estimates
 *    the propensity directly;
 *  - EM: on all traffic where the same (query, entity) pair is shown at
 *    several positions (ltrr's bandit randomizes which arms run, which
 *    moves entities between positions), expectation-maximization fits
 *    propensities and per-pair relevance jointly.
 *
 * Tables are normalized to 1 at position 1 and floored. See
 * docs/decisions/0010-ranker.md.
 */
#ifndef LTRR_POSITION_BIAS_H
#define LTRR_POSITION_BIAS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/** Most positions a table holds. */
#define LTRR_PBIAS_MAX_POS 100

/** Default lowest propensity; caps the inverse weight at 1 / floor. */
#define LTRR_PBIAS_DEFAULT_FLOOR 0.05

/** @brief P(examined | position) for positions 1..npos. */
typedef struct ltrr_pbias_table_s {
        int npos;                         /**< positions covered, >= 1 */
        double floor;                     /**< lowest value allowed */
        double prop[LTRR_PBIAS_MAX_POS];  /**< prop[p-1]; prop[0] == 1 */
        uint64_t shown[LTRR_PBIAS_MAX_POS]; /**< observations per position */
} ltrr_pbias_table_t;

/** @brief One logged result: which pair, where it was shown, the click. */
typedef struct ltrr_pbias_obs_s {
        uint32_t pair;      /**< (query, entity) pair id, < npairs (EM) */
        uint16_t position;  /**< 1-based shown position */
        uint8_t clicked;    /**< 1 if clicked */
        uint8_t randomized; /**< 1 if the position came from a shuffle */
} ltrr_pbias_obs_t;

/**
 * @brief Initialises a table of @p npos positions, all propensities 1.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG if npos is outside
 *          1..LTRR_PBIAS_MAX_POS or floor outside (0, 1].
 */
ltrr_err_t ltrr_pbias_table_init(ltrr_pbias_table_t *tab, int npos,
                                 double floor, char *errstr,
                                 size_t errstr_size);

/**
 * @brief Estimates from randomized observations only (others ignored):
 * prop[p] = CTR(p) / CTR(1), then clamped to [floor, 1].
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG on bad npos/floor; LTRR_ERR_RANGE
 *          if position 1 has no randomized click (nothing to normalize
 *          by). A position without observations inherits the value of
 *          the position above it.
 */
ltrr_err_t ltrr_pbias_estimate_randomized(const ltrr_pbias_obs_t *obs,
                                          size_t n, int npos, double floor,
                                          ltrr_pbias_table_t *tab,
                                          char *errstr, size_t errstr_size);

/**
 * @brief Estimates by EM under the position-based model over all
 * observations with position <= npos.
 * @param npairs  number of distinct pair ids; every obs.pair < npairs.
 * @param iters   EM iterations (e.g. 50), 1..10000.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG on bad arguments or a pair id
 *          out of range; LTRR_ERR_RANGE if there is no click at all;
 *          LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_pbias_estimate_em(const ltrr_pbias_obs_t *obs, size_t n,
                                  size_t npairs, int npos, double floor,
                                  int iters, ltrr_pbias_table_t *tab,
                                  char *errstr, size_t errstr_size);

/**
 * @brief P(examined | position): positions past npos get the last
 * value; positions < 1 are treated as 1. Never below the floor.
 */
double ltrr_pbias_propensity(const ltrr_pbias_table_t *tab, int position);

/**
 * @brief Inverse-propensity label for the ranker: clicked / P(position),
 * at most @p clip; 0 when not clicked.
 */
double ltrr_pbias_ipw_label(const ltrr_pbias_table_t *tab, int position,
                            int clicked, double clip);

#endif /* LTRR_POSITION_BIAS_H */
