/*
 * ltrr - the learner's plan: which Redis script invocations a Reward
 * implies.
 *
 * Every invocation runs the learner's one Lua script (consumers/lua/
 * apply.lua) on keys of ONE hash slot, so it runs on Redis Cluster too.
 * Rewards are first split into parts, then the parts of a batch are
 * grouped: one invocation per (kind, target keys) carries every record
 * of that group (up to a bound, past which the group is split). The
 * script sets each record's bit in its deduplication bitmap and adds
 * the record to the aggregate only if the bit was clear, then writes
 * the aggregate (one command per field or member), all atomically; so
 * each record still takes effect exactly once while Redis runs one
 * command per touched field instead of one per record and field.
 *
 *   part        slot tag          source reference       applied when
 *   bandit      {b<bucket>} /     impression part+offset apply_bandit
 *               {lin:fN}
 *   q2e count   {q:<query>}       impression part+offset apply_bandit
 *   q2e engage  {q:<query>}       action part+offset     apply_engagement
 *   popularity  {pop}             action part+offset     apply_engagement
 *   profile     {u:<user>}        action part+offset     apply_engagement
 *   ranker      {ranker}          action part+offset     apply_engagement
 *                                                        with examples
 *
 * Bitmaps: `ltrr:dedup:<tag>:<i|a>:<partition>:<segment>`, segment =
 * offset / LTRR_LEARN_DEDUP_SEG_BITS, bit = offset % that; each segment
 * expires dedup.ttl after its last update, which bounds their memory to
 * the segments touched within that time (LTRR_LEARN_DEDUP_SEG_BITS / 8
 * bytes each).
 *
 * Invocation layout: KEYS = the m distinct bitmaps of the records, then
 * the targets; ARGV = kind (LTRR_LEARN_KIND_*), m, bitmap TTL (s), f,
 * f fixed arguments of the kind, then per record: bitmap index
 * (1-based), bit, v, v values (see apply.lua). The consumed offsets use
 * kind "o": KEYS[1] the hash, ARGV "o" then field, value pairs.
 *
 * Pure: the plan only formats strings into an arena it reuses across
 * batches; it touches no socket. Each distinct string of a batch (key,
 * bitmap key, field name, entity, small integer, recurring number) is
 * formatted once and shared by every argument that needs it
 * (docs/decisions/0029); the arguments are the same bytes either way.
 */
#ifndef LTRR_LEARN_PLAN_H
#define LTRR_LEARN_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "bandit.h"
#include "err.h"
#include "position_bias.h"
#include "profile.h"
#include "q2e.h"
#include "records.h"

/** Bits per deduplication bitmap segment (128 bytes). */
#define LTRR_LEARN_DEDUP_SEG_BITS 1024
/** Redis Cluster hash slots. */
#define LTRR_LEARN_SLOTS 16384
/** Most invocations one reward yields. */
#define LTRR_LEARN_CALLS_PER_REWARD 6
/** Most invocations a plan holds (bounded batch). */
#define LTRR_LEARN_PLAN_MAX (100000 * LTRR_LEARN_CALLS_PER_REWARD)

/** Script kinds (ARGV[1]). */
#define LTRR_LEARN_KIND_BANDIT "b"
#define LTRR_LEARN_KIND_Q2E_COUNT "qn"
#define LTRR_LEARN_KIND_Q2E "q"
#define LTRR_LEARN_KIND_POP "p"
#define LTRR_LEARN_KIND_PROFILE "u"
#define LTRR_LEARN_KIND_RANKER "r"
#define LTRR_LEARN_KIND_OFFSETS "o"

/** @brief Learner settings the plan needs. */
typedef struct ltrr_learn_conf_s {
        ltrr_bandit_space_t space;   /**< arms, budgets, dim */
        double bandit_half_life;     /**< seconds; 0: no decay */
        int64_t dedup_ttl_s;         /**< bitmap segment expiry */
        ltrr_q2e_conf_t q2e;         /**< Q2E bounds */
        ltrr_profile_conf_t profile; /**< profile and popularity bounds */
        double ranker_ipw_eta;       /**< examination model (1/p)^eta of
                                          ranker examples; 0: default
                                          LTRR_RANKER_ONLINE_IPW_ETA */
        double ranker_ipw_clip;      /**< largest inverse propensity;
                                          0: the ranker default (10) */
} ltrr_learn_conf_t;

/** @brief One script invocation: argv = keys then args; the strings
 * live in the plan's arena until the next add, seal or clear. */
typedef struct ltrr_learn_call_s {
        const char *kind;     /**< LTRR_LEARN_KIND_*, static */
        int slot;             /**< hash slot shared by every key */
        size_t key_cnt;       /**< keys at the start of argv */
        size_t argc;          /**< keys + args */
        char **argv;          /**< owned by the plan */
        size_t *argvlen;      /**< lengths of argv */
        size_t seq;           /**< order of addition (first record) */
        size_t records;       /**< records carried (0 for offsets) */
        size_t arg0;          /**< internal: first argument's index */
} ltrr_learn_call_t;

typedef struct ltrr_learn_plan_s ltrr_learn_plan_t;

/** @brief Counters of parts a plan skipped. */
typedef struct ltrr_learn_plan_stats_s {
        uint64_t rewards;      /**< rewards added */
        uint64_t arms_skipped; /**< arm rewards not in the space or range */
        uint64_t parts_skipped; /**< parts with a bad query/user/entity */
        uint64_t bucket_unknown; /**< bandit parts whose logged context
                                    does not tell the bucket: sent to
                                    bucket 0 */
        uint64_t ranker_examples; /**< ranker examples planned */
        uint64_t ranker_skipped;  /**< ranker examples refused (bad
                                       vector, position or label) */
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

/** @brief Removes every part and invocation (keeps the counters and the
 * memory, reused by the next batch). */
void ltrr_learn_plan_clear(ltrr_learn_plan_t *pl);

/**
 * @brief Adds the parts @p rew implies (they become invocations when the
 * plan is sealed).
 *
 * Parts that cannot be keyed (empty or too long query, user or entity)
 * and arm rewards outside the space are skipped and counted; the rest
 * is still planned.
 * @returns LTRR_OK; LTRR_ERR_NOSPACE past the plan's bounds;
 *          LTRR_ERR_NOMEM; LTRR_ERR_STATE when the plan is sealed. On
 *          error nothing of @p rew is added.
 */
ltrr_err_t ltrr_learn_plan_add(ltrr_learn_plan_t *pl,
                               const ltrr_reward_t *rew, char *errstr,
                               size_t errstr_size);

/**
 * @brief Turns the parts added so far into invocations, one per group
 * (kind and target keys), in the order of each group's first part
 * within a kind. Adding rewards afterwards needs a clear first.
 * @returns LTRR_OK or LTRR_ERR_NOMEM / LTRR_ERR_NOSPACE (the plan is then
 *          cleared).
 */
ltrr_err_t ltrr_learn_plan_seal(ltrr_learn_plan_t *pl, char *errstr,
                                size_t errstr_size);

/**
 * @brief Appends the invocation that stores consumed offsets: the hash
 * `ltrr:learn:{off}:<group>` gets field "<topic>:<partition>" = offset
 * for each of the @p n entries. Seals the plan first, so this call is
 * the last one.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG or LTRR_ERR_NOMEM (the plan is
 *          then cleared).
 */
ltrr_err_t ltrr_learn_plan_add_offsets(ltrr_learn_plan_t *pl,
                                       const char *group,
                                       const ltrr_kafka_ref_t *refs,
                                       size_t n, char *errstr,
                                       size_t errstr_size);

/**
 * @brief Orders the invocations by hash slot, keeping the order of
 * addition within a slot (so a cluster client sends one group per node).
 * A trailing offsets invocation stays last.
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

/**
 * @brief The context bucket of a logged context, computed as serving
 * computes it (online/feature.h): (intent * 3 + language group) * 2 +
 * day off. The intent is `query_type` (unknown names are ambiguous, as
 * in serving), the language group is read from the logged vector's
 * lang_* one-hot entries, day off is `holiday` (weekend or holiday) or
 * the vector's weekend/holiday flags.
 * @returns LTRR_OK; LTRR_ERR_UNKNOWN_KEY when the context carries no
 *          context vector of the current layout (the language group is
 *          logged nowhere else).
 */
ltrr_err_t ltrr_learn_reward_bucket(const ltrr_context_t *ctx,
                                    uint32_t *bucket);

/** @brief The name of the consumed offsets hash for @p group. */
ltrr_err_t ltrr_learn_offsets_key(char *buf, size_t size, const char *group,
                                  char *errstr, size_t errstr_size);

#endif /* LTRR_LEARN_PLAN_H */
