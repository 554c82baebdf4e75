/*
 * ltrr - the join of impressions with actions into rewards, in event time.
 *
 * The pure state machine behind ltrr-join: it is fed decoded impressions
 * and actions with their Kafka position (partition, offset) and a clock,
 * and hands every reward it decides to a callback. It never touches Kafka;
 * the daemon (consumers/join_main.c) produces what it is given and commits
 * the offsets ltrr_join_commit_point() returns.
 *
 * Per partition p (impressions partition p and actions partition p are
 * co-partitioned by user_id), the join keeps:
 *   - pending impressions in offset order, with a hash by impression_id;
 *   - held actions (read before their impression), in offset order;
 *   - two watermarks: the impressions watermark (max impression event
 *     time - lateness) expires held actions; the actions watermark (max
 *     action event time - lateness) closes windows. Both advance by wall
 *     clock when the partition has been quiet for `idle`.
 *
 * Rules (docs/JOIN.md and docs/decisions/0015-join-semantics.md):
 *   - an action meets its impression X when X.time - tolerance <=
 *     action.time <= X.time + window + late_horizon; otherwise it is
 *     dangling (counted, emitted nowhere);
 *   - the first action (in offset order) inside [X.time - tolerance,
 *     X.time + window] while X is open: outcome matched, apply_bandit and
 *     apply_engagement; later ones in the window: matched, engagement only;
 *   - an action after the window (or after X closed): late, engagement only;
 *   - the window closes when the actions watermark passes X.time + window;
 *     without a match, outcome no_action, value 0, apply_bandit only;
 *   - a repeated action_id is dropped and counted;
 *   - caps: pending impressions (evicting the oldest decides it as
 *     no_action at once), held actions (the oldest becomes dangling),
 *     actions per impression (more are dropped and counted).
 *
 * @remark Not thread-safe: one join per consumer thread.
 */
#ifndef LTRR_JOIN_H
#define LTRR_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "records.h"

/** Highest partition number + 1 the join accepts. */
#define LTRR_JOIN_PARTITIONS_MAX 1024
/** Most arms an impression may carry; more: LTRR_ERR_RANGE (to the DLQ). */
#define LTRR_JOIN_ARMS_MAX 64
/** Most distinct actions one impression takes; more are dropped. */
#define LTRR_JOIN_IMP_ACTIONS_MAX 16
/** Largest event time (and duration) accepted, in ms: year 10889. */
#define LTRR_JOIN_TIME_MAX ((int64_t)1 << 48)
/** Most ranker examples a reward carries (the first shown positions). */
#define LTRR_JOIN_RANK_EXAMPLES_MAX 10
/** Longest ranker feature vector a snapshot keeps. */
#define LTRR_JOIN_RANK_FEATURES_MAX 256
/** Upper bound of the pending impression and held action caps. */
#define LTRR_JOIN_PENDING_LIMIT (16 * 1024 * 1024)

/** Settings of a join; start from ltrr_join_conf_defaults(). */
typedef struct ltrr_join_conf_s {
        int64_t window_ms;       /**< attribution window after impression */
        int64_t tolerance_ms;    /**< how far before its impression an
                                      action may be (clock skew) */
        int64_t lateness_ms;     /**< allowed lateness of the watermarks */
        int64_t late_horizon_ms; /**< after the window: actions still met
                                      as late; beyond: dangling */
        int64_t idle_ms;         /**< quiet time before wall-clock advance */
        size_t pending_max;      /**< pending impressions per partition */
        size_t held_max;         /**< held actions per partition */
        double values[LTRR_ACTION__CNT]; /**< reward value per action type */
        const char *node_id;     /**< written into rewards; copied */
        const char *imp_topic;   /**< impression_ref topic; copied */
        const char *act_topic;   /**< action_ref topic; copied */
} ltrr_join_conf_t;

/** Counters of a join; monotonic except the two pending gauges. */
typedef struct ltrr_join_stats_s {
        uint64_t impressions;   /**< impressions accepted */
        uint64_t actions;       /**< actions accepted */
        uint64_t duplicates;    /**< repeated action_id or impression_id */
        uint64_t dangling;      /**< actions that met no impression */
        uint64_t late;          /**< actions after the window */
        uint64_t evicted;       /**< impressions evicted by the cap */
        uint64_t held_evicted;  /**< held actions evicted by the cap */
        uint64_t overflow;      /**< actions over LTRR_JOIN_IMP_ACTIONS_MAX */
        uint64_t replayed;      /**< records below the read position, skipped */
        uint64_t rewards[LTRR_OUTCOME__CNT]; /**< rewards by outcome */
        uint64_t pending;       /**< gauge: impressions in state */
        uint64_t held;          /**< gauge: actions held for impressions */
} ltrr_join_stats_t;

/**
 * @brief Called for every reward decided.
 *
 * @param rew the reward; it and every pointer in it are valid until the
 *            callback returns.
 * @param partition the partition the reward was decided on.
 * @locality the thread feeding the join.
 */
typedef void(ltrr_join_emit_cb_t)(void *opaque, int32_t partition,
                                  const ltrr_reward_t *rew);

typedef struct ltrr_join_s ltrr_join_t; /* j */

/**
 * @brief Fills @p jc with the defaults: window 10 min, tolerance 2 min,
 *        lateness 5 s, late horizon 10 min, idle 30 s, 100000 pending
 *        impressions, 10000 held actions, values click 1, play 3, like 2,
 *        add_to_playlist 2.5, share 2.5, skip -1, unknown 0.
 */
void ltrr_join_conf_defaults(ltrr_join_conf_t *jc);

/**
 * @brief Creates a join.
 * @returns the join, or NULL with the reason in @p errstr (a duration
 *          <= 0 where one is needed, a cap of 0 or over
 *          LTRR_JOIN_PENDING_LIMIT, a value not finite, out of memory).
 * @remark @p jc is copied; @p cb must not call back into the join.
 */
ltrr_join_t *ltrr_join_new(const ltrr_join_conf_t *jc, ltrr_join_emit_cb_t *cb,
                           void *opaque, char *errstr, size_t errstr_size);

/** @brief Frees the join and all its state; NULL is a no-op. */
void ltrr_join_destroy(ltrr_join_t *j);

/**
 * @brief Feeds one impression read at (@p partition, @p offset).
 *
 * Records at an offset below the partition's read position are replays
 * of records already seen and are skipped (counted).
 * @param now_ms wall clock, for the idle advance only.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG (partition or offset out of
 *          range); LTRR_ERR_RANGE (the record is unusable: the reason is
 *          in @p errstr, send it to the DLQ); LTRR_ERR_NOMEM.
 * @remark @p imp is copied; it may be freed when the call returns.
 */
ltrr_err_t ltrr_join_impression(ltrr_join_t *j, int32_t partition,
                                int64_t offset, const ltrr_impression_t *imp,
                                int64_t now_ms, char *errstr,
                                size_t errstr_size);

/**
 * @brief As ltrr_join_impression(), with the ranker inputs of the
 *        results (@p rankers: imp->result_cnt entries, or NULL), which
 *        matched engagements turn into ranker examples (docs/JOIN.md).
 */
ltrr_err_t ltrr_join_impression_ranked(ltrr_join_t *j, int32_t partition,
                                       int64_t offset,
                                       const ltrr_impression_t *imp,
                                       const ltrr_ranker_input_t *rankers,
                                       int64_t now_ms, char *errstr,
                                       size_t errstr_size);

/** @brief Feeds one action; as ltrr_join_impression(). */
ltrr_err_t ltrr_join_action(ltrr_join_t *j, int32_t partition, int64_t offset,
                            const ltrr_action_t *act, int64_t now_ms,
                            char *errstr, size_t errstr_size);

/**
 * @brief Moves the read position of @p partition past a record that was
 *        not fed (malformed, sent to the DLQ), so that commit points may
 *        pass it. @p action selects the actions (1) or impressions (0).
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG or LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_join_skip(ltrr_join_t *j, int32_t partition, int64_t offset,
                          int action);

/**
 * @brief Advances the watermark of every partition quiet for idle_ms to
 *        @p now_ms - idle - lateness, closing windows and expiring held
 *        actions accordingly. Call it every few hundred ms.
 */
void ltrr_join_tick(ltrr_join_t *j, int64_t now_ms);

/**
 * @brief Where a restart must resume on @p partition so that replay makes
 *        the same decisions (the argument is in decision 0015).
 *
 * @param imp_next receives the first impression offset to read again (the
 *        oldest impression still in state), or -1 when nothing was read.
 * @param act_next receives the first action offset to read again (the
 *        oldest held action or the oldest action that met an impression
 *        still in state), or -1 when nothing was read.
 * @returns LTRR_OK or LTRR_ERR_INVALID_ARG.
 */
ltrr_err_t ltrr_join_commit_point(const ltrr_join_t *j, int32_t partition,
                                  int64_t *imp_next, int64_t *act_next);

/**
 * @brief Forgets everything about @p partition (revoked: the new owner
 *        rebuilds it by replay). Nothing is emitted.
 */
void ltrr_join_drop_partition(ltrr_join_t *j, int32_t partition);

/** @brief Copies the counters into @p st. */
void ltrr_join_stats(const ltrr_join_t *j, ltrr_join_stats_t *st);

/**
 * @brief The reward value of an action type under @p jc (0 for a type
 *        out of range).
 */
double ltrr_join_value(const ltrr_join_conf_t *jc, ltrr_action_type_t type);

/** @brief The name of an outcome ("matched", ...), or NULL. */
const char *ltrr_join_outcome_name(ltrr_outcome_t outcome);

/** A deep copy of the impression fields a reward needs (one allocation). */
typedef struct ltrr_join_snap_s ltrr_join_snap_t; /* snap */

/**
 * @brief Copies the parts of @p imp a reward needs (ids, user, query,
 *        context, policy, arms and their candidates; not the results)
 *        and, from @p rankers (parallel to the results, or NULL), the
 *        ranker inputs of the results shown within the first
 *        LTRR_JOIN_RANK_EXAMPLES_MAX positions, for
 *        ltrr_join_snap_rank_examples().
 * @returns the copy, or NULL with the reason (LTRR_ERR_RANGE: more than
 *          LTRR_JOIN_ARMS_MAX arms; out of memory).
 */
ltrr_join_snap_t *ltrr_join_snap_new(const ltrr_impression_t *imp,
                                     const ltrr_ranker_input_t *rankers,
                                     char *errstr, size_t errstr_size);

/** @brief Frees a snapshot; NULL is a no-op. */
void ltrr_join_snap_destroy(ltrr_join_snap_t *snap);

/** @brief The copied impression (results are left out: result_cnt 0). */
const ltrr_impression_t *ltrr_join_snap_impression(
    const ltrr_join_snap_t *snap);

/**
 * @brief Fills @p rew with the reward of the impression in @p snap.
 *
 * @param imp_ref  where the impression was read.
 * @param act      the action, or NULL for a no_action reward.
 * @param act_ref  where the action was read (ignored without @p act).
 * @param arms     room for the impression's arm_cnt arm rewards: arm i
 *                 gets the action's value when the engaged entity is
 *                 among its candidates, else 0.
 * @remark @p rew points into @p snap, @p act, @p jc, @p imp_ref, @p act_ref
 *         and @p arms: valid while they are.
 */
void ltrr_join_snap_reward(const ltrr_join_snap_t *snap,
                           const ltrr_join_conf_t *jc,
                           const ltrr_kafka_ref_t *imp_ref,
                           const ltrr_action_t *act,
                           const ltrr_kafka_ref_t *act_ref,
                           ltrr_outcome_t outcome, bool apply_bandit,
                           ltrr_arm_reward_t *arms, ltrr_reward_t *rew);

/**
 * @brief The ranker examples of an engagement with the impression in
 *        @p snap (docs/JOIN.md, "Ranker examples").
 *
 * The engaged result (matched by the action's position and entity among
 * the kept results) gets label 1 for a positive @p value, 0 for a
 * negative one (a skip); for a positive value the kept results shown
 * above it come first, label 0 (examined and passed over, the cascade
 * assumption), by ascending position. Nothing when the engaged result
 * logged no ranker input or @p value is 0.
 * @param ex   room for @p cap examples; they point into @p snap.
 * @returns the number of examples written, at most @p cap.
 */
size_t ltrr_join_snap_rank_examples(const ltrr_join_snap_t *snap,
                                    const ltrr_action_t *act, double value,
                                    ltrr_rank_example_t *ex, size_t cap);

#endif /* LTRR_JOIN_H */
