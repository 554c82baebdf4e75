/*
 * ltrr - the learner's plan: which Redis script invocations a Reward
 * implies.
 *
 * Every invocation runs the learner's one Lua script (consumers/lua/
 * apply.lua) on keys of ONE hash slot, so it runs on Redis Cluster too.
 * Its first key is a deduplication bitmap in that slot; the script sets
 * the bit of the reward's source reference and applies the effect only
 * if the bit was clear, so every invocation is idempotent on its own and
 * a crash between the invocations of one reward is harmless.
 *
 *   part        slot tag          source reference       applied when
 *   bandit      {b0} / {lin:fN}   impression part+offset apply_bandit
 *   q2e count   {q:<query>}       impression part+offset apply_bandit
 *   q2e engage  {q:<query>}       action part+offset     apply_engagement
 *   popularity  {pop}             action part+offset     apply_engagement
 *   profile     {u:<user>}        action part+offset     apply_engagement
 *
 * Bitmaps: `ltrr:dedup:<tag>:<i|a>:<partition>:<segment>`, segment =
 * offset / LTRR_LEARN_DEDUP_SEG_BITS, bit = offset % that; each segment
 * expires dedup.ttl after its last update, which bounds their memory to
 * the segments touched within that time (LTRR_LEARN_DEDUP_SEG_BITS / 8
 * bytes each).
 *
 * Script arguments: KEYS[1] the bitmap, KEYS[2..] the targets; ARGV[1]
 * the kind (LTRR_LEARN_KIND_*), ARGV[2] the bit, ARGV[3] the bitmap TTL
 * in seconds, then the kind's own arguments (see apply.lua). The
 * learner's consumed offsets use kind "o" without a bitmap.
 *
 * Pure: the plan only formats strings; it touches no socket.
 */
#ifndef LTRR_LEARN_PLAN_H
#define LTRR_LEARN_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "bandit.h"
#include "err.h"
#include "profile.h"
#include "q2e.h"
#include "records.h"

/** Bits per deduplication bitmap segment (128 bytes). */
#define LTRR_LEARN_DEDUP_SEG_BITS 1024
/** Redis Cluster hash slots. */
#define LTRR_LEARN_SLOTS 16384
/** Most invocations one reward yields. */
#define LTRR_LEARN_CALLS_PER_REWARD 5
/** Most invocations a plan holds (bounded batch). */
#define LTRR_LEARN_PLAN_MAX (100000 * LTRR_LEARN_CALLS_PER_REWARD)

/** Script kinds (ARGV[1]). */
#define LTRR_LEARN_KIND_BANDIT "b"
#define LTRR_LEARN_KIND_Q2E_COUNT "qn"
#define LTRR_LEARN_KIND_Q2E "q"
#define LTRR_LEARN_KIND_POP "p"
#define LTRR_LEARN_KIND_PROFILE "u"
#define LTRR_LEARN_KIND_OFFSETS "o"

/** @brief Learner settings the plan needs. */
typedef struct ltrr_learn_conf_s {
        ltrr_bandit_space_t space;   /**< arms, budgets, dim */
        double bandit_half_life;     /**< seconds; 0: no decay */
        int64_t dedup_ttl_s;         /**< bitmap segment expiry */
        ltrr_q2e_conf_t q2e;         /**< Q2E bounds */
        ltrr_profile_conf_t profile; /**< profile and popularity bounds */
} ltrr_learn_conf_t;

/** @brief One script invocation: argv = keys then args. */
typedef struct ltrr_learn_call_s {
        const char *kind;     /**< LTRR_LEARN_KIND_*, static */
        int slot;             /**< hash slot shared by every key */
        size_t key_cnt;       /**< keys at the start of argv */
        size_t argc;          /**< keys + args */
        char **argv;          /**< owned by the plan */
        size_t *argvlen;      /**< lengths of argv */
        size_t seq;           /**< order of addition */
} ltrr_learn_call_t;

typedef struct ltrr_learn_plan_s ltrr_learn_plan_t;

/** @brief Counters of parts a plan skipped. */
typedef struct ltrr_learn_plan_stats_s {
        uint64_t rewards;      /**< rewards added */
        uint64_t arms_skipped; /**< arm rewards not in the space or range */
        uint64_t parts_skipped; /**< parts with a bad query/user/entity */
} ltrr_learn_plan_stats_t;

/**
 * @brief Creates an empty plan for @p conf (copied).
 * @returns the plan or NULL with the reason in @p errstr (invalid space
 *          or bounds, out of memory).
 */
ltrr_learn_plan_t *ltrr_learn_plan_new(const ltrr_learn_conf_t *conf,
                                       char *errstr, size_t errstr_size);

/** @brief Frees @p pl; NULL is a no-op. */
void ltrr_learn_plan_destroy(ltrr_learn_plan_t *pl);

/** @brief Removes every invocation (keeps the counters). */
void ltrr_learn_plan_clear(ltrr_learn_plan_t *pl);

/**
 * @brief Appends the invocations @p rew implies.
 *
 * Parts that cannot be keyed (empty or too long query, user or entity)
 * and arm rewards outside the space are skipped and counted; the rest
 * is still planned.
 * @returns LTRR_OK; LTRR_ERR_NOSPACE past LTRR_LEARN_PLAN_MAX calls;
 *          LTRR_ERR_NOMEM. On error nothing of @p rew is added.
 */
ltrr_err_t ltrr_learn_plan_add(ltrr_learn_plan_t *pl,
                               const ltrr_reward_t *rew, char *errstr,
                               size_t errstr_size);

/**
 * @brief Appends the invocation that stores consumed offsets: the hash
 * `ltrr:learn:{off}:<group>` gets field "<topic>:<partition>" = offset
 * for each of the @p n entries.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG or LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_learn_plan_add_offsets(ltrr_learn_plan_t *pl,
                                       const char *group,
                                       const ltrr_kafka_ref_t *refs,
                                       size_t n, char *errstr,
                                       size_t errstr_size);

/**
 * @brief Orders the invocations by hash slot, keeping the order of
 * addition within a slot (so a cluster client sends one group per node).
 */
void ltrr_learn_plan_group(ltrr_learn_plan_t *pl);

/** @brief Invocations in the plan. */
size_t ltrr_learn_plan_count(const ltrr_learn_plan_t *pl);

/** @brief Invocation @p i (valid until the next add or clear), or NULL. */
const ltrr_learn_call_t *ltrr_learn_plan_call(const ltrr_learn_plan_t *pl,
                                              size_t i);

/** @brief Copies the counters. */
void ltrr_learn_plan_stats(const ltrr_learn_plan_t *pl,
                           ltrr_learn_plan_stats_t *st);

/**
 * @brief The Redis Cluster hash slot of @p key: CRC16 (XMODEM) of the
 * hash tag (the bytes between the first '{' and the next '}', when
 * non-empty) or of the whole key, modulo 16384.
 */
int ltrr_learn_key_slot(const char *key, size_t len);

/**
 * @brief Escapes @p in for use inside a key and a hash tag: '%', '{',
 * '}', ':', bytes below 0x21 and 0x7f become %XX, so distinct inputs
 * give distinct keys and never end a tag early.
 * @returns LTRR_OK or LTRR_ERR_NOSPACE.
 */
ltrr_err_t ltrr_learn_key_escape(char *buf, size_t size, const char *in,
                                 char *errstr, size_t errstr_size);

/** @brief The name of the consumed offsets hash for @p group. */
ltrr_err_t ltrr_learn_offsets_key(char *buf, size_t size, const char *group,
                                  char *errstr, size_t errstr_size);

#endif /* LTRR_LEARN_PLAN_H */
