/*
 * ltrr - admin HTTP endpoint on libevent's evhttp.
 */
#include "admin_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

struct ltrr_admin_http_s {
        struct evhttp *http;               /**< owned */
        ltrr_metrics_t *reg;               /**< not owned, may be NULL */
        ltrr_admin_health_cb_t *health_cb; /**< may be NULL */
        void *opaque;                      /**< for health_cb */
        uint16_t port;                     /**< bound port */
        ltrr_strbuf_t body;                /**< /metrics render buffer */
};

/* Returns {"<k1>":"<v1>"} plus "<k2>":v2 when v2 is valid UTF-8 text
 * (jansson refuses anything else), or NULL when out of memory. */
static json_t *json_pair(const char *k1, const char *v1, const char *k2,
                         const char *v2)
{
        json_t *obj = json_pack("{s:s}", k1, v1);

        if (obj && k2 && v2)
                json_object_set_new(obj, k2, json_string(v2));
        return obj;
}

/* Sends @p code with @p json (a reference we release) as the body. */
static void reply_json(struct evhttp_request *req, int code, const char *reason,
                       json_t *json)
{
        struct evbuffer *out = evbuffer_new();
        char *txt = json ? json_dumps(json, JSON_COMPACT) : NULL;

        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "Content-Type", "application/json");
        if (out && txt) {
                evbuffer_add(out, txt, strlen(txt));
                evbuffer_add(out, "\n", 1);
        }
        evhttp_send_reply(req, txt ? code : 500, txt ? reason : "Internal",
                          out);
        free(txt);
        json_decref(json);
        if (out)
                evbuffer_free(out);
}

void ltrr_admin_http_send_metrics(struct evhttp_request *req,
                                  ltrr_metrics_t *reg, ltrr_strbuf_t *body)
{
        struct evbuffer *out;

        ltrr_strbuf_reset(body);
        if (reg && ltrr_metrics_render(reg, body)) {
                reply_json(req, 500, "Internal",
                           json_pack("{s:s}", "error",
                                     ltrr_err2str(ltrr_strbuf_err(body))));
                return;
        }
        if (!(out = evbuffer_new())) {
                evhttp_send_error(req, 500, NULL);
                return;
        }
        evbuffer_add(out, ltrr_strbuf_str(body), body->len);
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "Content-Type", "text/plain; version=0.0.4");
        evhttp_send_reply(req, 200, "OK", out);
        evbuffer_free(out);
}

static void serve_metrics(ltrr_admin_http_t *adm, struct evhttp_request *req)
{
        ltrr_admin_http_send_metrics(req, adm->reg, &adm->body);
}

static void serve_health(ltrr_admin_http_t *adm, struct evhttp_request *req)
{
        char reason[LTRR_ADMIN_HTTP_REASON_MAX] = "";

        if (!adm->health_cb ||
            adm->health_cb(adm->opaque, reason, sizeof(reason)) == 0) {
                reply_json(req, 200, "OK", json_pack("{s:s}", "status", "ok"));
                return;
        }
        reason[sizeof(reason) - 1] = '\0';
        reply_json(req, 503, "Service Unavailable",
                   json_pair("status", "unavailable", "reason",
                             reason[0] ? reason : "unhealthy"));
}

/* Dispatches every request by method, then path. */
static void admin_http_cb(struct evhttp_request *req, void *arg)
{
        ltrr_admin_http_t *adm = arg;
        enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

        if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
                evhttp_add_header(evhttp_request_get_output_headers(req),
                                  "Allow", "GET, HEAD");
                reply_json(req, 405, "Method Not Allowed",
                           json_pack("{s:s}", "error", "method not allowed"));
                return;
        }
        if (path && !strcmp(path, "/metrics"))
                serve_metrics(adm, req);
        else if (path && !strcmp(path, "/healthz"))
                serve_health(adm, req);
        else
                reply_json(req, 404, "Not Found",
                           json_pair("error", "not found", "path", path));
}

/* Reads back the port the kernel gave the listening socket. */
static uint16_t bound_port(struct evhttp_bound_socket *bs)
{
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        evutil_socket_t fd = evhttp_bound_socket_get_fd(bs);

        if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
                return 0;
        if (ss.ss_family == AF_INET)
                return ntohs(((struct sockaddr_in *)&ss)->sin_port);
        if (ss.ss_family == AF_INET6)
                return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        return 0;
}

ltrr_admin_http_t *
ltrr_admin_http_new(struct event_base *base, const char *addr, uint16_t port,
                    ltrr_metrics_t *reg, ltrr_admin_health_cb_t *health_cb,
                    void *opaque, char *errstr, size_t errstr_size)
{
        struct evhttp_bound_socket *bs;
        ltrr_admin_http_t *adm;

        if (!base || !addr) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "event base and address are required");
                return NULL;
        }
        if (!(adm = calloc(1, sizeof(*adm)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        ltrr_strbuf_init(&adm->body, LTRR_ADMIN_HTTP_BODY_MAX);
        adm->reg = reg;
        adm->health_cb = health_cb;
        adm->opaque = opaque;
        if (!(adm->http = evhttp_new(base))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "evhttp_new failed");
                goto err;
        }
        evhttp_set_allowed_methods(adm->http, 0xffff);
        evhttp_set_gencb(adm->http, admin_http_cb, adm);
        if (!(bs = evhttp_bind_socket_with_handle(adm->http, addr, port))) {
                ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                          "cannot listen on %s:%u", addr, (unsigned)port);
                goto err;
        }
        adm->port = bound_port(bs);
        return adm;
err:
        ltrr_admin_http_destroy(adm);
        return NULL;
}

uint16_t ltrr_admin_http_port(const ltrr_admin_http_t *adm)
{
        return adm ? adm->port : 0;
}

void ltrr_admin_http_destroy(ltrr_admin_http_t *adm)
{
        if (!adm)
                return;
        if (adm->http)
                evhttp_free(adm->http);
        ltrr_strbuf_clear(&adm->body);
        free(adm);
}
