/*
 * ltrr-collect - event ingestion: apps POST actions, which are validated,
 * authenticated and published to ltrr.actions. A request is answered
 * 202 only once Kafka acknowledged every record of it.
 *
 * main() wires the parts: config, key table, metrics, producer, event
 * base with the HTTP server, the delivery report timer and the signals.
 */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "collect_int.h"
#include "log.h"

/* How often the drain checks for requests still in flight, in ms. */
#define COLLECT_DRAIN_TICK_MS 10
/* Default bound on a record's delivery (librdkafka message.timeout.ms). */
#define COLLECT_MSG_TIMEOUT_MS "30000"
/* Default librdkafka linger.ms; docs/COLLECT.md has the measurements. */
#define COLLECT_LINGER_MS "0"

static const char usage[] =
    "Usage: ltrr-collect [options]\n"
    "HTTP event ingestion: POST /v1/events publishes actions to Kafka.\n";

/* State of the shutdown drain. */
typedef struct collect_drain_s {
        collect_t *co;        /* daemon */
        struct event *tick;   /* drain check timer */
        int64_t deadline_ms;  /* give up waiting after this */
} collect_drain_t;

static void set_timer(struct event *ev, int64_t ms)
{
        struct timeval tv = {(time_t)(ms / 1000),
                             (suseconds_t)(ms % 1000) * 1000};

        event_add(ev, &tv);
}

void collect_poll(collect_t *co)
{
        int64_t want;

        ltrr_kafka_producer_poll(co->kp, 0);
        want = co->recs_inflight ? co->cf->poll_interval_ms
                                 : COLLECT_IDLE_POLL_MS;
        if (want != co->poll_cur_ms) {
                co->poll_cur_ms = want;
                set_timer(co->poll_ev, want);
        }
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
        collect_poll(arg);
}

/* Exits the loop once nothing is in flight, or at the deadline. */
static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
        collect_drain_t *dr = arg;
        char nbuf[32];

        if (dr->co->inflight == 0) {
                event_base_loopexit(dr->co->base, NULL);
                return;
        }
        if (collect_mono_ms() >= dr->deadline_ms) {
                log_warn("collect", "drain timed out", "requests",
                         ltrr_log_i64(nbuf, sizeof(nbuf),
                                      (long long)dr->co->inflight));
                event_base_loopexit(dr->co->base, NULL);
        }
}

/* SIGTERM/SIGINT: stop accepting, then drain. */
static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
        collect_drain_t *dr = arg;

        if (dr->co->draining)
                return;
        log_info("collect", "draining", "signal", strsignal((int)sig));
        dr->co->draining = 1;
        collect_http_stop_accepting(dr->co);
        dr->deadline_ms = collect_mono_ms() + dr->co->cf->drain_timeout_ms;
        set_timer(dr->tick, COLLECT_DRAIN_TICK_MS);
}

/* Registers one family and returns its label-less child (or NULL). */
static ltrr_metrics_family_t *reg_family(collect_t *co,
                                         ltrr_metrics_type_t type,
                                         const char *name, const char *help,
                                         const char *label, char *errstr,
                                         size_t errstr_size)
{
        const char *labels[2] = {label, NULL};
        ltrr_metrics_spec_t spec = {
            .type = type,
            .name = name,
            .help = help,
            .labels = label ? labels : NULL,
            LTRR_METRICS_BUCKETS_SECONDS,
        };

        return ltrr_metrics_register(co->reg, &spec, errstr, errstr_size);
}

#define FAMILY(type, name, help, label)                                        \
        do {                                                                   \
                fam = reg_family(co, type, name, help, label, errstr,          \
                                 errstr_size);                                 \
                if (!fam)                                                      \
                        return LTRR_ERR_INVALID_ARG;                           \
        } while (0)

ltrr_err_t collect_metrics_init(collect_t *co, char *errstr,
                                size_t errstr_size)
{
        static const char *const codes[COLLECT_CODE__CNT] = {
            "202", "400", "401", "404", "405", "413", "429", "503"};
        collect_metrics_t *m = &co->m;
        ltrr_metrics_family_t *fam;
        int i;

        FAMILY(LTRR_METRICS_COUNTER, "ltrr_collect_events_accepted_total",
               "Events acknowledged by Kafka and answered 202.", NULL);
        m->accepted = ltrr_metrics_child(fam, NULL);
        FAMILY(LTRR_METRICS_COUNTER, "ltrr_collect_events_rejected_total",
               "Events rejected by validation, by reason.", "reason");
        for (i = 0; i < LTRR_EVENT_REJ__CNT; i++) {
                const char *v[1] = {ltrr_event_rej2str((ltrr_event_rej_t)i)};
                m->rejected[i] = ltrr_metrics_child(fam, v);
        }
        FAMILY(LTRR_METRICS_COUNTER, "ltrr_collect_requests_total",
               "HTTP responses, by status code.", "code");
        for (i = 0; i < COLLECT_CODE__CNT; i++) {
                const char *v[1] = {codes[i]};
                m->requests[i] = ltrr_metrics_child(fam, v);
        }
        FAMILY(LTRR_METRICS_COUNTER, "ltrr_collect_unknown_fields_total",
               "Unknown event fields ignored.", NULL);
        m->unknown_fields = ltrr_metrics_child(fam, NULL);
        FAMILY(LTRR_METRICS_COUNTER, "ltrr_collect_skew_clamped_total",
               "Event times clamped to the skew bounds.", NULL);
        m->clamped = ltrr_metrics_child(fam, NULL);
        FAMILY(LTRR_METRICS_COUNTER, "ltrr_collect_overloaded_total",
               "Requests refused because inflight.max was reached.", NULL);
        m->overloaded = ltrr_metrics_child(fam, NULL);
        FAMILY(LTRR_METRICS_COUNTER, "ltrr_collect_delivery_failures_total",
               "Records Kafka did not acknowledge (answered 503).", NULL);
        m->delivery_failed = ltrr_metrics_child(fam, NULL);
        FAMILY(LTRR_METRICS_HISTOGRAM, "ltrr_collect_produce_latency_seconds",
               "Request receipt to the last record's acknowledgement.", NULL);
        m->latency = ltrr_metrics_child(fam, NULL);
        FAMILY(LTRR_METRICS_GAUGE, "ltrr_collect_inflight_requests",
               "Requests waiting for Kafka acknowledgements.", NULL);
        m->inflight = ltrr_metrics_child(fam, NULL);
        FAMILY(LTRR_METRICS_GAUGE, "ltrr_collect_queue_depth",
               "Records in the producer queue or in flight.", NULL);
        m->queue_depth = ltrr_metrics_child(fam, NULL);
        return LTRR_OK;
}
#undef FAMILY

/* Loads the API keys: the configured hashes, plus the dev key. */
static ltrr_apikey_t *keys_load(const ltrr_config_collect_t *cf,
                                char *errstr, size_t errstr_size)
{
        ltrr_apikey_t *ak = ltrr_apikey_new(errstr, errstr_size);

        if (!ak)
                return NULL;
        if (ltrr_apikey_load(ak, cf->api_keys, errstr, errstr_size))
                goto err;
        if (cf->api_key && *cf->api_key &&
            ltrr_apikey_add_plain(ak, "dev", cf->api_key, 0, errstr,
                                  errstr_size))
                goto err;
        if (ltrr_apikey_cnt(ak) == 0)
                log_warn("collect", "no API keys configured: every event "
                                    "request gets 401",
                         "hint", "set api.keys or api.key");
        return ak;
err:
        ltrr_apikey_destroy(ak);
        return NULL;
}

static ltrr_kafka_producer_t *producer_new(collect_t *co,
                                           const ltrr_config_t *conf,
                                           char *errstr, size_t errstr_size)
{
        ltrr_kafka_opts_t opts = {
            .bootstrap = co->cf->common.kafka_bootstrap,
            .client_id = "ltrr-collect",
            .dr_hook = collect_http_dr,
            .opaque = co,
        };

        ltrr_kafka_producer_t *kp;
        ltrr_kvlist_t props;

        /* A request waits for its records: bound that wait, and do not
         * hold records back to fill batches (linger adds to every
         * response), unless the operator set these with -X. */
        ltrr_kvlist_init(&props);
        if (ltrr_kvlist_copy(&props, ltrr_config_kafka(conf)) ||
            (!ltrr_kvlist_get(&props, "message.timeout.ms") &&
             ltrr_kvlist_set(&props, "message.timeout.ms",
                             COLLECT_MSG_TIMEOUT_MS)) ||
            (!ltrr_kvlist_get(&props, "linger.ms") &&
             ltrr_kvlist_set(&props, "linger.ms", COLLECT_LINGER_MS))) {
                ltrr_kvlist_clear(&props);
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "no memory");
                return NULL;
        }
        kp = ltrr_kafka_producer_new(&props, &opts, errstr, errstr_size);
        ltrr_kvlist_clear(&props);
        return kp;
}

static void node_id_init(collect_t *co)
{
        const char *id = co->cf->common.node_id;

        if (id && *id)
                snprintf(co->node_id, sizeof(co->node_id), "%s", id);
        else if (gethostname(co->node_id, sizeof(co->node_id) - 1))
                snprintf(co->node_id, sizeof(co->node_id), "collect");
}

/* Creates the loop's events: poll timer, drain timer, signals. */
static int events_new(collect_t *co, collect_drain_t *dr,
                      struct event **sigs)
{
        co->poll_ev = event_new(co->base, -1, EV_PERSIST, poll_cb, co);
        dr->co = co;
        dr->tick = event_new(co->base, -1, EV_PERSIST, drain_cb, dr);
        sigs[0] = evsignal_new(co->base, SIGTERM, signal_cb, dr);
        sigs[1] = evsignal_new(co->base, SIGINT, signal_cb, dr);
        if (!co->poll_ev || !dr->tick || !sigs[0] || !sigs[1] ||
            event_add(sigs[0], NULL) || event_add(sigs[1], NULL))
                return -1;
        co->poll_cur_ms = COLLECT_IDLE_POLL_MS;
        set_timer(co->poll_ev, co->poll_cur_ms);
        return 0;
}

static int run(collect_t *co, const ltrr_config_t *conf)
{
        collect_drain_t dr = {0};
        struct event *sigs[2] = {NULL, NULL};
        char errstr[512], pbuf[16];
        int rc = 1;

        if (!(co->kp = producer_new(co, conf, errstr, sizeof(errstr)))) {
                log_error("collect", "producer failed", "err", errstr);
                return 1;
        }
        if (collect_http_start(co, errstr, sizeof(errstr))) {
                log_error("collect", "listen failed", "err", errstr);
                goto done;
        }
        if (events_new(co, &dr, sigs)) {
                log_error("collect", "event setup failed");
                goto done;
        }
        log_info("collect", "listening", "addr", co->cf->common.http_addr,
                 "port",
                 ltrr_log_i64(pbuf, sizeof(pbuf), collect_http_port(co)),
                 "topic", co->cf->topic_actions, "node", co->node_id);
        event_base_dispatch(co->base);
        rc = 0;
done:
        ltrr_kafka_producer_destroy(co->kp); /* flushes: answers the rest */
        co->kp = NULL;
        collect_http_destroy(co);
        if (sigs[0])
                event_free(sigs[0]);
        if (sigs[1])
                event_free(sigs[1]);
        if (dr.tick)
                event_free(dr.tick);
        if (co->poll_ev)
                event_free(co->poll_ev);
        log_info("collect", "stopped");
        return rc;
}

int main(int argc, char **argv)
{
        collect_t co = {0};
        ltrr_config_t *conf;
        char errstr[512];
        int rc = 1;

        if (!(conf = ltrr_cli_config_load("collect", usage, argc, argv, &rc)))
                return rc;
        rc = 1;
        co.cf = ltrr_config_struct(conf);
        node_id_init(&co);
        signal(SIGPIPE, SIG_IGN);
        if (!(co.keys = keys_load(co.cf, errstr, sizeof(errstr)))) {
                log_error("collect", "API keys", "err", errstr);
                goto done;
        }
        if (!(co.reg = ltrr_metrics_new(errstr, sizeof(errstr))) ||
            collect_metrics_init(&co, errstr, sizeof(errstr))) {
                log_error("collect", "metrics", "err", errstr);
                goto done;
        }
        if (!(co.base = event_base_new())) {
                log_error("collect", "event_base_new failed");
                goto done;
        }
        rc = run(&co, conf);
done:
        if (co.base)
                event_base_free(co.base);
        ltrr_metrics_destroy(co.reg);
        ltrr_apikey_destroy(co.keys);
        ltrr_config_destroy(conf);
        return rc;
}
