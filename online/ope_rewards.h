/*
 * ltrr - off-policy evaluation of arm-selection policies from logged
 * Reward records (the ltrr.rewards topic).
 *
 * The bandit is a semi-bandit: per impression several arms run, each with
 * its own logged propensity p_a = P(arm a runs) and its own reward r_a.
 * The value of a policy pi is V(pi) = E[ sum_a pi_a(x) r_a(x) ], with
 * pi_a(x) the probability that pi runs arm a in context x. Each arm is
 * therefore evaluated as a binary bandit whose actions are "run" and
 * "off" (off earns 0):
 *
 *   row of arm a = ran ? (r_a, p_a, pi_a) : (0, 1 - p_a, 1 - pi_a)
 *
 * so IPS_a = mean_i 1{a ran} r_a pi_a / p_a, and SNIPS, DM, DR and
 * Switch-DR come from the ltrr_ope evaluator unchanged. The reward model
 * is per arm: q_a(run) = mean reward of arm a over the impressions where
 * it ran, q_a(off) = 0. The total value (all arms) is the sum over arms;
 * its IPS, DM and DR are evaluated on one row per impression so that the
 * bootstrap keeps the arms of one impression together. docs/OPE.md
 * states the estimator and its assumptions.
 *
 * No I/O: records arrive as bytes (framed files are read by the caller).
 */
#ifndef LTRR_OPE_REWARDS_H
#define LTRR_OPE_REWARDS_H

#include <stddef.h>
#include <stdint.h>

#include "avro_codec.h"
#include "err.h"
#include "ope.h"
#include "records.h"

/** Most distinct arms one log may name. */
#define LTRR_OPE_REWARDS_ARMS_MAX 16
/** Arm name buffer size, NUL included. */
#define LTRR_OPE_REWARDS_NAME_MAX 32
/** Longest framed record accepted, in bytes. */
#define LTRR_OPE_REWARDS_FRAME_MAX (1u << 20)

/** @brief Target policies over arm subsets. */
typedef enum {
        LTRR_OPE_TARGET_LOGGED = 0,  /**< the logging policy itself:
                                        pi_a = p_a (an on-policy check) */
        LTRR_OPE_TARGET_UNIFORM = 1, /**< uniform random arms with the same
                                        expected count as the logger:
                                        pi_a = (sum_b p_b) / n */
        LTRR_OPE_TARGET_ARM = 2      /**< always arm X and no other:
                                        pi_X = 1, others 0 */
} ltrr_ope_target_kind_t;

/** @brief A target policy. */
typedef struct ltrr_ope_target_s {
        ltrr_ope_target_kind_t kind;         /**< which policy */
        char arm[LTRR_OPE_REWARDS_NAME_MAX]; /**< arm X for TARGET_ARM */
} ltrr_ope_target_t;

/**
 * @brief Parses "logged", "uniform" or "arm:NAME".
 * @returns LTRR_OK, LTRR_ERR_UNKNOWN_KEY or LTRR_ERR_RANGE (name too long
 *          or empty).
 */
ltrr_err_t ltrr_ope_target_parse(const char *s, ltrr_ope_target_t *t,
                                 char *errstr, size_t errstr_size);

/** @brief Counts of one read. */
typedef struct ltrr_ope_rewards_stats_s {
        size_t records; /**< frames seen */
        size_t used;    /**< rewards kept */
        size_t skipped; /**< rewards with apply_bandit false (engagement
                           only: a later action on the same impression) */
        size_t bad;     /**< undecodable or inconsistent records */
} ltrr_ope_rewards_stats_t;

/** @brief Opaque log of decisions (short name: rw). */
typedef struct ltrr_ope_rewards_s ltrr_ope_rewards_t;

/**
 * @brief Creates an empty log holding at most @p capacity impressions
 * (1..LTRR_OPE_ROWS_MAX); memory grows as rewards are added.
 * @returns the log, or NULL with the reason in @p errstr.
 */
ltrr_ope_rewards_t *ltrr_ope_rewards_new(size_t capacity, char *errstr,
                                         size_t errstr_size);

/** @brief Frees @p rw; NULL is a no-op. */
void ltrr_ope_rewards_destroy(ltrr_ope_rewards_t *rw);

/**
 * @brief Adds one decoded reward (copied).
 * @returns LTRR_OK (also for a reward skipped because apply_bandit is
 *          false: *@p used is then 0); LTRR_ERR_RANGE for a propensity
 *          outside [0, 1], an arm that ran with propensity 0 or did not
 *          run with propensity 1, a non-finite reward; LTRR_ERR_INVALID_ARG
 *          for an arm listed twice or a bad name; LTRR_ERR_NOSPACE when
 *          the log or the arm table is full; LTRR_ERR_NOMEM. On error
 *          nothing is added.
 * @param used may be NULL; receives 1 when the reward was kept.
 */
ltrr_err_t ltrr_ope_rewards_add(ltrr_ope_rewards_t *rw,
                                const ltrr_reward_t *rew, int *used,
                                char *errstr, size_t errstr_size);

/**
 * @brief Reads framed records: each a 4-byte big-endian length and a
 * single-object Avro record (as `kcat -f '%R%s'` and `ltrr-avro encode`
 * write them). Non-Reward records and records that fail to decode or
 * ltrr_ope_rewards_add() count as bad.
 * @param max_bad bad records tolerated before the read fails.
 * @param st receives the counts (may be NULL).
 * @returns LTRR_OK; LTRR_ERR_TRUNCATED for a partial frame at the end;
 *          LTRR_ERR_RANGE for a frame above LTRR_OPE_REWARDS_FRAME_MAX;
 *          the error of the bad record past @p max_bad; LTRR_ERR_NOSPACE
 *          or LTRR_ERR_NOMEM. Rewards read before an error stay added.
 */
ltrr_err_t ltrr_ope_rewards_read(ltrr_ope_rewards_t *rw,
                                 ltrr_avro_decoder_t *dec, const uint8_t *data,
                                 size_t len, size_t max_bad,
                                 ltrr_ope_rewards_stats_t *st, char *errstr,
                                 size_t errstr_size);

/** @brief Impressions kept. */
size_t ltrr_ope_rewards_count(const ltrr_ope_rewards_t *rw);

/** @brief Distinct arms seen, in order of first appearance. */
size_t ltrr_ope_rewards_arms(const ltrr_ope_rewards_t *rw);

/** @brief Name of arm @p i, or NULL when out of range. */
const char *ltrr_ope_rewards_arm_name(const ltrr_ope_rewards_t *rw, size_t i);

/** @brief Result of one evaluation. */
typedef struct ltrr_ope_rewards_report_s {
        size_t n;      /**< impressions */
        size_t n_arms; /**< entries in arm[] and on_policy_arm[] */
        ltrr_ope_report_t arm[LTRR_OPE_REWARDS_ARMS_MAX]; /**< per arm */
        double on_policy_arm[LTRR_OPE_REWARDS_ARMS_MAX]; /**< logging
                                                     policy's mean reward of
                                                     each arm (1{ran} r) */
        ltrr_ope_report_t total; /**< sum over arms: est[] IPS, DM and DR
                                    hold; in this row form (weights 1)
                                    SNIPS equals IPS and Switch-DR equals
                                    DR, so neither is reported */
        double on_policy;  /**< logging policy's mean total reward */
        size_t gaps;       /**< (impression, arm) pairs where the target
                              puts mass on an option the logger never
                              takes (p_a = 1 and pi_a < 1, or p_a = 0 and
                              pi_a > 0): IPS there is biased */
} ltrr_ope_rewards_report_t;

/**
 * @brief Evaluates @p t on the log with every estimator.
 * @param conf NULL for the defaults of ltrr_ope_conf_init().
 * @returns LTRR_OK; LTRR_ERR_STATE with no impressions or no arms;
 *          LTRR_ERR_UNKNOWN_KEY when TARGET_ARM names an arm never seen;
 *          errors of ltrr_ope_evaluate(); LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_ope_rewards_evaluate(const ltrr_ope_rewards_t *rw,
                                     const ltrr_ope_target_t *t,
                                     const ltrr_ope_conf_t *conf,
                                     ltrr_ope_rewards_report_t *rep,
                                     char *errstr, size_t errstr_size);

#endif /* LTRR_OPE_REWARDS_H */
