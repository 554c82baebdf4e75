/*
 * ltrr - thin Redis adapter on hiredis for the learner and tools.
 *
 * A blocking client with a command timeout: pipelined EVALSHA of a
 * learn plan, either in one round trip (ltrr_redis_apply(), with a
 * NOSCRIPT fallback that loads the script and resends the batch: every
 * call of a plan is idempotent) or split into send and receive so that
 * several batches can be in flight (ltrr_redis_send() and
 * ltrr_redis_recv()); reconnection on demand, and a few helpers.
 * The learner's Kafka loop is blocking too, so an event loop would add
 * nothing on this path; the admin HTTP server runs on its own thread.
 */
#ifndef LTRR_REDIS_H
#define LTRR_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "learn_plan.h"

typedef struct ltrr_redis_s ltrr_redis_t;

/** @brief Outcome counts of one applied plan. */
typedef struct ltrr_redis_batch_s {
        uint64_t applied;    /**< records whose effect was applied */
        uint64_t duplicates; /**< records skipped by the dedup bitmap */
        uint64_t loads;      /**< SCRIPT LOADs after NOSCRIPT */
        uint64_t calls;      /**< script calls answered (offsets too) */
} ltrr_redis_batch_t;

/**
 * @brief Creates a client for "host:port" (not yet connected).
 * @param script Lua source sent with SCRIPT LOAD (copied).
 * @returns the client or NULL with the reason in @p errstr.
 */
ltrr_redis_t *ltrr_redis_new(const char *addr, int timeout_ms,
                             const char *script, char *errstr,
                             size_t errstr_size);

/**
 * @brief Sets the credentials sent with AUTH on every (re)connection,
 * before anything else: `AUTH user password` when @p user is non-empty
 * (Redis 6 ACL users), `AUTH password` otherwise; nothing when
 * @p password is NULL or empty. Both strings are copied.
 * @returns LTRR_OK or LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_redis_set_auth(ltrr_redis_t *rd, const char *user,
                               const char *password, char *errstr,
                               size_t errstr_size);

/** @brief Closes and frees @p rd; NULL is a no-op. */
void ltrr_redis_destroy(ltrr_redis_t *rd);

/**
 * @brief Connects if not connected (AUTH when set, then SCRIPT LOAD).
 * @returns LTRR_OK or LTRR_ERR_TRANSPORT (the client stays disconnected).
 */
ltrr_err_t ltrr_redis_connect(ltrr_redis_t *rd, char *errstr,
                              size_t errstr_size);

/** @brief Drops the connection (the next connect() makes a new one). */
void ltrr_redis_disconnect(ltrr_redis_t *rd);

/** @brief 1 when a connection is up (as far as the client knows). */
int ltrr_redis_connected(const ltrr_redis_t *rd);

/** @brief The script's SHA1 (hex), valid once connected. */
const char *ltrr_redis_sha(const ltrr_redis_t *rd);

/**
 * @brief Sends every call of @p pl as EVALSHA in one pipeline and reads
 * every reply.
 * @param out counts of the replies (may be NULL).
 * @returns LTRR_OK when every call succeeded; LTRR_ERR_TRANSPORT on a
 *          connection error (the connection is dropped: reconnect and
 *          resend the plan) or a script error reply.
 */
ltrr_err_t ltrr_redis_apply(ltrr_redis_t *rd, const ltrr_learn_plan_t *pl,
                            ltrr_redis_batch_t *out, char *errstr,
                            size_t errstr_size);

/**
 * @brief Sends every call of @p pl as EVALSHA and writes them out
 * without reading any reply, so a caller can prepare the next batch
 * while Redis runs this one. Replies are read, in order, by
 * ltrr_redis_recv(). The plan may be cleared once this returns (the
 * commands are copied into the output buffer). No synchronous command
 * (hget, ping) may be sent while replies are pending.
 * @param calls set to the number of replies this batch will produce.
 * @returns LTRR_OK; LTRR_ERR_TRANSPORT (the connection is dropped).
 */
ltrr_err_t ltrr_redis_send(ltrr_redis_t *rd, const ltrr_learn_plan_t *pl,
                           size_t *calls, char *errstr, size_t errstr_size);

/**
 * @brief Reads the @p calls replies of the oldest batch sent with
 * ltrr_redis_send() and adds their counts to @p out (may be NULL).
 * @returns LTRR_OK when every call succeeded; LTRR_ERR_TRANSPORT on a
 *          connection error, a script error reply or NOSCRIPT (the
 *          script was flushed: the connection is dropped, since a later
 *          batch already sent failed too; reconnecting loads it again).
 */
ltrr_err_t ltrr_redis_recv(ltrr_redis_t *rd, size_t calls,
                           ltrr_redis_batch_t *out, char *errstr,
                           size_t errstr_size);

/**
 * @brief HGET @p key @p field as a signed integer.
 * @returns LTRR_OK; LTRR_ERR_UNKNOWN_KEY when absent; LTRR_ERR_PARSE when
 *          not an integer; LTRR_ERR_TRANSPORT.
 */
ltrr_err_t ltrr_redis_hget_i64(ltrr_redis_t *rd, const char *key,
                               const char *field, int64_t *out,
                               char *errstr, size_t errstr_size);

/** @brief Round-trip time of a PING in ms, or -1 when it fails. */
double ltrr_redis_ping_ms(ltrr_redis_t *rd);

#endif /* LTRR_REDIS_H */
