/*
 * ltrr - asynchronous Redis for the serving path: one hiredis async
 * connection on a libevent base, pipelined commands, and reconnection
 * with backoff in the background.
 *
 * Commands are sent at once and answered in order; a caller that wants
 * a bound on its wait arms its own timer (the connection never blocks).
 * While the connection is down, ltrr_redis_async_cmd() refuses at once
 * (LTRR_ERR_TRANSPORT) and a timer retries the connect with a backoff
 * doubling from 10 ms to LTRR_REDIS_ASYNC_BACKOFF_MAX_MS.
 */
#ifndef LTRR_REDIS_ASYNC_H
#define LTRR_REDIS_ASYNC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct event_base;
struct redisReply;

/** Longest wait between reconnection attempts. */
#define LTRR_REDIS_ASYNC_BACKOFF_MAX_MS 1000
/** Commands in flight per connection; beyond it commands are refused. */
#define LTRR_REDIS_ASYNC_PENDING_MAX 65536

/** Opaque connection (short name: ra). */
typedef struct ltrr_redis_async_s ltrr_redis_async_t;

/**
 * @brief Reply callback.
 * @param r the reply, or NULL when the command failed (connection lost or
 *        closed); valid until the callback returns.
 */
typedef void(ltrr_redis_async_cb_t)(void *opaque, struct redisReply *r);

/**
 * @brief Creates a connection to @p addr ("host:port") on @p base and
 *        starts connecting; failures are retried in the background.
 *
 * With a non-empty @p password every connection sends AUTH first (with
 * @p user when non-empty, for an ACL user); a refused AUTH is logged and
 * the connection retried with backoff.
 * @returns the handle, or NULL for a bad address, a user or password too
 *          long, or no memory.
 */
ltrr_redis_async_t *ltrr_redis_async_new(struct event_base *base,
                                         const char *addr, const char *user,
                                         const char *password, char *errstr,
                                         size_t errstr_size);

/** @brief Closes the connection (pending callbacks get NULL); NULL is a
 *  no-op. Must not be called from a reply callback. */
void ltrr_redis_async_destroy(ltrr_redis_async_t *ra);

/** @brief 1 when connected and accepting commands. */
int ltrr_redis_async_ready(const ltrr_redis_async_t *ra);

/**
 * @brief Sends one command (arguments are copied).
 * @returns LTRR_OK (@p cb will be called exactly once), or
 *          LTRR_ERR_TRANSPORT when not connected / LTRR_ERR_NOSPACE when
 *          too many commands are pending (@p cb is not called).
 */
ltrr_err_t ltrr_redis_async_cmd(ltrr_redis_async_t *ra,
                                ltrr_redis_async_cb_t *cb, void *opaque,
                                int argc, const char **argv,
                                const size_t *argvlen);

/** @brief Connection losses and failed connects so far. */
uint64_t ltrr_redis_async_errors(const ltrr_redis_async_t *ra);

#endif /* LTRR_REDIS_ASYNC_H */
