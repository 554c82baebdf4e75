/*
 * ltrr-serve - the search API. main() wires the parts: config, index,
 * metrics, the shared Kafka producer, the listening socket and the
 * worker threads; the main loop serves delivery reports and signals
 * (SIGHUP reloads the index, SIGTERM drains and flushes).
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "dashboard.h"
#include "log.h"
#include "serve_int.h"

static const char usage[] =
    "Usage: ltrr-serve [options]\n"
    "HTTP search API: GET/POST /v1/search runs the bandit, the arms and "
    "the ranker and publishes impressions.\n";

/* The main loop's context. */
typedef struct serve_main_s {
        serve_t *sv;           /* daemon */
        struct event_base *base; /* main loop */
        struct event *poll_ev;   /* delivery reports */
        struct event *wait_ev;   /* joins workers after SIGTERM */
} serve_main_t;

serve_index_t *serve_index_get(serve_t *sv)
{
        serve_index_t *si;

        pthread_mutex_lock(&sv->ix_lock);
        si = sv->cur;
        si->refs++;
        pthread_mutex_unlock(&sv->ix_lock);
        return si;
}

static void index_free(serve_index_t *si)
{
        if (!si)
                return;
        ltrr_search_ids_destroy(si->ids);
        ltrr_qu_dict_destroy(si->qu);
        ltrr_index_destroy(si->ix);
        free(si);
}

void serve_index_put(serve_t *sv, serve_index_t *si)
{
        int last;

        pthread_mutex_lock(&sv->ix_lock);
        last = --si->refs == 0;
        pthread_mutex_unlock(&sv->ix_lock);
        if (last)
                index_free(si);
}

/* Opens the configured index and its QU dictionary, if any. */
static serve_index_t *index_load(const char *path, char *errstr,
                                 size_t errstr_size)
{
        serve_index_t *si = calloc(1, sizeof(*si));
        const void *qu;
        uint64_t len = 0;

        if (!si || !path || !*path) {
                free(si);
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "no index configured (index / LTRR_INDEX)");
                return NULL;
        }
        if (!(si->ix = ltrr_index_open(path, errstr, errstr_size)))
                goto err;
        if ((qu = ltrr_index_section(si->ix, LTRR_INDEX_SEC_QU, &len)) &&
            !(si->qu = ltrr_qu_dict_load(qu, (size_t)len, errstr,
                                         errstr_size)))
                goto err;
        if (!(si->ids = ltrr_search_ids_new(si->ix, errstr, errstr_size)))
                goto err;
        si->refs = 1; /* the daemon's own reference */
        return si;
err:
        index_free(si);
        return NULL;
}

/* SIGHUP: swaps in a freshly opened index; queries keep the old one
 * until they finish. A bad file keeps the current index. */
static void reload(serve_t *sv)
{
        serve_index_t *si, *old;
        char errstr[512], nbuf[32];

        if (!(si = index_load(sv->cf->index, errstr, sizeof(errstr)))) {
                log_error("serve", "reload failed; keeping the index", "err",
                          errstr);
                return;
        }
        pthread_mutex_lock(&sv->ix_lock);
        old = sv->cur;
        sv->cur = si;
        pthread_mutex_unlock(&sv->ix_lock);
        serve_index_put(sv, old);
        ltrr_metrics_counter_inc(sv->m.reloads);
        log_info("serve", "index reloaded", "entities",
                 ltrr_log_i64(nbuf, sizeof(nbuf),
                              (long long)ltrr_index_count(si->ix)));
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
        serve_main_t *mn = arg;

        (void)fd;
        (void)what;
        ltrr_kafka_producer_poll(mn->sv->kp, 0);
}

/* Exits once every worker loop has returned. */
static void wait_cb(evutil_socket_t fd, short what, void *arg)
{
        serve_main_t *mn = arg;

        (void)fd;
        (void)what;
        event_base_loopexit(mn->base, NULL);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
        serve_main_t *mn = arg;
        struct timeval tv = {0, 0};
        int i;

        (void)what;
        if (sig == SIGHUP) {
                reload(mn->sv);
                return;
        }
        if (mn->sv->draining)
                return;
        mn->sv->draining = 1;
        log_info("serve", "draining", "signal", strsignal((int)sig));
        for (i = 0; i < mn->sv->nworkers; i++)
                serve_worker_stop(&mn->sv->workers[i]);
        event_add(mn->wait_ev, &tv);
}

static ltrr_metrics_family_t *family(serve_t *sv, ltrr_metrics_type_t type,
                                     const char *name, const char *help,
                                     const char *label)
{
        const char *labels[2] = {label, NULL};
        ltrr_metrics_spec_t spec = {.type = type, .name = name, .help = help,
                                    .labels = label ? labels : NULL,
                                    LTRR_METRICS_BUCKETS_SECONDS};
        char errstr[256];

        return ltrr_metrics_register(sv->reg, &spec, errstr, sizeof(errstr));
}

static ltrr_metrics_child_t *child1(ltrr_metrics_family_t *fam,
                                    const char *v)
{
        const char *vals[1] = {v};

        return fam ? ltrr_metrics_child(fam, v ? vals : NULL) : NULL;
}

static void metrics_init(serve_t *sv, const ltrr_bandit_space_t *sp)
{
        static const char *const codes[SERVE_CODE__CNT] = {
            "200", "400", "404", "405", "413", "429", "500", "503"};
        serve_metrics_t *m = &sv->m;
        ltrr_metrics_family_t *f;
        size_t i;

        f = family(sv, LTRR_METRICS_COUNTER, "ltrr_serve_requests_total",
                   "HTTP responses, by status code (QPS).", "code");
        for (i = 0; i < SERVE_CODE__CNT; i++)
                m->requests[i] = child1(f, codes[i]);
        m->latency = child1(family(sv, LTRR_METRICS_HISTOGRAM,
                                   "ltrr_serve_latency_seconds",
                                   "Search request to response.", NULL),
                            NULL);
        f = family(sv, LTRR_METRICS_HISTOGRAM, "ltrr_serve_stage_seconds",
                   "Time per pipeline stage.", "stage");
        for (i = 0; i < LTRR_SEARCH_STAGE__CNT; i++)
                m->stage[i] = child1(
                    f, ltrr_search_stage2str((ltrr_search_stage_t)i));
        m->stage[LTRR_SEARCH_STAGE__CNT] = child1(f, "state");
        f = family(sv, LTRR_METRICS_COUNTER, "ltrr_serve_arm_selected_total",
                   "Queries on which an arm ran.", "arm");
        for (i = 0; i < sp->n_arms; i++)
                m->arm[i] = child1(f, sp->arm_names[i]);
#define C(field, name, help)                                                   \
        m->field = child1(family(sv, LTRR_METRICS_COUNTER, name, help, NULL), \
                          NULL)
        C(degraded, "ltrr_serve_degraded_total",
          "Answers from cached state (Redis slow or down).");
        C(shadow, "ltrr_serve_shadow_total", "Shadow queries (all arms).");
        C(dropped, "ltrr_serve_impressions_dropped_total",
          "Impressions not queued (producer queue full or encoding).");
        C(redis_errors, "ltrr_serve_redis_errors_total",
          "State reads that failed or timed out.");
        C(kafka_failed, "ltrr_serve_kafka_errors_total",
          "Impressions Kafka did not acknowledge.");
        C(reloads, "ltrr_serve_index_reloads_total", "Index reloads (SIGHUP).");
        C(rk_reloads, "ltrr_serve_ranker_online_reloads_total",
          "Online ranker statistics applied (per worker).");
#undef C
        m->rk_count = child1(family(sv, LTRR_METRICS_GAUGE,
                                    "ltrr_serve_ranker_online_rewards",
                                    "Rewards in the online ranker "
                                    "statistics last applied.",
                                    NULL),
                             NULL);
        m->queue_depth = child1(family(sv, LTRR_METRICS_GAUGE,
                                       "ltrr_serve_queue_depth",
                                       "Impressions queued or in flight.",
                                       NULL),
                                NULL);
}

/* Delivery reports: a failure is an impression lost. */
static void dr_hook(void *opaque, void *msg_opaque, ltrr_err_t err,
                    const char *reason)
{
        serve_t *sv = opaque;

        (void)msg_opaque;
        (void)reason;
        if (err) {
                ltrr_metrics_counter_inc(sv->m.kafka_failed);
                ltrr_metrics_counter_inc(sv->m.dropped);
        }
}

/* Parses "10,25,50" into the search conf's budget levels. */
static int budgets_parse(const char *s, ltrr_search_conf_t *scf)
{
        char *end;

        scf->n_budgets = 0;
        while (*s) {
                long v = strtol(s, &end, 10);

                if (end == s || v < 1 ||
                    scf->n_budgets >= LTRR_BANDIT_MAX_BUDGETS)
                        return -1;
                scf->budgets[scf->n_budgets++] = (unsigned)v;
                s = *end == ',' ? end + 1 : end;
                if (*end && *end != ',')
                        return -1;
        }
        return scf->n_budgets ? 0 : -1;
}

/* Binds the shared listening socket. */
static int listen_open(serve_t *sv, char *errstr, size_t errstr_size)
{
        const ltrr_config_common_t *cm = &sv->cf->common;
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t len;
        int one = 1, fd;

        sa.sin_port = htons((uint16_t)cm->http_port);
        if (inet_pton(AF_INET, cm->http_addr, &sa.sin_addr) != 1)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "http.addr must be an IPv4 address");
        if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                         0)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
            bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
            listen(fd, 1024)) {
                int e = errno;

                if (fd >= 0)
                        close(fd);
                return ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                 "cannot listen on %s:%d: %s%s",
                                 cm->http_addr, cm->http_port, strerror(e),
                                 e == EADDRINUSE
                                     ? " (a listener, or an outgoing "
                                       "connection's local port)"
                                     : "");
        }
        sv->listen_fd = fd;
        len = sizeof(sa);
        sv->port = getsockname(fd, (struct sockaddr *)&sa, &len) == 0
                       ? ntohs(sa.sin_port)
                       : cm->http_port;
        return 0;
}

/* Fills the pipeline settings from the config. */
static int search_conf(serve_t *sv, char *errstr, size_t errstr_size)
{
        ltrr_search_conf_t *scf = &sv->scf;
        ltrr_search_t *se;

        ltrr_search_conf_init(scf);
        scf->policy = (ltrr_policy_kind_t)sv->cf->policy;
        scf->total_budget = (unsigned)sv->cf->total_budget;
        scf->shadow_share = sv->cf->shadow_share;
        scf->budget_cost = sv->cf->budget_cost;
        scf->baseline = sv->cf->baseline;
        scf->q2e_spelling = sv->cf->q2e_spelling;
        scf->menu = sv->cf->menu;
        scf->node_id = sv->node_id;
        if (budgets_parse(sv->cf->budgets, scf))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad bandit.budgets '%s'", sv->cf->budgets);
        if (!(se = ltrr_search_new(scf, errstr, errstr_size)))
                return -1;
        metrics_init(sv, ltrr_search_space(se));
        ltrr_search_destroy(se);
        return 0;
}

static ltrr_kafka_producer_t *producer_new(serve_t *sv,
                                           const ltrr_config_t *conf,
                                           char *errstr, size_t errstr_size)
{
        ltrr_kafka_opts_t opts = {
            .bootstrap = sv->cf->common.kafka_bootstrap,
            .client_id = "ltrr-serve",
            .dr_hook = dr_hook,
            .opaque = sv,
        };

        return ltrr_kafka_producer_new(ltrr_config_kafka(conf), &opts, errstr,
                                       errstr_size);
}

static int workers_start(serve_t *sv, char *errstr, size_t errstr_size)
{
        int i, n = sv->cf->workers;

        if (!(sv->workers = calloc((size_t)n, sizeof(*sv->workers))))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "no memory");
        for (i = 0; i < n; i++) {
                sv->workers[i].sv = sv;
                sv->workers[i].id = i;
                sv->nworkers = i + 1;
                if (serve_worker_start(&sv->workers[i], errstr, errstr_size))
                        return -1;
        }
        return 0;
}

static void workers_stop(serve_t *sv)
{
        int i;

        for (i = 0; i < sv->nworkers; i++)
                serve_worker_stop(&sv->workers[i]);
        for (i = 0; i < sv->nworkers; i++)
                serve_worker_join(&sv->workers[i]);
        free(sv->workers);
        sv->workers = NULL;
        sv->nworkers = 0;
}

/* The main loop: signals and delivery reports, until drained. */
static int loop(serve_t *sv)
{
        serve_main_t mn = {.sv = sv};
        struct event *sigs[3] = {NULL, NULL, NULL};
        const int signos[3] = {SIGTERM, SIGINT, SIGHUP};
        struct timeval tv = {0, SERVE_POLL_MS * 1000};
        int i, rc = 1;

        if (!(mn.base = event_base_new()))
                return 1;
        mn.poll_ev = event_new(mn.base, -1, EV_PERSIST, poll_cb, &mn);
        mn.wait_ev = evtimer_new(mn.base, wait_cb, &mn);
        for (i = 0; i < 3; i++)
                if (!(sigs[i] = evsignal_new(mn.base, signos[i], signal_cb,
                                             &mn)) ||
                    event_add(sigs[i], NULL))
                        goto done;
        if (!mn.poll_ev || !mn.wait_ev || event_add(mn.poll_ev, &tv))
                goto done;
        event_base_dispatch(mn.base);
        rc = 0;
done:
        for (i = 0; i < 3; i++)
                if (sigs[i])
                        event_free(sigs[i]);
        if (mn.poll_ev)
                event_free(mn.poll_ev);
        if (mn.wait_ev)
                event_free(mn.wait_ev);
        event_base_free(mn.base);
        return rc;
}

static void node_id_init(serve_t *sv)
{
        const char *id = sv->cf->common.node_id;

        if (id && *id)
                snprintf(sv->node_id, sizeof(sv->node_id), "%s", id);
        else if (gethostname(sv->node_id, sizeof(sv->node_id) - 1))
                snprintf(sv->node_id, sizeof(sv->node_id), "serve");
}

static int run(serve_t *sv, const ltrr_config_t *conf)
{
        char errstr[512], pbuf[16];
        int rc = 1;

        /* The port is bound before any outgoing connection opens: the
         * producer's and Redis' sockets take ephemeral local ports, and
         * a port held by an outgoing connection cannot be bound, even
         * with SO_REUSEADDR. */
        if (listen_open(sv, errstr, sizeof(errstr))) {
                log_error("serve", "start failed", "err", errstr);
                return 1;
        }
        if (!(sv->kp = producer_new(sv, conf, errstr, sizeof(errstr)))) {
                log_error("serve", "producer failed", "err", errstr);
                goto done;
        }
        if (workers_start(sv, errstr, sizeof(errstr))) {
                log_error("serve", "start failed", "err", errstr);
                goto done;
        }
        atomic_store(&sv->dash, dashboard_start(sv));
        log_info("serve", "listening", "addr", sv->cf->common.http_addr,
                 "port",
                 ltrr_log_i64(pbuf, sizeof(pbuf), sv->port),
                 "index", sv->cf->index, "node", sv->node_id);
        rc = loop(sv);
done:
        workers_stop(sv);
        dashboard_destroy(atomic_load(&sv->dash)); /* no reader is left */
        atomic_store(&sv->dash, NULL);
        if (sv->listen_fd >= 0)
                close(sv->listen_fd);
        ltrr_kafka_producer_destroy(sv->kp); /* flushes what is queued */
        sv->kp = NULL;
        log_info("serve", "stopped");
        return rc;
}

int main(int argc, char **argv)
{
        serve_t sv = {.listen_fd = -1};
        ltrr_config_t *conf;
        char errstr[512];
        int rc = 1;

        if (!(conf = ltrr_cli_config_load("serve", usage, argc, argv, &rc)))
                return rc;
        rc = 1;
        sv.cf = ltrr_config_struct(conf);
        node_id_init(&sv);
        signal(SIGPIPE, SIG_IGN);
        pthread_mutex_init(&sv.ix_lock, NULL);
        if (evthread_use_pthreads()) {
                log_error("serve", "libevent threads unavailable");
                goto done;
        }
        if (!(sv.reg = ltrr_metrics_new(errstr, sizeof(errstr))) ||
            search_conf(&sv, errstr, sizeof(errstr))) {
                log_error("serve", "setup failed", "err", errstr);
                goto done;
        }
        if (!(sv.cur = index_load(sv.cf->index, errstr, sizeof(errstr)))) {
                log_error("serve", "index", "err", errstr);
                goto done;
        }
        rc = run(&sv, conf);
done:
        if (sv.cur)
                serve_index_put(&sv, sv.cur);
        ltrr_metrics_destroy(sv.reg);
        pthread_mutex_destroy(&sv.ix_lock);
        ltrr_config_destroy(conf);
        return rc;
}
