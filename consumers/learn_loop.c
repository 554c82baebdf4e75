/*
 * ltrr-learn: the consume -> plan -> apply -> store offsets -> commit
 * loop, and the pause on Redis failure.
 *
 * Redis failure handling: the batch in hand and those in flight are
 * dropped unapplied (not marked, so not committed). The consumer stays
 * in its group: its partitions are paused and it keeps polling (so
 * max.poll.interval.ms never expires and no rebalance happens) while
 * Redis is retried with backoff. Once Redis answers, each partition is
 * sought to the offset after the one stored in Redis and resumed. So if
 * Redis restarted and lost its last second, exactly the lost records
 * are read again.
 *
 * Pipelining across batches: batch k+1 is polled, planned and sent
 * while batch k's replies are pending (at most LEARN_INFLIGHT_MAX
 * batches sent and unread); a batch's records are marked done only once
 * all its replies are read. See docs/decisions/0023.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learn_int.h"
#include "log.h"

volatile sig_atomic_t learn_run = 1;

/* Monotonic seconds. */
static double now_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Frees the records of the batch without marking them. */
static void batch_drop(learn_t *ln)
{
        size_t i;

        for (i = 0; i < ln->n; i++)
                ltrr_kafka_msg_destroy(ln->batch[i]);
        ln->n = 0;
}

/* Retires the oldest flight, freeing its records. */
static void flight_pop(learn_t *ln)
{
        learn_flight_t *f = &ln->fl[ln->fl_head];
        size_t i;

        for (i = 0; i < f->n; i++)
                ltrr_kafka_msg_destroy(f->recs[i]);
        f->n = 0;
        ln->fl_head = (ln->fl_head + 1) % LEARN_INFLIGHT_MAX;
        ln->fl_cnt--;
}

/* Drops every sent batch unmarked (Redis failed: read them again). */
static void flights_drop(learn_t *ln)
{
        while (ln->fl_cnt)
                flight_pop(ln);
}

/*
 * Reads the oldest sent batch's replies, then marks its records done.
 * On failure the connection is dropped (later replies could not be
 * matched to their batches) and every sent batch is dropped unmarked.
 */
static int flight_recv(learn_t *ln)
{
        learn_flight_t *f = &ln->fl[ln->fl_head];
        ltrr_redis_batch_t out = {0, 0, 0, 0};
        char errstr[512];
        double t0 = now_mono(), t1;
        size_t i;

        if (ltrr_redis_recv(ln->rd, f->calls, &out, errstr,
                            sizeof(errstr))) {
                log_warn("learn", "batch failed", "err", errstr);
                ltrr_redis_disconnect(ln->rd);
                flights_drop(ln);
                return -1;
        }
        t1 = now_mono();
        ln->t.wait += t1 - t0;
        ln->t.last = t1;
        ln->t.batches++;
        ltrr_metrics_hist_observe(ln->m.latency, t1 - f->t_sent);
        ltrr_metrics_hist_observe(ln->m.batch, (double)f->rewards);
        ltrr_metrics_counter_add(ln->m.rewards, f->rewards);
        ltrr_metrics_counter_add(ln->m.calls, out.applied);
        ltrr_metrics_counter_add(ln->m.duplicates, out.duplicates);
        for (i = 0; ln->kc && i < f->n; i++)
                ltrr_kafka_consumer_done(ln->kc, f->recs[i]);
        flight_pop(ln);
        return 0;
}

/* Reads every sent batch, oldest first. 0, or -1 (all dropped). */
static int flights_finish(learn_t *ln)
{
        int lost = ln->fl_cnt > 0;

        if (!ltrr_redis_connected(ln->rd)) {
                flights_drop(ln);
                return lost ? -1 : 0;
        }
        while (ln->fl_cnt)
                if (flight_recv(ln))
                        return -1;
        return 0;
}

/*
 * Rebalance hook. On assignment, starts each partition after the offset
 * stored in Redis. The wrapper hands the list it passes to the assign
 * call right after this hook; offsets set here become the start
 * positions (see docs/LEARN.md, "Seeking").
 */
static void learn_rebalance(void *opaque, int assigned,
                            const rd_kafka_topic_partition_list_t *cparts)
{
        rd_kafka_topic_partition_list_t *parts =
            (rd_kafka_topic_partition_list_t *)cparts;
        learn_t *ln = opaque;
        char key[512], field[300], errstr[256], nbuf[32];
        int64_t off;
        ltrr_err_t err;
        int i;

        /* Batches in flight are finished (and marked) before the
         * assignment changes and before offsets are read: the HGETs
         * below share the connection with their pending replies. */
        if (flights_finish(ln))
                ln->hook_failed = 1;
        if (!assigned) {
                ln->drop_batch = 1;
                ltrr_metrics_counter_inc(ln->m.rejoins);
                return;
        }
        ln->reassigned = 1;
        if (!ltrr_redis_connected(ln->rd)) {
                ln->hook_failed = 1; /* paused; the resume seeks */
                return;
        }
        if (ltrr_learn_offsets_key(key, sizeof(key), ln->cf->group, errstr,
                                   sizeof(errstr)))
                return;
        for (i = 0; i < parts->cnt; i++) {
                snprintf(field, sizeof(field), "%s:%d", parts->elems[i].topic,
                         (int)parts->elems[i].partition);
                err = ltrr_redis_hget_i64(ln->rd, key, field, &off, errstr,
                                          sizeof(errstr));
                if (err == LTRR_ERR_UNKNOWN_KEY)
                        continue; /* nothing stored: Kafka's committed */
                if (err) {
                        log_warn("learn", "stored offset unreadable", "err",
                                 errstr);
                        ln->hook_failed = 1;
                        continue;
                }
                parts->elems[i].offset = off + 1;
                log_info("learn", "seek to stored offset", "partition",
                         field, "offset",
                         ltrr_log_i64(nbuf, sizeof(nbuf), off + 1));
        }
}

/* Creates the consumer. */
static int consumer_start(learn_t *ln)
{
        const char *topics[] = {LTRR_KAFKA_TOPIC_REWARDS};
        ltrr_kafka_opts_t opts;
        ltrr_kvlist_t props;
        char errstr[512];

        /* A short session bounds how long the coordinator waits for a
         * member that died (the mock cluster does not end it on
         * LeaveGroup). A Redis outage does not leave the group. */
        ltrr_kvlist_init(&props);
        if (ltrr_kvlist_copy(&props, ltrr_config_kafka(ln->conf)) ||
            (!ltrr_kvlist_get(&props, "session.timeout.ms") &&
             ltrr_kvlist_set(&props, "session.timeout.ms", "6000"))) {
                ltrr_kvlist_clear(&props);
                log_error("learn", "out of memory");
                return -1;
        }
        memset(&opts, 0, sizeof(opts));
        opts.bootstrap = ln->cf->common.kafka_bootstrap;
        opts.group_id = ln->cf->group;
        opts.client_id = "ltrr-learn";
        opts.rebalance_hook = learn_rebalance;
        opts.opaque = ln;
        ln->hook_failed = 0;
        ln->kc = ltrr_kafka_consumer_new(&props, &opts, topics, 1, errstr,
                                         sizeof(errstr));
        ltrr_kvlist_clear(&props);
        if (!ln->kc) {
                log_error("learn", "consumer failed", "err", errstr);
                return -1;
        }
        return 0;
}

/* At exit: drops the batch, closes the consumer (commits marked). */
static void consumer_stop(learn_t *ln)
{
        batch_drop(ln);
        flights_drop(ln);
        if (ln->kc) {
                ltrr_kafka_consumer_close(ln->kc);
                ltrr_kafka_consumer_destroy(ln->kc);
                ln->kc = NULL;
        }
}

/* Publishes Redis's state for /healthz and the gauge. */
static void redis_up_set(learn_t *ln, int up)
{
        atomic_store(&ln->redis_up, up);
        ltrr_metrics_gauge_set(ln->m.redis_up, up);
}

/*
 * The write-path check: Redis is up for the learner only once it accepts
 * a write (the probe's heartbeat key). Reads, PING and SCRIPT LOAD can
 * succeed while writes are refused (MISCONF, READONLY, OOM). A refusal
 * is logged when its reason differs from the last one logged. 0 or -1.
 */
static int redis_writable(learn_t *ln)
{
        char errstr[sizeof(ln->refused)];

        if (!learn_probe_write(ln->probe, errstr, sizeof(errstr))) {
                ln->refused[0] = '\0';
                return 0;
        }
        if (strcmp(ln->refused, errstr)) {
                log_warn("learn", "redis refuses writes", "err", errstr);
                memcpy(ln->refused, errstr, sizeof(ln->refused));
        }
        return -1;
}

/* Sleeps @p ms in slices, returning early when the run flag clears. */
static void nap(int ms)
{
        struct timespec ts = {0, 50 * 1000000L};

        for (; ms > 0 && learn_run; ms -= 50)
                nanosleep(&ts, NULL);
}

/* Before the first join: connects Redis with exponential backoff; 0 once
 * up, -1 on stop. */
static int redis_wait(learn_t *ln)
{
        int backoff = 50;
        char errstr[512];

        while (learn_run) {
                if (ltrr_redis_connect(ln->rd, errstr, sizeof(errstr)))
                        ; /* unreachable: errstr says why */
                else if (!redis_writable(ln)) {
                        redis_up_set(ln, 1);
                        log_info("learn", "redis connected");
                        return 0;
                } else {
                        snprintf(errstr, sizeof(errstr), "%s", ln->refused);
                }
                redis_up_set(ln, 0);
                log_warn("learn", "redis unavailable, not joining yet",
                         "err", errstr);
                nap(backoff);
                backoff = backoff * 2 > LEARN_BACKOFF_MAX_MS
                              ? LEARN_BACKOFF_MAX_MS
                              : backoff * 2;
        }
        return -1;
}

/* Adds the batch's last offset per partition to the plan. */
static int plan_offsets(learn_t *ln)
{
        ltrr_kafka_ref_t refs[LEARN_PARTITIONS_MAX];
        size_t i, j, nref = 0;
        char errstr[256];

        for (i = 0; i < ln->n; i++) {
                const ltrr_kafka_msg_t *m = ln->batch[i];

                for (j = 0; j < nref; j++)
                        if (refs[j].partition == m->partition &&
                            !strcmp(refs[j].topic, m->topic))
                                break;
                if (j == nref) {
                        if (nref == LEARN_PARTITIONS_MAX)
                                return -1;
                        refs[nref].topic = m->topic;
                        refs[nref++].partition = m->partition;
                }
                refs[j].offset = m->offset; /* records come in order */
        }
        if (ltrr_learn_plan_add_offsets(ln->pl, ln->cf->group, refs, nref,
                                        errstr, sizeof(errstr))) {
                log_error("learn", "offsets plan failed", "err", errstr);
                return -1;
        }
        return 0;
}

/* Decodes one record; 0, or -1 when malformed (counted). */
static int decode_one(learn_t *ln, const ltrr_kafka_msg_t *m,
                      ltrr_avro_record_t *rec)
{
        char errstr[256];
        double t0 = now_mono();
        int bad;

        bad = !m->value ||
              ltrr_avro_decode(ln->dec, m->value, m->len, rec, errstr,
                               sizeof(errstr)) ||
              rec->type != LTRR_AVRO_REWARD;
        ln->t.decode += now_mono() - t0;
        if (bad)
                ltrr_metrics_counter_inc(ln->m.malformed);
        return bad ? -1 : 0;
}

/* Decodes the batch into the plan; malformed records are counted. */
static int plan_batch(learn_t *ln, size_t *rewards)
{
        ltrr_learn_plan_stats_t st;
        ltrr_avro_record_t rec;
        char errstr[256];
        struct timespec ts;
        double t0;
        size_t i;
        int rc;

        clock_gettime(CLOCK_REALTIME, &ts);
        ltrr_learn_plan_clear(ln->pl);
        *rewards = 0;
        for (i = 0; i < ln->n; i++) {
                if (decode_one(ln, ln->batch[i], &rec))
                        continue;
                t0 = now_mono();
                rc = (int)ltrr_learn_plan_add(ln->pl, &rec.u.rew, errstr,
                                              sizeof(errstr));
                ln->t.plan += now_mono() - t0;
                if (rc) {
                        log_error("learn", "plan failed", "err", errstr);
                        return -1;
                }
                ltrr_metrics_gauge_set(
                    ln->m.age, (double)ts.tv_sec -
                                   (double)rec.u.rew.event_time_ms / 1000.0);
                (*rewards)++;
        }
        ltrr_learn_plan_stats(ln->pl, &st);
        ltrr_metrics_counter_add(ln->m.skipped,
                                 st.parts_skipped + st.arms_skipped -
                                     ln->plan_skipped);
        ln->plan_skipped = st.parts_skipped + st.arms_skipped;
        ltrr_metrics_counter_add(ln->m.rk_examples,
                                 st.ranker_examples - ln->plan_rk_examples);
        ln->plan_rk_examples = st.ranker_examples;
        t0 = now_mono();
        rc = plan_offsets(ln);
        ln->t.plan += now_mono() - t0;
        return rc;
}

/*
 * Plans the batch in hand and sends it; it becomes the newest flight.
 * Before sending, the oldest flight is read when fl_max are pending, so
 * at most fl_max batches are ever sent and unread (0: serial loop).
 * Returns 0, or -1 when Redis failed (the batch is left for the caller).
 */
static int batch_send(learn_t *ln)
{
        learn_flight_t *f;
        ltrr_kafka_msg_t **swap;
        char errstr[512];
        size_t rewards;
        double t0;

        if (ln->n == 0)
                return 0;
        if (plan_batch(ln, &rewards))
                return -1;
        while (ln->fl_cnt && ln->fl_cnt >= ln->fl_max)
                if (flight_recv(ln))
                        return -1;
        f = &ln->fl[(ln->fl_head + ln->fl_cnt) % LEARN_INFLIGHT_MAX];
        t0 = now_mono();
        if (ltrr_redis_send(ln->rd, ln->pl, &f->calls, errstr,
                            sizeof(errstr))) {
                log_warn("learn", "batch failed", "err", errstr);
                flights_drop(ln);
                return -1;
        }
        ln->t.send += now_mono() - t0;
        f->t_sent = t0;
        f->rewards = rewards;
        swap = f->recs; /* the flight takes the records */
        f->recs = ln->batch;
        f->n = ln->n;
        ln->batch = swap;
        ln->n = 0;
        ln->fl_cnt++;
        while (ln->fl_cnt > ln->fl_max)
                if (flight_recv(ln))
                        return -1;
        return 0;
}

/* Polls one record into the batch. 1: got one, 0: none, -1: stop.
 * Only an empty batch waits for records (up to 100 ms); once a batch has
 * some, what is already fetched is taken without waiting, so a lone
 * reward is applied at once instead of after the poll timeout. */
static int poll_one(learn_t *ln)
{
        ltrr_kafka_msg_t *msg = NULL;
        ltrr_err_t err;
        double t0 = now_mono();

        err = ltrr_kafka_consumer_poll(ln->kc, ln->n || ln->fl_cnt ? 0 : 100,
                                       &msg);
        if (msg && !ln->t.timing) { /* time from the first record on */
                memset(&ln->t, 0, sizeof(ln->t));
                ln->t.timing = 1;
                ln->t.first = t0;
        } else {
                ln->t.poll += now_mono() - t0;
        }
        if (ln->drop_batch) { /* records of revoked partitions */
                batch_drop(ln);
                ln->drop_batch = 0;
        }
        if (err || !msg)
                return 0;
        if (msg->eof) {
                ltrr_kafka_msg_destroy(msg);
                return 0;
        }
        ln->batch[ln->n++] = msg;
        return 1;
}

/* One round: fill a batch (until full or the topic is idle), apply it.
 * An idle learner pings Redis and writes its heartbeat key every second,
 * so /healthz follows Redis without traffic. */
static int learn_round(learn_t *ln, double *last_ping)
{
        size_t max = (size_t)ln->cf->batch_max;
        double now;

        while (learn_run && ln->n < max && poll_one(ln) == 1)
                ;
        if (ln->hook_failed)
                return -1;
        if (ln->n == 0 && ln->fl_cnt) /* idle: finish what was sent */
                return flights_finish(ln);
        now = now_mono();
        if (ln->n == 0 && now - *last_ping >= 1.0) {
                *last_ping = now;
                if (ltrr_redis_ping_ms(ln->rd) < 0) {
                        log_warn("learn", "redis ping failed");
                        return -1;
                }
                if (redis_writable(ln))
                        return -1;
        }
        return batch_send(ln);
}

/* Logs the seconds spent per stage since the first record, and from
 * the first record polled to the last replies read (active). */
static void log_times(const learn_t *ln)
{
        double active = ln->t.last > ln->t.first ? ln->t.last - ln->t.first
                                                 : 0.0;
        char b[7][32];

        snprintf(b[0], sizeof(b[0]), "%.3f", ln->t.poll);
        snprintf(b[1], sizeof(b[1]), "%.3f", ln->t.decode);
        snprintf(b[2], sizeof(b[2]), "%.3f", ln->t.plan);
        snprintf(b[3], sizeof(b[3]), "%.3f", ln->t.send);
        snprintf(b[4], sizeof(b[4]), "%.3f", ln->t.wait);
        snprintf(b[6], sizeof(b[6]), "%.3f", active);
        log_info("learn", "stage seconds", "batches",
                 ltrr_log_i64(b[5], sizeof(b[5]), (long long)ln->t.batches),
                 "poll", b[0], "decode", b[1], "plan", b[2], "send", b[3],
                 "wait", b[4], "active", b[6]);
}

/*
 * Polls for about @p ms with every assigned partition paused, so the
 * consumer stays in its group. Records still come out of the fetch
 * queue (fetched before the pause): they are dropped unmarked, the
 * resume seeks back to them. Partitions assigned meanwhile are paused.
 */
static void paused_poll(learn_t *ln, int ms)
{
        double end = now_mono() + (double)ms / 1000.0;
        ltrr_kafka_msg_t *msg;
        char errstr[256];

        do {
                if (ln->reassigned) {
                        ln->reassigned = 0;
                        if (ltrr_kafka_consumer_pause(ln->kc, errstr,
                                                      sizeof(errstr))) {
                                log_warn("learn", "pause failed", "err",
                                         errstr);
                                ln->reassigned = 1; /* retried */
                        }
                }
                ltrr_kafka_consumer_poll(ln->kc, ms < 100 ? ms : 100, &msg);
                ltrr_kafka_msg_destroy(msg);
                if (ln->drop_batch) {
                        batch_drop(ln);
                        ln->drop_batch = 0;
                }
        } while (learn_run && now_mono() < end);
}

/*
 * Sets each partition of @p parts to the first record Redis does not
 * hold: the stored offset + 1; where Redis holds none, the group's
 * Kafka commit; where neither exists, the beginning. 0, or -1 (logged).
 */
static int stored_positions(learn_t *ln,
                            rd_kafka_topic_partition_list_t *parts)
{
        char key[512], field[300], errstr[512];
        int64_t off;
        ltrr_err_t err;
        int i;

        if (ltrr_kafka_consumer_committed(ln->kc, parts,
                                          LEARN_SEEK_TIMEOUT_MS, errstr,
                                          sizeof(errstr)) ||
            ltrr_learn_offsets_key(key, sizeof(key), ln->cf->group, errstr,
                                   sizeof(errstr)))
                goto err;
        for (i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *tp = &parts->elems[i];

                snprintf(field, sizeof(field), "%s:%d", tp->topic,
                         (int)tp->partition);
                err = ltrr_redis_hget_i64(ln->rd, key, field, &off, errstr,
                                          sizeof(errstr));
                if (err == LTRR_OK)
                        tp->offset = off + 1;
                else if (err != LTRR_ERR_UNKNOWN_KEY)
                        goto err;
                else if (tp->offset < 0)
                        tp->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        return 0;
err:
        log_warn("learn", "start positions unreadable", "err", errstr);
        return -1;
}

/*
 * Redis answers again: seeks every assigned partition (still paused) to
 * its stored position, then resumes them. 0, or -1 (stay paused).
 */
static int seek_resume(learn_t *ln)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        char errstr[512], nbuf[32];
        int rc = -1;

        if (ltrr_kafka_consumer_assignment(ln->kc, &parts, errstr,
                                           sizeof(errstr)))
                goto done;
        if (parts->cnt && stored_positions(ln, parts))
                goto out;
        if ((parts->cnt &&
             ltrr_kafka_consumer_seek(ln->kc, parts, LEARN_SEEK_TIMEOUT_MS,
                                      errstr, sizeof(errstr))) ||
            ltrr_kafka_consumer_resume(ln->kc, errstr, sizeof(errstr)))
                goto done;
        log_info("learn", "resumed at the stored offsets", "partitions",
                 ltrr_log_i64(nbuf, sizeof(nbuf), parts->cnt));
        rc = 0;
        goto out;
done:
        log_warn("learn", "resume failed", "err", errstr);
out:
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        return rc;
}

/*
 * Redis is down, or the stored offsets could not be read: drops what is
 * in hand and in flight (unmarked), pauses every partition and keeps
 * polling while Redis is retried with exponential backoff (50 ms ..
 * LEARN_BACKOFF_MAX_MS); then seeks and resumes. 0 once resumed, -1
 * when the run flag cleared.
 */
static int learn_outage(learn_t *ln)
{
        int backoff = 50;
        char errstr[512];

        batch_drop(ln);
        flights_drop(ln);
        ltrr_redis_disconnect(ln->rd);
        redis_up_set(ln, 0);
        ltrr_metrics_counter_inc(ln->m.pauses);
        ln->reassigned = 1; /* pause every assigned partition */
        log_warn("learn", "redis unavailable, partitions paused");
        while (learn_run) {
                paused_poll(ln, backoff);
                if (!learn_run)
                        break;
                /* Up only once a write went through: a Redis that
                 * answers reads but refuses writes stays paused. */
                if (!ltrr_redis_connect(ln->rd, errstr, sizeof(errstr)) &&
                    !redis_writable(ln)) {
                        ln->hook_failed = 0;
                        if (!seek_resume(ln)) {
                                redis_up_set(ln, 1);
                                return 0;
                        }
                        ltrr_redis_disconnect(ln->rd);
                }
                backoff = backoff * 2 > LEARN_BACKOFF_MAX_MS
                              ? LEARN_BACKOFF_MAX_MS
                              : backoff * 2;
        }
        return -1;
}

int learn_loop_run(learn_t *ln)
{
        double last_ping = now_mono();

        while (learn_run) {
                if (!ln->kc) { /* first join, once Redis answers */
                        if (redis_wait(ln))
                                break;
                        if (consumer_start(ln)) {
                                nap(1000);
                                continue;
                        }
                }
                if (!ltrr_redis_connected(ln->rd) || ln->hook_failed) {
                        if (learn_outage(ln))
                                break;
                        continue;
                }
                /* Redis failed mid batch, or offsets could not be read:
                 * the next turn pauses until Redis answers. */
                if (learn_round(ln, &last_ping))
                        ltrr_redis_disconnect(ln->rd);
        }
        /* Drain: the batch in hand and those sent are applied and
         * committed. */
        if (ln->kc && ltrr_redis_connected(ln->rd) &&
            (batch_send(ln) || flights_finish(ln)))
                log_warn("learn", "final batches not applied; they will be "
                                  "read again");
        consumer_stop(ln);
        log_times(ln);
        return 0;
}
