/*
 * ltrr-metrics-sample: registers one metric of every kind, updates them,
 * and prints the exposition (--print), serves it over HTTP until SIGTERM
 * (--http.port=N [--http.addr=A]), or measures update costs (--bench[=N]).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "admin_http.h"
#include "log.h"
#include "metrics.h"

#define BENCH_ITERS_DEFAULT 10000000L

struct sample_args {
        int print;        /* --print */
        long port;        /* --http.port, -1 when not given */
        const char *addr; /* --http.addr */
        long bench;       /* --bench iterations, 0 when not asked */
};

struct sample {
        ltrr_metrics_t *reg;             /* owned */
        ltrr_metrics_family_t *requests; /* counter{route,code} */
        ltrr_metrics_family_t *inflight; /* gauge, no labels */
        ltrr_metrics_family_t *weight;   /* gauge{arm} */
        ltrr_metrics_family_t *latency;  /* histogram{route} seconds */
        ltrr_metrics_family_t *size;     /* histogram, sizes */
        unsigned tick;                   /* timer ticks so far */
};

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: ltrr-metrics-sample --print\n"
                "       ltrr-metrics-sample --http.port=N [--http.addr=A]\n"
                "       ltrr-metrics-sample --bench[=ITERATIONS]\n"
                "  --print              print the exposition and exit\n"
                "  --http.port=N        serve /metrics and /healthz on port N "
                "(0: any free port)\n"
                "  --http.addr=A        address to bind (default 127.0.0.1)\n"
                "  --bench[=N]          time N updates of each kind "
                "(default %ld)\n", (long)BENCH_ITERS_DEFAULT);
}

/* Parses a decimal in [lo, hi]; returns 0 on success. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < lo || v > hi)
                return -1;
        *out = v;
        return 0;
}

/* Fills @p a from argv; returns 0, or -1 after printing why. */
static int parse_args(int argc, char **argv, struct sample_args *a)
{
        int i;

        memset(a, 0, sizeof(*a));
        a->port = -1;
        a->addr = "127.0.0.1";
        for (i = 1; i < argc; i++) {
                const char *s = argv[i];
                if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
                        usage(stdout);
                        exit(0);
                } else if (!strcmp(s, "--print"))
                        a->print = 1;
                else if (!strncmp(s, "--http.port=", 12) &&
                         !parse_long(s + 12, 0, 65535, &a->port))
                        ;
                else if (!strncmp(s, "--http.addr=", 12) && s[12])
                        a->addr = s + 12;
                else if (!strcmp(s, "--bench"))
                        a->bench = BENCH_ITERS_DEFAULT;
                else if (!strncmp(s, "--bench=", 8) &&
                         !parse_long(s + 8, 1, 1000000000L, &a->bench))
                        ;
                else {
                        fprintf(stderr, "invalid argument: %s\n", s);
                        return -1;
                }
        }
        if (a->print + (a->port >= 0) + (a->bench > 0) != 1) {
                usage(stderr);
                return -1;
        }
        return 0;
}

/* Registers the sample families; returns 0 or -1 after logging. */
static int sample_register(struct sample *s)
{
        static const char *const route_code[] = {"route", "code", NULL};
        static const char *const arm[] = {"arm", NULL};
        static const char *const route[] = {"route", NULL};
        const ltrr_metrics_spec_t specs[] = {
            {LTRR_METRICS_COUNTER, "ltrr_sample_requests_total",
             "Requests handled, by route and status code.", route_code, 8, 0,
             0},
            {LTRR_METRICS_GAUGE, "ltrr_sample_inflight_requests",
             "Requests being handled now.", NULL, 0, 0, 0},
            {LTRR_METRICS_GAUGE, "ltrr_sample_arm_weight",
             "Current weight of each retrieval arm.", arm, 4, 0, 0},
            {LTRR_METRICS_HISTOGRAM, "ltrr_sample_request_duration_seconds",
             "Time to answer a request.", route, 4,
             LTRR_METRICS_BUCKETS_SECONDS},
            {LTRR_METRICS_HISTOGRAM, "ltrr_sample_response_bytes",
             "Size of response bodies.", NULL, 0, LTRR_METRICS_BUCKETS_SIZE},
        };
        ltrr_metrics_family_t **fams[] = {&s->requests, &s->inflight,
                                          &s->weight, &s->latency, &s->size};
        char errstr[256];
        size_t i;

        if (!(s->reg = ltrr_metrics_new(errstr, sizeof(errstr))))
                goto err;
        for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
                if (!(*fams[i] = ltrr_metrics_register(s->reg, &specs[i],
                                                       errstr, sizeof(errstr))))
                        goto err;
        return 0;
err:
        log_error("metrics-sample", "register failed", "err", errstr);
        return -1;
}

/* Moves every sample metric a little; deterministic for a given tick. */
static void sample_update(struct sample *s)
{
        static const char *const routes[] = {"search", "feedback"};
        /* Five arms for four slots: the last two share the overflow child. */
        static const char *const arms[] = {"bm25", "q2e", "dense\"quoted\"",
                                           "popular", "recent"};
        unsigned t = s->tick++, i;

        for (i = 0; i < 20; i++) {
                const char *rc[2] = {routes[i % 2], i % 7 ? "200" : "500"};
                const char *r[1] = {routes[i % 2]};
                ltrr_metrics_counter_inc(ltrr_metrics_child(s->requests, rc));
                ltrr_metrics_hist_observe(ltrr_metrics_child(s->latency, r),
                                          0.00002 *
                                              (double)((i + t) * 37 % 500));
                ltrr_metrics_hist_observe(ltrr_metrics_child(s->size, NULL),
                                          (double)((i + t) * 997 % 100000));
        }
        for (i = 0; i < 5; i++)
                ltrr_metrics_gauge_set(ltrr_metrics_child(s->weight, &arms[i]),
                                       0.25 * (double)(i + 1));
        ltrr_metrics_gauge_set_i64(ltrr_metrics_child(s->inflight, NULL),
                                   (int64_t)(t % 5));
}

static int sample_print(struct sample *s)
{
        ltrr_strbuf_t sb;
        int rc = 0;

        ltrr_strbuf_init(&sb, 0);
        if (ltrr_metrics_render(s->reg, &sb)) {
                log_error("metrics-sample", "render failed", "err",
                          ltrr_err2str(ltrr_strbuf_err(&sb)));
                rc = -1;
        } else if (fwrite(sb.buf, 1, sb.len, stdout) != sb.len ||
                   fflush(stdout)) {
                rc = -1;
        }
        ltrr_strbuf_clear(&sb);
        return rc;
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
        event_base_loopbreak(arg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
        sample_update(arg);
}

static int sample_health(void *opaque, char *reason, size_t size)
{
        return 0;
}

/* Serves /metrics and /healthz until SIGTERM or SIGINT, updating the
 * sample metrics once a second. */
static int sample_serve(struct sample *s, const struct sample_args *a)
{
        const struct timeval second = {1, 0};
        struct event_base *base = event_base_new();
        struct event *term = NULL, *intr = NULL, *tick = NULL;
        ltrr_admin_http_t *adm = NULL;
        char errstr[256], port[16];
        int rc = -1;

        if (!base)
                goto done;
        adm = ltrr_admin_http_new(base, a->addr, (uint16_t)a->port, s->reg,
                                  sample_health, s, errstr, sizeof(errstr));
        if (!adm) {
                log_error("metrics-sample", "listen failed", "err", errstr);
                goto done;
        }
        term = evsignal_new(base, SIGTERM, on_signal, base);
        intr = evsignal_new(base, SIGINT, on_signal, base);
        tick = event_new(base, -1, EV_PERSIST, on_tick, s);
        if (!term || !intr || !tick || evsignal_add(term, NULL) ||
            evsignal_add(intr, NULL) || event_add(tick, &second))
                goto done;
        log_info("metrics-sample", "listening", "addr", a->addr, "port",
                 ltrr_log_i64(port, sizeof(port), ltrr_admin_http_port(adm)));
        rc = event_base_dispatch(base) < 0 ? -1 : 0;
        log_info("metrics-sample", "stopped");
done:
        if (tick)
                event_free(tick);
        if (intr)
                event_free(intr);
        if (term)
                event_free(term);
        ltrr_admin_http_destroy(adm);
        if (base)
                event_base_free(base);
        return rc;
}

struct bench_job {
        ltrr_metrics_child_t *ch; /* child updated */
        int op;                   /* 0 counter, 1 histogram, 2 gauge add */
        long iters;               /* updates to make */
};

static void *bench_run(void *arg)
{
        const struct bench_job *job = arg;
        long i;

        for (i = 0; i < job->iters; i++) {
                if (job->op == 0)
                        ltrr_metrics_counter_inc(job->ch);
                else if (job->op == 1)
                        ltrr_metrics_hist_observe(job->ch,
                                                  1e-5 * (double)(i & 1023));
                else
                        ltrr_metrics_gauge_add(job->ch, 1.0);
        }
        return NULL;
}

static double now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Runs @p nthreads jobs at once and prints ns per update per thread. */
static void bench_case(const char *name, struct bench_job *jobs, int nthreads)
{
        pthread_t th[2];
        double t0 = now_ns(), ns;
        int i, started = 0;

        for (i = 1; i < nthreads; i++)
                if (pthread_create(&th[i], NULL, bench_run, &jobs[i]) == 0)
                        started++;
        bench_run(&jobs[0]);
        for (i = 1; i <= started; i++)
                pthread_join(th[i], NULL);
        ns = (now_ns() - t0) / (double)jobs[0].iters;
        printf("%-40s threads=%d ns_per_op=%.2f\n", name, started + 1, ns);
}

static int sample_bench(struct sample *s, long iters)
{
        static const char *const rc[][2] = {{"search", "200"},
                                            {"feedback", "200"}};
        static const char *const r[][1] = {{"search"}, {"feedback"}};
        static const char *const arm[][1] = {{"bm25"}, {"q2e"}};
        static const int ops[] = {0, 1, 2};
        ltrr_metrics_family_t *fams[] = {s->requests, s->latency, s->weight};
        const char *const *vals[3][2] = {
            {rc[0], rc[1]}, {r[0], r[1]}, {arm[0], arm[1]}};
        static const char *const names[] = {"counter_inc", "hist_observe",
                                            "gauge_add"};
        char label[64];
        int k;

        for (k = 0; k < 3; k++) {
                struct bench_job same[2], apart[2];
                int t;
                for (t = 0; t < 2; t++) {
                        same[t] = (struct bench_job){
                            ltrr_metrics_child(fams[k], vals[k][0]), ops[k],
                            iters};
                        apart[t] = (struct bench_job){
                            ltrr_metrics_child(fams[k], vals[k][t]), ops[k],
                            iters};
                }
                snprintf(label, sizeof(label), "%s", names[k]);
                bench_case(label, same, 1);
                snprintf(label, sizeof(label), "%s same-child", names[k]);
                bench_case(label, same, 2);
                snprintf(label, sizeof(label), "%s own-child", names[k]);
                bench_case(label, apart, 2);
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct sample_args args;
        struct sample s = {0};
        int rc = 1;

        if (parse_args(argc, argv, &args))
                return 2;
        if (sample_register(&s))
                goto done;
        sample_update(&s);
        if (args.print)
                rc = sample_print(&s) ? 1 : 0;
        else if (args.bench)
                rc = sample_bench(&s, args.bench) ? 1 : 0;
        else
                rc = sample_serve(&s, &args) ? 1 : 0;
done:
        ltrr_metrics_destroy(s.reg);
        return rc;
}
