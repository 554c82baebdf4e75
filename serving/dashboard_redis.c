/*
 * ltrr-serve - the dashboard sampler's Redis reads: the most shown
 * queries (Q2E meta keys) with their Q2E leaders, and the bandit's mean
 * reward per arm. Synchronous hiredis with short timeouts, on the
 * sampler thread only (never on a request path).
 */
#include <hiredis/hiredis.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "dashboard_int.h"
#include "feature.h"
#include "learn_plan.h"
#include "log.h"

/* Drops the Redis connection after an error (sampler thread). */
static void redis_drop(dashboard_t *dash, const char *why)
{
        if (dash->rc)
                log_warn("dashboard", "redis read failed", "err", why);
        redisFree(dash->rc);
        dash->rc = NULL;
}

/* Connects to Redis when needed. Returns 0 when connected. */
static int redis_ensure(dashboard_t *dash)
{
        struct timeval tv = {0, DASH_REDIS_TIMEOUT_MS * 1000};
        redisReply *rep;

        if (dash->rc)
                return 0;
        if (!dash->redis_host[0])
                return -1;
        dash->rc =
            redisConnectWithTimeout(dash->redis_host, dash->redis_port, tv);
        if (!dash->rc || dash->rc->err || redisSetTimeout(dash->rc, tv)) {
                redisFree(dash->rc);
                dash->rc = NULL;
                return -1;
        }
        if (!dash->redis_pass[0])
                return 0;
        rep = dash->redis_user[0]
                  ? redisCommand(dash->rc, "AUTH %s %s", dash->redis_user,
                                 dash->redis_pass)
                  : redisCommand(dash->rc, "AUTH %s", dash->redis_pass);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
                freeReplyObject(rep);
                redis_drop(dash, "AUTH refused");
                return -1;
        }
        freeReplyObject(rep);
        return 0;
}

/* "ltrr:q2e:{q:<esc>}:meta" -> the unescaped query in @p out. */
static void key_query(const char *key, size_t len, char *out, size_t size)
{
        static const char pre[] = "ltrr:q2e:{q:", suf[] = "}:meta";
        size_t i = sizeof(pre) - 1, end = len - (sizeof(suf) - 1), n = 0;

        for (; i < end && n + 1 < size; i++) {
                unsigned int c;

                if (key[i] == '%' && i + 2 < end &&
                    sscanf(key + i + 1, "%2x", &c) == 1) {
                        out[n++] = (char)c;
                        i += 2;
                } else {
                        out[n++] = key[i];
                }
        }
        out[n] = '\0';
}

/* Keeps @p q in @p top (sorted by impressions, at most DASH_TOP_MAX). */
static void top_insert(dash_topq_t *top, size_t *ntop, const dash_topq_t *q)
{
        size_t i = *ntop;

        if (i == DASH_TOP_MAX) {
                if (top[i - 1].impressions >= q->impressions)
                        return;
                i--;
        } else {
                (*ntop)++;
        }
        for (; i > 0 && top[i - 1].impressions < q->impressions; i--)
                top[i] = top[i - 1];
        top[i] = *q;
}

/* HGET n of every key of one SCAN page, pipelined, into @p top. */
static int top_page(dashboard_t *dash, redisReply *keys, dash_topq_t *top,
                    size_t *ntop)
{
        size_t i;

        for (i = 0; i < keys->elements; i++)
                redisAppendCommand(dash->rc, "HGET %b n", keys->element[i]->str,
                                   keys->element[i]->len);
        for (i = 0; i < keys->elements; i++) {
                redisReply *rep = NULL;
                dash_topq_t q;

                if (redisGetReply(dash->rc, (void **)&rep) != REDIS_OK)
                        return -1;
                memset(&q, 0, sizeof(q));
                if (rep->type == REDIS_REPLY_STRING) {
                        q.impressions = strtoll(rep->str, NULL, 10);
                        key_query(keys->element[i]->str, keys->element[i]->len,
                                  q.query, sizeof(q.query));
                        top_insert(top, ntop, &q);
                }
                freeReplyObject(rep);
        }
        return 0;
}

/* SCANs up to DASH_SCAN_KEYS_MAX Q2E meta keys for the most shown. */
static int top_scan(dashboard_t *dash, dash_topq_t *top, size_t *ntop)
{
        char cursor[32] = "0";
        size_t seen = 0;

        do {
                redisReply *rep = redisCommand(
                    dash->rc, "SCAN %s MATCH ltrr:q2e:{q:*}:meta COUNT 500",
                    cursor);

                if (!rep || rep->type != REDIS_REPLY_ARRAY ||
                    rep->elements != 2 ||
                    rep->element[1]->type != REDIS_REPLY_ARRAY ||
                    top_page(dash, rep->element[1], top, ntop)) {
                        freeReplyObject(rep);
                        return -1;
                }
                dashboard_copy_str(cursor, sizeof(cursor), rep->element[0]->str);
                seen += 500;
                freeReplyObject(rep);
        } while (strcmp(cursor, "0") && seen < DASH_SCAN_KEYS_MAX);
        return 0;
}

/* Q2E leaders (ZREVRANGE 0 2) of each top query. */
static int top_leaders(dashboard_t *dash, dash_topq_t *top, size_t ntop)
{
        size_t i, j;

        for (i = 0; i < ntop; i++) {
                char esc[DASH_QUERY_MAX * 3 + 1], key[sizeof(esc) + 16];
                redisReply *rep;

                if (ltrr_learn_key_escape(esc, sizeof(esc), top[i].query, key,
                                          sizeof(key)))
                        continue;
                snprintf(key, sizeof(key), "ltrr:q2e:{q:%s}", esc);
                rep = redisCommand(dash->rc, "ZREVRANGE %s 0 %d WITHSCORES",
                                   key, DASH_LEADERS_MAX - 1);
                if (!rep || rep->type != REDIS_REPLY_ARRAY) {
                        freeReplyObject(rep);
                        return -1;
                }
                for (j = 0;
                     j + 1 < rep->elements && top[i].nlead < DASH_LEADERS_MAX;
                     j += 2) {
                        dashboard_copy_str(top[i].lead[top[i].nlead], DASH_ENTITY_MAX,
                                 rep->element[j]->str);
                        top[i].score[top[i].nlead++] =
                            strtod(rep->element[j + 1]->str, NULL);
                }
                freeReplyObject(rep);
        }
        return 0;
}

/* Adds field "<n|s>:<arm>:<budget>" = @p val to the per-arm sums. */
static void arm_field(dashboard_t *dash, const char *field, const char *val,
                      double *n, double *s)
{
        char arm[DASH_ARM_NAME_MAX];
        const char *end;
        size_t len;
        int a;

        if ((field[0] != 'n' && field[0] != 's') || field[1] != ':')
                return;
        end = strchr(field + 2, ':');
        len = end ? (size_t)(end - field - 2) : 0;
        if (!len || len >= sizeof(arm))
                return;
        memcpy(arm, field + 2, len);
        arm[len] = '\0';
        if ((a = dashboard_arm_index(dash, arm)) < 0)
                return;
        if (field[0] == 'n')
                n[a] += strtod(val, NULL);
        else
                s[a] += strtod(val, NULL);
}

/*
 * The bandit's mean reward per arm over every context bucket: sums of
 * n:<arm>:* and s:<arm>:* of ltrr:bandit:{b<k>}:v1 (decayed sums, so
 * the mean follows recent rewards), HGETALLs pipelined.
 */
static int arms_read(dashboard_t *dash)
{
        double n[DASH_ARMS_MAX] = {0}, s[DASH_ARMS_MAX] = {0};
        size_t b, i;

        for (b = 0; b < LTRR_FEATURE_BUCKETS; b++) {
                char key[64];

                snprintf(key, sizeof(key), "ltrr:bandit:{b%zu}:v1", b);
                redisAppendCommand(dash->rc, "HGETALL %s", key);
        }
        for (b = 0; b < LTRR_FEATURE_BUCKETS; b++) {
                redisReply *rep = NULL;

                if (redisGetReply(dash->rc, (void **)&rep) != REDIS_OK)
                        return -1;
                for (i = 0;
                     rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements;
                     i += 2)
                        arm_field(dash, rep->element[i]->str,
                                  rep->element[i + 1]->str, n, s);
                freeReplyObject(rep);
        }
        pthread_mutex_lock(&dash->lock);
        for (i = 0; i < DASH_ARMS_MAX; i++)
                dash->arm_mean[i] = n[i] > 0 ? s[i] / n[i] : NAN;
        pthread_mutex_unlock(&dash->lock);
        return 0;
}

/* Every DASH_REDIS_EVERY rounds: top queries and arm means. */
void dashboard_redis_read(dashboard_t *dash)
{
        dash_topq_t *top;
        size_t ntop = 0;

        if (dash->ticks % DASH_REDIS_EVERY || redis_ensure(dash))
                return;
        if (arms_read(dash)) {
                redis_drop(dash, dash->rc->errstr);
                return;
        }
        if (!(top = calloc(DASH_TOP_MAX, sizeof(*top))))
                return;
        if (top_scan(dash, top, &ntop) || top_leaders(dash, top, ntop)) {
                redis_drop(dash, dash->rc->errstr[0] ? dash->rc->errstr
                                                     : "unexpected reply");
        } else {
                pthread_mutex_lock(&dash->lock);
                memcpy(dash->top, top, ntop * sizeof(*top));
                dash->ntop = ntop;
                pthread_mutex_unlock(&dash->lock);
        }
        free(top);
}

void dashboard_redis_close(dashboard_t *dash)
{
        redisFree(dash->rc);
        dash->rc = NULL;
}
