/*
 * ltrr-collect - HTTP handlers and delivery tracking.
 *
 * POST /v1/events authenticates, parses and validates the body, encodes
 * each accepted event as an Action record and hands it to the producer.
 * The request then waits, off the loop, for one delivery report per
 * record; the last report sends 202 (all acknowledged) or 503 (listing
 * the records that failed). /metrics and /healthz share the listener.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "admin_http.h"
#include "avro_codec.h"
#include "collect_int.h"
#include "log.h"
#include "strbuf.h"

/* Largest /metrics body. */
#define COLLECT_METRICS_MAX ((size_t)16 << 20)
/* Longest delivery failure reason kept per record. */
#define COLLECT_REASON_MAX 96

/* One record of a request, the producer's msg_opaque. */
typedef struct collect_rec_s {
        collect_req_t *cr;               /* owning request */
        char reason[COLLECT_REASON_MAX]; /* failure reason, "" if ok */
} collect_rec_t;

/* A request waiting for its records' acknowledgements. */
struct collect_req_s {
        TAILQ_ENTRY(collect_req_s) link; /* in co->reqs */
        collect_t *co;                   /* daemon */
        struct evhttp_request *req;      /* answered when pending is 0 */
        ltrr_event_batch_t *eb;          /* parsed events, owned */
        collect_rec_t *recs;             /* one per accepted event */
        size_t pending;                  /* records without a report */
        size_t failed;                   /* records not delivered */
        int64_t start_us;                /* receive time, monotonic */
};

static const int code_values[COLLECT_CODE__CNT] = {
    202, 400, 401, 404, 405, 413, 429, 503,
};

static int64_t mono_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t collect_mono_ms(void)
{
        return mono_us() / 1000;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends @body (consumed) as JSON with status @cc; counts the code. */
static void reply(collect_t *co, struct evhttp_request *req,
                  collect_code_t cc, json_t *body)
{
        struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
        struct evbuffer *out = evhttp_request_get_output_buffer(req);
        char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;

        json_decref(body);
        evhttp_add_header(hdrs, "Content-Type", "application/json");
        if (cc == COLLECT_CODE_429 || cc == COLLECT_CODE_503)
                evhttp_add_header(hdrs, "Retry-After", "1");
        if (cc == COLLECT_CODE_401)
                evhttp_add_header(hdrs, "WWW-Authenticate", "Bearer");
        if (txt) {
                evbuffer_add(out, txt, strlen(txt));
                evbuffer_add(out, "\n", 1);
        }
        free(txt);
        ltrr_metrics_counter_inc(co->m.requests[cc]);
        evhttp_send_reply(req, code_values[cc], NULL, NULL);
}

/* Replies {"error": msg} with status @cc. */
static void reply_error(collect_t *co, struct evhttp_request *req,
                        collect_code_t cc, const char *msg)
{
        reply(co, req, cc, json_pack("{s:s}", "error", msg));
}

/* Appends the rejected events of @eb to @o as "rejected". */
static void json_add_rejected(json_t *o, const ltrr_event_batch_t *eb)
{
        json_t *arr = json_array();
        size_t i;

        for (i = 0; i < ltrr_event_batch_reject_cnt(eb); i++) {
                const ltrr_event_reject_t *r = ltrr_event_batch_reject(eb, i);

                json_array_append_new(
                    arr, json_pack("{s:I,s:s,s:s,s:s}", "index",
                                   (json_int_t)r->index, "field", r->field,
                                   "reason", ltrr_event_rej2str(r->reason),
                                   "message", r->message));
        }
        json_object_set_new(o, "rejected", arr);
}

/* The 202 or 503 body of a finished request. */
static json_t *result_body(collect_req_t *cr)
{
        ltrr_event_batch_t *eb = cr->eb;
        size_t i, n = ltrr_event_batch_action_cnt(eb);
        json_t *o = json_object(), *ids = json_array(), *failed = json_array();
        char hex[33];

        for (i = 0; i < n; i++) {
                ltrr_event_id_hex(&ltrr_event_batch_action(eb, i)->action_id,
                                  hex, sizeof(hex));
                if (!cr->recs[i].reason[0]) {
                        json_array_append_new(ids, json_string(hex));
                        continue;
                }
                json_array_append_new(
                    failed,
                    json_pack("{s:I,s:s,s:s}", "index",
                              (json_int_t)ltrr_event_batch_action_index(eb, i),
                              "action_id", hex, "reason", cr->recs[i].reason));
        }
        if (cr->failed)
                json_object_set_new(o, "error", json_string("delivery failed"));
        json_object_set_new(o, "accepted", json_integer((json_int_t)(
                                               n - cr->failed)));
        json_object_set_new(o, "action_ids", ids);
        if (cr->failed)
                json_object_set_new(o, "failed", failed);
        else
                json_decref(failed);
        json_add_rejected(o, eb);
        json_object_set_new(
            o, "unknown_fields",
            json_integer((json_int_t)ltrr_event_batch_unknown_fields(eb)));
        return o;
}

static void req_free(collect_req_t *cr)
{
        if (!cr)
                return;
        ltrr_event_batch_destroy(cr->eb);
        free(cr->recs);
        free(cr);
}

/* Answers a request whose records all have a report, and frees it. */
static void req_finish(collect_req_t *cr)
{
        collect_t *co = cr->co;
        size_t n = ltrr_event_batch_action_cnt(cr->eb);

        TAILQ_REMOVE(&co->reqs, cr, link);
        co->inflight--;
        ltrr_metrics_gauge_set_i64(co->m.inflight, (int64_t)co->inflight);
        ltrr_metrics_hist_observe(co->m.latency,
                                  (double)(mono_us() - cr->start_us) / 1e6);
        ltrr_metrics_counter_add(co->m.accepted, n - cr->failed);
        ltrr_metrics_counter_add(co->m.delivery_failed, cr->failed);
        reply(co, cr->req, cr->failed ? COLLECT_CODE_503 : COLLECT_CODE_202,
              result_body(cr));
        req_free(cr);
}

/* Marks record @rec failed with @reason. */
static void rec_fail(collect_rec_t *rec, const char *reason)
{
        const char *r = reason && *reason ? reason : "unknown error";
        size_t len = strnlen(r, sizeof(rec->reason) - 1);

        memcpy(rec->reason, r, len); /* cut to the bound */
        rec->reason[len] = '\0';
        rec->cr->failed++;
}

void collect_http_dr(void *opaque, void *msg_opaque, ltrr_err_t err,
                     const char *reason)
{
        collect_t *co = opaque;
        collect_rec_t *rec = msg_opaque;
        collect_req_t *cr;

        if (!rec)
                return;
        cr = rec->cr;
        if (err)
                rec_fail(rec, reason);
        else
                co->ack_ref_ms = collect_mono_ms();
        co->recs_inflight--;
        if (--cr->pending == 0)
                req_finish(cr);
}

/* Assigns action ids: derived from an idempotency key, else random. */
static void assign_ids(ltrr_event_batch_t *eb, const char *app_id)
{
        size_t i, n = ltrr_event_batch_action_cnt(eb);

        for (i = 0; i < n; i++) {
                ltrr_action_t *act = ltrr_event_batch_action(eb, i);
                size_t got = 0;

                if (act->idempotency_key) {
                        ltrr_event_action_id_derive(app_id,
                                                    act->idempotency_key,
                                                    &act->action_id);
                        continue;
                }
                while (got < sizeof(act->action_id.b)) {
                        ssize_t r = getrandom(act->action_id.b + got,
                                              sizeof(act->action_id.b) - got,
                                              0);
                        if (r > 0)
                                got += (size_t)r;
                        else if (errno != EINTR)
                                abort(); /* no entropy: ids would repeat */
                }
                act->action_id.b[6] = (uint8_t)((act->action_id.b[6] & 0x0f) |
                                                0x40);
                act->action_id.b[8] = (uint8_t)((act->action_id.b[8] & 0x3f) |
                                                0x80);
        }
}

/* Encodes and queues record @i of @cr; a failure is marked on the record. */
static void send_one(collect_req_t *cr, size_t i)
{
        collect_t *co = cr->co;
        ltrr_action_t *act = ltrr_event_batch_action(cr->eb, i);
        uint8_t buf[COLLECT_RECORD_MAX];
        char errstr[256];
        size_t len = 0;

        cr->recs[i].cr = cr;
        if (ltrr_avro_encode_action(act, buf, sizeof(buf), &len, errstr,
                                    sizeof(errstr))) {
                rec_fail(&cr->recs[i], errstr);
                return;
        }
        if (ltrr_kafka_producer_send(co->kp, co->cf->topic_actions, -1,
                                     act->user_id, strlen(act->user_id), buf,
                                     len, NULL, 0, &cr->recs[i], errstr,
                                     sizeof(errstr))) {
                rec_fail(&cr->recs[i], errstr);
                return;
        }
        cr->pending++;
        co->recs_inflight++;
}

/* Queues every accepted event of @eb (taken over) for @req. */
static void submit(collect_t *co, struct evhttp_request *req,
                   ltrr_event_batch_t *eb, int64_t start_us)
{
        size_t i, n = ltrr_event_batch_action_cnt(eb);
        collect_req_t *cr = calloc(1, sizeof(*cr));

        if (!cr || !(cr->recs = calloc(n, sizeof(*cr->recs))))
                abort(); /* the daemon treats out of memory as fatal */
        cr->co = co;
        cr->req = req;
        cr->eb = eb;
        cr->start_us = start_us;
        if (co->recs_inflight == 0)
                co->ack_ref_ms = collect_mono_ms();
        TAILQ_INSERT_TAIL(&co->reqs, cr, link);
        co->inflight++;
        ltrr_metrics_gauge_set_i64(co->m.inflight, (int64_t)co->inflight);
        /* Holds the request open while sending: a report served inside
         * send() must not finish it early. */
        cr->pending++;
        for (i = 0; i < n; i++)
                send_one(cr, i);
        if (--cr->pending == 0)
                req_finish(cr);
        else
                collect_poll(co);
}

/*
 * Checks "Authorization: Bearer KEY". Returns the key entry, or -1 after
 * answering 401.
 */
static int authenticate(collect_t *co, struct evhttp_request *req)
{
        const char *h = evhttp_find_header(
            evhttp_request_get_input_headers(req), "Authorization");
        int idx = -1;

        if (h && !strncasecmp(h, "Bearer ", 7)) {
                h += 7;
                while (*h == ' ')
                        h++;
                idx = ltrr_apikey_check(co->keys, h, strlen(h));
        }
        if (idx < 0)
                reply_error(co, req, COLLECT_CODE_401,
                            h ? "invalid API key"
                              : "missing Authorization: Bearer API key");
        return idx;
}

/* Counts the outcome of parsing @eb in the metrics. */
static void count_batch(collect_t *co, const ltrr_event_batch_t *eb)
{
        size_t i;

        for (i = 0; i < ltrr_event_batch_reject_cnt(eb); i++)
                ltrr_metrics_counter_inc(
                    co->m.rejected[ltrr_event_batch_reject(eb, i)->reason]);
        ltrr_metrics_counter_add(co->m.unknown_fields,
                                 ltrr_event_batch_unknown_fields(eb));
        ltrr_metrics_counter_add(co->m.clamped, ltrr_event_batch_clamped(eb));
}

/* Parses the body of @req for app entry @idx; NULL after replying. */
static ltrr_event_batch_t *parse_body(collect_t *co,
                                      struct evhttp_request *req, int idx)
{
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        ltrr_event_parse_opts_t opts = {
            .batch_max = (size_t)co->cf->batch_max,
            .now_ms = wall_ms(),
            .future_ms = co->cf->skew_future_ms,
            .past_ms = co->cf->skew_past_ms,
            .skew_rule = (ltrr_event_skew_rule_t)co->cf->skew_rule,
            .node_id = co->node_id,
            .app_id = ltrr_apikey_app(co->keys, idx),
        };
        ltrr_event_batch_t *eb = NULL;
        char errstr[256];
        ltrr_err_t err;

        if ((int64_t)len > co->cf->body_max) {
                reply_error(co, req, COLLECT_CODE_413, "body too large");
                return NULL;
        }
        err = ltrr_event_parse((const char *)evbuffer_pullup(in, -1), len,
                               &opts, &eb, errstr, sizeof(errstr));
        if (err == LTRR_ERR_NOMEM)
                abort(); /* the daemon treats out of memory as fatal */
        if (err) {
                reply_error(co, req,
                            err == LTRR_ERR_RANGE ? COLLECT_CODE_413
                                                  : COLLECT_CODE_400,
                            errstr);
                return NULL;
        }
        count_batch(co, eb);
        return eb;
}

/* POST /v1/events. */
static void serve_events(collect_t *co, struct evhttp_request *req)
{
        int64_t start_us = mono_us();
        ltrr_event_batch_t *eb;
        json_t *o;
        int idx;

        if (co->draining) {
                reply_error(co, req, COLLECT_CODE_503, "shutting down");
                return;
        }
        if ((idx = authenticate(co, req)) < 0)
                return;
        if (ltrr_apikey_take(co->keys, idx, collect_mono_ms())) {
                reply_error(co, req, COLLECT_CODE_429, "rate limit exceeded");
                return;
        }
        if (co->inflight >= (size_t)co->cf->inflight_max) {
                ltrr_metrics_counter_inc(co->m.overloaded);
                reply_error(co, req, COLLECT_CODE_503, "overloaded");
                return;
        }
        if (!(eb = parse_body(co, req, idx)))
                return;
        if (ltrr_event_batch_action_cnt(eb) == 0) {
                o = json_pack("{s:s,s:i}", "error", "no valid event",
                              "accepted", 0);
                json_add_rejected(o, eb);
                ltrr_event_batch_destroy(eb);
                reply(co, req, COLLECT_CODE_400, o);
                return;
        }
        assign_ids(eb, ltrr_apikey_app(co->keys, idx));
        submit(co, req, eb, start_us);
}

/* GET /metrics. */
static void serve_metrics(collect_t *co, struct evhttp_request *req)
{
        ltrr_strbuf_t sb;

        ltrr_kafka_producer_poll(co->kp, 0);
        ltrr_metrics_gauge_set_i64(co->m.queue_depth,
                                   ltrr_kafka_producer_outq(co->kp));
        ltrr_strbuf_init(&sb, COLLECT_METRICS_MAX);
        ltrr_admin_http_send_metrics(req, co->reg, &sb);
        ltrr_strbuf_clear(&sb);
}

/* GET /healthz. */
static void serve_health(collect_t *co, struct evhttp_request *req)
{
        char reason[256];

        if (collect_health(co, reason, sizeof(reason))) {
                reply(co, req, COLLECT_CODE_503,
                      json_pack("{s:s,s:s}", "status", "unavailable",
                                "reason", reason));
                return;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "Content-Type", "application/json");
        evbuffer_add_printf(evhttp_request_get_output_buffer(req),
                            "{\"status\":\"ok\"}\n");
        evhttp_send_reply(req, 200, "OK", NULL);
}

/* Routes a request by path and method. */
static void http_cb(struct evhttp_request *req, void *arg)
{
        collect_t *co = arg;
        enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
        int get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;

        if (!path)
                path = "";
        if (!strcmp(path, "/v1/events") && cmd == EVHTTP_REQ_POST)
                serve_events(co, req);
        else if (!strcmp(path, "/metrics") && get)
                serve_metrics(co, req);
        else if (!strcmp(path, "/healthz") && get)
                serve_health(co, req);
        else if (!strcmp(path, "/v1/events") || !strcmp(path, "/metrics") ||
                 !strcmp(path, "/healthz"))
                reply_error(co, req, COLLECT_CODE_405, "method not allowed");
        else
                reply_error(co, req, COLLECT_CODE_404, "not found");
}

int collect_health(collect_t *co, char *reason, size_t reason_size)
{
        int64_t stalled = collect_mono_ms() - co->ack_ref_ms;

        if (co->draining) {
                snprintf(reason, reason_size, "shutting down");
                return 1;
        }
        if (co->recs_inflight > 0 && stalled > co->cf->health_stall_ms) {
                snprintf(reason, reason_size,
                         "kafka: %zu records unacknowledged for %lld ms",
                         co->recs_inflight, (long long)stalled);
                return 1;
        }
        return 0;
}

ltrr_err_t collect_http_start(collect_t *co, char *errstr,
                              size_t errstr_size)
{
        const ltrr_config_common_t *cm = &co->cf->common;

        TAILQ_INIT(&co->reqs);
        if (!(co->http = evhttp_new(co->base)))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "evhttp_new failed");
        evhttp_set_allowed_methods(co->http, EVHTTP_REQ_GET |
                                                 EVHTTP_REQ_HEAD |
                                                 EVHTTP_REQ_POST);
        /* Bodies up to 4x body.max reach the handler, which answers a
         * JSON 413 and counts it; libevent refuses anything larger. */
        evhttp_set_max_body_size(co->http, (ev_ssize_t)co->cf->body_max * 4);
        evhttp_set_max_headers_size(co->http, COLLECT_HEADERS_MAX);
        evhttp_set_gencb(co->http, http_cb, co);
        co->bound = evhttp_bind_socket_with_handle(co->http, cm->http_addr,
                                                   (uint16_t)cm->http_port);
        if (!co->bound)
                return ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                 "cannot listen on %s:%d: %s", cm->http_addr,
                                 cm->http_port, strerror(errno));
        return LTRR_OK;
}

uint16_t collect_http_port(const collect_t *co)
{
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        evutil_socket_t fd = evhttp_bound_socket_get_fd(co->bound);

        if (getsockname(fd, (struct sockaddr *)&ss, &sl))
                return 0;
        if (ss.ss_family == AF_INET6)
                return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void collect_http_stop_accepting(collect_t *co)
{
        if (co->bound) {
                evhttp_del_accept_socket(co->http, co->bound);
                co->bound = NULL;
        }
}

void collect_http_destroy(collect_t *co)
{
        collect_req_t *cr;

        while ((cr = TAILQ_FIRST(&co->reqs))) {
                TAILQ_REMOVE(&co->reqs, cr, link);
                req_free(cr); /* its evhttp request goes with the server */
        }
        co->inflight = 0;
        if (co->http)
                evhttp_free(co->http);
        co->http = NULL;
}
