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
#include <jansson.h>
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
        json_t *o = json_pack("{s:s}", "error", msg);
        char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;

        reply_text(sv, req, code, txt ? txt : "{\"error\":\"error\"}");
        free(txt);
        json_decref(o);
}

/* Arm names of a provenance mask, as a JSON array. */
static json_t *arms_json(const ltrr_search_t *se, uint32_t mask)
{
        const ltrr_bandit_space_t *sp = ltrr_search_space(se);
        json_t *a = json_array();
        size_t i;

        for (i = 0; i < sp->n_arms; i++)
                if ((mask >> i) & 1)
                        json_array_append_new(a, json_string(sp->arm_names[i]));
        return a;
}

/* The results; with @p debug each also carries the Q2E score it was
 * ranked with. */
static json_t *results_json(const ltrr_index_t *ix, const ltrr_search_t *se,
                            const ltrr_search_out_t *out, int debug)
{
        json_t *arr = json_array(), *r;
        size_t i;

        for (i = 0; i < out->hit_cnt; i++) {
                ltrr_index_entity_t e;

                if (ltrr_index_entity(ix, out->hits[i].ent, &e))
                        continue;
                r = json_pack("{s:s,s:s,s:s,s:s,s:f,s:i,s:o}", "id", e.id,
                              "type", ltrr_entity_type_name(e.type), "name",
                              e.name, "artists", e.artists, "score",
                              (double)out->hits[i].score, "position", (int)i,
                              "arms", arms_json(se, out->hits[i].arms));
                if (r && debug)
                        json_object_set_new(r, "q2e",
                                            json_real(out->hits[i].q2e));
                json_array_append_new(arr, r);
        }
        return arr;
}

static json_t *debug_json(const ltrr_search_t *se, const ltrr_search_out_t *out,
                          const ltrr_search_query_t *sq, double state_us)
{
        const ltrr_bandit_space_t *sp = ltrr_search_space(se);
        json_t *arms = json_array(), *t = json_object();
        size_t i;

        for (i = 0; i < out->dec->n_arms; i++) {
                const ltrr_decision_arm_t *a = &out->dec->arms[i];

                json_array_append_new(
                    arms, json_pack("{s:s,s:b,s:i,s:f}", "arm",
                                    sp->arm_names[i], "ran", a->ran, "budget",
                                    (int)a->budget, "probability", a->prob));
        }
        json_object_set_new(t, "state", json_real(state_us));
        for (i = 0; i < LTRR_SEARCH_STAGE__CNT; i++)
                json_object_set_new(t,
                                    ltrr_search_stage2str((ltrr_search_stage_t)i),
                                    json_real(out->stage_us[i]));
        return json_pack("{s:o,s:s,s:i,s:I,s:I,s:b,s:i,s:i,s:o}", "arms", arms,
                         "query_norm", ltrr_search_query_norm(sq), "bucket",
                         (int)ltrr_search_query_bucket(sq), "seed",
                         (json_int_t)out->dec->seed, "mc_samples",
                         (json_int_t)out->dec->mc_samples, "shadow",
                         out->shadow, "candidates", (int)out->cands,
                         "total_budget", (int)out->imp->total_budget,
                         "timings_us", t);
}

void serve_reply_results(serve_t *sv, struct evhttp_request *req,
                         const ltrr_index_t *ix, const ltrr_search_t *se,
                         const ltrr_search_query_t *sq, int debug,
                         double state_us)
{
        const ltrr_search_out_t *out = ltrr_search_out(sq);
        char hex[33];
        json_t *o;
        char *txt;
        int i;

        for (i = 0; i < 16; i++)
                snprintf(hex + 2 * i, 3, "%02x", out->imp->impression_id.b[i]);
        o = json_pack("{s:s,s:b,s:s,s:s,s:o}", "impression_id", hex,
                      "degraded", out->degraded, "policy", out->imp->policy,
                      "model_version", out->imp->model_version, "results",
                      results_json(ix, se, out, debug));
        if (o && debug)
                json_object_set_new(o, "debug",
                                    debug_json(se, out, sq, state_us));
        txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!txt) {
                serve_reply_error(sv, req, SERVE_CODE_500, "response failed");
                return;
        }
        reply_text(sv, req, SERVE_CODE_200, txt);
        free(txt);
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
