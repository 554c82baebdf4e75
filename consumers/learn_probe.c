/*
 * ltrr-learn: the write probe behind /healthz.
 *
 * Redis can answer reads and refuse writes: MISCONF after an AOF or RDB
 * write error, READONLY on a replica, OOM at maxmemory with noeviction.
 * Connecting, loading the script and reading the stored offsets all
 * work then, so they do not tell whether the learner can make progress.
 * The probe writes the learner's heartbeat key (SET ... PX, a key under
 * ltrr:learn: in the offsets slot) on a connection of its own; the
 * learner counts Redis as up only once such a write succeeded.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "learn_int.h"
#include "log.h"

/** Longest "host" of the Redis address. */
#define PROBE_HOST_MAX 256

struct learn_probe_s {
        char host[PROBE_HOST_MAX]; /* host part of the address */
        int port;                  /* port part */
        int timeout_ms;            /* connect and command timeout */
        const char *user;          /* ACL user or "" (config-owned) */
        const char *password;      /* "" or NULL: no AUTH (config-owned) */
        char key[768];             /* the heartbeat key */
        redisContext *c;           /* owned; NULL while disconnected */
};

learn_probe_t *learn_probe_new(const ltrr_config_learn_t *cf, char *errstr,
                               size_t errstr_size)
{
        const char *addr = cf->common.redis_addr;
        const char *colon = addr ? strrchr(addr, ':') : NULL;
        char base[512], host[128];
        learn_probe_t *pb;
        int port = colon ? atoi(colon + 1) : 0;

        if (!colon || colon == addr ||
            (size_t)(colon - addr) >= PROBE_HOST_MAX || port <= 0 ||
            port > 65535) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "redis address must be host:port, got '%s'",
                          addr ? addr : "(null)");
                return NULL;
        }
        if (ltrr_learn_offsets_key(base, sizeof(base), cf->group, errstr,
                                   errstr_size))
                return NULL;
        if (gethostname(host, sizeof(host)) != 0)
                snprintf(host, sizeof(host), "unknown");
        host[sizeof(host) - 1] = '\0';
        pb = calloc(1, sizeof(*pb));
        if (!pb) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "out of memory");
                return NULL;
        }
        memcpy(pb->host, addr, (size_t)(colon - addr));
        pb->port = port;
        pb->timeout_ms = cf->common.redis_timeout_ms > 0
                             ? (int)cf->common.redis_timeout_ms
                             : 1000;
        pb->user = cf->common.redis_user;
        pb->password = cf->common.redis_password;
        snprintf(pb->key, sizeof(pb->key), "%s:hb:%s:%ld", base, host,
                 (long)getpid());
        return pb;
}

/* Drops the connection. */
static void probe_drop(learn_probe_t *pb)
{
        if (pb->c)
                redisFree(pb->c);
        pb->c = NULL;
}

void learn_probe_destroy(learn_probe_t *pb)
{
        if (!pb)
                return;
        probe_drop(pb);
        free(pb);
}

/* Runs one command; the reply is the caller's. NULL: connection lost
 * (dropped, reason in errstr). */
static redisReply *probe_cmd(learn_probe_t *pb, char *errstr,
                             size_t errstr_size, const char *fmt, ...)
{
        redisReply *r;
        va_list ap;

        va_start(ap, fmt);
        r = redisvCommand(pb->c, fmt, ap);
        va_end(ap);
        if (!r) {
                ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                          "redis: %s", pb->c->errstr);
                probe_drop(pb);
        }
        return r;
}

/* Connects (and authenticates) when not connected. */
static ltrr_err_t probe_connect(learn_probe_t *pb, char *errstr,
                                size_t errstr_size)
{
        struct timeval tv = {pb->timeout_ms / 1000,
                             (pb->timeout_ms % 1000) * 1000};
        redisReply *r;
        int bad;

        if (pb->c)
                return LTRR_OK;
        pb->c = redisConnectWithTimeout(pb->host, pb->port, tv);
        if (!pb->c || pb->c->err || redisSetTimeout(pb->c, tv) != REDIS_OK) {
                ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                          "connect %s:%d: %s", pb->host, pb->port,
                          pb->c ? pb->c->errstr : "out of memory");
                probe_drop(pb);
                return LTRR_ERR_TRANSPORT;
        }
        if (!pb->password || !*pb->password)
                return LTRR_OK;
        r = pb->user && *pb->user
                ? probe_cmd(pb, errstr, errstr_size, "AUTH %s %s", pb->user,
                            pb->password)
                : probe_cmd(pb, errstr, errstr_size, "AUTH %s",
                            pb->password);
        if (!r)
                return LTRR_ERR_TRANSPORT;
        bad = r->type == REDIS_REPLY_ERROR;
        if (bad) /* Redis's reason only: never the password */
                ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                          "AUTH: %s", r->str);
        freeReplyObject(r);
        if (bad)
                probe_drop(pb);
        return bad ? LTRR_ERR_TRANSPORT : LTRR_OK;
}

ltrr_err_t learn_probe_write(learn_probe_t *pb, char *errstr,
                             size_t errstr_size)
{
        struct timespec ts;
        redisReply *r;
        ltrr_err_t err = LTRR_OK;

        if (probe_connect(pb, errstr, errstr_size))
                return LTRR_ERR_TRANSPORT;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = probe_cmd(pb, errstr, errstr_size, "SET %s %lld PX %d", pb->key,
                      (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
                      LEARN_PROBE_TTL_MS);
        if (!r)
                return LTRR_ERR_TRANSPORT;
        if (r->type == REDIS_REPLY_ERROR) /* MISCONF, READONLY, OOM ... */
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "write refused: %s", r->str);
        else if (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK"))
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "write probe: unexpected reply");
        freeReplyObject(r);
        return err;
}

void learn_probe_forget(learn_probe_t *pb)
{
        char errstr[256];
        redisReply *r;

        if (!pb || probe_connect(pb, errstr, sizeof(errstr)))
                return;
        r = probe_cmd(pb, errstr, sizeof(errstr), "DEL %s", pb->key);
        if (r)
                freeReplyObject(r);
}
