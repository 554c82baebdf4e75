/*
 * ltrr - hiredis async + libevent adapter with background reconnects.
 */
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "redis_async.h"

/* First reconnection delay. */
#define RA_BACKOFF_MIN_MS 10
/* Longest host name kept. */
#define RA_HOST_MAX 256

/* Longest AUTH user and password kept (the config's own limits). */
#define RA_USER_MAX 65
#define RA_PASSWORD_MAX 256

/* One command's callback, the privdata hiredis hands back. */
typedef struct ra_cmd_s {
        ltrr_redis_async_t *ra;   /* connection */
        ltrr_redis_async_cb_t *cb; /* caller callback */
        void *opaque;             /* its argument */
} ra_cmd_t;

struct ltrr_redis_async_s {
        struct event_base *base;  /* not owned */
        redisAsyncContext *ac;    /* NULL while down */
        int connected;            /* 1 after the connect callback */
        struct event *retry;      /* reconnect timer */
        int backoff_ms;           /* next delay */
        char host[RA_HOST_MAX];   /* server host */
        int port;                 /* server port */
        size_t pending;           /* commands without a reply */
        char user[RA_USER_MAX];   /* AUTH user, "" for the default */
        char password[RA_PASSWORD_MAX]; /* AUTH password, "" for none */
        uint64_t errors;          /* losses and failed connects */
        int closing;              /* destroy in progress */
};

static void ra_schedule(ltrr_redis_async_t *ra)
{
        struct timeval tv = {ra->backoff_ms / 1000,
                             (ra->backoff_ms % 1000) * 1000};

        if (ra->closing)
                return;
        event_add(ra->retry, &tv);
        ra->backoff_ms *= 2;
        if (ra->backoff_ms > LTRR_REDIS_ASYNC_BACKOFF_MAX_MS)
                ra->backoff_ms = LTRR_REDIS_ASYNC_BACKOFF_MAX_MS;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
        ltrr_redis_async_t *ra = ac->data;

        if (status != REDIS_OK) {
                /* hiredis frees the context after this callback. */
                ra->ac = NULL;
                ra->connected = 0;
                ra->errors++;
                ra_schedule(ra);
                return;
        }
        ra->connected = 1;
        ra->backoff_ms = RA_BACKOFF_MIN_MS;
        log_info("redis", "connected", "host", ra->host);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
        ltrr_redis_async_t *ra = ac->data;

        ra->ac = NULL;
        ra->connected = 0;
        if (ra->closing)
                return;
        ra->errors++;
        log_warn("redis", "connection lost", "host", ra->host, "err",
                 status == REDIS_OK ? "closed" : ac->errstr);
        ra_schedule(ra);
}

/* AUTH's reply: a refusal is logged (never the password) and the
 * connection dropped, so it is retried with backoff while queries answer
 * from cached state. */
static void auth_cb(redisAsyncContext *ac, void *r, void *privdata)
{
        redisReply *reply = r;
        ltrr_redis_async_t *ra = privdata;

        if (!reply || reply->type != REDIS_REPLY_ERROR)
                return;
        log_error("redis", "AUTH refused", "host", ra->host, "user",
                  ra->user[0] ? ra->user : "default", "err", reply->str);
        redisAsyncDisconnect(ac);
}

/* Queues AUTH ahead of every other command of a new connection. */
static void ra_auth(ltrr_redis_async_t *ra, redisAsyncContext *ac)
{
        if (!ra->password[0])
                return;
        if (ra->user[0])
                redisAsyncCommand(ac, auth_cb, ra, "AUTH %s %s", ra->user,
                                  ra->password);
        else
                redisAsyncCommand(ac, auth_cb, ra, "AUTH %s", ra->password);
}

/* Starts one connect attempt; failures schedule the next. */
static void ra_connect(ltrr_redis_async_t *ra)
{
        redisAsyncContext *ac = redisAsyncConnect(ra->host, ra->port);

        if (!ac || ac->err) {
                if (ac)
                        redisAsyncFree(ac);
                ra->errors++;
                ra_schedule(ra);
                return;
        }
        ac->data = ra;
        if (redisLibeventAttach(ac, ra->base) != REDIS_OK) {
                redisAsyncFree(ac);
                ra->errors++;
                ra_schedule(ra);
                return;
        }
        redisAsyncSetConnectCallback(ac, on_connect);
        redisAsyncSetDisconnectCallback(ac, on_disconnect);
        ra_auth(ra, ac);
        ra->ac = ac;
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
        ltrr_redis_async_t *ra = arg;

        (void)fd;
        (void)what;
        if (!ra->ac)
                ra_connect(ra);
}

/* Parses "host:port" into @p ra. */
static int addr_parse(ltrr_redis_async_t *ra, const char *addr)
{
        const char *colon = addr ? strrchr(addr, ':') : NULL;
        char *end;
        long port;

        if (!colon || colon == addr ||
            (size_t)(colon - addr) >= sizeof(ra->host))
                return -1;
        port = strtol(colon + 1, &end, 10);
        if (*end || port < 1 || port > 65535)
                return -1;
        memcpy(ra->host, addr, (size_t)(colon - addr));
        ra->host[colon - addr] = '\0';
        ra->port = (int)port;
        return 0;
}

ltrr_redis_async_t *ltrr_redis_async_new(struct event_base *base,
                                         const char *addr, const char *user,
                                         const char *password, char *errstr,
                                         size_t errstr_size)
{
        ltrr_redis_async_t *ra = calloc(1, sizeof(*ra));

        if (!ra) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "no memory");
                return NULL;
        }
        if ((user && strlen(user) >= sizeof(ra->user)) ||
            (password && strlen(password) >= sizeof(ra->password))) {
                ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                          "redis user or password too long");
                free(ra);
                return NULL;
        }
        if (user)
                strcpy(ra->user, user);
        if (password)
                strcpy(ra->password, password);
        ra->base = base;
        ra->backoff_ms = RA_BACKOFF_MIN_MS;
        if (addr_parse(ra, addr)) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "bad redis address '%s'", addr ? addr : "");
                free(ra);
                return NULL;
        }
        if (!(ra->retry = evtimer_new(base, retry_cb, ra))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "no memory");
                free(ra);
                return NULL;
        }
        ra_connect(ra);
        return ra;
}

void ltrr_redis_async_destroy(ltrr_redis_async_t *ra)
{
        if (!ra)
                return;
        ra->closing = 1;
        if (ra->ac)
                redisAsyncFree(ra->ac); /* pending callbacks get NULL */
        ra->ac = NULL;
        event_free(ra->retry);
        free(ra);
}

int ltrr_redis_async_ready(const ltrr_redis_async_t *ra)
{
        return ra && ra->ac && ra->connected;
}

static void reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
        ra_cmd_t *cmd = privdata;

        (void)ac;
        cmd->ra->pending--;
        cmd->cb(cmd->opaque, r);
        free(cmd);
}

ltrr_err_t ltrr_redis_async_cmd(ltrr_redis_async_t *ra,
                                ltrr_redis_async_cb_t *cb, void *opaque,
                                int argc, const char **argv,
                                const size_t *argvlen)
{
        ra_cmd_t *cmd;

        if (!ltrr_redis_async_ready(ra))
                return LTRR_ERR_TRANSPORT;
        if (ra->pending >= LTRR_REDIS_ASYNC_PENDING_MAX)
                return LTRR_ERR_NOSPACE;
        if (!(cmd = malloc(sizeof(*cmd))))
                abort(); /* the daemons treat out of memory as fatal */
        cmd->ra = ra;
        cmd->cb = cb;
        cmd->opaque = opaque;
        if (redisAsyncCommandArgv(ra->ac, reply_cb, cmd, argc, argv,
                                  argvlen) != REDIS_OK) {
                free(cmd);
                return LTRR_ERR_TRANSPORT;
        }
        ra->pending++;
        return LTRR_OK;
}

uint64_t ltrr_redis_async_errors(const ltrr_redis_async_t *ra)
{
        return ra ? ra->errors : 0;
}
