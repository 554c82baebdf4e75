/*
 * ltrr-serve - request parsing, routing and responses.
 *
 * GET /v1/search?q=&user=&session=&k=&lang=&policy=&arms=&debug= and
 * POST /v1/search with the same fields as a JSON object. Every refusal
 * is a JSON {"error": "..."} with a 4xx code; /metrics and /healthz
 * share the listener.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_http.h"
#include "dashboard.h"
#include "serve_int.h"
#include "strbuf.h"

/* Largest /metrics body. */
#define SERVE_METRICS_MAX ((size_t)16 << 20)

static const int code_values[SERVE_CODE__CNT] = {200, 400, 404, 405,
                                                 413, 429, 500, 503};

/* Sends @p txt (may be NULL) as JSON with status @p code. */
static void reply_text(serve_t *sv, struct evhttp_request *req,
                       serve_code_t code, const char *txt)
{
        struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
        struct evbuffer *out = evhttp_request_get_output_buffer(req);

        evhttp_add_header(hdrs, "Content-Type", "application/json");
        if (code == SERVE_CODE_429 || code == SERVE_CODE_503)
                evhttp_add_header(hdrs, "Retry-After", "1");
        if (txt) {
                evbuffer_add(out, txt, strlen(txt));
                evbuffer_add(out, "\n", 1);
        }
        ltrr_metrics_counter_inc(sv->m.requests[code]);
        evhttp_send_reply(req, code_values[code], NULL, NULL);
}

void serve_reply_error(serve_t *sv, struct evhttp_request *req,
                       serve_code_t code, const char *msg)
{
        char buf[2048];
        ltrr_strbuf_t sb;

        /* An over-long message fails the fixed buffer, and the generic
         * error goes out instead. */
        ltrr_strbuf_init_fixed(&sb, buf, sizeof(buf));
        ltrr_strbuf_puts(&sb, "{\"error\":");
        ltrr_strbuf_json_str(&sb, msg);
        ltrr_strbuf_putc(&sb, '}');
        reply_text(sv, req, code,
                   ltrr_strbuf_err(&sb) ? "{\"error\":\"error\"}" : buf);
}

/* "name":value pairs of the response, appended to the worker's buffer. */
static void key(ltrr_strbuf_t *sb, const char *k)
{
        ltrr_strbuf_putc(sb, '"');
        ltrr_strbuf_puts(sb, k);
        ltrr_strbuf_append(sb, "\":", 2);
}

static void kv_str(ltrr_strbuf_t *sb, const char *k, const char *v)
{
        key(sb, k);
        ltrr_strbuf_json_str(sb, v);
}

static void kv_int(ltrr_strbuf_t *sb, const char *k, int64_t v)
{
        key(sb, k);
        ltrr_strbuf_printf(sb, "%" PRId64, v);
}

static void kv_num(ltrr_strbuf_t *sb, const char *k, double v)
{
        key(sb, k);
        ltrr_strbuf_json_num(sb, v);
}

static void kv_bool(ltrr_strbuf_t *sb, const char *k, int v)
{
        key(sb, k);
        ltrr_strbuf_puts(sb, v ? "true" : "false");
}

/* Arm names of a provenance mask, as a JSON array. */
static void arms_json(ltrr_strbuf_t *sb, const ltrr_search_t *se, uint32_t mask)
{
        const ltrr_bandit_space_t *sp = ltrr_search_space(se);
        size_t i;
        int first = 1;

        ltrr_strbuf_putc(sb, '[');
        for (i = 0; i < sp->n_arms; i++)
                if ((mask >> i) & 1) {
                        if (!first)
                                ltrr_strbuf_putc(sb, ',');
                        ltrr_strbuf_json_str(sb, sp->arm_names[i]);
                        first = 0;
                }
        ltrr_strbuf_putc(sb, ']');
}

/* The results; with @p debug each also carries the Q2E score it was
 * ranked with. */
static void results_json(ltrr_strbuf_t *sb, const ltrr_index_t *ix,
                         const ltrr_search_t *se, const ltrr_search_out_t *out,
                         int debug)
{
        size_t i;
        int first = 1;

        ltrr_strbuf_putc(sb, '[');
        for (i = 0; i < out->hit_cnt; i++) {
                ltrr_index_entity_t e;

                if (ltrr_index_entity(ix, out->hits[i].ent, &e))
                        continue;
                ltrr_strbuf_append(sb, first ? "{" : ",{", first ? 1 : 2);
                first = 0;
                kv_str(sb, "id", e.id);
                ltrr_strbuf_putc(sb, ',');
                kv_str(sb, "type", ltrr_entity_type_name(e.type));
                ltrr_strbuf_putc(sb, ',');
                kv_str(sb, "name", e.name);
                ltrr_strbuf_putc(sb, ',');
                kv_str(sb, "artists", e.artists);
                ltrr_strbuf_putc(sb, ',');
                kv_num(sb, "score", (double)out->hits[i].score);
                ltrr_strbuf_putc(sb, ',');
                kv_int(sb, "position", (int64_t)i);
                ltrr_strbuf_putc(sb, ',');
                key(sb, "arms");
                arms_json(sb, se, out->hits[i].arms);
                if (debug) {
                        ltrr_strbuf_putc(sb, ',');
                        kv_num(sb, "q2e", out->hits[i].q2e);
                }
                ltrr_strbuf_putc(sb, '}');
        }
        ltrr_strbuf_putc(sb, ']');
}

/* The per-arm decision of the debug object. */
static void debug_arms(ltrr_strbuf_t *sb, const ltrr_search_t *se,
                       const ltrr_search_out_t *out)
{
        const ltrr_bandit_space_t *sp = ltrr_search_space(se);
        size_t i;

        ltrr_strbuf_putc(sb, '[');
        for (i = 0; i < out->dec->n_arms; i++) {
                const ltrr_decision_arm_t *a = &out->dec->arms[i];

                ltrr_strbuf_append(sb, i ? ",{" : "{", i ? 2 : 1);
                kv_str(sb, "arm", sp->arm_names[i]);
                ltrr_strbuf_putc(sb, ',');
                kv_bool(sb, "ran", a->ran);
                ltrr_strbuf_putc(sb, ',');
                kv_int(sb, "budget", (int64_t)a->budget);
                ltrr_strbuf_putc(sb, ',');
                kv_num(sb, "probability", a->prob);
                ltrr_strbuf_putc(sb, '}');
        }
        ltrr_strbuf_putc(sb, ']');
}

static void debug_json(ltrr_strbuf_t *sb, const ltrr_search_t *se,
                       const ltrr_search_out_t *out,
                       const ltrr_search_query_t *sq, double state_us)
{
        size_t i;

        ltrr_strbuf_putc(sb, '{');
        key(sb, "arms");
        debug_arms(sb, se, out);
        ltrr_strbuf_putc(sb, ',');
        kv_str(sb, "query_norm", ltrr_search_query_norm(sq));
        ltrr_strbuf_putc(sb, ',');
        kv_str(sb, "query_corrected", ltrr_search_query_alt(sq));
        ltrr_strbuf_putc(sb, ',');
        kv_int(sb, "bucket", (int64_t)ltrr_search_query_bucket(sq));
        ltrr_strbuf_putc(sb, ',');
        kv_int(sb, "seed", (int64_t)out->dec->seed);
        ltrr_strbuf_putc(sb, ',');
        kv_int(sb, "mc_samples", (int64_t)out->dec->mc_samples);
        ltrr_strbuf_putc(sb, ',');
        kv_bool(sb, "shadow", out->shadow);
        ltrr_strbuf_putc(sb, ',');
        kv_int(sb, "candidates", (int64_t)out->cands);
        ltrr_strbuf_putc(sb, ',');
        kv_int(sb, "total_budget", (int64_t)out->imp->total_budget);
        ltrr_strbuf_putc(sb, ',');
        key(sb, "timings_us");
        ltrr_strbuf_putc(sb, '{');
        kv_num(sb, "state", state_us);
        for (i = 0; i < LTRR_SEARCH_STAGE__CNT; i++) {
                ltrr_strbuf_putc(sb, ',');
                kv_num(sb, ltrr_search_stage2str((ltrr_search_stage_t)i),
                       out->stage_us[i]);
        }
        ltrr_strbuf_append(sb, "},", 2);
        key(sb, "cpu_us");
        for (i = 0; i < LTRR_SEARCH_STAGE__CNT; i++) {
                ltrr_strbuf_putc(sb, i ? ',' : '{');
                kv_num(sb, ltrr_search_stage2str((ltrr_search_stage_t)i),
                       out->stage_cpu_us[i]);
        }
        ltrr_strbuf_append(sb, "}}", 2);
}

void serve_reply_results(serve_t *sv, struct evhttp_request *req,
                         ltrr_strbuf_t *sb, const ltrr_index_t *ix,
                         const ltrr_search_t *se, const ltrr_search_query_t *sq,
                         int debug, double state_us)
{
        static const char xd[] = "0123456789abcdef";
        const ltrr_search_out_t *out = ltrr_search_out(sq);
        char hex[33];
        int i;

        for (i = 0; i < 16; i++) {
                hex[2 * i] = xd[out->imp->impression_id.b[i] >> 4];
                hex[2 * i + 1] = xd[out->imp->impression_id.b[i] & 15];
        }
        hex[32] = '\0';
        ltrr_strbuf_reset(sb);
        ltrr_strbuf_putc(sb, '{');
        kv_str(sb, "impression_id", hex);
        ltrr_strbuf_putc(sb, ',');
        kv_bool(sb, "degraded", out->degraded);
        ltrr_strbuf_putc(sb, ',');
        kv_str(sb, "policy", out->imp->policy);
        ltrr_strbuf_putc(sb, ',');
        kv_str(sb, "model_version", out->imp->model_version);
        ltrr_strbuf_putc(sb, ',');
        key(sb, "results");
        results_json(sb, ix, se, out, debug);
        if (debug) {
                ltrr_strbuf_putc(sb, ',');
                key(sb, "debug");
                debug_json(sb, se, out, sq, state_us);
        }
        ltrr_strbuf_putc(sb, '}');
        if (ltrr_strbuf_err(sb)) {
                serve_reply_error(sv, req, SERVE_CODE_500, "response failed");
                return;
        }
        reply_text(sv, req, SERVE_CODE_200, ltrr_strbuf_str(sb));
}

/* Is the request's content type JSON? */
static int is_json(struct evhttp_request *req)
{
        const char *ct = evhttp_find_header(
            evhttp_request_get_input_headers(req), "Content-Type");
        size_t n = strlen("application/json");

        return ct && !strncasecmp(ct, "application/json", n) &&
               (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* GET or POST /v1/search. */
static void serve_search(serve_worker_t *w, struct evhttp_request *req)
{
        serve_t *sv = w->sv;
        int64_t start_us = serve_mono_us();
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        serve_params_t p;
        char err[256];
        int rc;

        if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
                if ((int64_t)len > sv->cf->body_max) {
                        serve_reply_error(sv, req, SERVE_CODE_413,
                                          "body too large");
                        return;
                }
                if (!is_json(req)) {
                        serve_reply_error(sv, req, SERVE_CODE_400,
                                          "Content-Type must be "
                                          "application/json");
                        return;
                }
                rc = ltrr_search_params_json(
                    (const char *)evbuffer_pullup(in, -1), len, &p, 10, err,
                    sizeof(err));
        } else {
                rc = ltrr_search_params_query(
                    evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)),
                    &p, 10, err, sizeof(err));
        }
        if (rc) {
                serve_reply_error(sv, req, SERVE_CODE_400, err);
                return;
        }
        serve_worker_search(w, req, &p, start_us);
}

static void serve_metrics(serve_t *sv, struct evhttp_request *req)
{
        ltrr_kafka_producer_stats_t ks;
        ltrr_strbuf_t sb;

        ltrr_kafka_producer_stats(sv->kp, &ks);
        ltrr_metrics_gauge_set_i64(sv->m.queue_depth,
                                   (int64_t)(ks.queued - ks.delivered -
                                             ks.failed));
        ltrr_strbuf_init(&sb, SERVE_METRICS_MAX);
        ltrr_admin_http_send_metrics(req, sv->reg, &sb);
        ltrr_strbuf_clear(&sb);
}

static void serve_health(serve_worker_t *w, struct evhttp_request *req)
{
        if (w->draining) {
                serve_reply_error(w->sv, req, SERVE_CODE_503, "shutting down");
                return;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "Content-Type", "application/json");
        evbuffer_add_printf(evhttp_request_get_output_buffer(req),
                            "{\"status\":\"ok\",\"redis\":%s}\n",
                            ltrr_redis_async_ready(w->ra) ? "true" : "false");
        evhttp_send_reply(req, 200, "OK", NULL);
}

void serve_http_cb(struct evhttp_request *req, void *arg)
{
        serve_worker_t *w = arg;
        enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
        int get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;

        if (!path)
                path = "";
        if (dashboard_route(w->sv, req, path))
                return;
        if (!strcmp(path, "/v1/search") && (get || cmd == EVHTTP_REQ_POST))
                serve_search(w, req);
        else if (!strcmp(path, "/metrics") && get &&
                 w->sv->cf->common.metrics_enabled)
                serve_metrics(w->sv, req);
        else if (!strcmp(path, "/healthz") && get)
                serve_health(w, req);
        else if (!strcmp(path, "/v1/search") || !strcmp(path, "/healthz"))
                serve_reply_error(w->sv, req, SERVE_CODE_405,
                                  "method not allowed");
        else
                serve_reply_error(w->sv, req, SERVE_CODE_404, "not found");
}
