/*
 * ltrr-serve - internal: the daemon context shared by serve.c (wiring),
 * serve_worker.c (per-thread loop, state fetch) and serve_http.c
 * (request parsing and responses).
 */
#ifndef LTRR_SERVE_INT_H
#define LTRR_SERVE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "feature.h"
#include "index.h"
#include "kafka.h"
#include "metrics.h"
#include "qu.h"
#include "redis_async.h"
#include "search.h"
#include "strbuf.h"

struct event_base;
struct event;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;

/** Longest HTTP header block accepted. */
#define SERVE_HEADERS_MAX 8192
/** Largest encoded Impression record; larger ones are dropped. */
#define SERVE_RECORD_MAX ((size_t)1 << 20)
/** Strings of one Redis reply handed to the state parsers. */
#define SERVE_REPLY_STRS_MAX 65536
/** Largest search response (k.max results with long names fit). */
#define SERVE_RESPONSE_MAX ((size_t)4 << 20)
/** Finished query objects a worker keeps for reuse. */
#define SERVE_SPARE_MAX 256
/** Delivery report poll interval of the main loop, ms. */
#define SERVE_POLL_MS 100

/** Response codes counted in ltrr_serve_requests_total. */
typedef enum {
        SERVE_CODE_200 = 0,
        SERVE_CODE_400,
        SERVE_CODE_404,
        SERVE_CODE_405,
        SERVE_CODE_413,
        SERVE_CODE_429,
        SERVE_CODE_500,
        SERVE_CODE_503,
        SERVE_CODE__CNT
} serve_code_t;

/** One loaded index with its QU dictionary, shared by the workers. */
typedef struct serve_index_s {
        ltrr_index_t *ix;   /* owned */
        ltrr_qu_dict_t *qu; /* owned, or NULL without a QU section */
        ltrr_search_ids_t *ids; /* owned: entity ids of ix */
        int refs;           /* holders; freed at 0 (under sv->ix_lock) */
} serve_index_t;

/** Metric children, looked up once at start. */
typedef struct serve_metrics_s {
        ltrr_metrics_child_t *requests[SERVE_CODE__CNT]; /* by code */
        ltrr_metrics_child_t *latency;      /* request -> response, s */
        ltrr_metrics_child_t *stage[LTRR_SEARCH_STAGE__CNT + 1]; /* + state */
        ltrr_metrics_child_t *arm[LTRR_BANDIT_MAX_ARMS]; /* arms run */
        ltrr_metrics_child_t *degraded;     /* answers from cached state */
        ltrr_metrics_child_t *shadow;       /* shadow queries */
        ltrr_metrics_child_t *dropped;      /* impressions not queued */
        ltrr_metrics_child_t *redis_errors; /* failed state reads */
        ltrr_metrics_child_t *kafka_failed; /* delivery failures */
        ltrr_metrics_child_t *queue_depth;  /* producer queue */
        ltrr_metrics_child_t *reloads;      /* index reloads */
        ltrr_metrics_child_t *rk_reloads;   /* online ranker reloads */
        ltrr_metrics_child_t *rk_count;     /* online ranker count */
} serve_metrics_t;

typedef struct serve_worker_s serve_worker_t;
/** The live dashboard (dashboard.h). */
typedef struct dashboard_s dashboard_t;

/** The daemon. */
typedef struct serve_s {
        const ltrr_config_serve_t *cf;     /* frozen config */
        char node_id[LTRR_SEARCH_NODE_MAX]; /* node.id or host name */
        ltrr_search_conf_t scf;            /* pipeline settings */
        ltrr_kafka_producer_t *kp;         /* shared producer */
        ltrr_metrics_t *reg;               /* metrics registry */
        serve_metrics_t m;                 /* children of reg */
        pthread_mutex_t ix_lock;           /* guards cur and refs */
        serve_index_t *cur;                /* index in use */
        int listen_fd;                     /* shared listening socket */
        int port;                          /* its port (http.port 0:
                                              the one the kernel gave) */
        serve_worker_t *workers;           /* cf->workers entries */
        int nworkers;                      /* started workers */
        int draining;                      /* SIGTERM seen (main thread) */
        dashboard_t *_Atomic dash;         /* owned; NULL until started
                                              after the workers (main
                                              thread stores, workers load),
                                              freed after they stop */
} serve_t;

/** One worker thread: its loop, HTTP server, Redis and pipeline. */
struct serve_worker_s {
        serve_t *sv;                       /* daemon */
        int id;                            /* 0.. */
        pthread_t th;                      /* the thread */
        int started;                       /* th is joinable */
        struct event_base *base;           /* owned */
        struct evhttp *http;               /* owned */
        struct evhttp_bound_socket *bound; /* on a dup of listen_fd */
        struct event *stop_ev;             /* activated by main */
        struct event *drain_ev;            /* drain check timer */
        int64_t drain_deadline_ms;         /* give up waiting then */
        int draining;                      /* no new queries */
        ltrr_redis_async_t *ra;            /* Redis connection */
        ltrr_search_t *se;                 /* pipeline handle */
        ltrr_search_state_t *cache[LTRR_FEATURE_BUCKETS]; /* last bandit
                                              statistics per bucket */
        ltrr_search_state_t *empty;        /* nothing known */
        size_t inflight;                   /* queries waiting for state */
        size_t writing;                    /* answers not yet fully sent */
        double tokens;                     /* rate limit bucket */
        int64_t tokens_us;                 /* its last refill */
        int ranker_loading;                /* a model GET is pending */
        char ranker_want[64];              /* version being fetched */
        int online_loading;                /* an HGETALL is pending */
        int64_t online_at_us;              /* last online fetch */
        struct serve_query_s *spare;       /* reusable query objects */
        size_t spare_cnt;                  /* entries on spare */
        const char **strs;                 /* SERVE_REPLY_STRS_MAX */
        uint8_t *rec;                      /* SERVE_RECORD_MAX bytes */
        ltrr_strbuf_t resp;                /* response text, reused */
};

/** Monotonic clock in microseconds. */
int64_t serve_mono_us(void);

/** Takes a reference on the current index (never NULL once started). */
serve_index_t *serve_index_get(serve_t *sv);

/** Drops a reference taken by serve_index_get(). */
void serve_index_put(serve_t *sv, serve_index_t *si);

/** Starts worker @p w's thread. */
int serve_worker_start(serve_worker_t *w, char *errstr, size_t errstr_size);

/** Asks worker @p w to drain and stop (any thread). */
void serve_worker_stop(serve_worker_t *w);

/** Joins and frees worker @p w. */
void serve_worker_join(serve_worker_t *w);

/** The HTTP entry point of a worker. */
void serve_http_cb(struct evhttp_request *req, void *arg);

/** A parsed search request (online/search_request.c). */
typedef ltrr_search_params_t serve_params_t;

/** Runs the pipeline for a parsed request (serve_worker.c). */
void serve_worker_search(serve_worker_t *w, struct evhttp_request *req,
                         const serve_params_t *p, int64_t start_us);

/** Sends {"error": msg} with @p code (serve_http.c). */
void serve_reply_error(serve_t *sv, struct evhttp_request *req,
                       serve_code_t code, const char *msg);

/** Sends the search response of a finished query (serve_http.c), built
 * in @p sb (the worker's, reset first and reused: no allocation once it
 * has grown to a response's size). */
void serve_reply_results(serve_t *sv, struct evhttp_request *req,
                         ltrr_strbuf_t *sb, const ltrr_index_t *ix,
                         const ltrr_search_t *se,
                         const ltrr_search_query_t *sq, int debug,
                         double state_us);

#endif /* LTRR_SERVE_INT_H */
