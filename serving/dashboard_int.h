/*
 * ltrr-serve - internal: the dashboard's state, shared by dashboard.c
 * (sampler loop, scrapes, history, routes) and dashboard_redis.c (the
 * Redis reads of the sampler).
 */
#ifndef LTRR_DASHBOARD_INT_H
#define LTRR_DASHBOARD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dashboard.h"

struct redisContext;

/** Arms told apart; more are left out of the per-arm series. */
#define DASH_ARMS_MAX 16
/** Longest arm name kept. */
#define DASH_ARM_NAME_MAX 32
/** Histogram buckets read from a scrape; more are ignored. */
#define DASH_BUCKETS_MAX 128
/** Samples behind the fast (rates, latency) and slow (shares) windows. */
#define DASH_WIN_FAST 5
#define DASH_WIN_SLOW 30
/** Raw samples kept for the windows. */
#define DASH_RAWS (DASH_WIN_SLOW + 1)
/** Largest /metrics body read from a daemon. */
#define DASH_SCRAPE_MAX ((size_t)4 << 20)
/** HTTP and Redis timeouts of the sampler, ms. */
#define DASH_TIMEOUT_MS       800
#define DASH_REDIS_TIMEOUT_MS 200
/** Redis is read every this many samples. */
#define DASH_REDIS_EVERY 5
/** Top queries shown, leaders per query, Q2E meta keys scanned. */
#define DASH_TOP_MAX       8
#define DASH_LEADERS_MAX   3
#define DASH_SCAN_KEYS_MAX 2000
#define DASH_QUERY_MAX     128
#define DASH_ENTITY_MAX    64
/** Longest host name of a scrape target or of Redis. */
#define DASH_HOST_MAX 256

typedef enum {
        DASH_SRC_SERVE = 0,
        DASH_SRC_COLLECT,
        DASH_SRC_JOIN,
        DASH_SRC_LEARN,
        DASH_SRC__CNT
} dash_src_t;

/** Cumulative histogram read from a scrape. */
typedef struct dash_hist_s {
        size_t n;                     /* bounds seen, +Inf last */
        double le[DASH_BUCKETS_MAX];  /* upper bounds */
        double cum[DASH_BUCKETS_MAX]; /* cumulative counts */
} dash_hist_t;

/** Values of one round of scrapes; counters are cumulative. */
typedef struct dash_raw_s {
        int64_t t_ms;                  /* wall clock of the round */
        int up[DASH_SRC__CNT];         /* scrape succeeded */
        double requests, ok;           /* serve: all codes, 200 */
        double degraded, dropped;      /* serve counters */
        double arm_sel[DASH_ARMS_MAX]; /* serve: queries an arm ran on */
        dash_hist_t lat;               /* serve latency, s */
        double matched;                /* join: matched rewards */
        double impressions;            /* join: impressions read */
        dash_hist_t join_lat;          /* join latency, s */
        double join_lag;               /* join consumer lag, records */
        double fresh_s;                /* learn: now - last event time */
        double events, rejected;       /* collect counters */
} dash_raw_t;

/** One history point, as served. NaN: unknown (JSON null). */
typedef struct dash_point_s {
        int64_t t_ms;                     /* wall clock */
        double qps;                       /* searches/s */
        double p50_ms, p95_ms, p99_ms;    /* search latency */
        double reward;                    /* matched / impressions, slow */
        double arm_reward[DASH_ARMS_MAX]; /* bandit mean reward per arm */
        double arm_share[DASH_ARMS_MAX];  /* share of queries, slow win */
        double join_p50_ms, join_p99_ms;  /* action -> reward */
        double join_lag;                  /* records behind */
        double fresh_s;                   /* learn lag, s */
        double degraded_ps, dropped_ps;   /* per second */
        double events_ps, rejected_ps;    /* collect, per second */
        uint8_t up[DASH_SRC__CNT];        /* sources answering */
} dash_point_t;

/** One of the most shown queries with its Q2E leaders. */
typedef struct dash_topq_s {
        char query[DASH_QUERY_MAX]; /* normalized, unescaped */
        int64_t impressions;        /* meta n */
        size_t nlead;               /* entries in lead[] */
        char lead[DASH_LEADERS_MAX][DASH_ENTITY_MAX]; /* entity ids */
        double score[DASH_LEADERS_MAX];               /* observed engagement */
} dash_topq_t;

/** A scrape target. */
typedef struct dash_target_s {
        struct dashboard_s *dash;       /* owner */
        dash_src_t src;                 /* which daemon */
        char host[DASH_HOST_MAX];       /* "" when not configured */
        int port;                       /* TCP port */
        struct evhttp_connection *conn; /* kept alive between rounds */
        int pending;                    /* a request is in flight */
} dash_target_t;

struct dashboard_s {
        pthread_mutex_t lock;                   /* guards everything below it */
        dash_point_t pts[DASHBOARD_POINTS_MAX]; /* history ring */
        size_t head, cnt;                       /* next slot, points held */
        char arms[DASH_ARMS_MAX][DASH_ARM_NAME_MAX]; /* arm names */
        size_t narms;                                /* entries in arms[] */
        double arm_mean[DASH_ARMS_MAX];              /* latest bandit means */
        dash_topq_t top[DASH_TOP_MAX];               /* most shown queries */
        size_t ntop;                                 /* entries in top[] */
        /* Sampler thread only. */
        dash_target_t tg[DASH_SRC__CNT]; /* scrape targets */
        dash_raw_t raws[DASH_RAWS];      /* recent rounds */
        size_t raw_head, raw_cnt;        /* ring state */
        dash_raw_t cur;                  /* round being filled */
        char redis_host[DASH_HOST_MAX];  /* "" without Redis */
        int redis_port;                  /* its port */
        char redis_user[DASH_HOST_MAX];  /* ACL user or "" */
        char redis_pass[DASH_HOST_MAX];  /* "" without AUTH */
        struct redisContext *rc;         /* NULL while disconnected */
        uint64_t ticks;                  /* rounds so far */
        struct event_base *base;         /* sampler loop */
        struct event *tick_ev;           /* period timer */
        pthread_t th;                    /* sampler thread */
        int started;                     /* th is joinable */
        atomic_int stop;                 /* destroy() asks to stop */
};

/* Copies @p src into @p dst of @p size bytes, always terminated. */
void dashboard_copy_str(char *dst, size_t size, const char *src);

/* Index of arm @p name, added when new (sampler thread); -1 when full. */
int dashboard_arm_index(dashboard_t *dash, const char *name);

/* Every DASH_REDIS_EVERY rounds: reads the top queries and the per-arm
 * reward means into @p dash (sampler thread; reconnects as needed, a
 * failed read drops the connection and keeps the last values). */
void dashboard_redis_read(dashboard_t *dash);

/* Closes the sampler's Redis connection, if any. */
void dashboard_redis_close(dashboard_t *dash);

#endif /* LTRR_DASHBOARD_INT_H */
