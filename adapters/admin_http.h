/*
 * ltrr - the admin HTTP endpoint every daemon serves on its event base.
 *
 *   GET /metrics   200, the registry in Prometheus text format 0.0.4
 *   GET /healthz   200 {"status":"ok"}, or 503
 *                  {"status":"unavailable","reason":"..."} from the
 *                  health callback
 *   other paths    404 {"error":"not found","path":"..."}
 *   other methods  405 {"error":"method not allowed"}, Allow: GET, HEAD
 *
 * HEAD is answered like GET without a body. Requests run on the thread
 * that runs the event base.
 */
#ifndef LTRR_ADMIN_HTTP_H
#define LTRR_ADMIN_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "metrics.h"

struct event_base;

/** Largest /metrics body; a bigger registry is answered with 500. */
#define LTRR_ADMIN_HTTP_BODY_MAX ((size_t)16 << 20)
/** Longest health reason kept (longer ones are cut). */
#define LTRR_ADMIN_HTTP_REASON_MAX 256

/**
 * @brief Health probe: returns 0 when healthy; otherwise writes a short
 *        reason into @p reason (NUL-terminated, at most @p reason_size
 *        bytes) and returns non-zero. Runs on the event base's thread.
 */
typedef int(ltrr_admin_health_cb_t)(void *opaque, char *reason,
                                    size_t reason_size);

typedef struct ltrr_admin_http_s ltrr_admin_http_t; /* adm */

/**
 * @brief Starts listening on @p addr:@p port on @p base.
 *
 * @param base       event base, not owned; must outlive the server.
 * @param addr       address to bind, e.g. "127.0.0.1" or "0.0.0.0".
 * @param port       TCP port; 0 picks a free one (see _port()).
 * @param reg        registry served on /metrics, not owned; may be NULL
 *                   (an empty body is served).
 * @param health_cb  probe for /healthz; NULL means always healthy.
 * @param opaque     passed to @p health_cb.
 * @returns the server, or NULL with the reason in @p errstr.
 */
ltrr_admin_http_t *
ltrr_admin_http_new(struct event_base *base, const char *addr, uint16_t port,
                    ltrr_metrics_t *reg, ltrr_admin_health_cb_t *health_cb,
                    void *opaque, char *errstr, size_t errstr_size);

/** @brief Port actually bound (useful after asking for port 0). */
uint16_t ltrr_admin_http_port(const ltrr_admin_http_t *adm);

/** @brief Closes the listener and open connections. NULL-safe. Must not
 *  be called from inside one of the server's own request callbacks. */
void ltrr_admin_http_destroy(ltrr_admin_http_t *adm);

struct evhttp_request;
struct ltrr_strbuf_s;

/**
 * @brief Answers @p req with @p reg rendered in Prometheus text format
 *        (200, `text/plain; version=0.0.4`), or 500 with a JSON error if
 *        it does not fit @p body.
 *
 * For daemons that serve /metrics on their own HTTP listener rather than
 * through ltrr_admin_http_new(). @p body is caller-owned scratch, reset
 * here and left holding the rendering.
 */
void ltrr_admin_http_send_metrics(struct evhttp_request *req,
                                  ltrr_metrics_t *reg,
                                  struct ltrr_strbuf_s *body);

#endif /* LTRR_ADMIN_HTTP_H */
