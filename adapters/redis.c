/*
 * ltrr - thin Redis adapter on hiredis (see redis.h).
 */
#include "redis.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "log.h"

/** Longest "host:port". */
#define REDIS_ADDR_MAX 256
/** Most arguments of one EVALSHA. */
#define REDIS_ARGV_MAX 65536

struct ltrr_redis_s {
        char host[REDIS_ADDR_MAX]; /* host part of the address */
        int port;                  /* port part */
        int timeout_ms;            /* connect and command timeout */
        char *script;              /* owned Lua source */
        char *user;                /* owned ACL user, or NULL */
        char *password;            /* owned password, or NULL: no AUTH */
        char sha[41];              /* SHA1 of the loaded script */
        redisContext *c;           /* owned; NULL while disconnected */
        const char **argv;         /* scratch EVALSHA argv */
        size_t *argvlen;           /* scratch lengths */
};

ltrr_redis_t *ltrr_redis_new(const char *addr, int timeout_ms,
                             const char *script, char *errstr,
                             size_t errstr_size)
{
        ltrr_redis_t *rd = NULL;
        const char *colon = addr ? strrchr(addr, ':') : NULL;

        if (!colon || colon == addr || (size_t)(colon - addr) >= REDIS_ADDR_MAX ||
            atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535 || !script) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "redis address must be host:port, got '%s'",
                          addr ? addr : "(null)");
                return NULL;
        }
        rd = calloc(1, sizeof(*rd));
        if (!rd)
                goto nomem;
        memcpy(rd->host, addr, (size_t)(colon - addr));
        rd->port = atoi(colon + 1);
        rd->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
        rd->script = strdup(script);
        rd->argv = calloc(REDIS_ARGV_MAX, sizeof(*rd->argv));
        rd->argvlen = calloc(REDIS_ARGV_MAX, sizeof(*rd->argvlen));
        if (!rd->script || !rd->argv || !rd->argvlen)
                goto nomem;
        return rd;
nomem:
        ltrr_redis_destroy(rd);
        ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return NULL;
}

/* Drops the connection. */
static void redis_drop(ltrr_redis_t *rd)
{
        if (rd->c)
                redisFree(rd->c);
        rd->c = NULL;
}

void ltrr_redis_destroy(ltrr_redis_t *rd)
{
        if (!rd)
                return;
        redis_drop(rd);
        free(rd->script);
        free(rd->user);
        free(rd->password);
        free(rd->argv);
        free(rd->argvlen);
        free(rd);
}

ltrr_err_t ltrr_redis_set_auth(ltrr_redis_t *rd, const char *user,
                               const char *password, char *errstr,
                               size_t errstr_size)
{
        char *u = NULL, *p = NULL;

        if (password && *password) {
                p = strdup(password);
                u = user && *user ? strdup(user) : NULL;
                if (!p || (user && *user && !u)) {
                        free(p);
                        free(u);
                        return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                         "out of memory");
                }
        }
        free(rd->user);
        free(rd->password);
        rd->user = u;
        rd->password = p;
        return LTRR_OK;
}

/* Sends AUTH when credentials are set. The reason never holds the
 * password. */
static ltrr_err_t redis_auth(ltrr_redis_t *rd, char *errstr,
                             size_t errstr_size)
{
        redisReply *r;
        ltrr_err_t err = LTRR_OK;

        if (!rd->password)
                return LTRR_OK;
        if (rd->user)
                r = redisCommand(rd->c, "AUTH %s %s", rd->user, rd->password);
        else
                r = redisCommand(rd->c, "AUTH %s", rd->password);
        if (!r)
                return ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                 "AUTH: %s", rd->c->errstr);
        if (r->type == REDIS_REPLY_ERROR)
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "AUTH refused: %s", r->str);
        freeReplyObject(r);
        return err;
}

void ltrr_redis_disconnect(ltrr_redis_t *rd)
{
        redis_drop(rd);
}

int ltrr_redis_connected(const ltrr_redis_t *rd)
{
        return rd->c != NULL;
}

const char *ltrr_redis_sha(const ltrr_redis_t *rd)
{
        return rd->sha;
}

/* Loads the script; records its SHA1. */
static ltrr_err_t redis_load(ltrr_redis_t *rd, char *errstr,
                             size_t errstr_size)
{
        redisReply *r = redisCommand(rd->c, "SCRIPT LOAD %s", rd->script);
        ltrr_err_t err = LTRR_OK;

        if (!r) {
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "SCRIPT LOAD: %s", rd->c->errstr);
                redis_drop(rd);
                return err;
        }
        if (r->type != REDIS_REPLY_STRING || r->len != 40)
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "SCRIPT LOAD: %s",
                                r->type == REDIS_REPLY_ERROR ? r->str
                                                             : "bad reply");
        else
                memcpy(rd->sha, r->str, 41);
        freeReplyObject(r);
        return err;
}

ltrr_err_t ltrr_redis_connect(ltrr_redis_t *rd, char *errstr,
                              size_t errstr_size)
{
        struct timeval tv = {rd->timeout_ms / 1000,
                             (rd->timeout_ms % 1000) * 1000};
        ltrr_err_t err;

        if (rd->c)
                return LTRR_OK;
        rd->c = redisConnectWithTimeout(rd->host, rd->port, tv);
        if (!rd->c || rd->c->err) {
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "connect %s:%d: %s", rd->host, rd->port,
                                rd->c ? rd->c->errstr : "out of memory");
                redis_drop(rd);
                return err;
        }
        if (redisSetTimeout(rd->c, tv) != REDIS_OK) {
                redis_drop(rd);
                return ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                 "cannot set the redis timeout");
        }
        err = redis_auth(rd, errstr, errstr_size);
        if (!err)
                err = redis_load(rd, errstr, errstr_size);
        if (err)
                redis_drop(rd);
        return err;
}

/* Appends EVALSHA of @p c to the output buffer. */
static ltrr_err_t redis_append_call(ltrr_redis_t *rd,
                                    const ltrr_learn_call_t *c,
                                    char *numkeys, size_t numkeys_size)
{
        size_t i, n = 0;

        if (c->argc + 3 > REDIS_ARGV_MAX)
                return LTRR_ERR_RANGE;
        snprintf(numkeys, numkeys_size, "%zu", c->key_cnt);
        rd->argv[n] = "EVALSHA";
        rd->argvlen[n++] = 7;
        rd->argv[n] = rd->sha;
        rd->argvlen[n++] = 40;
        rd->argv[n] = numkeys;
        rd->argvlen[n++] = strlen(numkeys);
        for (i = 0; i < c->argc; i++) {
                rd->argv[n] = c->argv[i];
                rd->argvlen[n++] = c->argvlen[i];
        }
        if (redisAppendCommandArgv(rd->c, (int)n, rd->argv, rd->argvlen) !=
            REDIS_OK)
                return LTRR_ERR_NOMEM;
        return LTRR_OK;
}

/* Reads @p n replies; counts outcomes; *noscript set on NOSCRIPT. */
static ltrr_err_t redis_read_replies(ltrr_redis_t *rd, size_t n,
                                     ltrr_redis_batch_t *out, int *noscript,
                                     char *errstr, size_t errstr_size)
{
        ltrr_err_t err = LTRR_OK;
        redisReply *r;
        size_t i;

        for (i = 0; i < n; i++) {
                if (redisGetReply(rd->c, (void **)&r) != REDIS_OK || !r) {
                        err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr,
                                        errstr_size, "redis: %s",
                                        rd->c->errstr);
                        redis_drop(rd);
                        return err;
                }
                if (r->type == REDIS_REPLY_ERROR &&
                    !strncmp(r->str, "NOSCRIPT", 8))
                        *noscript = 1;
                else if (r->type == REDIS_REPLY_ERROR && !err)
                        err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr,
                                        errstr_size, "script: %s", r->str);
                else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                         r->element[0]->type == REDIS_REPLY_INTEGER &&
                         r->element[1]->type == REDIS_REPLY_INTEGER) {
                        out->applied += (uint64_t)r->element[0]->integer;
                        out->duplicates += (uint64_t)r->element[1]->integer;
                        out->calls++;
                } else if (r->type == REDIS_REPLY_INTEGER) {
                        out->calls++; /* offsets */
                }
                freeReplyObject(r);
        }
        return err;
}

/* One pass over the plan: append everything, then read everything. */
static ltrr_err_t redis_apply_once(ltrr_redis_t *rd,
                                   const ltrr_learn_plan_t *pl,
                                   ltrr_redis_batch_t *out, int *noscript,
                                   char *errstr, size_t errstr_size)
{
        size_t i, n = ltrr_learn_plan_count(pl);
        char numkeys[24];
        ltrr_err_t err;

        for (i = 0; i < n; i++) {
                err = redis_append_call(rd, ltrr_learn_plan_call(pl, i),
                                        numkeys, sizeof(numkeys));
                if (err) {
                        redis_drop(rd); /* the output buffer is partial */
                        return ltrr_errf(err, errstr, errstr_size,
                                         "appending call %zu: %s", i,
                                         ltrr_err2str(err));
                }
        }
        return redis_read_replies(rd, n, out, noscript, errstr, errstr_size);
}

ltrr_err_t ltrr_redis_apply(ltrr_redis_t *rd, const ltrr_learn_plan_t *pl,
                            ltrr_redis_batch_t *out, char *errstr,
                            size_t errstr_size)
{
        ltrr_redis_batch_t tmp = {0, 0, 0, 0};
        int noscript = 0;
        ltrr_err_t err;

        if (!rd->c)
                return ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                 "redis not connected");
        err = redis_apply_once(rd, pl, &tmp, &noscript, errstr, errstr_size);
        if (!err && noscript) {
                /* Redis restarted without the script: load it and resend
                 * the whole plan; calls that ran are duplicates now. */
                tmp.loads++;
                noscript = 0;
                err = redis_load(rd, errstr, errstr_size);
                if (!err)
                        err = redis_apply_once(rd, pl, &tmp, &noscript,
                                               errstr, errstr_size);
                if (!err && noscript)
                        err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr,
                                        errstr_size, "NOSCRIPT after load");
        }
        if (out) {
                out->applied += tmp.applied;
                out->duplicates += tmp.duplicates;
                out->loads += tmp.loads;
                out->calls += tmp.calls;
        }
        return err;
}

ltrr_err_t ltrr_redis_send(ltrr_redis_t *rd, const ltrr_learn_plan_t *pl,
                           size_t *calls, char *errstr, size_t errstr_size)
{
        size_t i, n = ltrr_learn_plan_count(pl);
        char numkeys[24];
        ltrr_err_t err;
        int done = 0;

        *calls = 0;
        if (!rd->c)
                return ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                 "redis not connected");
        for (i = 0; i < n; i++) {
                err = redis_append_call(rd, ltrr_learn_plan_call(pl, i),
                                        numkeys, sizeof(numkeys));
                if (err) {
                        redis_drop(rd); /* the output buffer is partial */
                        return ltrr_errf(err, errstr, errstr_size,
                                         "appending call %zu: %s", i,
                                         ltrr_err2str(err));
                }
        }
        while (!done) {
                if (redisBufferWrite(rd->c, &done) != REDIS_OK) {
                        err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr,
                                        errstr_size, "redis: %s",
                                        rd->c->errstr);
                        redis_drop(rd);
                        return err;
                }
        }
        *calls = n;
        return LTRR_OK;
}

ltrr_err_t ltrr_redis_recv(ltrr_redis_t *rd, size_t calls,
                           ltrr_redis_batch_t *out, char *errstr,
                           size_t errstr_size)
{
        ltrr_redis_batch_t tmp = {0, 0, 0, 0};
        int noscript = 0;
        ltrr_err_t err;

        if (!rd->c)
                return ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                 "redis not connected");
        err = redis_read_replies(rd, calls, &tmp, &noscript, errstr,
                                 errstr_size);
        if (!err && noscript) {
                /* Batches sent after this one failed too: start over on
                 * a new connection, which loads the script. */
                redis_drop(rd);
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "NOSCRIPT: script flushed, reconnecting");
        }
        if (out) {
                out->applied += tmp.applied;
                out->duplicates += tmp.duplicates;
                out->calls += tmp.calls;
        }
        return err;
}

ltrr_err_t ltrr_redis_hget_i64(ltrr_redis_t *rd, const char *key,
                               const char *field, int64_t *out,
                               char *errstr, size_t errstr_size)
{
        ltrr_err_t err = LTRR_OK;
        redisReply *r;
        char *end;

        if (!rd->c)
                return ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                 "redis not connected");
        r = redisCommand(rd->c, "HGET %s %s", key, field);
        if (!r) {
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "HGET: %s", rd->c->errstr);
                redis_drop(rd);
                return err;
        }
        if (r->type == REDIS_REPLY_NIL) {
                err = LTRR_ERR_UNKNOWN_KEY;
        } else if (r->type != REDIS_REPLY_STRING) {
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "HGET: %s", r->type == REDIS_REPLY_ERROR
                                                ? r->str : "bad reply");
        } else {
                errno = 0;
                *out = strtoll(r->str, &end, 10);
                if (errno || end == r->str || *end)
                        err = ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                        "%s %s is not an integer", key,
                                        field);
        }
        freeReplyObject(r);
        return err;
}

double ltrr_redis_ping_ms(ltrr_redis_t *rd)
{
        struct timespec a, b;
        redisReply *r;
        int ok;

        if (!rd->c)
                return -1;
        clock_gettime(CLOCK_MONOTONIC, &a);
        r = redisCommand(rd->c, "PING");
        clock_gettime(CLOCK_MONOTONIC, &b);
        ok = r && r->type == REDIS_REPLY_STATUS;
        if (!r)
                redis_drop(rd);
        freeReplyObject(r);
        if (!ok)
                return -1;
        return (double)(b.tv_sec - a.tv_sec) * 1e3 +
               (double)(b.tv_nsec - a.tv_nsec) / 1e6;
}
