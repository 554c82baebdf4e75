/*
 * ltrr-serve - the live dashboard.
 *
 *   GET /dashboard                 the page (HTML, embedded at build time)
 *   GET /dashboard/dashboard.css   its style sheet
 *   GET /dashboard/dashboard.js    its script (plain SVG charts)
 *   GET /dashboard/data[?since=T]  JSON snapshot: the history points newer
 *                                  than T (ms since the epoch), the arm
 *                                  names, the sources and the top queries
 *
 * A sampler thread with its own event base scrapes /metrics of ltrr-serve
 * itself and of ltrr-collect, ltrr-join and ltrr-learn (config keys
 * dashboard.*_url) once a second, reads the top queries and the bandit's
 * per-arm reward means from Redis every few seconds, and appends one
 * point to a fixed ring (DASHBOARD_POINTS_MAX). Request handlers only
 * copy from that ring under a mutex: no I/O on the request path.
 */
#ifndef LTRR_DASHBOARD_H
#define LTRR_DASHBOARD_H

#include <stddef.h>

#include "serve_int.h"

/** History points kept: 10 minutes at one point a second. */
#define DASHBOARD_POINTS_MAX 600
/** Sampling period, ms. */
#define DASHBOARD_PERIOD_MS 1000

/* dashboard_t (short name: dash) is declared in serve_int.h. */

/** What the sampler reads; strings are copied by dashboard_new(). */
typedef struct dashboard_conf_s {
        const char *serve_url;      /* this server's base URL */
        const char *collect_url;    /* "" or NULL: not scraped */
        const char *join_url;       /* "" or NULL: not scraped */
        const char *learn_url;      /* "" or NULL: not scraped */
        const char *redis_addr;     /* host:port, "" or NULL: no Redis reads */
        const char *redis_user;     /* ACL user or "" */
        const char *redis_password; /* "" or NULL: no AUTH */
} dashboard_conf_t;

/**
 * Creates the dashboard and starts its sampler thread. Returns NULL with
 * the reason in @p errstr when a URL is not http://host:port[/] or the
 * thread cannot start.
 */
dashboard_t *dashboard_new(const dashboard_conf_t *conf, char *errstr,
                           size_t errstr_size);

/** Stops the sampler (waits up to one period) and frees. NULL-safe. */
void dashboard_destroy(dashboard_t *dash);

/**
 * Answers @p req when @p path is under /dashboard and returns 1;
 * otherwise returns 0 and leaves @p req alone. Any worker thread.
 */
int dashboard_handle(dashboard_t *dash, serve_t *sv, struct evhttp_request *req,
                     const char *path);

/**
 * Creates the dashboard of ltrr-serve from @p sv's config (its own URL
 * from the bound port, the dashboard.*_url keys, Redis). Returns NULL,
 * having logged why, when it cannot start: the daemon runs without it.
 * Main thread, once the workers listen.
 */
dashboard_t *dashboard_start(serve_t *sv);

/**
 * The route of ltrr-serve: dashboard_handle() with @p sv's dashboard
 * (NULL before it started or if it failed: /dashboard/data answers 503).
 * Returns 1 when @p req was answered. Any worker thread.
 */
int dashboard_route(serve_t *sv, struct evhttp_request *req, const char *path);

#endif /* LTRR_DASHBOARD_H */
