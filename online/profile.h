/*
 * ltrr - user profiles and popularity counters in Redis.
 *
 * Per user (one hash slot, tag `{u:<user>}`):
 *
 *   ltrr:user:{u:<user>}:recent  sorted set: entity -> latest engagement
 *                                time (epoch ms, only ever raised); the
 *                                profile.recent.max most recent are kept
 *   ltrr:user:{u:<user>}:aff     sorted set: entity -> sum of engagement
 *                                values; the profile.affinity.max
 *                                largest are kept
 *
 * Both expire after profile.ttl without updates. Keeping "the largest
 * N by a value that only grows (max or sum of positives)" gives the same
 * set whatever the order of updates, which replays need.
 *
 * Popularity (one global slot, tag `{pop}`):
 *
 *   ltrr:pop:{pop}    sorted set: entity -> decayed engagement, stored
 *                     scaled to the epoch (value * 2^((t - e) / h))
 *   ltrr:pop:{pop}:e  the epoch e, seconds
 *
 * A reader gets the decayed count at time now as
 * score * 2^(-(now - e) / h) (ltrr_profile_pop_decay()); the largest
 * pop.max entities are kept.
 */
#ifndef LTRR_PROFILE_H
#define LTRR_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/** Longest user id accepted, in bytes before escaping. */
#define LTRR_PROFILE_USER_MAX 128

/** @brief Profile and popularity settings (learn config). */
typedef struct ltrr_profile_conf_s {
        int recent_max;       /**< recent entities kept per user */
        int affinity_max;     /**< affinities kept per user */
        int64_t ttl_s;        /**< idle expiry of a profile, seconds */
        int pop_max;          /**< entities kept in popularity */
        double pop_half_life; /**< seconds; 0: no decay */
} ltrr_profile_conf_t;

/** @brief Profile key kinds. */
typedef enum {
        LTRR_PROFILE_RECENT = 0,  /**< recent entities */
        LTRR_PROFILE_AFFINITY = 1 /**< entity affinities */
} ltrr_profile_kind_t;

/**
 * @brief Formats a profile key of @p user.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG for an empty user or a bad
 *          kind; LTRR_ERR_RANGE for a user longer than
 *          LTRR_PROFILE_USER_MAX; LTRR_ERR_NOSPACE if @p size is small.
 */
ltrr_err_t ltrr_profile_key(char *buf, size_t size, const char *user,
                            ltrr_profile_kind_t kind, char *errstr,
                            size_t errstr_size);

/** The popularity sorted set key. */
#define LTRR_PROFILE_POP_KEY "ltrr:pop:{pop}"
/** The popularity epoch key (same slot). */
#define LTRR_PROFILE_POP_EPOCH_KEY "ltrr:pop:{pop}:e"

/**
 * @brief Decays a stored popularity score to time @p now.
 * @returns score * 2^(-(now - epoch) / half_life), or @p score when
 *          @p half_life is not positive.
 */
double ltrr_profile_pop_decay(double score, double epoch, double now,
                              double half_life);

/**
 * @brief The epoch a new decayed key takes for a first update at @p t:
 * t rounded down to a multiple of 32 half-lives (0 without decay), so
 * learners that see different first updates usually agree.
 */
double ltrr_profile_epoch_align(double t, double half_life);

#endif /* LTRR_PROFILE_H */
