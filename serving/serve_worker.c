/*
 * ltrr-serve - one worker thread: its event base and HTTP server on a
 * share of the listening socket, its Redis connection and its pipeline.
 *
 * A query reads its fresh state in one pipelined round trip (bandit
 * statistics, Q2E meta and scores, the user's recent entities, the ranker
 * version) and waits at most state.timeout for it; then it is answered
 * from what arrived plus the worker's cached statistics, marked
 * degraded. Late replies only free the query.
 */
#include <event2/event.h>
#include <event2/http.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "avro_codec.h"
#include "log.h"
#include "rng.h"
#include "serve_int.h"

/* Drain check interval, ms. */
#define SERVE_DRAIN_TICK_MS 10
/* Q2E entries and recent entities read per query. */
#define SERVE_LIST_READ "255"
/* Last rank of the entity affinities read (LTRR_SEARCH_PROFILE_READ - 1). */
#define SERVE_PROFILE_LAST "127"
_Static_assert(LTRR_SEARCH_PROFILE_READ == 128, "SERVE_PROFILE_LAST");

/* What one pipelined command reads. */
typedef enum {
        CMD_BANDIT = 0,
        CMD_Q2E_META,
        CMD_Q2E,
        CMD_Q2E_ALT_META,
        CMD_Q2E_ALT,
        CMD_RECENT,
        CMD_AFFINITY,
        CMD_RANKER,
        CMD__CNT
} serve_cmd_kind_t;

typedef struct serve_query_s serve_query_t;

/* One command's callback argument. */
typedef struct serve_cmd_s {
        serve_query_t *qy;      /* owning query */
        serve_cmd_kind_t kind;  /* what it reads */
} serve_cmd_t;

/* A query waiting for its state. */
struct serve_query_s {
        serve_worker_t *w;                /* worker */
        struct evhttp_request *req;       /* NULL once answered or closed */
        serve_index_t *si;                /* index reference */
        ltrr_search_query_t *sq;          /* pipeline query */
        ltrr_search_state_t *st;          /* fresh state */
        struct event *timer;              /* state.timeout */
        serve_cmd_t cmds[CMD__CNT];       /* callback arguments */
        int pending;                      /* replies outstanding */
        int answered;                     /* response sent */
        int failed;                       /* a reply was missing or bad */
        int debug;                        /* debug=1 */
        int64_t start_us;                 /* request receipt */
        int64_t state_us;                 /* fetch start */
        char q2e_n[32];                   /* Q2E meta n, "" if none */
        char q2e_alt_n[32];               /* the correction's, "" none */
        serve_query_t *next;              /* on the worker's spare list */
};

int64_t serve_mono_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A random 128-bit id (version 4 layout). */
static void id_new(ltrr_id128_t *id)
{
        size_t got = 0;

        while (got < sizeof(id->b)) {
                ssize_t r = getrandom(id->b + got, sizeof(id->b) - got, 0);

                if (r > 0)
                        got += (size_t)r;
        }
        id->b[6] = (uint8_t)((id->b[6] & 0x0f) | 0x40);
        id->b[8] = (uint8_t)((id->b[8] & 0x3f) | 0x80);
}

/* Frees a query object and what it owns. */
static void query_destroy(serve_query_t *qy)
{
        if (!qy)
                return;
        if (qy->timer)
                event_free(qy->timer);
        ltrr_search_state_destroy(qy->st);
        ltrr_search_query_destroy(qy->sq);
        free(qy);
}

/* Ends a query: drops its index reference and keeps the object (its
 * ~150 KB of query and state buffers) for the worker's next query. */
static void query_free(serve_query_t *qy)
{
        serve_worker_t *w;

        if (!qy)
                return;
        w = qy->w;
        if (qy->si)
                serve_index_put(w->sv, qy->si);
        qy->si = NULL;
        if (w->spare_cnt >= SERVE_SPARE_MAX) {
                query_destroy(qy);
                return;
        }
        qy->next = w->spare;
        w->spare = qy;
        w->spare_cnt++;
}

/* Hands the Impression to the producer; a refusal is counted. */
static void publish(serve_worker_t *w, const ltrr_impression_t *imp,
                    const ltrr_ranker_input_t *rankers)
{
        serve_t *sv = w->sv;
        char errstr[256];
        size_t len = 0;

        if (ltrr_avro_encode_impression_ranked(imp, rankers, w->rec,
                                               SERVE_RECORD_MAX, &len, errstr,
                                               sizeof(errstr)) ||
            ltrr_kafka_producer_send(sv->kp, sv->cf->topic_impressions, -1,
                                     imp->user_id, strlen(imp->user_id),
                                     w->rec, len, NULL, 0, NULL, errstr,
                                     sizeof(errstr)))
                ltrr_metrics_counter_inc(sv->m.dropped);
}

static void count(serve_worker_t *w, const ltrr_search_out_t *out,
                  double state_us)
{
        serve_metrics_t *m = &w->sv->m;
        size_t i;

        for (i = 0; i < LTRR_SEARCH_STAGE__CNT; i++)
                ltrr_metrics_hist_observe(m->stage[i], out->stage_us[i] / 1e6);
        ltrr_metrics_hist_observe(m->stage[LTRR_SEARCH_STAGE__CNT],
                                  state_us / 1e6);
        for (i = 0; i < out->dec->n_arms && i < LTRR_BANDIT_MAX_ARMS; i++)
                if (out->dec->arms[i].ran)
                        ltrr_metrics_counter_inc(m->arm[i]);
        if (out->degraded)
                ltrr_metrics_counter_inc(m->degraded);
        if (out->shadow)
                ltrr_metrics_counter_inc(m->shadow);
}

/* An answer left the socket: draining may end once none is pending. */
static void sent_cb(struct evhttp_request *req, void *arg)
{
        serve_worker_t *w = arg;

        (void)req;
        if (w->writing)
                w->writing--;
}

/* Runs the pipeline and answers; the query stays until its replies are in. */
static void query_answer(serve_query_t *qy, int degraded)
{
        serve_worker_t *w = qy->w;
        uint32_t b = ltrr_search_query_bucket(qy->sq);
        const ltrr_search_state_t *st = qy->st;
        double state_us = (double)(serve_mono_us() - qy->state_us);
        char errstr[256];

        qy->answered = 1;
        if (qy->timer)
                event_del(qy->timer);
        if (degraded) {
                ltrr_search_state_t *c =
                    b < LTRR_FEATURE_BUCKETS ? w->cache[b] : w->empty;

                ltrr_search_state_set_degraded(c, 1);
                st = c;
        }
        if (qy->req) {
                evhttp_request_set_on_complete_cb(qy->req, sent_cb, w);
                w->writing++;
        }
        ltrr_search_set_ids(w->se, qy->si->ids);
        if (ltrr_search_run(w->se, qy->si->ix, qy->sq, st, errstr,
                            sizeof(errstr))) {
                log_warn("serve", "search failed", "err", errstr);
                if (qy->req)
                        serve_reply_error(w->sv, qy->req, SERVE_CODE_500,
                                          "search failed");
        } else {
                publish(w, ltrr_search_out(qy->sq)->imp,
                        ltrr_search_out(qy->sq)->rankers);
                count(w, ltrr_search_out(qy->sq), state_us);
                if (qy->req)
                        serve_reply_results(w->sv, qy->req, &w->resp,
                                            qy->si->ix, w->se,
                                            qy->sq, qy->debug, state_us);
        }
        if (qy->req)
                evhttp_connection_set_closecb(
                    evhttp_request_get_connection(qy->req), NULL, NULL);
        qy->req = NULL;
        ltrr_metrics_hist_observe(w->sv->m.latency,
                                  (double)(serve_mono_us() - qy->start_us) /
                                      1e6);
        w->inflight--;
        serve_index_put(w->sv, qy->si);
        qy->si = NULL;
}

static void ranker_cb(void *opaque, struct redisReply *r)
{
        serve_worker_t *w = opaque;
        char errstr[256];

        w->ranker_loading = 0;
        (void)errstr;
        if (!r || r->type != REDIS_REPLY_STRING)
                return;
        /* The version travels with the blob's own counter. */
        if (ltrr_search_ranker_load(w->se, r->str, (size_t)r->len,
                                    w->ranker_want, errstr, sizeof(errstr)))
                log_warn("serve", "ranker model refused", "err", errstr);
}

/* The online ranker statistics arrived (HGETALL): applied on top of the
 * base model. A malformed hash is refused whole. */
static void online_cb(void *opaque, struct redisReply *r)
{
        serve_worker_t *w = opaque;
        ltrr_ranker_stats_t st;
        char errstr[256];
        size_t i;

        w->online_loading = 0;
        if (!r || r->type != REDIS_REPLY_ARRAY)
                return;
        memset(&st, 0, sizeof(st));
        for (i = 0; i + 1 < r->elements; i += 2) {
                if (r->element[i]->type != REDIS_REPLY_STRING ||
                    r->element[i + 1]->type != REDIS_REPLY_STRING)
                        return;
                if (ltrr_ranker_online_field(&st, r->element[i]->str,
                                             r->element[i + 1]->str, errstr,
                                             sizeof(errstr))) {
                        log_warn("serve", "online ranker refused", "err",
                                 errstr);
                        return;
                }
        }
        if (ltrr_search_ranker_online(w->se, &st, errstr, sizeof(errstr))) {
                log_warn("serve", "online ranker refused", "err", errstr);
                return;
        }
        ltrr_metrics_counter_inc(w->sv->m.rk_reloads);
        ltrr_metrics_gauge_set(w->sv->m.rk_count, (double)st.count);
}

/* The online count read with the version: when it moved and the last
 * fetch is ranker.reload old, fetch the statistics in the
 * background (the request never waits for them). */
static void online_check(serve_worker_t *w, const struct redisReply *r)
{
        const char *argv[2] = {"HGETALL", LTRR_RANKER_ONLINE_KEY};
        size_t lens[2] = {7, strlen(LTRR_RANKER_ONLINE_KEY)};
        int64_t now = serve_mono_us(), cnt;
        char *end;

        if (!r || r->type != REDIS_REPLY_STRING || w->online_loading)
                return;
        cnt = strtoll(r->str, &end, 10);
        if (end == r->str || *end ||
            cnt == ltrr_search_ranker_online_count(w->se) ||
            now - w->online_at_us < w->sv->cf->ranker_reload_ms * 1000)
                return;
        w->online_at_us = now;
        if (ltrr_redis_async_cmd(w->ra, online_cb, w, 2, argv, lens) == 0)
                w->online_loading = 1;
}

/* The ranker's version and online count (MGET): a new version fetches
 * the model, a new count the online statistics, in the background. */
static void ranker_check(serve_worker_t *w, const struct redisReply *r)
{
        const char *argv[2] = {"GET", LTRR_SEARCH_RANKER_KEY};
        size_t lens[2] = {3, strlen(LTRR_SEARCH_RANKER_KEY)};
        const struct redisReply *v;

        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
                return;
        online_check(w, r->element[1]);
        v = r->element[0];
        if (v->type != REDIS_REPLY_STRING || w->ranker_loading ||
            (size_t)v->len >= sizeof(w->ranker_want) ||
            !strcmp(v->str, ltrr_search_ranker_version(w->se)))
                return;
        memcpy(w->ranker_want, v->str, (size_t)v->len + 1);
        if (ltrr_redis_async_cmd(w->ra, ranker_cb, w, 2, argv, lens) == 0)
                w->ranker_loading = 1;
}

/* Collects the (member, score, ...) strings of an array reply. */
static size_t strs(const struct redisReply *r, const char **out, size_t cap)
{
        size_t i, n = 0;

        for (i = 0; i < r->elements && n < cap; i++)
                if (r->element[i]->type == REDIS_REPLY_STRING)
                        out[n++] = r->element[i]->str;
        return n;
}

/* Parses one reply into the query's state (and the bucket cache). */
static void reply_parse(serve_query_t *qy, serve_cmd_kind_t kind,
                        const struct redisReply *r)
{
        serve_worker_t *w = qy->w;
        uint32_t b = ltrr_search_query_bucket(qy->sq);
        size_t n = 0;
        char errstr[256];
        ltrr_err_t err = LTRR_OK;

        if (kind == CMD_RANKER) {
                ranker_check(w, r);
                return;
        }
        if (kind == CMD_Q2E_META || kind == CMD_Q2E_ALT_META) {
                char *dst = kind == CMD_Q2E_META ? qy->q2e_n : qy->q2e_alt_n;

                if (r->type == REDIS_REPLY_STRING && r->len < 31)
                        memcpy(dst, r->str, (size_t)r->len + 1);
                return;
        }
        if (r->type != REDIS_REPLY_ARRAY) {
                qy->failed = 1;
                return;
        }
        n = strs(r, w->strs, SERVE_REPLY_STRS_MAX);
        if (kind == CMD_BANDIT) {
                err = ltrr_search_state_bandit(qy->st, w->strs, n, errstr,
                                               sizeof(errstr));
                if (!err && b < LTRR_FEATURE_BUCKETS)
                        ltrr_search_state_bandit(w->cache[b], w->strs, n,
                                                 errstr, sizeof(errstr));
        } else if (kind == CMD_Q2E) {
                err = ltrr_search_state_q2e(qy->st, w->strs, n,
                                            qy->q2e_n[0] ? qy->q2e_n : NULL,
                                            errstr, sizeof(errstr));
        } else if (kind == CMD_Q2E_ALT) {
                err = ltrr_search_state_q2e_alt(
                    qy->st, w->strs, n, qy->q2e_alt_n[0] ? qy->q2e_alt_n : NULL,
                    errstr, sizeof(errstr));
        } else if (kind == CMD_RECENT) {
                err = ltrr_search_state_recent(qy->st, w->strs, n, errstr,
                                               sizeof(errstr));
        } else if (kind == CMD_AFFINITY) {
                err = ltrr_search_state_affinity(qy->st, w->strs, n, errstr,
                                                 sizeof(errstr));
        }
        if (err)
                log_warn("serve", "bad state reply", "err", errstr);
}

static void reply_cb(void *opaque, struct redisReply *r)
{
        serve_cmd_t *cmd = opaque;
        serve_query_t *qy = cmd->qy;

        qy->pending--;
        if (!r || r->type == REDIS_REPLY_ERROR) {
                qy->failed = 1;
                ltrr_metrics_counter_inc(qy->w->sv->m.redis_errors);
        } else if (!qy->answered) {
                reply_parse(qy, cmd->kind, r);
        }
        if (qy->pending > 0)
                return;
        if (!qy->answered)
                query_answer(qy, qy->failed);
        query_free(qy);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
        serve_query_t *qy = arg;

        (void)fd;
        (void)what;
        if (qy->answered)
                return;
        ltrr_metrics_counter_inc(qy->w->sv->m.redis_errors);
        query_answer(qy, 1);
}

/* The client went away: nothing to answer. */
static void close_cb(struct evhttp_connection *conn, void *arg)
{
        serve_query_t *qy = arg;

        (void)conn;
        qy->req = NULL;
}

/* Sends one command of the pipeline; 0 or -1. */
static int send_cmd(serve_query_t *qy, serve_cmd_kind_t kind, int argc,
                    const char **argv)
{
        size_t lens[8];
        int i;

        for (i = 0; i < argc; i++)
                lens[i] = strlen(argv[i]);
        qy->cmds[kind].qy = qy;
        qy->cmds[kind].kind = kind;
        if (ltrr_redis_async_cmd(qy->w->ra, reply_cb, &qy->cmds[kind], argc,
                                 argv, lens))
                return -1;
        qy->pending++;
        return 0;
}

/* Sends the query's pipeline; -1 when nothing could be sent. */
static int fetch(serve_query_t *qy, const ltrr_search_keys_t *k)
{
        const char *bandit[] = {"HGETALL", k->bandit};
        const char *meta[] = {"HGET", k->q2e_meta, "n"};
        const char *q2e[] = {"ZREVRANGE", k->q2e, "0", SERVE_LIST_READ,
                             "WITHSCORES"};
        const char *alt_meta[] = {"HGET", k->q2e_alt_meta, "n"};
        const char *alt[] = {"ZREVRANGE", k->q2e_alt, "0", SERVE_LIST_READ,
                             "WITHSCORES"};
        const char *recent[] = {"ZREVRANGE", k->recent, "0", SERVE_LIST_READ,
                                "WITHSCORES"};
        const char *aff[] = {"ZREVRANGE", k->affinity, "0", SERVE_PROFILE_LAST,
                             "WITHSCORES"};
        const char *ranker[] = {"MGET", LTRR_SEARCH_RANKER_VERSION_KEY,
                                LTRR_RANKER_ONLINE_COUNT_KEY};
        int bad = 0;

        /* Held open while sending: a failure inside must not free it. */
        qy->pending++;
        if (k->bandit[0])
                bad |= send_cmd(qy, CMD_BANDIT, 2, bandit);
        if (k->q2e[0])
                bad |= send_cmd(qy, CMD_Q2E_META, 3, meta) ||
                       send_cmd(qy, CMD_Q2E, 5, q2e);
        if (k->q2e_alt[0])
                bad |= send_cmd(qy, CMD_Q2E_ALT_META, 3, alt_meta) ||
                       send_cmd(qy, CMD_Q2E_ALT, 5, alt);
        if (k->recent[0])
                bad |= send_cmd(qy, CMD_RECENT, 5, recent);
        if (k->affinity[0])
                bad |= send_cmd(qy, CMD_AFFINITY, 5, aff);
        bad |= send_cmd(qy, CMD_RANKER, 3, ranker);
        qy->pending--;
        if (bad)
                qy->failed = 1;
        return qy->pending ? 0 : -1;
}

/* Rate and concurrency limits; 0 or the refusal code. */
static int admit(serve_worker_t *w)
{
        const ltrr_config_serve_t *cf = w->sv->cf;
        int64_t now = serve_mono_us();

        if (w->inflight >= (size_t)cf->inflight_max)
                return -1;
        if (!cf->rate_max)
                return 0;
        w->tokens += (double)(now - w->tokens_us) * cf->rate_max / 1e6;
        w->tokens_us = now;
        if (w->tokens > cf->rate_max)
                w->tokens = cf->rate_max;
        if (w->tokens < 1.0)
                return -1;
        w->tokens -= 1.0;
        return 0;
}

/* Builds the pipeline request from the parameters. */
static void req_build(const serve_worker_t *w, const serve_params_t *p,
                      ltrr_search_req_t *r)
{
        memset(r, 0, sizeof(*r));
        r->q = p->has_q ? p->q : NULL;
        r->q_len = p->q_len;
        r->q_max = (size_t)w->sv->cf->q_max;
        r->user_id = p->user;
        r->session_id = p->has_session ? p->session : NULL;
        r->lang = p->lang;
        r->k = p->k < 1 || p->k > LTRR_SEARCH_K_MAX ? 0 : (unsigned)p->k;
        r->k_max = (unsigned)w->sv->cf->k_max;
        r->mode = p->mode;
        r->arms = p->arms;
        r->now_ms = wall_ms();
        r->cpu_times = p->debug;
        id_new(&r->impression_id);
}

/* A query object: a spare one reset, or a new one. */
static serve_query_t *query_new(serve_worker_t *w, struct evhttp_request *req)
{
        serve_query_t *qy = w->spare;
        char errstr[256];

        if (qy) {
                w->spare = qy->next;
                w->spare_cnt--;
                ltrr_search_state_reset(qy->st);
        } else if (!(qy = calloc(1, sizeof(*qy))) ||
                   !(qy->sq = ltrr_search_query_new(w->se, errstr,
                                                    sizeof(errstr))) ||
                   !(qy->st = ltrr_search_state_new(ltrr_search_space(w->se),
                                                    w->sv->scf.q2e_alpha,
                                                    errstr,
                                                    sizeof(errstr))) ||
                   !(qy->timer = evtimer_new(w->base, timeout_cb, qy))) {
                abort(); /* the daemon treats out of memory as fatal */
        }
        memset(qy->cmds, 0, sizeof(qy->cmds));
        qy->pending = qy->answered = qy->failed = qy->debug = 0;
        qy->q2e_n[0] = qy->q2e_alt_n[0] = '\0';
        qy->next = NULL;
        qy->w = w;
        qy->req = req;
        qy->si = serve_index_get(w->sv);
        return qy;
}

void serve_worker_search(serve_worker_t *w, struct evhttp_request *req,
                         const serve_params_t *p, int64_t start_us)
{
        int64_t to = w->sv->cf->state_timeout_ms * 1000;
        struct timeval tv = {(time_t)(to / 1000000),
                             (suseconds_t)(to % 1000000)};
        ltrr_search_req_t r;
        ltrr_search_keys_t keys;
        serve_query_t *qy;
        char errstr[256];
        ltrr_err_t err;

        if (w->draining) {
                serve_reply_error(w->sv, req, SERVE_CODE_503, "shutting down");
                return;
        }
        if (admit(w)) {
                serve_reply_error(w->sv, req, SERVE_CODE_429, "too many requests");
                return;
        }
        req_build(w, p, &r);
        qy = query_new(w, req);
        qy->debug = p->debug;
        qy->start_us = start_us;
        if ((err = ltrr_search_prepare(w->se, qy->si->ix, qy->si->qu, &r,
                                       qy->sq, errstr, sizeof(errstr)))) {
                serve_reply_error(w->sv, req, SERVE_CODE_400, errstr);
                query_free(qy);
                return;
        }
        w->inflight++;
        qy->state_us = serve_mono_us();
        ltrr_search_keys(w->se, qy->sq, &keys, errstr, sizeof(errstr));
        if (fetch(qy, &keys)) {
                query_answer(qy, 1);
                query_free(qy);
                return;
        }
        evhttp_connection_set_closecb(evhttp_request_get_connection(req),
                                      close_cb, qy);
        evtimer_add(qy->timer, &tv);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
        serve_worker_t *w = arg;

        (void)fd;
        (void)what;
        /* Queries in flight are answered, and the answers written out:
         * ending the loop earlier would drop them unsent. */
        if ((w->inflight == 0 && w->writing == 0) ||
            serve_mono_us() / 1000 >= w->drain_deadline_ms) {
                if (w->inflight || w->writing)
                        log_warn("serve", "drain timed out");
                event_base_loopexit(w->base, NULL);
        }
}

/* Runs in the worker: stop accepting, then drain. */
static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
        serve_worker_t *w = arg;
        struct timeval tv = {0, SERVE_DRAIN_TICK_MS * 1000};

        (void)fd;
        (void)what;
        w->draining = 1;
        if (w->bound)
                evhttp_del_accept_socket(w->http, w->bound);
        w->bound = NULL;
        w->drain_deadline_ms =
            serve_mono_us() / 1000 + w->sv->cf->drain_timeout_ms;
        event_add(w->drain_ev, &tv);
}

static void *worker_main(void *arg)
{
        serve_worker_t *w = arg;

        event_base_dispatch(w->base);
        return NULL;
}

/* Creates the worker's pipeline state. */
static int worker_state(serve_worker_t *w, char *errstr, size_t errstr_size)
{
        const ltrr_bandit_space_t *sp;
        int i;

        if (!(w->se = ltrr_search_new(&w->sv->scf, errstr, errstr_size)))
                return -1;
        sp = ltrr_search_space(w->se);
        if (!(w->empty = ltrr_search_state_new(sp, w->sv->scf.q2e_alpha,
                                               errstr, errstr_size)))
                return -1;
        for (i = 0; i < LTRR_FEATURE_BUCKETS; i++)
                if (!(w->cache[i] = ltrr_search_state_new(
                          sp, w->sv->scf.q2e_alpha, errstr, errstr_size)))
                        return -1;
        w->rec = malloc(SERVE_RECORD_MAX);
        w->strs = calloc(SERVE_REPLY_STRS_MAX, sizeof(*w->strs));
        if (!w->rec || !w->strs)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "no memory");
        ltrr_search_state_set_degraded(w->empty, 1);
        ltrr_strbuf_init(&w->resp, SERVE_RESPONSE_MAX);
        return 0;
}

/* Creates the worker's loop and HTTP server on a dup of the socket. */
static int worker_http(serve_worker_t *w, char *errstr, size_t errstr_size)
{
        const ltrr_config_serve_t *cf = w->sv->cf;
        int fd;

        if (!(w->base = event_base_new()) || !(w->http = evhttp_new(w->base)))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "event setup failed");
        evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
                                                EVHTTP_REQ_POST);
        /* Bodies up to 4x body.max reach the handler (a JSON 413). */
        evhttp_set_max_body_size(w->http, (ev_ssize_t)cf->body_max * 4);
        evhttp_set_max_headers_size(w->http, SERVE_HEADERS_MAX);
        evhttp_set_gencb(w->http, serve_http_cb, w);
        if ((fd = dup(w->sv->listen_fd)) < 0 ||
            !(w->bound = evhttp_accept_socket_with_handle(w->http, fd))) {
                if (fd >= 0)
                        close(fd);
                return ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                 "cannot share the listening socket");
        }
        w->stop_ev = event_new(w->base, -1, 0, stop_cb, w);
        w->drain_ev = event_new(w->base, -1, EV_PERSIST, drain_cb, w);
        if (!w->stop_ev || !w->drain_ev)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "event setup failed");
        return 0;
}

int serve_worker_start(serve_worker_t *w, char *errstr, size_t errstr_size)
{
        if (worker_state(w, errstr, errstr_size) ||
            worker_http(w, errstr, errstr_size))
                return -1;
        if (!(w->ra = ltrr_redis_async_new(w->base,
                                           w->sv->cf->common.redis_addr,
                                           w->sv->cf->common.redis_user,
                                           w->sv->cf->common.redis_password,
                                           errstr, errstr_size)))
                return -1;
        w->tokens = w->sv->cf->rate_max;
        w->tokens_us = serve_mono_us();
        if (pthread_create(&w->th, NULL, worker_main, w))
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "cannot start a thread");
        w->started = 1;
        return 0;
}

void serve_worker_stop(serve_worker_t *w)
{
        if (w->started && w->stop_ev)
                event_active(w->stop_ev, EV_TIMEOUT, 0);
}

void serve_worker_join(serve_worker_t *w)
{
        int i;

        if (w->started)
                pthread_join(w->th, NULL);
        w->started = 0;
        ltrr_redis_async_destroy(w->ra); /* late replies free queries */
        w->ra = NULL;
        /* Spare queries own timers of the base: free them first. */
        while (w->spare) {
                serve_query_t *qy = w->spare;

                w->spare = qy->next;
                query_destroy(qy);
        }
        w->spare_cnt = 0;
        if (w->http)
                evhttp_free(w->http);
        if (w->stop_ev)
                event_free(w->stop_ev);
        if (w->drain_ev)
                event_free(w->drain_ev);
        if (w->base)
                event_base_free(w->base);
        for (i = 0; i < LTRR_FEATURE_BUCKETS; i++)
                ltrr_search_state_destroy(w->cache[i]);
        ltrr_search_state_destroy(w->empty);
        ltrr_search_destroy(w->se);
        free(w->rec);
        free(w->strs);
        ltrr_strbuf_clear(&w->resp);
}
