/*
 * ltrr-collect - internal: the daemon context shared by collect.c (wiring)
 * and collect_http.c (request handling and delivery tracking).
 */
#ifndef LTRR_COLLECT_INT_H
#define LTRR_COLLECT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "apikey.h"
#include "config.h"
#include "event_parse.h"
#include "kafka.h"
#include "metrics.h"

struct event_base;
struct event;
struct evhttp;
struct evhttp_bound_socket;

/** Poll interval while nothing is in flight (error callbacks only). */
#define COLLECT_IDLE_POLL_MS 100
/** Largest encoded Action record. */
#define COLLECT_RECORD_MAX 8192
/** Longest HTTP header block accepted. */
#define COLLECT_HEADERS_MAX 8192

/** Response codes counted in ltrr_collect_requests_total. */
typedef enum {
        COLLECT_CODE_202 = 0,
        COLLECT_CODE_400,
        COLLECT_CODE_401,
        COLLECT_CODE_404,
        COLLECT_CODE_405,
        COLLECT_CODE_413,
        COLLECT_CODE_429,
        COLLECT_CODE_503,
        COLLECT_CODE__CNT
} collect_code_t;

/** Metric children, looked up once at start. */
typedef struct collect_metrics_s {
        ltrr_metrics_child_t *accepted;       /* events accepted */
        ltrr_metrics_child_t *rejected[LTRR_EVENT_REJ__CNT]; /* by reason */
        ltrr_metrics_child_t *requests[COLLECT_CODE__CNT];   /* by code */
        ltrr_metrics_child_t *unknown_fields; /* fields ignored */
        ltrr_metrics_child_t *clamped;        /* event times clamped */
        ltrr_metrics_child_t *overloaded;     /* inflight.max reached */
        ltrr_metrics_child_t *delivery_failed; /* records not delivered */
        ltrr_metrics_child_t *latency;        /* receive -> last ack, s */
        ltrr_metrics_child_t *inflight;       /* requests waiting */
        ltrr_metrics_child_t *queue_depth;    /* producer queue */
} collect_metrics_t;

typedef struct collect_req_s collect_req_t;

/** The daemon. */
typedef struct collect_s {
        const ltrr_config_collect_t *cf;   /* frozen config, not owned */
        char node_id[LTRR_APIKEY_APP_MAX + 1]; /* node.id or host name */
        struct event_base *base;           /* owned by main */
        struct evhttp *http;               /* owned */
        struct evhttp_bound_socket *bound; /* listener, owned by http */
        struct event *poll_ev;             /* delivery report timer */
        int64_t poll_cur_ms;               /* its current interval */
        ltrr_kafka_producer_t *kp;         /* owned by main */
        ltrr_apikey_t *keys;               /* owned by main */
        ltrr_metrics_t *reg;               /* owned by main */
        collect_metrics_t m;               /* children of reg */
        TAILQ_HEAD(, collect_req_s) reqs;  /* requests waiting for acks */
        size_t inflight;                   /* entries in reqs */
        size_t recs_inflight;              /* records waiting for acks */
        int64_t ack_ref_ms;                /* last ack, or start of wait */
        int draining;                      /* SIGTERM: refuse new work */
} collect_t;

/** Monotonic clock in ms. */
int64_t collect_mono_ms(void);

/** Registers the metrics of @p co on co->reg. */
ltrr_err_t collect_metrics_init(collect_t *co, char *errstr,
                                size_t errstr_size);

/** Starts the HTTP listener on the config's address and port. */
ltrr_err_t collect_http_start(collect_t *co, char *errstr,
                              size_t errstr_size);

/** Port the listener bound. */
uint16_t collect_http_port(const collect_t *co);

/** Stops accepting connections (SIGTERM); requests in flight go on. */
void collect_http_stop_accepting(collect_t *co);

/**
 * Frees requests still waiting (shutdown, after the producer was
 * destroyed) and the HTTP server.
 */
void collect_http_destroy(collect_t *co);

/** The producer's delivery hook: one call per record. */
void collect_http_dr(void *opaque, void *msg_opaque, ltrr_err_t err,
                     const char *reason);

/** Serves delivery reports; switches the poll timer fast/idle. */
void collect_poll(collect_t *co);

/** Health probe: 0, or non-zero with a reason. */
int collect_health(collect_t *co, char *reason, size_t reason_size);

#endif /* LTRR_COLLECT_INT_H */
