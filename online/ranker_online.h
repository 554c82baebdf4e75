/*
 * ltrr - online ranker updates as additive statistics.
 *
 * Several learner instances apply rewards in any order and after any
 * crash, so the online part of the ranker keeps only sums, which do not
 * depend on order: AdaGrad dual averaging (RDA). Each training example
 * (a shown result, logged by serving with its feature vector and the
 * serving model's logit, and attached to a reward by the join) gives a
 * logistic gradient g = (sigmoid(margin) - label_ipw) * x, where
 * label_ipw = label / P(examined | position) clipped at ipw_clip (the
 * soft-label correction of docs/decisions/0010-ranker.md). The state is
 * z = sum of g and n = sum of g^2 per coordinate, stored in fixed point
 * (integers of 1 / LTRR_RANKER_ONLINE_SCALE) so that Redis's HINCRBY
 * sums them exactly and the final state is bit-identical whatever the
 * order. Serving turns the sums into weights in closed form and adds
 * them to the base model (the loaded blob or the built-in weights).
 * See docs/decisions/0034-online-ranker.md.
 */
#ifndef LTRR_RANKER_ONLINE_H
#define LTRR_RANKER_ONLINE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "position_bias.h"
#include "ranker.h"
#include "records.h"

/** Redis hash of the online statistics: fields z:<i>, n:<i>, count. */
#define LTRR_RANKER_ONLINE_KEY "ltrr:ranker:{ranker}:online"
/** Redis string: rewards applied (same slot; serving polls it). */
#define LTRR_RANKER_ONLINE_COUNT_KEY "ltrr:ranker:{ranker}:online:count"
/** Fixed-point units per 1.0 of z and n. */
#define LTRR_RANKER_ONLINE_SCALE 100000000.0
/** Most examples one reward carries (the first shown positions). */
#define LTRR_RANKER_ONLINE_EXAMPLES_MAX 10
/** Exponent of the default examination model P(p) = (1 / p)^eta. */
#define LTRR_RANKER_ONLINE_IPW_ETA 1.0
/** Largest |delta| of one reward and coordinate, in fixed-point units. */
#define LTRR_RANKER_ONLINE_DELTA_MAX 1000000000000LL

/** Bytes of a packed ltrr_ranker_delta_t: z then n, little-endian
 * int64s (the learner's script argument, online/learn_plan.c). */
#define LTRR_RANKER_ONLINE_PACKED (2 * LTRR_RANKER_NFEAT * 8)

/** @brief The statistics of one reward, in fixed-point units. */
typedef struct ltrr_ranker_delta_s {
        int64_t z[LTRR_RANKER_NFEAT]; /**< sum of gradients */
        int64_t n[LTRR_RANKER_NFEAT]; /**< sum of squared gradients */
        size_t used;                  /**< examples used */
        size_t skipped;               /**< examples refused (bad vector,
                                           position or label) */
} ltrr_ranker_delta_t;

/** @brief Accumulated online statistics, as serving reads them. */
typedef struct ltrr_ranker_stats_s {
        double z[LTRR_RANKER_NFEAT]; /**< sum of gradients */
        double n[LTRR_RANKER_NFEAT]; /**< sum of squared gradients */
        int64_t count;               /**< rewards applied */
} ltrr_ranker_stats_t;

/**
 * @brief Fills @p tab with the default examination model: P(p) =
 *        (1 / p)^@p eta for positions 1..LTRR_PBIAS_MAX_POS, floored at
 *        LTRR_PBIAS_DEFAULT_FLOOR.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG if eta is negative or not finite.
 */
ltrr_err_t ltrr_ranker_online_pbias(ltrr_pbias_table_t *tab, double eta,
                                    char *errstr, size_t errstr_size);

/**
 * @brief The statistics one reward adds: the sum over its @p n examples
 *        of g and g^2 per coordinate, each rounded to fixed point once.
 *
 * An example is refused (counted in skipped) when its vector is not
 * LTRR_RANKER_NFEAT finite values in [-1e3, 1e3], its position is
 * negative, its label is outside [0, 1] or its margin not finite.
 * @param pb    examination model; NULL: no position correction.
 * @param clip  largest inverse propensity (ipw_clip), >= 1.
 */
void ltrr_ranker_online_delta(const ltrr_rank_example_t *ex, size_t n,
                              const ltrr_pbias_table_t *pb, double clip,
                              ltrr_ranker_delta_t *d);

/**
 * @brief Weights from the statistics in closed form (RDA with L1/L2):
 *        w_i = base_i + r_i, r_i = 0 when |z_i| <= l1, else
 *        -(z_i - sign(z_i) l1) / ((beta + sqrt(n_i)) / alpha + l2).
 * @param base  LTRR_RANKER_NFEAT base weights; NULL: zeros.
 * @param w     output, LTRR_RANKER_NFEAT weights.
 */
void ltrr_ranker_online_weights(const ltrr_ranker_params_t *p,
                                const double *base,
                                const ltrr_ranker_stats_t *st, double *w);

/**
 * @brief A new model: @p base's weights plus the online part of @p st
 *        (with @p base's parameters).
 * @returns the model (caller owns it), or NULL with the reason in
 *          @p errstr (statistics not finite or n negative, weights not
 *          finite, out of memory).
 * @remark Reads @p base only; several threads may apply to one base.
 */
ltrr_ranker_t *ltrr_ranker_online_apply(const ltrr_ranker_t *base,
                                        const ltrr_ranker_stats_t *st,
                                        char *errstr, size_t errstr_size);

/** @brief Writes z and n of @p d to @p out (LTRR_RANKER_ONLINE_PACKED
 *         bytes). */
void ltrr_ranker_online_pack(const ltrr_ranker_delta_t *d, uint8_t *out);

/** @brief Adds the z and n packed at @p p (LTRR_RANKER_ONLINE_PACKED
 *         bytes, as ltrr_ranker_online_pack() writes them) to @p d. */
void ltrr_ranker_online_unpack_add(const uint8_t *p, ltrr_ranker_delta_t *d);

/**
 * @brief Reads one field of the statistics hash into @p st: "z:<i>" and
 *        "n:<i>" (fixed-point integers), "count". Unknown fields are
 *        ignored (LTRR_OK).
 * @returns LTRR_OK; LTRR_ERR_PARSE on a malformed value or an index out
 *          of the layout.
 */
ltrr_err_t ltrr_ranker_online_field(ltrr_ranker_stats_t *st,
                                    const char *field, const char *value,
                                    char *errstr, size_t errstr_size);

#endif /* LTRR_RANKER_ONLINE_H */
