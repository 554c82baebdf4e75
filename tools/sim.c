/*
 * ltrr-sim: simulated users with hidden intents drive the search API and
 * post what they do to the event API, then a summary says how well the
 * rankings served them (success@1/@10, nDCG@10, candidates, arm shares,
 * a time series). See docs/SIM.md.
 *
 *   ltrr-sim --serve URL [--collect URL --api-key KEY] [--queries N]
 *            [--rate QPS] [--seed S] [--catalog synthetic:N:SEED[:DATE]]
 *            [--users N] [--policy NAME | --arms LIST] [--concurrency C]
 *            [--bucket Q] [--trace FILE] [--timeout S] [--json]
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "catalog.h"
#include "cli.h"
#include "log.h"
#include "sim.h"
#include "synth.h"

/* Most searches in flight (one HTTP connection each). */
#define SIM_CONC_MAX 64
/* Connections event batches are posted over: libevent sends one request
 * at a time per connection, so one connection caps the event rate at one
 * collector round trip per batch. */
#define SIM_POST_CONNS 4
/* Most event posts waiting for an answer per connection; beyond, batches
 * are dropped and counted. */
#define SIM_POSTS_MAX 256
/* Largest response body read. */
#define SIM_BODY_MAX (1 << 20)
/* Simulated queries per simulated day (drives users' hours of activity). */
#define SIM_DAY_QUERIES 10000
/* Longest URL built. */
#define SIM_URL_MAX 2048

struct sim_args {
        const char *serve;   /* --serve URL */
        const char *collect; /* --collect URL, or NULL: no events */
        const char *api_key; /* --api-key */
        uint64_t queries;    /* --queries */
        double rate;         /* --rate, 0 = as fast as possible */
        uint64_t seed;       /* --seed */
        uint64_t cat_n;      /* --catalog synthetic:N:SEED */
        uint64_t cat_seed;
        int32_t cat_ref;     /* its DATE ("today"), days since 1970 */
        uint64_t users;     /* --users */
        const char *policy; /* --policy NAME ("oracle": per intent) */
        const char *arms;   /* --arms LIST */
        uint64_t conc;      /* --concurrency */
        uint64_t bucket;    /* --bucket, 0 = queries / 50 */
        const char *trace;  /* --trace FILE */
        uint64_t timeout;   /* --timeout seconds per request */
        int json;           /* --json */
};

struct sim_ctx;

/* One search in flight. */
struct sim_slot {
        struct sim_ctx *ctx;            /* owner */
        struct evhttp_connection *conn; /* to serve */
        int busy;                       /* a search is in flight */
        uint64_t seq;                   /* query number */
        ltrr_rng_t rng;                 /* this query's generator */
        ltrr_sim_intent_t it;           /* its hidden intent */
};

struct sim_ctx {
        struct sim_args a;                    /* options */
        struct event_base *base;              /* event loop */
        struct evhttp_uri *serve_uri;         /* parsed --serve */
        struct evhttp_uri *collect_uri;       /* parsed --collect */
        struct evhttp_connection *post_conns[SIM_POST_CONNS]; /* to collect */
        uint64_t post_wait[SIM_POST_CONNS];   /* batches waiting on each */
        struct event *tick;                   /* pacing and progress timer */
        struct event *sigint, *sigterm;       /* stop requests */
        ltrr_catalog_t *cat;                  /* the server's catalog */
        ltrr_sim_t *sim;                      /* population */
        ltrr_sim_eval_t *ev;                  /* evaluator */
        ltrr_sim_clicks_conf_t cc;            /* click model */
        FILE *trace;                          /* --trace, or NULL */
        struct sim_slot slots[SIM_CONC_MAX];  /* searches in flight */
        uint64_t issued, answered, errors;    /* searches */
        uint64_t posts_pending, posts_failed; /* event batches */
        uint64_t ev_sent, ev_accepted, ev_dropped; /* events */
        uint64_t limit;                            /* queries to issue */
        double start;                              /* wall clock at start, s */
        double last_progress;                      /* last progress line, s */
        int tty;                                   /* stderr is a terminal */
        int stopping;                              /* a signal asked to stop */
};

static double now_s(void)
{
        struct timeval tv;

        gettimeofday(&tv, NULL);
        return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: ltrr-sim --serve URL [--collect URL --api-key KEY]"
                " [--queries N] [--rate QPS]\n"
                "         [--seed S] [--catalog synthetic:N:SEED[:DATE]] [--users N]"
                " [--policy NAME | --arms LIST]\n"
                "         [--concurrency C] [--bucket Q] [--trace FILE]"
                " [--timeout S] [--json]\n"
                "  --serve        search API base URL (http://host:port)\n"
                "  --collect      event API base URL; without it no events"
                " are sent\n"
                "  --api-key      bearer key for the event API\n"
                "  --queries      searches to run (default 1000)\n"
                "  --rate         searches per second, 0 = unpaced "
                "(default 100)\n"
                "  --seed         simulation seed (default 1)\n"
                "  --catalog      the catalog the server indexed (default "
                "synthetic:10000:0);\n"
                "                 DATE (YYYY-MM-DD) is its --ref-date "
                "(default today, UTC)\n"
                "  --users        population size (default 1000)\n"
                "  --policy       sent as policy=NAME; \"oracle\" sends each"
                " intent's best arms\n"
                "  --arms         sent as arms=LIST (a fixed arm subset)\n"
                "  --concurrency  searches in flight (default 8, max 64)\n"
                "  --bucket       queries per time-series point (default "
                "queries/50)\n"
                "  --trace        write one JSON line per query to FILE\n"
                "  --timeout      seconds per HTTP request (default 10)\n"
                "  --json         print the summary as one JSON object\n");
}

/* Parses an unsigned integer in [lo, hi]; 0 on success. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
        char *end;
        unsigned long long v;

        if (!s || *s == '-')
                return -1;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *end || v < lo || v > hi)
                return -1;
        *out = v;
        return 0;
}

/* Parses "synthetic:N:SEED:DATE" (SEED optional, default 0; DATE
 * optional, default today in UTC, as `ltrr-index build --synthetic`). */
static int parse_catalog(const char *s, struct sim_args *a)
{
        char buf[64], *colon, *date;
        ltrr_date_prec_t prec;

        if (strncmp(s, "synthetic:", 10) || strlen(s) >= sizeof(buf))
                return -1;
        snprintf(buf, sizeof(buf), "%s", s + 10);
        a->cat_seed = 0;
        a->cat_ref = (int32_t)(time(NULL) / 86400);
        if ((colon = strchr(buf, ':'))) {
                *colon = '\0';
                if ((date = strchr(colon + 1, ':'))) {
                        *date++ = '\0';
                        if (ltrr_date_parse(date, &a->cat_ref, &prec) ||
                            prec != LTRR_DATE_DAY)
                                return -1;
                }
                if (parse_u64(colon + 1, 0, UINT64_MAX, &a->cat_seed))
                        return -1;
        }
        return parse_u64(buf, 1, 50000000, &a->cat_n);
}

/* Applies option @o with value @v. Returns 1 for a flag, 2 for an option
 * that took @v, -1 when unknown or invalid. */
static int parse_opt(struct sim_args *a, const char *o, const char *v)
{
        double r;
        char *end;

        if (!strcmp(o, "--json"))
                return a->json = 1;
        if (!v)
                return -1;
        if (!strcmp(o, "--serve"))
                a->serve = v;
        else if (!strcmp(o, "--collect"))
                a->collect = v;
        else if (!strcmp(o, "--api-key"))
                a->api_key = v;
        else if (!strcmp(o, "--policy"))
                a->policy = v;
        else if (!strcmp(o, "--arms"))
                a->arms = v;
        else if (!strcmp(o, "--trace"))
                a->trace = v;
        else if (!strcmp(o, "--catalog"))
                return parse_catalog(v, a) ? -1 : 2;
        else if (!strcmp(o, "--queries"))
                return parse_u64(v, 1, 100000000, &a->queries) ? -1 : 2;
        else if (!strcmp(o, "--seed"))
                return parse_u64(v, 0, UINT64_MAX, &a->seed) ? -1 : 2;
        else if (!strcmp(o, "--users"))
                return parse_u64(v, 1, 100000, &a->users) ? -1 : 2;
        else if (!strcmp(o, "--concurrency"))
                return parse_u64(v, 1, SIM_CONC_MAX, &a->conc) ? -1 : 2;
        else if (!strcmp(o, "--bucket"))
                return parse_u64(v, 1, 100000000, &a->bucket) ? -1 : 2;
        else if (!strcmp(o, "--timeout"))
                return parse_u64(v, 1, 3600, &a->timeout) ? -1 : 2;
        else if (!strcmp(o, "--rate")) {
                errno = 0;
                r = strtod(v, &end);
                if (errno || end == v || *end || !(r >= 0 && r <= 1e6))
                        return -1;
                a->rate = r;
        } else
                return -1;
        return 2;
}

/* Fills @a from argv; returns 0, or 2 after printing the problem. */
static int parse_args(int argc, char **argv, struct sim_args *a)
{
        int i, r;

        memset(a, 0, sizeof(*a));
        a->queries = 1000;
        a->rate = 100;
        a->seed = 1;
        a->cat_n = 10000;
        a->cat_ref = (int32_t)(time(NULL) / 86400);
        a->users = 1000;
        a->conc = 8;
        a->timeout = 10;
        for (i = 1; i < argc; i += r) {
                r = parse_opt(a, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
                if (r < 0) {
                        fprintf(stderr, "ltrr-sim: bad option or value: %s\n",
                                argv[i]);
                        usage(stderr);
                        return 2;
                }
        }
        if (!a->serve || (a->collect && !a->api_key) ||
            (a->policy && a->arms)) {
                fprintf(stderr, "ltrr-sim: need --serve, --api-key with "
                                "--collect, and at most one of --policy and "
                                "--arms\n");
                usage(stderr);
                return 2;
        }
        if (!a->bucket)
                a->bucket = a->queries >= 50 ? a->queries / 50 : 1;
        return 0;
}

/* ---- searches ------------------------------------------------------------ */

static void issue_more(struct sim_ctx *ctx);
static void maybe_finish(struct sim_ctx *ctx);
static size_t post_events(struct sim_ctx *ctx, struct sim_slot *sl,
                          json_t *results, const char *imp,
                          const uint8_t *grades, const uint32_t *durs,
                          size_t n);

/* Writes the search path and query string of @sl into @buf. */
static int search_url(struct sim_ctx *ctx, struct sim_slot *sl, char *buf,
                      size_t size)
{
        const ltrr_sim_user_t *u = ltrr_sim_user(ctx->sim, sl->it.user);
        const char *path = evhttp_uri_get_path(ctx->serve_uri);
        char *q = evhttp_encode_uri(sl->it.query), arms[160] = "";
        int n;

        if (!q)
                return -1;
        if (ctx->a.policy && !strcmp(ctx->a.policy, "oracle"))
                ltrr_sim_arms_format(sl->it.best_arms, arms, sizeof(arms));
        else if (ctx->a.arms)
                snprintf(arms, sizeof(arms), "%s", ctx->a.arms);
        n = snprintf(buf, size,
                     "%s/v1/search?q=%s&user=%s&session=sim-%" PRIu64
                     "-%" PRIu64 "&k=%d&lang=%s&debug=1%s%s%s%s",
                     path && strcmp(path, "/") ? path : "", q, u->id,
                     ctx->a.seed, sl->seq, LTRR_SIM_K, u->lang,
                     arms[0] ? "&arms=" : "", arms,
                     !arms[0] && ctx->a.policy ? "&policy=" : "",
                     !arms[0] && ctx->a.policy ? ctx->a.policy : "");
        free(q);
        return n > 0 && (size_t)n < size ? 0 : -1;
}

/* Mask of arms named in JSON array @arr (strings or {"name": ...}). */
static uint32_t arms_mask(json_t *arr)
{
        uint32_t mask = 0;
        size_t i;
        json_t *v;
        int a;

        json_array_foreach(arr, i, v)
        {
                /* serve's debug.arms: {"arm": name, "ran": bool, ...};
                 * an arm that did not run is not part of the traffic */
                if (json_is_object(v)) {
                        if (json_is_false(json_object_get(v, "ran")))
                                continue;
                        v = json_object_get(v, json_object_get(v, "arm")
                                                   ? "arm" : "name");
                }
                if ((a = ltrr_sim_arm_parse(json_string_value(v))) >= 0)
                        mask |= 1u << a;
        }
        return mask;
}

/* Grades, durations and arms of the shown results. */
static size_t judge(struct sim_ctx *ctx, struct sim_slot *sl, json_t *results,
                    uint8_t *grades, uint32_t *durs, uint32_t *arms)
{
        size_t i, n = 0;
        json_t *r;
        int64_t idx;
        ltrr_entity_t e;

        json_array_foreach(results, i, r)
        {
                const char *id = json_string_value(json_object_get(r, "id"));

                if (n >= LTRR_SIM_K)
                        break;
                idx = ltrr_catalog_find(ctx->cat, id ? id : "");
                grades[n] = 0;
                durs[n] = LTRR_CATALOG_DURATION_UNKNOWN;
                if (idx >= 0 &&
                    !ltrr_catalog_get(ctx->cat, (uint32_t)idx, &e)) {
                        grades[n] =
                            ltrr_sim_grade(ctx->sim, &sl->it, (uint32_t)idx);
                        durs[n] = e.duration_ms;
                }
                *arms |= arms_mask(json_object_get(r, "arms"));
                n++;
        }
        return n;
}

/* Appends one line about the query to the trace file. */
static void trace_write(struct sim_ctx *ctx, struct sim_slot *sl,
                        const uint8_t *grades, size_t n, uint32_t arms,
                        json_t *resp)
{
        json_t *bucket = json_object_get(json_object_get(resp, "debug"),
                                         "bucket");
        json_t *o, *ideal = json_array(), *g = json_array();
        ltrr_entity_t e;
        char best[160];
        uint32_t i;

        for (i = 0; i < sl->it.ideal_cnt; i++) {
                ltrr_catalog_get(ctx->cat, sl->it.ideal[i], &e);
                json_array_append_new(
                    ideal, json_pack("{s:s, s:i}", "id", e.id, "grade",
                                     (int)sl->it.ideal_grades[i]));
        }
        for (i = 0; i < n; i++)
                json_array_append_new(g, json_integer(grades[i]));
        ltrr_sim_arms_format(sl->it.best_arms, best, sizeof(best));
        o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I}", "seq",
                      (json_int_t)sl->seq, "user",
                      ltrr_sim_user(ctx->sim, sl->it.user)->id, "q",
                      sl->it.query, "kind", ltrr_sim_kind_name(sl->it.kind),
                      "form", ltrr_sim_form_name(sl->it.form), "best_arms",
                      best, "ideal", ideal, "grades", g, "arms",
                      (json_int_t)arms);
        if (o && json_is_integer(bucket)) /* serve's context bucket */
                json_object_set(o, "bucket", bucket);
        if (o && json_is_true(json_object_get(resp, "degraded")))
                json_object_set_new(o, "degraded", json_true());
        if (o) {
                json_dumpf(o, ctx->trace, JSON_COMPACT);
                fputc('\n', ctx->trace);
        }
        json_decref(o);
}

/* Reads the JSON body of @req (NULL when missing, too large or bad). */
static json_t *body_json(struct evhttp_request *req)
{
        struct evbuffer *buf = evhttp_request_get_input_buffer(req);
        size_t len = buf ? evbuffer_get_length(buf) : 0;
        unsigned char *p;

        if (!len || len > SIM_BODY_MAX || !(p = evbuffer_pullup(buf, -1)))
                return NULL;
        return json_loadb((const char *)p, len, 0, NULL);
}

/* Evaluates a search answer @resp of @sl, then sends its events. */
static void search_judge(struct sim_ctx *ctx, struct sim_slot *sl, json_t *resp)
{
        json_t *results = json_object_get(resp, "results");
        json_t *debug = json_object_get(resp, "debug");
        json_t *cand = json_object_get(debug, "candidates");
        uint8_t grades[LTRR_SIM_K];
        uint32_t durs[LTRR_SIM_K], arms = 0;
        ltrr_sim_obs_t obs;

        memset(&obs, 0, sizeof(obs));
        obs.n = judge(ctx, sl, results, grades, durs, &arms);
        if (json_is_array(json_object_get(debug, "arms")))
                arms = arms_mask(json_object_get(debug, "arms"));
        obs.seq = sl->seq;
        obs.kind = sl->it.kind;
        obs.grades = grades;
        obs.ideal = sl->it.ideal_grades;
        obs.ideal_n = sl->it.ideal_cnt;
        obs.arms = arms;
        obs.candidates = json_is_number(cand) ? json_number_value(cand) : -1;
        if (ctx->trace)
                trace_write(ctx, sl, grades, obs.n, arms, resp);
        obs.actions = (uint32_t)post_events(
            ctx, sl, results,
            json_string_value(json_object_get(resp, "impression_id")), grades,
            durs, obs.n);
        ltrr_sim_eval_add(ctx->ev, &obs);
        ctx->answered++;
}

/* A search finished (@req is NULL when the connection failed). */
static void search_done(struct evhttp_request *req, void *arg)
{
        struct sim_slot *sl = arg;
        struct sim_ctx *ctx = sl->ctx;
        int code = req ? evhttp_request_get_response_code(req) : -1;
        json_t *resp = NULL;
        char n[24];

        if (code != 200 || !(resp = body_json(req)) ||
            !json_is_array(json_object_get(resp, "results"))) {
                ctx->errors++;
                if (ctx->errors <= 5 || ctx->errors % 1000 == 0)
                        log_warn("sim", "search failed", "code",
                                 ltrr_log_i64(n, sizeof(n), code), "query",
                                 sl->it.query);
        } else {
                search_judge(ctx, sl, resp);
        }
        json_decref(resp);
        sl->busy = 0;
        issue_more(ctx);
        maybe_finish(ctx);
}

/* Draws query number ctx->issued for a free slot @sl and sends it. */
static int search_send(struct sim_ctx *ctx, struct sim_slot *sl)
{
        uint64_t x = ctx->a.seed ^ (ctx->issued * 0xD1B54A32D192ED03ull);
        uint32_t hour, user;
        struct evhttp_request *req;
        char url[SIM_URL_MAX];

        sl->seq = ctx->issued++;
        ltrr_rng_seed(&sl->rng, ltrr_rng_splitmix64(&x));
        hour = (uint32_t)((sl->seq * 24 / SIM_DAY_QUERIES) % 24);
        user = ltrr_sim_user_pick(ctx->sim, hour, &sl->rng);
        if (ltrr_sim_intent_draw(ctx->sim, user, &sl->rng, &sl->it) ||
            search_url(ctx, sl, url, sizeof(url)) ||
            !(req = evhttp_request_new(search_done, sl))) {
                ctx->errors++;
                return -1;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
                          evhttp_uri_get_host(ctx->serve_uri));
        if (evhttp_make_request(sl->conn, req, EVHTTP_REQ_GET, url)) {
                ctx->errors++;
                return -1;
        }
        sl->busy = 1;
        return 0;
}

/* Sends searches while a slot is free and the pace allows. */
static void issue_more(struct sim_ctx *ctx)
{
        double due = ctx->a.rate > 0 ? (now_s() - ctx->start) * ctx->a.rate + 1
                                     : (double)ctx->limit;
        uint64_t i;

        for (i = 0; i < ctx->a.conc; i++) {
                if (ctx->issued >= ctx->limit || (double)ctx->issued >= due)
                        return;
                if (!ctx->slots[i].busy)
                        search_send(ctx, &ctx->slots[i]);
        }
}

/* ---- events -------------------------------------------------------------- */

/* One event batch in flight. */
struct sim_post {
        struct sim_ctx *ctx; /* owner */
        size_t cnt;          /* events in the batch */
        unsigned conn;       /* index of the connection it went over */
};

/* An event batch was answered: 202 means every event was accepted. */
static void post_done(struct evhttp_request *req, void *arg)
{
        struct sim_post *po = arg;
        struct sim_ctx *ctx = po->ctx;
        int code = req ? evhttp_request_get_response_code(req) : -1;
        char n[24];

        ctx->posts_pending--;
        ctx->post_wait[po->conn]--;
        if (code == 202) {
                ctx->ev_accepted += po->cnt;
        } else {
                ctx->posts_failed++;
                if (ctx->posts_failed <= 5)
                        log_warn("sim", "event post failed", "code",
                                 ltrr_log_i64(n, sizeof(n), code));
        }
        free(po);
        maybe_finish(ctx);
}

/* The event connection with the fewest batches waiting; -1 when every
 * one has SIM_POSTS_MAX waiting (or there is none). */
static int post_pick(const struct sim_ctx *ctx)
{
        int i, best = -1;

        for (i = 0; i < SIM_POST_CONNS; i++)
                if (ctx->post_conns[i] && ctx->post_wait[i] < SIM_POSTS_MAX &&
                    (best < 0 || ctx->post_wait[i] < ctx->post_wait[best]))
                        best = i;
        return best;
}

/* Sends @body to the event API over connection @c; takes nothing over.
 * Returns 0 when sent. */
static int post_send(struct sim_ctx *ctx, int c, const char *body, size_t cnt)
{
        const char *path = evhttp_uri_get_path(ctx->collect_uri);
        struct evhttp_request *req;
        struct evkeyvalq *h;
        struct sim_post *po;
        char auth[512], url[SIM_URL_MAX];

        if (!(po = malloc(sizeof(*po))))
                return -1;
        po->ctx = ctx;
        po->cnt = cnt;
        po->conn = (unsigned)c;
        if (!(req = evhttp_request_new(post_done, po))) {
                free(po);
                return -1;
        }
        h = evhttp_request_get_output_headers(req);
        snprintf(auth, sizeof(auth), "Bearer %s", ctx->a.api_key);
        snprintf(url, sizeof(url), "%s/v1/events",
                 path && strcmp(path, "/") ? path : "");
        evhttp_add_header(h, "Host", evhttp_uri_get_host(ctx->collect_uri));
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_add_header(h, "Authorization", auth);
        evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
        if (evhttp_make_request(ctx->post_conns[c], req, EVHTTP_REQ_POST,
                                url)) {
                free(po); /* libevent freed req */
                return -1;
        }
        ctx->posts_pending++;
        ctx->post_wait[c]++;
        return 0;
}

/* One event object for action @act on result @r of impression @imp. */
static json_t *event_json(struct sim_ctx *ctx, struct sim_slot *sl, json_t *r,
                          const ltrr_sim_action_t *act, const char *imp,
                          size_t i, json_int_t t)
{
        json_t *pos = json_object_get(r, "position");
        char key[80];
        json_t *o;

        snprintf(key, sizeof(key), "sim-%" PRIu64 "-%" PRIu64 "-%zu",
                 ctx->a.seed, sl->seq, i);
        o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:s}", "impression_id",
                      imp, "user_id", ltrr_sim_user(ctx->sim, sl->it.user)->id,
                      "entity_id", json_string_value(json_object_get(r, "id")),
                      "position",
                      json_is_integer(pos) ? json_integer_value(pos)
                                           : (json_int_t)act->rank + 1,
                      "type", ltrr_sim_act_name(act->type), "event_time_ms",
                      t + (json_int_t)i, "idempotency_key", key);
        if (o &&
            (act->type == LTRR_SIM_ACT_PLAY || act->type == LTRR_SIM_ACT_SKIP))
                json_object_set_new(o, "duration_ms",
                                    json_integer(act->duration_ms));
        return o;
}

/* Runs the click model on the @n shown @results (graded @grades, lasting
 * @durs) and posts the actions; returns how many were sent. */
static size_t post_events(struct sim_ctx *ctx, struct sim_slot *sl,
                          json_t *results, const char *imp,
                          const uint8_t *grades, const uint32_t *durs, size_t n)
{
        ltrr_sim_action_t acts[LTRR_SIM_ACTIONS_MAX];
        json_int_t t = (json_int_t)(now_s() * 1000);
        size_t cnt, i;
        json_t *arr;
        char *body;
        int c;

        cnt = ltrr_sim_clicks_run(&ctx->cc, &sl->it, grades, durs, n, &sl->rng,
                                  acts, LTRR_SIM_ACTIONS_MAX);
        if (!cnt || !ctx->post_conns[0] || !imp)
                return 0;
        if ((c = post_pick(ctx)) < 0) {
                ctx->ev_dropped += cnt;
                return 0;
        }
        arr = json_array();
        for (i = 0; i < cnt; i++)
                json_array_append_new(
                    arr,
                    event_json(ctx, sl, json_array_get(results, acts[i].rank),
                               &acts[i], imp, i, t));
        body = json_dumps(arr, JSON_COMPACT);
        json_decref(arr);
        if (!body || post_send(ctx, c, body, cnt)) {
                free(body);
                ctx->ev_dropped += cnt;
                return 0;
        }
        free(body);
        ctx->ev_sent += cnt;
        return cnt;
}

/* ---- progress, end and summary ------------------------------------------- */

/* Writes "lexical 40% fuzzy 12% ..." for @st into @buf. */
static void shares_line(const ltrr_sim_stats_t *st, char *buf, size_t size)
{
        size_t len = 0;
        int i, w;

        buf[0] = '\0';
        for (i = 0; i < LTRR_SIM_ARM__CNT && st->queries; i++) {
                if (!st->arm_queries[i])
                        continue;
                w = snprintf(buf + len, size - len, " %s %.0f%%",
                             ltrr_sim_arm_name((ltrr_sim_arm_t)i),
                             100.0 * st->arm_queries[i] / st->queries);
                if (w < 0 || (size_t)w >= size - len)
                        return;
                len += (size_t)w;
        }
}

/* Rewrites the progress line on the terminal. */
static void progress(struct sim_ctx *ctx, int last)
{
        ltrr_sim_stats_t st;
        char arms[256];

        ltrr_sim_eval_total(ctx->ev, -1, &st);
        shares_line(&st, arms, sizeof(arms));
        fprintf(stderr,
                "\rqueries %" PRIu64 "/%" PRIu64 "  success@10 %.3f  "
                "errors %" PRIu64 "  arms:%s\033[K%s",
                ctx->answered, ctx->limit,
                st.queries ? (double)st.success10 / st.queries : 0.0,
                ctx->errors, arms, last ? "\n" : "");
}

/* Stops the loop once every search and event batch is answered. */
static void maybe_finish(struct sim_ctx *ctx)
{
        uint64_t i;

        if (ctx->issued < ctx->limit || ctx->posts_pending)
                return;
        for (i = 0; i < ctx->a.conc; i++)
                if (ctx->slots[i].busy)
                        return;
        event_base_loopexit(ctx->base, NULL);
}

/* Pacing and progress timer. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
        struct sim_ctx *ctx = arg;
        double t = now_s();

        issue_more(ctx);
        if (ctx->tty && t - ctx->last_progress >= 0.5) {
                ctx->last_progress = t;
                progress(ctx, 0);
        }
        maybe_finish(ctx);
}

/* SIGINT/SIGTERM: stop sending, let what is in flight finish; a second
 * signal stops at once. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
        struct sim_ctx *ctx = arg;

        if (ctx->stopping++)
                event_base_loopbreak(ctx->base);
        ctx->limit = ctx->issued;
        maybe_finish(ctx);
}

/* Rates of @st as a JSON object (with the arm shares). */
static json_t *stats_json(const ltrr_sim_stats_t *st)
{
        double q = st->queries ? (double)st->queries : 1.0;
        json_t *o, *sh = json_object();
        int i;

        for (i = 0; i < LTRR_SIM_ARM__CNT; i++)
                json_object_set_new(sh, ltrr_sim_arm_name((ltrr_sim_arm_t)i),
                                    json_real(st->arm_queries[i] / q));
        o = json_pack("{s:I, s:f, s:f, s:f, s:o, s:I}", "queries",
                      (json_int_t)st->queries, "success_at_1", st->success1 / q,
                      "success_at_10", st->success10 / q, "ndcg_at_10",
                      st->ndcg_sum / q, "arm_share", sh, "actions",
                      (json_int_t)st->actions);
        if (o)
                json_object_set_new(
                    o, "mean_candidates",
                    st->cand_queries
                        ? json_real(st->cand_sum / st->cand_queries)
                        : json_null());
        return o;
}

/* The time series: one point per bucket. */
static json_t *series_json(const struct sim_ctx *ctx)
{
        json_t *pts = json_array(), *p;
        ltrr_sim_stats_t st;
        uint64_t w = ltrr_sim_eval_bucket_width(ctx->ev);
        size_t i;

        for (i = 0; i < ltrr_sim_eval_buckets(ctx->ev); i++) {
                ltrr_sim_eval_bucket(ctx->ev, i, &st);
                if (!(p = stats_json(&st)))
                        continue;
                json_object_set_new(p, "from",
                                    json_integer((json_int_t)(i * w)));
                json_array_append_new(pts, p);
        }
        return json_pack("{s:I, s:o}", "bucket_queries", (json_int_t)w,
                         "points", pts);
}

/* The whole summary as a JSON object. */
static json_t *summary_json(const struct sim_ctx *ctx, double elapsed)
{
        ltrr_sim_stats_t st;
        json_t *o, *kinds = json_object();
        int k;

        ltrr_sim_eval_total(ctx->ev, -1, &st);
        if (!(o = stats_json(&st)))
                return NULL;
        for (k = 0; k < LTRR_SIM_KIND__CNT; k++) {
                ltrr_sim_stats_t ks;

                ltrr_sim_eval_total(ctx->ev, k, &ks);
                json_object_set_new(kinds,
                                    ltrr_sim_kind_name((ltrr_sim_kind_t)k),
                                    stats_json(&ks));
        }
        json_object_set_new(o, "seed", json_integer((json_int_t)ctx->a.seed));
        json_object_set_new(o, "policy",
                            json_string(ctx->a.policy ? ctx->a.policy
                                        : ctx->a.arms ? ctx->a.arms
                                                      : ""));
        json_object_set_new(o, "errors", json_integer((json_int_t)ctx->errors));
        json_object_set_new(
            o, "events",
            json_pack("{s:I, s:I, s:I, s:I}", "sent", (json_int_t)ctx->ev_sent,
                      "accepted", (json_int_t)ctx->ev_accepted, "dropped",
                      (json_int_t)ctx->ev_dropped, "failed_posts",
                      (json_int_t)ctx->posts_failed));
        json_object_set_new(o, "kinds", kinds);
        json_object_set_new(o, "series", series_json(ctx));
        json_object_set_new(o, "elapsed_s", json_real(elapsed));
        return o;
}

/* Prints the summary for a person. */
static void summary_print(const struct sim_ctx *ctx, double elapsed)
{
        ltrr_sim_stats_t st;
        char arms[256];
        double q;
        int k;

        ltrr_sim_eval_total(ctx->ev, -1, &st);
        q = st.queries ? (double)st.queries : 1.0;
        shares_line(&st, arms, sizeof(arms));
        printf("queries      %" PRIu64 " (%" PRIu64 " errors) in %.1f s\n",
               st.queries, ctx->errors, elapsed);
        printf("success@1    %.4f\nsuccess@10   %.4f\nnDCG@10      %.4f\n",
               st.success1 / q, st.success10 / q, st.ndcg_sum / q);
        if (st.cand_queries)
                printf("candidates   %.1f per query\n",
                       st.cand_sum / st.cand_queries);
        printf("arms        %s\n", arms);
        printf("events       %" PRIu64 " sent, %" PRIu64 " accepted, %" PRIu64
               " dropped\n",
               ctx->ev_sent, ctx->ev_accepted, ctx->ev_dropped);
        for (k = 0; k < LTRR_SIM_KIND__CNT; k++) {
                ltrr_sim_eval_total(ctx->ev, k, &st);
                q = st.queries ? (double)st.queries : 1.0;
                printf("  %-12s %6" PRIu64 " queries  success@10 %.4f  "
                       "nDCG@10 %.4f\n",
                       ltrr_sim_kind_name((ltrr_sim_kind_t)k), st.queries,
                       st.success10 / q, st.ndcg_sum / q);
        }
}

/* ---- set-up -------------------------------------------------------------- */

/* Parses @url and opens @n connections to it. Returns 0 or -1. */
static int connect_to(struct sim_ctx *ctx, const char *url,
                      struct evhttp_uri **uri, struct evhttp_connection **conns,
                      size_t n)
{
        const char *host;
        int port;
        size_t i;

        if (!(*uri = evhttp_uri_parse(url)) ||
            !(host = evhttp_uri_get_host(*uri)) ||
            (evhttp_uri_get_scheme(*uri) &&
             strcmp(evhttp_uri_get_scheme(*uri), "http"))) {
                log_error("sim", "bad URL (want http://host:port)", "url", url);
                return -1;
        }
        port = evhttp_uri_get_port(*uri);
        for (i = 0; i < n; i++) {
                conns[i] = evhttp_connection_base_new(
                    ctx->base, NULL, host, (uint16_t)(port > 0 ? port : 80));
                if (!conns[i]) {
                        log_error("sim", "cannot create connection", "url",
                                  url);
                        return -1;
                }
                evhttp_connection_set_timeout(conns[i], (int)ctx->a.timeout);
                evhttp_connection_set_retries(conns[i], 1);
        }
        return 0;
}

/* Regenerates the server's catalog and builds the population. */
static int model_build(struct sim_ctx *ctx)
{
        ltrr_synth_conf_t sc = {ctx->a.cat_n, ctx->a.cat_seed, ctx->a.cat_ref,
                                0};
        ltrr_sim_conf_t pc = {(uint32_t)ctx->a.users, ctx->a.seed, sc.ref_days};
        char errstr[256];

        if (!(ctx->cat = ltrr_catalog_new(0, errstr, sizeof(errstr))) ||
            ltrr_synth_generate(&sc, ltrr_synth_to_catalog, ctx->cat, errstr,
                                sizeof(errstr)) ||
            !(ctx->sim = ltrr_sim_new(ctx->cat, &pc, errstr, sizeof(errstr))) ||
            !(ctx->ev =
                  ltrr_sim_eval_new(ctx->a.bucket, errstr, sizeof(errstr)))) {
                log_error("sim", "set-up failed", "err", errstr);
                return -1;
        }
        ltrr_sim_clicks_defaults(&ctx->cc);
        return 0;
}

/* Event base, connections, timer and signals. */
static int loop_build(struct sim_ctx *ctx)
{
        struct evhttp_connection *conns[SIM_CONC_MAX];
        struct timeval tv = {0, 2000};
        uint64_t i;

        if (!(ctx->base = event_base_new()))
                return -1;
        if (connect_to(ctx, ctx->a.serve, &ctx->serve_uri, conns,
                       (size_t)ctx->a.conc))
                return -1;
        for (i = 0; i < ctx->a.conc; i++) {
                ctx->slots[i].ctx = ctx;
                ctx->slots[i].conn = conns[i];
        }
        if (ctx->a.collect && connect_to(ctx, ctx->a.collect, &ctx->collect_uri,
                                         ctx->post_conns, SIM_POST_CONNS))
                return -1;
        ctx->tick = event_new(ctx->base, -1, EV_PERSIST, on_tick, ctx);
        ctx->sigint = evsignal_new(ctx->base, SIGINT, on_signal, ctx);
        ctx->sigterm = evsignal_new(ctx->base, SIGTERM, on_signal, ctx);
        if (!ctx->tick || !ctx->sigint || !ctx->sigterm ||
            event_add(ctx->tick, &tv) || event_add(ctx->sigint, NULL) ||
            event_add(ctx->sigterm, NULL))
                return -1;
        return 0;
}

/* Frees everything @ctx holds; safe on a partly built context. */
static void ctx_free(struct sim_ctx *ctx)
{
        uint64_t i;

        /* Freeing a connection may run callbacks of requests still in
         * flight (after a second signal): they must not send more. */
        ctx->limit = ctx->issued;
        if (ctx->tick)
                event_free(ctx->tick);
        if (ctx->sigint)
                event_free(ctx->sigint);
        if (ctx->sigterm)
                event_free(ctx->sigterm);
        for (i = 0; i < SIM_CONC_MAX; i++)
                if (ctx->slots[i].conn)
                        evhttp_connection_free(ctx->slots[i].conn);
        for (i = 0; i < SIM_POST_CONNS; i++)
                if (ctx->post_conns[i])
                        evhttp_connection_free(ctx->post_conns[i]);
        if (ctx->serve_uri)
                evhttp_uri_free(ctx->serve_uri);
        if (ctx->collect_uri)
                evhttp_uri_free(ctx->collect_uri);
        if (ctx->base)
                event_base_free(ctx->base);
        if (ctx->trace)
                fclose(ctx->trace);
        ltrr_sim_eval_destroy(ctx->ev);
        ltrr_sim_destroy(ctx->sim);
        ltrr_catalog_destroy(ctx->cat);
}

/* Prints the summary and returns the exit code. */
static int report(struct sim_ctx *ctx)
{
        double elapsed = now_s() - ctx->start;
        json_t *o;

        if (ctx->tty)
                progress(ctx, 1);
        if (!ctx->a.json) {
                summary_print(ctx, elapsed);
        } else if ((o = summary_json(ctx, elapsed))) {
                json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(10));
                putchar('\n');
                json_decref(o);
        }
        fflush(stdout);
        return ctx->answered ? 0 : 1;
}

int main(int argc, char **argv)
{
        struct sim_ctx ctx;
        int rc = 1;

        memset(&ctx, 0, sizeof(ctx));
        if (ltrr_cli_wants_help(argc, argv)) {
                usage(stdout);
                return 0;
        }
        if (parse_args(argc, argv, &ctx.a))
                return 2;
        signal(SIGPIPE, SIG_IGN);
        ctx.limit = ctx.a.queries;
        ctx.tty = isatty(STDERR_FILENO);
        if (ctx.a.trace && !(ctx.trace = fopen(ctx.a.trace, "w"))) {
                log_error("sim", "cannot open trace file", "path", ctx.a.trace,
                          "err", strerror(errno));
                goto done;
        }
        if (model_build(&ctx) || loop_build(&ctx))
                goto done;
        ctx.start = now_s();
        issue_more(&ctx);
        event_base_dispatch(ctx.base);
        rc = report(&ctx);
done:
        ctx_free(&ctx);
        return rc;
}
