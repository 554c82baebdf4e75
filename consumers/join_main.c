/*
 * ltrr-join: impressions x actions -> rewards.
 *
 * One consumer in group `group` over ltrr.impressions and ltrr.actions
 * (range assignor: partition p of both topics goes to one member), the
 * pure join of online/join.h, a producer to ltrr.rewards (keyed by
 * user_id) and ltrr.dlq, and the admin HTTP endpoint (/metrics, /healthz).
 *
 * Offsets: every commit interval, on revocation and on SIGTERM, the
 * producer is flushed and only then are the join's commit points marked
 * done, so a reward is always delivered before the offsets that led to it
 * are committed. A reward that cannot be delivered stops the daemon with
 * exit 1 and nothing more committed: the next start replays it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin_http.h"
#include "avro_codec.h"
#include "cli.h"
#include "join.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"

/** Interval between ticks (idle advance, gauges), ms. */
#define TICK_MS 200
/** Interval between commits of the join's commit points, ms. */
#define COMMIT_MS 1000
/** Longest wait for reward delivery before a commit, ms. */
#define FLUSH_MS 10000
/** Retries of a reward refused because the producer queue is full. */
#define SEND_RETRIES 100
/** First size of the reward encoding buffer; it grows as needed. */
#define ENC_INIT 4096

static volatile sig_atomic_t run = 1;

static const char usage[] =
    "Usage: ltrr-join [options]\n"
    "\n"
    "Joins ltrr.impressions with ltrr.actions in event time and publishes\n"
    "rewards to ltrr.rewards (docs/JOIN.md).\n\n";

/* Metric children, looked up once. */
struct jmetrics {
        ltrr_metrics_t *reg;                           /* owned */
        ltrr_metrics_child_t *latency;                 /* histogram */
        ltrr_metrics_child_t *pending;                 /* gauge */
        ltrr_metrics_child_t *held;                    /* gauge */
        ltrr_metrics_child_t *lag;                     /* gauge */
        ltrr_metrics_child_t *dangling;                /* counter */
        ltrr_metrics_child_t *late;                    /* counter */
        ltrr_metrics_child_t *evicted_imp;             /* counter */
        ltrr_metrics_child_t *evicted_act;             /* counter */
        ltrr_metrics_child_t *duplicates;              /* counter */
        ltrr_metrics_child_t *rewards[LTRR_OUTCOME__CNT]; /* counters */
        ltrr_metrics_child_t *dlq;                     /* counter */
        ltrr_metrics_child_t *records[2];              /* imp, act */
};

struct joind {
        const ltrr_config_join_t *cfg;   /* not owned */
        ltrr_join_t *j;                  /* owned */
        ltrr_avro_decoder_t *dec;        /* owned */
        ltrr_kafka_consumer_t *kc;       /* owned */
        ltrr_kafka_producer_t *kp;       /* owned */
        struct event_base *base;         /* owned */
        ltrr_admin_http_t *adm;          /* owned */
        struct jmetrics m;               /* metrics */
        ltrr_join_stats_t last;          /* stats already published */
        uint8_t *enc;                    /* reward encoding buffer */
        size_t enc_size;                 /* bytes of enc */
        int fatal;                       /* a reward or DLQ record lost */
        uint64_t failed_seen;            /* producer failures accepted */
        uint8_t owned[LTRR_JOIN_PARTITIONS_MAX]; /* partitions assigned */
        int64_t marked[2][LTRR_JOIN_PARTITIONS_MAX]; /* next offsets marked */
};

static void on_signal(int sig)
{
        run = 0;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- metrics ---- */

/* Registers one family and returns its child for @values. */
static ltrr_metrics_child_t *metric(ltrr_metrics_t *reg,
                                    const ltrr_metrics_spec_t *spec,
                                    const char *const *values)
{
        char err[256];
        ltrr_metrics_family_t *fam = ltrr_metrics_register(reg, spec, err,
                                                           sizeof(err));

        if (!fam) {
                log_error("join", "metric not registered", "name",
                          spec->name, "err", err);
                return NULL;
        }
        return ltrr_metrics_child(fam, values);
}

/* Registers a counter family labelled by @label with the given values. */
static int counter_family(ltrr_metrics_t *reg, const char *name,
                          const char *help, const char *label,
                          const char *const *vals, size_t n,
                          ltrr_metrics_child_t **out)
{
        const char *const labels[] = {label, NULL};
        ltrr_metrics_spec_t sp = {LTRR_METRICS_COUNTER, name, help, labels,
                                  0, 0, 0};
        ltrr_metrics_family_t *fam;
        char err[256];
        size_t i;

        if (!(fam = ltrr_metrics_register(reg, &sp, err, sizeof(err))))
                return -1;
        for (i = 0; i < n; i++) {
                const char *v[] = {vals[i], NULL};

                if (!(out[i] = ltrr_metrics_child(fam, v)))
                        return -1;
        }
        return 0;
}

/* Creates the registry and every metric; -1 on failure. */
static int metrics_init(struct jmetrics *m)
{
        static const char *const outcomes[] = {"matched", "no_action", "late"};
        static const char *const topics[] = {"impressions", "actions"};
        static const char *const kinds[] = {"impression", "action"};
        ltrr_metrics_child_t *ev[2];
        char err[256];
        ltrr_metrics_spec_t s;

        if (!(m->reg = ltrr_metrics_new(err, sizeof(err))))
                return -1;
        s = (ltrr_metrics_spec_t){LTRR_METRICS_HISTOGRAM,
                                  "ltrr_join_latency_seconds",
                                  "Action event time to reward produced.",
                                  NULL, 0, -3, 6};
        m->latency = metric(m->reg, &s, NULL);
        s = (ltrr_metrics_spec_t){LTRR_METRICS_GAUGE,
                                  "ltrr_join_pending_impressions",
                                  "Impressions in join state.", NULL, 0, 0, 0};
        m->pending = metric(m->reg, &s, NULL);
        s.name = "ltrr_join_held_actions";
        s.help = "Actions held for an impression not yet read.";
        m->held = metric(m->reg, &s, NULL);
        s.name = "ltrr_join_consumer_lag_records";
        s.help = "Records behind the high watermark, both input topics.";
        m->lag = metric(m->reg, &s, NULL);
        s = (ltrr_metrics_spec_t){LTRR_METRICS_COUNTER,
                                  "ltrr_join_dangling_actions_total",
                                  "Actions that met no impression.", NULL, 0,
                                  0, 0};
        m->dangling = metric(m->reg, &s, NULL);
        s.name = "ltrr_join_late_actions_total";
        s.help = "Actions after their impression's window (late rewards).";
        m->late = metric(m->reg, &s, NULL);
        s.name = "ltrr_join_duplicates_total";
        s.help = "Repeated action or impression ids dropped.";
        m->duplicates = metric(m->reg, &s, NULL);
        s.name = "ltrr_join_dlq_total";
        s.help = "Malformed records sent to ltrr.dlq.";
        m->dlq = metric(m->reg, &s, NULL);
        if (!m->latency || !m->pending || !m->held || !m->lag ||
            !m->dangling || !m->late || !m->duplicates || !m->dlq)
                return -1;
        if (counter_family(m->reg, "ltrr_join_rewards_total",
                           "Rewards produced by outcome.", "outcome",
                           outcomes, 3, m->rewards) ||
            counter_family(m->reg, "ltrr_join_records_total",
                           "Records read by topic.", "topic", topics, 2,
                           m->records) ||
            counter_family(m->reg, "ltrr_join_evicted_total",
                           "State evicted by the caps, by kind.", "kind",
                           kinds, 2, ev))
                return -1;
        m->evicted_imp = ev[0];
        m->evicted_act = ev[1];
        return 0;
}

/* Publishes the join's counters (as deltas) and gauges. */
static void metrics_publish(struct joind *d)
{
        ltrr_join_stats_t st;
        struct jmetrics *m = &d->m;
        char err[256];
        int64_t lag;
        int i;

        ltrr_join_stats(d->j, &st);
        ltrr_metrics_counter_add(m->dangling, st.dangling - d->last.dangling);
        ltrr_metrics_counter_add(m->late, st.late - d->last.late);
        ltrr_metrics_counter_add(m->duplicates,
                                 st.duplicates - d->last.duplicates);
        ltrr_metrics_counter_add(m->evicted_imp, st.evicted - d->last.evicted);
        ltrr_metrics_counter_add(m->evicted_act,
                                 st.held_evicted - d->last.held_evicted);
        for (i = 0; i < LTRR_OUTCOME__CNT; i++)
                ltrr_metrics_counter_add(m->rewards[i],
                                         st.rewards[i] - d->last.rewards[i]);
        ltrr_metrics_gauge_set_i64(m->pending, (int64_t)st.pending);
        ltrr_metrics_gauge_set_i64(m->held, (int64_t)st.held);
        if (!ltrr_kafka_consumer_lag(d->kc, &lag, err, sizeof(err)))
                ltrr_metrics_gauge_set_i64(m->lag, lag);
        d->last = st;
}

/* /healthz: unhealthy once a record could not be delivered. */
static int health(void *opaque, char *reason, size_t size)
{
        struct joind *d = opaque;

        if (!d->fatal)
                return 0;
        snprintf(reason, size, "a reward could not be delivered");
        return 1;
}

/* ---- output ---- */

/* Sends @len bytes to @topic keyed by @key, retrying a full queue a
 * bounded number of times. */
static ltrr_err_t send_retry(struct joind *d, const char *topic,
                             const char *key, const void *val, size_t len)
{
        char err[256];
        ltrr_err_t e = LTRR_ERR_NOSPACE;
        int i;

        for (i = 0; i < SEND_RETRIES && e == LTRR_ERR_NOSPACE; i++) {
                e = ltrr_kafka_producer_send(d->kp, topic, -1, key,
                                             strlen(key), val, len, NULL, 0,
                                             NULL, err, sizeof(err));
                if (e == LTRR_ERR_NOSPACE)
                        ltrr_kafka_producer_poll(d->kp, 100);
        }
        if (e)
                log_error("join", "reward not sent", "topic", topic, "err",
                          err);
        return e;
}

/* Encodes @rew into d->enc, growing it as needed; LTRR_OK or an error. */
static ltrr_err_t encode(struct joind *d, const ltrr_reward_t *rew,
                         size_t *len)
{
        char err[256];
        ltrr_err_t e;

        while ((e = ltrr_avro_encode_reward(rew, d->enc, d->enc_size, len,
                                            err, sizeof(err))) ==
               LTRR_ERR_NOSPACE) {
                uint8_t *nb = realloc(d->enc, *len);

                if (!nb)
                        return LTRR_ERR_NOMEM;
                d->enc = nb;
                d->enc_size = *len;
        }
        if (e)
                log_error("join", "reward not encoded", "err", err);
        return e;
}

/* The join's sink: produce the reward now; failure is fatal. */
static void on_reward(void *opaque, int32_t p, const ltrr_reward_t *rew)
{
        struct joind *d = opaque;
        size_t len = 0;

        if (d->fatal)
                return;
        if (encode(d, rew, &len) ||
            send_retry(d, LTRR_KAFKA_TOPIC_REWARDS, rew->user_id, d->enc,
                       len)) {
                d->fatal = 1;
                return;
        }
        if (rew->has_action_time_ms) {
                /* App clocks may run ahead: a negative latency counts 0. */
                int64_t lat = wall_ms() - rew->action_time_ms;

                ltrr_metrics_hist_observe(d->m.latency,
                                          lat > 0 ? (double)lat / 1e3 : 0.0);
        }
}

/* Sends a malformed record to ltrr.dlq with @reason; failure is fatal. */
static void to_dlq(struct joind *d, const ltrr_kafka_msg_t *msg,
                   const char *reason)
{
        char err[256];

        log_warn("join", "record to dlq", "topic", msg->topic, "reason",
                 reason);
        if (ltrr_kafka_producer_dlq(d->kp, reason, msg->topic, msg->partition,
                                    msg->offset, msg->value, msg->len, err,
                                    sizeof(err))) {
                log_error("join", "dlq send failed", "err", err);
                d->fatal = 1;
                return;
        }
        ltrr_metrics_counter_inc(d->m.dlq);
}

/* ---- input ---- */

/* Feeds one decoded record; returns the join's result. */
static ltrr_err_t feed(struct joind *d, const ltrr_kafka_msg_t *msg,
                       int is_act, const ltrr_avro_record_t *rec, char *err,
                       size_t size)
{
        int64_t now = wall_ms();

        if (is_act && rec->type == LTRR_AVRO_ACTION)
                return ltrr_join_action(d->j, msg->partition, msg->offset,
                                        &rec->u.act, now, err, size);
        if (!is_act && rec->type == LTRR_AVRO_IMPRESSION)
                return ltrr_join_impression_ranked(
                    d->j, msg->partition, msg->offset, &rec->u.imp,
                    rec->rankers, now, err, size);
        return ltrr_errf(LTRR_ERR_SCHEMA, err, size,
                         "a %s record on %s",
                         ltrr_avro_type_name(rec->type), msg->topic);
}

/* Handles one consumed record: decode, feed, DLQ when unusable. */
static void handle(struct joind *d, const ltrr_kafka_msg_t *msg)
{
        int is_act = !strcmp(msg->topic, LTRR_KAFKA_TOPIC_ACTIONS);
        ltrr_avro_record_t rec;
        char err[512];
        ltrr_err_t e;

        ltrr_metrics_counter_inc(d->m.records[is_act]);
        e = ltrr_avro_decode(d->dec, msg->value, msg->len, &rec, err,
                             sizeof(err));
        if (!e)
                e = feed(d, msg, is_act, &rec, err, sizeof(err));
        if (e == LTRR_ERR_NOMEM || e == LTRR_ERR_INVALID_ARG) {
                log_error("join", "record not joined", "err", err);
                d->fatal = 1;
                return;
        }
        if (e) {
                to_dlq(d, msg, err);
                ltrr_join_skip(d->j, msg->partition, msg->offset, is_act);
        }
}

/* ---- offsets ---- */

/* Marks @next (the first offset to read again) of one topic partition. */
static void mark(struct joind *d, int is_act, int32_t p, int64_t next)
{
        ltrr_kafka_msg_t m;

        if (next <= 0 || next <= d->marked[is_act][p])
                return;
        memset(&m, 0, sizeof(m));
        m.topic = is_act ? LTRR_KAFKA_TOPIC_ACTIONS
                         : LTRR_KAFKA_TOPIC_IMPRESSIONS;
        m.partition = p;
        m.offset = next - 1;
        if (!ltrr_kafka_consumer_done(d->kc, &m))
                d->marked[is_act][p] = next;
}

/*
 * Waits until every reward produced so far is delivered, then marks the
 * commit points of the partitions in @only (or all owned ones when NULL).
 * Returns -1 (and marks nothing) when delivery failed or timed out.
 */
static int commit_points(struct joind *d, const uint8_t *only)
{
        ltrr_kafka_producer_stats_t ps;
        int32_t p;

        if (d->fatal)
                return -1;
        if (ltrr_kafka_producer_flush(d->kp, FLUSH_MS)) {
                log_warn("join", "rewards not delivered yet; commit skipped");
                return -1;
        }
        ltrr_kafka_producer_stats(d->kp, &ps);
        if (ps.failed > d->failed_seen) {
                log_error("join", "reward delivery failed; stopping");
                d->fatal = 1;
                return -1;
        }
        for (p = 0; p < LTRR_JOIN_PARTITIONS_MAX; p++) {
                int64_t in, an;

                if (!d->owned[p] || (only && !only[p]))
                        continue;
                ltrr_join_commit_point(d->j, p, &in, &an);
                mark(d, 0, p, in);
                mark(d, 1, p, an);
        }
        return 0;
}

/* Rebalance: on revocation commit, then drop the partitions' state. */
static void on_rebalance(void *opaque, int assigned,
                         const rd_kafka_topic_partition_list_t *parts)
{
        uint8_t sel[LTRR_JOIN_PARTITIONS_MAX];
        struct joind *d = opaque;
        char pb[24];
        int i;

        memset(sel, 0, sizeof(sel));
        for (i = 0; i < parts->cnt; i++) {
                int32_t p = parts->elems[i].partition;

                if (p < 0 || p >= LTRR_JOIN_PARTITIONS_MAX)
                        continue;
                sel[p] = 1;
                log_info("join", assigned ? "assigned" : "revoked", "topic",
                         parts->elems[i].topic, "partition",
                         ltrr_log_i64(pb, sizeof(pb), p));
                if (assigned)
                        d->owned[p] = 1;
        }
        if (assigned)
                return;
        if (!commit_points(d, sel))
                ltrr_kafka_consumer_commit(d->kc);
        for (i = 0; i < LTRR_JOIN_PARTITIONS_MAX; i++) {
                if (!sel[i])
                        continue;
                ltrr_join_drop_partition(d->j, i);
                d->owned[i] = 0;
                d->marked[0][i] = d->marked[1][i] = -1;
        }
}

/* ---- set-up ---- */

/* The join settings from the config. */
static void join_conf(const ltrr_config_join_t *cfg, const char *node,
                      ltrr_join_conf_t *jc)
{
        ltrr_join_conf_defaults(jc);
        jc->window_ms = cfg->window_ms;
        jc->tolerance_ms = cfg->tolerance_ms;
        jc->lateness_ms = cfg->lateness_ms;
        jc->late_horizon_ms = cfg->late_horizon_ms;
        jc->idle_ms = cfg->idle_ms;
        jc->pending_max = (size_t)cfg->pending_max;
        jc->held_max = (size_t)cfg->held_max;
        jc->values[LTRR_ACTION_UNKNOWN] = cfg->value_unknown;
        jc->values[LTRR_ACTION_CLICK] = cfg->value_click;
        jc->values[LTRR_ACTION_PLAY] = cfg->value_play;
        jc->values[LTRR_ACTION_LIKE] = cfg->value_like;
        jc->values[LTRR_ACTION_ADD_TO_PLAYLIST] = cfg->value_add_to_playlist;
        jc->values[LTRR_ACTION_SHARE] = cfg->value_share;
        jc->values[LTRR_ACTION_SKIP] = cfg->value_skip;
        jc->node_id = node;
        jc->imp_topic = LTRR_KAFKA_TOPIC_IMPRESSIONS;
        jc->act_topic = LTRR_KAFKA_TOPIC_ACTIONS;
}

/*
 * The consumer's librdkafka properties: the range assignor (partition p
 * of both topics to one member) and group timeouts that suit the
 * development cluster, unless -X / [kafka] set them.
 */
static ltrr_err_t consumer_props(const ltrr_config_t *conf, ltrr_kvlist_t *kv)
{
        static const char *const defs[][2] = {
            {"partition.assignment.strategy", "range"},
            {"session.timeout.ms", "6000"},
            {"heartbeat.interval.ms", "1000"},
            {"max.poll.interval.ms", "8000"},
            {"auto.offset.reset", "earliest"},
        };
        ltrr_err_t e;
        size_t i;

        ltrr_kvlist_init(kv);
        if ((e = ltrr_kvlist_copy(kv, ltrr_config_kafka(conf))))
                return e;
        for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
                if (!ltrr_kvlist_get(kv, defs[i][0]) &&
                    (e = ltrr_kvlist_set(kv, defs[i][0], defs[i][1])))
                        return e;
        return LTRR_OK;
}

/* Creates the producer and the consumer; -1 on failure (logged). */
static int kafka_open(struct joind *d, const ltrr_config_t *conf)
{
        static const char *const topics[] = {LTRR_KAFKA_TOPIC_IMPRESSIONS,
                                             LTRR_KAFKA_TOPIC_ACTIONS};
        ltrr_kafka_opts_t po = {0}, co = {0};
        ltrr_kvlist_t kv;
        char err[512];
        int rc = -1;

        po.bootstrap = d->cfg->common.kafka_bootstrap;
        po.client_id = "ltrr-join";
        d->kp = ltrr_kafka_producer_new(ltrr_config_kafka(conf), &po, err,
                                        sizeof(err));
        if (!d->kp) {
                log_error("join", "producer not created", "err", err);
                return -1;
        }
        if (consumer_props(conf, &kv)) {
                log_error("join", "consumer properties", "err", "no memory");
                goto done;
        }
        co = po;
        co.group_id = d->cfg->group;
        co.rebalance_hook = on_rebalance;
        co.opaque = d;
        d->kc = ltrr_kafka_consumer_new(&kv, &co, topics, 2, err, sizeof(err));
        if (!d->kc) {
                log_error("join", "consumer not created", "err", err);
                goto done;
        }
        rc = 0;
done:
        ltrr_kvlist_clear(&kv);
        return rc;
}

/* Builds everything but Kafka; -1 on failure (logged). */
static int core_open(struct joind *d, const char *node)
{
        const ltrr_config_common_t *cc = &d->cfg->common;
        ltrr_join_conf_t jc;
        char err[512];

        join_conf(d->cfg, node, &jc);
        if (!(d->j = ltrr_join_new(&jc, on_reward, d, err, sizeof(err))) ||
            !(d->dec = ltrr_avro_decoder_new(
                  d->cfg->schemas[0] ? d->cfg->schemas : NULL, err,
                  sizeof(err)))) {
                log_error("join", "start failed", "err", err);
                return -1;
        }
        if (!(d->enc = malloc(ENC_INIT)) || metrics_init(&d->m) ||
            !(d->base = event_base_new())) {
                log_error("join", "start failed", "err", "no memory");
                return -1;
        }
        d->enc_size = ENC_INIT;
        d->adm = ltrr_admin_http_new(d->base, cc->http_addr,
                                     (uint16_t)cc->http_port, d->m.reg,
                                     health, d, err, sizeof(err));
        if (!d->adm) {
                log_error("join", "admin http failed", "err", err);
                return -1;
        }
        return 0;
}

/* Polls, feeds, ticks and commits until SIGTERM or a fatal error. */
static void loop(struct joind *d)
{
        int64_t next_tick = mono_ms(), next_commit = next_tick + COMMIT_MS;

        while (run && !d->fatal) {
                ltrr_kafka_msg_t *msg = NULL;
                int64_t now;

                if (!ltrr_kafka_consumer_poll(d->kc, 100, &msg) && msg &&
                    !msg->eof)
                        handle(d, msg);
                ltrr_kafka_msg_destroy(msg);
                ltrr_kafka_producer_poll(d->kp, 0);
                event_base_loop(d->base, EVLOOP_NONBLOCK);
                now = mono_ms();
                if (now >= next_tick) {
                        ltrr_join_tick(d->j, wall_ms());
                        metrics_publish(d);
                        next_tick = now + TICK_MS;
                }
                if (now >= next_commit) {
                        commit_points(d, NULL);
                        next_commit = mono_ms() + COMMIT_MS;
                }
        }
}

static void joind_close(struct joind *d)
{
        ltrr_kafka_consumer_destroy(d->kc);
        ltrr_kafka_producer_destroy(d->kp);
        ltrr_admin_http_destroy(d->adm);
        if (d->base)
                event_base_free(d->base);
        ltrr_metrics_destroy(d->m.reg);
        ltrr_avro_decoder_destroy(d->dec);
        ltrr_join_destroy(d->j);
        free(d->enc);
}

static void install_signals(void)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
        struct joind d;
        ltrr_config_t *conf;
        char host[65] = "ltrr-join", port[16];
        int rc;

        if (!(conf = ltrr_cli_config_load("join", usage, argc, argv, &rc)))
                return rc;
        memset(&d, 0, sizeof(d));
        memset(d.marked, 0xff, sizeof(d.marked)); /* -1: nothing marked */
        d.cfg = ltrr_config_struct(conf);
        if (*d.cfg->common.node_id)
                snprintf(host, sizeof(host), "%s", d.cfg->common.node_id);
        else
                gethostname(host, sizeof(host) - 1);
        install_signals();
        rc = 1;
        if (core_open(&d, host) || kafka_open(&d, conf))
                goto done;
        log_info("join", "running", "http.port",
                 ltrr_log_i64(port, sizeof(port), ltrr_admin_http_port(d.adm)),
                 "group", d.cfg->group, "node", host);
        loop(&d);
        if (!d.fatal && !commit_points(&d, NULL) &&
            !ltrr_kafka_consumer_close(d.kc))
                rc = 0;
        log_info("join", "stopped", "clean", rc ? "no" : "yes");
done:
        joind_close(&d);
        ltrr_config_destroy(conf);
        return rc;
}
